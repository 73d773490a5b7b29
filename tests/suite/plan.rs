//! The plan: job order and stable ids.

use super::valid::full_suite;
use super::*;
use lossbench::suite::spec::{FgsmParams, LgmParams};

#[test]
fn jobs_are_seeds_outer_losses_inner() {
    let suite = Suite::load(&fixture("full.yaml")).unwrap();
    let jobs = suite.jobs();
    assert_eq!(jobs.len(), 9);
    let order: Vec<(&str, u64)> = jobs
        .iter()
        .map(|j| (j.config.loss.name(), j.config.seed))
        .collect();
    assert_eq!(
        order,
        [
            ("softmax", 0),
            ("center", 0),
            ("lgm", 0),
            ("softmax", 1),
            ("center", 1),
            ("lgm", 1),
            ("softmax", 2),
            ("center", 2),
            ("lgm", 2),
        ]
    );
    for job in &jobs {
        assert_eq!(job.config.data, suite.data);
        assert_eq!(job.config.model, suite.model);
        assert_eq!(job.config.train, suite.train);
        assert_eq!(job.config.attacks, suite.attacks);
        assert_eq!(job.config.detectors, suite.detectors);
        assert_eq!(job.id, job_id(&job.config));
    }
}

#[test]
fn job_ids_are_stable_and_distinct() {
    let suite = Suite::load(&fixture("full.yaml")).unwrap();
    let a = suite.jobs();
    let b = Suite::load(&fixture("full-flow.yaml")).unwrap().jobs();
    assert_eq!(a, b, "same config, same ids, however the file is written");
    for job in &a {
        assert_eq!(job.id.len(), 16);
        assert!(job
            .id
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
    let mut ids: Vec<&str> = a.iter().map(|j| j.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), a.len());
}

#[test]
fn job_ids_change_with_any_field() {
    let base = Suite::load(&fixture("full.yaml")).unwrap().jobs()[8]
        .config
        .clone();
    let id = job_id(&base);

    let mut seed = base.clone();
    seed.seed = 3;
    let mut param = base.clone();
    if let LossSpec::Lgm(LgmParams { alpha, .. }) = &mut param.loss.spec {
        *alpha = 0.31;
    }
    let mut epochs = base.clone();
    epochs.train.epochs = 11;
    let mut eps = base.clone();
    eps.attacks = vec![AttackSpec::Fgsm(FgsmParams {
        eps: vec![0.1],
        ..Default::default()
    })]
    .into();

    for changed in [seed, param, epochs, eps] {
        assert_ne!(changed, base);
        assert_ne!(job_id(&changed), id);
    }
    // Nothing outside the config (name, description, tolerances) counts.
    let mut other = Suite::load(&fixture("full.yaml")).unwrap();
    other.name = "renamed".into();
    other.regression = RegressionSpec::default();
    assert_eq!(other.jobs()[8].id, id);
}

/// The canonical JSON of the lgm job with seed 2 of `full.yaml`.
const GOLDEN_JSON: &str = r#"{"data":{"dataset":"synthetic","path":null,"train_subset":400,"test_subset":200,"synthetic":{"seed":7,"classes":3,"train":500,"test":250,"side":16}},"model":{"kind":"small-cnn","feature_dim":32,"dropout":0.25},"train":{"epochs":10,"batch_size":64,"optimizer":{"sgd":{"momentum":0.5,"nesterov":true}},"lr":0.05,"schedule":{"multistep":{"milestones":[5,8],"gamma":0.5}},"weight_decay":0.0005,"augment":true},"loss":{"lgm":{"alpha":0.3,"lambda":0.2,"covariance":"diagonal","log_var_floor":-4.0,"warmup_epochs":2}},"seed":2,"attacks":[{"fgsm":{"eps":[0.0,0.05,0.1]}}],"detectors":["max-softmax","lgm-likelihood"]}"#;

#[test]
fn golden_job_id() {
    let config = JobConfig {
        data: full_suite().data,
        model: full_suite().model,
        train: full_suite().train,
        loss: full_suite().losses[2].clone(),
        seed: 2,
        attacks: full_suite().attacks,
        detectors: full_suite().detectors,
        // No abnormal sources: not serialised, so the id is that of
        // versions without them.
        ood: vec![],
    };
    assert_eq!(serde_json::to_string(&config).unwrap(), GOLDEN_JSON);
    // Computed independently with Python over the same string:
    //   import hashlib
    //   j = open("golden.json").read().rstrip("\n")   # GOLDEN_JSON
    //   print(hashlib.sha256((j + "\n" + "0.1.0").encode()).hexdigest()[:16])
    //   # -> 345febcd34889e00
    assert_eq!(hash_id(GOLDEN_JSON, "0.1.0"), "345febcd34889e00");
    assert_eq!(job_id(&config), hash_id(GOLDEN_JSON, lossbench::VERSION));
}
