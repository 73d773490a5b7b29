//! Suites: the YAML files under `suites/` that say which data, model, losses,
//! seeds, attacks and detectors to combine.
//!
//! The format is declared once, in [`spec`]: each section and component with
//! its parameters, their defaults, ranges and docs. From that declaration
//! come the resolved types below (re-exported from [`spec`]), the reader that
//! checks a suite and fills its defaults ([`crate::decl`]), `lossbench list`
//! ([`catalog`]) and `lossbench schema` ([`schema`]). A suite is read in
//! three steps: the text becomes a tree of YAML values
//! ([`crate::decl::node`]); the
//! declarations walk the tree, so an unknown key, a wrong type or a value out
//! of range fails with its field path and plain words; [`cross`] checks what
//! only several sections together can say. [`crate::decl::locate`] then finds the line
//! and column of a failing field. [`plan`] expands a suite into [`Job`]s
//! with stable ids.
//!
//! This room knows nothing of tch: it only describes work.

/// A field path from keys and indices: `path!["losses", i, "lgm", "alpha"]`.
macro_rules! path {
    ($($seg:expr),* $(,)?) => {
        [$($crate::decl::locate::PathSeg::from($seg)),*]
    };
}

pub mod catalog;
pub mod cross;
pub mod plan;
pub mod spec;

use std::path::Path;

pub use crate::decl::entries::{Entries, Labeled};
pub use crate::decl::AutoOr;
pub use cross::RegressionSpec;
pub use plan::{Job, JobConfig};
pub use spec::{
    limits, AttackSpec, BimStop, Covariance, DataSpec, DatasetName, DetectorSpec, LossSpec,
    ModelKind, ModelSpec, Norm, OodSource, OptimizerSpec, ScheduleSpec, Suite, SyntheticSpec,
    TrainSpec,
};

use crate::decl::locate;
use crate::decl::node::Node;
use crate::decl::{Bounds, Fail, Value};

/// The largest suite file lossbench reads (a suite is a page of YAML).
pub const MAX_SUITE_BYTES: u64 = 1024 * 1024;

impl Suite {
    /// Reads, parses and validates a suite file of at most
    /// [`MAX_SUITE_BYTES`] of UTF-8 text.
    pub fn load(path: &Path) -> crate::Result<Suite> {
        use std::io::Read;
        let file = std::fs::File::open(path)
            .map_err(|e| crate::Error::io("cannot read suite", path, e))?;
        let mut bytes = Vec::new();
        // One byte past the limit tells a file that is too large (or
        // endless, like /dev/zero) without reading all of it.
        file.take(MAX_SUITE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| crate::Error::io("cannot read suite", path, e))?;
        let whole_file = |msg: String| crate::Error::Suite {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
            field: "(the file)".into(),
            msg,
        };
        if bytes.len() as u64 > MAX_SUITE_BYTES {
            return Err(whole_file(format!(
                "larger than {} KiB; a suite is a short YAML file",
                MAX_SUITE_BYTES / 1024
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            whole_file(format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let mut suite = Suite::parse(&text, path)?;
        suite.model_digest(path, &text)?;
        Ok(suite)
    }

    /// For an external model, checks that its file is there (inside the
    /// suite's directory) and fills in, or checks, `model.torchscript.sha256`
    /// from its content, so that job ids and run ids change with the file.
    fn model_digest(&mut self, suite_file: &Path, text: &str) -> crate::Result<()> {
        let Some(rel) = self.model.path.clone() else {
            return Ok(());
        };
        let at = |key: &str, msg: String| {
            let root = Node::parse(text).unwrap_or(Node::Null);
            let field = path!["model", "torchscript", key];
            let (line, column) = locate::position(text, &root, &field, locate::Place::Value);
            crate::Error::Suite {
                file: suite_file.to_path_buf(),
                line,
                column,
                field: locate::display(&field),
                msg,
            }
        };
        let file = model_file(suite_file, &rel).map_err(|why| at("path", why))?;
        let digest = sha256_file(&file)
            .map_err(|e| at("path", format!("cannot read {}: {e}", file.display())))?;
        match &self.model.sha256 {
            Some(want) if !want.eq_ignore_ascii_case(&digest) => Err(at(
                "sha256",
                format!(
                    "the file {} has SHA-256 {digest}, not {want}",
                    file.display()
                ),
            )),
            _ => {
                self.model.sha256 = Some(digest);
                Ok(())
            }
        }
    }

    /// Parses and validates suite text; `path` is only used in messages. A
    /// leading byte-order mark (some Windows editors write one) is ignored.
    pub fn parse(text: &str, path: &Path) -> crate::Result<Suite> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let error =
            |(line, column): (usize, usize), field: &str, msg: String| crate::Error::Suite {
                file: path.to_path_buf(),
                line,
                column,
                field: field.to_owned(),
                msg,
            };
        let root = match Node::parse(text) {
            Ok(Node::Null) => {
                let msg = "the file is empty; a suite needs at least `name`, `data`, `model`, \
                           `losses` and `seeds`";
                return Err(error((1, 1), ".", msg.to_owned()));
            }
            Ok(root) => root,
            // Only the text itself can fail here (syntax, anchors, a second
            // document): the tree takes any shape.
            Err(e) => {
                let at = e.location().map_or((1, 1), |l| (l.line(), l.column()));
                // The position is printed before the message already.
                let msg =
                    e.to_string()
                        .replacen(&format!(" at line {} column {}", at.0, at.1), "", 1);
                return Err(error(at, "(syntax)", msg));
            }
        };
        let suite = Suite::read(&root, &[], Bounds::default())
            .and_then(|suite| cross::check(&suite, &root).map(|()| suite));
        suite.map_err(|fail: Fail| {
            let at = locate::position(text, &root, &fail.path, fail.place);
            error(at, &locate::display(&fail.path), fail.msg)
        })
    }

    /// The jobs of this suite, seed by seed, each seed's losses in order.
    pub fn jobs(&self) -> Vec<Job> {
        plan::expand(self)
    }

    /// Replaces the seeds (`lossbench run --seeds`), with the checks the
    /// suite's own `seeds:` list gets.
    pub fn set_seeds(&mut self, seeds: Vec<u64>) -> crate::Result<()> {
        if seeds.is_empty() {
            return Err(crate::Error::Usage(
                "--seeds: give at least one seed".into(),
            ));
        }
        if let Some(i) = (1..seeds.len()).find(|&i| seeds[..i].contains(&seeds[i])) {
            let msg = format!("--seeds: seed {} is given twice", seeds[i]);
            return Err(crate::Error::Usage(msg));
        }
        self.seeds = seeds;
        Ok(())
    }
}

/// Whether `path` (an external model's, as written in a suite) stays inside
/// the suite's directory as written: relative, and made of names only (no
/// `..`, no root, no drive). Symbolic links are followed by [`model_file`].
pub fn confined(path: &Path) -> Result<(), String> {
    use std::path::Component;
    let names_only = path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if path.as_os_str().is_empty() || !names_only || path.components().next().is_none() {
        return Err(format!(
            "`{}` must be a relative path inside the suite's directory (no `..`, not absolute), \
             e.g. models/my_model.pt; put the file (or a copy) beside the suite",
            path.display()
        ));
    }
    Ok(())
}

/// The file of an external model at `rel` (as written in the suite
/// `suite_file`): `rel` under the suite's directory, which it must not
/// leave, not even through a symbolic link.
pub fn model_file(suite_file: &Path, rel: &Path) -> Result<std::path::PathBuf, String> {
    confined(rel)?;
    let dir = match suite_file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file = dir.join(rel);
    if !file.is_file() {
        return Err(format!(
            "model file {} not found (the path is relative to the suite's directory)",
            file.display()
        ));
    }
    let (real_dir, real_file) = match (dir.canonicalize(), file.canonicalize()) {
        (Ok(d), Ok(f)) => (d, f),
        (Err(e), _) | (_, Err(e)) => return Err(format!("cannot resolve {}: {e}", file.display())),
    };
    if !real_file.starts_with(&real_dir) {
        return Err(format!(
            "{} leads outside the suite's directory (to {}); the model file must be inside it",
            file.display(),
            real_file.display()
        ));
    }
    Ok(file)
}

/// The SHA-256 of a file, in lower-case hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The SHA-256 of bytes, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The JSON Schema (draft-07) of a suite file, for YAML editors: every key
/// with its doc, default and range, every name a component may take, and no
/// other key.
pub fn schema() -> serde_json::Value {
    let mut schema = Suite::schema(Bounds::default());
    schema["$schema"] = "http://json-schema.org/draft-07/schema#".into();
    schema["title"] = format!("lossbench {} suite", crate::VERSION).into();
    schema
}
