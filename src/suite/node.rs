//! The suite text as a tree of YAML values, read once by yaml_serde, before
//! any key or value is judged.
//!
//! Reading into a tree that accepts every shape means the YAML library only
//! ever fails on the text itself (bad syntax, an unknown anchor, a second
//! document); every other mistake is found by the declarations in
//! [`super::decl`], which walk this tree and say what they expected in their
//! own words. Maps keep their entries in order and keep repeated keys, so a
//! repeat is reported rather than silently overwritten. The tree holds no
//! positions (yaml_serde gives none on success); an error is placed in the
//! text afterwards by [`super::locate`].

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess};

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
        Node::deserialize(serde_yaml::Deserializer::from_str(text))
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

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> de::Visitor<'de> for NodeVisitor {
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
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Node, Node>()? {
            entries.push((key.text().unwrap_or_else(|| "?".to_owned()), value));
        }
        Ok(Node::Map(entries))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Node, A::Error> {
        let (tag, value): (String, _) = data.variant()?;
        value.newtype_variant::<Node>()?;
        Ok(Node::Tagged(tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_is_read_without_judging_it() {
        let node = Node::parse("a: [1, -2, 1.5, x, true, ~]\nb: {}\na: 2\n0.5: y\n").unwrap();
        let Node::Map(entries) = &node else {
            panic!("{node:?}")
        };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["a", "b", "a", "0.5"],
            "repeats and non-text keys kept"
        );
        let Some(Node::Seq(items)) = node.get("a") else {
            panic!("{node:?}")
        };
        let found: Vec<String> = items.iter().map(Node::found).collect();
        assert_eq!(found, ["1", "-2", "1.5", "text \"x\"", "true", "null"]);
        assert_eq!(
            node.get("b").map(Node::found).as_deref(),
            Some("an empty map")
        );
        for empty in ["", "# only a comment\n"] {
            assert_eq!(Node::parse(empty).unwrap(), Node::Null);
        }
        let big = Node::parse("99999999999999999999999").unwrap();
        assert_eq!(big, Node::Int(99999999999999999999999));
        assert_eq!(Node::parse("!foo 3").unwrap(), Node::Tagged("foo".into()));
        assert!(Node::parse("a: [1").is_err());
    }
}
