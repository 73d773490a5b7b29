//! `lgm`: the large-margin Gaussian Mixture loss of Wan et al. 2018 (docs/definitions.md §1).
//!
//! ```text
//! d_k      = ½ (f − μ_k)ᵀ Λ_k⁻¹ (f − μ_k)
//! z_k      = −d_k − ½ log|Λ_k|                        inference logits
//! z'_k     = −d_k (1 + α [k = y]) − ½ log|Λ_k|        training logits
//! L_cls    = CE(z', y)
//! L_lkd    = mean_i ( d_{y_i} + ½ log|Λ_{y_i}| )
//! L        = L_cls + λ L_lkd
//! log N(f; μ_k, Λ_k) = −d_k − ½ log|Λ_k| − (D/2) log 2π
//! ```
//! `Λ_k` is `I` (identity), `σ_k² I` (isotropic) or `diag(σ_k²)` (diagonal),
//! learned as a log-variance clamped below at `log_var_floor`. With
//! `warmup_epochs > 0`, α and λ grow linearly from 0 over that many epochs.
//!
//! # Shapes
//! `f: [N, D]`, means `μ: [K, D]`, log-variance `[K, 1]` (isotropic) or
//! `[K, D]` (diagonal), `d, z: [N, K]`.

use std::f64::consts::PI;

use tch::{nn, Kind, Tensor};

use super::{Head, Progress};
pub use crate::suite::spec::LgmParams;
use crate::suite::Covariance;

#[derive(Debug)]
pub struct LgmHead {
    means: Tensor,
    /// `None` for identity covariance.
    log_var: Option<Tensor>,
    params: LgmParams,
    dim: i64,
    classes: i64,
}

impl LgmHead {
    pub fn new(p: &nn::Path, dim: i64, classes: i64, params: LgmParams) -> LgmHead {
        let means = p.var(
            "means",
            &[classes, dim],
            nn::Init::Randn {
                mean: 0.0,
                stdev: 1.0,
            },
        );
        let log_var = match params.covariance {
            Covariance::Identity => None,
            Covariance::Isotropic => Some(p.zeros("log_var", &[classes, 1])),
            Covariance::Diagonal => Some(p.zeros("log_var", &[classes, dim])),
        };
        LgmHead {
            means,
            log_var,
            params,
            dim,
            classes,
        }
    }

    /// The class means `[K, D]`.
    pub fn means(&self) -> &Tensor {
        &self.means
    }

    /// Log-variance after the floor, broadcastable to `[K, D]`; None = identity.
    fn clamped_log_var(&self) -> Option<Tensor> {
        self.log_var
            .as_ref()
            .map(|lv| lv.clamp_min(self.params.log_var_floor))
    }

    /// `(d [N, K], ½ log|Λ| [1, K])`.
    pub fn distances(&self, f: &Tensor) -> (Tensor, Tensor) {
        let diff = f.unsqueeze(1) - self.means.unsqueeze(0); // [N, K, D]
        let sq = diff.square();
        match self.clamped_log_var() {
            None => {
                let d = sq.sum_dim_intlist(2, false, None::<Kind>) * 0.5;
                let half_logdet = Tensor::zeros([1, self.classes], (f.kind(), f.device()));
                (d, half_logdet)
            }
            Some(lv) => {
                let inv_var = (-&lv).exp().unsqueeze(0); // [1, K, D or 1]
                let d = (sq * inv_var).sum_dim_intlist(2, false, None::<Kind>) * 0.5;
                // Isotropic: log|Λ_k| = D · log σ_k²; diagonal: Σ_d log σ_kd².
                let per_dim = if lv.size()[1] == 1 {
                    lv.squeeze_dim(1) * (self.dim as f64)
                } else {
                    lv.sum_dim_intlist(1, false, None::<Kind>)
                };
                (d, (per_dim * 0.5).unsqueeze(0))
            }
        }
    }

    /// α and λ at this point of training (linear warm-up).
    pub fn schedule(&self, at: Progress) -> (f64, f64) {
        let w = self.params.warmup_epochs as f64;
        let ramp = if w > 0.0 {
            (at.epoch / w).min(1.0)
        } else {
            1.0
        };
        (self.params.alpha * ramp, self.params.lambda * ramp)
    }

    /// Training logits with the margin on the true class.
    pub fn training_logits(&self, f: &Tensor, y: &Tensor, alpha: f64) -> Tensor {
        let (d, half_logdet) = self.distances(f);
        self.margin_logits(&d, &half_logdet, y, alpha)
    }

    fn margin_logits(&self, d: &Tensor, half_logdet: &Tensor, y: &Tensor, alpha: f64) -> Tensor {
        let margin = y.one_hot(self.classes).to_kind(d.kind()) * alpha + 1.0;
        -(d * margin) - half_logdet
    }
}

impl Head for LgmHead {
    fn logits(&self, f: &Tensor) -> Tensor {
        let (d, half_logdet) = self.distances(f);
        -d - half_logdet
    }

    fn loss(&self, f: &Tensor, y: &Tensor, at: Progress) -> Tensor {
        let (alpha, lambda) = self.schedule(at);
        let (d, half_logdet) = self.distances(f);
        let z = self.margin_logits(&d, &half_logdet, y, alpha);
        let l_cls = super::cross_entropy(&z, y);
        let idx = y.unsqueeze(1);
        let d_y = d.gather(1, &idx, false).squeeze_dim(1);
        let h_y = half_logdet
            .expand([d.size()[0], self.classes], false)
            .gather(1, &idx, false)
            .squeeze_dim(1);
        let l_lkd = (d_y + h_y).mean(None::<Kind>);
        l_cls + l_lkd * lambda
    }

    fn class_means(&self) -> Option<Tensor> {
        Some(self.means.shallow_clone())
    }

    fn has_density(&self) -> bool {
        true
    }

    fn log_likelihood(&self, f: &Tensor) -> Option<Tensor> {
        let c = 0.5 * self.dim as f64 * (2.0 * PI).ln();
        Some(self.logits(f) - c)
    }
}
