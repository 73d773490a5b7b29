//! Lists of components that name their entries: `losses:` and `attacks:`.
//!
//! An entry is a component as anywhere else (`- lgm: {alpha: 0.1}`) with two
//! optional keys beside its name: `label:`, the name its results go under,
//! and `sweep:`, a map from parameters to lists of values that expands the
//! entry into one entry per combination:
//!
//! ```yaml
//! losses:
//!   - lgm: {covariance: identity}
//!     label: lgm-identity
//!   - lgm: {covariance: diagonal}
//!     label: lgm-diagonal
//!   - lgm: {covariance: diagonal}
//!     sweep: {alpha: [0.1, 0.3, 1.0]}   # lgm-alpha-0.1, lgm-alpha-0.3, lgm-alpha-1.0
//! ```
//!
//! Results tables key rows by the label, so two entries of one component
//! need distinct labels; the resolved parameters of each are recorded with
//! the job (the `jobs` table's config).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::locate::PathSeg;
use super::node::Node;
use super::{fail, fail_at, join, read_named, Bounds, Items, Named, Place, Res, Value};

/// The longest label.
const MAX_LABEL: usize = 100;

/// A component with the label its results go under (its name when unset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "Repr<T>", into = "Repr<T>")]
#[serde(bound = "T: Clone + Serialize + serde::de::DeserializeOwned")]
pub struct Labeled<T> {
    pub spec: T,
    /// Unset for an entry written without `label:` or `sweep:`; such an
    /// entry serialises as the bare component, so job ids of suites
    /// without labels are those of earlier versions.
    pub label: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr<T> {
    Labeled { label: String, spec: T },
    Plain(T),
}

impl<T> From<Repr<T>> for Labeled<T> {
    fn from(r: Repr<T>) -> Self {
        match r {
            Repr::Labeled { label, spec } => Labeled {
                spec,
                label: Some(label),
            },
            Repr::Plain(spec) => Labeled { spec, label: None },
        }
    }
}

impl<T> From<Labeled<T>> for Repr<T> {
    fn from(l: Labeled<T>) -> Self {
        match l.label {
            Some(label) => Repr::Labeled {
                label,
                spec: l.spec,
            },
            None => Repr::Plain(l.spec),
        }
    }
}

impl<T> std::ops::Deref for Labeled<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.spec
    }
}

impl<T: Named> Labeled<T> {
    /// An entry without a label.
    pub fn plain(spec: T) -> Self {
        Labeled { spec, label: None }
    }

    /// The name results go under: the label, else the component's name.
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(self.spec.named())
    }
}

/// Whether `s` may be a label: lowercase letters, digits, `_`, `-`, `.`.
fn is_label(s: &str) -> bool {
    (1..=MAX_LABEL).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b))
}

/// Splits a list item into the component (`{name: params}` or the bare
/// name), its `label` and its `sweep`.
fn parts<'a>(item: &'a Node, at: &[PathSeg]) -> Res<(Node, Option<&'a Node>, Option<&'a Node>)> {
    let Node::Map(entries) = item else {
        return Ok((item.clone(), None, None));
    };
    let (mut label, mut sweep, mut rest) = (None, None, Vec::new());
    for (key, value) in entries {
        let slot = match key.as_str() {
            "label" => &mut label,
            "sweep" => &mut sweep,
            _ => {
                rest.push((key.clone(), value.clone()));
                continue;
            }
        };
        if slot.replace(value).is_some() {
            let msg = format!("duplicate field `{key}`");
            return fail_at(&join(at, key.as_str()), Place::RepeatedKey, msg);
        }
    }
    if rest.is_empty() && (label.is_some() || sweep.is_some()) {
        return fail_at(
            at,
            Place::Key,
            "an entry with `label` or `sweep` needs a name too",
        );
    }
    Ok((Node::Map(rest), label, sweep))
}

/// The label written at `at`.
fn read_label(node: &Node, at: &[PathSeg]) -> Res<String> {
    let text = String::read(node, at, Bounds::default())?;
    match is_label(&text) {
        true => Ok(text),
        false => fail(
            at,
            format!(
                "`{text}` is not a valid label: use 1 to {MAX_LABEL} lowercase letters, digits, \
                 `_`, `-` and `.`"
            ),
        ),
    }
}

/// The combinations of `sweep: {param: [values]}`, each a list of
/// (param, index, value), in the order written (the last key varies fastest).
fn combinations(sweep: &Node, at: &[PathSeg]) -> Res<Vec<Vec<(String, usize, Node)>>> {
    let Node::Map(params) = sweep else {
        let found = sweep.found();
        return fail(
            at,
            format!("expected a map from parameter to a list of values, found {found}"),
        );
    };
    if params.is_empty() {
        return fail(at, "must sweep at least one parameter");
    }
    let mut out = vec![Vec::new()];
    for (param, values) in params {
        let here = join(at, param.as_str());
        let values = match values {
            Node::Seq(v) if v.len() >= 2 => v,
            _ => return fail(&here, "expected a list of at least two values to sweep"),
        };
        out = out
            .into_iter()
            .flat_map(|combo| {
                values.iter().enumerate().map(move |(i, v)| {
                    let mut c = combo.clone();
                    c.push((param.clone(), i, v.clone()));
                    c
                })
            })
            .collect();
    }
    Ok(out)
}

/// A list of labelled components (`losses:`, `attacks:`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
#[serde(bound = "T: Clone + Serialize + serde::de::DeserializeOwned")]
pub struct Entries<T>(pub Vec<Labeled<T>>);

/// Entries without labels.
impl<T: Named> From<Vec<T>> for Entries<T> {
    fn from(specs: Vec<T>) -> Self {
        Entries(specs.into_iter().map(Labeled::plain).collect())
    }
}

impl<T> std::ops::Deref for Entries<T> {
    type Target = Vec<Labeled<T>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T: Named> Entries<T> {
    fn read_item(item: &Node, at: &[PathSeg], out: &mut Vec<Labeled<T>>) -> Res<()> {
        let (component, label, sweep) = parts(item, at)?;
        let label = label
            .map(|l| read_label(l, &join(at, "label")))
            .transpose()?;
        let Some(sweep) = sweep else {
            out.push(Labeled {
                spec: read_named(&component, at)?,
                label,
            });
            return Ok(());
        };
        let sweep_at = join(at, "sweep");
        let Node::Map(named) = &component else {
            unreachable!("parts() gives a map when sweep is written")
        };
        let (name, params) = named.first().cloned().expect("parts() checked a name");
        for combo in combinations(sweep, &sweep_at)? {
            let mut params = match &params {
                Node::Map(p) => p.clone(),
                _ => Vec::new(),
            };
            let mut label = label.clone().unwrap_or_else(|| name.clone());
            for (param, i, value) in &combo {
                if params.iter().any(|(k, _)| k == param) {
                    let msg = format!("`{param}` is both set under `{name}` and swept");
                    return fail_at(&join(&sweep_at, param.as_str()), Place::Key, msg);
                }
                let text = value.text().unwrap_or_else(|| i.to_string());
                label = format!("{label}-{param}-{}", text.to_lowercase());
                params.push((param.clone(), value.clone()));
            }
            let one = Node::Map(vec![(name.clone(), Node::Map(params.clone()))]);
            // A swept value that fails is reported where it is written:
            // `at.name.param...` becomes `at.sweep.param[i]`.
            let under = join(at, name.as_str());
            let spec = read_named(&one, at).map_err(|mut f| {
                let swept = f.path.strip_prefix(under.as_slice()).and_then(|rest| {
                    combo
                        .iter()
                        .find(|(p, ..)| rest.first() == Some(&PathSeg::from(p.as_str())))
                });
                if let Some((param, i, _)) = swept {
                    let param_at = join(&sweep_at, param.as_str());
                    f.path = match f.place {
                        Place::Key => param_at,
                        _ => join(&param_at, *i),
                    };
                }
                f
            })?;
            if !is_label(&label) {
                let msg = format!("the swept label `{label}` is not a valid label; give `label:`");
                return fail(&sweep_at, msg);
            }
            out.push(Labeled {
                spec,
                label: Some(label),
            });
        }
        Ok(())
    }
}

impl<T: Named> Value for Entries<T> {
    const ITEM: &'static str = T::KIND;

    /// Refuses an entry identical to an earlier one, a label given twice
    /// and, for a list keyed by label ([`Items::Keyed`]), two entries under
    /// one label.
    fn read(node: &Node, at: &[PathSeg], b: Bounds) -> Res<Self> {
        let items = match node {
            Node::Seq(items) => items,
            _ => return fail(at, format!("expected a list, found {}", node.found())),
        };
        if items.is_empty() && b.items() != Items::MayBeEmpty {
            return fail(at, format!("must list at least one {}", T::KIND));
        }
        let list = match at.last() {
            Some(PathSeg::Key(key)) => key.clone(),
            _ => "the list".to_owned(),
        };
        // out[j] was written as item src[j].
        let (mut out, mut src): (Vec<Labeled<T>>, Vec<usize>) = (Vec::new(), Vec::new());
        for (i, item) in items.iter().enumerate() {
            let here = join(at, i);
            let before = out.len();
            Self::read_item(item, &here, &mut out)?;
            src.resize(out.len(), i);
            for new in before..out.len() {
                let e = &out[new];
                let first = |same: &dyn Fn(&Labeled<T>) -> bool| {
                    out[..new].iter().position(same).map(|j| src[j])
                };
                let label = e.label();
                if let Some(j) =
                    first(&|o| o.label.is_none() && e.label.is_none() && o.spec == e.spec)
                {
                    return fail(&here, e.spec.repeat(&list, j));
                }
                if let Some(j) = first(&|o| o.label.is_some() && o.label == e.label) {
                    return fail(
                        &here,
                        format!("label `{label}` is used twice (also {list}[{j}])"),
                    );
                }
                if let Some(j) =
                    first(&|o| o.label() == label).filter(|_| b.items() == Items::Keyed)
                {
                    let kind = T::KIND;
                    return fail(
                        &here,
                        format!(
                            "a second `{label}` {kind} ({list}[{j}] is `{label}` too): results \
                             are keyed by label, so give each a distinct `label:`"
                        ),
                    );
                }
            }
        }
        Ok(Entries(out))
    }

    /// Each item: a component, with an optional `label` and `sweep`.
    fn schema(b: Bounds) -> Json {
        let mut item = <T as Value>::schema(Bounds::default());
        let label = json!({"type": "string", "pattern": "^[a-z0-9_.-]+$", "minLength": 1,
            "maxLength": MAX_LABEL, "description": "the name results go under (default: the \
            component's name); two entries of one component need distinct labels"});
        let sweep = json!({"type": "object", "minProperties": 1, "description": "parameter -> \
            list of values; one entry per combination, labelled <label>-<param>-<value>",
            "additionalProperties": {"type": "array", "minItems": 2}});
        let object = &mut item["anyOf"][1];
        object["properties"]["label"] = label;
        object["properties"]["sweep"] = sweep;
        object["maxProperties"] = json!(3);
        object["oneOf"] = T::NAMES.iter().map(|n| json!({"required": [n]})).collect();
        let min = usize::from(b.items() != Items::MayBeEmpty);
        json!({"type": "array", "items": item, "minItems": min})
    }

    fn yaml(&self) -> Option<String> {
        self.is_empty().then(|| "[]".to_owned())
    }
}
