//! Validation: the raw tree becomes a [`Suite`] with every default filled and
//! every value checked.
//!
//! The raw layer has already rejected unknown keys and wrong types; this stage
//! checks what a type cannot say (ranges, non-empty and duplicate-free lists,
//! options that only make sense together). Each failure names the field path
//! and is placed in the text by [`locate`], since the raw tree keeps no
//! positions. The defaults live in [`defaults`], which the catalog reads too,
//! so `lossbench list` always shows what validation fills in.

use std::path::Path;

use crate::data::{DataSpec, DatasetName, SyntheticSpec};

use super::locate::{self, PathSeg};
use super::raw::{
    Eps, RawAttack, RawData, RawDetector, RawLoss, RawModel, RawModelParams, RawOptimizer,
    RawSchedule, RawSuite, RawTrain,
};
use super::{
    AttackSpec, DetectorSpec, LossSpec, ModelKind, ModelSpec, OptimizerSpec, RegressionSpec,
    ScheduleSpec, Suite, TrainSpec,
};

/// Every default the suite format fills in (besides `SyntheticSpec::default()`).
pub mod defaults {
    use crate::suite::Covariance;

    /// `train.epochs`.
    pub const EPOCHS: usize = 5;
    /// `train.batch-size`.
    pub const BATCH_SIZE: usize = 128;
    /// `train.lr`.
    pub const LR: f64 = 1e-3;
    /// `train.weight-decay`.
    pub const WEIGHT_DECAY: f64 = 0.0;
    /// `train.augment`.
    pub const AUGMENT: bool = false;
    /// `model.*.feature-dim`.
    pub const FEATURE_DIM: usize = 64;
    /// `model.*.dropout`.
    pub const DROPOUT: f64 = 0.0;
    /// `optimizer.adam.beta1`.
    pub const ADAM_BETA1: f64 = 0.9;
    /// `optimizer.adam.beta2`.
    pub const ADAM_BETA2: f64 = 0.999;
    /// `optimizer.sgd.momentum`.
    pub const SGD_MOMENTUM: f64 = 0.9;
    /// `optimizer.sgd.nesterov`.
    pub const SGD_NESTEROV: bool = false;
    /// `schedule.step.gamma` and `schedule.multistep.gamma`.
    pub const SCHEDULE_GAMMA: f64 = 0.1;
    /// `losses[].center.lambda`.
    pub const CENTER_LAMBDA: f64 = 0.01;
    /// `losses[].center.alpha`.
    pub const CENTER_ALPHA: f64 = 0.5;
    /// `losses[].lsoftmax.m`.
    pub const LSOFTMAX_M: u32 = 2;
    /// `losses[].lsoftmax.beta-base`.
    pub const LSOFTMAX_BETA_BASE: f64 = 1000.0;
    /// `losses[].lsoftmax.gamma`.
    pub const LSOFTMAX_GAMMA: f64 = 2.5e-5;
    /// `losses[].lsoftmax.power`.
    pub const LSOFTMAX_POWER: f64 = 35.0;
    /// `losses[].lsoftmax.beta-min`.
    pub const LSOFTMAX_BETA_MIN: f64 = 0.0;
    /// `losses[].lgm.alpha`.
    pub const LGM_ALPHA: f64 = 0.1;
    /// `losses[].lgm.lambda`.
    pub const LGM_LAMBDA: f64 = 0.1;
    /// `losses[].lgm.covariance`.
    pub const LGM_COVARIANCE: Covariance = Covariance::Identity;
    /// `losses[].lgm.log-var-floor`.
    pub const LGM_LOG_VAR_FLOOR: f64 = -6.0;
    /// `losses[].lgm.warmup-epochs`.
    pub const LGM_WARMUP_EPOCHS: usize = 0;
    /// `attacks[].fgsm.eps`.
    pub const FGSM_EPS: &[f64] = &[0.1];
    /// `attacks[].bim.eps`.
    pub const BIM_EPS: &[f64] = &[0.1];
    /// `attacks[].bim.steps`.
    pub const BIM_STEPS: usize = 10;
    /// `attacks[].bim.stop`.
    pub const BIM_STOP: crate::suite::BimStop = crate::suite::BimStop::Last;
    /// `attacks[].deepfool.candidates`.
    pub const DEEPFOOL_CANDIDATES: usize = 10;
    /// `attacks[].deepfool.overshoot`.
    pub const DEEPFOOL_OVERSHOOT: f64 = 0.02;
    /// `attacks[].deepfool.max-iter`.
    pub const DEEPFOOL_MAX_ITER: usize = 50;
    /// `detectors[].kd.sigma` and `detectors[].kd-bu.sigma`.
    pub const KD_SIGMA: f64 = 1.0;
    /// `detectors[].kd-bu.samples`.
    pub const KD_BU_SAMPLES: usize = 50;
    /// `detectors[].lid.k`.
    pub const LID_K: usize = 20;
    /// `detectors[].lid.batch`.
    pub const LID_BATCH: usize = 100;
}

/// Checks `raw` and fills its defaults; `text` and `file` only serve to
/// place and name errors.
pub fn validate(raw: RawSuite, text: &str, file: &Path) -> crate::Result<Suite> {
    let cx = Cx { text, file };
    cx.name(&raw.name)?;
    let data = cx.data(raw.data)?;
    let model = cx.model(raw.model)?;
    let train = cx.train(raw.train.unwrap_or_default())?;

    if raw.losses.is_empty() {
        return Err(cx.fail(&path!["losses"], "must list at least one loss"));
    }
    let mut losses: Vec<LossSpec> = Vec::with_capacity(raw.losses.len());
    for (i, loss) in raw.losses.into_iter().enumerate() {
        let loss = cx.loss(i, loss, train.epochs)?;
        if let Some(first) = losses.iter().position(|l| *l == loss) {
            return Err(cx.fail(
                &path!["losses", i],
                format!("duplicate of losses[{first}] (same loss with the same parameters)"),
            ));
        }
        losses.push(loss);
    }

    if raw.seeds.is_empty() {
        return Err(cx.fail(&path!["seeds"], "must list at least one seed"));
    }
    if let Some((i, first)) = super::first_repeat(&raw.seeds) {
        return Err(cx.fail(
            &path!["seeds", i],
            format!("duplicate seed {} (also seeds[{first}])", raw.seeds[i]),
        ));
    }

    let mut attacks: Vec<AttackSpec> = Vec::new();
    for (i, attack) in raw.attacks.unwrap_or_default().into_iter().enumerate() {
        let attack = cx.attack(i, attack)?;
        if let Some(first) = attacks.iter().position(|a| *a == attack) {
            return Err(cx.fail(
                &path!["attacks", i],
                format!("duplicate of attacks[{first}]"),
            ));
        }
        attacks.push(attack);
    }

    let mut detectors: Vec<DetectorSpec> = Vec::new();
    for (i, detector) in raw.detectors.unwrap_or_default().into_iter().enumerate() {
        let detector = cx.detector(i, detector)?;
        if let Some(first) = detectors.iter().position(|d| *d == detector) {
            return Err(cx.fail(
                &path!["detectors", i],
                format!("duplicate of detectors[{first}]"),
            ));
        }
        detectors.push(detector);
    }

    let tolerances = raw.regression.unwrap_or_default().0;
    cx.tolerances(&tolerances)?;

    let suite = Suite {
        name: raw.name,
        description: raw.description.unwrap_or_default(),
        data,
        model,
        train,
        losses,
        seeds: raw.seeds,
        attacks,
        detectors,
        regression: RegressionSpec { tolerances },
    };
    // What only several sections together can say.
    cx.conflicts(&suite)?;
    Ok(suite)
}

/// `v` as a person writes it: plain, or in exponent form when very large or
/// very small (`1e-300`, not three hundred zeros).
fn number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || (1e-4..1e15).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

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
    /// `detectors[].kd.sigma` and `kd-bu.sigma`: outside it the kernel's
    /// `exp(−d²/σ²)` underflows or saturates for any feature distance,
    /// and every score is infinite.
    pub(in crate::suite) const KD_SIGMA: Interval = Interval::Between(1e-6, 1e6);
}

/// Where errors are placed and named.
pub(super) struct Cx<'a> {
    text: &'a str,
    file: &'a Path,
}

/// The allowed range of a real parameter; NaN is outside every range.
#[derive(Debug, Clone, Copy)]
pub(super) enum Interval {
    Finite,
    /// `> 0`
    Positive,
    /// `>= x`
    AtLeast(f64),
    /// `[0, 1)`
    UnitOpen,
    /// `(0, 1]`
    UnitLeftOpen,
    /// `[0, 1]`
    UnitClosed,
    /// `[lo, hi]`
    Between(f64, f64),
}

impl Interval {
    fn contains(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                Interval::Finite => true,
                Interval::Positive => v > 0.0,
                Interval::AtLeast(lo) => v >= lo,
                Interval::UnitOpen => (0.0..1.0).contains(&v),
                Interval::UnitLeftOpen => v > 0.0 && v <= 1.0,
                Interval::UnitClosed => (0.0..=1.0).contains(&v),
                Interval::Between(lo, hi) => (lo..=hi).contains(&v),
            }
    }

    fn describe(self) -> String {
        match self {
            Interval::Finite => "a finite number".to_owned(),
            Interval::Positive => "a finite number > 0".to_owned(),
            Interval::AtLeast(lo) => format!("a finite number >= {lo}"),
            Interval::UnitOpen => "in [0, 1)".to_owned(),
            Interval::UnitLeftOpen => "in (0, 1]".to_owned(),
            Interval::UnitClosed => "in [0, 1]".to_owned(),
            Interval::Between(lo, hi) => format!("in [{lo:e}, {hi:e}]"),
        }
    }
}

impl Cx<'_> {
    /// An error about the value at `path` (or, when it was not written, the
    /// key of the nearest section that was).
    pub(super) fn fail(&self, path: &[PathSeg], msg: impl Into<String>) -> crate::Error {
        let (line, column) = locate::locate_nearest(self.text, path, true);
        self.error(path, line, column, msg)
    }

    /// An error about the key at `path` itself (an option that is not
    /// allowed there), rather than its value.
    pub(super) fn fail_key(&self, path: &[PathSeg], msg: impl Into<String>) -> crate::Error {
        let (line, column) = locate::locate_nearest(self.text, path, false);
        self.error(path, line, column, msg)
    }

    fn error(
        &self,
        path: &[PathSeg],
        line: usize,
        column: usize,
        msg: impl Into<String>,
    ) -> crate::Error {
        crate::Error::Suite {
            file: self.file.to_path_buf(),
            line,
            column,
            field: locate::display(path),
            msg: msg.into(),
        }
    }

    pub(super) fn real(&self, path: &[PathSeg], v: f64, interval: Interval) -> crate::Result<f64> {
        if interval.contains(v) {
            Ok(v)
        } else {
            Err(self.fail(
                path,
                format!("must be {}, got {}", interval.describe(), number(v)),
            ))
        }
    }

    fn at_least(&self, path: &[PathSeg], v: usize, lo: usize) -> crate::Result<usize> {
        if v >= lo {
            Ok(v)
        } else {
            Err(self.fail(path, format!("must be >= {lo}, got {v}")))
        }
    }

    fn between(&self, path: &[PathSeg], v: usize, lo: usize, hi: usize) -> crate::Result<usize> {
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(self.fail(path, format!("must be in {lo}..={hi}, got {v}")))
        }
    }

    fn name(&self, name: &str) -> crate::Result<()> {
        if crate::results::is_plain_name(name) {
            Ok(())
        } else {
            // The name becomes a directory under results/ and reports/.
            Err(self.fail(
                &path!["name"],
                format!(
                    "`{name}` is not a valid suite name: use 1 to {} lowercase letters, \
                     digits, `_` and `-` (it names a directory)",
                    crate::results::MAX_NAME_LEN
                ),
            ))
        }
    }

    fn data(&self, raw: RawData) -> crate::Result<DataSpec> {
        let dataset = raw.dataset.0;
        for (key, subset) in [
            ("train-subset", raw.train_subset),
            ("test-subset", raw.test_subset),
            ("attack-subset", raw.attack_subset),
        ] {
            if let Some(n) = subset {
                self.between(&path!["data", key], n, 1, limits::SAMPLES)?;
            }
        }
        let synthetic = match raw.synthetic {
            None => SyntheticSpec::default(),
            Some(_) if dataset != DatasetName::Synthetic => {
                return Err(self.fail_key(
                    &path!["data", "synthetic"],
                    format!(
                        "synthetic options are only allowed with `dataset: synthetic`, not `{}`",
                        dataset.as_str()
                    ),
                ))
            }
            Some(s) => {
                let d = SyntheticSpec::default();
                let p = |key: &str| path!["data", "synthetic", key];
                SyntheticSpec {
                    seed: s.seed.unwrap_or(d.seed),
                    classes: self.between(&p("classes"), s.classes.unwrap_or(d.classes), 2, 10)?,
                    train: self.between(
                        &p("train"),
                        s.train.unwrap_or(d.train),
                        1,
                        limits::SYNTHETIC_SAMPLES,
                    )?,
                    test: self.between(
                        &p("test"),
                        s.test.unwrap_or(d.test),
                        1,
                        limits::SYNTHETIC_SAMPLES,
                    )?,
                    side: self.between(&p("side"), s.side.unwrap_or(d.side), 4, 64)?,
                }
            }
        };
        Ok(DataSpec {
            dataset,
            path: raw.path,
            train_subset: raw.train_subset,
            test_subset: raw.test_subset,
            attack_subset: raw.attack_subset,
            synthetic,
        })
    }

    fn model(&self, raw: RawModel) -> crate::Result<ModelSpec> {
        let (kind, params): (ModelKind, RawModelParams) = match raw {
            RawModel::Mlp(p) => (ModelKind::Mlp, p),
            RawModel::SmallCnn(p) => (ModelKind::SmallCnn, p),
            RawModel::Lenetpp(p) => (ModelKind::Lenetpp, p),
            RawModel::Resnet20(p) => (ModelKind::Resnet20, p),
            RawModel::Resnet32(p) => (ModelKind::Resnet32, p),
            RawModel::Resnet56(p) => (ModelKind::Resnet56, p),
        };
        let name = kind.name();
        let p = |key: &str| path!["model", name, key];
        Ok(ModelSpec {
            kind,
            feature_dim: self.between(
                &p("feature-dim"),
                params.feature_dim.unwrap_or(defaults::FEATURE_DIM),
                1,
                limits::FEATURE_DIM,
            )?,
            dropout: self.real(
                &p("dropout"),
                params.dropout.unwrap_or(defaults::DROPOUT),
                Interval::UnitOpen,
            )?,
        })
    }

    fn train(&self, raw: RawTrain) -> crate::Result<TrainSpec> {
        let p = |key: &str| path!["train", key];
        let epochs = self.between(
            &p("epochs"),
            raw.epochs.unwrap_or(defaults::EPOCHS),
            1,
            limits::EPOCHS,
        )?;
        let batch_size = self.between(
            &p("batch-size"),
            raw.batch_size.unwrap_or(defaults::BATCH_SIZE),
            1,
            limits::BATCH_SIZE,
        )?;
        let lr = self.real(&p("lr"), raw.lr.unwrap_or(defaults::LR), Interval::Positive)?;
        let weight_decay = self.real(
            &p("weight-decay"),
            raw.weight_decay.unwrap_or(defaults::WEIGHT_DECAY),
            Interval::AtLeast(0.0),
        )?;

        let optimizer = match raw.optimizer {
            None => OptimizerSpec::Adam {
                beta1: defaults::ADAM_BETA1,
                beta2: defaults::ADAM_BETA2,
            },
            Some(RawOptimizer::Adam(a)) => {
                let p = |key: &str| path!["train", "optimizer", "adam", key];
                OptimizerSpec::Adam {
                    beta1: self.real(
                        &p("beta1"),
                        a.beta1.unwrap_or(defaults::ADAM_BETA1),
                        Interval::UnitOpen,
                    )?,
                    beta2: self.real(
                        &p("beta2"),
                        a.beta2.unwrap_or(defaults::ADAM_BETA2),
                        Interval::UnitOpen,
                    )?,
                }
            }
            Some(RawOptimizer::Sgd(s)) => OptimizerSpec::Sgd {
                momentum: self.real(
                    &path!["train", "optimizer", "sgd", "momentum"],
                    s.momentum.unwrap_or(defaults::SGD_MOMENTUM),
                    Interval::UnitOpen,
                )?,
                nesterov: s.nesterov.unwrap_or(defaults::SGD_NESTEROV),
            },
        };

        let schedule = match raw.schedule {
            None | Some(RawSchedule::Constant(_)) => ScheduleSpec::Constant,
            Some(RawSchedule::Cosine(_)) => ScheduleSpec::Cosine,
            Some(RawSchedule::Step(s)) => {
                let p = |key: &str| path!["train", "schedule", "step", key];
                let step_size = s.step_size.ok_or_else(|| {
                    self.fail(
                        &p("step-size"),
                        "missing field `step-size`: write `schedule: {step: {step-size: N}}`",
                    )
                })?;
                ScheduleSpec::Step {
                    step_size: self.at_least(&p("step-size"), step_size, 1)?,
                    gamma: self.real(
                        &p("gamma"),
                        s.gamma.unwrap_or(defaults::SCHEDULE_GAMMA),
                        Interval::UnitLeftOpen,
                    )?,
                }
            }
            Some(RawSchedule::Multistep(m)) => {
                let p = |key: &str| path!["train", "schedule", "multistep", key];
                let milestones = m.milestones.ok_or_else(|| {
                    self.fail(
                        &p("milestones"),
                        "missing field `milestones`: write `schedule: {multistep: {milestones: \
                         [E1, E2, ...]}}`",
                    )
                })?;
                self.milestones(&p("milestones"), &milestones, epochs)?;
                ScheduleSpec::Multistep {
                    milestones,
                    gamma: self.real(
                        &p("gamma"),
                        m.gamma.unwrap_or(defaults::SCHEDULE_GAMMA),
                        Interval::UnitLeftOpen,
                    )?,
                }
            }
        };

        Ok(TrainSpec {
            epochs,
            batch_size,
            optimizer,
            lr,
            schedule,
            weight_decay,
            augment: raw.augment.unwrap_or(defaults::AUGMENT),
        })
    }

    fn milestones(&self, at: &[PathSeg], milestones: &[usize], epochs: usize) -> crate::Result<()> {
        if milestones.is_empty() {
            return Err(self.fail(at, "must list at least one epoch"));
        }
        let elem = |i: usize| {
            let mut p = at.to_vec();
            p.push(PathSeg::Index(i));
            p
        };
        for (i, &m) in milestones.iter().enumerate() {
            self.at_least(&elem(i), m, 1)?;
            if i > 0 && m <= milestones[i - 1] {
                return Err(self.fail(
                    &elem(i),
                    format!(
                        "milestones must be strictly increasing, but {m} follows {}",
                        milestones[i - 1]
                    ),
                ));
            }
            if m > epochs {
                // A milestone that is never reached is nearly always a
                // forgotten edit after lowering `epochs`.
                return Err(self.fail(
                    &elem(i),
                    format!("milestone {m} is past the last epoch (train.epochs = {epochs})"),
                ));
            }
        }
        Ok(())
    }

    fn loss(&self, i: usize, raw: RawLoss, epochs: usize) -> crate::Result<LossSpec> {
        Ok(match raw {
            RawLoss::Softmax(_) => LossSpec::Softmax,
            RawLoss::Center(c) => {
                let p = |key: &str| path!["losses", i, "center", key];
                LossSpec::Center {
                    lambda: self.real(
                        &p("lambda"),
                        c.lambda.unwrap_or(defaults::CENTER_LAMBDA),
                        Interval::AtLeast(0.0),
                    )?,
                    alpha: self.real(
                        &p("alpha"),
                        c.alpha.unwrap_or(defaults::CENTER_ALPHA),
                        Interval::UnitLeftOpen,
                    )?,
                }
            }
            RawLoss::Lsoftmax(l) => {
                let p = |key: &str| path!["losses", i, "lsoftmax", key];
                let m = l.m.unwrap_or(defaults::LSOFTMAX_M);
                if !(1..=4).contains(&m) {
                    return Err(self.fail(&p("m"), format!("must be in 1..=4, got {m}")));
                }
                let non_negative = |key: &str, v: Option<f64>, default: f64| {
                    self.real(&p(key), v.unwrap_or(default), Interval::AtLeast(0.0))
                };
                LossSpec::Lsoftmax {
                    m,
                    beta_base: non_negative(
                        "beta-base",
                        l.beta_base,
                        defaults::LSOFTMAX_BETA_BASE,
                    )?,
                    gamma: non_negative("gamma", l.gamma, defaults::LSOFTMAX_GAMMA)?,
                    power: non_negative("power", l.power, defaults::LSOFTMAX_POWER)?,
                    beta_min: non_negative("beta-min", l.beta_min, defaults::LSOFTMAX_BETA_MIN)?,
                }
            }
            RawLoss::Lgm(l) => {
                let p = |key: &str| path!["losses", i, "lgm", key];
                let warmup_epochs = l.warmup_epochs.unwrap_or(defaults::LGM_WARMUP_EPOCHS);
                if warmup_epochs > epochs {
                    return Err(self.fail(
                        &p("warmup-epochs"),
                        format!("must be <= train.epochs ({epochs}), got {warmup_epochs}"),
                    ));
                }
                LossSpec::Lgm {
                    alpha: self.real(
                        &p("alpha"),
                        l.alpha.unwrap_or(defaults::LGM_ALPHA),
                        Interval::AtLeast(0.0),
                    )?,
                    lambda: self.real(
                        &p("lambda"),
                        l.lambda.unwrap_or(defaults::LGM_LAMBDA),
                        Interval::AtLeast(0.0),
                    )?,
                    covariance: l.covariance.unwrap_or(defaults::LGM_COVARIANCE),
                    log_var_floor: self.real(
                        &p("log-var-floor"),
                        l.log_var_floor.unwrap_or(defaults::LGM_LOG_VAR_FLOOR),
                        Interval::Finite,
                    )?,
                    warmup_epochs,
                }
            }
        })
    }

    /// A list of eps values at `at`, each in [0, 1], distinct, non-empty.
    fn eps(&self, at: &[PathSeg], written: Eps) -> crate::Result<Vec<f64>> {
        let eps = written.values();
        if eps.is_empty() {
            return Err(self.fail(at, "must list at least one eps"));
        }
        for (j, &e) in eps.iter().enumerate() {
            let mut p = at.to_vec();
            if let Eps::List(_) = written {
                p.push(PathSeg::Index(j));
            }
            self.real(&p, e, Interval::UnitClosed)?;
            if let Some(first) = eps[..j].iter().position(|&x| x == e) {
                return Err(self.fail(&p, format!("duplicate eps {e} (also eps[{first}])")));
            }
        }
        Ok(eps)
    }

    fn attack(&self, i: usize, raw: RawAttack) -> crate::Result<AttackSpec> {
        match raw {
            RawAttack::Fgsm(f) => {
                let written = f
                    .eps
                    .unwrap_or_else(|| Eps::List(defaults::FGSM_EPS.to_vec()));
                let eps = self.eps(&path!["attacks", i, "fgsm", "eps"], written)?;
                Ok(AttackSpec::Fgsm { eps })
            }
            RawAttack::Bim(b) => {
                let p = |key: &str| path!["attacks", i, "bim", key];
                let written = b
                    .eps
                    .unwrap_or_else(|| Eps::List(defaults::BIM_EPS.to_vec()));
                let eps = self.eps(&p("eps"), written)?;
                let step_size = match b.step_size {
                    Some(a) => Some(self.real(&p("step-size"), a, Interval::UnitLeftOpen)?),
                    None => None,
                };
                Ok(AttackSpec::Bim {
                    eps,
                    step_size,
                    steps: self.at_least(&p("steps"), b.steps.unwrap_or(defaults::BIM_STEPS), 1)?,
                    stop: b.stop.unwrap_or(defaults::BIM_STOP),
                })
            }
            RawAttack::Deepfool(d) => {
                let p = |key: &str| path!["attacks", i, "deepfool", key];
                Ok(AttackSpec::Deepfool {
                    candidates: self.at_least(
                        &p("candidates"),
                        d.candidates.unwrap_or(defaults::DEEPFOOL_CANDIDATES),
                        2,
                    )?,
                    overshoot: self.real(
                        &p("overshoot"),
                        d.overshoot.unwrap_or(defaults::DEEPFOOL_OVERSHOOT),
                        Interval::AtLeast(0.0),
                    )?,
                    max_iter: self.at_least(
                        &p("max-iter"),
                        d.max_iter.unwrap_or(defaults::DEEPFOOL_MAX_ITER),
                        1,
                    )?,
                })
            }
        }
    }

    fn detector(&self, i: usize, raw: RawDetector) -> crate::Result<DetectorSpec> {
        Ok(match raw {
            RawDetector::MaxSoftmax(_) => DetectorSpec::MaxSoftmax,
            RawDetector::LgmLikelihood(_) => DetectorSpec::LgmLikelihood,
            RawDetector::Mahalanobis(_) => DetectorSpec::Mahalanobis,
            RawDetector::Kd(k) => DetectorSpec::Kd {
                sigma: self.real(
                    &path!["detectors", i, "kd", "sigma"],
                    k.sigma.unwrap_or(defaults::KD_SIGMA),
                    limits::KD_SIGMA,
                )?,
            },
            RawDetector::KdBu(k) => {
                let p = |key: &str| path!["detectors", i, "kd-bu", key];
                DetectorSpec::KdBu {
                    sigma: self.real(
                        &p("sigma"),
                        k.sigma.unwrap_or(defaults::KD_SIGMA),
                        limits::KD_SIGMA,
                    )?,
                    samples: self.at_least(
                        &p("samples"),
                        k.samples.unwrap_or(defaults::KD_BU_SAMPLES),
                        2,
                    )?,
                }
            }
            RawDetector::Lid(l) => {
                let p = |key: &str| path!["detectors", i, "lid", key];
                let batch =
                    self.at_least(&p("batch"), l.batch.unwrap_or(defaults::LID_BATCH), 2)?;
                let k = self.between(&p("k"), l.k.unwrap_or(defaults::LID_K), 1, batch - 1)?;
                DetectorSpec::Lid { k, batch }
            }
        })
    }
}
