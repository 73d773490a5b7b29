//! `index.html`: the tables of [`super::tables`] and every plot inline, in
//! one self-contained file (inline CSS, inline SVG, images as data URIs; no
//! other file, no network).
//!
//! The page's skeleton, style sheet and scripts are the files of
//! `src/report/templates/` (`page.html`, `style.css`, `early.js`,
//! `check.js`), compiled in with `include_str!` and filled by
//! [`super::template`]; this file builds the tables and figures that go
//! into them.
//!
//! A small script checks the page once it has loaded: every plot is a
//! non-empty SVG of non-zero size, every image decodes, nothing points
//! outside the page, no script error occurred. It writes the verdict on
//! `<body>` (`data-report-ok="1"`, or `"0"` with `data-report-errors`) and
//! shows a red banner on failure; `scripts/check_report.sh` reads it back
//! from headless Chromium.

use std::fmt::Write;

use super::images::xml_escape;
use super::plot::{Plot, PlotKind};
use super::tables::{sections, Block, Section, Table};
use super::template::{fill, Slot};
use super::Order;
use crate::results::{Manifest, RunTables};

/// The page skeleton: head, table of contents, main, footer. `{{name}}`
/// slots are filled by [`fill`]; see [`html`] for which is which.
const PAGE: &str = include_str!("templates/page.html");
/// The page's style sheet, inlined so the page needs no other file.
const STYLE: &str = include_str!("templates/style.css");
/// Runs first, in `<head>`: collects errors raised before the check runs
/// (resources, scripts).
const EARLY_SCRIPT: &str = include_str!("templates/early.js");
/// Runs after `load`: checks plots, images and references, then writes the
/// verdict on `<body>`.
const CHECK_SCRIPT: &str = include_str!("templates/check.js");

/// The HTML report for a run, with `plots` inlined.
///
/// The tables and figures are built here; the skeleton around them, the
/// CSS and the two scripts are the files of `templates/`, so they can be
/// read and edited as HTML, CSS and JavaScript. Every value from the run
/// goes in as a `Slot::Text` (escaped) or inside markup this module escaped.
pub fn html(m: &Manifest, t: &RunTables, plots: &[Plot]) -> String {
    let order = Order::new(t);
    let sections = sections(m, t);
    let title = sections
        .first()
        .map_or_else(|| "lossbench report".to_owned(), |s| s.title.clone());
    let expected_plots = plots.len().to_string();
    let expected_images = plots
        .iter()
        .map(|p| p.svg.matches("<image ").count())
        .sum::<usize>()
        .to_string();

    // Table of contents: every level-2 section, then the plot sections.
    let mut toc = String::new();
    for s in sections.iter().filter(|s| s.level == 2) {
        let _ = write!(toc, "<a href=\"#{}\">{}</a>", s.id, esc(&s.title));
    }
    for kind in PlotKind::ALL {
        if kind.optional() && !plots.iter().any(|p| p.kind == kind) {
            continue;
        }
        let _ = write!(
            toc,
            "<a href=\"#{}\">{}</a>",
            kind.id(),
            esc(kind.heading())
        );
    }

    let mut main = String::new();
    for s in &sections {
        section(&mut main, s, &order);
    }
    for kind in PlotKind::ALL {
        plot_section(&mut main, kind, plots);
    }

    fill(
        PAGE,
        &[
            ("title", Slot::Text(&title)),
            ("run_id", Slot::Text(&m.run_id)),
            ("suite", Slot::Text(&m.suite_name)),
            ("version", Slot::Text(crate::VERSION)),
            ("expected_plots", Slot::Text(&expected_plots)),
            ("expected_images", Slot::Text(&expected_images)),
            ("style", Slot::Markup(STYLE)),
            ("early_script", Slot::Markup(EARLY_SCRIPT)),
            ("check_script", Slot::Markup(CHECK_SCRIPT)),
            ("toc", Slot::Markup(&toc)),
            ("main", Slot::Markup(&main)),
        ],
    )
}

/// The section of one kind of plot: its note and every plot of that kind
/// inline, or a line saying why there is none.
fn plot_section(out: &mut String, kind: PlotKind, plots: &[Plot]) {
    let mine: Vec<&Plot> = plots.iter().filter(|p| p.kind == kind).collect();
    if mine.is_empty() && kind.optional() {
        return;
    }
    let _ = writeln!(
        out,
        "<section id=\"{}\">\n<h2>{}</h2>",
        kind.id(),
        esc(kind.heading())
    );
    if mine.is_empty() {
        let _ = writeln!(out, "<p class=\"missing\">{}</p>", inline(kind.missing()));
    } else {
        let _ = writeln!(
            out,
            "<p>{}</p>\n<div class=\"figures\">",
            inline(kind.note())
        );
        for p in mine {
            // The title is drawn in the plot; the caption names its file.
            let _ = writeln!(
                out,
                "<figure aria-label=\"{}\">\n{}<figcaption>{}</figcaption>\n</figure>",
                esc(&p.title),
                svg_body(&p.svg),
                esc(&p.file_name)
            );
        }
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
}

fn section(out: &mut String, s: &Section, order: &Order) {
    let tag = format!("h{}", s.level.clamp(1, 6));
    let _ = writeln!(
        out,
        "<section id=\"{}\">\n<{tag}>{}</{tag}>",
        s.id,
        esc(&s.title)
    );
    for b in &s.blocks {
        match b {
            Block::Text(text) => {
                let _ = writeln!(out, "<p>{}</p>", inline(text));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(out, "<li>{}</li>", inline(item));
                }
                out.push_str("</ul>\n");
            }
            Block::Table(t) => table(out, t, order),
        }
    }
    out.push_str("</section>\n");
}

fn table(out: &mut String, t: &Table, order: &Order) {
    let header = t.head.iter().any(|h| !h.is_empty());
    out.push_str("<div class=\"table\"><table>\n");
    if header {
        out.push_str("<thead><tr>");
        for (i, h) in t.head.iter().enumerate() {
            let class = if i >= t.first_value {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(out, "<th{class}>{}</th>", esc(h));
        }
        out.push_str("</tr></thead>\n");
    }
    out.push_str("<tbody>\n");
    for (r, row) in t.rows.iter().enumerate() {
        out.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            if Some(i) == t.loss_column {
                let colour = order.loss_colour(c);
                let _ = write!(
                    out,
                    "<td><span class=\"swatch\" style=\"background:#{:02x}{:02x}{:02x}\"></span>{}</td>",
                    colour.0,
                    colour.1,
                    colour.2,
                    esc(c)
                );
            } else if i >= t.first_value && t.bold.contains(&(r, i)) {
                let _ = write!(out, "<td class=\"num\"><strong>{}</strong></td>", esc(c));
            } else if i >= t.first_value {
                let _ = write!(out, "<td class=\"num\">{}</td>", esc(c));
            } else if !header && i == 0 {
                let _ = write!(out, "<th scope=\"row\">{}</th>", inline(c));
            } else {
                let _ = write!(out, "<td>{}</td>", inline(c));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// The SVG element of a plotters document, without any XML prolog.
fn svg_body(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

/// Text for HTML content and attribute values.
fn esc(text: &str) -> String {
    xml_escape(text)
}

/// The little Markdown the report's text uses, as HTML: `` `code` `` and
/// `[text](#anchor)` (links inside the page only); the rest escaped.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(['`', '[']) {
        out.push_str(&esc(&rest[..i]));
        let tail = &rest[i..];
        if let Some(code) = tail.strip_prefix('`') {
            if let Some(end) = code.find('`') {
                let _ = write!(out, "<code>{}</code>", esc(&code[..end]));
                rest = &code[end + 1..];
                continue;
            }
        } else if let Some((label, after)) = tail[1..].split_once("](#") {
            if let Some((anchor, after)) = after.split_once(')') {
                let ok = !label.contains(['[', ']'])
                    && anchor
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if ok {
                    let _ = write!(out, "<a href=\"#{anchor}\">{}</a>", esc(label));
                    rest = after;
                    continue;
                }
            }
        }
        out.push_str(&esc(&tail[..1]));
        rest = &tail[1..];
    }
    out.push_str(&esc(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::{inline, CHECK_SCRIPT, EARLY_SCRIPT, STYLE};

    #[test]
    fn inline_markup() {
        assert_eq!(
            inline("`a<b` and [Timing](#timing), [x](http://y) & `open"),
            "<code>a&lt;b</code> and <a href=\"#timing\">Timing</a>, [x](http://y) &amp; `open"
        );
    }

    /// The template files are inlined into `<style>` and `<script>`: a
    /// closing tag inside them would end the element early.
    #[test]
    fn style_and_scripts_stay_inside_their_elements() {
        assert!(!STYLE.to_ascii_lowercase().contains("</style"));
        for script in [EARLY_SCRIPT, CHECK_SCRIPT] {
            assert!(!script.to_ascii_lowercase().contains("</script"));
        }
    }
}
