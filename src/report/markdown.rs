//! `report.md`: the sections of [`super::tables`] as Markdown, then one
//! section per kind of plot linking the SVG files by relative path.

use std::fmt::Write;

use super::plot::{Plot, PlotKind};
use super::tables::{md_text, one_line, sections, Block, Table};
use crate::results::{Manifest, RunTables};

/// The markdown report for a run; `plots` are linked by file name, so the
/// SVGs belong in the same directory as the report.
pub fn markdown(m: &Manifest, t: &RunTables, plots: &[Plot]) -> String {
    let mut out = String::new();
    for (i, s) in sections(m, t).iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{} {}\n", "#".repeat(s.level), md_text(&s.title));
        for (k, b) in s.blocks.iter().enumerate() {
            if k > 0 {
                out.push('\n');
            }
            block(&mut out, b);
        }
        if i == 0 {
            out.push_str(
                "\nThe same report with every plot inline: [`index.html`](index.html). \
                 Plots are linked at the end of this file.\n",
            );
        }
    }
    for kind in PlotKind::ALL {
        let mine: Vec<&Plot> = plots.iter().filter(|p| p.kind == kind).collect();
        if mine.is_empty() && kind.optional() {
            continue;
        }
        let _ = writeln!(out, "\n## {}\n", kind.heading());
        if mine.is_empty() {
            let _ = writeln!(out, "{}", kind.missing());
            continue;
        }
        let _ = writeln!(out, "{}", kind.note());
        for p in mine {
            let _ = write!(out, "\n![{}]({})\n", md_text(&p.title), p.file_name);
        }
    }
    out
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Text(text) => {
            let _ = writeln!(out, "{}", md_text(text));
        }
        Block::List(items) => {
            for item in items {
                let _ = writeln!(out, "- {}", md_text(item));
            }
        }
        Block::Table(t) => table(out, t),
    }
}

fn table(out: &mut String, t: &Table) {
    let row = |out: &mut String, cells: &[String], r: Option<usize>| {
        out.push('|');
        for (c, text) in cells.iter().enumerate() {
            if text.is_empty() {
                out.push_str(" |");
            } else if r.is_some_and(|r| t.bold.contains(&(r, c))) {
                let _ = write!(out, " **{}** |", cell(text));
            } else {
                let _ = write!(out, " {} |", cell(text));
            }
        }
        out.push('\n');
    };
    row(out, &t.head, None);
    let _ = writeln!(out, "|{}", "---|".repeat(t.head.len()));
    for (r, cells) in t.rows.iter().enumerate() {
        row(out, cells, Some(r));
    }
}

/// Text safe inside a table cell: one line, `|` escaped, no markup.
fn cell(text: &str) -> String {
    md_text(&one_line(text)).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use crate::results::{JobRow, JobStatus, Manifest, MetricRow, RunStatus, RunTables};

    /// Markup in any value a run's files hold (a loss name, an attack
    /// label, a job's error) reaches `report.md` escaped, never as a tag.
    #[test]
    fn values_from_the_tables_are_never_markup() {
        let job = |id: &str, loss: &str, status: JobStatus, error: &str| JobRow {
            job_id: id.into(),
            dataset: "synthetic".into(),
            model: "mlp".into(),
            loss: loss.into(),
            seed: 0,
            device: "cpu".into(),
            status,
            error: error.into(),
            notes: String::new(),
            n_train: 1,
            n_test: 1,
            train_seconds: 0.0,
            eval_seconds: 0.0,
            config: "{}".into(),
            row_counts: String::new(),
        };
        let evil = "<img src=x onerror=alert(1)>";
        let tables = RunTables {
            jobs: vec![
                job("a", evil, JobStatus::Done, ""),
                job("b", "lgm", JobStatus::Failed, "<script>alert(2)</script>"),
            ],
            metrics: vec![MetricRow {
                job_id: "a".into(),
                dataset: "synthetic".into(),
                model: "mlp".into(),
                loss: evil.into(),
                seed: 0,
                attack: "<b>fgsm</b>".into(),
                detector: "none".into(),
                subset: "clean".into(),
                metric: "robust_acc".into(),
                value: 0.5,
            }],
            ..RunTables::default()
        };
        let m = Manifest {
            suite_name: "s".into(),
            suite_file: "<i>s.yaml</i>".into(),
            run_id: "r".into(),
            suite: serde_json::json!({}),
            lossbench_version: "0".into(),
            tch_version: "0".into(),
            libtorch_version: "0".into(),
            device: "cpu".into(),
            git_commit: None,
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: None,
            wall_seconds: 0.0,
            jobs_total: 2,
            jobs_done: 1,
            jobs_failed: 1,
            jobs_reused: 0,
            status: RunStatus::Failed,
        };
        let md = super::markdown(&m, &tables, &[]);
        for raw in ["<img", "<script", "<b>", "<i>"] {
            // Inside a code span a tag is shown, not rendered.
            let in_code = md.matches(&format!("`{raw}")).count();
            assert_eq!(md.matches(raw).count(), in_code, "{raw} in:\n{md}");
        }
        assert!(md.contains("&lt;script&gt;alert(2)&lt;/script&gt;"), "{md}");
        assert!(md.contains("&lt;img src=x onerror=alert(1)&gt;"), "{md}");
    }
}
