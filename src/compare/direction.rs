//! The one table of metric directions ([`METRICS`]) and the parsing of
//! tolerances. Which way is "better" for each metric is decided here and
//! nowhere else; the README repeats the table.

use serde::Serialize;

/// Whether a larger value of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    /// Never a regression: counts, perturbation sizes, unknown metrics.
    Informational,
}

/// One line of the direction table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricInfo {
    pub name: &'static str,
    pub direction: Direction,
    /// Wall-clock metrics: gated only under an explicit tolerance.
    pub timing: bool,
    /// Unit for the benchmark file.
    pub unit: &'static str,
}

const fn info(
    name: &'static str,
    direction: Direction,
    timing: bool,
    unit: &'static str,
) -> MetricInfo {
    MetricInfo {
        name,
        direction,
        timing,
        unit,
    }
}

use Direction::{HigherIsBetter as Up, Informational as Info, LowerIsBetter as Down};

/// Every metric lossbench writes, with its direction (see the module docs).
pub const METRICS: [MetricInfo; 29] = [
    info("clean_acc", Up, false, "fraction"),
    info("robust_acc", Up, false, "fraction"),
    info("defended_acc", Up, false, "fraction"),
    info("auroc", Up, false, "fraction"),
    info("aupr", Up, false, "fraction"),
    info("aupr_in", Up, false, "fraction"),
    info("aupr_out", Up, false, "fraction"),
    info("det_acc", Up, false, "fraction"),
    info("auroc_ci_low", Up, false, "fraction"),
    info("auroc_ci_high", Up, false, "fraction"),
    info("images_per_s", Up, true, "images/s"),
    info("asr", Down, false, "fraction"),
    info("fpr_at_95tpr", Down, false, "fraction"),
    info("seconds", Down, true, "s"),
    info("n_eval", Info, false, "count"),
    info("n_pairs", Info, false, "count"),
    info("n_attacks", Info, false, "count"),
    info("n_in", Info, false, "count"),
    info("n_out", Info, false, "count"),
    info("iters_mean", Info, false, "iterations"),
    info("l2_mean", Info, false, "pixels"),
    info("l2_median", Info, false, "pixels"),
    info("linf_mean", Info, false, "pixels"),
    info("kd_sigma", Info, false, "feature units"),
    info("lr_c", Info, false, "inverse regularisation"),
    info("lgm_mean_dist", Info, false, "feature units"),
    info("lgm_mean_dist_max", Info, false, "feature units"),
    info("lgm_class_sep", Info, false, "feature units"),
    info("lgm_mean_dist_rel", Info, false, "ratio"),
];

/// The table entry of `metric`, if it has one.
pub fn metric_info(metric: &str) -> Option<&'static MetricInfo> {
    METRICS.iter().find(|m| m.name == metric)
}

/// The direction of `metric`; metrics outside [`METRICS`] are informational.
pub fn direction(metric: &str) -> Direction {
    metric_info(metric).map_or(Info, |m| m.direction)
}

/// Whether `metric` is a wall-clock metric.
pub fn is_timing(metric: &str) -> bool {
    metric_info(metric).is_some_and(|m| m.timing)
}

/// Parses `metric=value` (a `--tolerance` argument): a finite value >= 0.
///
/// # Errors
///
/// A message naming the argument when it is not of that form.
pub fn parse_tolerance(arg: &str) -> std::result::Result<(String, f64), String> {
    let (metric, value) = arg
        .split_once('=')
        .ok_or_else(|| format!("'{arg}': expected METRIC=VALUE, e.g. clean_acc=0.02"))?;
    let metric = metric.trim();
    if metric.is_empty() {
        return Err(format!("'{arg}': the metric name is empty"));
    }
    let value = parse_tolerance_value(value.trim()).map_err(|e| format!("'{arg}': {e}"))?;
    Ok((metric.to_owned(), value))
}

/// Parses a tolerance: a finite number >= 0 (`--default-tolerance`).
///
/// # Errors
///
/// A message when `s` is not a finite number >= 0.
pub fn parse_tolerance_value(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "tolerance '{s}' must be a finite number >= 0 (absolute, in the metric's units)"
        )),
    }
}
