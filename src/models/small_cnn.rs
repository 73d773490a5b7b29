//! `small-cnn`, the fast CPU default: conv(32, 3x3, pad 1)-ReLU-maxpool(2),
//! conv(64, 3x3, pad 1)-ReLU-maxpool(2), flatten, linear(128)-ReLU, dropout,
//! then a linear feature layer of `feature_dim` units (no activation).
//!
//! Tapped activations (LID): each conv block after its pooling, and the
//! 128-unit layer after its ReLU.

use tch::{nn, Tensor};

use super::{tap, Backbone, Conv, Mode};
use crate::suite::ModelSpec;

#[derive(Debug)]
pub struct SmallCnn {
    conv1: Conv,
    conv2: Conv,
    fc: nn::Linear,
    feat: nn::Linear,
    dropout: f64,
}

impl SmallCnn {
    pub fn new(p: &nn::Path, spec: &ModelSpec, shape: [usize; 3]) -> SmallCnn {
        let [c, h, w] = shape.map(|v| v as i64);
        let conv = nn::ConvConfig {
            padding: 1,
            ..Default::default()
        };
        let flat = 64 * (h / 4) * (w / 4);
        SmallCnn {
            conv1: Conv::new(p / "conv1", c, 32, 3, conv),
            conv2: Conv::new(p / "conv2", 32, 64, 3, conv),
            fc: nn::linear(p / "fc", flat, 128, Default::default()),
            feat: nn::linear(p / "feat", 128, spec.feature_dim as i64, Default::default()),
            dropout: spec.dropout,
        }
    }
}

impl Backbone for SmallCnn {
    fn trunk(&self, x: &Tensor, _mode: Mode, mut taps: Option<&mut Vec<Tensor>>) -> Tensor {
        // Pooling before the ReLU: max pooling commutes with a
        // non-decreasing function, so the values and the gradients are
        // those of conv-ReLU-pool (ties included: a window whose maximum is
        // not positive passes no gradient either way), and the ReLU and its
        // backward pass see a quarter of the elements. The input-gradient
        // step of the attacks takes about 0.8x the time.
        let h = x.apply(&self.conv1).max_pool2d_default(2).relu();
        tap(&mut taps, &h);
        let h = h.apply(&self.conv2).max_pool2d_default(2).relu();
        tap(&mut taps, &h);
        let h = h.flatten(1, -1).apply(&self.fc).relu();
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
