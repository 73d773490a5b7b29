//! The suite text as a tree of YAML values, read once by yaml_serde, before
//! any key or value is judged.
//!
//! Reading into a tree that accepts every shape means the YAML library only
//! ever fails on the text itself (bad syntax, an unknown anchor, a second
//! document); every other mistake is found by the declarations in
//! [`crate::decl`], which walk this tree and say what they expected in their
//! own words. Maps keep their entries in order and keep repeated keys, so a
//! repeat is reported rather than silently overwritten. The tree holds no
//! positions (yaml_serde gives none on success); an error is placed in the
//! text afterwards by [`super::locate`].

use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess,
};

/// One YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `~`, `null` or nothing at all.
    Null,
    Bool(bool),
    /// Every whole number; a YAML integer past `i128` is read as a float.
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in the order written, repeats included. A key that is not
    /// text (`0.02:`) is kept as the text of its value.
    Map(Vec<(String, Node)>),
    /// A value with a local tag (`!foo ...`), which no suite key takes.
    Tagged(String),
}

impl Node {
    /// Reads `text`; the error is yaml_serde's, about the text itself.
    pub fn parse(text: &str) -> Result<Node, serde_yaml::Error> {
        let next = Cell::new(0);
        let reader = Reader {
            next: &next,
            stop: STOPPED,
        };
        reader.deserialize(serde_yaml::Deserializer::from_str(text))
    }

    /// What was written, in the words of an error: `-1`, `text "x"`, `a list`.
    pub fn found(&self) -> String {
        match self {
            Node::Null => "null".to_owned(),
            Node::Bool(b) => b.to_string(),
            Node::Int(i) => i.to_string(),
            Node::Float(f) => format!("{f:?}"),
            Node::Str(s) => format!("text {s:?}"),
            Node::Seq(_) => "a list".to_owned(),
            Node::Map(m) if m.is_empty() => "an empty map".to_owned(),
            Node::Map(_) => "a map".to_owned(),
            Node::Tagged(tag) => format!("a value tagged `!{tag}`"),
        }
    }

    /// The scalar as text, for keys and for text-valued fields given a
    /// number (`name: 2024`); `None` for null, lists, maps and tags.
    pub fn text(&self) -> Option<String> {
        match self {
            Node::Bool(b) => Some(b.to_string()),
            Node::Int(i) => Some(i.to_string()),
            Node::Float(f) => Some(f.to_string()),
            Node::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// The value under `key` when `self` is a map (the first, if repeated).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Reads one node of a YAML document, numbering it and every node in it in
/// document order (a key counts as one node, whatever it holds), and fails
/// on purpose at node number `stop`: [`super::locate`] finds a node's line
/// and column by reading the text again up to that failure, which yaml_serde
/// stamps with the node's position. One reader for both keeps the numbering
/// the same.
#[derive(Clone, Copy)]
pub(super) struct Reader<'c> {
    /// The number of the next node; [`STOPPED`] once the reader has stopped.
    pub next: &'c Cell<usize>,
    pub stop: usize,
}

/// [`Reader::next`] after the deliberate failure, which tells it from any
/// other error without reading yaml_serde's message.
pub(super) const STOPPED: usize = usize::MAX;

impl Reader<'_> {
    /// Numbers the node about to be read; fails if it is the one to stop at.
    fn count<'de, D: Deserializer<'de>>(self, d: D) -> Result<D, D::Error> {
        let n = self.next.replace(self.next.get() + 1);
        if n != self.stop {
            return Ok(d);
        }
        self.next.set(STOPPED);
        // Serde's default for every visit is an error, at the node.
        struct Stop;
        impl de::Visitor<'_> for Stop {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the node being located")
            }
        }
        let err = d.deserialize_any(Stop).err();
        Err(err.unwrap_or_else(|| de::Error::custom("the node being located")))
    }
}

impl<'de> DeserializeSeed<'de> for Reader<'_> {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        self.count(d)?.deserialize_any(self)
    }
}

/// A key: one node, read with a reader of its own.
struct Key<'c>(Reader<'c>);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        let next = Cell::new(0);
        let inner = Reader {
            next: &next,
            stop: STOPPED,
        };
        let key = inner.deserialize(self.0.count(d)?)?;
        Ok(key.text().unwrap_or_else(|| "?".to_owned()))
    }
}

impl<'de> de::Visitor<'de> for Reader<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(i128::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key_seed(Key(self))? {
            entries.push((key, map.next_value_seed(self)?));
        }
        Ok(Node::Map(entries))
    }
    // A tagged value is one node; nothing in it is looked at.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Node, A::Error> {
        let (tag, value): (String, _) = data.variant()?;
        value.newtype_variant::<de::IgnoredAny>()?;
        Ok(Node::Tagged(tag))
    }
}
