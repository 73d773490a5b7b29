//! The Markdown rendering of a [`Comparison`], fit for a CI job summary:
//! the verdict, the two runs, the failing rows, improvements, notes, the rule
//! and every row in a collapsed table. Text only: nothing here decides a
//! verdict.

use std::fmt::Write;

use crate::report::md_text;

use super::{Comparison, Direction, Key, Row, SideInfo, Stats, Status, ToleranceSource};

/// The rule in one paragraph, shared by the Markdown and the JSON.
pub const RULE: &str = "A gated metric regresses when its mean over seeds worsens by more than \
max(tolerance, 2·sqrt(s_b²/n_b + s_c²/n_c)) (s: sample std over seeds, n: number of seeds; \
the noise term only when both sides have at least 2 seeds, else the tolerance alone). \
Tolerances: --tolerance, else the candidate suite's `regression:` section, else the baseline \
suite's, else --default-tolerance (not for timing metrics). Metrics without a tolerance, informational \
metrics and timing metrics without an explicit tolerance are reported, never gated. A baseline \
row missing from the candidate fails unless --allow-missing; extra candidate rows are listed.";

/// A number with 4 decimals; `NaN`, `inf` and `-inf` spelt out.
pub(super) fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        format!("{x}")
    }
}

/// A signed number with 4 decimals.
fn signed(x: f64) -> String {
    if x.is_finite() {
        format!("{x:+.4}")
    } else {
        format!("{x}")
    }
}

pub(super) fn stats_cell(s: Option<&Stats>) -> String {
    match s {
        Some(s) => format!("{} ± {} (n={})", num(s.mean), num(s.std), s.n),
        None => "–".to_owned(),
    }
}

fn arrow(d: Direction) -> &'static str {
    match d {
        Direction::HigherIsBetter => "↑",
        Direction::LowerIsBetter => "↓",
        Direction::Informational => "·",
    }
}

/// What the rule allowed: the threshold and where it came from.
pub(super) fn allowed(r: &Row) -> String {
    match &r.gate {
        Some(g) if g.noise > g.tolerance => format!(
            "{} (seed noise; tolerance {}, {})",
            num(g.threshold),
            num(g.tolerance),
            g.source.label()
        ),
        Some(g) => format!("{} (tolerance, {})", num(g.threshold), g.source.label()),
        None => r.note.clone().unwrap_or_default(),
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Regression => "REGRESSION",
        Status::Improved => "improved",
        Status::Ok => "ok",
        Status::Reported => "reported",
        Status::Missing => "MISSING",
        Status::Extra => "extra",
    }
}

/// Text safe inside a Markdown table cell: `|` escaped, no markup.
fn cell(text: &str) -> String {
    md_text(text).replace('|', "\\|")
}

fn key_cells(k: &Key, d: Direction) -> String {
    format!(
        "{} / {} / {} | {} | {} | {} | {} {}",
        cell(&k.dataset),
        cell(&k.model),
        cell(&k.loss),
        cell(&k.attack),
        cell(&k.detector),
        cell(&k.subset),
        cell(&k.metric),
        arrow(d)
    )
}

const KEY_HEAD: &str = "| dataset / model / loss | attack | detector | subset | metric |";

/// A table of the rows with `status`, under `title`; nothing when none.
fn section(out: &mut String, c: &Comparison, status: Status, title: &str) {
    let rows: Vec<&Row> = c.rows.iter().filter(|r| r.status == status).collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### {title} ({})\n", rows.len());
    match status {
        Status::Missing | Status::Extra => {
            let _ = writeln!(
                out,
                "{KEY_HEAD} {} |",
                if status == Status::Missing {
                    "baseline"
                } else {
                    "candidate"
                }
            );
            out.push_str("|---|---|---|---|---|---|\n");
            for r in rows {
                let s = r.baseline.as_ref().or(r.candidate.as_ref());
                let _ = writeln!(
                    out,
                    "| {} | {} |",
                    key_cells(&r.key, r.direction),
                    stats_cell(s)
                );
            }
        }
        _ => {
            let _ = writeln!(out, "{KEY_HEAD} baseline | candidate | change | allowed |");
            out.push_str("|---|---|---|---|---|---|---|---|---|\n");
            for r in rows {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    key_cells(&r.key, r.direction),
                    stats_cell(r.baseline.as_ref()),
                    stats_cell(r.candidate.as_ref()),
                    r.delta.map_or("–".into(), signed),
                    cell(&allowed(r))
                );
            }
        }
    }
}

fn side_rows(out: &mut String, b: &SideInfo, c: &SideInfo) {
    out.push_str("| | baseline | candidate |\n|---|---|---|\n");
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".into());
    let mut row = |name: &str, f: &dyn Fn(&SideInfo) -> String| {
        let _ = writeln!(out, "| {name} | {} | {} |", cell(&f(b)), cell(&f(c)));
    };
    row("metrics", &|s| format!("`{}`", s.metrics_file));
    row("suite / run", &|s| {
        format!("{} / {}", opt(&s.suite), opt(&s.run_id))
    });
    row("git commit", &|s| opt(&s.git_commit));
    row("device", &|s| opt(&s.device));
    row("seeds", &|s| {
        s.seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    });
}

/// The Markdown report: verdict, any warnings, the two sides, the failing rows, then the
/// improvements, the notes, the rule and every row in a collapsed table.
pub fn markdown(c: &Comparison) -> String {
    let n = c.counts();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## lossbench compare: {}\n",
        match (c.failed(), c.warnings.is_empty()) {
            (true, _) => "FAIL",
            (false, true) => "PASS",
            (false, false) => "PASS (with warnings)",
        }
    );
    for w in &c.warnings {
        let _ = writeln!(out, "> **Warning:** {}\n", md_text(w));
    }
    let _ = writeln!(
        out,
        "**{} regression(s)** in {} gated metric(s) ({} improved, {} within threshold); \
         {} missing from the candidate{}, {} extra in the candidate; {} reported only.\n",
        n.regression,
        n.gated(),
        n.improved,
        n.ok,
        n.missing,
        if n.missing > 0 && c.allow_missing {
            " (allowed)"
        } else {
            ""
        },
        n.extra,
        n.reported
    );
    side_rows(&mut out, &c.baseline, &c.candidate);

    section(&mut out, c, Status::Regression, "Regressions");
    section(&mut out, c, Status::Missing, "Missing from the candidate");
    section(&mut out, c, Status::Extra, "Extra in the candidate");
    section(&mut out, c, Status::Improved, "Improvements");

    if !c.notes.is_empty() {
        out.push_str("\n### Notes\n\n");
        for note in &c.notes {
            let _ = writeln!(out, "- {}", md_text(note));
        }
    }

    out.push_str("\n### Rule\n\n");
    out.push_str(RULE);
    out.push_str("\n\nTolerances: ");
    let mut tols: Vec<String> = c
        .tolerances
        .iter()
        .map(|(m, t)| format!("`{m}` {} ({})", num(t.value), t.source.label()))
        .collect();
    tols.push(match c.default_tolerance {
        Some(d) => format!("others {} ({})", num(d), ToleranceSource::Default.label()),
        None => "others none (reported only)".into(),
    });
    out.push_str(&tols.join(", "));
    out.push_str(". Direction: ↑ higher is better, ↓ lower is better, · informational.\n");

    let _ = writeln!(
        out,
        "\n<details><summary>All {} rows</summary>\n",
        c.rows.len()
    );
    let _ = writeln!(
        out,
        "{KEY_HEAD} baseline | candidate | change | allowed | status |"
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for r in &c.rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            key_cells(&r.key, r.direction),
            stats_cell(r.baseline.as_ref()),
            stats_cell(r.candidate.as_ref()),
            r.delta.map_or("–".into(), signed),
            cell(&allowed(r)),
            status_word(r.status)
        );
    }
    out.push_str("\n</details>\n");
    out
}
