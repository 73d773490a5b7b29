//! The plan: a suite expanded into jobs, each with a stable id.
//!
//! A job's id is a hash of everything that determines its results (its
//! resolved config) plus the lossbench version, so a finished job is found
//! again by id and never recomputed, and a new version never reuses an older
//! one's results. Anything that does not change results (the suite's name,
//! description, regression tolerances) stays out of the config, so renaming
//! a suite or tightening a tolerance keeps every cached job.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The resolved configuration of one job; its hash (with the lossbench
/// version) is the job id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobConfig {
    pub data: crate::data::DataSpec,
    pub model: super::ModelSpec,
    pub train: super::TrainSpec,
    pub loss: super::Labeled<super::LossSpec>,
    pub seed: u64,
    pub attacks: super::Entries<super::AttackSpec>,
    pub detectors: Vec<super::DetectorSpec>,
    /// The abnormal sources (docs/definitions.md §5); not serialised when
    /// empty, so the ids of jobs without them stay.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ood: Vec<super::OodSource>,
}

/// One unit of work.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// 16 hex digits of SHA-256 over the canonical JSON of `config` + version.
    pub id: String,
    pub config: JobConfig,
}

/// The jobs of `suite`: dataset x model x loss x seed. A suite has one dataset
/// and one model; seeds are the outer loop and losses the inner one, so a run
/// stopped half-way has every loss of its first seeds rather than every seed
/// of its first losses. Every job gets all of the suite's attacks and
/// detectors. (Job ids do not depend on the order.)
pub fn expand(suite: &super::Suite) -> Vec<Job> {
    suite
        .seeds
        .iter()
        .flat_map(|&seed| {
            suite.losses.iter().map(move |loss| {
                let config = JobConfig {
                    data: suite.data.clone(),
                    model: suite.model.clone(),
                    train: suite.train.clone(),
                    loss: loss.clone(),
                    seed,
                    attacks: suite.attacks.clone(),
                    detectors: suite.detectors.clone(),
                    ood: suite.ood.clone(),
                };
                Job {
                    id: job_id(&config),
                    config,
                }
            })
        })
        .collect()
}

/// The first 16 hex digits of SHA-256 over
/// `serde_json::to_string(config) + "\n" + crate::VERSION`.
///
/// The JSON is canonical because every field is a struct field or a list
/// (serialised in declaration order) and validated numbers are finite.
/// Reordering or renaming `JobConfig`'s fields (or those of the specs in it)
/// changes every id; that is deliberate only with a version bump.
pub fn job_id(config: &JobConfig) -> String {
    // Serialising plain structs of numbers, strings and lists cannot fail.
    let json = serde_json::to_string(config).expect("a JobConfig always serialises to JSON");
    hash_id(&json, crate::VERSION)
}

/// The first 16 hex digits of SHA-256 over `json + "\n" + version`; split
/// from [`job_id`] so the hash can be checked against a fixed version.
pub fn hash_id(json: &str, version: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(json.as_bytes());
    hasher.update(b"\n");
    hasher.update(version.as_bytes());
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
