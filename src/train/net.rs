//! A model: normalisation, backbone and head in one var store; or an
//! external TorchScript classifier (`model: torchscript`) behind the same
//! calls, so that attacks and detectors see both alike.

use std::path::Path;

use tch::{nn, Device, Tensor};

use crate::heads::{self, ExternalHead, Head};
use crate::models::{self, Backbone, ExternalModel, Mode, Normalize};
use crate::suite::{LossSpec, ModelSpec};

/// `x in [0, 1] -> normalise -> backbone -> features -> head`, or an
/// external model's `x -> (logits, features)`.
#[derive(Debug)]
pub struct Net {
    /// The trainable variables; empty for an external model.
    pub vs: nn::VarStore,
    body: Body,
    /// The head; for an external model an [`ExternalHead`] that only
    /// stands in (use [`Net::logits_of`] for the logits of features).
    pub head: Box<dyn Head>,
    pub classes: i64,
}

#[derive(Debug)]
enum Body {
    Native {
        norm: Normalize,
        backbone: Box<dyn Backbone>,
    },
    External(ExternalModel),
}

impl Net {
    /// Builds a freshly initialised model (seed libtorch before calling).
    pub fn new(
        device: Device,
        model: &ModelSpec,
        loss: &LossSpec,
        shape: [usize; 3],
        classes: usize,
        norm: (&[f64], &[f64]),
    ) -> Net {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let norm = Normalize::new(&(&root / "norm"), norm.0, norm.1);
        let backbone = models::backbone(&root, model, shape);
        let head = heads::build(&root, loss, model.feature_dim as i64, classes as i64);
        Net {
            vs,
            body: Body::Native { norm, backbone },
            head,
            classes: classes as i64,
        }
    }

    /// An external model ([`ExternalModel::load`], which probed its
    /// outputs) as a net of `classes` classes.
    pub fn external(model: ExternalModel, device: Device, classes: usize) -> Net {
        let passthrough = !model.has_features();
        Net {
            vs: nn::VarStore::new(device),
            body: Body::External(model),
            head: Box::new(ExternalHead::new(passthrough)),
            classes: classes as i64,
        }
    }

    /// Whether this is an external model (`model: torchscript`).
    pub fn is_external(&self) -> bool {
        matches!(self.body, Body::External(_))
    }

    /// Whether the net has features of its own: always, except an external
    /// model that returns logits only, whose "features" are its logits.
    pub fn has_features(&self) -> bool {
        match &self.body {
            Body::Native { .. } => true,
            Body::External(m) => m.has_features(),
        }
    }

    /// Features `[N, D]` of images `[N, C, H, W]` in [0, 1]. An external
    /// model is always in eval mode (`train` is ignored), and without
    /// features of its own gives its logits.
    pub fn features(&self, x: &Tensor, train: bool) -> Tensor {
        match &self.body {
            Body::Native { norm, backbone } => backbone.features(&norm.apply(x), train),
            Body::External(m) => external_features(m, x),
        }
    }

    /// Features `[N, D]` in an explicit [`Mode`] (e.g. [`Mode::McDropout`]
    /// for the BU feature of `kd-bu`). An external model has no modes: it
    /// gives its eval-mode features ([`Net::features`]).
    pub fn features_mode(&self, x: &Tensor, mode: Mode) -> Tensor {
        match &self.body {
            Body::Native { norm, backbone } => backbone.forward(&norm.apply(x), mode, None),
            Body::External(m) => external_features(m, x),
        }
    }

    /// The inference logits `[N, K]` of images `x` whose features
    /// ([`Net::features`], eval mode) are `f`: the head on `f`, or for an
    /// external model with features of its own, the model on `x`.
    pub fn logits_of(&self, x: &Tensor, f: &Tensor) -> Tensor {
        match &self.body {
            Body::External(m) if m.has_features() => m.forward(x).0,
            _ => self.head.logits(f),
        }
    }

    /// `samples` MC-dropout passes ([`Mode::McDropout`]) of the inference
    /// logits, `samples × [N, K]`. The backbone's trunk is deterministic in
    /// that mode (only the dropout before the feature layer draws masks), so
    /// it runs once; the masks come from libtorch's global generator in the
    /// same order as `samples` full passes would draw them.
    /// An external model has no dropout lossbench can switch on: its
    /// `samples` passes are alike (`kd-bu` is skipped for it).
    pub fn mc_dropout_logits(&self, x: &Tensor, samples: usize) -> Vec<Tensor> {
        let (norm, backbone) = match &self.body {
            Body::Native { norm, backbone } => (norm, backbone),
            Body::External(_) => return (0..samples).map(|_| self.logits(x)).collect(),
        };
        let h = backbone.trunk(&norm.apply(x), Mode::McDropout, None);
        (0..samples)
            .map(|_| {
                self.head
                    .logits(&backbone.features_of_trunk(&h, Mode::McDropout))
            })
            .collect()
    }

    /// Eval-mode activations for LID (docs/definitions.md §3), each flattened to `[N, *]`:
    /// the backbone's tapped layers ([`Backbone::activations`]), then the
    /// features `[N, D]`, then the inference logits `[N, K]`.
    /// An external model has no tapped layers: its features (when it has
    /// them), then its logits.
    pub fn activations(&self, x: &Tensor) -> Vec<Tensor> {
        let (norm, backbone) = match &self.body {
            Body::Native { norm, backbone } => (norm, backbone),
            Body::External(m) => {
                let (logits, features) = m.forward(x);
                return features.into_iter().chain([logits]).collect();
            }
        };
        let mut acts = backbone.activations(&norm.apply(x));
        let logits = self
            .head
            .logits(acts.last().expect("activations end with the features"));
        acts.push(logits);
        acts
    }

    /// The backbone's dropout probability (0 = no dropout).
    /// 0 for an external model.
    pub fn dropout(&self) -> f64 {
        match &self.body {
            Body::Native { backbone, .. } => backbone.dropout(),
            Body::External(_) => 0.0,
        }
    }

    /// Inference logits in eval mode.
    pub fn logits(&self, x: &Tensor) -> Tensor {
        match &self.body {
            Body::Native { .. } => self.head.logits(&self.features(x, false)),
            Body::External(m) => m.forward(x).0,
        }
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn save(&self, path: &Path) -> crate::Result<()> {
        Ok(self.vs.save(path)?)
    }

    pub fn load(&mut self, path: &Path) -> crate::Result<()> {
        Ok(self.vs.load(path)?)
    }
}

/// An external model's features, or its logits when it has none.
fn external_features(m: &ExternalModel, x: &Tensor) -> Tensor {
    let (logits, features) = m.forward(x);
    features.unwrap_or(logits)
}
