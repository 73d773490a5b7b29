//! The metric and timing tables: rows of the `metrics` (and `jobs`,
//! `train_log`) tables grouped by (dataset, model, loss[, attack]
//! [, detector]) and aggregated over seeds into text cells.

use std::collections::HashMap;

use super::{one_line, Block, Table};
use crate::metrics::mean_std;
use crate::report::Order;
use crate::results::{JobStatus, MetricRow, RunTables};

/// Attack metrics shown first, in this order; others of the same rows
/// follow in order of first appearance.
pub(super) const ATTACK_METRICS: [&str; 7] = [
    "robust_acc",
    "asr",
    "l2_mean",
    "l2_median",
    "linf_mean",
    "iters_mean",
    "n_eval",
];
/// Timings: kept out of the attack table, shown as means in their own.
pub(super) const TIMING_METRICS: [&str; 2] = ["seconds", "images_per_s"];
/// `auroc_ci_low` stands for the interval column; `auroc_ci_high` joins it.
pub(super) const DETECTION_METRICS: [&str; 6] = [
    "auroc",
    "fpr_at_95tpr",
    "aupr",
    "det_acc",
    "auroc_ci_low",
    "n_pairs",
];
const CI_LOW: &str = "auroc_ci_low";
const CI_HIGH: &str = "auroc_ci_high";

/// Which key columns a table has and which metrics become columns.
pub(super) struct Layout<'a> {
    /// Dataset and model columns; left out when the whole run has one pair
    /// (the header names it).
    pub(super) scope: bool,
    pub(super) attack: bool,
    pub(super) detector: bool,
    pub(super) preferred: &'a [&'a str],
    /// Show only the `preferred` metrics.
    pub(super) only_preferred: bool,
}

/// One table row: the key and every metric's values across seeds.
pub(super) struct Group<'a> {
    pub(super) key: [&'a str; 5],
    pub(super) values: HashMap<&'a str, Vec<f64>>,
}

/// Groups the rows selected by `select` by (dataset, model, loss[, attack]
/// [, detector]) in report order, and lists the metrics that occur: the
/// preferred ones first, then the others in order of first appearance.
pub(super) fn group<'a>(
    t: &'a RunTables,
    order: &Order,
    layout: &Layout<'_>,
    select: impl Fn(&MetricRow) -> bool,
) -> (Vec<Group<'a>>, Vec<&'a str>) {
    let mut groups: Vec<Group<'a>> = Vec::new();
    let mut index: HashMap<[&str; 5], usize> = HashMap::new();
    let mut extra: Vec<&'a str> = Vec::new();
    let mut seen: Vec<&'a str> = Vec::new();
    for r in t.metrics.iter().filter(|r| select(r)) {
        let metric = r.metric.as_str();
        if !layout.preferred.contains(&metric) {
            if layout.only_preferred {
                continue;
            }
            if !extra.contains(&metric) && metric != CI_HIGH {
                extra.push(metric);
            }
        }
        if !seen.contains(&metric) {
            seen.push(metric);
        }
        let key = [
            r.dataset.as_str(),
            r.model.as_str(),
            r.loss.as_str(),
            if layout.attack { r.attack.as_str() } else { "" },
            if layout.detector {
                r.detector.as_str()
            } else {
                ""
            },
        ];
        let i = *index.entry(key).or_insert_with(|| {
            groups.push(Group {
                key,
                values: HashMap::new(),
            });
            groups.len() - 1
        });
        groups[i].values.entry(metric).or_default().push(r.value);
    }
    groups.sort_by_key(|g| order.key(g.key[0], g.key[1], g.key[2], g.key[3], g.key[4]));
    let metrics = layout
        .preferred
        .iter()
        .filter_map(|p| seen.iter().find(|s| *s == p).copied())
        .chain(extra)
        .collect();
    (groups, metrics)
}

/// The key columns shown, as indices into a group's key.
pub(super) fn key_columns(layout: &Layout<'_>) -> Vec<usize> {
    let mut cols = if layout.scope { vec![0, 1, 2] } else { vec![2] };
    if layout.attack {
        cols.push(3);
    }
    if layout.detector {
        cols.push(4);
    }
    cols
}

const KEY_NAMES: [&str; 5] = ["dataset", "model", "loss", "attack", "detector"];

pub(super) fn key_head(layout: &Layout<'_>) -> Vec<String> {
    key_columns(layout)
        .iter()
        .map(|&i| KEY_NAMES[i].to_owned())
        .collect()
}

/// The text of key column `i` (of [`KEY_NAMES`]) for `value`: the loss
/// with its L-GM covariance ([`Order::loss_label`]), any other key on one line.
pub(super) fn key_cell(order: &Order, i: usize, value: &str) -> String {
    if i == 2 {
        one_line(&order.loss_label(value))
    } else {
        one_line(value)
    }
}

/// The place of the loss column among the shown keys.
pub(super) fn loss_column(layout: &Layout<'_>) -> Option<usize> {
    key_columns(layout).iter().position(|&i| i == 2)
}

/// A table of the rows selected by `select`: one row per (dataset, model,
/// loss[, attack][, detector]), one column per metric; `_None recorded._`
/// when nothing is selected.
pub(super) fn metric_table(
    t: &RunTables,
    order: &Order,
    layout: &Layout<'_>,
    select: impl Fn(&MetricRow) -> bool,
) -> Block {
    let (groups, metrics) = group(t, order, layout, select);
    if groups.is_empty() {
        return Block::Text("_None recorded._".into());
    }
    let mut head = key_head(layout);
    let first_value = head.len();
    head.push("seeds".to_owned());
    head.extend(metrics.iter().map(|m| match *m {
        CI_LOW => "auroc 95 % CI".to_owned(),
        other => other.to_owned(),
    }));
    let rows = groups
        .iter()
        .map(|g| {
            let mut cells: Vec<String> = key_columns(layout)
                .iter()
                .map(|&i| key_cell(order, i, g.key[i]))
                .collect();
            // The row's seeds: the most any of its metrics has.
            let seeds = g.values.values().map(Vec::len).max().unwrap_or(0);
            cells.push(seeds.to_string());
            for m in &metrics {
                let cell = match (*m, g.values.get(m)) {
                    (CI_LOW, Some(low)) => match g.values.get(CI_HIGH) {
                        Some(high) => ci_cell(low, high),
                        None => stat_cell(CI_LOW, low, seeds),
                    },
                    (_, Some(v)) => stat_cell(m, v, seeds),
                    (_, None) => "–".to_owned(),
                };
                cells.push(cell);
            }
            cells
        })
        .collect();
    Block::Table(Table {
        head,
        rows,
        first_value,
        loss_column: loss_column(layout),
        bold: Vec::new(),
    })
}

/// `mean ± std` with 4 decimals, the mean alone for one seed, counts
/// (`n_…`) as integers when every seed agrees; `(n=…)` follows when fewer
/// than the row's `seeds` reported the metric.
pub(crate) fn stat_cell(metric: &str, values: &[f64], seeds: usize) -> String {
    let (mean, std, n) = mean_std(values);
    let suffix = if n == seeds {
        String::new()
    } else {
        format!(" (n={n})")
    };
    let count = metric.starts_with("n_") && values.iter().all(|v| v.fract() == 0.0);
    if count && values.iter().all(|v| *v == values[0]) {
        format!("{mean:.0}{suffix}")
    } else if count {
        format!("{mean:.1} ± {std:.1}{suffix}")
    } else if n == 1 {
        format!("{mean:.4}{suffix}")
    } else {
        format!("{mean:.4} ± {std:.4}{suffix}")
    }
}

/// `[low, high]`: both bounds averaged over seeds.
fn ci_cell(low: &[f64], high: &[f64]) -> String {
    let (lo, _, _) = mean_std(low);
    let (hi, _, _) = mean_std(high);
    format!("[{lo:.4}, {hi:.4}]")
}

/// Mean with a fixed number of decimals, `–` for no values.
fn mean_cell(values: &[f64], decimals: usize) -> String {
    if values.is_empty() {
        return "–".into();
    }
    let (mean, _, _) = mean_std(values);
    format!("{mean:.decimals$}")
}

/// Training and evaluation time per (dataset, model, loss) over finished
/// jobs, with the training throughput from the train log.
pub(super) fn training_timing(t: &RunTables, order: &Order, scope: bool) -> Block {
    let mut groups: Vec<([&str; 3], [Vec<f64>; 3])> = Vec::new();
    for j in t.jobs.iter().filter(|j| j.status == JobStatus::Done) {
        let key = [j.dataset.as_str(), j.model.as_str(), j.loss.as_str()];
        let i = match groups.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                groups.push((key, Default::default()));
                groups.len() - 1
            }
        };
        let v = &mut groups[i].1;
        v[0].push(j.train_seconds);
        v[1].push(j.eval_seconds);
        let speeds: Vec<f64> = t
            .train_log
            .iter()
            .filter(|r| r.job_id == j.job_id)
            .map(|r| r.images_per_s)
            .collect();
        if !speeds.is_empty() {
            v[2].push(mean_std(&speeds).0);
        }
    }
    if groups.is_empty() {
        return Block::Text("_No finished jobs._".into());
    }
    groups.sort_by_key(|(k, _)| order.key(k[0], k[1], k[2], "", ""));
    let keys: &[usize] = if scope { &[0, 1, 2] } else { &[2] };
    let rows = groups
        .iter()
        .map(|(k, v)| {
            let mut cells: Vec<String> = keys.iter().map(|&i| key_cell(order, i, k[i])).collect();
            cells.extend([
                mean_cell(&v[0], 1),
                mean_cell(&v[1], 1),
                mean_cell(&v[2], 0),
            ]);
            cells
        })
        .collect();
    let mut head: Vec<String> = keys.iter().map(|&i| KEY_NAMES[i].to_owned()).collect();
    head.extend(["train_seconds", "eval_seconds", "train images_per_s"].map(String::from));
    Block::Table(Table {
        head,
        rows,
        first_value: keys.len(),
        loss_column: Some(keys.len() - 1),
        bold: Vec::new(),
    })
}

/// Attack time and throughput per (dataset, model, loss, attack).
pub(super) fn attack_timing(t: &RunTables, order: &Order, scope: bool) -> Block {
    let layout = Layout {
        scope,
        attack: true,
        detector: false,
        preferred: &TIMING_METRICS,
        only_preferred: true,
    };
    let (groups, metrics) = group(t, order, &layout, |r| {
        r.attack != "none" && r.detector == "none"
    });
    if groups.is_empty() {
        return Block::Text("_No attacks recorded._".into());
    }
    let mut head = key_head(&layout);
    let first_value = head.len();
    head.extend(metrics.iter().map(|m| (*m).to_owned()));
    let rows = groups
        .iter()
        .map(|g| {
            let mut cells: Vec<String> = key_columns(&layout)
                .iter()
                .map(|&i| key_cell(order, i, g.key[i]))
                .collect();
            for m in &metrics {
                let decimals = if *m == "seconds" { 2 } else { 0 };
                cells.push(mean_cell(
                    g.values.get(m).map_or(&[][..], |v| &v[..]),
                    decimals,
                ));
            }
            cells
        })
        .collect();
    Block::Table(Table {
        head,
        rows,
        first_value,
        loss_column: loss_column(&layout),
        bold: Vec::new(),
    })
}
