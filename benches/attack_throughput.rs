//! Attack throughput of lossbench's FGSM, BIM, PGD, C&W-L2 and DeepFool on a fixed model
//! and inputs read from a safetensors fixture, for the side-by-side comparison
//! with torchattacks and foolbox (`benches/attack_peers.py` writes a fixture,
//! runs this and the peers, and prints the ratios). Not a criterion bench:
//! timed runs, two JSON lines per attack: `lossbench` times `Attack::run`
//! (images, success flags, norms), `lossbench-images` times `Attack::perturb`
//! (the images alone).
//!
//! ```text
//! cargo bench --bench attack_throughput -- [--fixture tests/reference/attacks_ref.safetensors]
//!     [--threads T] [--batch B] [--repeats R] [--min-seconds S] [--eps 0.1]
//!     [--attacks fgsm,bim,pgd,cw-l2,deepfool] [--cw-steps 50]
//!     [--n N]
//! ```
//! The fixture holds the weights under lossbench's VarStore names (a
//! `small_cnn.*` or `mlp.*` backbone, a softmax head), `input.x` `[N, C, H, W]`
//! in [0, 1] and `input.y` `[N]`; the model's shape, classes and feature size
//! are read from the tensors. BIM and PGD (L-inf, random start, one run) use
//! a = ε/4 and T = 10; C&W-L2 one search step of --cw-steps Adam steps at
//! c = 1, κ = 0, lr 0.01, no early abort (torchattacks' `CW` has no search);
//! DeepFool 10
//! candidates, overshoot 0.02 and at most 50 iterations (docs/definitions.md §2 defaults).
//! Each run attacks the fixture's first N images (default: all) in batches of
//! B; the best of R runs after a warm-up counts.

use std::collections::HashMap;
use std::time::Instant;

use lossbench::attacks::{Attack, Bim, CwL2, DeepFool, Fgsm, Pgd};
use lossbench::suite::{BimStop, LossSpec, ModelKind, ModelSpec, Norm};
use lossbench::train::Net;
use tch::{Device, Kind, Tensor};

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

/// The fixture's model with its weights, and its inputs.
fn load(path: &str) -> (Net, Tensor, Tensor) {
    let tensors: HashMap<String, Tensor> = Tensor::read_safetensors(path)
        .unwrap_or_else(|e| panic!("reading the fixture {path}: {e}"))
        .into_iter()
        .collect();
    let kind = if tensors.contains_key("small_cnn.conv1.weight") {
        ModelKind::SmallCnn
    } else if tensors.contains_key("mlp.fc1.weight") {
        ModelKind::Mlp
    } else {
        panic!("{path}: neither a small_cnn nor an mlp backbone");
    };
    let head = tensors["head.fc.weight"].size();
    let x = tensors["input.x"].to_kind(Kind::Float);
    let y = tensors["input.y"].to_kind(Kind::Int64);
    let s = x.size();
    let c = s[1] as usize;
    let spec = ModelSpec {
        kind,
        feature_dim: head[1] as usize,
        dropout: 0.0,
        ..Default::default()
    };
    let net = Net::new(
        Device::Cpu,
        &spec,
        &LossSpec::Softmax,
        [c, s[2] as usize, s[3] as usize],
        head[0] as usize,
        (&vec![0.0; c], &vec![1.0; c]),
    );
    tch::no_grad(|| {
        for (name, var) in net.vs.variables() {
            let src = tensors
                .get(&name)
                .unwrap_or_else(|| panic!("{path} lacks variable {name}"));
            var.shallow_clone().copy_(src);
        }
    });
    (net, x, y)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let fixture = arg(
        &args,
        "--fixture",
        "tests/reference/attacks_ref.safetensors",
    );
    let threads: i32 = arg(&args, "--threads", "0").parse().unwrap();
    if threads > 0 {
        tch::set_num_threads(threads);
    }
    let batch: i64 = arg(&args, "--batch", "256").parse().unwrap();
    let repeats: usize = arg(&args, "--repeats", "3").parse().unwrap();
    let min_seconds: f64 = arg(&args, "--min-seconds", "0").parse().unwrap();
    let eps: f64 = arg(&args, "--eps", "0.1").parse().unwrap();
    let wanted = arg(&args, "--attacks", "fgsm,bim,deepfool");
    let cw_steps: usize = arg(&args, "--cw-steps", "50").parse().unwrap();
    let (net, x, y) = load(&fixture);
    let n: i64 = arg(&args, "--n", "0").parse().unwrap();
    let n = if n > 0 {
        n.min(x.size()[0])
    } else {
        x.size()[0]
    };
    let all: Vec<(&str, Box<dyn Attack>)> = vec![
        ("fgsm", Box::new(Fgsm { eps })),
        (
            "bim",
            Box::new(Bim {
                eps,
                step_size: eps / 4.0,
                steps: 10,
                stop: BimStop::Last,
            }),
        ),
        (
            "pgd",
            Box::new(Pgd {
                eps,
                norm: Norm::Linf,
                step_size: eps / 4.0,
                steps: 10,
                random_start: true,
                restarts: 1,
            }),
        ),
        (
            "cw-l2",
            Box::new(CwL2 {
                steps: cw_steps,
                search_steps: 1,
                initial_const: 1.0,
                confidence: 0.0,
                step_size: 0.01,
                abort_early: false,
            }),
        ),
        (
            "deepfool",
            Box::new(DeepFool {
                candidates: 10,
                overshoot: 0.02,
                max_iter: 50,
            }),
        ),
    ];
    for (name, attack) in all {
        if !wanted.split(',').any(|w| w == name) {
            continue;
        }
        // `run` is what the runner calls (images, success flags, norms);
        // `perturb` the images alone, the work torchattacks' attacks do.
        for (suffix, full) in [("", true), ("-images", false)] {
            let run = || {
                let mut fooled = 0;
                let mut iters = 0;
                for s in (0..n).step_by(batch as usize) {
                    let len = batch.min(n - s);
                    let (xb, yb) = (x.narrow(0, s, len), y.narrow(0, s, len));
                    if full {
                        let out = attack.run(&net, &xb, &yb);
                        fooled += out.success.sum(Kind::Int64).int64_value(&[]);
                        iters += out.iters.sum(Kind::Int64).int64_value(&[]);
                    } else {
                        let out = attack.perturb(&net, &xb, &yb);
                        iters += out.iters.sum(Kind::Int64).int64_value(&[]);
                    }
                }
                (fooled, iters)
            };
            run(); // warm-up
            let mut best = f64::INFINITY;
            let mut stats = (0, 0);
            // At least R runs, and as many more as fill S seconds.
            let (mut k, mut total) = (0, 0.0);
            while k < repeats.max(1) || total < min_seconds {
                let t = Instant::now();
                stats = run();
                let dt = t.elapsed().as_secs_f64();
                best = best.min(dt);
                total += dt;
                k += 1;
            }
            println!(
                "{{\"impl\": \"lossbench{suffix}\", \"attack\": \"{name}\", \"label\": \"{}\", \"threads\": {}, \"images\": {n}, \"batch\": {batch}, \"seconds\": {best:.4}, \"images_per_s\": {:.1}, \"success\": {}, \"iters_mean\": {:.2}}}",
                attack.label(),
                tch::get_num_threads(),
                n as f64 / best,
                if full { stats.0.to_string() } else { "null".into() },
                stats.1 as f64 / n as f64
            );
        }
    }
}
