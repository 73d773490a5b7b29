//! The catalog: every name a suite may use, with its parameters, their
//! defaults and ranges, for `lossbench list`.
//!
//! Every entry comes from the declarations in [`super::spec`], the same
//! lines that read a suite and fill its defaults, so the listing cannot drift
//! from what a suite gets. The tests below still write every entry and every
//! listed default back through the parser, which catches a default whose
//! YAML form does not read back as itself.

use super::decl::Named;
pub use super::decl::{CatalogEntry, ParamDoc, REQUIRED};
use super::{
    AttackSpec, DatasetName, DetectorSpec, LossSpec, ModelSpec, OptimizerSpec, ScheduleSpec,
    SyntheticSpec,
};

/// Every dataset, model, optimizer, schedule, loss, attack and detector, in
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
        }
        out.push_str(&format!("  {:name_width$}  {}\n", e.name, e.summary));
        for p in &e.params {
            let assign = format!("{} = {}", p.name, p.default);
            out.push_str(&format!("    {assign:param_width$}  {}\n", p.doc));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::suite::Suite;

    /// A minimal suite with the entry `name` of `kind`, its parameters set
    /// to `params` (a YAML map body) if given.
    fn suite_with(kind: &str, name: &str, params: Option<&str>) -> Suite {
        let entry = match params {
            None => name.to_owned(),
            Some(p) => format!("{{{name}: {{{p}}}}}"),
        };
        let (mut data, mut model) = ("{dataset: synthetic}".to_owned(), "mlp".to_owned());
        let (mut train, mut losses, mut extra) =
            ("{}".to_owned(), "[softmax]".to_owned(), String::new());
        match (kind, params) {
            ("dataset", None) => data = format!("{{dataset: {name}}}"),
            ("dataset", Some(p)) => data = format!("{{dataset: {name}, synthetic: {{{p}}}}}"),
            ("model", _) => model = entry,
            // Enough epochs for any milestone the examples use.
            ("optimizer" | "schedule", _) => train = format!("{{epochs: 10, {kind}: {entry}}}"),
            ("loss", _) => losses = format!("[{entry}]"),
            ("attack", _) => extra = format!("attacks: [{entry}]\n"),
            // Detectors need an attack, and kd-bu a model with dropout.
            _ => {
                model = "{mlp: {dropout: 0.2}}".to_owned();
                extra = format!("attacks: [fgsm]\ndetectors: [{entry}]\n");
            }
        }
        let text = format!(
            "name: t\ndata: {data}\nmodel: {model}\ntrain: {train}\nlosses: {losses}\n\
             seeds: [0]\n{extra}"
        );
        Suite::parse(&text, Path::new("catalog.yaml"))
            .unwrap_or_else(|e| panic!("{e}\n--- suite:\n{text}"))
    }

    /// The required parameters of an entry, written with the example their
    /// declaration gives (which must therefore be valid).
    fn required(e: &CatalogEntry) -> Vec<String> {
        let required = e.params.iter().filter(|p| p.default == REQUIRED);
        required
            .map(|p| format!("{}: {}", p.name, p.schema["examples"][0]))
            .collect()
    }

    #[test]
    fn render_lists_every_kind_name_and_param() {
        let text = render();
        for e in catalog() {
            assert!(text.lines().any(|l| l == e.kind), "{}", e.kind);
            assert!(text.contains(&format!("  {} ", e.name)), "{}", e.name);
            for p in &e.params {
                let line = format!("{} = {}", p.name, p.default);
                assert!(text.contains(&line), "{line}");
            }
        }
        assert!(text.contains("    covariance = identity  "));
    }

    #[test]
    fn every_entry_parses_and_every_listed_default_is_the_one_filled_in() {
        // Writing each listed default explicitly must give the same suite as
        // leaving it out.
        for e in catalog() {
            let req = required(&e);
            let minimal = (!req.is_empty()).then(|| req.join(", "));
            let base = suite_with(e.kind, e.name, minimal.as_deref());
            let literal = |p: &&ParamDoc| p.default != REQUIRED && !p.default.starts_with('(');
            for p in e.params.iter().filter(literal) {
                let mut all = req.clone();
                all.push(format!("{}: {}", p.name, p.default));
                let got = suite_with(e.kind, e.name, Some(&all.join(", ")));
                assert_eq!(
                    got, base,
                    "{} `{}`: default of `{}`",
                    e.kind, e.name, p.name
                );
            }
        }
    }
}
