//! The columns of every result table, in one place. Tables are tidy: one row
//! per observation. String columns use `"none"` where a dimension does not
//! apply (e.g. `attack` for clean accuracy).

use serde::{Deserialize, Serialize};

/// `jobs`: one row per job (dataset x model x loss x seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRow {
    /// Stable id: hash of the resolved job config and the lossbench version.
    pub job_id: String,
    pub dataset: String,
    pub model: String,
    pub loss: String,
    pub seed: u64,
    /// `cpu`, `cuda:0`, ...
    pub device: String,
    /// How the job ended.
    pub status: JobStatus,
    /// Error message for a failed job, empty otherwise.
    pub error: String,
    /// What the job skipped and why (a detector that does not apply, an
    /// attack without clean-correct samples, ...), one reason per line;
    /// empty when nothing was skipped.
    pub notes: String,
    pub n_train: u64,
    pub n_test: u64,
    pub train_seconds: f64,
    pub eval_seconds: f64,
    /// The resolved job config as JSON.
    pub config: String,
    /// How many rows the job wrote into each other table, as JSON
    /// (`{"metrics":12,"roc":300,...}`; see [`RowCounts`]). A resumed run
    /// checks a done job's rows against it and recomputes a job whose rows
    /// are missing. Empty in runs written before it existed.
    pub row_counts: String,
}

/// How a job ended, as the `jobs` table's `status` column spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Finished; its rows in the other tables are complete.
    Done,
    /// Stopped by an error (recorded in `error`); it wrote no other rows.
    Failed,
    /// Recorded as done, but rows of it are missing from a table (a file
    /// lost or replaced by hand): read as not finished, so a rerun
    /// recomputes it. Never written by lossbench, only read.
    Incomplete,
}

impl JobStatus {
    /// Every status, in the order reports list them.
    pub const ALL: [JobStatus; 3] = [JobStatus::Done, JobStatus::Failed, JobStatus::Incomplete];

    /// The name in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Incomplete => "incomplete",
        }
    }

    /// The status named `s`, if any.
    pub fn parse(s: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|j| j.as_str() == s)
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The number of rows one job holds in each table but `jobs`, recorded in
/// its job row so that a rerun can tell a complete job from one whose rows
/// were lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    pub metrics: u64,
    pub roc: u64,
    pub train_log: u64,
    pub features: u64,
    pub scores: u64,
    pub examples: u64,
}

impl RowCounts {
    /// The counts as (table name, rows) pairs, in table order.
    pub fn tables(&self) -> [(&'static str, u64); 6] {
        [
            ("metrics", self.metrics),
            ("roc", self.roc),
            ("train_log", self.train_log),
            ("features", self.features),
            ("scores", self.scores),
            ("examples", self.examples),
        ]
    }
}

/// `metrics`: one row per (job, attack, detector, subset, metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRow {
    pub job_id: String,
    pub dataset: String,
    pub model: String,
    pub loss: String,
    pub seed: u64,
    /// Attack with its parameter, e.g. `fgsm(eps=0.1)`, `none`, or
    /// `ood:<source>` for abnormal inputs (docs/definitions.md §5).
    pub attack: String,
    /// Detector name or `none`.
    pub detector: String,
    /// `clean`, `all` or `successful` (docs/definitions.md §3), `fit`,
    /// `train`, or `ood` (docs/definitions.md §5).
    pub subset: String,
    /// e.g. `clean_acc`, `robust_acc`, `asr`, `auroc`.
    pub metric: String,
    pub value: f64,
}

/// `roc`: downsampled ROC points (the metrics use every point).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocRow {
    pub job_id: String,
    pub loss: String,
    pub seed: u64,
    pub attack: String,
    pub detector: String,
    pub subset: String,
    pub fpr: f64,
    pub tpr: f64,
    pub threshold: f64,
}

/// `train_log`: one row per job and epoch.
///
/// Runs written before `loss` named the loss read as this table too: their
/// float `loss` column (the epoch's training loss) becomes `train_loss`, and
/// `loss` and `seed` come from the job's `jobs` row (`store/codec.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainLogRow {
    pub job_id: String,
    /// The loss name (`softmax`, `lgm`, ...), as in `jobs`.
    pub loss: String,
    /// The job's seed, as in `jobs`.
    pub seed: u64,
    /// 1-based epoch number.
    pub epoch: u64,
    /// Mean training loss over the epoch's samples: the head's whole
    /// training objective (e.g. L-GM's classification plus likelihood term).
    pub train_loss: f64,
    /// Accuracy of the inference logits on the epoch's training batches
    /// (train mode), in [0, 1].
    pub train_acc: f64,
    /// Learning rate of the epoch (after the schedule).
    pub lr: f64,
    /// Wall-clock seconds the epoch took.
    pub seconds: f64,
    /// Training throughput of the epoch: images per second.
    pub images_per_s: f64,
}

/// `features`: a seeded sample of test-set features, long form: one row per
/// (job, sample, feature dimension). Reports draw the feature-distribution
/// figure from it (directly when D = 2, through PCA otherwise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRow {
    pub job_id: String,
    pub loss: String,
    pub seed: u64,
    /// Index of the sample in the (subset) test split.
    pub sample: u64,
    pub label: u64,
    /// Predicted class (inference logits).
    pub pred: u64,
    /// Feature dimension, 0-based.
    pub dim: u64,
    pub value: f64,
}

/// `scores`: every detector score of every scored pair, and of every
/// abnormal-input evaluation (docs/definitions.md §5), so any detection
/// metric can be recomputed from this table alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRow {
    pub job_id: String,
    pub loss: String,
    pub seed: u64,
    /// The attack's label, or `ood:<source>` for abnormal inputs.
    pub attack: String,
    pub detector: String,
    /// Index of the pair among the attack's clean-correct test samples; for
    /// abnormal inputs, of the sample on its side (in-distribution test
    /// sample or the source's input).
    pub sample: u64,
    /// `clean` or `adversarial`; for abnormal inputs `in-distribution` or
    /// `abnormal`.
    pub kind: String,
    /// 1 when the attack succeeded on this pair, else 0 (always 0 for
    /// abnormal inputs).
    pub success: u64,
    /// `fit` (80 %, supervised detectors fit here) or `test` (scored, 20 %);
    /// `ood` for abnormal inputs.
    pub split: String,
    pub score: f64,
}

/// `examples`: a small seeded sample of attacked images per job and attack,
/// for the report's image grid: the clean image, the adversarial image and
/// the perturbation (rescaled to [0, 255] around mid-grey 128).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExampleRow {
    pub job_id: String,
    pub loss: String,
    pub seed: u64,
    pub attack: String,
    /// Index of the pair among the attack's clean-correct test samples.
    pub sample: u64,
    pub label: u64,
    /// Prediction on the adversarial image.
    pub pred_adv: u64,
    /// `clean`, `adversarial` or `perturbation`.
    pub kind: String,
    pub channels: u64,
    pub height: u64,
    pub width: u64,
    /// `[C, H, W]` bytes as lowercase hex (two digits per byte).
    pub pixels: String,
}
