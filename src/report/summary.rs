//! The one-screen summary `lossbench run` prints at the end, as two narrow
//! tables (each under ~120 columns for the default suite): per loss and
//! attack the clean accuracy, robust accuracy and attack success rate; then
//! each detector's AUROC on successful adversarial examples. Cells are
//! mean ± sample std over seeds, to three decimals. Attacks are shown by a
//! short label (their first parameter) unless two would then look alike. The
//! full tables are in the report.

use std::fmt::Write;

use crate::metrics::mean_std;
use crate::results::{MetricRow, RunTables, OOD_SUBSET};

/// Mean over seeds of `metric` for the rows matching `keep`, as text.
fn cell(rows: &[MetricRow], keep: impl Fn(&MetricRow) -> bool) -> String {
    let values: Vec<f64> = rows.iter().filter(|r| keep(r)).map(|r| r.value).collect();
    match mean_std(&values) {
        (_, _, 0) => "-".to_string(),
        (m, _, 1) => format!("{m:.3}"),
        (m, s, _) => format!("{m:.3}±{s:.3}"),
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

/// `bim(eps=0.1,a=0.025,T=10,stop=first)` → `bim(eps=0.1,…)`; the full labels
/// when two short ones would coincide.
fn short_labels(labels: &[&str]) -> Vec<String> {
    let short: Vec<String> = labels
        .iter()
        .map(|l| match l.split_once(',') {
            Some((head, _)) if l.ends_with(')') => format!("{head},…)"),
            _ => (*l).to_string(),
        })
        .collect();
    let unique = short
        .iter()
        .enumerate()
        .all(|(i, a)| short.iter().skip(i + 1).all(|b| a != b));
    if unique {
        short
    } else {
        labels.iter().map(|l| (*l).to_string()).collect()
    }
}

/// Left-aligned columns, two spaces apart.
fn render(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
}

/// The summary as plain text: the accuracy table, then (when detectors ran)
/// the AUROC table, then (when the suite has abnormal sources) the AUROC
/// table of the abnormal inputs (docs/definitions.md §5).
pub fn summary(t: &RunTables) -> String {
    let m = &t.metrics;
    let losses = distinct(t.jobs.iter().map(|j| j.loss.as_str()));
    let is_ood = |r: &MetricRow| r.subset == OOD_SUBSET;
    let attacks = distinct(
        m.iter()
            .filter(|r| !is_ood(r))
            .map(|r| r.attack.as_str())
            .filter(|a| *a != "none"),
    );
    let shown = short_labels(&attacks);
    let detectors = distinct(
        m.iter()
            .filter(|r| !is_ood(r))
            .map(|r| r.detector.as_str())
            .filter(|d| *d != "none"),
    );
    let first = |i: usize, text: &str| {
        if i == 0 {
            text.to_string()
        } else {
            String::new()
        }
    };

    let header: Vec<String> = ["loss", "clean_acc", "attack", "robust_acc", "asr"]
        .map(String::from)
        .to_vec();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut auroc_rows: Vec<Vec<String>> = Vec::new();
    for loss in &losses {
        let clean = cell(m, |r| r.loss == *loss && r.metric == "clean_acc");
        if attacks.is_empty() {
            rows.push(vec![
                loss.to_string(),
                clean,
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
            continue;
        }
        for (i, (attack, label)) in attacks.iter().zip(&shown).enumerate() {
            let of = |metric: &'static str| {
                move |r: &MetricRow| {
                    r.loss == *loss
                        && r.attack == *attack
                        && r.metric == metric
                        && r.detector == "none"
                }
            };
            rows.push(vec![
                first(i, loss),
                first(i, &clean),
                label.clone(),
                cell(m, of("robust_acc")),
                cell(m, of("asr")),
            ]);
            let mut row = vec![first(i, loss), label.clone()];
            for d in &detectors {
                row.push(cell(m, |r| {
                    r.loss == *loss
                        && r.attack == *attack
                        && r.detector == *d
                        && r.subset == "successful"
                        && r.metric == "auroc"
                }));
            }
            auroc_rows.push(row);
        }
    }
    let mut out = String::new();
    render(&mut out, &header, &rows);
    if !detectors.is_empty() && !attacks.is_empty() {
        let _ = writeln!(
            out,
            "\nAUROC of each detector, successful adversarial examples against their clean images:"
        );
        let mut header: Vec<String> = vec!["loss".into(), "attack".into()];
        header.extend(detectors.iter().map(|d| (*d).to_string()));
        render(&mut out, &header, &auroc_rows);
    }
    let sources = distinct(m.iter().filter(|r| is_ood(r)).map(|r| r.attack.as_str()));
    if !sources.is_empty() {
        let ood_detectors = distinct(m.iter().filter(|r| is_ood(r)).map(|r| r.detector.as_str()));
        let shown = short_labels(&sources);
        let mut rows = Vec::new();
        for loss in &losses {
            for (i, (source, label)) in sources.iter().zip(&shown).enumerate() {
                let mut row = vec![first(i, loss), label.clone()];
                for d in &ood_detectors {
                    row.push(cell(m, |r| {
                        r.loss == *loss
                            && r.attack == *source
                            && r.detector == *d
                            && is_ood(r)
                            && r.metric == "auroc"
                    }));
                }
                rows.push(row);
            }
        }
        let _ = writeln!(
            out,
            "\nAUROC of each detector, abnormal inputs against in-distribution test samples:"
        );
        let mut header: Vec<String> = vec!["loss".into(), "source".into()];
        header.extend(ood_detectors.iter().map(|d| (*d).to_string()));
        render(&mut out, &header, &rows);
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
                status: crate::results::JobStatus::Done,
                error: String::new(),
                notes: String::new(),
                n_train: 1,
                n_test: 1,
                train_seconds: 0.0,
                eval_seconds: 0.0,
                config: "{}".into(),
                row_counts: String::new(),
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
        // Accuracy table (header + 1 row), a blank line, the caption, and the
        // AUROC table (header + 1 row).
        assert_eq!(lines.len(), 6, "{s}");
        assert!(
            lines[0].starts_with("loss") && lines[0].ends_with("asr"),
            "{s}"
        );
        // mean(0.90, 0.92) = 0.91, sample std = 0.0141; AUROC (0.7, 0.8): 0.75 ± 0.0707.
        assert!(lines[1].contains("0.910±0.014"), "{s}");
        assert!(
            lines[1].contains("0.500±0.000") && lines[1].contains("0.400±0.000"),
            "{s}"
        );
        assert!(lines[1].contains("fgsm(eps=0.1)"), "{s}");
        assert!(lines[3].starts_with("AUROC"), "{s}");
        assert!(
            lines[4].starts_with("loss") && lines[4].ends_with("kd"),
            "{s}"
        );
        // The "all" subset's 0.1 is not shown.
        assert!(lines[5].ends_with("0.750±0.071"), "{s}");
    }

    #[test]
    fn attack_labels_are_shortened_unless_they_would_coincide() {
        assert_eq!(
            short_labels(&["fgsm(eps=0.1)", "bim(eps=0.1,a=0.025,T=10,stop=first)"]),
            ["fgsm(eps=0.1)", "bim(eps=0.1,…)"]
        );
        let both = [
            "bim(eps=0.1,a=0.025,T=10,stop=first)",
            "bim(eps=0.1,a=0.01,T=20,stop=first)",
        ];
        assert_eq!(short_labels(&both), both);
    }
}
