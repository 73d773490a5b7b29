//! Optimisers and learning-rate schedules.

use std::f64::consts::PI;

use tch::nn::{self, OptimizerConfig};

use crate::suite::{OptimizerSpec, ScheduleSpec, TrainSpec};

/// Builds the optimiser of `spec` over the trainable variables of `vs`.
pub fn optimizer(vs: &nn::VarStore, spec: &TrainSpec) -> crate::Result<nn::Optimizer> {
    let opt = match &spec.optimizer {
        OptimizerSpec::Sgd(p) => {
            nn::sgd(p.momentum, 0.0, spec.weight_decay, p.nesterov).build(vs, spec.lr)?
        }
        OptimizerSpec::Adam(p) => {
            nn::adam(p.beta1, p.beta2, spec.weight_decay).build(vs, spec.lr)?
        }
    };
    Ok(opt)
}

/// The learning rate for (0-based) `epoch`.
///
/// ```text
/// constant:  lr
/// step:      lr · γ^⌊epoch / step_size⌋
/// multistep: lr · γ^|{m ∈ milestones : m ≤ epoch}|
/// cosine:    lr · ½ (1 + cos(π · epoch / epochs))
/// ```
pub fn lr_at(spec: &TrainSpec, epoch: usize) -> f64 {
    match &spec.schedule {
        ScheduleSpec::Constant => spec.lr,
        ScheduleSpec::Step(p) => spec.lr * p.gamma.powi((epoch / p.step_size) as i32),
        ScheduleSpec::Multistep(p) => {
            let passed = p.milestones.iter().filter(|&&m| m <= epoch).count();
            spec.lr * p.gamma.powi(passed as i32)
        }
        ScheduleSpec::Cosine => {
            spec.lr * 0.5 * (1.0 + (PI * epoch as f64 / spec.epochs as f64).cos())
        }
    }
}

#[cfg(test)]
#[allow(clippy::needless_update)] // literals take the declared defaults
mod tests {
    use super::*;
    use crate::suite::spec::{AdamParams, MultistepParams, StepParams};

    fn spec(schedule: ScheduleSpec) -> TrainSpec {
        TrainSpec {
            epochs: 10,
            batch_size: 8,
            optimizer: OptimizerSpec::Adam(AdamParams {
                beta1: 0.9,
                beta2: 0.999,
                ..Default::default()
            }),
            lr: 0.1,
            schedule,
            weight_decay: 0.0,
            augment: false,
        }
    }

    #[test]
    fn schedules_by_hand() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(lr_at(&spec(ScheduleSpec::Constant), 7), 0.1));
        let step = spec(ScheduleSpec::Step(StepParams {
            step_size: 3,
            gamma: 0.5,
            ..Default::default()
        }));
        assert!(close(lr_at(&step, 2), 0.1));
        assert!(close(lr_at(&step, 3), 0.05));
        assert!(close(lr_at(&step, 6), 0.025));
        let multi = spec(ScheduleSpec::Multistep(MultistepParams {
            milestones: vec![2, 5],
            gamma: 0.1,
            ..Default::default()
        }));
        assert!(close(lr_at(&multi, 1), 0.1));
        assert!(close(lr_at(&multi, 2), 0.01));
        assert!(close(lr_at(&multi, 9), 0.001));
        let cos = spec(ScheduleSpec::Cosine);
        assert!(close(lr_at(&cos, 0), 0.1));
        assert!(close(lr_at(&cos, 5), 0.05));
    }
}
