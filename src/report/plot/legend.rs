//! Shared drawing pieces: the legend strip right of a chart, lines whose
//! dash pattern tells seeds or detectors apart, and the fonts every plot
//! uses.
//!
//! Legends are drawn by hand instead of with plotters' series labels so that
//! they sit beside the chart, never over a curve, and can mix lines, markers
//! and filled boxes.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::err;

/// The font family of every text in the plots.
pub(crate) const FONT: &str = "sans-serif";
/// Font sizes in plotters units (the SVG gets size / 1.24 px).
pub(crate) const TITLE_SIZE: u32 = 24;
pub(crate) const PANEL_TITLE_SIZE: u32 = 19;
pub(crate) const AXIS_SIZE: u32 = 17;
pub(crate) const TICK_SIZE: u32 = 14;
const LEGEND_SIZE: u32 = 16;
/// Vertical distance between legend entries, in pixels.
const ROW: i32 = 20;

/// How an entry is drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Swatch {
    /// A line; `dash` 0 is solid, higher values have longer dashes.
    Line { colour: RGBColor, dash: u32 },
    /// A filled circle, as in a scatter plot.
    Marker(RGBColor),
    /// A filled box, as in a histogram.
    Fill(RGBAColor),
}

/// One legend line.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub label: String,
    pub swatch: Swatch,
}

impl Entry {
    pub(crate) fn new(label: impl Into<String>, swatch: Swatch) -> Entry {
        Entry {
            label: label.into(),
            swatch,
        }
    }
}

/// The width a legend needs for `title` and `entries`, in pixels.
pub(crate) fn legend_width(title: &str, entries: &[Entry]) -> u32 {
    let chars = entries
        .iter()
        .map(|e| e.label.chars().count())
        .chain(std::iter::once(title.chars().count()))
        .max()
        .unwrap_or(0) as u32;
    (chars * 8 + 56).clamp(110, 340)
}

/// The width a figure needs for its title (drawn at [`TITLE_SIZE`]), in
/// pixels: a rough 0.55 em per character plus a margin.
pub(crate) fn title_width(title: &str) -> u32 {
    title.chars().count() as u32 * 11 + 48
}

/// The height a legend needs for `entries` (and a title), in pixels.
pub(crate) fn legend_height(entries: &[Entry]) -> u32 {
    12 + ROW as u32 * (entries.len() as u32 + 1)
}

/// Draws a legend with its top-left corner at `origin` (pixels within
/// `area`): `title` in bold, then one row per entry; `boxed` draws it on a
/// white, framed box (for a legend inside a chart).
pub(crate) fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    origin: (i32, i32),
    title: &str,
    entries: &[Entry],
    boxed: bool,
) -> Result<(), String> {
    let (x0, y0) = origin;
    if boxed {
        let w = legend_width(title, entries) as i32;
        let h = legend_height(entries) as i32;
        area.draw(&Rectangle::new(
            [(x0, y0), (x0 + w, y0 + h)],
            WHITE.mix(0.9).filled(),
        ))
        .map_err(err)?;
        area.draw(&Rectangle::new(
            [(x0, y0), (x0 + w, y0 + h)],
            RGBColor(0x99, 0x99, 0x99).stroke_width(1),
        ))
        .map_err(err)?;
    }
    let left = Pos::new(HPos::Left, VPos::Center);
    let bold = TextStyle::from((FONT, LEGEND_SIZE).into_font().style(FontStyle::Bold)).pos(left);
    let plain = TextStyle::from((FONT, LEGEND_SIZE).into_font()).pos(left);
    let top = y0 + 6 + ROW / 2;
    area.draw(&Text::new(title.to_owned(), (x0 + 8, top), bold))
        .map_err(err)?;
    for (i, e) in entries.iter().enumerate() {
        let y = top + ROW * (i as i32 + 1);
        let (a, b) = (x0 + 8, x0 + 36);
        match e.swatch {
            Swatch::Line { colour, dash: 0 } => area
                .draw(&PathElement::new(
                    vec![(a, y), (b, y)],
                    colour.stroke_width(2),
                ))
                .map_err(err)?,
            Swatch::Line { colour, dash } => area
                .draw(&DashedPathElement::new(
                    vec![(a, y), (b, y)],
                    dash_size(dash),
                    DASH_GAP,
                    colour.stroke_width(2),
                ))
                .map_err(err)?,
            Swatch::Marker(colour) => area
                .draw(&Circle::new((x0 + 22, y), 5, colour.filled()))
                .map_err(err)?,
            Swatch::Fill(colour) => area
                .draw(&Rectangle::new(
                    [(a + 2, y - 6), (b - 2, y + 6)],
                    colour.filled(),
                ))
                .map_err(err)?,
        }
        area.draw(&Text::new(e.label.clone(), (x0 + 44, y), plain.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// The fine grid lines of every chart: present, but quiet.
pub(crate) const LIGHT_GRID: RGBColor = RGBColor(0xf2, 0xf2, 0xf2);

/// Dash length of pattern `dash` (≥ 1).
fn dash_size(dash: u32) -> u32 {
    2 + 3 * dash
}
const DASH_GAP: u32 = 4;

/// Draws `points` as a 2 px line, solid for `dash` 0, dashed otherwise, on a
/// chart with any kind of f64 axes (linear or logarithmic).
pub(crate) fn draw_line<X, Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    points: &[(f64, f64)],
    colour: RGBColor,
    dash: u32,
) -> Result<(), String>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let style = colour.stroke_width(2);
    if dash == 0 {
        chart
            .draw_series(LineSeries::new(points.iter().copied(), style))
            .map_err(err)?;
    } else {
        chart
            .draw_series(DashedLineSeries::new(
                points.iter().copied(),
                dash_size(dash),
                DASH_GAP,
                style,
            ))
            .map_err(err)?;
    }
    Ok(())
}
