//! `softmax`: a linear layer and cross-entropy.
//!
//! ```text
//! z_k = W_k · f + b_k          (inference and training)
//! L   = CE(z, y)
//! ```
//! # Shapes
//! `f: [N, D]`, `W: [K, D]`, `b: [K]`, `z: [N, K]`.

use tch::{nn, nn::Module, Tensor};

use super::{Head, Progress};

#[derive(Debug)]
pub struct SoftmaxHead {
    fc: nn::Linear,
}

impl SoftmaxHead {
    pub fn new(p: &nn::Path, dim: i64, classes: i64) -> SoftmaxHead {
        SoftmaxHead {
            fc: nn::linear(p / "fc", dim, classes, Default::default()),
        }
    }
}

impl Head for SoftmaxHead {
    fn logits(&self, f: &Tensor) -> Tensor {
        self.fc.forward(f)
    }

    fn loss(&self, f: &Tensor, y: &Tensor, _at: Progress) -> Tensor {
        super::cross_entropy(&self.logits(f), y)
    }
}
