//! `center`: softmax cross-entropy plus the center loss of Wen et al. 2016.
//!
//! ```text
//! L   = CE(W f + b, y) + (λ/2) · mean_i ‖f_i − c_{y_i}‖²
//! after each step, for every class j (not through the optimiser):
//! c_j ← c_j − α · Σ_{i: y_i = j} (c_j − f_i) / (1 + n_j)
//! ```
//! # Shapes
//! `f: [N, D]`, centres `c: [K, D]` (a non-trainable buffer, so checkpoints
//! keep it), `n_j` = samples of class j in the batch.

use tch::{nn, nn::Module, Kind, Tensor};

use super::{Head, Progress};

#[derive(Debug)]
pub struct CenterHead {
    fc: nn::Linear,
    centers: Tensor,
    lambda: f64,
    alpha: f64,
    classes: i64,
}

impl CenterHead {
    pub fn new(p: &nn::Path, dim: i64, classes: i64, lambda: f64, alpha: f64) -> CenterHead {
        CenterHead {
            fc: nn::linear(p / "fc", dim, classes, Default::default()),
            centers: p.zeros_no_train("centers", &[classes, dim]),
            lambda,
            alpha,
            classes,
        }
    }

    /// The current centres `[K, D]`.
    pub fn centers(&self) -> &Tensor {
        &self.centers
    }
}

impl Head for CenterHead {
    fn logits(&self, f: &Tensor) -> Tensor {
        self.fc.forward(f)
    }

    fn loss(&self, f: &Tensor, y: &Tensor, _at: Progress) -> Tensor {
        let ce = super::cross_entropy(&self.logits(f), y);
        let c = self.centers.index_select(0, y);
        let pull = (f - c)
            .square()
            .sum_dim_intlist(1, false, None::<Kind>)
            .mean(None::<Kind>);
        ce + pull * (self.lambda / 2.0)
    }

    fn after_step(&self, f: &Tensor, y: &Tensor) {
        tch::no_grad(|| {
            let onehot = y.one_hot(self.classes).to_kind(f.kind()); // [N, K]
            let n = onehot.sum_dim_intlist(0, false, f.kind()).unsqueeze(1); // [K, 1]
            let sum_f = onehot.tr().matmul(&f.detach()); // [K, D]
            let diff = &self.centers * &n - sum_f;
            let delta = diff / (n + 1.0) * self.alpha;
            let _ = self.centers.shallow_clone().g_sub_(&delta);
        });
    }
}
