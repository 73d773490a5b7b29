//! Plan (stub; being written).
use serde::{Deserialize, Serialize};

/// The resolved configuration of one job; its hash (with the lossbench
/// version) is the job id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobConfig {
    pub data: crate::data::DataSpec,
    pub model: super::ModelSpec,
    pub train: super::TrainSpec,
    pub loss: super::LossSpec,
    pub seed: u64,
    pub attacks: Vec<super::AttackSpec>,
    pub detectors: Vec<super::DetectorSpec>,
}

/// One unit of work.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// 16 hex digits of SHA-256 over the canonical JSON of `config` + version.
    pub id: String,
    pub config: JobConfig,
}

pub fn expand(_suite: &super::Suite) -> Vec<Job> {
    todo!()
}
