//! "AUROC at a glance": one row per (dataset, model, loss, attack), one
//! column per detector, the AUROC on successful adversarial examples as
//! mean ± std over seeds, the best mean of each row in bold. It answers the
//! report's main question (which detector flags a loss's adversarial
//! examples best) without reading the long detection table.

use std::collections::HashMap;

use super::metric::stat_cell;
use super::{one_line, Block, Table};
use crate::metrics::mean_std;
use crate::report::Order;
use crate::results::RunTables;

pub(super) const NOTE: &str = "AUROC at a glance: successful adversarial examples (the `auroc` column \
                               of the table below), one column per detector; in bold: the highest mean of \
                               the row (ties all bold); `–`: the detector did not apply (see \
                               [Skipped](#skipped)).";

type Key<'a> = [&'a str; 4];

/// The table, or `None` when no detector reported an AUROC.
pub(super) fn auroc_by_detector(t: &RunTables, order: &Order, scope: bool) -> Option<Block> {
    let mut rows: Vec<Key<'_>> = Vec::new();
    let mut detectors: Vec<&str> = Vec::new();
    let mut values: HashMap<(Key<'_>, &str), Vec<f64>> = HashMap::new();
    for r in &t.metrics {
        if r.metric != "auroc" || r.subset != "successful" || r.detector == "none" {
            continue;
        }
        let key = [
            r.dataset.as_str(),
            r.model.as_str(),
            r.loss.as_str(),
            r.attack.as_str(),
        ];
        if !rows.contains(&key) {
            rows.push(key);
        }
        if !detectors.contains(&r.detector.as_str()) {
            detectors.push(r.detector.as_str());
        }
        values
            .entry((key, r.detector.as_str()))
            .or_default()
            .push(r.value);
    }
    if rows.is_empty() {
        return None;
    }
    rows.sort_by_key(|k| order.key(k[0], k[1], k[2], k[3], ""));
    detectors.sort_by_key(|d| order.key("", "", "", "", d));

    let keys: &[usize] = if scope { &[0, 1, 2, 3] } else { &[2, 3] };
    let names = ["dataset", "model", "loss", "attack"];
    let mut head: Vec<String> = keys.iter().map(|&i| names[i].to_owned()).collect();
    let first_value = head.len();
    head.extend(detectors.iter().map(|d| (*d).to_owned()));

    let mut bold = Vec::new();
    let mut cells = Vec::new();
    for (r, key) in rows.iter().enumerate() {
        let mut row: Vec<String> = keys.iter().map(|&i| one_line(key[i])).collect();
        let seeds = detectors
            .iter()
            .filter_map(|d| values.get(&(*key, *d)).map(Vec::len))
            .max()
            .unwrap_or(0);
        let means: Vec<Option<f64>> = detectors
            .iter()
            // Rounded as shown (4 decimals), so cells that read alike are
            // tied.
            .map(|d| {
                values
                    .get(&(*key, *d))
                    .map(|v| (mean_std(v).0 * 1e4).round() / 1e4)
            })
            .collect();
        let best = means
            .iter()
            .flatten()
            .copied()
            .filter(|m| m.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        for (c, d) in detectors.iter().enumerate() {
            match values.get(&(*key, *d)) {
                Some(v) => {
                    row.push(stat_cell("auroc", v, seeds));
                    if means[c] == Some(best) {
                        bold.push((r, first_value + c));
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
        loss_column: Some(keys.len() - 2),
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
