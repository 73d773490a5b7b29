//! `resnet20`, `resnet32`, `resnet56`: the CIFAR ResNets of He et al. 2016
//! (§4.2): a 3x3 conv of 16 channels, then three stages of n basic blocks
//! (16, 32, 64 channels; stride 2 entering stages 2 and 3), depth = 6n + 2,
//! global average pooling, then a linear feature layer of `feature_dim`.
//! Shortcuts are option A (identity; subsample and zero-pad channels when the
//! shape changes), as in the paper's CIFAR experiments.
//!
//! Tapped activations (LID): the stem (conv-BN-ReLU) and each of the three
//! stages' last block output.

use tch::{nn, Tensor};

use super::{tap, Backbone, Conv, Mode};
use crate::suite::ModelSpec;

fn conv3x3(p: nn::Path, cin: i64, cout: i64, stride: i64) -> Conv {
    let cfg = nn::ConvConfig {
        stride,
        padding: 1,
        bias: false,
        ..Default::default()
    };
    Conv::new(p, cin, cout, 3, cfg)
}

#[derive(Debug)]
struct Block {
    conv1: Conv,
    bn1: nn::BatchNorm,
    conv2: Conv,
    bn2: nn::BatchNorm,
    stride: i64,
    pad: i64,
}

impl Block {
    fn new(p: &nn::Path, cin: i64, cout: i64, stride: i64) -> Block {
        Block {
            conv1: conv3x3(p / "conv1", cin, cout, stride),
            bn1: nn::batch_norm2d(p / "bn1", cout, Default::default()),
            conv2: conv3x3(p / "conv2", cout, cout, 1),
            bn2: nn::batch_norm2d(p / "bn2", cout, Default::default()),
            stride,
            pad: cout - cin,
        }
    }

    fn forward(&self, x: &Tensor, bn_train: bool) -> Tensor {
        let h = x
            .apply(&self.conv1)
            .apply_t(&self.bn1, bn_train)
            .relu()
            .apply(&self.conv2)
            .apply_t(&self.bn2, bn_train);
        let shortcut = if self.stride == 1 && self.pad == 0 {
            x.shallow_clone()
        } else {
            // Option A: take every stride-th pixel, zero-pad the new channels
            // (split evenly before and after, as in the reference code).
            let sub = x
                .slice(2, 0, None, self.stride)
                .slice(3, 0, None, self.stride);
            let before = self.pad / 2;
            sub.constant_pad_nd([0, 0, 0, 0, before, self.pad - before])
        };
        (h + shortcut).relu()
    }
}

#[derive(Debug)]
pub struct ResNet {
    conv: Conv,
    bn: nn::BatchNorm,
    blocks: Vec<Block>,
    feat: nn::Linear,
    dropout: f64,
}

impl ResNet {
    /// `depth` = 6n + 2 (20, 32, 56, ...).
    pub fn new(p: &nn::Path, spec: &ModelSpec, shape: [usize; 3], depth: usize) -> ResNet {
        let n = (depth - 2) / 6;
        let mut blocks = Vec::with_capacity(3 * n);
        let mut cin = 16;
        for (stage, &cout) in [16i64, 32, 64].iter().enumerate() {
            for b in 0..n {
                let stride = if stage > 0 && b == 0 { 2 } else { 1 };
                let path = p / format!("stage{}", stage + 1) / format!("block{b}");
                blocks.push(Block::new(&path, cin, cout, stride));
                cin = cout;
            }
        }
        ResNet {
            conv: conv3x3(p / "conv", shape[0] as i64, 16, 1),
            bn: nn::batch_norm2d(p / "bn", 16, Default::default()),
            blocks,
            feat: nn::linear(p / "feat", 64, spec.feature_dim as i64, Default::default()),
            dropout: spec.dropout,
        }
    }
}

impl Backbone for ResNet {
    fn trunk(&self, x: &Tensor, mode: Mode, mut taps: Option<&mut Vec<Tensor>>) -> Tensor {
        let bn_train = mode.batch_norm_train();
        let mut h = x.apply(&self.conv).apply_t(&self.bn, bn_train).relu();
        tap(&mut taps, &h);
        let per_stage = self.blocks.len() / 3;
        for (i, b) in self.blocks.iter().enumerate() {
            h = b.forward(&h, bn_train);
            if (i + 1) % per_stage == 0 {
                tap(&mut taps, &h);
            }
        }
        h.adaptive_avg_pool2d([1, 1]).flatten(1, -1)
    }

    fn feature_layer(&self) -> &nn::Linear {
        &self.feat
    }

    fn dropout(&self) -> f64 {
        self.dropout
    }
}
