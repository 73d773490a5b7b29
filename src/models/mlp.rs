//! `mlp`: flatten, two hidden layers of 256 ReLU units, dropout, then a linear
//! feature layer of `feature_dim` units (no activation: the head sees raw
//! features, as the L-GM paper's models do).
//!
//! Tapped activations (LID): the two hidden layers after their ReLU.

use tch::{nn, Tensor};

use super::{tap, Backbone, Mode};
use crate::suite::ModelSpec;

const HIDDEN: i64 = 256;

#[derive(Debug)]
pub struct Mlp {
    fc1: nn::Linear,
    fc2: nn::Linear,
    feat: nn::Linear,
    dropout: f64,
}

impl Mlp {
    pub fn new(p: &nn::Path, spec: &ModelSpec, shape: [usize; 3]) -> Mlp {
        let inputs = (shape[0] * shape[1] * shape[2]) as i64;
        Mlp {
            fc1: nn::linear(p / "fc1", inputs, HIDDEN, Default::default()),
            fc2: nn::linear(p / "fc2", HIDDEN, HIDDEN, Default::default()),
            feat: nn::linear(
                p / "feat",
                HIDDEN,
                spec.feature_dim as i64,
                Default::default(),
            ),
            dropout: spec.dropout,
        }
    }
}

impl Backbone for Mlp {
    fn trunk(&self, x: &Tensor, _mode: Mode, mut taps: Option<&mut Vec<Tensor>>) -> Tensor {
        let h = x.flatten(1, -1).apply(&self.fc1).relu();
        tap(&mut taps, &h);
        let h = h.apply(&self.fc2).relu();
        tap(&mut taps, &h);
        h
    }

    fn feature_layer(&self) -> &nn::Linear {
        &self.feat
    }

    fn dropout(&self) -> f64 {
        self.dropout
    }
}
