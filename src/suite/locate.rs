//! Finds where a field path is written in suite text, for error messages.
//!
//! yaml_serde reports positions only with errors, so the YAML tree
//! ([`Node`]) has none. A failing field is found again instead: its place in
//! the tree gives its number among the nodes of the document, in order; the
//! text is then read once more by the same reader, told to fail on purpose
//! at that number, and yaml_serde stamps the failure with the node's line
//! and column. Positions therefore come from the parser that
//! read the suite, and block and flow style, comments, quoting and anchors
//! all work alike.
//!
//! This module knows nothing of suites: it maps paths to positions.

use std::cell::Cell;

use serde::de::DeserializeSeed;

use super::node::{Node, Reader, STOPPED};

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

/// Which part of a field a position is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The value (for a list item, the item).
    Value,
    /// The key naming it.
    Key,
    /// The second time its key is written in the same map.
    RepeatedKey,
}

/// The field path as users read it: `train.batch-size`, `losses[1].lgm.alpha`,
/// `seeds`; the root is `.`.
pub fn display(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) if out.is_empty() => out.push_str(k),
            PathSeg::Key(k) => out.push_str(&format!(".{k}")),
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// The 1-based (line, column) of `place` of the field at `path` in `text`
/// (read as `root`); `None` when it is not written. The empty path is the
/// document itself.
pub fn locate(text: &str, root: &Node, path: &[PathSeg], place: Place) -> Option<(usize, usize)> {
    probe(text, ordinal(root, path, place)?)
}

/// Like [`locate`], but when the field is not written (a default, or a
/// missing key), the key of its nearest written ancestor, else 1:1: an error
/// about a default lands on the section that left it out.
pub fn position(text: &str, root: &Node, path: &[PathSeg], place: Place) -> (usize, usize) {
    locate(text, root, path, place)
        .or_else(|| {
            (1..path.len())
                .rev()
                .find_map(|n| locate(text, root, &path[..n], Place::Key))
        })
        .unwrap_or((1, 1))
}

/// The number of the node `path` leads to (or of its key), counting every
/// node yaml_serde visits in document order from 0, a key as one node.
fn ordinal(mut node: &Node, path: &[PathSeg], place: Place) -> Option<usize> {
    let mut ord = 0;
    for (i, seg) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let mut next = ord + 1;
        match (seg, node) {
            (PathSeg::Key(key), Node::Map(entries)) => {
                let skip = usize::from(last && place == Place::RepeatedKey);
                let mut seen = 0;
                let mut found = None;
                for (k, v) in entries {
                    if k == key {
                        if seen == skip {
                            found = Some(v);
                            break;
                        }
                        seen += 1;
                    }
                    next += 1 + size(v);
                }
                node = found?;
                if last && place != Place::Value {
                    return Some(next);
                }
                ord = next + 1;
            }
            (PathSeg::Index(i), Node::Seq(items)) => {
                node = items.get(*i)?;
                ord = next + items[..*i].iter().map(size).sum::<usize>();
            }
            _ => return None,
        }
    }
    Some(ord)
}

/// How many nodes `node` is, itself included.
fn size(node: &Node) -> usize {
    1 + match node {
        Node::Seq(items) => items.iter().map(size).sum(),
        Node::Map(entries) => entries.iter().map(|(_, v)| 1 + size(v)).sum(),
        _ => 0,
    }
}

/// The position yaml_serde gives node number `target` of `text`.
fn probe(text: &str, target: usize) -> Option<(usize, usize)> {
    let next = Cell::new(0);
    let reader = Reader {
        next: &next,
        stop: target,
    };
    let err = reader
        .deserialize(serde_yaml::Deserializer::from_str(text))
        .err()?;
    (next.get() == STOPPED).then(|| err.location().map(|l| (l.line(), l.column())))?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "losses[1].lgm.alpha" as a path.
    fn p(s: &str) -> Vec<PathSeg> {
        let mut out = Vec::new();
        for part in s.split('.').filter(|p| !p.is_empty()) {
            let mut pieces = part.split('[');
            let key = pieces.next().unwrap();
            if !key.is_empty() {
                out.push(PathSeg::from(key));
            }
            for index in pieces {
                out.push(PathSeg::Index(index.trim_end_matches(']').parse().unwrap()));
            }
        }
        out
    }

    fn at(text: &str, path: &str, place: Place) -> Option<(usize, usize)> {
        locate(text, &Node::parse(text).unwrap(), &p(path), place)
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
    fn keys_values_and_items_in_block_and_flow_style() {
        use Place::{Key, Value};
        let cases = [
            // The root is located at its first key, past leading comments.
            ("", Key, (2, 1)),
            ("name", Key, (2, 1)),
            ("data", Key, (3, 1)),
            ("data.dataset", Key, (4, 3)),
            ("data.train-subset", Key, (5, 3)),
            ("model.small-cnn.feature-dim", Key, (8, 5)),
            ("train.schedule.multistep.gamma", Key, (15, 7)),
            ("regression.clean_acc", Key, (29, 3)),
            ("data.dataset", Value, (4, 12)),
            ("train.epochs", Value, (10, 11)),
            ("losses[2].lgm.alpha", Value, (20, 14)),
            // A block map value starts at its first key, a flow one at its
            // bracket.
            ("train.schedule", Value, (13, 5)),
            ("seeds", Value, (22, 8)),
            // A map inside a block list starts at its first key, after the dash.
            ("losses[0]", Key, (17, 5)),
            ("losses[1]", Value, (18, 5)),
            ("losses[2].lgm", Key, (19, 5)),
            ("losses[2].lgm.covariance", Key, (21, 7)),
            ("seeds[2]", Key, (22, 15)),
            // A list at the same indentation as its key.
            ("detectors[0]", Key, (26, 3)),
            ("detectors[1]", Key, (27, 3)),
            ("detectors[1].lgm-likelihood", Key, (27, 4)),
            ("train.optimizer.sgd", Key, (11, 15)),
            ("train.optimizer.sgd.nesterov", Key, (11, 36)),
            ("train.optimizer.sgd.nesterov", Value, (11, 46)),
            ("losses[1].center.lambda", Key, (18, 14)),
            ("train.schedule.multistep.milestones[1]", Key, (14, 23)),
            ("attacks[0].fgsm.eps[2]", Key, (24, 28)),
        ];
        for (path, place, expected) in cases {
            assert_eq!(at(BLOCK, path, place), Some(expected), "{path} {place:?}");
        }
    }

    #[test]
    fn flow_documents_quotes_and_repeats() {
        let flow = "{name: x,\n  losses: [softmax,\n    {center: {alpha: 2}}]}\n";
        assert_eq!(
            at(flow, "losses[1].center.alpha", Place::Key),
            Some((3, 15))
        );
        assert_eq!(
            at(flow, "losses[1].center.alpha", Place::Value),
            Some((3, 22))
        );
        let quoted = "\"name\": 'a b'\ntrain: {'lr': \"x\"}\n";
        assert_eq!(at(quoted, "name", Place::Value), Some((1, 9)));
        assert_eq!(at(quoted, "train.lr", Place::Key), Some((2, 9)));
        assert_eq!(at(quoted, "train.lr", Place::Value), Some((2, 15)));
        let repeats = "name: a\ntrain:\n  lr: 1\n  epochs: 2\n  lr: 3\nname: b\n";
        assert_eq!(at(repeats, "train.lr", Place::RepeatedKey), Some((5, 3)));
        assert_eq!(at(repeats, "name", Place::RepeatedKey), Some((6, 1)));
        assert_eq!(at(repeats, "train.epochs", Place::RepeatedKey), None);
        // An anchor's copy is numbered like the tree, which holds it twice.
        let alias = "a: &x {b: 1}\nc: *x\nd: 2\n";
        assert_eq!(at(alias, "d", Place::Key), Some((3, 1)));
    }

    #[test]
    fn unwritten_paths_fall_back_to_the_nearest_ancestor() {
        for path in ["train.lr", "losses[7]", "losses[0].softmax", "name.x"] {
            assert_eq!(at(BLOCK, path, Place::Key), None, "{path}");
        }
        assert_eq!(at("", "name", Place::Key), None);
        let root = Node::parse(BLOCK).unwrap();
        let near = |path: &str, place| position(BLOCK, &root, &p(path), place);
        assert_eq!(near("train.lr", Place::Value), (9, 1));
        assert_eq!(near("train.schedule.step.step-size", Place::Key), (12, 3));
        assert_eq!(near("losses[0].softmax.x", Place::Value), (17, 5));
        assert_eq!(near("nothing.here", Place::Key), (1, 1));
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
