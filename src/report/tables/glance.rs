//! "AUROC at a glance": one row per (dataset, model, loss, attack), one
//! column per detector, the AUROC on successful adversarial examples as
//! mean ± std over seeds, the best mean of each row in bold. It answers the
//! report's main question (which detector flags a loss's adversarial
//! examples best) without reading the long detection table.

use super::metric::{group, key_cell, key_columns, key_head, loss_column, stat_cell, Layout};
use super::{Block, Table};
use crate::compare::{direction, Direction};
use crate::metrics::mean_std;
use crate::report::Order;
use crate::results::{RunTables, OOD_SUBSET};

pub(super) const NOTE: &str = "AUROC at a glance: successful adversarial examples (the `auroc` column \
                               of the table below), one column per detector; in bold: the highest mean of \
                               the row (ties all bold); `–`: the detector did not apply (see \
                               [Skipped](#skipped)).";

pub(super) const DEFENDED_NOTE: &str = "Defended accuracy at a glance: per attack, `robust_acc` \
    (no detector) and, per detector, `defended_acc`: the share of the attacked population \
    classified correctly after the attack or flagged by the detector at the threshold that flags \
    5 % of the held-out clean samples (docs/definitions.md §3.3); in bold: the highest mean of the \
    row. An adaptive attack (`against=`) is the row after its non-adaptive twin.";

/// The AUROC table, or `None` when no detector reported an AUROC.
pub(super) fn auroc_by_detector(t: &RunTables, order: &Order, scope: bool) -> Option<Block> {
    by_detector(t, order, scope, &["auroc"], "successful")
}

/// The defended-accuracy table, each attack's `robust_acc` first, or
/// `None` when no detector reported a defended accuracy.
pub(super) fn defended_by_detector(t: &RunTables, order: &Order, scope: bool) -> Option<Block> {
    by_detector(t, order, scope, &["defended_acc", "robust_acc"], "all")
}

/// The abnormal-input table of `metric` (`auroc` or `fpr_at_95tpr`): one row
/// per (dataset, model, loss, source), one column per detector; `None` when
/// the run has no abnormal inputs (docs/definitions.md §5).
pub(super) fn ood_by_detector(
    t: &RunTables,
    order: &Order,
    scope: bool,
    metric: &str,
) -> Option<Block> {
    let metrics: &'static [&'static str] = match metric {
        "fpr_at_95tpr" => &["fpr_at_95tpr"],
        _ => &["auroc"],
    };
    by_detector(t, order, scope, metrics, OOD_SUBSET)
}

/// One row per (dataset, model, loss, attack) that a detector reported
/// `metrics[0]` of `subset` for, one column per detector, after a column of
/// the attack's own `metrics[1]` (detector `none`) when it is given.
fn by_detector(
    t: &RunTables,
    order: &Order,
    scope: bool,
    metrics: &'static [&'static str],
    subset: &str,
) -> Option<Block> {
    let (metric, baseline) = (metrics[0], metrics.get(1).copied());
    // One group per (dataset, model, loss, attack, detector), in report
    // order; a table row per (dataset, model, loss, attack).
    let by_detector = Layout {
        scope,
        attack: true,
        detector: true,
        preferred: metrics,
        only_preferred: true,
    };
    let per_row = Layout {
        detector: false,
        ..by_detector
    };
    let (groups, _) = group(t, order, &by_detector, |r| {
        (r.detector != "none" && r.subset == subset && r.metric == metric)
            || (r.detector == "none" && Some(r.metric.as_str()) == baseline)
    });
    let mut rows: Vec<[&str; 4]> = Vec::new();
    let mut detectors: Vec<&str> = Vec::new();
    for g in groups.iter().filter(|g| g.key[4] != "none") {
        let row = [g.key[0], g.key[1], g.key[2], g.key[3]];
        if !rows.contains(&row) {
            rows.push(row);
        }
        if !detectors.contains(&g.key[4]) {
            detectors.push(g.key[4]);
        }
    }
    if rows.is_empty() {
        return None;
    }
    detectors.sort_by_key(|d| order.key("", "", "", "", d));
    let value = |row: &[&str; 4], detector: &str| {
        let m = if detector == "none" {
            baseline?
        } else {
            metric
        };
        groups
            .iter()
            .find(|g| g.key[..4] == row[..] && g.key[4] == detector)
            .and_then(|g| g.values.get(m))
    };

    let mut head = key_head(&per_row);
    let first_value = head.len();
    if let Some(b) = baseline {
        head.push(format!("{b} (no detector)"));
    }
    head.extend(detectors.iter().map(|d| (*d).to_owned()));

    let mut bold = Vec::new();
    let mut cells = Vec::new();
    for (r, key) in rows.iter().enumerate() {
        let mut row: Vec<String> = key_columns(&per_row)
            .iter()
            .map(|&i| key_cell(order, i, key[i]))
            .collect();
        if let Some(b) = baseline {
            let v = value(key, "none");
            let seeds = v.map_or(0, Vec::len);
            row.push(v.map_or_else(|| "–".to_owned(), |v| stat_cell(b, v, seeds)));
        }
        let shift = usize::from(baseline.is_some());
        let values: Vec<Option<&Vec<f64>>> = detectors.iter().map(|d| value(key, d)).collect();
        let seeds = values.iter().flatten().map(|v| v.len()).max().unwrap_or(0);
        // Rounded as shown (4 decimals), so cells that read alike are tied.
        let means: Vec<Option<f64>> = values
            .iter()
            .map(|v| v.map(|v| (mean_std(v).0 * 1e4).round() / 1e4))
            .collect();
        // The best mean: the lowest for a lower-is-better metric.
        let lower = direction(metric) == Direction::LowerIsBetter;
        let finite = means.iter().flatten().copied().filter(|m| m.is_finite());
        let best = if lower {
            finite.fold(f64::INFINITY, f64::min)
        } else {
            finite.fold(f64::NEG_INFINITY, f64::max)
        };
        for (c, v) in values.iter().enumerate() {
            match v {
                Some(v) => {
                    row.push(stat_cell(metric, v, seeds));
                    if means[c] == Some(best) {
                        bold.push((r, first_value + shift + c));
                    }
                }
                None => row.push("–".to_owned()),
            }
        }
        cells.push(row);
    }
    Some(Block::Table(Table {
        head,
        rows: cells,
        first_value,
        loss_column: loss_column(&per_row),
        bold,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::MetricRow;

    fn auroc(loss: &str, seed: u64, detector: &str, subset: &str, value: f64) -> MetricRow {
        MetricRow {
            job_id: format!("{loss}{seed}"),
            dataset: "d".into(),
            model: "m".into(),
            loss: loss.into(),
            seed,
            attack: "fgsm(eps=0.1)".into(),
            detector: detector.into(),
            subset: subset.into(),
            metric: "auroc".into(),
            value,
        }
    }

    #[test]
    fn one_column_per_detector_and_the_best_mean_in_bold() {
        let mut t = RunTables::default();
        for (seed, a, b) in [(0, 0.70, 0.90), (1, 0.80, 0.70)] {
            // softmax: max-softmax 0.75 ± 0.0707, kd 0.80 ± 0.1414 (best).
            t.metrics
                .push(auroc("softmax", seed, "max-softmax", "successful", a));
            t.metrics
                .push(auroc("softmax", seed, "kd", "successful", b));
            // The "all" subset is not this table's.
            t.metrics.push(auroc("softmax", seed, "kd", "all", 0.99));
            // lgm: only max-softmax and lgm-likelihood, the latter best.
            t.metrics
                .push(auroc("lgm", seed, "max-softmax", "successful", 0.6));
            t.metrics
                .push(auroc("lgm", seed, "lgm-likelihood", "successful", 0.9));
        }
        let order = Order::new(&t);
        let Some(Block::Table(table)) = auroc_by_detector(&t, &order, false) else {
            panic!("no table");
        };
        assert_eq!(
            table.head,
            ["loss", "attack", "max-softmax", "kd", "lgm-likelihood"]
        );
        assert_eq!(
            table.rows[0],
            [
                "softmax",
                "fgsm(eps=0.1)",
                "0.7500 ± 0.0707",
                "0.8000 ± 0.1414",
                "–"
            ]
        );
        assert_eq!(
            table.rows[1],
            [
                "lgm",
                "fgsm(eps=0.1)",
                "0.6000 ± 0.0000",
                "–",
                "0.9000 ± 0.0000"
            ]
        );
        assert_eq!(table.bold, [(0, 3), (1, 4)]);
        assert_eq!(table.loss_column, Some(0));

        // Means that print alike (4 decimals) are tied: both bold.
        let mut tie = RunTables::default();
        tie.metrics
            .push(auroc("lgm", 0, "kd", "successful", 0.750_04));
        tie.metrics
            .push(auroc("lgm", 0, "lid", "successful", 0.750_01));
        tie.metrics
            .push(auroc("lgm", 0, "max-softmax", "successful", 0.7499));
        let Some(Block::Table(table)) = auroc_by_detector(&tie, &Order::new(&tie), false) else {
            panic!("no table");
        };
        let bold: Vec<&str> = table
            .bold
            .iter()
            .map(|&(_, c)| table.head[c].as_str())
            .collect();
        assert_eq!(bold, ["kd", "lid"], "{table:?}");

        let none = RunTables::default();
        assert!(auroc_by_detector(&none, &Order::new(&none), false).is_none());
    }
}
