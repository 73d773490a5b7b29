//! Runs a suite: plan the jobs, then for each job train (or reuse a
//! checkpoint), evaluate clean accuracy, attack, detect, and record the rows;
//! finally render the report.
//!
//! Results are recorded after every job, so an interrupted run keeps every
//! finished job, and a rerun of the same suite (same run id) skips them.
//!
//! Under `RUST_LOG=info` (see `docs/design.md`, "Commands") the run logs to
//! stderr: its start and end, and each job's start, end or reuse, inside a
//! `job` span naming its id, loss and seed, so that the events of
//! `checkpoint`, `evaluate` and the results store name their job too; at
//! `debug`, the steps within a job.

mod checkpoint;
mod evaluate;
mod ood;

pub use checkpoint::export_run;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

use crate::cluster::{self, Shard};
use crate::data::{self, Dataset};
use crate::device;
use crate::error::{IoOp, OneLine};
use crate::models::ExternalModel;
use crate::results::{
    lock, FeatureRow, JobRow, JobStatus, Manifest, RunStatus, RunStore, RunTables, TrainLogRow,
};
use crate::suite::plan::hash_id;
use crate::suite::{Job, Suite};
use crate::train::{self, Net, Tensors};
use crate::{Error, Result};

/// Batch size for evaluation and attacks. Measured here on small-cnn: 256
/// runs inference ~15 % faster than 1000 on CPU (fewer large allocations).
const EVAL_BATCH: i64 = 256;
/// Test samples whose features go into the `features` table (the same
/// seeded choice for every job, so plots compare like with like).
const FEATURE_SAMPLE: usize = 500;
/// Mixed into the job seed to seed libtorch before evaluation, so that
/// evaluation does not replay the random stream of initialisation.
const EVAL_STREAM: u64 = 0x5eed_e7a1;

/// Where a run reads and writes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub device: Device,
    /// `results/`: run tables go to `<results>/<suite>/<run-id>/`.
    pub results: PathBuf,
    /// `reports/`: the report goes to `<reports>/<suite>/<run-id>/`.
    pub reports: PathBuf,
    /// The suite file, for the manifest.
    pub suite_file: PathBuf,
    /// Run only this shard's jobs (`--shard i/N`, or from a Slurm array
    /// task's environment; see [`crate::cluster::shard`]); `None`: every job.
    pub shard: Option<Shard>,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run_dir: PathBuf,
    /// The report; `None` for a shard, which leaves it to `lossbench merge`.
    pub report: Option<PathBuf>,
    /// The run's status as this process left it.
    pub status: RunStatus,
    /// The jobs of the whole run (of every shard).
    pub jobs_total: usize,
    /// The jobs this process was given (its shard's, or all of them).
    pub jobs_mine: usize,
    /// Of them, those recorded as failed.
    pub jobs_mine_failed: usize,
    pub jobs_done: usize,
    pub jobs_failed: usize,
    pub jobs_reused: usize,
    pub wall_seconds: f64,
}

/// The run id: a hash of the resolved suite and the lossbench version, so
/// that rerunning the same suite continues the same run.
pub fn run_id(suite: &Suite) -> String {
    let json = serde_json::to_string(suite).expect("suite serialises");
    hash_id(&json, crate::VERSION)[..12].to_string()
}

/// Runs every job of `suite` (or of `opts.shard` alone) and renders the
/// report (a shard does not: `lossbench merge` does, once the shards are
/// through).
///
/// The data is loaded before anything is written, so a suite whose data is
/// missing or malformed leaves no run directory behind. Once the manifest
/// says `running`, an error that stops the run marks it `failed`, and Ctrl-C
/// or SIGTERM marks it `interrupted` ([`crate::interrupt`]).
///
/// Other processes may run the same suite into the same run directory at
/// the same time: each job is computed by one of them (the others wait for
/// it and reuse it), and the tables take in every process's jobs (see
/// [`crate::results::store`]). A shard counts the jobs of every shard in
/// the manifest and ends it `partial` while jobs of other shards are not
/// recorded: it never says `done` or `failed` on behalf of jobs it did not
/// see recorded.
pub fn run_suite(suite: &Suite, opts: &RunOptions) -> Result<RunSummary> {
    let started = Instant::now();
    let run_id = run_id(suite);
    let suite_dir = opts.results.join(&suite.name);
    let run_dir = suite_dir.join(&run_id);
    let all_jobs = suite.jobs();
    let jobs = cluster::shard::select(all_jobs.clone(), |j| &j.id, opts.shard);
    let of_shard = opts
        .shard
        .map(|s| {
            format!(
                " (shard {s}: {} of the run's {})",
                jobs.len(),
                all_jobs.len()
            )
        })
        .unwrap_or_default();
    println!(
        "suite '{}': {} job(s){of_shard} on {}; results in {}",
        suite.name,
        jobs.len(),
        device::name(opts.device),
        run_dir.display()
    );
    tracing::info!(
        suite = %suite.name,
        run_id = %run_id,
        jobs = jobs.len(),
        device = %device::name(opts.device),
        "run started"
    );
    let t_data = Instant::now();
    let mut ds = data::load(&suite.data)?;
    // Open-set: train and test on `data.classes`; the others' test samples
    // are abnormal inputs (docs/definitions.md §5).
    let held_out = match &suite.data.classes {
        Some(classes) => Some(data::openset::keep_classes(&mut ds, classes)?),
        None => None,
    };
    let abnormal = ood::load(suite, &ds, held_out.as_ref())?;
    tracing::info!(
        dataset = %ds.name.name(),
        train = ds.train.len(),
        test = ds.test.len(),
        seconds = t_data.elapsed().as_secs_f64(),
        "data loaded"
    );
    println!(
        "data: {} ({} train, {} test, {} classes, shape {:?})",
        ds.name.name(),
        ds.train.len(),
        ds.test.len(),
        ds.classes,
        ds.shape
    );
    // An external model is read and probed now, so a file that is not
    // TorchScript or does not fit the data leaves no run directory behind.
    let external = ExternalFile::read(suite, opts, &ds)?;
    if let Some(held) = &held_out {
        println!(
            "open set: classes {:?} kept, {} test samples of the other classes held out",
            suite.data.classes.as_deref().unwrap_or_default(),
            held.len()
        );
    }
    for w in crate::heads::schedule_warnings(suite, ds.train.len()) {
        eprintln!("warning: {w}");
        tracing::warn!("{w}");
    }
    // A report directory that cannot be written is found now, not after
    // hours of training.
    let report_dir = opts.reports.join(&suite.name).join(&run_id);
    if opts.shard.is_none() {
        crate::report::check_writable(&report_dir)?;
    }

    let ckpt_dir = suite_dir.join("checkpoints");
    std::fs::create_dir_all(&ckpt_dir).map_err(|e| Error::fs(IoOp::CreateDir, &ckpt_dir, e))?;
    let mut store = RunStore::open(&run_dir)?;
    if let Some(shard) = opts.shard {
        cluster::record_shards(&run_dir, shard.count)?;
    }
    for note in store.recovered() {
        eprintln!("warning: {note}");
    }
    for job in &jobs {
        if let Some(row) = store.job(&job.id) {
            if row.status == JobStatus::Incomplete {
                eprintln!("warning: job {}: {}", job.id, row.error);
            }
        }
    }
    let mut manifest = Manifest {
        suite_name: suite.name.clone(),
        suite_file: opts.suite_file.display().to_string(),
        run_id: run_id.clone(),
        suite: serde_json::to_value(suite).expect("suite serialises"),
        lossbench_version: crate::VERSION.to_string(),
        tch_version: "0.26".to_string(),
        libtorch_version: option_env!("LOSSBENCH_LIBTORCH_VERSION")
            .unwrap_or("unknown")
            .to_string(),
        device: device::name(opts.device),
        git_commit: git_commit(),
        started_at: chrono::Utc::now().to_rfc3339(),
        finished_at: None,
        wall_seconds: 0.0,
        jobs_total: all_jobs.len(),
        jobs_done: 0,
        jobs_failed: 0,
        jobs_reused: 0,
        status: RunStatus::Running,
    };
    store.write_manifest(&manifest)?;

    let ran = run_jobs(
        &jobs,
        &all_jobs,
        &ds,
        external.as_ref(),
        &abnormal,
        opts,
        &ckpt_dir,
        &mut store,
        &mut manifest,
        started,
    );
    manifest.finished_at = Some(chrono::Utc::now().to_rfc3339());
    manifest.wall_seconds = started.elapsed().as_secs_f64();
    // Counted and written under the commit lock, with every process's jobs.
    let written = store.write_manifest_fresh(&mut manifest, |tables, m| {
        count_jobs(tables, &all_jobs, m);
        let recorded = m.jobs_done + m.jobs_failed == all_jobs.len();
        m.status = match &ran {
            Err(Error::Interrupted) => RunStatus::Interrupted,
            Err(_) => RunStatus::Failed,
            Ok(()) if !recorded => RunStatus::Partial,
            Ok(()) if m.jobs_failed == 0 => RunStatus::Done,
            Ok(()) => RunStatus::Failed,
        };
    });
    tracing::info!(
        status = %manifest.status.as_str(),
        done = manifest.jobs_done,
        failed = manifest.jobs_failed,
        reused = manifest.jobs_reused,
        seconds = manifest.wall_seconds,
        "run finished"
    );
    // The error that stopped the run says more than one writing the manifest.
    ran.and(written)?;
    let report = match opts.shard {
        // Shards of one run render nothing: the report is merge's, once.
        Some(_) => None,
        None => {
            let t_report = Instant::now();
            let report = crate::report::render(&run_dir, &report_dir)?;
            tracing::info!(
                path = %report.display(),
                ms = t_report.elapsed().as_millis() as u64,
                "report rendered"
            );
            Some(report)
        }
    };
    let mine: std::collections::HashSet<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    let failed_mine = store
        .tables()
        .jobs
        .iter()
        .filter(|r| mine.contains(r.job_id.as_str()) && r.status == JobStatus::Failed)
        .count();
    Ok(RunSummary {
        run_dir,
        report,
        status: manifest.status,
        jobs_mine: jobs.len(),
        jobs_mine_failed: failed_mine,
        jobs_total: manifest.jobs_total,
        jobs_done: manifest.jobs_done,
        jobs_failed: manifest.jobs_failed,
        jobs_reused: manifest.jobs_reused,
        wall_seconds: manifest.wall_seconds,
    })
}

/// Sets the manifest's done and failed counts of `jobs` (every job of the
/// run) from the jobs table, which holds every process's jobs.
fn count_jobs(tables: &RunTables, jobs: &[Job], manifest: &mut Manifest) {
    let status = |j: &Job| {
        tables
            .jobs
            .iter()
            .find(|r| r.job_id == j.id)
            .map(|r| r.status)
    };
    manifest.jobs_done = jobs
        .iter()
        .filter(|j| status(j) == Some(JobStatus::Done))
        .count();
    manifest.jobs_failed = jobs
        .iter()
        .filter(|j| status(j) == Some(JobStatus::Failed))
        .count();
}

/// Runs (or reuses) every job, recording each one and counting it in
/// `manifest`. A failing job is recorded as failed and the next one runs;
/// only a failure to record, or an interruption, stops the run.
///
/// A job another process is computing is put off to the end; then this
/// process waits for it and reuses it (or computes it, if the other process
/// died before recording it).
#[allow(clippy::too_many_arguments)]
fn run_jobs(
    jobs: &[Job],
    all_jobs: &[Job],
    ds: &Dataset,
    external: Option<&ExternalFile>,
    abnormal: &[ood::Loaded],
    opts: &RunOptions,
    ckpt_dir: &Path,
    store: &mut RunStore,
    manifest: &mut Manifest,
    started: Instant,
) -> Result<()> {
    let train = Tensors::from_split(&ds.train, ds.shape, opts.device);
    let test = Tensors::from_split(&ds.test, ds.shape, opts.device);
    let norm = train::channel_stats(&ds.train, ds.shape[0]);
    let abnormal = ood::to_device(abnormal, ds.shape, opts.device);
    let label = |i: usize, job: &Job| {
        format!(
            "[{}/{}] {} seed {}",
            i + 1,
            jobs.len(),
            job.config.loss.label(),
            job.config.seed
        )
    };
    let mut put_off = Vec::new();
    for pass in [Pass::First, Pass::PutOff] {
        let todo: Vec<usize> = match pass {
            Pass::First => (0..jobs.len()).collect(),
            Pass::PutOff => std::mem::take(&mut put_off),
        };
        for i in todo {
            crate::interrupt::check()?;
            let job = &jobs[i];
            // Every event until the next job names this one.
            let _span = tracing::info_span!(
                "job",
                id = %job.id,
                loss = %job.config.loss.label(),
                seed = job.config.seed
            )
            .entered();
            let label = label(i, job);
            if store.finished(&job.id).is_some() {
                println!("{label}: finished in an earlier run ({}), reusing", job.id);
                tracing::info!("job reused: finished in an earlier run");
                manifest.jobs_reused += 1;
                continue;
            }
            let claim = match pass {
                Pass::First => match lock::try_job(store.dir(), &job.id)? {
                    Some(claim) => claim,
                    None => {
                        println!(
                            "{label}: another process is computing it; coming back to it at the end"
                        );
                        tracing::info!("job put off: another process is computing it");
                        put_off.push(i);
                        continue;
                    }
                },
                Pass::PutOff => {
                    println!("{label}: waiting for the other process computing it");
                    let t_wait = Instant::now();
                    let claim = lock::job(store.dir(), &job.id)?;
                    tracing::debug!(
                        seconds = t_wait.elapsed().as_secs_f64(),
                        "waited for the other process"
                    );
                    claim
                }
            };
            // What other processes recorded since: this job among them?
            store.refresh()?;
            if store.finished(&job.id).is_some() {
                println!("{label}: computed by another process ({}), reusing", job.id);
                tracing::info!("job reused: computed by another process");
                manifest.jobs_reused += 1;
                continue;
            }
            let ctx = JobCtx {
                job,
                label: &label,
                ds,
                train: &train,
                test: &test,
                ood: &abnormal,
                norm: (&norm.0, &norm.1),
                device: opts.device,
                ckpt_dir,
                external,
            };
            let started_job = Instant::now();
            tracing::info!("job started ({}/{})", i + 1, jobs.len());
            match contain(&job.id, || run_job(&ctx)) {
                Ok(out) => {
                    // Saved before it is announced: a line on screen means the
                    // job survives an interruption.
                    store.record(out.rows)?;
                    let seconds = started_job.elapsed().as_secs_f64();
                    println!(
                        "{label}: clean accuracy {:.4} ({seconds:.1} s)",
                        out.clean_acc
                    );
                    tracing::info!(
                        clean_acc = out.clean_acc,
                        train_seconds = out.train_seconds,
                        eval_seconds = out.eval_seconds,
                        seconds,
                        "job done"
                    );
                }
                Err(Error::Interrupted) => {
                    tracing::info!(
                        seconds = started_job.elapsed().as_secs_f64(),
                        "job interrupted"
                    );
                    return Err(Error::Interrupted);
                }
                Err(e) => {
                    let why = OneLine(&e).to_string();
                    eprintln!("{label}: FAILED: {why}");
                    tracing::warn!(
                        seconds = started_job.elapsed().as_secs_f64(),
                        error = %why,
                        "job failed"
                    );
                    let mut row = job_row(&ctx, JobStatus::Failed);
                    row.error = why;
                    store.record_job(row, vec![], vec![], vec![])?;
                }
            }
            drop(claim);
            count_jobs(store.tables(), all_jobs, manifest);
            manifest.wall_seconds = started.elapsed().as_secs_f64();
            store.write_manifest(manifest)?;
        }
    }
    Ok(())
}

/// The two passes over the jobs: every job, then those another process was
/// computing during the first.
#[derive(Clone, Copy)]
enum Pass {
    First,
    PutOff,
}

/// Runs `f`, turning a panic (libtorch reports its errors as panics through
/// tch's infallible calls: a shape it rejects, an allocation that fails)
/// into an error of the job, so the run goes on with the next job.
fn contain<T>(job_id: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let _quiet = crate::error::ContainedPanics::enter();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        let what = if msg.contains("Torch(") {
            "libtorch"
        } else {
            "internal error"
        };
        Err(Error::Job {
            job: job_id.to_owned(),
            msg: format!("{what}: {}", crate::error::torch_message(msg)),
        })
    })
}

pub(crate) struct JobCtx<'a> {
    job: &'a Job,
    label: &'a str,
    ds: &'a Dataset,
    train: &'a Tensors,
    test: &'a Tensors,
    /// The abnormal sources (docs/definitions.md §5).
    ood: &'a [ood::Source],
    norm: (&'a [f64], &'a [f64]),
    device: Device,
    ckpt_dir: &'a Path,
    /// The external model's file (`model: torchscript`), read at the start.
    external: Option<&'a ExternalFile>,
}

/// An external model's file, read once when the run starts.
pub(crate) struct ExternalFile {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl ExternalFile {
    /// Reads the suite's external model (`None` for a model lossbench
    /// builds): the file under the suite's directory, its content checked
    /// against `model.torchscript.sha256` (filled in when the suite was
    /// loaded), loaded and probed on the dataset's images
    /// ([`ExternalModel::load`]).
    fn read(suite: &Suite, opts: &RunOptions, ds: &Dataset) -> Result<Option<ExternalFile>> {
        let Some(rel) = &suite.model.path else {
            return Ok(None);
        };
        let path = crate::suite::model_file(&opts.suite_file, rel).map_err(|msg| Error::Model {
            file: rel.clone(),
            msg,
        })?;
        let bytes = std::fs::read(&path).map_err(|e| Error::read(&path, e))?;
        if let Some(want) = &suite.model.sha256 {
            let got = crate::suite::sha256_hex(&bytes);
            if !got.eq_ignore_ascii_case(want) {
                return Err(Error::Model {
                    file: path,
                    msg: format!("its SHA-256 is {got}, not the suite's {want} (did it change since the suite was read?)"),
                });
            }
        }
        let file = ExternalFile { path, bytes };
        let model = file.load(opts.device, ds)?;
        println!(
            "model: {} (TorchScript, {})",
            file.path.display(),
            if model.has_features() {
                "logits and features"
            } else {
                "logits only: detectors of features are skipped"
            }
        );
        Ok(Some(file))
    }

    fn load(&self, device: Device, ds: &Dataset) -> Result<ExternalModel> {
        ExternalModel::load(&self.bytes, &self.path, device, ds.shape, ds.classes)
    }
}

struct JobOutput {
    rows: RunTables,
    clean_acc: f64,
    /// Seconds training (or loading the checkpoint) and evaluating, for the log.
    train_seconds: f64,
    eval_seconds: f64,
}

fn job_row(ctx: &JobCtx, status: JobStatus) -> JobRow {
    let c = &ctx.job.config;
    JobRow {
        job_id: ctx.job.id.clone(),
        dataset: c.data.dataset.name().to_string(),
        model: model_name(ctx.job),
        loss: c.loss.label().to_string(),
        seed: c.seed,
        device: device::name(ctx.device),
        status,
        error: String::new(),
        notes: String::new(),
        n_train: ctx.train.len() as u64,
        n_test: ctx.test.len() as u64,
        train_seconds: 0.0,
        eval_seconds: 0.0,
        config: serde_json::to_string(&ctx.job.config).expect("config serialises"),
        row_counts: String::new(),
    }
}

fn model_name(job: &Job) -> String {
    serde_json::to_value(job.config.model.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Trains (or loads the checkpoint of) one job and evaluates it.
fn run_job(ctx: &JobCtx) -> Result<JobOutput> {
    let c = &ctx.job.config;
    let new_net = || {
        tch::manual_seed(c.seed as i64);
        Net::new(
            ctx.device,
            &c.model,
            &c.loss,
            ctx.ds.shape,
            ctx.ds.classes,
            ctx.norm,
        )
    };
    let t0 = Instant::now();
    let (net, log) = match ctx.external {
        // An external model is evaluated as it is: nothing to train.
        Some(file) => (
            Net::external(file.load(ctx.device, ctx.ds)?, ctx.device, ctx.ds.classes),
            Vec::new(),
        ),
        None => checkpoint::train_or_load(ctx, new_net)?,
    };
    inject_torch_error(c.loss.label());
    let train_seconds = t0.elapsed().as_secs_f64();
    // Evaluation draws from libtorch's generator (kd-bu's MC-dropout masks):
    // reseed so that a job evaluates alike after training and after loading
    // its checkpoint, whatever training drew.
    tch::manual_seed((c.seed ^ EVAL_STREAM) as i64);

    let t1 = Instant::now();
    let mut rows = RunTables::default();
    let pred = train::predict(&net, &ctx.test.x, EVAL_BATCH);
    let (clean_acc, notes) = evaluate::evaluate(ctx, &net, &pred, &mut rows)?;
    let eval_seconds = t1.elapsed().as_secs_f64();
    let mut job = job_row(ctx, JobStatus::Done);
    job.notes = notes.join("\n");
    job.train_seconds = train_seconds;
    job.eval_seconds = eval_seconds;
    let log = log
        .into_iter()
        .map(|e| TrainLogRow {
            job_id: ctx.job.id.clone(),
            loss: job.loss.clone(),
            seed: job.seed,
            epoch: e.epoch as u64,
            train_loss: e.loss,
            train_acc: e.train_acc,
            lr: e.lr,
            seconds: e.seconds,
            images_per_s: e.images_per_s,
        })
        .collect();
    rows.jobs = vec![job];
    rows.train_log = log;
    rows.features = feature_sample(ctx, &net, &pred);
    Ok(JobOutput {
        rows,
        clean_acc,
        train_seconds,
        eval_seconds,
    })
}

/// Names the environment variable of [`inject_torch_error`].
pub const INJECT_TORCH_ERROR: &str = "LOSSBENCH_INJECT_TORCH_ERROR";

/// A testing aid: with `LOSSBENCH_INJECT_TORCH_ERROR=<loss name>`, the jobs
/// of that loss hand libtorch an impossible reshape right after training,
/// and libtorch fails as it does on a shape that validation let through.
/// The end-to-end tests use it to show that such a failure stays inside its
/// job. Unset (always, outside those tests) it does nothing.
fn inject_torch_error(loss: &str) {
    if std::env::var(INJECT_TORCH_ERROR).is_ok_and(|v| v == loss) {
        let _ = Tensor::zeros([2, 3], (Kind::Float, Device::Cpu)).view([5]);
    }
}

/// The `features` rows: a seeded sample of test features with their labels
/// and predictions.
/// None for an external model without features (its logits are not
/// features).
fn feature_sample(ctx: &JobCtx, net: &Net, pred: &Tensor) -> Vec<FeatureRow> {
    if !net.has_features() {
        return Vec::new();
    }
    let n = ctx.test.len() as usize;
    let mut pick: Vec<usize> = (0..n).collect();
    pick.shuffle(&mut ChaCha8Rng::seed_from_u64(0));
    pick.truncate(FEATURE_SAMPLE);
    pick.sort_unstable();
    let idx = Tensor::from_slice(&pick.iter().map(|&i| i as i64).collect::<Vec<_>>())
        .to_device(ctx.device);
    let x = ctx.test.x.index_select(0, &idx);
    let f = train::map_batches(&x, EVAL_BATCH, |b| net.features(b, false));
    let dim = f.size()[1] as usize;
    let values = to_vec_f64(&f);
    let labels = to_vec_f64(&ctx.test.y.index_select(0, &idx));
    let preds = to_vec_f64(&pred.index_select(0, &idx));
    let c = &ctx.job.config;
    let mut rows = Vec::with_capacity(pick.len() * dim);
    for (r, &sample) in pick.iter().enumerate() {
        for d in 0..dim {
            rows.push(FeatureRow {
                job_id: ctx.job.id.clone(),
                loss: c.loss.label().to_string(),
                seed: c.seed,
                sample: sample as u64,
                label: labels[r] as u64,
                pred: preds[r] as u64,
                dim: d as u64,
                value: values[r * dim + d],
            });
        }
    }
    rows
}

pub(crate) fn to_vec_f64(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(
        &t.to_kind(Kind::Double)
            .to_device(Device::Cpu)
            .flatten(0, -1),
    )
    .expect("a 1-d double tensor converts")
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
