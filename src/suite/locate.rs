//! Finds where a field path is written in suite text, for validation errors.
//!
//! The raw tree has no spans, so a value that parses but does not validate
//! (`lr: -1`) must be found again in the text. Rather than re-implement YAML's
//! indentation, flow and quoting rules, the locator runs the text through
//! yaml_serde once more with a probe that walks the path and fails on purpose
//! at the target: yaml_serde stamps that failure with the target's position.
//! The positions therefore come from the same parser that read the suite, and
//! block style, flow style (`{...}`, `[...]`, on one line or several),
//! comments, quoting and anchors all work alike.
//!
//! This module knows nothing of suites: it maps paths to positions.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a field path: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

impl From<&str> for PathSeg {
    fn from(key: &str) -> Self {
        PathSeg::Key(key.to_owned())
    }
}

impl From<usize> for PathSeg {
    fn from(index: usize) -> Self {
        PathSeg::Index(index)
    }
}

/// The field path as users read it: `train.batch-size`, `losses[1].lgm.alpha`,
/// `seeds`; the root is `.`.
pub fn display(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// The 1-based (line, column) of the path's last key, or of its list element
/// when the path ends in an index; `None` when the text does not contain it.
/// The empty path is the document itself.
pub fn locate(text: &str, path: &[PathSeg]) -> Option<(usize, usize)> {
    probe(text, path, Target::Key)
}

/// Like [`locate`], but the position of the value under the last key (for
/// `lr: -1`, the `-1`): where a bad value should be pointed at.
pub fn locate_value(text: &str, path: &[PathSeg]) -> Option<(usize, usize)> {
    probe(text, path, Target::Value)
}

/// The position of the second occurrence of the path's last key in its map,
/// for "duplicate field" errors; the first is [`locate`]'s answer.
pub fn locate_repeat(text: &str, path: &[PathSeg]) -> Option<(usize, usize)> {
    probe(text, path, Target::RepeatedKey)
}

/// The position of `path` (its value or its key, as `value` says), else of
/// the key of its nearest ancestor that is written in the text, else 1:1.
/// Defaults are written nowhere, so an error about one lands on the key of
/// the section that left it out.
pub fn locate_nearest(text: &str, path: &[PathSeg], value: bool) -> (usize, usize) {
    let target = if value { Target::Value } else { Target::Key };
    probe(text, path, target)
        .or_else(|| {
            (1..path.len())
                .rev()
                .find_map(|n| probe(text, &path[..n], Target::Key))
        })
        .unwrap_or((1, 1))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Key,
    /// The second time the last key appears in its map.
    RepeatedKey,
    Value,
}

/// The message of the deliberate failure; any other error means "not here".
const FOUND: &str = "lossbench-locate: found";

fn probe(text: &str, path: &[PathSeg], target: Target) -> Option<(usize, usize)> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    match (Probe { path, target }).deserialize(deserializer) {
        Err(err) if err.to_string().contains(FOUND) => {
            err.location().map(|l| (l.line(), l.column()))
        }
        _ => None,
    }
}

/// Walks `path` from the node it is given.
struct Probe<'p> {
    path: &'p [PathSeg],
    target: Target,
}

impl<'de> DeserializeSeed<'de> for Probe<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match self.path.split_first() {
            None => deserializer.deserialize_any(Found),
            Some((PathSeg::Key(key), rest)) => deserializer.deserialize_map(MapStep {
                key,
                rest,
                target: self.target,
            }),
            Some((PathSeg::Index(index), rest)) => deserializer.deserialize_seq(SeqStep {
                index: *index,
                rest,
                target: self.target,
            }),
        }
    }
}

/// Fails with [`FOUND`] on whatever node it is given.
struct Found;

impl Found {
    fn fail<E: de::Error>() -> E {
        E::custom(FOUND)
    }
}

impl<'de> Visitor<'de> for Found {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(Self::fail())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(Self::fail())
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        Err(Self::fail())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(Self::fail())
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        Err(Self::fail())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(Self::fail())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(Self::fail())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(Self::fail())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(Self::fail())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(Self::fail())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(Self::fail())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(Self::fail())
    }
}

/// One key step: skips other entries, descends into the matching one.
struct MapStep<'p> {
    key: &'p str,
    rest: &'p [PathSeg],
    target: Target,
}

impl<'de> Visitor<'de> for MapStep<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Only the last key of a key-targeted path fails at the key itself
        // (for a repeated key, at its second match); every other match is
        // descended into.
        let last = self.rest.is_empty();
        let mut skip = match self.target {
            Target::Key if last => Some(0),
            Target::RepeatedKey if last => Some(1),
            _ => None,
        };
        while let Some(hit) = map.next_key_seed(KeyMatch {
            key: self.key,
            fail_on_match: skip == Some(0),
        })? {
            if let Some(n) = skip.as_mut().filter(|_| hit) {
                *n -= 1;
            } else if hit {
                return map.next_value_seed(Probe {
                    path: self.rest,
                    target: self.target,
                });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// One index step: skips other elements, descends into the matching one.
struct SeqStep<'p> {
    index: usize,
    rest: &'p [PathSeg],
    target: Target,
}

impl<'de> Visitor<'de> for SeqStep<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        for _ in 0..self.index {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Probe {
            path: self.rest,
            target: self.target,
        })?;
        Ok(())
    }
}

/// Reads a key and says whether it is the one sought; with `fail_on_match`
/// it fails instead, so that the failure carries the key's position.
struct KeyMatch<'p> {
    key: &'p str,
    fail_on_match: bool,
}

impl KeyMatch<'_> {
    fn check<E: de::Error>(self, key: &str) -> Result<bool, E> {
        match (key == self.key, self.fail_on_match) {
            (true, true) => Err(E::custom(FOUND)),
            (hit, _) => Ok(hit),
        }
    }
}

impl<'de> DeserializeSeed<'de> for KeyMatch<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyMatch<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        self.check(v)
    }
    // Keys such as `0.02:` or `true:` are scalars of other types; compare
    // them by their text.
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<PathSeg> {
        // Test helper: "losses[1].lgm.alpha" -> segments.
        let mut out = Vec::new();
        for part in s.split('.') {
            let (key, mut idx) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if !key.is_empty() {
                out.push(PathSeg::from(key));
            }
            while let Some(end) = idx.find(']') {
                out.push(PathSeg::Index(idx[1..end].parse().unwrap()));
                idx = &idx[end + 1..];
            }
        }
        out
    }

    const BLOCK: &str = "\
# a comment
name: quick
data:
  dataset: fashion-mnist   # trailing comment
  train-subset: 20000
model:
  small-cnn:
    feature-dim: 64
train:
  epochs: 5
  optimizer: {sgd: {momentum: 0.9, nesterov: false}}
  schedule:
    multistep:
      milestones: [5, 8]
      gamma: 0.1
losses:
  - softmax
  - center: {lambda: 0.01}
  - lgm:
      alpha: 0.1
      covariance: diagonal
seeds: [0, 1, 2]
attacks:
  - fgsm: {eps: [0.0, 0.1, 0.3]}
detectors:
- max-softmax
- {lgm-likelihood: {}}
regression:
  clean_acc: 0.02
";

    #[test]
    fn block_keys() {
        assert_eq!(locate(BLOCK, &p("name")), Some((2, 1)));
        assert_eq!(locate(BLOCK, &p("data")), Some((3, 1)));
        assert_eq!(locate(BLOCK, &p("data.dataset")), Some((4, 3)));
        assert_eq!(locate(BLOCK, &p("data.train-subset")), Some((5, 3)));
        assert_eq!(
            locate(BLOCK, &p("model.small-cnn.feature-dim")),
            Some((8, 5))
        );
        assert_eq!(
            locate(BLOCK, &p("train.schedule.multistep.gamma")),
            Some((15, 7))
        );
        assert_eq!(locate(BLOCK, &p("regression.clean_acc")), Some((29, 3)));
    }

    #[test]
    fn values() {
        assert_eq!(locate_value(BLOCK, &p("data.dataset")), Some((4, 12)));
        assert_eq!(locate_value(BLOCK, &p("train.epochs")), Some((10, 11)));
        assert_eq!(
            locate_value(BLOCK, &p("losses[2].lgm.alpha")),
            Some((20, 14))
        );
        // A block map value starts at its first key.
        assert_eq!(locate_value(BLOCK, &p("train.schedule")), Some((13, 5)));
        // A flow collection starts at its bracket.
        assert_eq!(locate_value(BLOCK, &p("seeds")), Some((22, 8)));
    }

    #[test]
    fn list_elements() {
        assert_eq!(locate(BLOCK, &p("losses[0]")), Some((17, 5)));
        // A map inside a block list starts at its first key, after the dash.
        assert_eq!(locate(BLOCK, &p("losses[1]")), Some((18, 5)));
        assert_eq!(locate(BLOCK, &p("losses[2]")), Some((19, 5)));
        assert_eq!(locate(BLOCK, &p("losses[2].lgm")), Some((19, 5)));
        assert_eq!(locate(BLOCK, &p("losses[2].lgm.covariance")), Some((21, 7)));
        assert_eq!(locate(BLOCK, &p("seeds[2]")), Some((22, 15)));
        // A list at the same indentation as its key.
        assert_eq!(locate(BLOCK, &p("detectors[0]")), Some((26, 3)));
        assert_eq!(locate(BLOCK, &p("detectors[1]")), Some((27, 3)));
        assert_eq!(
            locate(BLOCK, &p("detectors[1].lgm-likelihood")),
            Some((27, 4))
        );
    }

    #[test]
    fn flow_collections() {
        assert_eq!(locate(BLOCK, &p("train.optimizer.sgd")), Some((11, 15)));
        assert_eq!(
            locate(BLOCK, &p("train.optimizer.sgd.nesterov")),
            Some((11, 36))
        );
        assert_eq!(
            locate_value(BLOCK, &p("train.optimizer.sgd.nesterov")),
            Some((11, 46))
        );
        assert_eq!(locate(BLOCK, &p("losses[1].center.lambda")), Some((18, 14)));
        assert_eq!(
            locate(BLOCK, &p("train.schedule.multistep.milestones[1]")),
            Some((14, 23))
        );
        assert_eq!(locate(BLOCK, &p("attacks[0].fgsm.eps[2]")), Some((24, 28)));
    }

    #[test]
    fn flow_document_over_several_lines() {
        let text = "{name: x,\n  losses: [softmax,\n    {center: {alpha: 2}}]}\n";
        assert_eq!(locate(text, &p("losses[1].center.alpha")), Some((3, 15)));
        assert_eq!(
            locate_value(text, &p("losses[1].center.alpha")),
            Some((3, 22))
        );
    }

    #[test]
    fn quoted_keys_and_values() {
        let text = "\"name\": 'a b'\ntrain: {'lr': \"x\"}\n";
        assert_eq!(locate(text, &p("name")), Some((1, 1)));
        assert_eq!(locate_value(text, &p("name")), Some((1, 9)));
        assert_eq!(locate(text, &p("train.lr")), Some((2, 9)));
        assert_eq!(locate_value(text, &p("train.lr")), Some((2, 15)));
    }

    #[test]
    fn missing_paths() {
        assert_eq!(locate(BLOCK, &p("train.lr")), None);
        assert_eq!(locate(BLOCK, &p("losses[7]")), None);
        // Descending into a scalar finds nothing.
        assert_eq!(locate(BLOCK, &p("losses[0].softmax")), None);
        assert_eq!(locate(BLOCK, &p("name.x")), None);
        assert_eq!(locate("", &p("name")), None);
        assert_eq!(locate("a: 1", &p("a.b")), None);
    }

    #[test]
    fn nearest_ancestor_then_origin() {
        assert_eq!(locate_nearest(BLOCK, &p("train.lr"), true), (9, 1));
        assert_eq!(locate_nearest(BLOCK, &p("train.epochs"), true), (10, 11));
        assert_eq!(
            locate_nearest(BLOCK, &p("train.schedule.step.step-size"), false),
            (12, 3)
        );
        assert_eq!(
            locate_nearest(BLOCK, &p("losses[0].softmax.x"), true),
            (17, 5)
        );
        assert_eq!(locate_nearest(BLOCK, &p("nothing.here"), false), (1, 1));
        assert_eq!(locate_nearest(BLOCK, &[], false), (2, 1));
    }

    #[test]
    fn repeated_keys() {
        let text = "name: a\ntrain:\n  lr: 1\n  epochs: 2\n  lr: 3\nname: b\n";
        assert_eq!(locate_repeat(text, &p("train.lr")), Some((5, 3)));
        assert_eq!(locate_repeat(text, &p("name")), Some((6, 1)));
        assert_eq!(locate_repeat(text, &p("train.epochs")), None);
    }

    #[test]
    fn document_root() {
        // The root is located at its first key, past leading comments.
        assert_eq!(locate(BLOCK, &[]), Some((2, 1)));
    }

    #[test]
    fn display_paths() {
        assert_eq!(display(&p("losses[1].lgm.alpha")), "losses[1].lgm.alpha");
        assert_eq!(
            display(&p("attacks[0].fgsm.eps[2]")),
            "attacks[0].fgsm.eps[2]"
        );
        assert_eq!(display(&[]), ".");
    }
}
