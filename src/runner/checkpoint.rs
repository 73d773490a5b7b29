//! Checkpoints of trained jobs under `results/<suite>/checkpoints/`: the
//! weights (`<key>.ot`) and the train log beside them (`<key>.train_log.json`),
//! keyed by what changes the weights, so a rerun or a suite that only adds an
//! attack or a detector loads them instead of training again.
//!
//! Several processes may share the directory (runs of one suite at once,
//! shards): each file is written to a temp file of its own and renamed into
//! place, so a reader sees a whole file or none. A checkpoint that does not
//! load (truncated, corrupted, from another model) is moved aside to
//! `<key>.ot.corrupt` with a warning naming it, and the job trains again.
//!
//! Beside each checkpoint go its weights for PyTorch, `<key>.safetensors`
//! and `<key>.json` ([`crate::train::export`]): written after training, and
//! when a checkpoint is loaded without them.
//!
//! Under `RUST_LOG=info` each job logs whether its checkpoint was loaded or
//! trained and saved, with the path and the time it took, so a run that
//! trains when it should have reused (or the reverse) shows why.

use std::path::Path;
use std::time::Instant;

use super::JobCtx;
use crate::error::{IoOp, OneLine};
use crate::results::store::{appended, tmp_path};
use crate::suite::plan::hash_id;
use crate::suite::Job;
use crate::train::{self, export, EpochLog, Net};
use crate::{Error, Result};

/// The checkpoint key: only what changes the trained weights (not attacks or
/// detectors), so adding an attack to a suite reuses the trained models.
pub(crate) fn train_key(job: &Job) -> String {
    let c = &job.config;
    // Which test samples are attacked does not change the weights.
    let data = crate::data::DataSpec {
        attack_subset: None,
        ..c.data.clone()
    };
    let json = serde_json::to_string(&(&data, &c.model, &c.train, &c.loss.spec, c.seed))
        .expect("config serialises");
    hash_id(&json, crate::VERSION)
}

/// Loads the job's checkpoint if an earlier run left one (with its train
/// log), otherwise trains a net from `new_net` and saves both. The log is
/// written last, so a checkpoint without its log is trained again.
/// `new_net` builds the job's untrained net (seeded): it is called again
/// when a checkpoint fails to load, since a failed load may have changed
/// some of the weights.
pub(super) fn train_or_load(
    ctx: &JobCtx,
    new_net: impl Fn() -> Net,
) -> Result<(Net, Vec<EpochLog>)> {
    let key = train_key(ctx.job);
    let ckpt = ctx.ckpt_dir.join(format!("{key}.ot"));
    let log_file = ctx.ckpt_dir.join(format!("{key}.train_log.json"));
    if ckpt.exists() && log_file.exists() {
        let mut net = new_net();
        let t = Instant::now();
        match load(&mut net, &ckpt, &log_file) {
            Ok(log) => {
                tracing::info!(
                    path = %ckpt.display(),
                    ms = t.elapsed().as_millis() as u64,
                    "checkpoint loaded; not training"
                );
                println!(
                    "{}: trained earlier, loaded checkpoint {}",
                    ctx.label,
                    ckpt.display()
                );
                // A checkpoint from before exports existed gets its export now.
                if !export::paths(ctx.ckpt_dir, &key).1.exists() {
                    write_export(ctx, &net, &key)?;
                }
                return Ok((net, log));
            }
            Err(e) => {
                let aside = set_aside(&ckpt)?;
                tracing::warn!(
                    path = %ckpt.display(),
                    aside = %aside.display(),
                    error = %e,
                    "checkpoint does not load; set aside, training again"
                );
                eprintln!(
                    "{}: warning: {}; moved it to {} and training again",
                    ctx.label,
                    OneLine(&e),
                    aside.display()
                );
            }
        }
    }
    let net = new_net();
    let t = Instant::now();
    let log = train::fit(&net, ctx.train, &ctx.job.config.train, ctx.label)?;
    tracing::info!(
        epochs = log.len(),
        seconds = t.elapsed().as_secs_f64(),
        "trained"
    );
    let t = Instant::now();
    let tmp = tmp_path(&ckpt);
    net.save(&tmp)?;
    rename(&tmp, &ckpt)?;
    write_log(&log_file, &log)?;
    tracing::info!(
        path = %ckpt.display(),
        ms = t.elapsed().as_millis() as u64,
        "checkpoint saved"
    );
    write_export(ctx, &net, &key)?;
    Ok((net, log))
}

/// Writes the job's export beside its checkpoint: `<key>.safetensors` and
/// `<key>.json` ([`export`]), for PyTorch (`python/lossbench_models.py`).
fn write_export(ctx: &JobCtx, net: &Net, key: &str) -> Result<()> {
    let c = &ctx.job.config;
    let meta = export::ExportMeta {
        dataset: Some(c.data.dataset.name().to_string()),
        seed: Some(c.seed),
        ..export::ExportMeta::new(
            &c.model,
            &c.loss.spec,
            c.loss.label(),
            ctx.ds.shape,
            ctx.ds.classes,
        )
    };
    let (weights, _) = export::export(net, &meta, ctx.ckpt_dir, key)?;
    tracing::info!(path = %weights.display(), "weights exported for PyTorch");
    Ok(())
}

/// Loads the weights and the train log of a checkpoint; the error names the
/// file that failed.
fn load(net: &mut Net, ckpt: &Path, log_file: &Path) -> Result<Vec<EpochLog>> {
    net.load(ckpt).map_err(|e| Error::Results {
        file: ckpt.to_path_buf(),
        msg: format!("checkpoint does not load ({})", OneLine(&e)),
    })?;
    read_log(log_file)
}

/// Moves a checkpoint that does not load to `<file>.corrupt`, for a person
/// to look at. Its train log stays: training again rewrites it.
fn set_aside(ckpt: &Path) -> Result<std::path::PathBuf> {
    let aside = appended(ckpt, ".corrupt");
    rename(ckpt, &aside)?;
    Ok(aside)
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| Error::fs(IoOp::RenameInto, to, e))
}

/// The train log beside a checkpoint, so a reused checkpoint keeps its curve.
fn write_log(path: &Path, log: &[EpochLog]) -> Result<()> {
    let rows: Vec<[f64; 6]> = log
        .iter()
        .map(|e| {
            [
                e.epoch as f64,
                e.loss,
                e.train_acc,
                e.lr,
                e.seconds,
                e.images_per_s,
            ]
        })
        .collect();
    let tmp = tmp_path(path);
    std::fs::write(&tmp, serde_json::to_string(&rows).expect("rows serialise"))
        .map_err(|e| Error::fs(IoOp::Write, &tmp, e))?;
    rename(&tmp, path)
}

fn read_log(path: &Path) -> Result<Vec<EpochLog>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
    let rows: Vec<[f64; 6]> = serde_json::from_str(&text).map_err(|e| Error::Results {
        file: path.to_path_buf(),
        msg: format!("bad train log: {e}"),
    })?;
    Ok(rows
        .into_iter()
        .map(|r| EpochLog {
            epoch: r[0] as usize,
            loss: r[1],
            train_acc: r[2],
            lr: r[3],
            seconds: r[4],
            images_per_s: r[5],
        })
        .collect())
}

/// `lossbench export`: writes the export ([`export`]) of every trained model
/// of the run in `run_dir` into `out` (default: the suite's checkpoints
/// directory, where runs write them), each named by its checkpoint key.
/// Reads the run's suite from its manifest and its dataset (for the input
/// shape and the classes); the weights come from the checkpoints. Returns
/// the JSON files written, and the jobs without a checkpoint.
pub fn export_run(
    run_dir: &Path,
    out: Option<&Path>,
) -> Result<(Vec<std::path::PathBuf>, Vec<String>)> {
    let manifest = crate::results::Manifest::read(run_dir)?;
    let suite: crate::suite::Suite =
        serde_json::from_value(manifest.suite.clone()).map_err(|e| Error::Results {
            file: run_dir.join("manifest.json"),
            msg: format!("its suite cannot be read back: {e}"),
        })?;
    let ckpt_dir = run_dir
        .parent()
        .map(|p| p.join("checkpoints"))
        .unwrap_or_else(|| "checkpoints".into());
    let out = out.map_or_else(|| ckpt_dir.clone(), Path::to_path_buf);
    if suite.model.kind == crate::suite::ModelKind::Torchscript {
        return Err(Error::Usage(format!(
            "the run in {} evaluated an external model; it trained nothing to export",
            run_dir.display()
        )));
    }
    let ds = crate::data::load(&suite.data)?;
    std::fs::create_dir_all(&out).map_err(|e| Error::fs(IoOp::CreateDir, &out, e))?;
    let (mut written, mut missing) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
    for job in suite.jobs() {
        let key = train_key(&job);
        if !seen.insert(key.clone()) {
            continue;
        }
        let ckpt = ckpt_dir.join(format!("{key}.ot"));
        let c = &job.config;
        let label = format!("{} seed {}", c.loss.label(), c.seed);
        if !ckpt.exists() {
            missing.push(label);
            continue;
        }
        let channels = ds.shape[0];
        let mut net = Net::new(
            tch::Device::Cpu,
            &c.model,
            &c.loss.spec,
            ds.shape,
            ds.classes,
            (&vec![0.0; channels], &vec![1.0; channels]),
        );
        net.load(&ckpt).map_err(|e| Error::Results {
            file: ckpt.clone(),
            msg: format!("checkpoint does not load ({})", OneLine(&e)),
        })?;
        let meta = export::ExportMeta {
            dataset: Some(c.data.dataset.name().to_string()),
            seed: Some(c.seed),
            ..export::ExportMeta::new(&c.model, &c.loss.spec, c.loss.label(), ds.shape, ds.classes)
        };
        let (_, json) = export::export(&net, &meta, &out, &key)?;
        println!("{label}: {}", json.display());
        written.push(json);
    }
    Ok((written, missing))
}
