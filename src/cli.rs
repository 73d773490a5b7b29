//! The command line (clap derive). Only implemented commands appear here.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// lossbench: train, attack and score loss functions for image classification.
#[derive(Debug, Parser)]
#[command(name = "lossbench", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a suite: train every job, attack, detect, write results and a report.
    Run {
        /// The suite file, e.g. suites/quick.yaml.
        suite: PathBuf,
        /// Where to compute: auto (CUDA when libtorch sees a GPU), cpu, cuda or cuda:N.
        #[arg(long, default_value = "auto")]
        device: String,
        /// Root directory for result tables.
        #[arg(long, default_value = "results")]
        results: PathBuf,
        /// Root directory for reports.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
    },
    /// Check suite files without running anything; exit code 2 if any is invalid.
    Validate {
        /// One or more suite files.
        #[arg(required = true)]
        suites: Vec<PathBuf>,
    },
    /// List every dataset, model, optimiser, schedule, loss, attack and detector
    /// with its parameters and defaults.
    List,
    /// Re-render the report of an earlier run from its result files only.
    Report {
        /// A run directory, e.g. results/quick/<run-id>.
        run_dir: PathBuf,
        /// Output directory (default: <reports>/<suite>/<run-id>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Root directory for reports, used when --out is not given.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
    },
}
