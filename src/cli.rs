//! The command line (clap derive). Only implemented commands appear here.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::compare;

fn parse_shard(s: &str) -> Result<crate::cluster::Shard, String> {
    crate::cluster::Shard::parse(s).map_err(|e| e.to_string())
}

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
        /// Replace the suite's `seeds` list, e.g. `--seeds 0,1,2` (a run of
        /// its own; trained models of seeds already run are reused).
        #[arg(long, value_delimiter = ',', num_args = 1..)]
        seeds: Option<Vec<u64>>,
        /// Run only shard i of N of the run's jobs, e.g. `--shard 0/4`: the
        /// jobs sorted by id, dealt round-robin. Without it, a Slurm array
        /// task runs shard SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT (or
        /// of LOSSBENCH_SHARDS), a Kubernetes Indexed Job shard
        /// JOB_COMPLETION_INDEX of LOSSBENCH_SHARDS; elsewhere every job
        /// runs. A shard renders no report: `lossbench merge` does.
        #[arg(long, value_name = "I/N", value_parser = parse_shard)]
        shard: Option<crate::cluster::Shard>,
        /// Download the suite's dataset, and the datasets of its `ood:`
        /// sources, first (`lossbench data fetch`) if no directory of the
        /// lookup order holds them, into $LOSSBENCH_DATA, else ./data (or
        /// $LOSSBENCH_MIRROR's copy). Not for one given a `path`.
        #[arg(long)]
        fetch: bool,
    },
    /// Make a sharded run's manifest and report from what its shards wrote
    /// (only jobs recorded as done count). Exit code 0 when every job is
    /// done, 3 when all are recorded but some failed, 4 when jobs are
    /// missing (listed on stderr), 2 when the directory holds jobs of
    /// another suite or lossbench version.
    Merge {
        /// A run directory, e.g. results/ci/<run-id>.
        run_dir: PathBuf,
        /// Output directory of the report (default: <reports>/<suite>/<run-id>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Root directory for reports, used when --out is not given.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
    },
    /// Say which jobs of a run are done, failed and missing, and which Slurm
    /// array indices to resubmit (`--array=3,7,10-12`).
    Status {
        /// A run directory, e.g. results/ci/<run-id>.
        run_dir: PathBuf,
        /// The number of shards the indices refer to (default: the count
        /// the run's shards recorded).
        #[arg(long)]
        shards: Option<usize>,
    },
    /// Write the sbatch scripts that run a suite as a Slurm job array (one
    /// shard per task) and merge it after (`--dependency=afterok`); print
    /// how to submit them, or submit them with --submit.
    Slurm {
        /// The suite file, e.g. suites/paper-cifar10.yaml.
        suite: PathBuf,
        /// Array tasks (shards); default: one per job.
        #[arg(long)]
        shards: Option<usize>,
        /// At most K tasks at once (`--array=0-N%K`).
        #[arg(long, value_name = "K")]
        parallel: Option<usize>,
        /// Slurm partition.
        #[arg(long, value_name = "P")]
        partition: Option<String>,
        /// GPUs per array task.
        #[arg(long, value_name = "G")]
        gpus_per_task: Option<u32>,
        /// Time limit per task, as sbatch takes it (e.g. 4:00:00).
        #[arg(long, value_name = "T")]
        time: Option<String>,
        /// Submit the array and the merge job with sbatch, print their ids.
        #[arg(long)]
        submit: bool,
        /// `lossbench run --device` for every task.
        #[arg(long, default_value = "auto")]
        device: String,
        /// Root directory for result tables (the run directory must be on a
        /// filesystem every node sees).
        #[arg(long, default_value = "results")]
        results: PathBuf,
        /// Root directory for reports.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
        /// Replace the suite's `seeds` list, as `lossbench run --seeds`.
        #[arg(long, value_delimiter = ',', num_args = 1..)]
        seeds: Option<Vec<u64>>,
    },
    /// Check suite files without running anything; exit code 2 if any is invalid.
    Validate {
        /// One or more suite files.
        #[arg(required = true)]
        suites: Vec<PathBuf>,
    },
    /// Download datasets with verified checksums, or list where they are.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// List every dataset, model, optimiser, schedule, loss, attack and detector
    /// with its parameters and defaults.
    List,
    /// Print the JSON Schema of suite files, for YAML editors:
    /// `lossbench schema > lossbench.schema.json`.
    Schema,
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
    /// Compare a candidate run's metrics with a baseline's; exit code 1 on a
    /// regression (or a baseline row missing from the candidate), 2 on bad input.
    ///
    /// Each side is a run directory, a suite's results directory holding one
    /// run, or a metrics file (metrics.parquet or metrics.csv). Rows are joined
    /// on (dataset, model, loss, attack, detector, subset, metric) and averaged
    /// over seeds. A metric regresses when it worsens by more than
    /// max(tolerance, 2·sqrt(s_b²/n_b + s_c²/n_c)) (the noise term only with at
    /// least 2 seeds on both sides). The Markdown report goes to stdout.
    Compare {
        /// The baseline: run directory or metrics file.
        baseline: PathBuf,
        /// The candidate: run directory or metrics file; its manifest.json
        /// gives the suite's `regression:` tolerances (else the baseline's
        /// manifest.json does, metric by metric).
        candidate: PathBuf,
        /// Tolerance for one metric, METRIC=VALUE (absolute, in the metric's
        /// units); repeatable; wins over both suites' tolerances.
        #[arg(long = "tolerance", value_name = "METRIC=VALUE", value_parser = compare::parse_tolerance)]
        tolerances: Vec<(String, f64)>,
        /// Tolerance for directional, non-timing metrics that have none.
        /// Default: none (such metrics are reported, not gated).
        #[arg(long, value_name = "VALUE", value_parser = compare::parse_tolerance_value)]
        default_tolerance: Option<f64>,
        /// List baseline rows missing from the candidate without failing.
        #[arg(long)]
        allow_missing: bool,
        /// Also write the Markdown report to FILE.
        #[arg(long, value_name = "FILE")]
        markdown: Option<PathBuf>,
        /// Write the comparison as JSON to FILE.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write JUnit XML (one test case per metric row) to FILE.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write the candidate's metrics in github-action-benchmark's
        /// customBiggerIsBetter format to FILE.
        #[arg(long, value_name = "FILE")]
        benchmark_json: Option<PathBuf>,
        /// Do not print the Markdown report to stdout.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Write the PyTorch export (<key>.safetensors and <key>.json, for
    /// python/lossbench_models.py) of every trained model of a run. Runs
    /// write them beside their checkpoints already; this writes them
    /// elsewhere, or for checkpoints of older runs. Exit code 4 when some of
    /// the run's models are not trained yet.
    Export {
        /// A run directory, e.g. results/quick/<run-id>.
        run_dir: PathBuf,
        /// Output directory (default: the suite's checkpoints directory).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn parse_dataset(s: &str) -> Result<crate::suite::DatasetName, String> {
    use crate::suite::DatasetName;
    DatasetName::ALL
        .iter()
        .copied()
        .find(|d| d.name() == s)
        .ok_or_else(|| {
            let names: Vec<&str> = crate::data::fetch::fetchable().map(|d| d.name()).collect();
            format!("unknown dataset '{s}'; one of: {}", names.join(", "))
        })
}

/// `lossbench data ...`.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download datasets from their publishers (or a mirror) into the data
    /// directory, resuming partial downloads; each file is put in place only
    /// after its SHA-256 matched the one lossbench ships.
    ///
    /// Files land in <data-dir>/<dataset>/, where the data directory is
    /// --data-dir, else $LOSSBENCH_DATA, else ./data: where suites look.
    /// Exit code 0 when every file is in place, 3 when a download failed
    /// (offline, interrupted: run again to resume; checksum mismatch).
    Fetch {
        /// Datasets: mnist, fashion-mnist, kmnist, cifar10, cifar100, svhn.
        #[arg(required = true, value_parser = parse_dataset)]
        datasets: Vec<crate::suite::DatasetName>,
        /// The data directory (default: $LOSSBENCH_DATA, else ./data).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Fetch every file from URL/<dataset>/<file> instead of its
        /// publisher (default: $LOSSBENCH_MIRROR). The checksums are the same.
        #[arg(long, value_name = "URL")]
        mirror: Option<String>,
        /// Replace the shipped file lists of the datasets it names (JSON:
        /// {"<dataset>": [{"name", "url", "size", "sha256"}]}).
        #[arg(long, value_name = "FILE", hide = true)]
        manifest: Option<PathBuf>,
        /// Draw no progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// List the datasets, their files and sizes, and where each is found.
    List {
        /// The data directory to report on (default: $LOSSBENCH_DATA, else ./data).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}
