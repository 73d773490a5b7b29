//! Weights out: a trained [`Net`] as `<stem>.safetensors` (its tensors under
//! PyTorch-style dotted names) and `<stem>.json` (what the Python module
//! `python/lossbench_models.py` needs to rebuild it), written side by side.
//!
//! The names are the var store's paths (`norm.mean`, `small_cnn.conv1.weight`,
//! `resnet.stage2.block0.bn1.running_var`, `head.means`, ...), which are the
//! `state_dict()` keys of the Python module, so
//! `model.load_state_dict(tensors)` loads them strictly. PyTorch's batch
//! norm also keeps a step counter, `num_batches_tracked`, that lossbench
//! does not: each batch norm gets one, 0 (it only matters to a batch norm
//! without momentum, which none of these is).
//!
//! Both files are written to temp files of this process's own and renamed
//! into place, the JSON last, so a reader that finds the JSON finds whole
//! weights beside it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use super::Net;
use crate::error::IoOp;
use crate::results::store::tmp_path;
use crate::suite::{LossSpec, ModelSpec};
use crate::{Error, Result};

/// The `format` field of the JSON, so a reader can tell the file.
pub const FORMAT: &str = "lossbench-model";
/// The version of the JSON's layout; a change that old readers would
/// misread increments it.
pub const FORMAT_VERSION: u32 = 1;

/// The JSON beside the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportMeta {
    /// [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The lossbench that wrote it.
    pub lossbench_version: String,
    /// The weights file, a name in the same directory.
    pub weights: String,
    /// The backbone's suite name (`mlp`, `small-cnn`, `lenetpp`, `resnet20`, ...).
    pub backbone: String,
    /// The backbone's options: `feature_dim`, `dropout`.
    pub model: ModelSpec,
    /// The head: `name` (the loss's suite name) and `params` (its resolved
    /// parameters, as in the job's config; null for `softmax`).
    pub head: HeadMeta,
    /// The loss's label in the suite (its results go under it).
    pub loss_label: String,
    /// The dataset the model was trained on (its suite name), when known.
    pub dataset: Option<String>,
    /// The seed it was trained with, when known.
    pub seed: Option<u64>,
    /// Classes K: the logits are `[N, K]`.
    pub classes: usize,
    /// One image `[C, H, W]`; inputs are `[N, C, H, W]` in [0, 1].
    pub input_shape: [usize; 3],
    /// D: the features are `[N, D]`.
    pub feature_dim: usize,
    /// Every tensor of the weights file, sorted.
    pub parameters: Vec<String>,
}

/// The head of [`ExportMeta`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadMeta {
    pub name: String,
    pub params: serde_json::Value,
}

impl ExportMeta {
    /// The description of a net built from `model` and `loss` for images of
    /// `shape` and `classes` classes; `parameters` and `weights` are filled
    /// by [`export`].
    pub fn new(
        model: &ModelSpec,
        loss: &LossSpec,
        loss_label: &str,
        shape: [usize; 3],
        classes: usize,
    ) -> ExportMeta {
        let params = match serde_json::to_value(loss).expect("a loss serialises") {
            serde_json::Value::Object(mut m) if m.len() == 1 => {
                m.remove(loss.name()).unwrap_or_default()
            }
            _ => serde_json::Value::Null,
        };
        ExportMeta {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            lossbench_version: crate::VERSION.into(),
            weights: String::new(),
            backbone: model.kind.name().into(),
            model: model.clone(),
            head: HeadMeta {
                name: loss.name().into(),
                params,
            },
            loss_label: loss_label.into(),
            dataset: None,
            seed: None,
            classes,
            input_shape: shape,
            feature_dim: model.feature_dim,
            parameters: Vec::new(),
        }
    }
}

/// The tensors of `net` under their PyTorch names, sorted, on the CPU:
/// every var-store variable, plus a `num_batches_tracked` of 0 (i64,
/// shape `[]`) beside every batch norm's `running_mean`.
pub fn named_tensors(net: &Net) -> Vec<(String, Tensor)> {
    let mut out: Vec<(String, Tensor)> = net
        .vs
        .variables()
        .into_iter()
        .map(|(name, t)| (name, t.detach().to_device(tch::Device::Cpu).contiguous()))
        .collect();
    let counters: Vec<(String, Tensor)> = out
        .iter()
        .filter_map(|(name, _)| name.strip_suffix(".running_mean"))
        .map(|bn| {
            (
                format!("{bn}.num_batches_tracked"),
                Tensor::zeros([], (Kind::Int64, tch::Device::Cpu)),
            )
        })
        .collect();
    out.extend(counters);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The two files of `stem` in `dir`: (weights, JSON).
pub fn paths(dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{stem}.safetensors")),
        dir.join(format!("{stem}.json")),
    )
}

/// Writes `<dir>/<stem>.safetensors` and `<dir>/<stem>.json` for `net`,
/// described by `meta`; returns their paths.
pub fn export(net: &Net, meta: &ExportMeta, dir: &Path, stem: &str) -> Result<(PathBuf, PathBuf)> {
    let (weights, json) = paths(dir, stem);
    let tensors = named_tensors(net);
    let meta = ExportMeta {
        weights: format!("{stem}.safetensors"),
        parameters: tensors.iter().map(|(n, _)| n.clone()).collect(),
        ..meta.clone()
    };
    let tmp = tmp_path(&weights);
    if let Err(e) = Tensor::write_safetensors(&tensors, &tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    rename(&tmp, &weights)?;
    let text = serde_json::to_string_pretty(&meta).expect("the export description serialises");
    let tmp = tmp_path(&json);
    std::fs::write(&tmp, text + "\n").map_err(|e| Error::fs(IoOp::Write, &tmp, e))?;
    rename(&tmp, &json)?;
    Ok((weights, json))
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| Error::fs(IoOp::RenameInto, to, e))
}
