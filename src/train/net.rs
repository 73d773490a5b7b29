//! A model: normalisation, backbone and head in one var store.

use std::path::Path;

use tch::{nn, Device, Tensor};

use crate::heads::{self, Head};
use crate::models::{self, Backbone, Mode, Normalize};
use crate::suite::{LossSpec, ModelSpec};

/// `x in [0, 1] -> normalise -> backbone -> features -> head`.
#[derive(Debug)]
pub struct Net {
    pub vs: nn::VarStore,
    norm: Normalize,
    backbone: Box<dyn Backbone>,
    pub head: Box<dyn Head>,
    pub classes: i64,
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
            norm,
            backbone,
            head,
            classes: classes as i64,
        }
    }

    /// Features `[N, D]` of images `[N, C, H, W]` in [0, 1].
    pub fn features(&self, x: &Tensor, train: bool) -> Tensor {
        self.backbone.features(&self.norm.apply(x), train)
    }

    /// Features `[N, D]` in an explicit [`Mode`] (e.g. [`Mode::McDropout`]
    /// for the BU feature of `kd-bu`).
    pub fn features_mode(&self, x: &Tensor, mode: Mode) -> Tensor {
        self.backbone.forward(&self.norm.apply(x), mode, None)
    }

    /// `samples` MC-dropout passes ([`Mode::McDropout`]) of the inference
    /// logits, `samples × [N, K]`. The backbone's trunk is deterministic in
    /// that mode (only the dropout before the feature layer draws masks), so
    /// it runs once; the masks come from libtorch's global generator in the
    /// same order as `samples` full passes would draw them.
    pub fn mc_dropout_logits(&self, x: &Tensor, samples: usize) -> Vec<Tensor> {
        let h = self
            .backbone
            .trunk(&self.norm.apply(x), Mode::McDropout, None);
        (0..samples)
            .map(|_| {
                self.head
                    .logits(&self.backbone.features_of_trunk(&h, Mode::McDropout))
            })
            .collect()
    }

    /// Eval-mode activations for LID (docs/definitions.md §3), each flattened to `[N, *]`:
    /// the backbone's tapped layers ([`Backbone::activations`]), then the
    /// features `[N, D]`, then the inference logits `[N, K]`.
    pub fn activations(&self, x: &Tensor) -> Vec<Tensor> {
        let mut acts = self.backbone.activations(&self.norm.apply(x));
        let logits = self
            .head
            .logits(acts.last().expect("activations end with the features"));
        acts.push(logits);
        acts
    }

    /// The backbone's dropout probability (0 = no dropout).
    pub fn dropout(&self) -> f64 {
        self.backbone.dropout()
    }

    /// Inference logits in eval mode.
    pub fn logits(&self, x: &Tensor) -> Tensor {
        self.head.logits(&self.features(x, false))
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
