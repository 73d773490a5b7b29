//! Helpers shared by several test modules (`tests/all.rs` declares it once;
//! a module that needs them says `use crate::common;`). Not every module
//! uses every helper.
#![allow(dead_code)]

use lossbench::suite::spec::AdamParams;
use lossbench::suite::{OptimizerSpec, ScheduleSpec, TrainSpec};
use serde_json::Value;
use tch::Tensor;

/// A JSON array of numbers as `f64`s.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// A tensor stored by the reference scripts as `{"shape": [...], "data": [...]}`
/// (row-major f64).
pub fn tensor(v: &Value) -> Tensor {
    let shape: Vec<i64> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_i64().unwrap())
        .collect();
    Tensor::from_slice(&floats(&v["data"])).view(shape.as_slice())
}

/// Training for the tests' tiny models: batch 32, constant learning rate,
/// no weight decay, no augmentation.
pub fn train_spec(optimizer: OptimizerSpec, lr: f64, epochs: usize) -> TrainSpec {
    TrainSpec {
        epochs,
        batch_size: 32,
        optimizer,
        lr,
        schedule: ScheduleSpec::Constant,
        weight_decay: 0.0,
        augment: false,
    }
}

/// Adam with PyTorch's default betas.
pub fn adam() -> OptimizerSpec {
    OptimizerSpec::Adam(AdamParams {
        beta1: 0.9,
        beta2: 0.999,
        ..Default::default()
    })
}
