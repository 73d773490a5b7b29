//! The project stands alone: every relative link in README.md and docs/
//! resolves to a file in the repository (and every `#anchor` to a heading
//! of it), and no tracked file points at a path outside the repository.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown files whose links are checked.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The targets of inline links `[text](target)` outside code blocks.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    out
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped (but `-`
/// and `_`), spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(md: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(md).unwrap();
    let mut in_code = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.push(slug(line.trim_start_matches('#')));
        }
    }
    out
}

#[test]
fn every_relative_link_resolves_inside_the_repository() {
    let root = root().canonicalize().unwrap();
    let mut checked = 0;
    let mut bad = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            let Ok(real) = target.canonicalize() else {
                bad.push(format!("{}: {link}: no such file", file.display()));
                continue;
            };
            if !real.starts_with(&root) {
                bad.push(format!(
                    "{}: {link}: outside the repository",
                    file.display()
                ));
                continue;
            }
            let is_md = real.extension().is_some_and(|e| e == "md");
            if !anchor.is_empty() && is_md && !anchors(&real).iter().any(|a| a == anchor) {
                bad.push(format!("{}: {link}: no heading #{anchor}", file.display()));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(
        checked > 20,
        "only {checked} links found: is the parser right?"
    );
}

#[test]
fn no_tracked_file_points_outside_the_repository() {
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "git ls-files failed");
    let mut bad = Vec::new();
    for name in out.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        if name == "Cargo.lock" {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root().join(&name)) else {
            continue; // binary files
        };
        // Spelt in pieces, so this file does not name them itself.
        let needles = [
            concat!("..", "/shared"),
            concat!("SPEC", ".md"),
            concat!("ARCHITECTURE", ".md"),
            concat!("STYLE", ".md"),
        ];
        for needle in needles {
            if text.contains(needle) {
                bad.push(format!("{name}: mentions {needle}"));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
