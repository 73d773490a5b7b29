//! The `lossbench` binary: parse the command line, dispatch, and map errors to
//! exit codes: 0 ok, 1 regression found, 2 bad input or usage, 3 runtime failure,
//! 130 interrupted (Ctrl-C or SIGTERM during a run).

use std::process::ExitCode;

use clap::Parser;
use lossbench::cli::{Cli, Command};
use lossbench::report::compare;
use lossbench::results::Manifest;
use lossbench::runner::{self, RunOptions};
use lossbench::suite::{catalog, Suite};
use lossbench::{device, report, Error};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("LOSSBENCH_LOG"))
        .with_writer(std::io::stderr)
        .init();
    lossbench::error::install_panic_hook();
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let code = e.downcast_ref::<Error>().map(Error::exit_code).unwrap_or(3);
            let message = e.to_string();
            eprintln!("error: {message}");
            // Causes the message does not already spell out.
            let mut shown = message;
            for cause in e.chain().skip(1) {
                let cause = cause.to_string();
                if !shown.contains(&cause) {
                    eprintln!("  caused by: {cause}");
                    shown.push_str(&cause);
                }
            }
            ExitCode::from(code as u8)
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
        } => {
            let mut parsed = Suite::load(&suite)?;
            // Ctrl-C stops the run between steps and marks it interrupted.
            lossbench::interrupt::install()?;
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
                },
            )?;
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
            println!("report:  {}", summary.report.display());
            Ok(if summary.jobs_failed > 0 { 3 } else { 0 })
        }
        Command::Validate { suites } => {
            let mut bad = 0;
            for path in &suites {
                match Suite::load(path) {
                    Ok(s) => println!("ok: {} ({} jobs)", path.display(), s.jobs().len()),
                    Err(e) => {
                        eprintln!("error: {e}");
                        bad += 1;
                    }
                }
            }
            Ok(if bad > 0 { 2 } else { 0 })
        }
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
            let out = match out {
                Some(o) => o,
                None => report::default_dir(&reports, &run_dir, &Manifest::read(&run_dir)?)?,
            };
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
