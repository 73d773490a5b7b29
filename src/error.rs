//! The one error type of the library. Every message names what a user can fix:
//! the file, the YAML field and its line, the data file, the job.
//!
//! Exit codes (see `main.rs`): 0 ok, 1 regression found, 2 bad input or usage,
//! 3 runtime failure, 130 interrupted (Ctrl-C or SIGTERM). Bad input is anything the user hands lossbench that it
//! cannot use: a suite, data or result file that is missing, unreadable or
//! malformed, or a bad argument. A runtime failure is lossbench failing at
//! its own work: a job that fails, a file it cannot write.

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
    #[error("dataset '{name}' not found; looked in: {tried}")]
    DataNotFound { name: String, tried: String },
    /// A result or report file that cannot be read or is malformed.
    #[error("result file '{}': {msg}", file.display())]
    Results { file: PathBuf, msg: String },
    /// Bad command-line usage that clap cannot catch (e.g. an unknown device).
    #[error("{0}")]
    Usage(String),
    /// A file-system operation failed. A failure to read (a context starting
    /// with one of [`READ_CONTEXTS`]) is bad input, any other a runtime one.
    #[error("{context} '{}': {source}", path.display())]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A metric could not be computed from a detector's scores.
    #[error("detector '{detector}': {source}")]
    Metric {
        detector: String,
        #[source]
        source: crate::metrics::MetricError,
    },
    /// A job failed while running (diverged, out of memory, ...).
    #[error("job {job}: {msg}")]
    Job { job: String, msg: String },
    /// The run was stopped by Ctrl-C or a termination signal.
    #[error(
        "interrupted: the job in flight was abandoned; a rerun of the suite continues the run"
    )]
    Interrupted,
    #[error("libtorch: {}", torch_message(&.0.to_string()))]
    Torch(#[from] tch::TchError),
    #[error("polars: {0}")]
    Polars(#[from] polars::error::PolarsError),
}

impl Error {
    /// Builds an [`Error::Io`] with a context phrase such as "cannot read".
    pub fn io(context: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            context,
            path: path.into(),
            source,
        }
    }

    /// The process exit code for this error: 2 for bad input (including a
    /// file that cannot be read), 3 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Interrupted => crate::interrupt::EXIT_CODE.into(),
            Error::Suite { .. }
            | Error::Data { .. }
            | Error::DataNotFound { .. }
            | Error::Results { .. }
            | Error::Usage(_) => 2,
            Error::Io { context, .. } if is_read(context) => 2,
            _ => 3,
        }
    }
}

/// The [`Error::Io`] contexts of a failure to read an input file (a suite,
/// a data file, a result table or manifest): `cannot read ...`,
/// `cannot open ...`. Writing, creating, renaming and syncing are not here.
pub const READ_CONTEXTS: &[&str] = &["cannot read", "cannot open"];

fn is_read(context: &str) -> bool {
    READ_CONTEXTS.iter().any(|c| context.starts_with(c))
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
    use super::torch_message;

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
