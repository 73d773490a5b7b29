//! Every head's loss and its gradients with respect to the features and the
//! head's parameters, against PyTorch (tests/reference/heads_ref.py, which
//! writes tests/reference/heads_ref.json; rerun it to regenerate).

use crate::common;
use lossbench::suite::spec::{CenterParams, LgmParams, LsoftmaxParams};

use std::collections::HashMap;

use common::tensor;

use lossbench::heads::{self, Progress};
use lossbench::suite::{Covariance, LossSpec};
use serde_json::Value;
use tch::{nn, Device, Kind, Tensor};

const TOL: f64 = 1e-9;

fn assert_close(what: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.size(), want.size(), "{what}: shape");
    let err = (got - want).abs().max().double_value(&[]);
    let scale = want.abs().max().double_value(&[]).max(1.0);
    assert!(
        err <= TOL * scale,
        "{what}: max abs error {err}\ngot  {got}\nwant {want}"
    );
}

fn spec(case: &Value) -> LossSpec {
    let p = &case["params"];
    let f = |k: &str| p[k].as_f64().unwrap();
    match case["head"].as_str().unwrap() {
        "softmax" => LossSpec::Softmax,
        "center" => LossSpec::Center(CenterParams {
            lambda: f("lambda"),
            alpha: f("alpha"),
            ..Default::default()
        }),
        "lsoftmax" => LossSpec::Lsoftmax(LsoftmaxParams {
            m: p["m"].as_u64().unwrap() as u32,
            // β(step 0) = β_base: the reference uses a fixed β.
            beta_base: f("beta"),
            gamma: 0.0,
            power: 1.0,
            beta_min: 0.0,
            ..Default::default()
        }),
        "lgm" => LossSpec::Lgm(LgmParams {
            alpha: f("alpha"),
            lambda: f("lambda"),
            covariance: match p["covariance"].as_str().unwrap() {
                "identity" => Covariance::Identity,
                "isotropic" => Covariance::Isotropic,
                _ => Covariance::Diagonal,
            },
            log_var_floor: f("log_var_floor"),
            warmup_epochs: 0,
            ..Default::default()
        }),
        other => panic!("unknown head {other}"),
    }
}

#[test]
fn heads_match_pytorch_loss_and_gradients() {
    let text = include_str!("reference/heads_ref.json");
    let json: Value = serde_json::from_str(text).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert!(cases.len() >= 13);
    for case in cases {
        let name = format!("{} {}", case["head"], case["params"]);
        let f = tensor(&case["f"]);
        let (n, d) = (f.size()[0], f.size()[1]);
        let y = Tensor::from_slice(
            &case["y"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect::<Vec<_>>(),
        );
        let k = 4;
        let mut vs = nn::VarStore::new(Device::Cpu);
        vs.set_kind(Kind::Double);
        let head = heads::build(&vs.root(), &spec(case), d, k);
        vs.set_kind(Kind::Double);
        let vars: HashMap<String, Tensor> = vs.variables();
        for (name_v, value) in case["vars"].as_object().unwrap() {
            let var = vars
                .get(name_v)
                .unwrap_or_else(|| panic!("{name}: no variable {name_v} in {:?}", vars.keys()));
            tch::no_grad(|| var.shallow_clone().copy_(&tensor(value)));
        }
        let fx = f.set_requires_grad(true);
        let loss = head.loss(&fx, &y, Progress::default());
        let want_loss = case["loss"].as_f64().unwrap();
        assert!(
            (loss.double_value(&[]) - want_loss).abs() <= TOL * want_loss.abs().max(1.0),
            "{name}: loss {} vs {want_loss}",
            loss.double_value(&[])
        );
        let names: Vec<&String> = case["grads"].as_object().unwrap().keys().collect();
        let mut inputs = vec![fx.shallow_clone()];
        inputs.extend(names.iter().map(|n| vars[*n].shallow_clone()));
        let grads = Tensor::run_backward(&[loss], &inputs, false, false);
        assert_close(
            &format!("{name}: dL/df"),
            &grads[0],
            &tensor(&case["grad_f"]),
        );
        for (g, n_) in grads[1..].iter().zip(&names) {
            assert_close(
                &format!("{name}: dL/d{n_}"),
                g,
                &tensor(&case["grads"][*n_]),
            );
        }
        if let Some(after) = case.get("centers_after_step") {
            head.after_step(&fx.detach(), &y);
            assert_close(
                &format!("{name}: centres"),
                &vars["head.centers"],
                &tensor(after),
            );
        }
        assert_eq!(n, 6);
    }
}
