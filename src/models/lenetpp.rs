//! `lenetpp`: LeNet++ of Wen et al. 2016 (center loss), the model of the L-GM
//! paper's MNIST experiments.
//!
//! ```text
//! (conv5x5-32, PReLU) x2, maxpool 2
//! (conv5x5-64, PReLU) x2, maxpool 2
//! (conv5x5-128, PReLU) x2, maxpool 2
//! flatten, dropout, linear -> feature_dim (2 for the paper's feature plots)
//! ```
//! Convolutions pad by 2 ("same"); PReLU slopes are per channel, initialised
//! at 0.25 as in Caffe.
//!
//! Tapped activations (LID): each of the three conv stages after its pooling.

use tch::{nn, Tensor};

use super::{tap, Backbone, Conv, Mode};
use crate::suite::ModelSpec;

#[derive(Debug)]
struct ConvPrelu {
    conv: Conv,
    slope: Tensor,
}

impl ConvPrelu {
    fn new(p: &nn::Path, cin: i64, cout: i64) -> ConvPrelu {
        let cfg = nn::ConvConfig {
            padding: 2,
            ..Default::default()
        };
        ConvPrelu {
            conv: Conv::new(p / "conv", cin, cout, 5, cfg),
            slope: p.var("prelu", &[cout], nn::Init::Const(0.25)),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        x.apply(&self.conv).prelu(&self.slope)
    }
}

#[derive(Debug)]
pub struct LeNetPP {
    convs: Vec<ConvPrelu>,
    feat: nn::Linear,
    dropout: f64,
}

impl LeNetPP {
    pub fn new(p: &nn::Path, spec: &ModelSpec, shape: [usize; 3]) -> LeNetPP {
        let [c, h, w] = shape.map(|v| v as i64);
        let widths = [(c, 32), (32, 32), (32, 64), (64, 64), (64, 128), (128, 128)];
        let convs = widths
            .iter()
            .enumerate()
            .map(|(i, &(cin, cout))| ConvPrelu::new(&(p / format!("conv{}", i + 1)), cin, cout))
            .collect();
        let flat = 128 * (h / 8) * (w / 8);
        LeNetPP {
            convs,
            feat: nn::linear(
                p / "feat",
                flat,
                spec.feature_dim as i64,
                Default::default(),
            ),
            dropout: spec.dropout,
        }
    }
}

impl Backbone for LeNetPP {
    fn trunk(&self, x: &Tensor, _mode: Mode, mut taps: Option<&mut Vec<Tensor>>) -> Tensor {
        let mut h = x.shallow_clone();
        for pair in self.convs.chunks(2) {
            h = pair[1].forward(&pair[0].forward(&h)).max_pool2d_default(2);
            tap(&mut taps, &h);
        }
        h.flatten(1, -1)
    }

    fn feature_layer(&self) -> &nn::Linear {
        &self.feat
    }

    fn dropout(&self) -> f64 {
        self.dropout
    }
}
