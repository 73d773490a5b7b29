//! The catalog: every name a suite may use, with its parameters, their
//! defaults and ranges, for `lossbench list`.
//!
//! Every entry comes from the declarations in [`super::spec`], the same
//! lines that read a suite and fill its defaults, so the listing cannot drift
//! from what a suite gets. tests/suite/catalog.rs still writes every entry and
//! every listed default back through the parser, which catches a default whose
//! YAML form does not read back as itself.

use super::{
    AttackSpec, DatasetName, DetectorSpec, LossSpec, ModelSpec, OodSource, OptimizerSpec,
    ScheduleSpec, SyntheticSpec,
};
use crate::decl::Named;
pub use crate::decl::{CatalogEntry, ParamDoc, REQUIRED};

/// Every dataset, model, optimizer, schedule, loss, attack, detector and
/// abnormal source, in
/// that order, each kind in the order a suite's error messages list them.
pub fn catalog() -> Vec<CatalogEntry> {
    let datasets = DatasetName::ALL.iter().zip(DatasetName::docs());
    let mut entries: Vec<CatalogEntry> = datasets
        .map(|(d, summary)| CatalogEntry {
            kind: "dataset",
            name: d.name(),
            summary,
            // Only the synthetic dataset has options (`data.synthetic`).
            params: match d {
                DatasetName::Synthetic => SyntheticSpec::params(),
                _ => Vec::new(),
            },
        })
        .collect();
    entries.extend(ModelSpec::entries());
    entries.extend(OptimizerSpec::entries());
    entries.extend(ScheduleSpec::entries());
    entries.extend(LossSpec::entries());
    entries.extend(AttackSpec::entries());
    entries.extend(DetectorSpec::entries());
    entries.extend(OodSource::entries());
    entries
}

/// The catalog as text for `lossbench list`: one block per kind, one line
/// per name, its parameters indented below it with their defaults.
///
/// ```text
/// loss
///   center      softmax cross-entropy plus center loss (docs/definitions.md §1)
///     lambda = 0.01    weight of the center term; >= 0
/// ```
pub fn render() -> String {
    let entries = catalog();
    let name_width = entries.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let param_width = entries
        .iter()
        .flat_map(|e| &e.params)
        .map(|p| p.name.len() + 3 + p.default.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let mut kind = "";
    for e in &entries {
        if e.kind != kind {
            if !kind.is_empty() {
                out.push('\n');
            }
            kind = e.kind;
            out.push_str(kind);
            out.push('\n');
            // The kinds whose lists are `Entries`.
            if matches!(kind, "loss" | "attack") {
                out.push_str(
                    "  (an entry also takes `label: <name>`, the name its results go under, and \
                     `sweep: {param: [values]}`, one entry per value)\n",
                );
            }
        }
        out.push_str(&format!("  {:name_width$}  {}\n", e.name, e.summary));
        for p in &e.params {
            let assign = format!("{} = {}", p.name, p.default);
            out.push_str(&format!("    {assign:param_width$}  {}\n", p.doc));
        }
    }
    out
}
