//! Training throughput of lossbench's loop, for the side-by-side comparison
//! with an equivalent PyTorch eager script (`benches/train_peers.py` runs both
//! and prints the ratio). Not a criterion bench: one timed run, JSON out.
//!
//! ```text
//! cargo bench --bench train_throughput -- [--model small-cnn] [--loss softmax]
//!     [--epochs 1] [--batch 128] [--train N] [--threads T]
//! ```

// Spec literals name what they set and take the declared defaults for the
// rest (`..Default::default()`), even where they set every field today, so
// that a new parameter touches no test.
#![allow(clippy::needless_update)]

use lossbench::suite::spec::{AdamParams, LgmParams};
use std::time::Instant;

use lossbench::data::{self, DataSpec, DatasetName, SyntheticSpec};
use lossbench::suite::{LossSpec, ModelKind, ModelSpec, OptimizerSpec, ScheduleSpec, TrainSpec};
use lossbench::train::{self, Net, Tensors};
use tch::Device;

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model = match arg(&args, "--model", "small-cnn").as_str() {
        "mlp" => ModelKind::Mlp,
        "lenetpp" => ModelKind::Lenetpp,
        _ => ModelKind::SmallCnn,
    };
    let loss = match arg(&args, "--loss", "softmax").as_str() {
        "lgm" => LossSpec::Lgm(LgmParams {
            alpha: 0.1,
            lambda: 0.1,
            covariance: lossbench::suite::Covariance::Identity,
            log_var_floor: -6.0,
            warmup_epochs: 0,
            ..Default::default()
        }),
        _ => LossSpec::Softmax,
    };
    let epochs: usize = arg(&args, "--epochs", "1").parse().unwrap();
    let batch: usize = arg(&args, "--batch", "128").parse().unwrap();
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this
    // binary without it, and then a small smoke run is enough.
    let full = args.iter().any(|a| a == "--bench");
    let default_train = if full { "60000" } else { "512" };
    let n_train: usize = arg(&args, "--train", default_train).parse().unwrap();
    let threads: i32 = arg(&args, "--threads", "0").parse().unwrap();
    if threads > 0 {
        tch::set_num_threads(threads);
    }
    let ds = data::load(&DataSpec {
        dataset: DatasetName::FashionMnist,
        path: None,
        train_subset: Some(n_train),
        test_subset: Some(100),
        attack_subset: None,
        classes: None,
        synthetic: SyntheticSpec::default(),
    })
    .expect("Fashion-MNIST (run `make setup`)");
    let tensors = Tensors::from_split(&ds.train, ds.shape, Device::Cpu);
    let norm = train::channel_stats(&ds.train, 1);
    tch::manual_seed(0);
    let spec = ModelSpec {
        kind: model,
        feature_dim: 64,
        dropout: 0.0,
        ..Default::default()
    };
    let net = Net::new(
        Device::Cpu,
        &spec,
        &loss,
        ds.shape,
        ds.classes,
        (&norm.0, &norm.1),
    );
    let train_spec = TrainSpec {
        epochs,
        batch_size: batch,
        optimizer: OptimizerSpec::Adam(AdamParams {
            beta1: 0.9,
            beta2: 0.999,
            ..Default::default()
        }),
        lr: 1e-3,
        schedule: ScheduleSpec::Constant,
        weight_decay: 0.0,
        augment: false,
    };
    let start = Instant::now();
    let log = train::fit(&net, &tensors, &train_spec, "bench").expect("training");
    let seconds = start.elapsed().as_secs_f64();
    let images = (n_train * epochs) as f64;
    println!(
        "{{\"impl\": \"lossbench\", \"threads\": {}, \"images\": {images}, \"seconds\": {seconds:.3}, \"images_per_s\": {:.1}, \"final_loss\": {:.4}}}",
        tch::get_num_threads(),
        images / seconds,
        log.last().map(|e| e.loss).unwrap_or(f64::NAN)
    );
}
