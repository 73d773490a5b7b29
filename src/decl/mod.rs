//! Typed declarations over YAML: the machinery behind the suite format of
//! [`crate::suite::spec`]. How a declared parameter is read from the YAML
//! tree ([`node`]), checked, placed at its line and column ([`locate`]),
//! documented and described as JSON Schema; and lists of named components
//! with labels and sweeps ([`entries`]). Nothing here knows a loss, an
//! attack or a detector: those are declared in [`crate::suite::spec`].
//!
//! A parameter is declared once, as a line of a `section!` or
//! `components!` block: its key, its Rust type, its default, its bounds and
//! its doc comment. The macros turn those lines into the resolved type
//! itself, the reader that fills its defaults and reports mistakes (with the
//! field path; [`locate`] finds the line and column), the entries of
//! `lossbench list`, and the JSON Schema. The [`Value`] trait says, per Rust
//! type, what "a whole number" or "a list" means in each of those places, so
//! a new parameter of a known type needs nothing but its line. The macros
//! name what they use unqualified: they are invoked where [`prelude`] is
//! imported.

use std::ops::{RangeFrom, RangeInclusive};
use std::path::PathBuf;

use serde_json::{json, Value as Json};

pub mod entries;
pub mod locate;
pub mod node;

use locate::PathSeg;
pub use locate::Place;
use node::Node;

/// What the declaration macros name.
pub mod prelude {
    pub use super::locate::PathSeg;
    pub use super::node::Node;
    pub use super::{
        doc_text, fail, join, read_named, AutoOr, Bounds, CatalogEntry, DefaultIs, Fields,
        Interval, Items, Named, ParamDoc, Res, Value,
    };
}

/// A suite mistake before it is placed in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Fail {
    /// The field path: `losses[2].lgm.alpha`.
    pub path: Vec<PathSeg>,
    /// Which part of the field the mistake is in.
    pub place: Place,
    pub msg: String,
}

pub type Res<T> = Result<T, Fail>;

/// A mistake in the value at `at`.
pub fn fail<T>(at: &[PathSeg], msg: impl Into<String>) -> Res<T> {
    fail_at(at, Place::Value, msg)
}

pub fn fail_at<T>(at: &[PathSeg], place: Place, msg: impl Into<String>) -> Res<T> {
    let (path, msg) = (at.to_vec(), msg.into());
    Err(Fail { path, place, msg })
}

/// `at` one step deeper.
pub fn join(at: &[PathSeg], seg: impl Into<PathSeg>) -> Vec<PathSeg> {
    let mut path = at.to_vec();
    path.push(seg.into());
    path
}

/// "expected a number, found text \"x\"", at `at`.
fn expected<T>(node: &Node, at: &[PathSeg], what: &str) -> Res<T> {
    fail(at, format!("expected {what}, found {}", node.found()))
}

/// `names` as "`a`, `b`, `c`".
pub fn quoted(names: &[&str]) -> String {
    let items: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    items.join(", ")
}

/// " (did you mean `x`?)" when `name` is a likely misspelling of one of
/// `candidates` (ignoring case, at most one edit per three characters).
pub fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    let name = name.to_lowercase();
    let limit = name.chars().count().max(3) / 3;
    candidates
        .iter()
        .map(|c| (edit_distance(&name, &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// Edit distance over characters, a swap of two neighbours counting as one
/// edit (`fgms` is one edit from `fgsm`).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // d[i][j]: the distance between the first i chars of a and j of b.
    let mut d: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j - 1] + cost)
                .min(d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// "unknown loss `lgn` (did you mean `lgm`?), expected one of `softmax`, ...".
fn unknown(kind: &str, name: &str, names: &[&str]) -> String {
    let hint = did_you_mean(name, names);
    format!(
        "unknown {kind} `{name}`{hint}, expected one of {}",
        quoted(names)
    )
}

/// "a loss", "an attack".
fn article(kind: &str) -> String {
    let an = kind.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {kind}", if an { "an" } else { "a" })
}

/// Doc-comment lines as one line of text.
pub fn doc_text(lines: &[&str]) -> String {
    let words: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
    words.join(" ")
}

/// `v` as a person writes it: plain, or in exponent form when very large or
/// very small (`1e-300`, not three hundred zeros).
fn number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || (1e-4..1e15).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// The allowed range of a real parameter; NaN and infinities are outside
/// every range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Interval {
    Finite,
    /// `> 0`
    Positive,
    /// `>= x`
    AtLeast(f64),
    /// `[0, 1)`
    UnitOpen,
    /// `(0, 1]`
    UnitLeftOpen,
    /// `[0, 1]`
    UnitClosed,
    /// `[lo, hi]`
    Between(f64, f64),
}

/// One end of an [`Interval`]: its value and whether it is included.
type End = Option<(f64, bool)>;

impl Interval {
    fn ends(self) -> (End, End) {
        match self {
            Interval::Finite => (None, None),
            Interval::Positive => (Some((0.0, false)), None),
            Interval::AtLeast(lo) => (Some((lo, true)), None),
            Interval::UnitOpen => (Some((0.0, true)), Some((1.0, false))),
            Interval::UnitLeftOpen => (Some((0.0, false)), Some((1.0, true))),
            Interval::UnitClosed => (Some((0.0, true)), Some((1.0, true))),
            Interval::Between(lo, hi) => (Some((lo, true)), Some((hi, true))),
        }
    }

    fn contains(self, v: f64) -> bool {
        let (lo, hi) = self.ends();
        v.is_finite()
            && lo.is_none_or(|(lo, inc)| v > lo || (inc && v == lo))
            && hi.is_none_or(|(hi, inc)| v < hi || (inc && v == hi))
    }

    /// The range as the catalog writes it: `> 0`, `in [0, 1)`, `in [1e-6, 1e6]`.
    pub fn short(self) -> String {
        let end = |v: f64| match v {
            0.0 => "0".to_owned(),
            _ if (1e-3..1e4).contains(&v.abs()) => format!("{v}"),
            _ => format!("{v:e}"),
        };
        match self.ends() {
            (Some((lo, inc)), None) => format!("{} {}", if inc { ">=" } else { ">" }, end(lo)),
            (Some((lo, lo_in)), Some((hi, hi_in))) => format!(
                "in {}{}, {}{}",
                if lo_in { '[' } else { '(' },
                end(lo),
                end(hi),
                if hi_in { ']' } else { ')' }
            ),
            _ => "finite".to_owned(),
        }
    }

    /// The range as an error states it: "a finite number > 0", "in [0, 1)".
    pub fn describe(self) -> String {
        match self.ends() {
            (_, Some(_)) => self.short(),
            (None, None) => "a finite number".to_owned(),
            _ => format!("a finite number {}", self.short()),
        }
    }

    fn schema(self) -> Json {
        let (lo, hi) = self.ends();
        let mut out = json!({"type": "number"});
        if let Some((v, inc)) = lo {
            out[if inc { "minimum" } else { "exclusiveMinimum" }] = json!(v);
        }
        if let Some((v, inc)) = hi {
            out[if inc { "maximum" } else { "exclusiveMaximum" }] = json!(v);
        }
        out
    }
}

/// How a list parameter may be written; every list refuses repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Items {
    /// At least one item.
    #[default]
    AtLeastOne,
    /// Possibly none (`attacks: []`).
    MayBeEmpty,
    /// At least one; a lone number is a list of one (`eps: 0.1`).
    OneOrList,
    /// At least one, strictly increasing.
    Increasing,
    /// At least one; results are keyed by each entry's label, so no two
    /// entries share one ([`entries::Entries`]).
    Keyed,
}

/// What a declaration allows beyond the type: the range of a number (of
/// each item, for a list), how a list is written, or a plain name.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bounds {
    range: Range,
    items: Items,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
enum Range {
    #[default]
    Any,
    /// Whole numbers in `lo..=hi`; `hi = u64::MAX` is no upper bound.
    Whole(u64, u64),
    Real(Interval),
    /// Text that names a directory ([`crate::results::is_plain_name`]).
    DirName,
}

/// The bounds a declaration writes: `Interval::Positive`, `1..=4`, `2..`,
/// `Items::MayBeEmpty`, or a range with how its list is written.
macro_rules! bounds_from {
    ($($t:ty => |$x:pat_param| $range:expr, $items:expr;)*) => {$(
        impl From<$t> for Bounds {
            fn from($x: $t) -> Bounds {
                Bounds { range: $range, items: $items }
            }
        }
    )*};
}

bounds_from! {
    Interval => |i| Range::Real(i), Items::AtLeastOne;
    RangeInclusive<usize> => |r| Range::Whole(*r.start() as u64, *r.end() as u64), Items::AtLeastOne;
    RangeFrom<usize> => |r| Range::Whole(r.start as u64, u64::MAX), Items::AtLeastOne;
    Items => |items| Range::Any, items;
    (Interval, Items) => |(i, items)| Range::Real(i), items;
    (RangeFrom<usize>, Items) => |(r, items)| Range::Whole(r.start as u64, u64::MAX), items;
    (RangeInclusive<usize>, Items) => |(r, items)| Range::Whole(*r.start() as u64, *r.end() as u64), items;
}

impl Bounds {
    /// How a list is written.
    pub fn items(self) -> Items {
        self.items
    }

    /// Text that names a directory: lowercase letters, digits, `_`, `-`.
    pub const DIR_NAME: Bounds = Bounds {
        range: Range::DirName,
        items: Items::AtLeastOne,
    };

    /// The range as the catalog writes it, if there is one.
    pub fn short(self) -> Option<String> {
        Some(match self.range {
            Range::Any => return None,
            Range::Whole(lo, u64::MAX) => format!(">= {lo}"),
            Range::Whole(lo, hi) => format!("in {lo}..={hi}"),
            Range::Real(i) => i.short(),
            Range::DirName => format!(
                "1 to {} lowercase letters, digits, `_` and `-`",
                crate::results::MAX_NAME_LEN
            ),
        })
    }
}

/// A Rust type a parameter can have: how it is read, shown and described.
pub trait Value: Sized + PartialEq {
    /// What a list of these holds, for "must list at least one ...".
    const ITEM: &'static str = "value";
    /// Reads the value written at `at` (never called for a key left out).
    fn read(node: &Node, at: &[PathSeg], b: Bounds) -> Res<Self>;
    /// The JSON Schema of a value within `b`.
    fn schema(b: Bounds) -> Json;
    /// The value as YAML, where one literal says it (the catalog's default).
    fn yaml(&self) -> Option<String>;
    /// The values allowed, in the catalog's words: `>= 0`, `in [0, 1)`.
    fn allowed(b: Bounds) -> Option<String> {
        b.short()
    }
    /// The value as a number, for lists that must increase.
    fn number(&self) -> Option<f64> {
        None
    }
    /// The message for a list item equal to the item `first` of `list`.
    fn repeat(&self, list: &str, first: usize) -> String {
        let v = self.yaml().unwrap_or_default();
        format!("duplicate value {v} (also {list}[{first}])")
    }
}

macro_rules! whole_numbers {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn read(node: &Node, at: &[PathSeg], b: Bounds) -> Res<Self> {
                let v = match node {
                    Node::Int(i) if *i >= 0 => <$t>::try_from(*i).or_else(|_| {
                        expected(node, at, &format!("a whole number from 0 to {}", <$t>::MAX))
                    })?,
                    _ => return expected(node, at, "a whole number >= 0"),
                };
                match b.range {
                    Range::Whole(lo, hi) if !(lo..=hi).contains(&(v as u64)) => {
                        fail(at, format!("must be {}, got {v}", b.short().unwrap_or_default()))
                    }
                    _ => Ok(v),
                }
            }
            fn schema(b: Bounds) -> Json {
                let (lo, hi) = match b.range {
                    Range::Whole(lo, hi) => (lo, hi.min(<$t>::MAX as u64)),
                    _ => (0, <$t>::MAX as u64),
                };
                json!({"type": "integer", "minimum": lo, "maximum": hi})
            }
            fn yaml(&self) -> Option<String> {
                Some(self.to_string())
            }
            fn number(&self) -> Option<f64> {
                Some(*self as f64)
            }
        }
    )*};
}

whole_numbers!(u32, u64, usize);

impl Value for f64 {
    fn read(node: &Node, at: &[PathSeg], b: Bounds) -> Res<Self> {
        let v = match node {
            Node::Int(i) => *i as f64,
            Node::Float(v) => *v,
            _ => return expected(node, at, "a number"),
        };
        match b.range {
            Range::Real(i) if !i.contains(v) => {
                fail(at, format!("must be {}, got {}", i.describe(), number(v)))
            }
            _ => Ok(v),
        }
    }
    fn schema(b: Bounds) -> Json {
        match b.range {
            Range::Real(i) => i.schema(),
            _ => json!({"type": "number"}),
        }
    }
    fn yaml(&self) -> Option<String> {
        // `{:?}` keeps the decimal point: `0.0` reads back as a number.
        Some(format!("{self:?}"))
    }
    fn number(&self) -> Option<f64> {
        Some(*self)
    }
}

impl Value for bool {
    fn read(node: &Node, at: &[PathSeg], _: Bounds) -> Res<Self> {
        match node {
            Node::Bool(b) => Ok(*b),
            _ => expected(node, at, "true or false"),
        }
    }
    fn schema(_: Bounds) -> Json {
        json!({"type": "boolean"})
    }
    fn yaml(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl Value for String {
    fn read(node: &Node, at: &[PathSeg], b: Bounds) -> Res<Self> {
        let Some(text) = node.text() else {
            return expected(node, at, "text");
        };
        if b.range == Range::DirName && !crate::results::is_plain_name(&text) {
            let rule = b.short().unwrap_or_default();
            let msg = format!("`{text}` is not a valid name: use {rule} (it names a directory)");
            return fail(at, msg);
        }
        Ok(text)
    }
    fn schema(b: Bounds) -> Json {
        match b.range {
            Range::DirName => json!({"type": "string", "pattern": "^[a-z0-9_-]+$",
                "minLength": 1, "maxLength": crate::results::MAX_NAME_LEN}),
            _ => json!({"type": "string"}),
        }
    }
    fn yaml(&self) -> Option<String> {
        // A JSON string is a YAML string.
        Some(Json::from(self.as_str()).to_string())
    }
}

impl Value for PathBuf {
    fn read(node: &Node, at: &[PathSeg], b: Bounds) -> Res<Self> {
        String::read(node, at, b).map(PathBuf::from)
    }
    fn schema(b: Bounds) -> Json {
        String::schema(b)
    }
    fn yaml(&self) -> Option<String> {
        self.to_str().and_then(|s| s.to_owned().yaml())
    }
}

/// A number, or `auto`: the value is then chosen when the run fits the
/// component (the `kd` bandwidth, the regularisation of the supervised
/// detectors' regressions; docs/definitions.md §3). Written in YAML and in
/// the resolved JSON as `auto` or as the number; bounds apply to the number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AutoOr {
    /// Chosen when fitted.
    Auto,
    /// This value.
    Fixed(f64),
}

/// The word that means [`AutoOr::Auto`].
const AUTO: &str = "auto";

impl serde::Serialize for AutoOr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AutoOr::Auto => s.serialize_str(AUTO),
            AutoOr::Fixed(v) => s.serialize_f64(*v),
        }
    }
}

impl<'de> serde::Deserialize<'de> for AutoOr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Number(f64),
            Word(String),
        }
        match Repr::deserialize(d)? {
            Repr::Number(v) => Ok(AutoOr::Fixed(v)),
            Repr::Word(w) if w == AUTO => Ok(AutoOr::Auto),
            Repr::Word(w) => Err(serde::de::Error::custom(format!(
                "expected `{AUTO}` or a number, found \"{w}\""
            ))),
        }
    }
}

impl Value for AutoOr {
    fn read(node: &Node, at: &[PathSeg], b: Bounds) -> Res<Self> {
        match node {
            Node::Str(w) if w == AUTO => Ok(AutoOr::Auto),
            Node::Int(_) | Node::Float(_) => f64::read(node, at, b).map(AutoOr::Fixed),
            _ => expected(node, at, &format!("`{AUTO}` or a number")),
        }
    }
    fn schema(b: Bounds) -> Json {
        json!({"anyOf": [{"const": AUTO}, f64::schema(b)]})
    }
    fn yaml(&self) -> Option<String> {
        match self {
            AutoOr::Auto => Some(AUTO.to_owned()),
            AutoOr::Fixed(v) => v.yaml(),
        }
    }
    fn allowed(b: Bounds) -> Option<String> {
        Some(match b.short() {
            Some(range) => format!("`{AUTO}` or a number {range}"),
            None => format!("`{AUTO}` or a number"),
        })
    }
}

/// A parameter whose default is "unset" (a null is unset too).
impl<T: Value> Value for Option<T> {
    fn read(node: &Node, at: &[PathSeg], b: Bounds) -> Res<Self> {
        T::read(node, at, b).map(Some)
    }
    fn schema(b: Bounds) -> Json {
        json!({"anyOf": [T::schema(b), {"type": "null"}]})
    }
    fn allowed(b: Bounds) -> Option<String> {
        T::allowed(b)
    }
    fn yaml(&self) -> Option<String> {
        self.as_ref().and_then(T::yaml)
    }
}

impl<T: Value> Value for Vec<T> {
    fn read(node: &Node, at: &[PathSeg], b: Bounds) -> Res<Self> {
        let (items, lone) = match node {
            Node::Seq(items) => (items.as_slice(), false),
            Node::Int(_) | Node::Float(_) if b.items == Items::OneOrList => {
                (std::slice::from_ref(node), true)
            }
            _ => return expected(node, at, "a list"),
        };
        if items.is_empty() && b.items != Items::MayBeEmpty {
            return fail(at, format!("must list at least one {}", T::ITEM));
        }
        let list = match at.last() {
            Some(PathSeg::Key(key)) => key.as_str(),
            _ => "the list",
        };
        let mut out: Vec<T> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            // A lone value is named without an index.
            let here = if lone { at.to_vec() } else { join(at, i) };
            let v = T::read(item, &here, b)?;
            let prev = out.last().and_then(T::number);
            if let (Items::Increasing, Some(prev), Some(x)) = (b.items, prev, v.number()) {
                if x <= prev {
                    let (x, prev) = (number(x), number(prev));
                    let msg = format!("{list} must be strictly increasing, but {x} follows {prev}");
                    return fail(&here, msg);
                }
            } else if let Some(first) = out.iter().position(|x| *x == v) {
                return fail(&here, v.repeat(list, first));
            }
            out.push(v);
        }
        Ok(out)
    }
    fn schema(b: Bounds) -> Json {
        let min = usize::from(b.items != Items::MayBeEmpty);
        let list =
            json!({"type": "array", "items": T::schema(b), "minItems": min, "uniqueItems": true});
        match b.items {
            Items::OneOrList => json!({"anyOf": [T::schema(b), list]}),
            _ => list,
        }
    }
    fn allowed(b: Bounds) -> Option<String> {
        T::allowed(b).map(|each| format!("each {each}"))
    }
    fn yaml(&self) -> Option<String> {
        let items: Option<Vec<String>> = self.iter().map(T::yaml).collect();
        items.map(|items| format!("[{}]", items.join(", ")))
    }
}

/// Reads a plain choice (`covariance: diagonal`): the index of its name.
pub fn choose(node: &Node, at: &[PathSeg], kind: &str, names: &[&str]) -> Res<usize> {
    match node {
        Node::Str(s) => match names.iter().position(|n| n == s) {
            Some(i) => Ok(i),
            None => fail(at, unknown(kind, s, names)),
        },
        _ => expected(node, at, &format!("one of {}", quoted(names))),
    }
}

/// One documented parameter: what `lossbench list` prints and the schema
/// describes.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDoc {
    /// The key as written in a suite (kebab-case).
    pub name: &'static str,
    /// The default as YAML, [`REQUIRED`], or a rule in parentheses when it
    /// derives from another value, e.g. `(eps / 4)`.
    pub default: String,
    /// What it does and which values are allowed.
    pub doc: String,
    /// Its JSON Schema, with the doc, the default and, when required, an
    /// example.
    pub schema: Json,
}

/// What [`ParamDoc::default`] says of a parameter that has none.
pub const REQUIRED: &str = "required";

/// A parameter's default, as its declaration gives it.
pub enum DefaultIs<T> {
    Value(T),
    /// Required; the text is a valid example, or empty.
    Required(&'static str),
    /// Unset unless written; the text says what unset means.
    Rule(&'static str),
}

impl ParamDoc {
    pub fn new<T: Value>(name: &'static str, is: DefaultIs<T>, doc: &[&str], b: Bounds) -> Self {
        let doc = match (doc_text(doc), T::allowed(b)) {
            (doc, None) => doc,
            (doc, Some(range)) if doc.is_empty() => range,
            (doc, Some(range)) => format!("{doc}; {range}"),
        };
        let mut schema = T::schema(b);
        schema["description"] = json!(doc);
        let as_json = |yaml: &str| serde_yaml::from_str::<Json>(yaml).ok();
        let default = match is {
            DefaultIs::Value(v) => {
                let yaml = v.yaml().unwrap_or_else(|| "(see below)".to_owned());
                if let Some(value) = as_json(&yaml).filter(|_| !yaml.starts_with('(')) {
                    schema["default"] = value;
                }
                yaml
            }
            DefaultIs::Required(example) => {
                if let Some(value) = as_json(example).filter(|_| !example.is_empty()) {
                    schema["examples"] = json!([value]);
                }
                REQUIRED.to_owned()
            }
            DefaultIs::Rule(rule) => format!("({rule})"),
        };
        ParamDoc {
            name,
            default,
            doc,
            schema,
        }
    }
}

/// The JSON Schema of a map of `params`, none but those allowed.
pub fn object_schema(params: &[ParamDoc], description: &str, nullable: bool) -> Json {
    let properties: serde_json::Map<String, Json> = params
        .iter()
        .map(|p| (p.name.to_owned(), p.schema.clone()))
        .collect();
    let required: Vec<&str> = params
        .iter()
        .filter(|p| p.default == REQUIRED)
        .map(|p| p.name)
        .collect();
    let kind = match nullable && required.is_empty() {
        true => json!(["object", "null"]),
        false => json!("object"),
    };
    json!({"type": kind, "description": description, "properties": properties,
        "required": required, "additionalProperties": false})
}

/// The entries of a map, checked against its declared keys before any
/// value is read.
pub struct Fields<'a> {
    entries: &'a [(String, Node)],
    at: Vec<PathSeg>,
}

impl<'a> Fields<'a> {
    /// `node` must be a map (or null: every key left out) of `keys` only
    /// (each with whether it is required), each at most once; `what` names
    /// it in an error ("the data section").
    pub fn new(node: &'a Node, at: &[PathSeg], what: &str, keys: &[(&str, bool)]) -> Res<Self> {
        let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
        let no_params = match at.last() {
            Some(PathSeg::Key(name)) => format!("`{name}` takes no parameters"),
            _ => "takes no parameters".to_owned(),
        };
        let entries: &[(String, Node)] = match node {
            Node::Map(entries) => entries,
            Node::Null => &[],
            _ if keys.is_empty() => return fail(at, no_params),
            _ => {
                let pick = |req: bool| -> Vec<&str> {
                    keys.iter().filter(|k| k.1 == req).map(|k| k.0).collect()
                };
                let (required, optional) = (quoted(&pick(true)), quoted(&pick(false)));
                let shape = match (required.is_empty(), optional.is_empty()) {
                    (true, _) => format!("a map with optional {optional}"),
                    (false, true) => format!("a map with {required}"),
                    _ => format!("a map with {required} and optional {optional}"),
                };
                return expected(node, at, &format!("{what}: {shape}"));
            }
        };
        for (i, (key, _)) in entries.iter().enumerate() {
            let here = join(at, key.as_str());
            if keys.is_empty() {
                return fail_at(&here, Place::Key, no_params);
            }
            if !names.contains(&key.as_str()) {
                let hint = did_you_mean(key, &names);
                let one_of = match names.as_slice() {
                    [one] => format!("`{one}`"),
                    [a, b] => format!("`{a}` or `{b}`"),
                    _ => format!("one of {}", quoted(&names)),
                };
                let msg = format!("unknown field `{key}`{hint}, expected {one_of}");
                return fail_at(&here, Place::Key, msg);
            }
            if entries[..i].iter().any(|(k, _)| k == key) {
                let msg = format!("duplicate field `{key}`");
                return fail_at(&here, Place::RepeatedKey, msg);
            }
        }
        let at = at.to_vec();
        Ok(Fields { entries, at })
    }

    fn value(&self, key: &str) -> Option<&'a Node> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value under `key`, or `default()` when it is left out or null.
    pub fn get<T: Value>(&self, key: &str, default: impl FnOnce() -> T, b: Bounds) -> Res<T> {
        match self.value(key) {
            None | Some(Node::Null) => Ok(default()),
            Some(node) => T::read(node, &join(&self.at, key), b),
        }
    }

    /// The value under `key`, which must be written; `example` is a valid
    /// value to suggest.
    pub fn need<T: Value>(&self, key: &str, b: Bounds, example: &str) -> Res<T> {
        let at = join(&self.at, key);
        let Some(node) = self.value(key) else {
            let hint = match (example, self.at.as_slice()) {
                ("", _) => String::new(),
                (_, [.., PathSeg::Key(outer), PathSeg::Key(name)]) => {
                    format!(": write `{outer}: {{{name}: {{{key}: {example}}}}}`")
                }
                _ => format!(": write `{key}: {example}`"),
            };
            return fail(&at, format!("missing field `{key}`{hint}"));
        };
        T::read(node, &at, b)
    }
}

/// One named thing a suite can use, for `lossbench list` and the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    /// `dataset`, `model`, `optimizer`, `schedule`, `loss`, `attack` or
    /// `detector`.
    pub kind: &'static str,
    /// The name as written in a suite.
    pub name: &'static str,
    /// One line on what it is.
    pub summary: String,
    /// Its parameters, in the order they are declared.
    pub params: Vec<ParamDoc>,
}

/// A value written as a bare name or as a one-key map from the name to its
/// parameters: the components of `components!` and the model.
pub trait Named: Sized + PartialEq {
    /// What the name names, for messages: "loss", "model", ...
    const KIND: &'static str;
    /// Its plural: "losses", "models", ...
    const PLURAL: &'static str;
    /// Whether it is an item of a list (`losses:`) rather than a single
    /// value (`model:`).
    const IN_LIST: bool;
    /// The valid names, in the order they are listed to users.
    const NAMES: &'static [&'static str];
    /// The value named `name` (one of [`Named::NAMES`]) from its parameters
    /// (`Null` when none are written) found at `at`, a path ending in the name.
    fn build(name: &str, params: &Node, at: &[PathSeg]) -> Res<Self>;
    /// Its name.
    fn named(&self) -> &'static str;
    /// Every name with its summary and parameters.
    fn entries() -> Vec<CatalogEntry>;
    /// The schema's description of the whole kind.
    fn description() -> String;
}

impl<T: Named> Value for T {
    const ITEM: &'static str = T::KIND;
    fn read(node: &Node, at: &[PathSeg], _: Bounds) -> Res<Self> {
        read_named(node, at)
    }
    /// A bare name, or a one-key map to its parameters; only the names
    /// whose parameters all have defaults are offered bare.
    fn schema(_: Bounds) -> Json {
        let entries = T::entries();
        let bare: Vec<&str> = entries
            .iter()
            .filter(|e| e.params.iter().all(|p| p.default != REQUIRED))
            .map(|e| e.name)
            .collect();
        let params: serde_json::Map<String, Json> = entries
            .iter()
            .map(|e| (e.name.into(), object_schema(&e.params, &e.summary, true)))
            .collect();
        json!({"description": T::description(), "anyOf": [
            {"enum": bare},
            {"type": "object", "properties": params, "additionalProperties": false,
                "minProperties": 1, "maxProperties": 1},
        ]})
    }
    /// A bare name: only a value with every default reads back as it
    /// (which is what a declared default is).
    fn yaml(&self) -> Option<String> {
        Some(self.named().to_owned())
    }
    fn repeat(&self, list: &str, first: usize) -> String {
        let kind = T::KIND;
        format!("duplicate of {list}[{first}] (same {kind} with the same parameters)")
    }
}

/// The value named `name` with every parameter left to its default; for
/// defaults of declarations (`optimizer` is `adam`).
pub fn bare<T: Named>(name: &str) -> T {
    T::build(name, &Node::Null, &[]).expect("a declared name with every default")
}

/// A section whose every key has a default, with all of them.
pub fn all_defaults<T: Value>() -> T {
    T::read(&Node::Null, &[], Bounds::default()).expect("a section whose keys all have defaults")
}

/// The map that writes every required key of `params` with its declared
/// example and leaves the others out: read, it gives the defaults.
pub fn examples(params: &[ParamDoc]) -> Node {
    let required = params.iter().filter(|p| p.default == REQUIRED);
    let example = |p: &ParamDoc| Node::parse(&p.schema["examples"][0].to_string()).ok();
    let entries = required.filter_map(|p| Some((p.name.to_owned(), example(p)?)));
    Node::Map(entries.collect())
}

/// Reads a [`Named`] value in either form.
pub fn read_named<T: Named>(node: &Node, at: &[PathSeg]) -> Res<T> {
    let known = |name: &str, at: &[PathSeg], place| match T::NAMES.contains(&name) {
        true => Ok(()),
        false => fail_at(at, place, unknown(T::KIND, name, T::NAMES)),
    };
    match node {
        Node::Str(name) => {
            known(name, at, Place::Value)?;
            T::build(name, &Node::Null, &join(at, name.as_str()))
        }
        Node::Map(entries) if !entries.is_empty() => {
            let (name, params) = &entries[0];
            let here = join(at, name.as_str());
            // An unknown name is reported at the key itself.
            known(name, &here, Place::Key)?;
            let value = T::build(name, params, &here)?;
            match entries.get(1) {
                None => Ok(value),
                Some((second, _)) => second_key::<T>(at, name, second),
            }
        }
        _ => {
            let (a, names) = (article(T::KIND), quoted(T::NAMES));
            let what = format!("{a} name ({names}) or a one-key map {{name: {{params}}}}");
            expected(node, at, &what)
        }
    }
}

/// A second key after the name is nearly always a parameter indented one
/// level too little, or a list item one dash short; say so at it.
fn second_key<T: Named>(at: &[PathSeg], name: &str, key: &str) -> Res<T> {
    let here = join(at, key);
    let msg = if key == name {
        return fail_at(
            &here,
            Place::RepeatedKey,
            format!("`{name}` is given twice"),
        );
    } else if !T::NAMES.contains(&key) {
        format!(
            "{} entry has one key, its name; `{key}` is a second key (parameters go under the \
             name: `{name}: {{{key}: ...}}`)",
            article(T::KIND)
        )
    } else if T::IN_LIST {
        format!(
            "two {} in one entry (`{name}`, `{key}`); give each its own list item (`- {name}` \
             and `- {key}`)",
            T::PLURAL
        )
    } else {
        format!("two {} given (`{name}`, `{key}`); choose one", T::PLURAL)
    };
    fail_at(&here, Place::Key, msg)
}

/// Declares a plain choice: a unit enum whose serde names, suite names and
/// docs come from one list.
macro_rules! names {
    (
        $(#[doc = $doc:literal])*
        pub enum $ty:ident ($kind:literal) {
            $( $(#[doc = $vdoc:literal])* $name:literal => $variant:ident, )+
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $ty {
            $( $(#[doc = $vdoc])* #[serde(rename = $name)] $variant, )+
        }

        impl $ty {
            /// Every value, in the order they are listed to users.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
            /// The names used in suites, in the same order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name used in suites, tables and directories.
            pub fn name(&self) -> &'static str {
                match self { $($ty::$variant => $name,)+ }
            }

            /// What each value is, in [`Self::ALL`]'s order.
            pub fn docs() -> Vec<String> {
                vec![$(doc_text(&[$($vdoc),*])),+]
            }
        }

        impl Value for $ty {
            fn read(node: &Node, at: &[PathSeg], _: Bounds) -> Res<Self> {
                decl::choose(node, at, $kind, Self::NAMES).map(|i| Self::ALL[i])
            }
            fn schema(_: Bounds) -> serde_json::Value {
                serde_json::json!({"enum": Self::NAMES})
            }
            fn allowed(_: Bounds) -> Option<String> {
                let docs = Self::NAMES.iter().zip(Self::docs());
                let each: Vec<String> = docs.map(|(n, doc)| format!("{n} ({doc})")).collect();
                Some(each.join(", "))
            }
            fn yaml(&self) -> Option<String> {
                Some(self.name().to_owned())
            }
        }
    };
}

/// The pieces of one declared parameter line, for `section!` and
/// `components!`.
macro_rules! param {
    (@bounds) => { Bounds::default() };
    (@bounds $b:expr) => { Bounds::from($b) };
    (@required required) => { true };
    (@required $how:ident) => { false };
    (@read $f:ident, $key:literal, $t:ty, default($($v:tt)*) $(, $b:expr)?) => {
        $f.get::<$t>($key, || $($v)*, param!(@bounds $($b)?))
    };
    (@read $f:ident, $key:literal, $t:ty, optional($rule:literal) $(, $b:expr)?) => {
        $f.get::<$t>($key, || None, param!(@bounds $($b)?))
    };
    (@read $f:ident, $key:literal, $t:ty, required($($ex:tt)*) $(, $b:expr)?) => {
        $f.need::<$t>($key, param!(@bounds $($b)?), stringify!($($ex)*))
    };
    (@default $t:ty, default($($v:tt)*)) => { DefaultIs::<$t>::Value($($v)*) };
    (@default $t:ty, optional($rule:literal)) => { DefaultIs::<$t>::Rule($rule) };
    (@default $t:ty, required($($ex:tt)*)) => { DefaultIs::<$t>::Required(stringify!($($ex)*)) };
    (@doc $key:literal, $t:ty, $how:ident($($v:tt)*), [$($doc:literal),*] $(, $b:expr)?) => {
        ParamDoc::new::<$t>($key, param!(@default $t, $how($($v)*)), &[$($doc),*],
            param!(@bounds $($b)?))
    };
    (@keys $( $key:literal $how:ident ),*) => {
        &[$(($key, param!(@required $how))),*]
    };
}

/// Declares a section: a struct read from a map of keys, each with its
/// default, bounds and doc. With `by kind: K`, the map sits under a name of
/// `K` (`model: {mlp: {dropout: 0.5}}`), which fills the `kind` field.
macro_rules! section {
    (
        $(#[doc = $doc:literal])*
        pub struct $ty:ident ($what:literal $(, $kind:literal, $plural:literal by $kty:ty)?) {
            $( $(#[doc = $fdoc:literal])* $(#[serde($($sa:tt)*)])?
               $key:literal $field:ident : $fty:ty = $how:ident($($v:tt)*) $(, $b:expr)? ; )*
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $ty {
            $( pub kind: $kty, )?
            $( $(#[doc = $fdoc])* $(#[serde($($sa)*)])? pub $field: $fty, )*
        }

        impl $ty {
            /// Every key with its default, range and doc.
            pub(crate) fn params() -> Vec<ParamDoc> {
                vec![$(param!(@doc $key, $fty, $how($($v)*), [$($fdoc),*] $(, $b)?)),*]
            }
        }

        section!(@read $ty ($what $(, $kind, $plural by $kty)?) [$($doc),*]
            { $( $key $field : $fty = $how($($v)*) $(, $b)? ; )* });
    };
    (@read $ty:ident ($what:literal) [$($doc:literal),*]
        { $( $key:literal $field:ident : $fty:ty = $how:ident($($v:tt)*) $(, $b:expr)? ; )* }
    ) => {
        impl Value for $ty {
            fn read(node: &Node, at: &[PathSeg], _: Bounds) -> Res<Self> {
                let f = Fields::new(node, at, $what, param!(@keys $($key $how),*))?;
                Ok($ty { $( $field: param!(@read f, $key, $fty, $how($($v)*) $(, $b)?)?, )* })
            }
            fn schema(_: Bounds) -> serde_json::Value {
                decl::object_schema(&Self::params(), &doc_text(&[$($doc),*]), false)
            }
            fn yaml(&self) -> Option<String> {
                None
            }
        }
    };
    (@read $ty:ident ($what:literal, $kind:literal, $plural:literal by $kty:ty) [$($doc:literal),*]
        { $( $key:literal $field:ident : $fty:ty = $how:ident($($v:tt)*) $(, $b:expr)? ; )* }
    ) => {
        impl Named for $ty {
            const KIND: &'static str = $kind;
            const PLURAL: &'static str = $plural;
            const IN_LIST: bool = false;
            const NAMES: &'static [&'static str] = <$kty>::NAMES;
            fn build(name: &str, params: &Node, at: &[PathSeg]) -> Res<Self> {
                let what = format!("`{name}` {}", $what);
                let f = Fields::new(params, at, &what, param!(@keys $($key $how),*))?;
                let i = Self::NAMES.iter().position(|n| *n == name).unwrap_or_default();
                Ok($ty {
                    kind: <$kty>::ALL[i],
                    $( $field: param!(@read f, $key, $fty, $how($($v)*) $(, $b)?)?, )*
                })
            }
            fn named(&self) -> &'static str {
                self.kind.name()
            }
            fn entries() -> Vec<CatalogEntry> {
                let entry = |(&name, summary)| CatalogEntry {
                    kind: $kind, name, summary, params: Self::params(),
                };
                Self::NAMES.iter().zip(<$kty>::docs()).map(entry).collect()
            }
            fn description() -> String {
                doc_text(&[$($doc),*])
            }
        }
    };
}

/// Declares a component kind: an enum of names, each with its own
/// parameters (none for a unit variant), written as a bare name or as
/// `{name: {params}}`. A variant with parameters holds them in a struct of
/// its own (`Lgm(LgmParams)`), declared here and used as it is by the code
/// that implements the component, so a new parameter is one line here and
/// its use there. `check` names a function run on every value read, for
/// rules between its parameters.
macro_rules! components {
    (
        $(#[doc = $doc:literal])*
        pub enum $ty:ident ($kind:literal, $plural:literal, in_list = $in_list:literal)
            $(check $check:path)? {
            $(
                $(#[doc = $vdoc:literal])*
                $name:literal => $variant:ident $(($pty:ident) {
                    $( $(#[doc = $fdoc:literal])* $(#[serde($($sa:tt)*)])?
                       $key:literal $field:ident : $fty:ty
                       = $how:ident($($v:tt)*) $(, $b:expr)? ; )*
                })?,
            )+
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub enum $ty {
            $(
                $(#[doc = $vdoc])*
                #[serde(rename = $name)]
                $variant $(($pty))?,
            )+
        }

        $($(
            #[doc = concat!("The parameters of `", $name, "`.")]
            #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
            pub struct $pty {
                $( $(#[doc = $fdoc])* $(#[serde($($sa)*)])? pub $field: $fty, )*
            }

            impl $pty {
                /// Every key with its default, range and doc.
                pub(crate) fn params() -> Vec<ParamDoc> {
                    vec![$(param!(@doc $key, $fty, $how($($v)*), [$($fdoc),*] $(, $b)?)),*]
                }

                fn read(params: &Node, at: &[PathSeg]) -> Res<Self> {
                    let what = concat!("`", $name, "` options");
                    let f = Fields::new(params, at, what, param!(@keys $($key $how),*))?;
                    Ok($pty { $( $field: param!(@read f, $key, $fty, $how($($v)*) $(, $b)?)?, )* })
                }
            }

            /// Every default, and the declared example of a required key.
            impl Default for $pty {
                fn default() -> Self {
                    Self::read(&decl::examples(&Self::params()), &[])
                        .expect("declared defaults and examples are valid")
                }
            }
        )?)+

        impl $ty {
            /// The names used in suites, in the order they are listed to users.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name used in suites, tables and reports.
            pub fn name(&self) -> &'static str {
                match self { $($ty::$variant { .. } => $name,)+ }
            }
        }

        impl Named for $ty {
            const KIND: &'static str = $kind;
            const PLURAL: &'static str = $plural;
            const IN_LIST: bool = $in_list;
            const NAMES: &'static [&'static str] = $ty::NAMES;

            fn build(name: &str, params: &Node, at: &[PathSeg]) -> Res<Self> {
                let value = match name {
                    $($name => components!(@build $ty, $variant, $name, params, at $(, $pty)?),)+
                    _ => return fail(at, format!("unknown {} `{name}`", $kind)),
                };
                $( $check(&value, at)?; )?
                Ok(value)
            }
            fn named(&self) -> &'static str {
                self.name()
            }
            fn entries() -> Vec<CatalogEntry> {
                vec![$(CatalogEntry {
                    kind: $kind,
                    name: $name,
                    summary: doc_text(&[$($vdoc),*]),
                    params: components!(@params $($pty)?),
                }),+]
            }
            fn description() -> String {
                doc_text(&[$($doc),*])
            }
        }
    };
    (@build $ty:ident, $variant:ident, $name:literal, $params:ident, $at:ident, $pty:ident) => {
        $ty::$variant($pty::read($params, $at)?)
    };
    (@build $ty:ident, $variant:ident, $name:literal, $params:ident, $at:ident) => {{
        Fields::new($params, $at, concat!("`", $name, "` options"), &[])?;
        $ty::$variant
    }};
    (@params $pty:ident) => { $pty::params() };
    (@params) => { Vec::new() };
}
