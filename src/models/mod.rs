//! Backbones: image batch `[N, C, H, W]` in [0, 1] -> feature batch `[N, D]`.
//!
//! Dataset normalisation is the first layer inside every model (buffers in the
//! var store, so checkpoints carry it), which keeps attacks, eps and norms in
//! pixel units (SPEC, notation). Layers live under named sub-paths so that
//! checkpoints have stable names. This room knows nothing of losses.

mod lenetpp;
mod mlp;
mod resnet;
mod small_cnn;

use tch::{nn, Tensor};

use crate::suite::{ModelKind, ModelSpec};

/// A feature extractor. `train` switches dropout / batch norm to training mode.
pub trait Backbone: std::fmt::Debug + Send {
    /// `x: [N, C, H, W]` in [0, 1] (already normalised by [`Normalize`]) -> `[N, D]`.
    fn features(&self, x: &Tensor, train: bool) -> Tensor;
}

/// Per-channel `(x - mean) / std`, with mean and std stored as non-trainable
/// buffers.
#[derive(Debug)]
pub struct Normalize {
    mean: Tensor,
    std: Tensor,
}

impl Normalize {
    /// `mean`, `std`: one value per channel.
    pub fn new(p: &nn::Path, mean: &[f64], std: &[f64]) -> Normalize {
        let c = mean.len() as i64;
        let m = p.zeros_no_train("mean", &[1, c, 1, 1]);
        let s = p.ones_no_train("std", &[1, c, 1, 1]);
        tch::no_grad(|| {
            let mean32: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
            let std32: Vec<f32> = std.iter().map(|&v| v.max(1e-6) as f32).collect();
            let dev = m.device();
            m.shallow_clone().copy_(
                &Tensor::from_slice(&mean32)
                    .view([1, c, 1, 1])
                    .to_device(dev),
            );
            s.shallow_clone()
                .copy_(&Tensor::from_slice(&std32).view([1, c, 1, 1]).to_device(dev));
        });
        Normalize { mean: m, std: s }
    }

    pub fn apply(&self, x: &Tensor) -> Tensor {
        (x - &self.mean) / &self.std
    }
}

/// Builds the backbone named by `spec` for inputs of `shape = [C, H, W]`.
pub fn backbone(p: &nn::Path, spec: &ModelSpec, shape: [usize; 3]) -> Box<dyn Backbone> {
    match spec.kind {
        ModelKind::Mlp => Box::new(mlp::Mlp::new(&(p / "mlp"), spec, shape)),
        ModelKind::SmallCnn => Box::new(small_cnn::SmallCnn::new(&(p / "small_cnn"), spec, shape)),
        ModelKind::Lenetpp => Box::new(lenetpp::LeNetPP::new(&(p / "lenetpp"), spec, shape)),
        ModelKind::Resnet20 => Box::new(resnet::ResNet::new(&(p / "resnet"), spec, shape, 20)),
        ModelKind::Resnet32 => Box::new(resnet::ResNet::new(&(p / "resnet"), spec, shape, 32)),
        ModelKind::Resnet56 => Box::new(resnet::ResNet::new(&(p / "resnet"), spec, shape, 56)),
    }
}
