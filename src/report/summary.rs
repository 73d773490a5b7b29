//! The one-screen summary `lossbench run` prints at the end: per loss, the
//! clean accuracy, and per attack the robust accuracy, the attack success
//! rate and each detector's AUROC on successful examples, as mean ± sample
//! std over seeds. The full tables are in the report.

use std::fmt::Write;

use crate::metrics::mean_std;
use crate::results::{MetricRow, RunTables};

/// Mean over seeds of `metric` for the rows matching `keep`, as text.
fn cell(rows: &[MetricRow], keep: impl Fn(&MetricRow) -> bool) -> String {
    let values: Vec<f64> = rows.iter().filter(|r| keep(r)).map(|r| r.value).collect();
    match mean_std(&values) {
        (_, _, 0) => "-".to_string(),
        (m, _, 1) => format!("{m:.4}"),
        (m, s, _) => format!("{m:.4}±{s:.4}"),
    }
}

/// Distinct values of a column, in order of first appearance.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// The summary table as plain text (one row per loss and attack).
pub fn summary(t: &RunTables) -> String {
    let m = &t.metrics;
    let losses = distinct(t.jobs.iter().map(|j| j.loss.as_str()));
    let attacks = distinct(m.iter().map(|r| r.attack.as_str()).filter(|a| *a != "none"));
    let detectors = distinct(
        m.iter()
            .map(|r| r.detector.as_str())
            .filter(|d| *d != "none"),
    );
    let mut header = vec![
        "loss".to_string(),
        "clean_acc".to_string(),
        "attack".to_string(),
        "robust_acc".to_string(),
        "asr".to_string(),
    ];
    header.extend(detectors.iter().map(|d| format!("auroc {d}")));
    let mut rows: Vec<Vec<String>> = Vec::new();
    for loss in &losses {
        let clean = cell(m, |r| r.loss == *loss && r.metric == "clean_acc");
        let attack_rows: Vec<&str> = if attacks.is_empty() {
            vec!["-"]
        } else {
            attacks.clone()
        };
        for (i, attack) in attack_rows.iter().enumerate() {
            let of = |metric: &'static str, detector: &'static str| {
                let attack = *attack;
                move |r: &MetricRow| {
                    r.loss == *loss
                        && r.attack == attack
                        && r.metric == metric
                        && r.detector == detector
                }
            };
            let mut row = vec![
                if i == 0 {
                    loss.to_string()
                } else {
                    String::new()
                },
                if i == 0 { clean.clone() } else { String::new() },
                attack.to_string(),
                cell(m, of("robust_acc", "none")),
                cell(m, of("asr", "none")),
            ];
            for d in &detectors {
                row.push(cell(m, |r| {
                    r.loss == *loss
                        && r.attack == *attack
                        && r.detector == *d
                        && r.subset == "successful"
                        && r.metric == "auroc"
                }));
            }
            rows.push(row);
        }
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        loss: &str,
        seed: u64,
        attack: &str,
        det: &str,
        subset: &str,
        metric: &str,
        v: f64,
    ) -> MetricRow {
        MetricRow {
            job_id: format!("{loss}{seed}"),
            dataset: "d".into(),
            model: "m".into(),
            loss: loss.into(),
            seed,
            attack: attack.into(),
            detector: det.into(),
            subset: subset.into(),
            metric: metric.into(),
            value: v,
        }
    }

    #[test]
    fn one_row_per_loss_and_attack_with_seed_means() {
        let mut t = RunTables::default();
        for (seed, acc, auroc) in [(0, 0.90, 0.70), (1, 0.92, 0.80)] {
            t.jobs.push(crate::results::JobRow {
                job_id: format!("lgm{seed}"),
                dataset: "d".into(),
                model: "m".into(),
                loss: "lgm".into(),
                seed,
                device: "cpu".into(),
                status: "done".into(),
                error: String::new(),
                notes: String::new(),
                n_train: 1,
                n_test: 1,
                train_seconds: 0.0,
                eval_seconds: 0.0,
                config: "{}".into(),
            });
            t.metrics
                .push(row("lgm", seed, "none", "none", "clean", "clean_acc", acc));
            t.metrics.push(row(
                "lgm",
                seed,
                "fgsm(eps=0.1)",
                "none",
                "all",
                "robust_acc",
                0.5,
            ));
            t.metrics
                .push(row("lgm", seed, "fgsm(eps=0.1)", "none", "all", "asr", 0.4));
            t.metrics.push(row(
                "lgm",
                seed,
                "fgsm(eps=0.1)",
                "kd",
                "successful",
                "auroc",
                auroc,
            ));
            t.metrics
                .push(row("lgm", seed, "fgsm(eps=0.1)", "kd", "all", "auroc", 0.1));
        }
        let s = summary(&t);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 2, "{s}");
        assert!(
            lines[0].starts_with("loss") && lines[0].ends_with("auroc kd"),
            "{s}"
        );
        // mean(0.90, 0.92) = 0.91, sample std = 0.0141; AUROC (0.7, 0.8): 0.75 ± 0.0707.
        assert!(lines[1].contains("0.9100±0.0141"), "{s}");
        assert!(lines[1].contains("0.7500±0.0707"), "{s}");
        assert!(
            lines[1].contains("0.5000±0.0000") && lines[1].contains("fgsm(eps=0.1)"),
            "{s}"
        );
    }
}
