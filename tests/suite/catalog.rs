//! `lossbench list`: every entry and every listed default, written back
//! through the parser, reads back as itself.

use std::path::Path;

use lossbench::suite::catalog::{catalog, render, CatalogEntry, ParamDoc, REQUIRED};
use lossbench::suite::Suite;

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
        // An external model needs its file and the loss `external`.
        ("model", _) if name == "torchscript" => {
            let more = params.map(|p| format!(", {p}")).unwrap_or_default();
            model = format!("{{torchscript: {{path: m.pt{more}}}}}");
            losses = "[external]".to_owned();
        }
        ("loss", _) if name == "external" => {
            model = "{torchscript: {path: m.pt}}".to_owned();
            losses = format!("[{entry}]");
        }
        ("model", _) => model = entry,
        // Enough epochs for any milestone the examples use.
        ("optimizer" | "schedule", _) => train = format!("{{epochs: 10, {kind}: {entry}}}"),
        ("loss", _) => losses = format!("[{entry}]"),
        ("attack", _) => extra = format!("attacks: [{entry}]\n"),
        // Held-out classes need classes to hold out.
        ("abnormal source", _) => {
            data = "{dataset: synthetic, classes: [0, 1]}".to_owned();
            extra = format!("ood: [{entry}]\n");
        }
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
        // An external model refuses the options of the models lossbench builds.
        let refused =
            |p: &ParamDoc| e.name == "torchscript" && ["feature-dim", "dropout"].contains(&p.name);
        let literal =
            |p: &&ParamDoc| p.default != REQUIRED && !p.default.starts_with('(') && !refused(p);
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
