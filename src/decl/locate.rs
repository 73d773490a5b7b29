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
