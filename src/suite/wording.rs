//! Plain words for suite errors: serde's type errors without Rust type names,
//! and "did you mean" suggestions.
//!
//! serde words a wrong type as "invalid type: integer `-1`, expected u64";
//! a suite's author should read "expected a whole number >= 0, found -1".
//! [`plain`] rewrites every such message where the raw layer turns it into a
//! suite error; messages it does not recognise pass through unchanged.

use super::locate::PathSeg;

/// `names` as "`a`, `b`, `c`".
pub fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The candidate closest to `name` (ignoring case), if it is close enough
/// to be a likely misspelling: at most one edit per three characters.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let name = name.to_lowercase();
    let limit = name.chars().count().max(3) / 3;
    candidates
        .iter()
        .map(|c| (edit_distance(&name, &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// serde's message `msg` about the value at `segs`, in plain words.
pub fn plain(msg: &str, segs: &[PathSeg]) -> String {
    // A name that takes no parameters (`NoParams`) was given some.
    if msg.starts_with("unknown field `") && msg.ends_with("`, there are no fields") {
        if let Some(PathSeg::Key(name)) = segs.len().checked_sub(2).map(|i| &segs[i]) {
            return no_params(name);
        }
    }
    let Some((kind, rest)) = msg
        .strip_prefix("invalid type: ")
        .map(|r| (Kind::Type, r))
        .or_else(|| {
            msg.strip_prefix("invalid value: ")
                .map(|r| (Kind::Value, r))
        })
    else {
        return msg.to_owned();
    };
    // The expectation is ours or serde's and never holds ", expected "; the
    // value (a string) might, so split at the last one.
    let Some(at) = rest.rfind(", expected ") else {
        return msg.to_owned();
    };
    let (unexpected, expected) = (&rest[..at], &rest[at + ", expected ".len()..]);
    if expected == "no parameters (an empty map)" {
        if let Some(PathSeg::Key(name)) = segs.last() {
            return no_params(name);
        }
    }
    let found = found(unexpected);
    let expected = match expected_words(expected, &found, segs) {
        Some(words) => words,
        // A value out of an otherwise plain expectation: keep serde's words.
        None if kind == Kind::Value => return msg.to_owned(),
        None => expected.to_owned(),
    };
    format!("expected {expected}, found {found}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Type,
    Value,
}

fn no_params(name: &str) -> String {
    format!("`{name}` takes no parameters")
}

/// serde's `Unexpected` (what was written) in plain words.
fn found(unexpected: &str) -> String {
    let ticked = |prefix: &str| {
        let rest = unexpected.strip_prefix(prefix)?;
        rest.split('`').next().map(str::to_owned)
    };
    if let Some(v) = ticked("integer `")
        .or_else(|| ticked("floating point `"))
        .or_else(|| ticked("boolean `"))
    {
        return v;
    }
    if let Some(s) = unexpected.strip_prefix("string ") {
        return format!("text {s}");
    }
    if let Some(c) = ticked("char `") {
        return format!("text \"{c}\"");
    }
    match unexpected {
        "unit value" | "unit" => "null".to_owned(),
        "sequence" => "a list".to_owned(),
        "map" => "a map".to_owned(),
        other => other.to_owned(),
    }
}

/// serde's expectation in plain words; `None` when it is already plain (the
/// raw layer's own `expecting` texts).
fn expected_words(expected: &str, found: &str, segs: &[PathSeg]) -> Option<String> {
    let unsigned_max = match expected {
        "u8" => Some(u8::MAX as u128),
        "u16" => Some(u16::MAX as u128),
        "u32" => Some(u32::MAX as u128),
        "u64" => Some(u64::MAX as u128),
        "usize" => Some(usize::MAX as u128),
        "u128" => Some(u128::MAX),
        _ => None,
    };
    if let Some(max) = unsigned_max {
        // A whole number >= 0 that was still refused is too large.
        let too_large = !found.is_empty() && found.bytes().all(|b| b.is_ascii_digit());
        return Some(if too_large {
            format!("a whole number from 0 to {max}")
        } else {
            "a whole number >= 0".to_owned()
        });
    }
    Some(match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "a string" | "a borrowed string" | "a character" => "text".to_owned(),
        "a sequence" => "a list".to_owned(),
        // yaml_serde's words for a map or list where a unit enum (a bare
        // name) belongs.
        "a YAML tag starting with '!'" => match segs.last() {
            Some(PathSeg::Key(key)) => match choices(key) {
                Some(names) => format!("one of {}", quoted(names)),
                None => "a name".to_owned(),
            },
            _ => "a name".to_owned(),
        },
        _ => return None,
    })
}

/// The names of the unit enums of the suite format, by their key.
fn choices(key: &str) -> Option<&'static [&'static str]> {
    match key {
        "covariance" => Some(&["identity", "isotropic", "diagonal"]),
        "stop" => Some(&["first", "last"]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{BimStop, Covariance};

    fn key(k: &str) -> PathSeg {
        PathSeg::Key(k.to_owned())
    }

    #[test]
    fn type_names_become_words() {
        let at = [key("seeds"), PathSeg::Index(0)];
        let cases = [
            (
                "invalid type: integer `-1`, expected u64",
                "expected a whole number >= 0, found -1",
            ),
            (
                "invalid type: floating point `1.5`, expected usize",
                "expected a whole number >= 0, found 1.5",
            ),
            (
                "invalid type: string \"fast\", expected f64",
                "expected a number, found text \"fast\"",
            ),
            (
                "invalid type: integer `1`, expected a boolean",
                "expected true or false, found 1",
            ),
            (
                "invalid type: sequence, expected a string",
                "expected text, found a list",
            ),
            (
                "invalid type: unit value, expected u64",
                "expected a whole number >= 0, found null",
            ),
            (
                "invalid type: map, expected f64",
                "expected a number, found a map",
            ),
            (
                "invalid type: boolean `true`, expected i64",
                "expected a whole number, found true",
            ),
            (
                "invalid type: integer `3`, expected a sequence",
                "expected a list, found 3",
            ),
            (
                "invalid value: integer `99999999999`, expected u32",
                "expected a whole number from 0 to 4294967295, found 99999999999",
            ),
            (
                "invalid type: integer `99999999999999999999999` as u128, expected u64",
                "expected a whole number from 0 to 18446744073709551615, found \
                 99999999999999999999999",
            ),
            // The raw layer's own expectations stay; the value is still reworded.
            (
                "invalid type: integer `3`, expected a loss name or a one-key map",
                "expected a loss name or a one-key map, found 3",
            ),
            // A string value holding ", expected " does not confuse the split.
            (
                "invalid type: string \"a, expected b\", expected f64",
                "expected a number, found text \"a, expected b\"",
            ),
        ];
        for (serde, plain_words) in cases {
            assert_eq!(plain(serde, &at), plain_words, "{serde}");
        }
    }

    #[test]
    fn other_messages_pass_through() {
        for msg in [
            "unknown field `x`, expected `a` or `b`",
            "unknown variant `full`, expected one of `identity`, `isotropic`, `diagonal`",
            "missing field `name`",
            "invalid value: string \"x\", expected something of our own",
        ] {
            assert_eq!(plain(msg, &[key("a")]), msg);
        }
    }

    #[test]
    fn parameterless_names() {
        let at = [key("losses"), PathSeg::Index(0), key("softmax"), key("foo")];
        assert_eq!(
            plain("unknown field `foo`, there are no fields", &at),
            "`softmax` takes no parameters"
        );
        assert_eq!(
            plain(
                "invalid type: integer `1`, expected no parameters (an empty map)",
                &at[..3]
            ),
            "`softmax` takes no parameters"
        );
    }

    #[test]
    fn unit_enums_list_their_names() {
        let msg = "invalid type: map, expected a YAML tag starting with '!'";
        let lgm = [
            key("losses"),
            PathSeg::Index(0),
            key("lgm"),
            key("covariance"),
        ];
        assert_eq!(
            plain(msg, &lgm),
            "expected one of `identity`, `isotropic`, `diagonal`, found a map"
        );
        assert_eq!(plain(msg, &[key("x")]), "expected a name, found a map");
        // The lists are the enums' own names.
        for name in choices("covariance").unwrap() {
            serde_yaml::from_str::<Covariance>(name).unwrap();
        }
        for name in choices("stop").unwrap() {
            serde_yaml::from_str::<BimStop>(name).unwrap();
        }
        let err = serde_yaml::from_str::<Covariance>("zzz")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&quoted(choices("covariance").unwrap())),
            "{err}"
        );
        let err = serde_yaml::from_str::<BimStop>("zzz")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`first` or `last`"), "{err}");
    }

    #[test]
    fn suggestions() {
        let metrics = ["clean_acc", "robust_acc", "auroc", "aupr", "asr"];
        assert_eq!(closest("clen_acc", &metrics), Some("clean_acc"));
        assert_eq!(closest("AUROC", &metrics), Some("auroc"));
        assert_eq!(closest("clean-acc", &metrics), Some("clean_acc"));
        assert_eq!(closest("auprc", &metrics), Some("aupr"));
        assert_eq!(closest("accuracy", &metrics), None);
        assert_eq!(closest("xyz", &metrics), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
