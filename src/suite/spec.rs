//! The suite format, declared once: every section, every component and every
//! parameter, each with its key, Rust type, default, valid range and doc.
//!
//! Each block below *is* the resolved type the rest of lossbench uses
//! ([`Suite`], [`TrainSpec`], [`LossSpec`], ...), and also, through the
//! macros of [`crate::decl`], the reader that fills its defaults and refuses
//! what it does not allow, the entries of `lossbench list`, and the JSON
//! Schema of `lossbench schema`. A parameter line reads
//!
//! ```text
//! /// What it does (the doc shown by `lossbench list` and editors).
//! "yaml-key" rust_field: Type = default(value), bounds;
//! ```
//!
//! where the default is `default(v)`, `required(example)` or, for an
//! `Option`, `optional("what unset means")`, and the bounds are an
//! [`Interval`] for reals, `lo..=hi` or `lo..` for whole numbers, or
//! [`Items`] for how a list is written. Field order is serialisation order:
//! job ids hash the JSON of these types, so a new field changes every id
//! unless it is an `Option` skipped when unset (as `attack-subset` is).
//! Rules between sections live in [`super::cross`]. Definitions of every
//! loss, attack and detector: docs/definitions.md.

use std::path::PathBuf;

use super::cross::RegressionSpec;
use crate::decl::entries::Entries;
use crate::decl::{self, all_defaults, bare, prelude::*};

/// Upper bounds on sizes: a value past them cannot be what a suite means
/// (and past some of them libtorch or the allocator aborts the process
/// instead of failing a job). What fits the machine's memory is checked
/// when a run starts ([`crate::runner`]), since it depends on the machine.
pub mod limits {
    use super::Interval;

    /// `train.epochs`: a run of more epochs never ends on any machine.
    pub const EPOCHS: usize = 100_000;
    /// `train.batch-size`.
    pub const BATCH_SIZE: usize = 65_536;
    /// `model.*.feature-dim`: the papers use 2 to 512.
    pub const FEATURE_DIM: usize = 4_096;
    /// `data.synthetic.train` and `data.synthetic.test`.
    pub const SYNTHETIC_SAMPLES: usize = 1_000_000;
    /// `data.train-subset`, `data.test-subset`, `data.attack-subset`.
    pub const SAMPLES: usize = 100_000_000;
    /// `data.classes`: the largest class index of any dataset (CIFAR-100).
    pub const CLASS: usize = 99;
    /// `detectors[].kd.sigma` and `kd-bu.sigma`: outside it the kernel's
    /// `exp(−d²/σ²)` underflows or saturates for any feature distance,
    /// and every score is infinite.
    pub const KD_SIGMA: Interval = Interval::Between(1e-6, 1e6);
}

section! {
    /// A lossbench suite: which data, model, losses, seeds, attacks and
    /// detectors to combine (docs/design.md).
    pub struct Suite ("the suite") {
        /// Suite name; also the directory under `results/` and `reports/`.
        "name" name: String = required(), Bounds::DIR_NAME;
        /// Free text, shown in reports.
        "description" description: String = default(String::new());
        /// The dataset and how much of it to use.
        "data" data: DataSpec = required();
        /// The backbone: a bare name or `{name: {options}}`.
        "model" model: ModelSpec = required();
        /// Training settings; every key has a default.
        "train" train: TrainSpec = default(all_defaults());
        /// The losses to compare; each is trained once per seed. An entry may
        /// carry a `label` (the name its results go under) and a `sweep`
        /// (parameter -> values, one entry per combination).
        "losses" losses: Entries<LossSpec> = required(), Items::Keyed;
        /// Seeds; distinct.
        "seeds" seeds: Vec<u64> = required();
        /// Attacks run against every trained model; entries take `label` and
        /// `sweep` as losses do.
        "attacks" attacks: Entries<AttackSpec> = default(Entries(Vec::new())), Items::MayBeEmpty;
        /// Detectors scored on every attack's examples and every abnormal
        /// source; they need an attack or an `ood` source.
        "detectors" detectors: Vec<DetectorSpec> = default(Vec::new()), Items::MayBeEmpty;
        /// Abnormal (out-of-distribution) inputs every unsupervised detector is
        /// scored on, against the in-distribution test samples (docs/definitions.md §5).
        // Not serialised when empty, so job and run ids of suites without it stay.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        "ood" ood: Vec<OodSource> = default(Vec::new()), Items::MayBeEmpty;
        /// Largest acceptable worsening of a metric for `lossbench compare`,
        /// absolute, in the metric's units; only gated metrics take one.
        "regression" regression: RegressionSpec = default(RegressionSpec::default());
    }
}

names! {
    /// Which dataset a suite uses.
    pub enum DatasetName ("dataset") {
        /// MNIST handwritten digits, 28x28 grey, 10 classes
        "mnist" => Mnist,
        /// Fashion-MNIST clothing images, 28x28 grey, 10 classes
        "fashion-mnist" => FashionMnist,
        /// Kuzushiji-MNIST cursive Japanese characters, 28x28 grey, 10 classes
        "kmnist" => Kmnist,
        /// CIFAR-10 natural images, 32x32 colour, 10 classes
        "cifar10" => Cifar10,
        /// CIFAR-100 natural images, 32x32 colour, 100 classes
        "cifar100" => Cifar100,
        /// SVHN house-number digits (cropped), 32x32 colour, 10 classes
        "svhn" => Svhn,
        /// seeded prototypes plus noise, tiny and fast (options under `data.synthetic`)
        "synthetic" => Synthetic,
    }
}

section! {
    /// The resolved `data:` section of a suite.
    pub struct DataSpec ("the data section") {
        /// Which dataset.
        "dataset" dataset: DatasetName = required();
        /// Directory holding the files; overrides the lookup order
        /// (`LOSSBENCH_DATA`, `./data`, then system directories). Not for
        /// `synthetic`.
        "path" path: Option<PathBuf> = optional("lookup order");
        /// Use only the first N training samples.
        "train-subset" train_subset: Option<usize> = optional("all"), 1..=limits::SAMPLES;
        /// Use only the first N test samples.
        "test-subset" test_subset: Option<usize> = optional("all"), 1..=limits::SAMPLES;
        /// Attack (and score detectors on) a seeded sample of N test samples,
        /// of which the clean-correct ones are attacked; clean accuracy still
        /// uses every test sample.
        // Not serialised when unset, so job ids of suites without it stay.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        "attack-subset" attack_subset: Option<usize> = optional("all"), 1..=limits::SAMPLES;
        /// Train and test on these classes only (strictly increasing), relabelled
        /// 0..K-1 in this order; the test samples of the other classes are the
        /// `held-out-classes` abnormal source (open-set, docs/definitions.md §5).
        // Not serialised when unset, so job ids of suites without it stay.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        "classes" classes: Option<Vec<usize>> = optional("all"), (0..=limits::CLASS, Items::Increasing);
        /// Options of `dataset: synthetic` (ignored by the real datasets).
        "synthetic" synthetic: SyntheticSpec = default(SyntheticSpec::default());
    }
}

impl DataSpec {
    /// The training samples a run of this data section trains on, as far
    /// as the suite alone can tell: the standard training split of a real
    /// dataset (MNIST, Fashion-MNIST and KMNIST 60 000, CIFAR 50 000, SVHN
    /// 73 257) or `synthetic.train`, capped by `train-subset`, and with
    /// `classes` the kept classes' share of it as if every class had as many
    /// samples. A run counts the loaded split instead, which differs for a
    /// real dataset whose files hold another number of samples or unequal
    /// classes.
    pub fn expected_train_len(&self) -> usize {
        let (full, total) = match self.dataset {
            DatasetName::Mnist | DatasetName::FashionMnist | DatasetName::Kmnist => (60_000, 10),
            DatasetName::Cifar10 => (50_000, 10),
            DatasetName::Cifar100 => (50_000, 100),
            DatasetName::Svhn => (73_257, 10),
            DatasetName::Synthetic => (self.synthetic.train, self.synthetic.classes),
        };
        let n = self.train_subset.map_or(full, |n| n.min(full));
        match &self.classes {
            Some(kept) => n * kept.len().min(total) / total.max(1),
            None => n,
        }
    }
}

section! {
    /// The seeded synthetic dataset: `classes` prototype images plus noise.
    pub struct SyntheticSpec ("the synthetic dataset options") {
        /// seed of the prototypes and the noise
        "seed" seed: u64 = default(0);
        /// number of classes
        "classes" classes: usize = default(4), 2..=10;
        /// training samples
        "train" train: usize = default(512), 1..=limits::SYNTHETIC_SAMPLES;
        /// test samples
        "test" test: usize = default(256), 1..=limits::SYNTHETIC_SAMPLES;
        /// image side in pixels (one channel)
        "side" side: usize = default(12), 4..=64;
    }
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        all_defaults()
    }
}

names! {
    /// The backbone (docs/design.md, `models/`).
    pub enum ModelKind ("model") {
        /// two hidden layers of 256 units (ReLU), then the feature layer
        "mlp" => Mlp,
        /// two conv-ReLU-pool blocks (32 and 64 channels), then the feature layer
        "small-cnn" => SmallCnn,
        /// LeNet++ (Wen et al. 2016): 5x5 convs 32-32, 64-64, 128-128, PReLU, pooling
        "lenetpp" => Lenetpp,
        /// CIFAR ResNet-20 (He et al. 2016)
        "resnet20" => Resnet20,
        /// CIFAR ResNet-32 (He et al. 2016)
        "resnet32" => Resnet32,
        /// CIFAR ResNet-56 (He et al. 2016)
        "resnet56" => Resnet56,
        /// your own classifier, a TorchScript file (`path`) mapping images in [0, 1] to logits,
        /// or to (logits, features); not trained (losses: [external])
        "torchscript" => Torchscript,
    }
}

impl ModelKind {
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
            // Whatever the module takes; a wrong shape fails when it runs.
            ModelKind::Torchscript => 1,
        }
    }
}

section! {
    /// The backbone and its options.
    pub struct ModelSpec ("options", "model", "models" by ModelKind) {
        /// size of the feature vector the head sees
        "feature-dim" feature_dim: usize = default(64), 1..=limits::FEATURE_DIM;
        /// dropout probability before the feature layer; 0 = none
        "dropout" dropout: f64 = default(0.0), Interval::UnitOpen;
        /// torchscript only: the module file, relative to the suite file's directory and
        /// inside it
        // Not serialised when unset (every built-in model), so job ids stay.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        "path" path: Option<PathBuf> = optional("none; torchscript needs it");
        /// torchscript only: the file's SHA-256 in hex; when unset, read from the file as the
        /// suite is loaded, so that job ids follow the file's content
        #[serde(default, skip_serializing_if = "Option::is_none")]
        "sha256" sha256: Option<String> = optional("the file's");
    }
}

/// Test literals and the Python export's description take the declared
/// defaults of the options; the kind is `mlp`.
impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec {
            kind: ModelKind::Mlp,
            feature_dim: 64,
            dropout: 0.0,
            path: None,
            sha256: None,
        }
    }
}

section! {
    /// Training settings.
    pub struct TrainSpec ("the train section") {
        /// passes over the training data
        "epochs" epochs: usize = default(5), 1..=limits::EPOCHS;
        /// samples per step
        "batch-size" batch_size: usize = default(128), 1..=limits::BATCH_SIZE;
        /// the optimiser
        "optimizer" optimizer: OptimizerSpec = default(bare("adam"));
        /// learning rate
        "lr" lr: f64 = default(1e-3), Interval::Positive;
        /// learning-rate schedule
        "schedule" schedule: ScheduleSpec = default(bare("constant"));
        /// L2 weight decay
        "weight-decay" weight_decay: f64 = default(0.0), Interval::AtLeast(0.0);
        /// CIFAR augmentation: 4-pixel zero pad + random crop back to size, and
        /// a random horizontal flip, per training batch
        "augment" augment: bool = default(false);
    }
}

impl TrainSpec {
    /// Optimiser steps of a run on `n_train` training samples:
    /// `epochs × ⌈n_train / batch-size⌉` (the last batch of an epoch may be
    /// short).
    pub fn total_steps(&self, n_train: usize) -> u64 {
        (self.epochs as u64) * n_train.div_ceil(self.batch_size) as u64
    }
}

components! {
    /// The optimiser of `train.optimizer`.
    pub enum OptimizerSpec ("optimizer", "optimizers", in_list = false) {
        /// Adam (the default optimizer)
        "adam" => Adam(AdamParams) {
            /// first-moment decay
            "beta1" beta1: f64 = default(0.9), Interval::UnitOpen;
            /// second-moment decay
            "beta2" beta2: f64 = default(0.999), Interval::UnitOpen;
        },
        /// stochastic gradient descent with momentum
        "sgd" => Sgd(SgdParams) {
            /// momentum
            "momentum" momentum: f64 = default(0.9), Interval::UnitOpen;
            /// Nesterov momentum
            "nesterov" nesterov: bool = default(false);
        },
    }
}

components! {
    /// The learning-rate schedule of `train.schedule`.
    pub enum ScheduleSpec ("schedule", "schedules", in_list = false) {
        /// the learning rate never changes (the default)
        "constant" => Constant,
        /// cosine annealing from lr to 0 over all epochs
        "cosine" => Cosine,
        /// multiply the learning rate by gamma every step-size epochs
        "step" => Step(StepParams) {
            /// epochs between decays
            "step-size" step_size: usize = required(3), 1..;
            /// learning-rate factor
            "gamma" gamma: f64 = default(0.1), Interval::UnitLeftOpen;
        },
        /// multiply the learning rate by gamma at each milestone epoch
        "multistep" => Multistep(MultistepParams) {
            /// epochs at which to decay; strictly increasing, none past train.epochs
            "milestones" milestones: Vec<usize> = required([3, 6]), (1.., Items::Increasing);
            /// learning-rate factor
            "gamma" gamma: f64 = default(0.1), Interval::UnitLeftOpen;
        },
    }
}

components! {
    /// A loss (head) with its resolved parameters (docs/definitions.md §1).
    pub enum LossSpec ("loss", "losses", in_list = true) {
        /// softmax cross-entropy (docs/definitions.md §1)
        "softmax" => Softmax,
        /// softmax cross-entropy plus center loss (docs/definitions.md §1)
        "center" => Center(CenterParams) {
            /// weight of the center term
            "lambda" lambda: f64 = default(0.01), Interval::AtLeast(0.0);
            /// centre update rate
            "alpha" alpha: f64 = default(0.5), Interval::UnitLeftOpen;
        },
        /// large-margin softmax with annealed beta (docs/definitions.md §1)
        "lsoftmax" => Lsoftmax(LsoftmaxParams) {
            /// angular margin
            "m" m: u32 = default(2), 1..=4;
            /// initial weight of plain softmax in the target logit
            "beta-base" beta_base: f64 = default(1000.0), Interval::AtLeast(0.0);
            /// annealing rate per optimiser step (ignored with margin-at)
            "gamma" gamma: f64 = default(2.5e-5), Interval::AtLeast(0.0);
            /// annealing exponent
            "power" power: f64 = default(35.0), Interval::AtLeast(0.0);
            /// floor of the annealed beta
            "beta-min" beta_min: f64 = default(0.0), Interval::AtLeast(0.0);
            /// fraction of the run's optimiser steps at which beta reaches 1; gamma is
            /// then derived from the run's length
            // Not serialised when unset, so job ids of suites without it stay.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            "margin-at" margin_at: Option<f64> = optional("gamma as given, in absolute steps"), Interval::UnitLeftOpen;
        },
        /// large-margin Gaussian mixture loss (docs/definitions.md §1)
        "lgm" => Lgm(LgmParams) {
            /// classification margin
            "alpha" alpha: f64 = default(0.1), Interval::AtLeast(0.0);
            /// weight of the likelihood term
            "lambda" lambda: f64 = default(0.1), Interval::AtLeast(0.0);
            /// covariance of each class Gaussian
            "covariance" covariance: Covariance = default(Covariance::Identity);
            /// lower bound on learnt log-variances
            "log-var-floor" log_var_floor: f64 = default(-6.0), Interval::Finite;
            /// linear warm-up of alpha and lambda, in epochs; at most train.epochs, 0 = none
            "warmup-epochs" warmup_epochs: usize = default(0);
        },
        /// the external model's own (model: torchscript): lossbench trains nothing and
        /// evaluates the model as it is
        "external" => External,
    }
}

names! {
    /// The covariance of L-GM's class Gaussians (docs/definitions.md §1).
    pub enum Covariance ("covariance") {
        /// fixed
        "identity" => Identity,
        /// one learnt variance per class
        "isotropic" => Isotropic,
        /// learnt variances per class and dimension
        "diagonal" => Diagonal,
    }
}

components! {
    /// An attack with resolved parameters (docs/definitions.md §2); `eps`
    /// lists sweep.
    pub enum AttackSpec ("attack", "attacks", in_list = true) check check_attack {
        /// fast gradient sign method, one step per eps (docs/definitions.md §2)
        "fgsm" => Fgsm(FgsmParams) {
            /// L-inf budget in pixel units; a number or a list
            "eps" eps: Vec<f64> = default(vec![0.1]), (Interval::UnitClosed, Items::OneOrList);
        },
        /// basic iterative method, projected L-inf steps (docs/definitions.md §2)
        "bim" => Bim(BimParams) {
            /// L-inf budget in pixel units; a number or a list
            "eps" eps: Vec<f64> = default(vec![0.1]), (Interval::UnitClosed, Items::OneOrList);
            /// step a
            "step-size" step_size: Option<f64> = optional("eps / 4"), Interval::UnitLeftOpen;
            /// iterations T
            "steps" steps: usize = default(10), 1..;
            /// when a sample stops
            "stop" stop: BimStop = default(BimStop::Last);
        },
        /// projected gradient descent with random starts, L-inf or L2 (docs/definitions.md §2)
        "pgd" => Pgd(PgdParams) {
            /// budget in pixel units (at most 1 for linf); a number or a list
            "eps" eps: Vec<f64> = default(vec![0.1]), (Interval::AtLeast(0.0), Items::OneOrList);
            /// the norm of the budget
            "norm" norm: Norm = default(Norm::Linf);
            /// step a
            "step-size" step_size: Option<f64> = optional("eps / 4"), Interval::Positive;
            /// iterations T per start
            "steps" steps: usize = default(10), 1..;
            /// start at a random point of the ball (else at x: linf PGD is then BIM-b)
            "random-start" random_start: bool = default(true);
            /// random starts R; a sample is fooled if any start fools it
            "restarts" restarts: usize = default(1), 1..;
            /// adaptive: also push this detector's score down (one of the suite's detectors)
            "against" against: Option<AdaptiveTarget> = optional("none: the plain attack");
            /// adaptive: the detector score's weight kappa
            "kappa" kappa: f64 = default(1.0), Interval::AtLeast(0.0);
        },
        /// Carlini & Wagner L2: Adam in tanh space, binary search over c (docs/definitions.md §2)
        "cw-l2" => CwL2(CwL2Params) {
            /// Adam steps T per search step (foolbox's default; suites cut it)
            "steps" steps: usize = default(10000), 1..;
            /// binary-search steps over the constant c
            "search-steps" search_steps: usize = default(9), 1..;
            /// the first c
            "initial-const" initial_const: f64 = default(1e-3), Interval::Positive;
            /// margin by which the example must be misclassified (the paper's kappa; conf= in labels)
            "confidence" confidence: f64 = default(0.0), Interval::AtLeast(0.0);
            /// Adam learning rate
            "step-size" step_size: f64 = default(0.01), Interval::Positive;
            /// stop a sample's search step when its loss stops falling
            "abort-early" abort_early: bool = default(true);
            /// adaptive: also push this detector's score down (one of the suite's detectors)
            "against" against: Option<AdaptiveTarget> = optional("none: the plain attack");
            /// adaptive: the detector score's weight kappa
            "kappa" kappa: f64 = default(1.0), Interval::AtLeast(0.0);
        },
        /// DeepFool, L2, batched over samples (docs/definitions.md §2)
        "deepfool" => Deepfool(DeepfoolParams) {
            /// top-scoring classes considered
            "candidates" candidates: usize = default(10), 2..;
            /// applied to the cumulative perturbation
            "overshoot" overshoot: f64 = default(0.02), Interval::AtLeast(0.0);
            /// iterations at most
            "max-iter" max_iter: usize = default(50), 1..;
        },
    }
}

names! {
    /// The norm of a PGD budget (docs/definitions.md §2).
    pub enum Norm ("norm") {
        /// L-inf: signed steps, the box around x
        "linf" => Linf,
        /// L2: normalised gradient steps, the ball around x
        "l2" => L2,
    }
}

names! {
    /// The detector an adaptive attack targets (docs/definitions.md §2.7):
    /// those whose score is differentiable in the input.
    pub enum AdaptiveTarget ("detector") {
        /// maximum softmax probability
        "max-softmax" => MaxSoftmax,
        /// the L-GM likelihood
        "lgm-likelihood" => LgmLikelihood,
        /// the Mahalanobis distance
        "mahalanobis" => Mahalanobis,
        /// kernel density
        "kd" => Kd,
    }
}

names! {
    /// When BIM stops iterating a sample (docs/definitions.md §2).
    pub enum BimStop ("stop rule") {
        /// BIM-a: at its first success
        "first" => First,
        /// BIM-b: after all T steps
        "last" => Last,
    }
}

components! {
    /// A detector with resolved parameters (docs/definitions.md §3).
    pub enum DetectorSpec ("detector", "detectors", in_list = true) check check_detector {
        /// maximum softmax probability as a confidence score (docs/definitions.md §3)
        "max-softmax" => MaxSoftmax,
        /// L-GM log-likelihood of the features; skipped for other losses (docs/definitions.md §3)
        "lgm-likelihood" => LgmLikelihood,
        /// min Mahalanobis distance to class means, tied covariance (docs/definitions.md §3)
        "mahalanobis" => Mahalanobis,
        /// kernel density of training features of the predicted class (docs/definitions.md §3)
        "kd" => Kd(KdParams) {
            /// Gaussian kernel bandwidth; `auto` chooses it per trained model by
            /// the held-out likelihood of clean training features
            "sigma" sigma: AutoOr = default(AutoOr::Auto), limits::KD_SIGMA;
        },
        /// logistic regression on kernel density and MC-dropout uncertainty (docs/definitions.md §3)
        "kd-bu" => KdBu(KdBuParams) {
            /// Gaussian kernel bandwidth; `auto` as for kd
            "sigma" sigma: AutoOr = default(AutoOr::Auto), limits::KD_SIGMA;
            /// MC-dropout passes T; needs model dropout > 0
            "samples" samples: usize = default(50), 2..;
            /// add a noisy copy of each clean fit image to the negatives
            "noisy-negatives" noisy_negatives: bool = default(true);
            /// inverse regularisation C of the logistic regression; `auto`
            /// chooses it by 5-fold cross-validated accuracy over 1e-4..1e4
            "c" c: AutoOr = default(AutoOr::Auto), Interval::Positive;
        },
        /// logistic regression on per-layer local intrinsic dimensionality (docs/definitions.md §3)
        "lid" => Lid(LidParams) {
            /// neighbours; fewer than batch
            "k" k: usize = default(20), 1..;
            /// evaluation minibatch whose clean samples are the neighbours
            "batch" batch: usize = default(100), 2..;
            /// add a noisy copy of each clean fit image to the negatives
            "noisy-negatives" noisy_negatives: bool = default(true);
            /// inverse regularisation C of the logistic regression; `auto` as for kd-bu
            "c" c: AutoOr = default(AutoOr::Auto), Interval::Positive;
        },
    }
}

components! {
    /// A source of abnormal inputs (docs/definitions.md §5); its results go
    /// under the attack `ood:<label>`.
    pub enum OodSource ("abnormal source", "ood sources", in_list = true) {
        /// the test samples of the classes left out of `data.classes` (open-set)
        "held-out-classes" => HeldOutClasses(HeldOutParams) {
            /// score a seeded sample of N of them
            "n" n: Option<usize> = optional("all"), 1..=limits::SAMPLES;
        },
        /// the test split of another dataset with images of the same shape
        "dataset" => Dataset(OodDatasetParams) {
            /// which dataset
            "name" name: DatasetName = required("mnist");
            /// directory holding its files; overrides the lookup order
            "path" path: Option<PathBuf> = optional("lookup order");
            /// score a seeded sample of N of its test images
            "n" n: Option<usize> = optional("all"), 1..=limits::SAMPLES;
        },
        /// images of independent uniform pixels in [0, 1], seeded
        "uniform" => Uniform(UniformParams) {
            /// images
            "n" n: Option<usize> = optional("as many as in-distribution test samples"), 1..=limits::SAMPLES;
        },
        /// images of independent Gaussian pixels clipped to [0, 1], seeded
        "gaussian" => Gaussian(GaussianParams) {
            /// mean of each pixel before clipping
            "mean" mean: f64 = default(0.5), Interval::Finite;
            /// standard deviation of each pixel before clipping
            "std" std: f64 = default(0.25), Interval::Positive;
            /// images
            "n" n: Option<usize> = optional("as many as in-distribution test samples"), 1..=limits::SAMPLES;
        },
    }
}

impl OodSource {
    /// The name its rows go under, after `ood:`: the source's name with
    /// every parameter that is set (`gaussian(mean=0.5,std=0.25)`,
    /// `dataset(name=mnist,n=2000)`).
    pub fn label(&self) -> String {
        let n = |n: &Option<usize>| n.map(|n| format!("n={n}"));
        let params: Vec<String> = match self {
            OodSource::HeldOutClasses(p) => n(&p.n).into_iter().collect(),
            OodSource::Dataset(p) => std::iter::once(format!("name={}", p.name.name()))
                .chain(n(&p.n))
                .collect(),
            OodSource::Uniform(p) => n(&p.n).into_iter().collect(),
            OodSource::Gaussian(p) => [format!("mean={}", p.mean), format!("std={}", p.std)]
                .into_iter()
                .chain(n(&p.n))
                .collect(),
        };
        if params.is_empty() {
            self.name().to_owned()
        } else {
            format!("{}({})", self.name(), params.join(","))
        }
    }
}

/// An L-inf budget past 1 allows any image.
fn check_attack(a: &AttackSpec, at: &[PathSeg]) -> Res<()> {
    match a {
        AttackSpec::Pgd(p) if p.norm == Norm::Linf => match p.eps.iter().position(|&e| e > 1.0) {
            Some(i) if p.eps.len() > 1 => fail(
                &join(&join(at, "eps"), i),
                format!("must be in [0, 1] for norm linf, got {}", p.eps[i]),
            ),
            Some(i) => fail(
                &join(at, "eps"),
                format!("must be in [0, 1] for norm linf, got {}", p.eps[i]),
            ),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// LID's `k` neighbours come from a minibatch of `batch` clean samples.
fn check_detector(d: &DetectorSpec, at: &[PathSeg]) -> Res<()> {
    match d {
        DetectorSpec::Lid(LidParams { k, batch, .. }) if k >= batch => fail(
            &join(at, "k"),
            format!("must be in 1..={}, got {k}", batch - 1),
        ),
        _ => Ok(()),
    }
}
