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

/// A ustar header for a regular file (`kind` b'0') or directory (b'5').
pub fn tar_header(name: &str, size: usize, kind: u8) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[148..156].copy_from_slice(b"        ");
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

pub fn tar_gz(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, &tar(members)).unwrap();
    e.finish().unwrap()
}

/// An uncompressed tar archive: a directory entry for the first member's
/// directory, then the members.
pub fn tar(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut t = Vec::new();
    let dir = members[0].0.split('/').next().unwrap();
    t.extend(tar_header(&format!("{dir}/"), 0, b'5'));
    for (name, data) in members {
        t.extend(tar_header(name, data.len(), b'0'));
        t.extend_from_slice(data);
        t.resize(t.len().div_ceil(512) * 512, 0);
    }
    t.extend(vec![0u8; 1024]);
    t
}
