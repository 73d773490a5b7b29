//! `index.html`: the tables of [`super::tables`] and every plot inline, in
//! one self-contained file (inline CSS, inline SVG, images as data URIs; no
//! other file, no network).
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
use super::Order;
use crate::results::{Manifest, RunTables};

/// The HTML report for a run, with `plots` inlined.
pub fn html(m: &Manifest, t: &RunTables, plots: &[Plot]) -> String {
    let order = Order::new(t);
    let sections = sections(m, t);
    let mut out = String::new();
    let title = sections
        .first()
        .map_or_else(|| "lossbench report".to_owned(), |s| s.title.clone());
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} ({})</title>\n<style>{CSS}</style>\n<script>{EARLY_JS}</script>\n</head>\n",
        esc(&title),
        esc(&m.run_id)
    );
    let _ = writeln!(
        out,
        "<body data-expected-plots=\"{}\" data-expected-images=\"{}\">",
        plots.len(),
        plots
            .iter()
            .map(|p| p.svg.matches("<image ").count())
            .sum::<usize>()
    );

    // Table of contents: every level-2 section, then the plot sections.
    out.push_str("<nav class=\"toc\">");
    for s in sections.iter().filter(|s| s.level == 2) {
        let _ = write!(out, "<a href=\"#{}\">{}</a>", s.id, esc(&s.title));
    }
    for kind in PlotKind::ALL {
        let _ = write!(
            out,
            "<a href=\"#{}\">{}</a>",
            kind.id(),
            esc(kind.heading())
        );
    }
    out.push_str("</nav>\n<main>\n");

    for s in &sections {
        section(&mut out, s, &order);
    }
    for kind in PlotKind::ALL {
        let mine: Vec<&Plot> = plots.iter().filter(|p| p.kind == kind).collect();
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
    let _ = writeln!(
        out,
        "</main>\n<footer>Rendered by lossbench {} from run <code>{}</code> of suite <code>{}</code>; \
         this page is self-contained.</footer>\n<script>{CHECK_JS}</script>\n</body>\n</html>",
        esc(crate::VERSION),
        esc(&m.run_id),
        esc(&m.suite_name)
    );
    out
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

const CSS: &str = r#"
:root { color-scheme: light; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1d1d1f; background: #fafafa; line-height: 1.45; }
main { max-width: 1560px; margin: 0 auto; padding: 8px 24px 32px; }
nav.toc { position: sticky; top: 0; z-index: 1; background: #20232a; padding: 8px 24px;
  display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 14px; }
nav.toc a { color: #e8eaed; text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
section { scroll-margin-top: 40px; }
h1 { font-size: 26px; margin: 16px 0 8px; }
h2 { font-size: 21px; margin: 28px 0 6px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 17px; margin: 20px 0 6px; }
p { margin: 6px 0 10px; max-width: 1100px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 90%;
  background: #eef0f3; padding: 0 3px; border-radius: 3px; }
.table { overflow-x: auto; }
table { border-collapse: collapse; background: #fff; font-size: 13.5px; margin: 4px 0 12px; }
th, td { border: 1px solid #d9dce1; padding: 3px 9px; text-align: left; white-space: nowrap; }
thead th { background: #eef0f3; }
th[scope=row] { background: #f4f5f7; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) td { background: #f8f9fb; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px;
  vertical-align: baseline; }
.figures { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
figure { margin: 0; background: #fff; border: 1px solid #e0e0e0; border-radius: 4px; padding: 6px;
  max-width: 100%; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: #888; padding: 4px 2px 0; width: 0; min-width: 100%;
  overflow-wrap: anywhere; font-family: ui-monospace, Menlo, Consolas, monospace; }
.missing { color: #777; font-style: italic; }
footer { max-width: 1560px; margin: 0 auto; padding: 12px 24px 28px; color: #777; font-size: 13px; }
.report-errors { background: #b71c1c; color: #fff; padding: 10px 24px; font-weight: 600; }
"#;

/// Collects errors raised before the check runs (resources, scripts).
const EARLY_JS: &str = r#"
window.__reportErrors = [];
window.addEventListener('error', function (e) {
  var what = e.message || (e.target && e.target.tagName ? 'failed to load ' + e.target.tagName : 'error');
  window.__reportErrors.push(what);
}, true);
(function () {
  var original = console.error;
  console.error = function () {
    window.__reportErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
})();
"#;

/// Runs after `load`: checks plots, images and references, then writes the
/// verdict on `<body>`.
const CHECK_JS: &str = r#"
window.addEventListener('load', function () {
  var errors = window.__reportErrors;
  var body = document.body;
  var finished = false;
  function done(decoded) {
    if (finished) { return; }
    finished = true;
    var svgs = document.querySelectorAll('figure > svg');
    var expected = Number(body.getAttribute('data-expected-plots'));
    if (svgs.length !== expected) {
      errors.push('expected ' + expected + ' plots, found ' + svgs.length);
    }
    var wantImages = Number(body.getAttribute('data-expected-images'));
    if (decoded !== wantImages) {
      errors.push('expected ' + wantImages + ' images to decode, ' + decoded + ' did');
    }
    body.setAttribute('data-report-plots', String(svgs.length));
    body.setAttribute('data-report-images', String(decoded));
    body.setAttribute('data-report-height', String(document.documentElement.scrollHeight));
    if (errors.length) {
      body.setAttribute('data-report-ok', '0');
      body.setAttribute('data-report-errors', errors.join(' | '));
      var banner = document.createElement('div');
      banner.className = 'report-errors';
      banner.textContent = 'Report check failed: ' + errors.join(' | ');
      body.insertBefore(banner, body.firstChild);
    } else {
      body.setAttribute('data-report-ok', '1');
    }
  }
  document.querySelectorAll('[src], [href]').forEach(function (el) {
    var v = el.getAttribute('src') || el.getAttribute('href') || '';
    if (v.indexOf('data:') !== 0 && v.charAt(0) !== '#') {
      errors.push('reference outside the page: ' + v.slice(0, 80));
    }
  });
  document.querySelectorAll('figure > svg').forEach(function (svg, i) {
    var box = svg.getBoundingClientRect();
    if (!svg.firstElementChild || box.width < 10 || box.height < 10) {
      errors.push('plot ' + (i + 1) + ' is empty or has no size');
    } else if (!svg.querySelector('text')) {
      errors.push('plot ' + (i + 1) + ' has no text');
    }
  });
  var images = Array.prototype.slice.call(document.querySelectorAll('img, image'));
  var pending = images.length;
  var decoded = 0;
  if (pending === 0) { done(0); return; }
  setTimeout(function () {
    if (!finished) { errors.push(pending + ' image(s) never loaded'); done(decoded); }
  }, 5000);
  images.forEach(function (el, i) {
    var src = el.getAttribute('src') || el.getAttribute('href') ||
      el.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
    function settle() { pending -= 1; if (pending === 0) { done(decoded); } }
    if (!src) { errors.push('image ' + (i + 1) + ' has no source'); settle(); return; }
    var probe = new Image();
    probe.onload = function () {
      if (probe.naturalWidth > 0 && probe.naturalHeight > 0) { decoded += 1; }
      else { errors.push('image ' + (i + 1) + ' is empty'); }
      settle();
    };
    probe.onerror = function () { errors.push('image ' + (i + 1) + ' does not decode'); settle(); };
    probe.src = src;
  });
});
"#;

#[cfg(test)]
mod tests {
    use super::inline;

    #[test]
    fn inline_markup() {
        assert_eq!(
            inline("`a<b` and [Timing](#timing), [x](http://y) & `open"),
            "<code>a&lt;b</code> and <a href=\"#timing\">Timing</a>, [x](http://y) &amp; `open"
        );
    }
}
