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
