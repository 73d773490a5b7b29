//! Checks across sections: settings that are each valid but do not work
//! together, and regression tolerances on metrics that are never gated.
//!
//! Without these a suite would validate, train for hours, and only then skip
//! a detector or drop a tolerance; here they fail before any training, placed
//! and named like every other suite error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::compare::{metric_info, Direction, METRICS};
use crate::data::DatasetName;

use super::spec::{LgmParams, MultistepParams};
use super::{DetectorSpec, LossSpec, ModelKind, OodSource, ScheduleSpec, Suite};
use crate::decl::locate::PathSeg;
use crate::decl::node::Node;
use crate::decl::{did_you_mean, fail, fail_at, join, quoted, Bounds, Interval, Place, Res, Value};

/// The metrics a tolerance can gate, in the table's order.
pub fn gateable_metrics() -> Vec<&'static str> {
    METRICS
        .iter()
        .filter(|m| m.direction != Direction::Informational)
        .map(|m| m.name)
        .collect()
}

/// Regression tolerances: metric name -> largest acceptable worsening
/// (absolute, in the metric's own units).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegressionSpec {
    pub tolerances: BTreeMap<String, f64>,
}

/// `regression:` is written as the map of tolerances itself; each name a
/// gateable metric, each tolerance >= 0.
impl Value for RegressionSpec {
    fn read(node: &Node, at: &[PathSeg], _: Bounds) -> Res<Self> {
        let entries: &[(String, Node)] = match node {
            Node::Map(entries) => entries,
            _ => {
                let found = node.found();
                return fail(
                    at,
                    format!("expected a map from metric name to tolerance, found {found}"),
                );
            }
        };
        let gateable = gateable_metrics();
        let mut tolerances = BTreeMap::new();
        for (metric, value) in entries {
            let here = join(at, metric.as_str());
            if tolerances.contains_key(metric) {
                return fail_at(
                    &here,
                    Place::RepeatedKey,
                    format!("duplicate field `{metric}`"),
                );
            }
            // The name is checked before the value.
            match metric_info(metric) {
                None => {
                    let hint = did_you_mean(metric, &gateable);
                    return fail_at(
                        &here,
                        Place::Key,
                        format!(
                            "unknown metric `{metric}`{hint}; a tolerance needs one of {}",
                            quoted(&gateable)
                        ),
                    );
                }
                Some(m) if m.direction == Direction::Informational => {
                    return fail_at(
                        &here,
                        Place::Key,
                        format!(
                            "`{metric}` is informational, never gated, so a tolerance on it has \
                             no effect; a tolerance needs one of {}",
                            quoted(&gateable)
                        ),
                    );
                }
                Some(_) => {}
            }
            let tolerance = f64::read(value, &here, Interval::AtLeast(0.0).into())?;
            tolerances.insert(metric.clone(), tolerance);
        }
        Ok(RegressionSpec { tolerances })
    }

    fn schema(_: Bounds) -> Json {
        let tolerance = f64::schema(Interval::AtLeast(0.0).into());
        let properties: serde_json::Map<String, Json> = gateable_metrics()
            .into_iter()
            .map(|m| (m.to_owned(), tolerance.clone()))
            .collect();
        json!({"type": "object", "properties": properties, "additionalProperties": false})
    }

    fn yaml(&self) -> Option<String> {
        None
    }
}

/// Settings of different sections that contradict each other; `root` is the
/// suite as written, for what the resolved suite no longer tells (whether a
/// section was written at all).
pub(super) fn check(suite: &Suite, root: &Node) -> Res<()> {
    let synthetic = suite.data.dataset == DatasetName::Synthetic;
    let written = |section: &str, key: &str| {
        root.get(section)
            .and_then(|s| s.get(key))
            .is_some_and(|v| *v != Node::Null)
    };
    if !synthetic && written("data", "synthetic") {
        return fail_at(
            &path!["data", "synthetic"],
            Place::Key,
            format!(
                "synthetic options are only allowed with `dataset: synthetic`, not `{}`",
                suite.data.dataset.name()
            ),
        );
    }
    if synthetic && suite.data.path.is_some() {
        return fail_at(
            &path!["data", "path"],
            Place::Key,
            "the synthetic dataset is generated, not read, so `path` is not used; remove it",
        );
    }
    let (side, min_side) = (suite.data.synthetic.side, suite.model.kind.min_side());
    if synthetic && side < min_side {
        return fail(
            &path!["data", "synthetic", "side"],
            format!(
                "`{}` needs images of at least {min_side}x{min_side} pixels (its pooling \
                 halves the side {} times), got {side}",
                suite.model.kind.name(),
                min_side.ilog2()
            ),
        );
    }
    epochs(suite)?;
    external(suite, root)?;

    if !suite.detectors.is_empty() && suite.attacks.is_empty() && suite.ood.is_empty() {
        return fail_at(
            &path!["detectors"],
            Place::Key,
            "detectors score adversarial examples or abnormal inputs, but neither `attacks` \
             nor `ood` lists any; add an attack or an abnormal source, or remove the detectors",
        );
    }
    ood(suite)?;
    // An adaptive attack targets a detector fitted for the job.
    for (i, attack) in suite.attacks.iter().enumerate() {
        let Some((target, _)) = crate::attacks::adaptive_target(attack) else {
            continue;
        };
        if !suite.detectors.iter().any(|d| d.name() == target.name()) {
            let name = target.name();
            return fail(
                &path!["attacks", i, attack.name(), "against"],
                format!(
                    "`{name}` is not among the suite's detectors; an adaptive attack targets \
                     a fitted detector, so add `{name}` to `detectors`"
                ),
            );
        }
    }
    for (i, detector) in suite.detectors.iter().enumerate() {
        // An external model's dropout is not lossbench's: the run skips
        // kd-bu for it and says why.
        if matches!(detector, DetectorSpec::KdBu(_))
            && suite.model.dropout == 0.0
            && suite.model.kind != ModelKind::Torchscript
        {
            // The BU feature is the spread of MC-dropout predictions;
            // without dropout they never vary (detect::build skips it).
            return fail(
                &path!["detectors", i],
                format!(
                    "`kd-bu` needs model dropout > 0 (its uncertainty feature uses MC \
                     dropout); set model.{}.dropout",
                    suite.model.kind.name()
                ),
            );
        }
    }
    Ok(())
}

/// An external model (`model: torchscript`): a `path` inside the suite's
/// directory, no backbone options, and the one loss `external`; `path`,
/// `sha256` and the loss `external` only with it.
fn external(suite: &Suite, root: &Node) -> Res<()> {
    let model = &suite.model;
    let name = model.kind.name();
    let torchscript = model.kind == ModelKind::Torchscript;
    let options = root.get("model").and_then(|m| m.get(name));
    let written = |key: &str| options.and_then(|o| o.get(key)).is_some();
    if !torchscript {
        for key in ["path", "sha256"] {
            if written(key) {
                return fail_at(
                    &path!["model", name, key],
                    Place::Key,
                    format!(
                        "`{key}` is for `torchscript` models only; `{name}` is built by lossbench"
                    ),
                );
            }
        }
        if let Some(i) = suite
            .losses
            .iter()
            .position(|l| l.spec == LossSpec::External)
        {
            return fail(
                &path!["losses", i],
                "`external` is the loss of an external model only; it needs \
                 `model: {torchscript: {path: ...}}`",
            );
        }
        return Ok(());
    }
    for key in ["feature-dim", "dropout"] {
        if written(key) {
            return fail_at(
                &path!["model", name, key],
                Place::Key,
                format!("`{key}` is not used by an external model (the file defines the model); remove it"),
            );
        }
    }
    let Some(file) = &model.path else {
        return fail(
            &path!["model", name],
            "`torchscript` needs `path`, the TorchScript file: `model: {torchscript: {path: \
             models/my_model.pt}}`",
        );
    };
    if let Err(why) = super::confined(file) {
        return fail(&path!["model", name, "path"], why);
    }
    if let Some(digest) = &model.sha256 {
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return fail(
                &path!["model", name, "sha256"],
                format!("must be 64 hexadecimal digits (a SHA-256), got `{digest}`"),
            );
        }
    }
    if suite.losses.len() != 1 || suite.losses[0].spec != LossSpec::External {
        return fail(
            &path!["losses"],
            "an external model is evaluated as it is, not trained: write `losses: [external]`",
        );
    }
    Ok(())
}

/// `n` noise images of the suite's image shape are drawn as doubles and
/// held as floats (12 bytes a pixel); like a dataset, they may take at most
/// half of this machine's memory.
fn noise_fits(suite: &Suite, n: usize, at: &[PathSeg]) -> Res<()> {
    let pixels = match suite.data.dataset {
        DatasetName::Cifar10 | DatasetName::Cifar100 | DatasetName::Svhn => 3 * 32 * 32,
        DatasetName::Synthetic => suite.data.synthetic.side.pow(2),
        DatasetName::Mnist | DatasetName::FashionMnist | DatasetName::Kmnist => 28 * 28,
    };
    let need = (n as u64).saturating_mul(pixels as u64).saturating_mul(12);
    match crate::device::host_memory_bytes() {
        Some(total) if need > total / 2 => {
            let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
            fail(
                at,
                format!(
                    "{n} noise images need about {:.1} GiB of memory; this machine has {:.1} GiB, \
                     and the abnormal inputs may take at most half",
                    gib(need),
                    gib(total)
                ),
            )
        }
        _ => Ok(()),
    }
}

/// The abnormal sources (docs/definitions.md §5): open-set needs classes
/// to hold out, and a synthetic dataset is no other dataset. (Two equal
/// sources, which would share a label, are refused as duplicates when the
/// list is read.)
fn ood(suite: &Suite) -> Res<()> {
    if let Some(classes) = &suite.data.classes {
        if classes.len() < 2 {
            return fail(
                &path!["data", "classes"],
                format!(
                    "a classifier needs at least 2 classes, got {}",
                    classes.len()
                ),
            );
        }
    }
    for (i, source) in suite.ood.iter().enumerate() {
        match source {
            OodSource::HeldOutClasses(_) if suite.data.classes.is_none() => {
                return fail(
                    &path!["ood", i],
                    "`held-out-classes` needs `data.classes`, the classes to train on; the \
                     test samples of the others are the abnormal inputs",
                );
            }
            OodSource::Dataset(p) if p.name == DatasetName::Synthetic => {
                return fail(
                    &path!["ood", i, "dataset", "name"],
                    "the synthetic dataset is no other dataset of the same images; use the \
                     `uniform` or `gaussian` source for noise",
                );
            }
            OodSource::Uniform(super::spec::UniformParams { n: Some(n) })
            | OodSource::Gaussian(super::spec::GaussianParams { n: Some(n), .. }) => {
                noise_fits(suite, *n, &path!["ood", i, source.name(), "n"])?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Epoch counts elsewhere that must not pass `train.epochs`: a milestone or
/// a warm-up that is never reached is nearly always a forgotten edit after
/// lowering `epochs`.
fn epochs(suite: &Suite) -> Res<()> {
    let epochs = suite.train.epochs;
    if let ScheduleSpec::Multistep(MultistepParams { milestones, .. }) = &suite.train.schedule {
        if let Some(i) = milestones.iter().position(|&m| m > epochs) {
            return fail(
                &path!["train", "schedule", "multistep", "milestones", i],
                format!(
                    "milestone {} is past the last epoch (train.epochs = {epochs})",
                    milestones[i]
                ),
            );
        }
    }
    for (i, loss) in suite.losses.iter().enumerate() {
        if let LossSpec::Lgm(LgmParams { warmup_epochs, .. }) = &loss.spec {
            if *warmup_epochs > epochs {
                return fail(
                    &path!["losses", i, "lgm", "warmup-epochs"],
                    format!("must be <= train.epochs ({epochs}), got {warmup_epochs}"),
                );
            }
        }
    }
    Ok(())
}
