//! The one error type of the library. Every message names what a user can fix:
//! the file, the YAML field and its line, the data file, the job, the detector.
//!
//! Exit codes (see `main.rs` and docs/design.md, "Commands"): 0 ok, 1
//! regression found, 2 bad input or usage, 3 runtime failure, 130 interrupted
//! (Ctrl-C or SIGTERM). Bad input is anything the user hands lossbench that it
//! cannot use: a suite, data or result file that is missing, unreadable or
//! malformed, or a bad argument. A runtime failure is lossbench failing at
//! its own work: a job or a detector that fails, a file it cannot write.
//! [`Error::exit_code`] decides by the variant (and, for [`Error::Io`], by
//! its [`IoOp`]) alone, never by a message's text.
//!
//! A message says what its own layer adds and never repeats its cause: the
//! cause is [`std::error::Error::source`], so the binary prints each cause
//! once, on a `caused by:` line, and [`OneLine`] joins them for a table cell
//! or a warning. [`Error::Torch`] is the one leaf that wraps another error
//! without exposing it: libtorch's own text carries its C++ stack, and the
//! message keeps only the part a person reads ([`torch_message`]).

use std::fmt;
use std::path::PathBuf;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in lossbench.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A suite file that does not parse or does not validate.
    #[error("{}:{line}:{column}: {field}: {msg}", file.display())]
    Suite {
        file: PathBuf,
        line: usize,
        column: usize,
        /// Dotted field path, e.g. `train.batch-size` or `losses[1].alpha`.
        field: String,
        msg: String,
    },
    /// A data file that is missing, truncated or malformed.
    #[error("data file '{}': {msg}", file.display())]
    Data { file: PathBuf, msg: String },
    /// No directory holds the dataset.
    #[error(
        "dataset '{name}' not found; looked in: {tried}; download it with `lossbench data fetch {name}`"
    )]
    DataNotFound { name: String, tried: String },
    /// A download that failed: the server could not be reached, the
    /// transfer stopped, or the file's SHA-256 differs from the one
    /// lossbench ships (`lossbench data fetch`).
    #[error("cannot fetch {url}: {msg}")]
    Fetch { url: String, msg: String },
    /// A result or report file that cannot be read or is malformed.
    #[error("result file '{}': {msg}", file.display())]
    Results { file: PathBuf, msg: String },
    /// Bad command-line usage that clap cannot catch (e.g. an unknown device).
    #[error("{0}")]
    Usage(String),
    /// A file-system operation failed: bad input when it read an input
    /// ([`IoOp::Read`]), a runtime failure otherwise. The message names the
    /// operation and the path; the system's reason is the source.
    #[error("{op} '{}'", path.display())]
    Io {
        op: IoOp,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A detector failed to fit or to score, or its scores gave no metric
    /// (docs/design.md, "Detector"). The job fails; the message names the
    /// detector and the attack whose pairs it was on.
    #[error("detector '{detector}'{}", attack.as_ref().map(|a| format!(" on {a}")).unwrap_or_default())]
    Detector {
        detector: String,
        /// The attack whose pairs it was fitting or scoring; `None` for the
        /// fit on clean training data, or before the runner knows it.
        attack: Option<String>,
        #[source]
        source: DetectorFailure,
    },
    /// A job failed while running (diverged, out of memory, ...).
    #[error("job {job}: {msg}")]
    Job { job: String, msg: String },
    /// The run was stopped by Ctrl-C or a termination signal.
    #[error(
        "interrupted: the job in flight was abandoned; a rerun of the suite continues the run"
    )]
    Interrupted,
    /// A libtorch error, cut to the line a person reads; not a source, since
    /// its full text is the C++ stack the cut leaves out.
    #[error("libtorch: {}", torch_message(&.0.to_string()))]
    Torch(tch::TchError),
    #[error("polars")]
    Polars(#[from] polars::error::PolarsError),
}

impl From<tch::TchError> for Error {
    fn from(e: tch::TchError) -> Self {
        Error::Torch(e)
    }
}

/// What lossbench was doing with a file when the system refused. It decides
/// the exit code of [`Error::Io`]: reading what the user handed in is bad
/// input (2); everything else is lossbench's own work on its results,
/// reports and locks (3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoOp {
    /// Opening or reading an input: a suite, a data file, a result table, a
    /// manifest, a train log. The phrase starts the message ("cannot read",
    /// "cannot read suite"), so the input can say what it is.
    Read(&'static str),
    /// Listing a run directory for the temp files of dead writers.
    List,
    Create,
    CreateDir,
    Write,
    /// Renaming a temp file over the file it replaces.
    Replace,
    /// Renaming a temp file to its final name.
    RenameInto,
    /// Moving an unreadable table or checkpoint aside.
    MoveAside,
    SyncDir,
    /// Opening (creating) a lock file in a run directory.
    OpenLock,
    Lock,
    /// Checking, before training, that the report directory takes files.
    ReportDir,
    /// Drawing a plot (plotters' error, as the source).
    Render,
}

impl IoOp {
    /// Whether the operation read an input the user handed in.
    pub fn is_input(self) -> bool {
        matches!(self, IoOp::Read(_))
    }
}

impl fmt::Display for IoOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IoOp::Read(phrase) => phrase,
            IoOp::List => "cannot list",
            IoOp::Create => "cannot create",
            IoOp::CreateDir => "cannot create directory",
            IoOp::Write => "cannot write",
            IoOp::Replace => "cannot replace",
            IoOp::RenameInto => "cannot rename into",
            IoOp::MoveAside => "cannot move aside",
            IoOp::SyncDir => "cannot sync directory",
            IoOp::OpenLock => "cannot open lock file",
            IoOp::Lock => "cannot lock",
            IoOp::ReportDir => "cannot write into the report directory",
            IoOp::Render => "cannot render plot",
        })
    }
}

/// Why a detector failed: the source of [`Error::Detector`].
#[derive(Debug, thiserror::Error)]
pub enum DetectorFailure {
    /// The detector's own check: fitted on nothing, scored before fitting.
    #[error("{0}")]
    Check(String),
    /// Its supervised regression could not be fitted.
    #[error(transparent)]
    Regression(#[from] crate::detect::logistic::FitError),
    /// A metric of its scores (a NaN score, one class only).
    #[error(transparent)]
    Metric(#[from] crate::metrics::MetricError),
    /// An error on its way: libtorch, or another detector it builds on.
    #[error(transparent)]
    Error(Box<Error>),
}

impl From<String> for DetectorFailure {
    fn from(msg: String) -> Self {
        DetectorFailure::Check(msg)
    }
}

impl From<&str> for DetectorFailure {
    fn from(msg: &str) -> Self {
        DetectorFailure::Check(msg.to_owned())
    }
}

impl Error {
    /// Builds an [`Error::Io`] for an input that cannot be opened or read,
    /// with the phrase the message starts with ("cannot read suite"). For
    /// any other operation use [`Error::fs`].
    pub fn io(phrase: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::fs(IoOp::Read(phrase), path, source)
    }

    /// Builds an [`Error::Io`] for an input that cannot be read.
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::fs(IoOp::Read("cannot read"), path, source)
    }

    /// Builds an [`Error::Io`] for operation `op` on `path`.
    pub fn fs(op: IoOp, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// The process exit code for this error: 2 for bad input (including an
    /// input file that cannot be read), 130 for an interruption, 3 for
    /// everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Interrupted => crate::interrupt::EXIT_CODE.into(),
            Error::Suite { .. }
            | Error::Data { .. }
            | Error::DataNotFound { .. }
            | Error::Results { .. }
            | Error::Usage(_) => 2,
            Error::Io { op, .. } if op.is_input() => 2,
            Error::Io { .. }
            | Error::Fetch { .. }
            | Error::Detector { .. }
            | Error::Job { .. }
            | Error::Torch(_)
            | Error::Polars(_) => 3,
        }
    }
}

/// An error and its causes on one line, `what: why: ...`, for a table cell,
/// a warning or a job's `FAILED` line, where the binary's layout (one cause
/// a line) does not fit. Each cause appears once, since no message repeats
/// its source.
#[derive(Clone, Copy)]
pub struct OneLine<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

/// The part of a libtorch message a person reads, on one line: libtorch
/// appends the C++ stack ("Exception raised from ... frame #0 ..."), which
/// names no file or field a user can fix. Escaped newlines (`\n` in a
/// message that went through `Debug`) count as line breaks.
pub fn torch_message(msg: &str) -> String {
    // A panic from an infallible tch call wraps the message as
    // "called `Result::unwrap()` on an `Err` value: Torch(\"...\")".
    let msg = msg.split_once("Torch(\"").map_or(msg, |(_, inner)| inner);
    let head = msg.find("Exception raised from").map_or(msg, |i| &msg[..i]);
    let head = head.replace("\\n", "\n");
    let head = head.trim_end().trim_end_matches("\")");
    head.split_whitespace().collect::<Vec<_>>().join(" ")
}

thread_local! {
    static CONTAINED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// While a guard lives, a panic on this thread is caught by the caller and
/// reported as an error (a job's libtorch failure), so the panic hook says
/// nothing.
#[derive(Debug)]
pub struct ContainedPanics(bool);

impl ContainedPanics {
    pub fn enter() -> ContainedPanics {
        ContainedPanics(CONTAINED.with(|c| c.replace(true)))
    }
}

impl Drop for ContainedPanics {
    fn drop(&mut self) {
        CONTAINED.with(|c| c.set(self.0));
    }
}

/// Replaces the default panic message (with libtorch's C++ stack in it)
/// by one line: a panic outside a contained job is a bug of lossbench, and
/// one inside a job is reported as that job's error.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        if CONTAINED.with(std::cell::Cell::get) {
            return;
        }
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error{at}: {} (a bug in lossbench; please report it)",
            torch_message(msg)
        );
    }));
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::path::PathBuf;

    use super::{torch_message, DetectorFailure, Error, IoOp, OneLine};
    use crate::metrics::MetricError;

    fn os_error() -> std::io::Error {
        std::io::Error::from(std::io::ErrorKind::PermissionDenied)
    }

    fn detector(source: DetectorFailure) -> Error {
        Error::Detector {
            detector: "kd".into(),
            attack: Some("fgsm(eps=0.1)".into()),
            source,
        }
    }

    /// One error of every variant (and every [`IoOp`]), with the exit code
    /// it must give: the variant decides, whatever the message says.
    fn every_variant() -> Vec<(Error, i32)> {
        let file = PathBuf::from("x");
        let mut all = vec![
            (
                Error::Suite {
                    file: file.clone(),
                    line: 1,
                    column: 1,
                    field: "name".into(),
                    msg: "cannot write".into(),
                },
                2,
            ),
            (
                Error::Data {
                    file: file.clone(),
                    msg: "truncated".into(),
                },
                2,
            ),
            (
                Error::DataNotFound {
                    name: "mnist".into(),
                    tried: "here".into(),
                },
                2,
            ),
            (
                Error::Results {
                    file: file.clone(),
                    msg: "cannot lock".into(),
                },
                2,
            ),
            (Error::Usage("bad device".into()), 2),
            (
                Error::Fetch {
                    url: "http://127.0.0.1:9/x".into(),
                    msg: "connection refused".into(),
                },
                3,
            ),
            (Error::io("cannot read suite", &file, os_error()), 2),
            (Error::read(&file, os_error()), 2),
            // An input's phrase does not decide: any phrase reads as input.
            (Error::fs(IoOp::Read("cannot write"), &file, os_error()), 2),
            (
                detector(DetectorFailure::Check("scored before fit".into())),
                3,
            ),
            (
                Error::Job {
                    job: "0123".into(),
                    msg: "cannot read".into(),
                },
                3,
            ),
            (Error::Interrupted, 130),
            (Error::Torch(tch::TchError::Torch("bad shape".into())), 3),
            (
                Error::Polars(polars::error::PolarsError::NoData("empty".into())),
                3,
            ),
        ];
        for op in [
            IoOp::List,
            IoOp::Create,
            IoOp::CreateDir,
            IoOp::Write,
            IoOp::Replace,
            IoOp::RenameInto,
            IoOp::MoveAside,
            IoOp::SyncDir,
            // "cannot open lock file" was bad input while a message prefix
            // decided; a lock file is lossbench's own.
            IoOp::OpenLock,
            IoOp::Lock,
            IoOp::ReportDir,
            IoOp::Render,
        ] {
            all.push((Error::fs(op, &file, os_error()), 3));
        }
        all
    }

    #[test]
    fn the_exit_code_follows_the_variant() {
        for (e, code) in every_variant() {
            assert_eq!(e.exit_code(), code, "{e:?}");
        }
    }

    #[test]
    fn no_message_repeats_its_source_and_one_line_shows_each_once() {
        let mut all: Vec<Error> = every_variant().into_iter().map(|(e, _)| e).collect();
        all.extend([
            detector(DetectorFailure::Metric(MetricError::NaN { index: 3 })),
            detector(DetectorFailure::Error(Box::new(Error::read(
                "y",
                os_error(),
            )))),
        ]);
        for e in &all {
            let mut chain = vec![e.to_string()];
            let mut cause = e.source();
            while let Some(c) = cause {
                let text = c.to_string();
                assert!(
                    chain.iter().all(|above| !above.contains(&text)),
                    "'{text}' is repeated above it in {chain:?}"
                );
                chain.push(text);
                cause = c.source();
            }
            assert_eq!(OneLine(e).to_string(), chain.join(": "));
        }
        let e = detector(DetectorFailure::Error(Box::new(Error::read(
            "y",
            os_error(),
        ))));
        assert_eq!(
            OneLine(&e).to_string(),
            "detector 'kd' on fgsm(eps=0.1): cannot read 'y': permission denied"
        );
        assert_eq!(
            Error::io("cannot read suite", "s.yaml", os_error()).to_string(),
            "cannot read suite 's.yaml'"
        );
    }

    #[test]
    fn a_libtorch_error_is_one_line_without_a_source() {
        let e = Error::from(tch::TchError::Torch(
            "bad shape\nException raised from f at x.cpp:1".into(),
        ));
        assert_eq!(e.to_string(), "libtorch: Internal torch error: bad shape");
        assert!(e.source().is_none());
    }

    #[test]
    fn the_cpp_stack_is_cut_from_libtorch_messages() {
        let raw = "shape '[2, 3]' is invalid for input of size 5\nException raised from \
                   infer_size_impl at aten/src/ATen/InferSize.h:52 (most recent call first):\n\
                   frame #0: c10::Error::Error";
        assert_eq!(
            torch_message(raw),
            "shape '[2, 3]' is invalid for input of size 5"
        );
        let panic = "called `Result::unwrap()` on an `Err` value: Torch(\"mat1 and mat2 \
                     shapes cannot be multiplied\\nException raised from x\")";
        assert_eq!(
            torch_message(panic),
            "mat1 and mat2 shapes cannot be multiplied"
        );
        assert_eq!(torch_message("Torch(\"short\")"), "short");
    }
}
