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
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;
    use crate::suite::Suite;

    const KINDS: [&str; 7] = [
        "dataset",
        "model",
        "optimizer",
        "schedule",
        "loss",
        "attack",
        "detector",
    ];

    /// A minimal suite with `entry` (YAML) put where its kind goes.
    fn suite_with(kind: &str, entry: &str) -> String {
        let mut data = "{dataset: synthetic}".to_owned();
        let mut model = "mlp".to_owned();
        let mut train = "{}".to_owned();
        let mut losses = "[softmax]".to_owned();
        let mut extra = String::new();
        match kind {
            "dataset" => data = entry.to_owned(),
            "model" => model = entry.to_owned(),
            // Enough epochs for any milestone the tests use.
            "optimizer" => train = format!("{{epochs: 10, optimizer: {entry}}}"),
            "schedule" => train = format!("{{epochs: 10, schedule: {entry}}}"),
            "loss" => losses = format!("[{entry}]"),
            "attack" => extra = format!("attacks: [{entry}]\n"),
            // Detectors need an attack, and kd-bu a model with dropout.
            "detector" => {
                model = "{mlp: {dropout: 0.2}}".to_owned();
                extra = format!("attacks: [fgsm]\ndetectors: [{entry}]\n");
            }
            _ => panic!("unknown kind {kind}"),
        }
        format!(
            "name: t\ndata: {data}\nmodel: {model}\ntrain: {train}\nlosses: {losses}\nseeds: [0]\n{extra}"
        )
    }

    /// The entry for `name`, with `params` (a YAML map body) if any.
    fn written(kind: &str, name: &str, params: Option<&str>) -> String {
        match (kind, params) {
            ("dataset", None) => format!("{{dataset: {name}}}"),
            ("dataset", Some(p)) => format!("{{dataset: {name}, synthetic: {{{p}}}}}"),
            (_, None) => name.to_owned(),
            (_, Some(p)) => format!("{{{name}: {{{p}}}}}"),
        }
    }

    /// The required parameters of an entry, written out with the example
    /// their declaration gives (which must therefore be valid).
    fn required(e: &CatalogEntry) -> Vec<String> {
        e.params
            .iter()
            .filter(|p| p.default == REQUIRED)
            .map(|p| format!("{}: {}", p.name, p.schema["examples"][0]))
            .collect()
    }

    fn parse(text: &str) -> Suite {
        Suite::parse(text, Path::new("catalog.yaml"))
            .unwrap_or_else(|e| panic!("{e}\n--- suite:\n{text}"))
    }

    #[test]
    fn render_lists_every_name_and_param() {
        let text = render();
        for kind in KINDS {
            assert!(text.lines().any(|l| l == kind), "{kind}");
        }
        for e in catalog() {
            assert!(text.contains(&format!("  {} ", e.name)), "{}", e.name);
            for p in &e.params {
                assert!(
                    text.contains(&format!("{} = {}", p.name, p.default)),
                    "{}",
                    p.name
                );
            }
        }
        assert!(text.contains("    covariance = identity  "));
    }

    #[test]
    fn every_entry_parses_in_its_minimal_form() {
        for e in catalog() {
            let req = required(&e);
            let params = (!req.is_empty()).then(|| req.join(", "));
            let suite = parse(&suite_with(
                e.kind,
                &written(e.kind, e.name, params.as_deref()),
            ));
            if e.kind == "model" {
                assert_eq!(suite.model.kind.name(), e.name);
            }
        }
    }

    #[test]
    fn every_listed_default_is_the_default_validation_fills() {
        // Writing each listed default explicitly must give the same suite as
        // leaving it out.
        for e in catalog() {
            let req = required(&e);
            let bare = (!req.is_empty()).then(|| req.join(", "));
            let base = parse(&suite_with(
                e.kind,
                &written(e.kind, e.name, bare.as_deref()),
            ));
            let literal = |p: &&ParamDoc| p.default != REQUIRED && !p.default.starts_with('(');
            for p in e.params.iter().filter(literal) {
                let mut all = req.clone();
                all.push(format!("{}: {}", p.name, p.default));
                let explicit = written(e.kind, e.name, Some(&all.join(", ")));
                let got = parse(&suite_with(e.kind, &explicit));
                assert_eq!(
                    got, base,
                    "{} `{}`: default of `{}`",
                    e.kind, e.name, p.name
                );
            }
        }
    }

    #[test]
    fn params_match_the_keys_the_parser_accepts() {
        // An unknown key makes the parser list every accepted key; that list
        // must be the catalog's.
        for e in catalog() {
            if e.kind == "dataset" && e.params.is_empty() {
                continue;
            }
            let text = suite_with(e.kind, &written(e.kind, e.name, Some("zzz: 1")));
            let err = Suite::parse(&text, Path::new("c.yaml"))
                .unwrap_err()
                .to_string();
            if e.params.is_empty() {
                let none = format!("`{}` takes no parameters", e.name);
                assert!(err.ends_with(&none), "{err}");
                continue;
            }
            let accepted: BTreeSet<String> = err
                .split("unknown field `zzz`")
                .nth(1)
                .unwrap_or_else(|| panic!("{}: {err}", e.name))
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            let listed: BTreeSet<String> = e.params.iter().map(|p| p.name.to_owned()).collect();
            assert_eq!(accepted, listed, "{} `{}`", e.kind, e.name);
        }
    }
}
