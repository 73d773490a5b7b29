//! Suites: the YAML files under `suites/` that say which data, model, losses,
//! seeds, attacks and detectors to combine.
//!
//! Parsing has two stages. [`raw`] mirrors the YAML with serde
//! (`deny_unknown_fields`, kebab-case) so that a misspelt key or a wrong type
//! fails with `file:line:column` and the field path; [`validate`] turns the raw
//! tree into the [`Suite`] below, checking values (ranges, non-empty lists) and
//! filling every default; [`cross`] then checks what only several sections
//! together can say (a detector the model cannot serve, a tolerance on a
//! metric that is never gated). [`wording`] turns serde's messages into plain
//! words. [`plan`] expands a suite into [`Job`]s with stable ids.
//!
//! This room knows nothing of tch: it only describes work.

/// A field path from keys and indices: `path!["losses", i, "lgm", "alpha"]`.
macro_rules! path {
    ($($seg:expr),* $(,)?) => {
        [$($crate::suite::locate::PathSeg::from($seg)),*]
    };
}

pub mod catalog;
pub mod cross;
pub mod locate;
pub mod plan;
pub mod raw;
pub mod validate;
pub mod wording;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::data::DataSpec;
pub use plan::{Job, JobConfig};

/// The largest suite file lossbench reads (a suite is a page of YAML).
pub const MAX_SUITE_BYTES: u64 = 1024 * 1024;

/// A validated suite with every default filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suite {
    /// Suite name; also the directory under `results/` and `reports/`.
    pub name: String,
    pub description: String,
    pub data: DataSpec,
    pub model: ModelSpec,
    pub train: TrainSpec,
    pub losses: Vec<LossSpec>,
    pub seeds: Vec<u64>,
    pub attacks: Vec<AttackSpec>,
    pub detectors: Vec<DetectorSpec>,
    pub regression: RegressionSpec,
}

/// The backbone and its options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub kind: ModelKind,
    /// Dimension of the feature vector the head sees. Default 64.
    pub feature_dim: usize,
    /// Dropout probability before the feature layer; 0 = none. Default 0.
    pub dropout: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Two hidden layers of 256 units (ReLU), then the feature layer.
    Mlp,
    /// conv(32,3x3)-ReLU-pool, conv(64,3x3)-ReLU-pool, then the feature layer.
    SmallCnn,
    /// LeNet++ (Wen et al. 2016): 5x5 convs 32-32, 64-64, 128-128, PReLU, pooling.
    Lenetpp,
    /// CIFAR ResNets of He et al. 2016 (depth 6n + 2).
    Resnet20,
    Resnet32,
    Resnet56,
}

impl ModelKind {
    /// The name used in suites.
    pub fn name(&self) -> &'static str {
        match self {
            ModelKind::Mlp => "mlp",
            ModelKind::SmallCnn => "small-cnn",
            ModelKind::Lenetpp => "lenetpp",
            ModelKind::Resnet20 => "resnet20",
            ModelKind::Resnet32 => "resnet32",
            ModelKind::Resnet56 => "resnet56",
        }
    }

    /// The smallest image side the backbone takes: each 2x2 pooling (or
    /// stride-2 stage) halves the side, which must not reach 0. The real
    /// datasets (28 and 32 pixels) fit every backbone; the synthetic one is
    /// checked against this.
    pub fn min_side(self) -> usize {
        match self {
            ModelKind::Mlp => 1,
            ModelKind::SmallCnn => 4,
            ModelKind::Lenetpp => 8,
            // Two stride-2 stages (padded 3x3 convs), then global pooling.
            ModelKind::Resnet20 | ModelKind::Resnet32 | ModelKind::Resnet56 => 4,
        }
    }
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSpec {
    /// Default 5.
    pub epochs: usize,
    /// Default 128.
    pub batch_size: usize,
    /// Default Adam.
    pub optimizer: OptimizerSpec,
    /// Default 1e-3.
    pub lr: f64,
    /// Default constant.
    pub schedule: ScheduleSpec,
    /// L2 weight decay; default 0.
    pub weight_decay: f64,
    /// CIFAR augmentation: 4-pixel zero pad + random crop back to size, and a
    /// random horizontal flip, per training batch. Default false.
    pub augment: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerSpec {
    /// SGD; momentum default 0.9, nesterov default false.
    Sgd { momentum: f64, nesterov: bool },
    /// Adam; beta1 0.9, beta2 0.999.
    Adam { beta1: f64, beta2: f64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleSpec {
    Constant,
    /// Multiply the learning rate by `gamma` every `step_size` epochs.
    Step {
        step_size: usize,
        gamma: f64,
    },
    /// Multiply by `gamma` at each epoch in `milestones` (strictly increasing).
    Multistep {
        milestones: Vec<usize>,
        gamma: f64,
    },
    /// Cosine annealing from lr to 0 over all epochs.
    Cosine,
}

/// A loss (head) with its resolved parameters (docs/definitions.md §1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossSpec {
    Softmax,
    /// Center loss: weight `lambda` (default 0.01), centre rate `alpha` (0.5).
    Center {
        lambda: f64,
        alpha: f64,
    },
    /// L-Softmax: margin `m` in 1..=4 (default 2); β annealing
    /// `β = max(beta_min, beta_base · (1 + gamma · step)^(−power))`, defaults
    /// beta_base 1000, gamma 2.5e-5, power 35, beta_min 0.
    Lsoftmax {
        m: u32,
        beta_base: f64,
        gamma: f64,
        power: f64,
        beta_min: f64,
    },
    /// L-GM: margin `alpha` (default 0.1, >= 0), likelihood weight `lambda`
    /// (default 0.1, >= 0), covariance (default identity), log-variance floor
    /// (default -6), linear warm-up of alpha and lambda over `warmup_epochs`
    /// (default 0 = none).
    Lgm {
        alpha: f64,
        lambda: f64,
        covariance: Covariance,
        log_var_floor: f64,
        warmup_epochs: usize,
    },
}

impl LossSpec {
    /// The name used in suites, tables and reports.
    pub fn name(&self) -> &'static str {
        match self {
            LossSpec::Softmax => "softmax",
            LossSpec::Center { .. } => "center",
            LossSpec::Lsoftmax { .. } => "lsoftmax",
            LossSpec::Lgm { .. } => "lgm",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Covariance {
    Identity,
    Isotropic,
    Diagonal,
}

/// An attack with resolved parameters (docs/definitions.md §2). `eps` lists sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttackSpec {
    /// FGSM at each eps (pixel units, in [0, 1]); default [0.1].
    Fgsm { eps: Vec<f64> },
    /// BIM at each eps (default [0.1]); `step_size` a (None = eps / 4),
    /// `steps` T (default 10), `stop` (default last = BIM-b).
    Bim {
        eps: Vec<f64>,
        step_size: Option<f64>,
        steps: usize,
        stop: BimStop,
    },
    /// DeepFool (L2): `candidates` top classes (default 10), `overshoot`
    /// (default 0.02), `max_iter` (default 50).
    Deepfool {
        candidates: usize,
        overshoot: f64,
        max_iter: usize,
    },
}

impl AttackSpec {
    pub fn name(&self) -> &'static str {
        match self {
            AttackSpec::Fgsm { .. } => "fgsm",
            AttackSpec::Bim { .. } => "bim",
            AttackSpec::Deepfool { .. } => "deepfool",
        }
    }
}

/// When BIM stops iterating a sample (docs/definitions.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BimStop {
    /// BIM-a: at its first misclassified step.
    First,
    /// BIM-b: after all T steps (the default).
    Last,
}

/// A detector with resolved parameters (docs/definitions.md §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DetectorSpec {
    MaxSoftmax,
    LgmLikelihood,
    /// Class means and a tied covariance of clean training features.
    Mahalanobis,
    /// Kernel density with bandwidth `sigma` (default 1.0).
    Kd {
        sigma: f64,
    },
    /// Logistic regression on (KD, BU); `samples` MC-dropout passes (default 50).
    KdBu {
        sigma: f64,
        samples: usize,
    },
    /// Logistic regression on per-layer LID; `k` neighbours (default 20)
    /// within minibatches of `batch` clean references (default 100).
    Lid {
        k: usize,
        batch: usize,
    },
}

impl DetectorSpec {
    pub fn name(&self) -> &'static str {
        match self {
            DetectorSpec::MaxSoftmax => "max-softmax",
            DetectorSpec::LgmLikelihood => "lgm-likelihood",
            DetectorSpec::Mahalanobis => "mahalanobis",
            DetectorSpec::Kd { .. } => "kd",
            DetectorSpec::KdBu { .. } => "kd-bu",
            DetectorSpec::Lid { .. } => "lid",
        }
    }
}

/// Regression tolerances: metric name -> largest acceptable worsening
/// (absolute, in the metric's own units).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegressionSpec {
    pub tolerances: BTreeMap<String, f64>,
}

impl Suite {
    /// Reads, parses and validates a suite file of at most
    /// [`MAX_SUITE_BYTES`] of UTF-8 text.
    pub fn load(path: &Path) -> crate::Result<Suite> {
        use std::io::Read;
        let file = std::fs::File::open(path)
            .map_err(|e| crate::Error::io("cannot read suite", path, e))?;
        let mut bytes = Vec::new();
        // One byte past the limit tells a file that is too large (or
        // endless, like /dev/zero) without reading all of it.
        file.take(MAX_SUITE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| crate::Error::io("cannot read suite", path, e))?;
        let whole_file = |msg: String| crate::Error::Suite {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
            field: "(the file)".into(),
            msg,
        };
        if bytes.len() as u64 > MAX_SUITE_BYTES {
            return Err(whole_file(format!(
                "larger than {} KiB; a suite is a short YAML file",
                MAX_SUITE_BYTES / 1024
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            whole_file(format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        Suite::parse(&text, path)
    }

    /// Parses and validates suite text; `path` is only used in messages. A
    /// leading byte-order mark (some Windows editors write one) is ignored.
    pub fn parse(text: &str, path: &Path) -> crate::Result<Suite> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let raw = raw::parse(text, path)?;
        validate::validate(raw, text, path)
    }

    /// The jobs of this suite: dataset x model x loss x seed, in that order.
    pub fn jobs(&self) -> Vec<Job> {
        plan::expand(self)
    }

    /// Replaces the seeds (`lossbench run --seeds`), with the checks the
    /// suite's own `seeds:` list gets.
    pub fn set_seeds(&mut self, seeds: Vec<u64>) -> crate::Result<()> {
        if seeds.is_empty() {
            return Err(crate::Error::Usage(
                "--seeds: give at least one seed".into(),
            ));
        }
        if let Some((i, _)) = first_repeat(&seeds) {
            return Err(crate::Error::Usage(format!(
                "--seeds: seed {} is given twice",
                seeds[i]
            )));
        }
        self.seeds = seeds;
        Ok(())
    }
}

/// The first item that repeats an earlier one, as `(its index, the earlier
/// index)`; used for the suite's `seeds:` and for `run --seeds`.
pub(crate) fn first_repeat<T: PartialEq>(items: &[T]) -> Option<(usize, usize)> {
    items.iter().enumerate().find_map(|(i, x)| {
        items[..i]
            .iter()
            .position(|e| e == x)
            .map(|first| (i, first))
    })
}
