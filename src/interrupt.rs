//! Ctrl-C and termination signals during a run: the first SIGINT or SIGTERM
//! asks the run to stop; training and attacks look at the request between
//! steps, the job in flight is abandoned (not recorded), and the manifest
//! says `interrupted`, so a rerun continues where the run stopped. A second
//! signal ends the process at once (exit code 130), for a run that does not
//! stop quickly enough.
//!
//! Nothing here knows about runs; the runner asks [`requested`].

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The exit code of an interrupted run (128 + SIGINT, the shell convention).
pub const EXIT_CODE: u8 = 130;

/// Installs the handlers for SIGINT and SIGTERM. Called once by the binary
/// before a run; without it (tests, library users) nothing is installed.
///
/// # Errors
///
/// The OS error when a handler cannot be installed.
pub fn install() -> std::io::Result<()> {
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // The second signal finds the flag set and exits at once.
        signal_hook::flag::register_conditional_shutdown(signal, EXIT_CODE.into(), &REQUESTED)?;
        signal_hook::flag::register(signal, &REQUESTED)?;
    }
    Ok(())
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// `Err(Error::Interrupted)` once a stop was asked for.
///
/// # Errors
///
/// [`crate::Error::Interrupted`] after a signal.
pub fn check() -> crate::Result<()> {
    if requested() {
        Err(crate::Error::Interrupted)
    } else {
        Ok(())
    }
}
