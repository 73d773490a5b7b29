//! The YAML reader of suites: the tree it builds from any text, and the
//! line and column it finds for a field path.

use lossbench::decl::locate::{display, locate, position, PathSeg, Place};
use lossbench::decl::node::Node;

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
