//! Detection and aggregation metrics (docs/definitions.md §4), as plain Rust on `f64` slices.
//!
//! Every detection metric takes the scores of the positives (adversarial
//! examples) and of the negatives (their clean counterparts); a higher score
//! means "more likely adversarial". Scores may be ±inf, ordered as numbers; a
//! NaN score is an error. This room knows nothing of tch, polars or the result
//! tables: the runner feeds it slices and stores what it returns.

mod aggregate;
mod bootstrap;
mod mixture;
mod roc;

pub use aggregate::mean_std;
pub use bootstrap::{
    auroc_bootstrap_ci, auroc_bootstrap_ci_paired, auroc_bootstrap_ci_paired_with,
    BOOTSTRAP_RESAMPLES,
};
pub use mixture::{mixture_fit, MixtureFit};
pub use roc::{aupr, aupr_in, auroc, det_acc, fpr_at_95tpr, roc_curve, Detection, Roc};

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// A NaN score. `index` counts the positive scores first, then the
    /// negative ones: index `i >= pos.len()` is negative `i - pos.len()`.
    #[error("score {index} is NaN (indices count the positive scores, then the negative ones)")]
    NaN { index: usize },
    /// No positive or no negative scores: a ranking metric needs both classes.
    #[error("only one class present: no {missing} scores")]
    OneClass {
        /// `"positive"` or `"negative"`.
        missing: &'static str,
    },
    /// A paired metric got sides of different lengths: the i-th positive and
    /// the i-th negative must come from the same sample.
    #[error("paired scores of different lengths: {pos} positive, {neg} negative")]
    Unpaired { pos: usize, neg: usize },
}
