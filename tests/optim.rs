//! The optimisers lossbench builds (`train::optim::optimizer`) against
//! torch.optim on a small fixed problem: SGD (plain, momentum, momentum with
//! weight decay, Nesterov with weight decay) and Adam (with and without weight
//! decay), including a learning-rate change part-way, as an epoch schedule
//! makes (`tests/reference/optim_ref.py` writes the reference trajectories).

use crate::common;
use lossbench::suite::spec::{AdamParams, SgdParams};

use common::floats;
use lossbench::suite::{OptimizerSpec, ScheduleSpec, TrainSpec};
use lossbench::train::optim;
use serde_json::Value;
use tch::{nn, Device, Kind, Tensor};

fn spec(case: &Value) -> TrainSpec {
    let optimizer = match case["optimizer"].as_str().unwrap() {
        "sgd" => OptimizerSpec::Sgd(SgdParams {
            momentum: case["momentum"].as_f64().unwrap(),
            nesterov: case["nesterov"].as_bool().unwrap(),
            ..Default::default()
        }),
        "adam" => OptimizerSpec::Adam(AdamParams {
            beta1: case["beta1"].as_f64().unwrap(),
            beta2: case["beta2"].as_f64().unwrap(),
            ..Default::default()
        }),
        other => panic!("unknown optimizer {other}"),
    };
    TrainSpec {
        epochs: 1,
        batch_size: 5,
        optimizer,
        lr: case["lr"].as_f64().unwrap(),
        schedule: ScheduleSpec::Constant,
        weight_decay: case["weight_decay"].as_f64().unwrap(),
        augment: false,
    }
}

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(&t.flatten(0, -1)).unwrap()
}

#[test]
fn optimisers_follow_torch_optim_step_by_step() {
    let r: Value = serde_json::from_str(include_str!("reference/optim_ref.json")).unwrap();
    let steps = r["steps"].as_u64().unwrap() as usize;
    let drop_at = r["lr_drop_at"].as_u64().unwrap() as usize;
    let drop = r["lr_drop"].as_f64().unwrap();
    let x = Tensor::from_slice(&floats(&r["x"])).view([5, 3]);
    let t = Tensor::from_slice(&floats(&r["t"])).view([5, 2]);
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let spec = spec(case);
        let mut vs = nn::VarStore::new(Device::Cpu);
        vs.set_kind(Kind::Double);
        let w0 = Tensor::from_slice(&floats(&r["w0"])).view([2, 3]);
        let w = vs.root().var_copy("w", &w0);
        let b = vs
            .root()
            .var_copy("b", &Tensor::from_slice(&floats(&r["b0"])));
        assert_eq!(w.kind(), Kind::Double);
        let mut opt = optim::optimizer(&vs, &spec).unwrap();
        let traj = case["trajectory"].as_array().unwrap();
        assert_eq!(traj.len(), steps);
        for (step, want) in traj.iter().enumerate() {
            if step == drop_at {
                opt.set_lr(spec.lr * drop);
            }
            let loss = (x.matmul(&w.tr()) + &b - &t).square().mean(None::<Kind>);
            opt.backward_step(&loss);
            for (label, got, want) in [("w", &w, &want["w"]), ("b", &b, &want["b"])] {
                for (i, (g, e)) in values(got).iter().zip(floats(want)).enumerate() {
                    assert!(
                        (g - e).abs() <= 1e-6,
                        "{name}: {label}[{i}] after step {} is {g}, torch.optim gives {e}",
                        step + 1
                    );
                }
            }
        }
        // The problem moves the parameters: a no-op optimiser would fail above.
        assert!(values(&(&w - &w0)).iter().any(|d| d.abs() > 1e-3), "{name}");
    }
}
