//! Checkpoints of trained jobs under `results/<suite>/checkpoints/`: the
//! weights (`<key>.ot`) and the train log beside them (`<key>.train_log.json`),
//! keyed by what changes the weights, so a rerun or a suite that only adds an
//! attack or a detector loads them instead of training again.

use std::path::Path;

use super::JobCtx;
use crate::suite::plan::hash_id;
use crate::suite::Job;
use crate::train::{self, EpochLog, Net};
use crate::{Error, Result};

/// The checkpoint key: only what changes the trained weights (not attacks or
/// detectors), so adding an attack to a suite reuses the trained models.
fn train_key(job: &Job) -> String {
    let c = &job.config;
    // Which test samples are attacked does not change the weights.
    let data = crate::data::DataSpec {
        attack_subset: None,
        ..c.data.clone()
    };
    let json = serde_json::to_string(&(&data, &c.model, &c.train, &c.loss, c.seed))
        .expect("config serialises");
    hash_id(&json, crate::VERSION)
}

/// Loads the job's checkpoint if an earlier run left one (with its train
/// log), otherwise trains `net` and saves both. The log is written last, so a
/// checkpoint without its log is trained again.
pub(super) fn train_or_load(ctx: &JobCtx, net: &mut Net) -> Result<Vec<EpochLog>> {
    let key = train_key(ctx.job);
    let ckpt = ctx.ckpt_dir.join(format!("{key}.ot"));
    let log_file = ctx.ckpt_dir.join(format!("{key}.train_log.json"));
    if ckpt.exists() && log_file.exists() {
        net.load(&ckpt)?;
        println!(
            "{}: trained earlier, loaded checkpoint {}",
            ctx.label,
            ckpt.display()
        );
        return read_log(&log_file);
    }
    let log = train::fit(net, ctx.train, &ctx.job.config.train, ctx.label)?;
    let tmp = ckpt.with_extension("ot.tmp");
    net.save(&tmp)?;
    rename(&tmp, &ckpt)?;
    write_log(&log_file, &log)?;
    Ok(log)
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| Error::io("cannot rename into", to, e))
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
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string(&rows).expect("rows serialise"))
        .map_err(|e| Error::io("cannot write", &tmp, e))?;
    rename(&tmp, path)
}

fn read_log(path: &Path) -> Result<Vec<EpochLog>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?;
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
