//! Checks across sections: settings that are each valid but do not work
//! together, and regression tolerances on metrics that are never gated.
//!
//! Without these a suite would validate, train for hours, and only then skip
//! a detector or drop a tolerance; here they fail before any training, placed
//! and named like every other suite error.

use std::collections::BTreeMap;

use crate::compare::{metric_info, Direction, METRICS};
use crate::data::DatasetName;

use super::validate::{Cx, Interval};
use super::wording::{closest, quoted};
use super::{DetectorSpec, Suite};

/// The metrics a tolerance can gate, in the table's order.
pub fn gateable_metrics() -> Vec<&'static str> {
    METRICS
        .iter()
        .filter(|m| m.direction != Direction::Informational)
        .map(|m| m.name)
        .collect()
}

impl Cx<'_> {
    /// `regression:`: each name a gateable metric, each tolerance >= 0.
    pub(super) fn tolerances(&self, tolerances: &BTreeMap<String, f64>) -> crate::Result<()> {
        let gateable = gateable_metrics();
        for (metric, tolerance) in tolerances {
            let at = path!["regression", metric.as_str()];
            match metric_info(metric) {
                None => {
                    let hint = closest(metric, &gateable)
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                    return Err(self.fail_key(
                        &at,
                        format!(
                            "unknown metric `{metric}`{hint}; a tolerance needs one of {}",
                            quoted(&gateable)
                        ),
                    ));
                }
                Some(m) if m.direction == Direction::Informational => {
                    return Err(self.fail_key(
                        &at,
                        format!(
                            "`{metric}` is informational, never gated, so a tolerance on it has \
                             no effect; a tolerance needs one of {}",
                            quoted(&gateable)
                        ),
                    ));
                }
                Some(_) => {}
            }
            self.real(&at, *tolerance, Interval::AtLeast(0.0))?;
        }
        Ok(())
    }

    /// Settings of different sections that contradict each other.
    pub(super) fn conflicts(&self, suite: &Suite) -> crate::Result<()> {
        if suite.data.dataset == DatasetName::Synthetic && suite.data.path.is_some() {
            return Err(self.fail_key(
                &path!["data", "path"],
                "the synthetic dataset is generated, not read, so `path` is not used; remove it",
            ));
        }
        let (side, min_side) = (suite.data.synthetic.side, suite.model.kind.min_side());
        if suite.data.dataset == DatasetName::Synthetic && side < min_side {
            return Err(self.fail(
                &path!["data", "synthetic", "side"],
                format!(
                    "`{}` needs images of at least {min_side}x{min_side} pixels (its pooling \
                     halves the side {} times), got {side}",
                    suite.model.kind.name(),
                    min_side.ilog2()
                ),
            ));
        }

        // Two variants of one loss: every results table keys its rows by the
        // loss name, so their runs would be pooled as if they were seeds.
        // (Identical entries were already refused as duplicates.)
        for (j, loss) in suite.losses.iter().enumerate() {
            if let Some(first) = suite.losses[..j]
                .iter()
                .position(|l| l.name() == loss.name())
            {
                return Err(self.fail(
                    &path!["losses", j],
                    format!(
                        "a second `{name}` loss (losses[{first}] is `{name}` too): results are \
                         keyed by loss name, so the two variants would be merged as if they \
                         were seeds of one; compare variants with one suite per variant",
                        name = loss.name()
                    ),
                ));
            }
        }

        if !suite.detectors.is_empty() && suite.attacks.is_empty() {
            return Err(self.fail_key(
                &path!["detectors"],
                "detectors score adversarial examples, but `attacks` lists none; add an attack \
                 or remove the detectors",
            ));
        }

        for (i, detector) in suite.detectors.iter().enumerate() {
            if matches!(detector, DetectorSpec::KdBu { .. }) && suite.model.dropout == 0.0 {
                // The BU feature is the spread of MC-dropout predictions;
                // without dropout they never vary (detect::build skips it).
                return Err(self.fail(
                    &path!["detectors", i],
                    format!(
                        "`kd-bu` needs model dropout > 0 (its uncertainty feature uses MC \
                         dropout); set model.{}.dropout",
                        suite.model.kind.name()
                    ),
                ));
            }
        }
        Ok(())
    }
}
