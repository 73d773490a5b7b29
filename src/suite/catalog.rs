//! The catalog: every name a suite may use, with its parameters and their
//! defaults, for `lossbench list`.
//!
//! Defaults are read from [`super::validate::defaults`] and
//! `SyntheticSpec::default()`, the values validation fills in, so the listing
//! cannot drift from what a suite gets. The tests below parse every entry and
//! every parameter through the real parser, and compare each parameter list
//! with the keys the raw layer accepts.

use crate::data::SyntheticSpec;

use super::raw::{self, Named};
use super::validate::defaults as d;

/// One named thing a suite can use.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    /// `dataset`, `model`, `optimizer`, `schedule`, `loss`, `attack` or
    /// `detector`.
    pub kind: &'static str,
    /// The name as written in a suite.
    pub name: &'static str,
    /// One line on what it is.
    pub summary: &'static str,
    /// Its parameters, in the order the catalog lists them.
    pub params: Vec<ParamDoc>,
}

/// One parameter of a catalog entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDoc {
    /// The key as written in a suite (kebab-case).
    pub name: &'static str,
    /// The default as it would be written in YAML, `required`, or a rule in
    /// parentheses when it derives from another value, e.g. `(eps / 4)`.
    pub default: String,
    /// What it does and which values are allowed.
    pub doc: &'static str,
}

/// What [`ParamDoc::default`] says of a parameter that has none.
pub const REQUIRED: &str = "required";

fn param(name: &'static str, default: impl ToString, doc: &'static str) -> ParamDoc {
    ParamDoc {
        name,
        default: default.to_string(),
        doc,
    }
}

fn entry(
    kind: &'static str,
    name: &'static str,
    summary: &'static str,
    params: Vec<ParamDoc>,
) -> CatalogEntry {
    CatalogEntry {
        kind,
        name,
        summary,
        params,
    }
}

/// A float as YAML would read it back: `0` stays `0.0`, so the listed value
/// has the parameter's type.
fn real(v: f64) -> String {
    format!("{v:?}")
}

fn list(vs: &[f64]) -> String {
    let items: Vec<String> = vs.iter().map(|v| real(*v)).collect();
    format!("[{}]", items.join(", "))
}

/// Every dataset, model, optimizer, schedule, loss, attack and detector, in
/// that order, each kind in the order a suite's error messages list them.
pub fn catalog() -> Vec<CatalogEntry> {
    let syn = SyntheticSpec::default();
    let model_params = || {
        vec![
            param(
                "feature-dim",
                d::FEATURE_DIM,
                "size of the feature vector the head sees; >= 1",
            ),
            param(
                "dropout",
                real(d::DROPOUT),
                "dropout before the feature layer; in [0, 1)",
            ),
        ]
    };
    let gamma = || {
        param(
            "gamma",
            real(d::SCHEDULE_GAMMA),
            "learning-rate factor; in (0, 1]",
        )
    };
    let covariance = match d::LGM_COVARIANCE {
        super::Covariance::Identity => "identity",
        super::Covariance::Isotropic => "isotropic",
        super::Covariance::Diagonal => "diagonal",
    };
    vec![
        entry(
            "dataset",
            "mnist",
            "MNIST handwritten digits, 28x28 grey, 10 classes",
            vec![],
        ),
        entry(
            "dataset",
            "fashion-mnist",
            "Fashion-MNIST clothing images, 28x28 grey, 10 classes",
            vec![],
        ),
        entry(
            "dataset",
            "cifar10",
            "CIFAR-10 natural images, 32x32 colour, 10 classes",
            vec![],
        ),
        entry(
            "dataset",
            "cifar100",
            "CIFAR-100 natural images, 32x32 colour, 100 classes",
            vec![],
        ),
        entry(
            "dataset",
            "synthetic",
            "seeded prototypes plus noise, tiny and fast (options under `data.synthetic`)",
            vec![
                param("seed", syn.seed, "seed of the prototypes and the noise"),
                param("classes", syn.classes, "number of classes; 2..=10"),
                param("train", syn.train, "training samples; >= 1"),
                param("test", syn.test, "test samples; >= 1"),
                param(
                    "side",
                    syn.side,
                    "image side in pixels (one channel); 4..=64",
                ),
            ],
        ),
        entry(
            "model",
            "mlp",
            "two hidden layers of 256 units, then the feature layer",
            model_params(),
        ),
        entry(
            "model",
            "small-cnn",
            "two conv-ReLU-pool blocks (32 and 64 channels), then the feature layer",
            model_params(),
        ),
        entry(
            "model",
            "lenetpp",
            "LeNet++ (Wen et al. 2016): 5x5 convs 32-32, 64-64, 128-128, PReLU, pooling",
            model_params(),
        ),
        entry(
            "model",
            "resnet20",
            "CIFAR ResNet-20 (He et al. 2016)",
            model_params(),
        ),
        entry(
            "model",
            "resnet32",
            "CIFAR ResNet-32 (He et al. 2016)",
            model_params(),
        ),
        entry(
            "model",
            "resnet56",
            "CIFAR ResNet-56 (He et al. 2016)",
            model_params(),
        ),
        entry(
            "optimizer",
            "adam",
            "Adam (the default optimizer)",
            vec![
                param(
                    "beta1",
                    real(d::ADAM_BETA1),
                    "first-moment decay; in [0, 1)",
                ),
                param(
                    "beta2",
                    real(d::ADAM_BETA2),
                    "second-moment decay; in [0, 1)",
                ),
            ],
        ),
        entry(
            "optimizer",
            "sgd",
            "stochastic gradient descent with momentum",
            vec![
                param("momentum", real(d::SGD_MOMENTUM), "momentum; in [0, 1)"),
                param("nesterov", d::SGD_NESTEROV, "Nesterov momentum"),
            ],
        ),
        entry(
            "schedule",
            "constant",
            "the learning rate never changes (the default)",
            vec![],
        ),
        entry(
            "schedule",
            "cosine",
            "cosine annealing from lr to 0 over all epochs",
            vec![],
        ),
        entry(
            "schedule",
            "step",
            "multiply the learning rate by gamma every step-size epochs",
            vec![
                param("step-size", REQUIRED, "epochs between decays; >= 1"),
                gamma(),
            ],
        ),
        entry(
            "schedule",
            "multistep",
            "multiply the learning rate by gamma at each milestone epoch",
            vec![
                param(
                    "milestones",
                    REQUIRED,
                    "epochs at which to decay; non-empty, strictly increasing, in 1..=epochs",
                ),
                gamma(),
            ],
        ),
        entry("loss", "softmax", "softmax cross-entropy (docs/definitions.md §1)", vec![]),
        entry(
            "loss",
            "center",
            "softmax cross-entropy plus center loss (docs/definitions.md §1)",
            vec![
                param(
                    "lambda",
                    real(d::CENTER_LAMBDA),
                    "weight of the center term; >= 0",
                ),
                param(
                    "alpha",
                    real(d::CENTER_ALPHA),
                    "centre update rate; in (0, 1]",
                ),
            ],
        ),
        entry(
            "loss",
            "lsoftmax",
            "large-margin softmax with annealed beta (docs/definitions.md §1)",
            vec![
                param("m", d::LSOFTMAX_M, "angular margin; 1..=4"),
                param(
                    "beta-base",
                    real(d::LSOFTMAX_BETA_BASE),
                    "initial weight of plain softmax in the target logit; >= 0",
                ),
                param(
                    "gamma",
                    real(d::LSOFTMAX_GAMMA),
                    "annealing rate per step; >= 0",
                ),
                param("power", real(d::LSOFTMAX_POWER), "annealing exponent; >= 0"),
                param(
                    "beta-min",
                    real(d::LSOFTMAX_BETA_MIN),
                    "floor of the annealed beta; >= 0",
                ),
            ],
        ),
        entry(
            "loss",
            "lgm",
            "large-margin Gaussian mixture loss (docs/definitions.md §1)",
            vec![
                param("alpha", real(d::LGM_ALPHA), "classification margin; >= 0"),
                param(
                    "lambda",
                    real(d::LGM_LAMBDA),
                    "weight of the likelihood term; >= 0",
                ),
                param("covariance", covariance, "identity, isotropic or diagonal"),
                param(
                    "log-var-floor",
                    real(d::LGM_LOG_VAR_FLOOR),
                    "lower bound on learnt log-variances; finite",
                ),
                param(
                    "warmup-epochs",
                    d::LGM_WARMUP_EPOCHS,
                    "linear warm-up of alpha and lambda; <= train.epochs, 0 = none",
                ),
            ],
        ),
        entry(
            "attack",
            "fgsm",
            "fast gradient sign method, one step per eps (docs/definitions.md §2)",
            vec![param(
                "eps",
                list(d::FGSM_EPS),
                "L-inf budget in pixel units; a number or a list, each in [0, 1]",
            )],
        ),
        entry(
            "attack",
            "bim",
            "basic iterative method, projected L-inf steps (docs/definitions.md §2)",
            vec![
                param(
                    "eps",
                    list(d::BIM_EPS),
                    "L-inf budget in pixel units; a number or a list, each in [0, 1]",
                ),
                param("step-size", "(eps / 4)", "step a; in (0, 1]"),
                param("steps", d::BIM_STEPS, "iterations T; >= 1"),
                param(
                    "stop",
                    "last",
                    "last (BIM-b: all T steps) or first (BIM-a: stop at the first success)",
                ),
            ],
        ),
        entry(
            "attack",
            "deepfool",
            "DeepFool, L2, batched over samples (docs/definitions.md §2)",
            vec![
                param(
                    "candidates",
                    d::DEEPFOOL_CANDIDATES,
                    "top-scoring classes considered; >= 2",
                ),
                param(
                    "overshoot",
                    real(d::DEEPFOOL_OVERSHOOT),
                    "applied to the cumulative perturbation; >= 0",
                ),
                param("max-iter", d::DEEPFOOL_MAX_ITER, "iterations at most; >= 1"),
            ],
        ),
        entry(
            "detector",
            "max-softmax",
            "maximum softmax probability as a confidence score (docs/definitions.md §3)",
            vec![],
        ),
        entry(
            "detector",
            "lgm-likelihood",
            "L-GM log-likelihood of the features; skipped for other losses (docs/definitions.md §3)",
            vec![],
        ),
        entry(
            "detector",
            "mahalanobis",
            "min Mahalanobis distance to class means, tied covariance (docs/definitions.md §3)",
            vec![],
        ),
        entry(
            "detector",
            "kd",
            "kernel density of training features of the predicted class (docs/definitions.md §3)",
            vec![param(
                "sigma",
                real(d::KD_SIGMA),
                "Gaussian kernel bandwidth; > 0",
            )],
        ),
        entry(
            "detector",
            "kd-bu",
            "logistic regression on kernel density and MC-dropout uncertainty (docs/definitions.md §3)",
            vec![
                param("sigma", real(d::KD_SIGMA), "Gaussian kernel bandwidth; > 0"),
                param(
                    "samples",
                    d::KD_BU_SAMPLES,
                    "MC-dropout passes T; >= 2; needs model dropout > 0",
                ),
            ],
        ),
        entry(
            "detector",
            "lid",
            "logistic regression on per-layer local intrinsic dimensionality (docs/definitions.md §3)",
            vec![
                param("k", d::LID_K, "neighbours; >= 1 and < batch"),
                param(
                    "batch",
                    d::LID_BATCH,
                    "clean references per minibatch; >= 2",
                ),
            ],
        ),
    ]
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

/// The names validation accepts for `kind`, in the order its messages list
/// them; empty for an unknown kind.
pub fn names(kind: &str) -> Vec<&'static str> {
    match kind {
        "dataset" => raw::DATASETS.iter().map(|d| d.as_str()).collect(),
        "model" => raw::RawModel::NAMES.to_vec(),
        "optimizer" => raw::RawOptimizer::NAMES.to_vec(),
        "schedule" => raw::RawSchedule::NAMES.to_vec(),
        "loss" => raw::RawLoss::NAMES.to_vec(),
        "attack" => raw::RawAttack::NAMES.to_vec(),
        "detector" => raw::RawDetector::NAMES.to_vec(),
        _ => Vec::new(),
    }
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

    /// A valid value for a required parameter.
    fn example(param: &str) -> &'static str {
        match param {
            "step-size" => "3",
            "milestones" => "[3, 6]",
            other => panic!("no example value for required parameter `{other}`"),
        }
    }

    /// The required parameters of an entry, written out.
    fn required(e: &CatalogEntry) -> Vec<String> {
        e.params
            .iter()
            .filter(|p| p.default == REQUIRED)
            .map(|p| format!("{}: {}", p.name, example(p.name)))
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
    fn names_match_what_validation_accepts() {
        let cat = catalog();
        for kind in KINDS {
            let listed: Vec<&str> = cat
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.name)
                .collect();
            assert_eq!(listed, names(kind), "{kind}");
        }
        assert!(cat.iter().all(|e| KINDS.contains(&e.kind)));
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
        // An unknown key makes serde list every accepted key; that list must
        // be the catalog's.
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
