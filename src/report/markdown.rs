//! `report.md`: the run's header, seed-aggregated metric tables, failed jobs
//! and links to the ROC plots.
//!
//! Every cell is `mean ± std (n=…)` over the jobs (seeds) that reported the
//! metric: sample standard deviation, 4 decimals (SPEC §4, last line).

use std::collections::HashMap;
use std::fmt::Write;

use super::plot::RocPlot;
use super::Order;
use crate::metrics::mean_std;
use crate::results::{Manifest, MetricRow, RunTables};

/// Metric columns shown first, in this order, when present; any other metric
/// of the same rows follows in order of first appearance.
const ATTACK_METRICS: [&str; 4] = ["robust_acc", "asr", "l2_mean", "linf_mean"];
const DETECTION_METRICS: [&str; 4] = ["auroc", "aupr", "fpr_at_95tpr", "det_acc"];

/// The markdown report for a run; `plots` are linked by file name, so the
/// SVGs belong in the same directory as the report.
pub fn markdown(m: &Manifest, t: &RunTables, plots: &[RocPlot]) -> String {
    let order = Order::new(t);
    let mut out = String::new();
    header(&mut out, m);

    out.push_str("\n## Clean accuracy\n\n");
    out.push_str(SEEDS_NOTE);
    metric_table(
        &mut out,
        t,
        &order,
        &Layout {
            attack: false,
            detector: false,
            preferred: &["clean_acc"],
            only_preferred: true,
        },
        |r| r.attack == "none" && r.detector == "none" && r.subset == "clean",
    );

    out.push_str("\n## Attacks\n\n");
    out.push_str(
        "`robust_acc` over all test samples, `asr` over the clean-correct ones, \
         perturbation norms over successful examples (SPEC §2).\n\n",
    );
    metric_table(
        &mut out,
        t,
        &order,
        &Layout {
            attack: true,
            detector: false,
            preferred: &ATTACK_METRICS,
            only_preferred: false,
        },
        |r| r.attack != "none" && r.detector == "none" && r.subset == "all",
    );

    out.push_str("\n## Detection\n\n");
    out.push_str(
        "Positives: successful adversarial examples; negatives: their clean \
         counterparts, on the held-out 20 % (SPEC §3, §4).\n\n",
    );
    metric_table(
        &mut out,
        t,
        &order,
        &Layout {
            attack: true,
            detector: true,
            preferred: &DETECTION_METRICS,
            only_preferred: false,
        },
        |r| r.detector != "none" && r.subset == "successful",
    );
    if t.metrics
        .iter()
        .any(|r| r.detector != "none" && r.subset == "all")
    {
        out.push_str("\n### Detection, all adversarial examples\n\n");
        out.push_str("Positives: every adversarial example, successful or not.\n\n");
        metric_table(
            &mut out,
            t,
            &order,
            &Layout {
                attack: true,
                detector: true,
                preferred: &DETECTION_METRICS,
                only_preferred: false,
            },
            |r| r.detector != "none" && r.subset == "all",
        );
    }

    out.push_str("\n## Failed jobs\n\n");
    let failed: Vec<_> = t.jobs.iter().filter(|j| j.status != "done").collect();
    if failed.is_empty() {
        out.push_str("None.\n");
    }
    for j in failed {
        let _ = writeln!(
            out,
            "- `{}` ({} / {} / {}, seed {}): {}: {}",
            j.job_id,
            j.dataset,
            j.model,
            j.loss,
            j.seed,
            j.status,
            one_line(&j.error)
        );
    }

    out.push_str("\n## ROC curves\n\n");
    if plots.is_empty() {
        out.push_str("No ROC curves recorded.\n");
    } else {
        out.push_str(
            "Subset `successful`; one curve per loss and detector, from the lowest \
             seed (named in the legend); stored curves are downsampled.\n",
        );
    }
    for p in plots {
        let what = if p.scope.is_empty() {
            p.attack.clone()
        } else {
            format!("{}, {}", p.attack, p.scope)
        };
        let _ = write!(out, "\n### {}\n\n![ROC, {}]({})\n", what, what, p.file_name);
    }
    out
}

const SEEDS_NOTE: &str = "Cells: mean ± sample standard deviation over seeds, with `n` seeds.\n\n";

fn header(out: &mut String, m: &Manifest) {
    let _ = writeln!(out, "# lossbench report: {}\n", m.suite_name);
    out.push_str("| | |\n|---|---|\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(out, "| {k} | {} |", cell(&v));
    };
    row("suite", format!("{} (`{}`)", m.suite_name, m.suite_file));
    row("run id", m.run_id.clone());
    row("status", m.status.clone());
    row("device", m.device.clone());
    row(
        "lossbench",
        format!(
            "{} (tch {}, libtorch {})",
            m.lossbench_version, m.tch_version, m.libtorch_version
        ),
    );
    row(
        "git commit",
        m.git_commit.clone().unwrap_or_else(|| "unknown".into()),
    );
    row(
        "started",
        match &m.finished_at {
            Some(end) => format!("{} (finished {end})", m.started_at),
            None => format!("{} (not finished)", m.started_at),
        },
    );
    row("wall time", format!("{:.1} s", m.wall_seconds));
    row(
        "jobs",
        format!(
            "{} total: {} done, {} failed, {} reused",
            m.jobs_total, m.jobs_done, m.jobs_failed, m.jobs_reused
        ),
    );
}

/// Which key columns a table has and which metrics become columns.
struct Layout<'a> {
    attack: bool,
    detector: bool,
    preferred: &'a [&'a str],
    /// Show only the `preferred` metrics.
    only_preferred: bool,
}

/// One table row: the key and every metric's values across seeds.
struct Group<'a> {
    key: [&'a str; 5],
    values: HashMap<&'a str, Vec<f64>>,
}

/// Writes a markdown table of the rows selected by `select`, one row per
/// (dataset, model, loss[, attack][, detector]) and one column per metric.
fn metric_table(
    out: &mut String,
    t: &RunTables,
    order: &Order,
    layout: &Layout<'_>,
    select: impl Fn(&MetricRow) -> bool,
) {
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut index: HashMap<[&str; 5], usize> = HashMap::new();
    let mut extra: Vec<&str> = Vec::new();
    for r in t.metrics.iter().filter(|r| select(r)) {
        let metric = r.metric.as_str();
        if !layout.preferred.contains(&metric) {
            if layout.only_preferred {
                continue;
            }
            if !extra.contains(&metric) {
                extra.push(metric);
            }
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
    if groups.is_empty() {
        out.push_str("_None recorded._\n");
        return;
    }
    groups.sort_by_key(|g| order.key(g.key[0], g.key[1], g.key[2], g.key[3], g.key[4]));

    let present = |m: &&str| groups.iter().any(|g| g.values.contains_key(m));
    let metrics: Vec<&str> = layout
        .preferred
        .iter()
        .copied()
        .filter(present)
        .chain(extra)
        .collect();
    let mut keys = vec!["dataset", "model", "loss"];
    if layout.attack {
        keys.push("attack");
    }
    if layout.detector {
        keys.push("detector");
    }

    let _ = writeln!(out, "| {} | {} |", keys.join(" | "), metrics.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(keys.len() + metrics.len()));
    for g in &groups {
        let mut cells: Vec<String> = g.key[..keys.len()].iter().map(|k| cell(k)).collect();
        for m in &metrics {
            cells.push(match g.values.get(m) {
                Some(v) => mean_std_cell(v),
                None => "–".to_owned(),
            });
        }
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}

/// `mean ± std (n=…)` with 4 decimals.
fn mean_std_cell(values: &[f64]) -> String {
    let (mean, std, n) = mean_std(values);
    format!("{mean:.4} ± {std:.4} (n={n})")
}

/// Text safe inside a table cell: one line, `|` escaped.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
