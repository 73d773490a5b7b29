//! One step of each attack (docs/definitions.md §2) on a fixed, seeded `small-cnn` (28x28,
//! 10 classes, softmax head) and a batch of 64 seeded images, on the CPU:
//! FGSM, one BIM step, one DeepFool iteration (one forward pass and nine
//! candidate backward passes). Labels are the model's own predictions, so
//! every sample is clean-correct as in the harness. Quick by design
//! (10 samples, 1 s warm-up, 3 s measurement): `cargo bench --bench attacks`
//! (libtorch's thread count follows `OMP_NUM_THREADS`).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use lossbench::attacks::{Attack, Bim, DeepFool, Fgsm};
use lossbench::suite::{BimStop, LossSpec, ModelKind, ModelSpec};
use lossbench::train::Net;
use tch::{Device, Kind, Tensor};

fn attacks(c: &mut Criterion) {
    tch::manual_seed(0);
    let net = Net::new(
        Device::Cpu,
        &ModelSpec {
            kind: ModelKind::SmallCnn,
            feature_dim: 64,
            dropout: 0.0,
            ..Default::default()
        },
        &LossSpec::Softmax,
        [1, 28, 28],
        10,
        (&[0.3], &[0.3]),
    );
    let x = Tensor::rand([64, 1, 28, 28], (Kind::Float, Device::Cpu));
    let y = tch::no_grad(|| net.logits(&x).argmax(1, false));
    let all: [(&str, Box<dyn Attack>); 3] = [
        ("fgsm", Box::new(Fgsm { eps: 0.1 })),
        (
            "bim_step",
            Box::new(Bim {
                eps: 0.1,
                step_size: 0.025,
                steps: 1,
                stop: BimStop::Last,
            }),
        ),
        (
            "deepfool_step",
            Box::new(DeepFool {
                candidates: 10,
                overshoot: 0.02,
                max_iter: 1,
            }),
        ),
    ];
    let mut group = c.benchmark_group("attack_batch64");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (name, attack) in &all {
        group.bench_function(*name, |b| b.iter(|| attack.run(&net, &x, &y)));
    }
    group.finish();
}

criterion_group!(benches, attacks);
criterion_main!(benches);
