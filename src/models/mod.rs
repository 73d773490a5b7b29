//! Backbones: image batch `[N, C, H, W]` in [0, 1] -> feature batch `[N, D]`.
//!
//! Dataset normalisation is the first layer inside every model (buffers in the
//! var store, so checkpoints carry it), which keeps attacks, eps and norms in
//! pixel units (docs/definitions.md, notation). Layers live under named sub-paths so that
//! checkpoints have stable names. This room knows nothing of losses.

mod external;
mod lenetpp;
mod mlp;
mod resnet;
mod small_cnn;

use tch::{nn, Tensor};

pub use external::ExternalModel;

use crate::suite::{ModelKind, ModelSpec};

/// How a forward pass treats dropout and batch norm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Training: dropout active, batch norm normalises with (and updates its
    /// running statistics from) the batch.
    Train,
    /// Inference: no dropout, batch norm uses its running statistics.
    Eval,
    /// MC dropout (Gal & Ghahramani 2016; the BU feature of `kd-bu`, docs/definitions.md §3):
    /// dropout active, batch norm in eval mode, so that passes differ only by
    /// their dropout masks and no running statistic moves.
    McDropout,
}

impl Mode {
    /// [`Mode::Train`] for `true`, [`Mode::Eval`] for `false`.
    pub fn from_train(train: bool) -> Mode {
        if train {
            Mode::Train
        } else {
            Mode::Eval
        }
    }

    /// Whether dropout draws masks.
    pub fn dropout(self) -> bool {
        matches!(self, Mode::Train | Mode::McDropout)
    }

    /// Whether batch norm uses batch statistics (and updates running ones).
    pub fn batch_norm_train(self) -> bool {
        self == Mode::Train
    }
}

/// A feature extractor.
pub trait Backbone: std::fmt::Debug + Send {
    /// Everything before the dropout and the feature layer: `x: [N, C, H, W]`
    /// (already normalised by [`Normalize`]) -> `[N, H]`. When `taps` is
    /// given, the intermediate activations the backbone exposes (each stage's
    /// output, see the backbone's docs) are pushed onto it, flattened to
    /// `[N, *]`, in forward order.
    fn trunk(&self, x: &Tensor, mode: Mode, taps: Option<&mut Vec<Tensor>>) -> Tensor;

    /// The linear feature layer `[N, H] -> [N, D]` that follows the dropout.
    fn feature_layer(&self) -> &nn::Linear;

    /// One forward pass: [`Backbone::trunk`], dropout, the feature layer.
    /// The tapped activations are the trunk's; the features are not among
    /// them.
    fn forward(&self, x: &Tensor, mode: Mode, taps: Option<&mut Vec<Tensor>>) -> Tensor {
        self.features_of_trunk(&self.trunk(x, mode, taps), mode)
    }

    /// Dropout (when `mode` draws masks) and the feature layer on a trunk
    /// output. Every backbone's only stochastic layer sits here, so MC
    /// dropout may run the trunk once and this `T` times.
    fn features_of_trunk(&self, h: &Tensor, mode: Mode) -> Tensor {
        h.dropout(self.dropout(), mode.dropout())
            .apply(self.feature_layer())
    }

    /// The dropout probability before the feature layer (0 = no dropout).
    fn dropout(&self) -> f64;

    /// Features `[N, D]`; `train` switches dropout and batch norm to training
    /// mode ([`Mode::from_train`]).
    fn features(&self, x: &Tensor, train: bool) -> Tensor {
        self.forward(x, Mode::from_train(train), None)
    }

    /// Eval-mode activations for LID (docs/definitions.md §3): every tapped intermediate
    /// activation, then the features, each flattened to `[N, *]`.
    fn activations(&self, x: &Tensor) -> Vec<Tensor> {
        let mut taps = Vec::new();
        let f = self.forward(x, Mode::Eval, Some(&mut taps));
        taps.push(f);
        taps
    }
}

/// Pushes `t`, flattened per sample, onto `taps` when there is one.
fn tap(taps: &mut Option<&mut Vec<Tensor>>, t: &Tensor) {
    if let Some(v) = taps.as_deref_mut() {
        v.push(t.flatten(1, -1));
    }
}

/// A 2-D convolution (square kernel, equal stride and padding on both
/// axes) that runs on channels-last (NHWC) memory on the CPU.
///
/// libtorch's CPU kernels (oneDNN convolutions, max pooling) are much faster
/// on channels-last tensors than on the default layout: the small-cnn
/// input-gradient step of the attacks takes about 0.77× the time (measured on
/// 2 cores; docs/design.md, "Memory layout"). A convolution's output follows
/// its weight's layout, so [`Conv`] hands libtorch a channels-last
/// copy of the weight (a few thousand numbers; the gradient flows back to
/// the stored weight through the copy) and everything after it, ReLU and
/// pooling included, stays channels-last. The values are those of the
/// default layout up to the order of floating-point sums inside the
/// convolution; the stored weights, checkpoints and exports keep the
/// default layout. On a GPU the weight is used as stored.
#[derive(Debug)]
pub struct Conv {
    inner: nn::Conv2D,
    cfg: nn::ConvConfig,
}

impl Conv {
    pub fn new(p: nn::Path, cin: i64, cout: i64, k: i64, cfg: nn::ConvConfig) -> Conv {
        Conv {
            inner: nn::conv2d(p, cin, cout, k, cfg),
            cfg,
        }
    }
}

/// A channels-last copy of a 4-D weight `[out, in, k, k]`. The strides are
/// written out: with one input channel, asking libtorch for a channels-last
/// copy returns the weight as it is (both layouts fit it), and the output
/// would not be channels-last.
fn channels_last(w: &Tensor) -> Option<Tensor> {
    let &[o, c, h, k] = w.size().as_slice() else {
        return None;
    };
    let strides = [h * k * c, 1, k * c, c];
    let mut t = Tensor::empty_strided([o, c, h, k], strides, (w.kind(), w.device()));
    t.copy_(w);
    Some(t)
}

impl nn::Module for Conv {
    fn forward(&self, x: &Tensor) -> Tensor {
        let w = &self.inner.ws;
        let zeros = matches!(self.cfg.padding_mode, nn::PaddingMode::Zeros);
        let nhwc = match zeros && !w.device().is_cuda() {
            true => channels_last(w),
            false => None,
        };
        let Some(weight) = &nhwc else {
            // As stored: on a GPU, or with a padding mode tch applies itself.
            return x.apply(&self.inner);
        };
        let c = &self.cfg;
        let (s, p, d) = (c.stride, c.padding, c.dilation);
        x.conv2d(
            weight,
            self.inner.bs.as_ref(),
            [s, s],
            [p, p],
            [d, d],
            c.groups,
        )
    }
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
/// An external model (`torchscript`) has no backbone lossbench builds: it
/// is loaded by [`ExternalModel::load`] (`Net::external`), and validation
/// keeps it from here.
pub fn backbone(p: &nn::Path, spec: &ModelSpec, shape: [usize; 3]) -> Box<dyn Backbone> {
    match spec.kind {
        ModelKind::Mlp => Box::new(mlp::Mlp::new(&(p / "mlp"), spec, shape)),
        ModelKind::SmallCnn => Box::new(small_cnn::SmallCnn::new(&(p / "small_cnn"), spec, shape)),
        ModelKind::Lenetpp => Box::new(lenetpp::LeNetPP::new(&(p / "lenetpp"), spec, shape)),
        ModelKind::Resnet20 => Box::new(resnet::ResNet::new(&(p / "resnet"), spec, shape, 20)),
        ModelKind::Resnet32 => Box::new(resnet::ResNet::new(&(p / "resnet"), spec, shape, 32)),
        ModelKind::Resnet56 => Box::new(resnet::ResNet::new(&(p / "resnet"), spec, shape, 56)),
        ModelKind::Torchscript => {
            panic!("internal error: an external model has no backbone to build")
        }
    }
}
