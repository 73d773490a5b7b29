//! The `lossbench` binary: parse the command line, dispatch, and map errors to
//! exit codes: 0 ok, 1 regression found, 2 bad input or usage, 3 runtime failure,
//! 4 jobs missing (`merge` of a run whose shards are not all through), 130
//! interrupted (Ctrl-C or SIGTERM during a run).

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use lossbench::cli::{Cli, Command, DataCommand};
use lossbench::results::Manifest;
use lossbench::runner::{self, RunOptions};
use lossbench::suite::{catalog, Suite};
use lossbench::{cluster, compare};
use lossbench::{device, report, Error};

fn main() -> ExitCode {
    init_logging();
    lossbench::error::install_panic_hook();
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let code = e.downcast_ref::<Error>().map(Error::exit_code).unwrap_or(3);
            print_error(e.as_ref());
            ExitCode::from(code as u8)
        }
    }
}

/// Prints `e` and then each of its causes on a `caused by:` line. No
/// message repeats its source (see `lossbench::error`), so walking
/// [`std::error::Error::source`] shows each cause exactly once.
fn print_error(e: &(dyn std::error::Error + 'static)) {
    eprintln!("error: {e}");
    let mut cause = e.source();
    while let Some(c) = cause {
        eprintln!("  caused by: {c}");
        cause = c.source();
    }
}

/// Logs: the `tracing` events of the runner and the results store (job
/// boundaries, timings, checkpoints loaded and saved, table commits) go to
/// stderr, filtered by `RUST_LOG` as every Rust tool reads it (e.g.
/// `RUST_LOG=info`, `RUST_LOG=lossbench=debug`); `LOSSBENCH_LOG`, the older
/// name, is read when `RUST_LOG` is not set. With neither, nothing is
/// logged, so stdout and stderr hold only what the commands print. What is
/// logged at which level: `docs/design.md`, "Commands".
fn init_logging() {
    use tracing_subscriber::filter::{EnvFilter, LevelFilter};
    let directives = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("LOSSBENCH_LOG"))
        .unwrap_or_default();
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::OFF.into())
        .parse_lossy(directives);
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// `--out`, else the run's directory under `--reports`.
fn report_dir(
    out: Option<std::path::PathBuf>,
    reports: &std::path::Path,
    run_dir: &std::path::Path,
) -> anyhow::Result<std::path::PathBuf> {
    Ok(match out {
        Some(o) => o,
        None => report::default_dir(reports, run_dir, &Manifest::read(run_dir)?)?,
    })
}

/// `lossbench data fetch` and `lossbench data list`.
fn data(command: DataCommand) -> anyhow::Result<u8> {
    use lossbench::data::{fetch, load};
    match command {
        DataCommand::Fetch {
            datasets,
            data_dir,
            mirror,
            manifest,
            quiet,
        } => {
            let overrides = match &manifest {
                Some(path) => fetch::read_manifest(path)?,
                None => Vec::new(),
            };
            let opts = fetch::FetchOptions {
                data_dir: fetch::data_dir(data_dir.as_deref()),
                mirror: fetch::mirror(mirror.as_deref()),
                progress: !quiet,
                ..Default::default()
            };
            let mut seen = Vec::new();
            for d in datasets {
                if seen.contains(&d) {
                    continue;
                }
                seen.push(d);
                let files = overrides
                    .iter()
                    .find(|(o, _)| *o == d)
                    .map(|(_, f)| f.clone())
                    .unwrap_or_else(|| fetch::manifest(d));
                let dir = fetch::fetch(d, &files, &opts, |f, outcome| {
                    println!("{}: {} ({} bytes): {outcome}", d.name(), f.name, f.size);
                })?;
                println!("{}: ready in {}", d.name(), dir.display());
            }
            Ok(0)
        }
        DataCommand::List { data_dir } => {
            let root = fetch::data_dir(data_dir.as_deref());
            println!("data directory (fetch target): {}", root.display());
            for d in fetch::fetchable() {
                let files = fetch::manifest(d);
                let total: u64 = files.iter().map(|f| f.size).sum();
                let found = match load::resolve_dir(d, None) {
                    Ok(dir) => format!("found in {}", dir.display()),
                    Err(_) => format!("not found: lossbench data fetch {}", d.name()),
                };
                println!(
                    "{} ({} file(s), {total} bytes): {found}",
                    d.name(),
                    files.len()
                );
                // The files' state is that of the fetch target, which may
                // not be where the dataset was found (e.g. a system copy).
                let target = root.join(d.name());
                println!("  in the fetch target {}:", target.display());
                for (f, present, part) in fetch::status(d, &target) {
                    let state = match (present, part) {
                        (Some(true), _) => "present".to_string(),
                        (Some(false), _) => "present, wrong size".to_string(),
                        (None, p) if p > 0 => format!("partial, {p} of {} bytes", f.size),
                        (None, _) => "missing".to_string(),
                    };
                    println!(
                        "    {} {} bytes sha256 {}: {state}",
                        f.name, f.size, f.sha256
                    );
                }
            }
            Ok(0)
        }
    }
}

fn dispatch(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Run {
            suite,
            device,
            results,
            reports,
            seeds,
            shard,
            fetch,
        } => {
            let shard = match shard {
                Some(s) => Some(s),
                None => cluster::shard::from_env(|k| std::env::var(k).ok())?,
            };
            let mut parsed = Suite::load(&suite)?;
            if fetch {
                // The suite's dataset and every other dataset its abnormal
                // sources read (docs/definitions.md §5), unless a path is given.
                let mut wanted = Vec::new();
                if parsed.data.path.is_none() {
                    wanted.push(parsed.data.dataset);
                }
                for source in &parsed.ood {
                    if let lossbench::suite::OodSource::Dataset(p) = source {
                        if p.path.is_none() && !wanted.contains(&p.name) {
                            wanted.push(p.name);
                        }
                    }
                }
                let opts = lossbench::data::fetch::FetchOptions::default();
                for d in wanted {
                    lossbench::data::fetch::ensure(d, &opts, |f, outcome| {
                        eprintln!("{}: {}: {outcome}", d.name(), f.name);
                    })?;
                }
            }
            // Ctrl-C stops the run between steps and marks it interrupted.
            lossbench::interrupt::install()
                .context("cannot install the Ctrl-C and SIGTERM handlers")?;
            if let Some(seeds) = seeds {
                parsed.set_seeds(seeds)?;
            }
            let device = device::parse(&device)?;
            let summary = runner::run_suite(
                &parsed,
                &RunOptions {
                    device,
                    results,
                    reports,
                    suite_file: suite,
                    shard,
                },
            )?;
            match &summary.report {
                Some(report) => {
                    let tables = lossbench::results::RunTables::read(&summary.run_dir)?;
                    println!("\n{}", report::summary(&tables));
                    println!(
                        "{} job(s): {} done ({} reused), {} failed, {:.1} s",
                        summary.jobs_total,
                        summary.jobs_done,
                        summary.jobs_reused,
                        summary.jobs_failed,
                        summary.wall_seconds
                    );
                    println!("results: {}", summary.run_dir.display());
                    println!("report:  {}", report.display());
                }
                None => {
                    println!(
                        "shard: {} of the run's {} job(s), {} failed; the run: {} done, {} \
                         failed, status {} ({:.1} s)",
                        summary.jobs_mine,
                        summary.jobs_total,
                        summary.jobs_mine_failed,
                        summary.jobs_done,
                        summary.jobs_failed,
                        summary.status,
                        summary.wall_seconds
                    );
                    println!("results: {}", summary.run_dir.display());
                    println!(
                        "tables and report: lossbench merge {}",
                        cluster::slurm::shell_quote(&summary.run_dir.display().to_string())
                    );
                }
            }
            Ok(if summary.jobs_mine_failed > 0 { 3 } else { 0 })
        }
        Command::Merge {
            run_dir,
            out,
            reports,
        } => {
            let out = report_dir(out, &reports, &run_dir)?;
            let merged = cluster::merge(&run_dir, &out)?;
            let p = &merged.progress;
            let tables = lossbench::results::RunTables::read(&run_dir)?;
            println!("{}", report::summary(&tables));
            print!("{}", p.render());
            println!("report: {}", merged.report.display());
            let missing: Vec<_> = p.missing().collect();
            if !missing.is_empty() {
                eprintln!(
                    "error: {} of the run's {} job(s) missing: {}",
                    missing.len(),
                    p.jobs.len(),
                    missing
                        .iter()
                        .map(|j| j.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return Ok(4);
            }
            Ok(if p.failed().next().is_some() { 3 } else { 0 })
        }
        Command::Export { run_dir, out } => {
            let (written, missing) = runner::export_run(&run_dir, out.as_deref())?;
            println!("{} model(s) exported", written.len());
            if !missing.is_empty() {
                eprintln!("error: not trained yet: {}", missing.join(", "));
                return Ok(4);
            }
            Ok(0)
        }
        Command::Status { run_dir, shards } => {
            if shards == Some(0) {
                return Err(Error::Usage("--shards 0: give at least 1".into()).into());
            }
            print!("{}", cluster::Progress::read(&run_dir, shards)?.render());
            Ok(0)
        }
        Command::Slurm {
            suite,
            shards,
            parallel,
            partition,
            gpus_per_task,
            time,
            submit,
            device,
            results,
            reports,
            seeds,
        } => {
            let mut parsed = Suite::load(&suite)?;
            if let Some(seeds) = seeds.clone() {
                parsed.set_seeds(seeds)?;
            }
            let binary =
                std::env::current_exe().context("cannot find the lossbench binary's own path")?;
            let scripts = cluster::slurm::write(
                &parsed,
                &cluster::slurm::SlurmOptions {
                    shards,
                    parallel,
                    partition,
                    gpus_per_task,
                    time,
                    device,
                    results,
                    reports,
                    seeds,
                    suite_file: suite,
                    binary,
                },
            )?;
            let q = |p: &std::path::Path| cluster::slurm::shell_quote(&p.display().to_string());
            println!(
                "suite '{}': {} job(s) in {} array task(s)",
                parsed.name, scripts.jobs, scripts.shards
            );
            println!("array script: {}", scripts.run.display());
            println!("merge script: {}", scripts.merge.display());
            println!("logs:         {}", scripts.logs.display());
            if submit {
                let (array, merge) = scripts.submit()?;
                println!("submitted array job {array} and merge job {merge} (afterok:{array})");
            } else {
                println!("submit both (the merge runs once every task succeeded):");
                println!("  {}", scripts.submit_commands());
            }
            println!("progress: lossbench status {}", q(&scripts.run_dir));
            Ok(0)
        }
        Command::Validate { suites } => {
            let mut bad = 0;
            for path in &suites {
                match Suite::load(path) {
                    Ok(s) => {
                        println!("ok: {} ({} jobs)", path.display(), s.jobs().len());
                        // Data are per machine: missing here is a warning,
                        // with the command that fetches them.
                        if s.data.dataset != lossbench::suite::DatasetName::Synthetic {
                            if let Err(e) =
                                lossbench::data::resolve_dir(s.data.dataset, s.data.path.as_deref())
                            {
                                eprintln!(
                                    "warning: {}: `run` would stop here: {e}",
                                    path.display()
                                );
                            }
                        }
                        // The run checks again with the loaded training split.
                        let n_train = s.data.expected_train_len();
                        for w in lossbench::heads::schedule_warnings(&s, n_train) {
                            eprintln!(
                                "warning: {}: {w} (counting the {n_train} training samples \
                                 the suite declares; `run` counts the loaded split)",
                                path.display()
                            );
                        }
                    }
                    Err(e) => {
                        print_error(&e);
                        bad += 1;
                    }
                }
            }
            Ok(if bad > 0 { 2 } else { 0 })
        }
        Command::Data { command } => data(command),
        Command::List => {
            print!("{}", catalog::render());
            Ok(0)
        }
        Command::Schema => {
            println!("{:#}", lossbench::suite::schema());
            Ok(0)
        }
        Command::Report {
            run_dir,
            out,
            reports,
        } => {
            let out = report_dir(out, &reports, &run_dir)?;
            let path = report::render(&run_dir, &out)?;
            println!("report: {}", path.display());
            Ok(0)
        }
        Command::Compare {
            baseline,
            candidate,
            tolerances,
            default_tolerance,
            allow_missing,
            markdown,
            json,
            junit,
            benchmark_json,
            quiet,
        } => {
            let baseline = compare::Input::load(&baseline)?;
            let candidate = compare::Input::load(&candidate)?;
            let outputs = compare::Outputs {
                markdown,
                json,
                junit,
                benchmark_json,
            };
            compare::check_outputs(
                &outputs,
                &[("baseline", &baseline), ("candidate", &candidate)],
            )?;
            let options = compare::Options {
                tolerances: tolerances.into_iter().collect(),
                default_tolerance,
                allow_missing,
            };
            let result = compare::compare(&baseline, &candidate, &options)?;
            compare::write_outputs(&result, &outputs)?;
            if !quiet {
                print!("{}", compare::markdown(&result));
            }
            for w in &result.warnings {
                eprintln!("warning: {w}");
            }
            Ok(result.exit_code())
        }
    }
}
