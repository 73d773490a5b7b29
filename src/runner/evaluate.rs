//! Evaluation of one trained job: clean accuracy, then for every attack the
//! attack metrics (docs/definitions.md §2) and, for every detector, the detection metrics on
//! the held-out pairs (docs/definitions.md §3, §4), with every score kept in `scores`.
//!
//! Timings go to the log (`RUST_LOG`, inside the runner's `job` span): each
//! attack at `info`; the clean pass and each detector's fits and scoring at
//! `debug`.

use std::time::Instant;

use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

use super::{to_vec_f64, JobCtx, EVAL_BATCH};
use crate::attacks::{self, AdvBatch, Attack};
use crate::detect::{self, Detector, FitData};
use crate::error::DetectorFailure;
use crate::metrics;
use crate::results::{ExampleRow, MetricRow, RocRow, RunTables, ScoreRow, FIT_SUBSET, OOD_SUBSET};
use crate::suite::Norm;
use crate::train::{self, Net};
use crate::{device, Error, Result};

/// ROC points kept per curve in the `roc` table (metrics use every point).
const ROC_POINTS: usize = 200;
/// Fraction of (clean, adversarial) pairs used to fit supervised detectors;
/// every detector is scored on the rest (docs/definitions.md §3).
const FIT_FRACTION: f64 = 0.8;
/// Mixed into the job seed for the `attack-subset` draw, so that it does not
/// share its random stream with the fit/test split.
const ATTACK_SUBSET_STREAM: u64 = 0x5eed_a77a_c4ed;
/// Attacked images per job and attack kept in the `examples` table.
const EXAMPLES: usize = 8;
/// Mixed into the job seed (with the attack's label) for the noise of the
/// noisy negatives.
const NOISE_STREAM: u64 = 0x4015_e5ee_d000;
/// The share of clean held-out samples the defended-accuracy threshold flags.
const DEFENDED_FPR: f64 = 0.05;

/// Row builders that know the job.
struct Out<'a> {
    ctx: &'a JobCtx<'a>,
    rows: &'a mut RunTables,
    /// What was skipped and why, for the `notes` column of `jobs`.
    notes: Vec<String>,
}

impl Out<'_> {
    /// Prints `why` under the job's label and keeps it for the jobs table.
    fn skip(&mut self, why: String) {
        println!("{}: {why}", self.ctx.label);
        self.notes.push(why);
    }

    fn metric(&mut self, attack: &str, detector: &str, subset: &str, metric: &str, value: f64) {
        let c = &self.ctx.job.config;
        self.rows.metrics.push(MetricRow {
            job_id: self.ctx.job.id.clone(),
            dataset: c.data.dataset.name().to_string(),
            model: super::model_name(self.ctx.job),
            loss: c.loss.label().to_string(),
            seed: c.seed,
            attack: attack.to_string(),
            detector: detector.to_string(),
            subset: subset.to_string(),
            metric: metric.to_string(),
            value,
        });
    }
}

/// The clean-correct test samples, the pairs' fit/test split, and the
/// detectors fitted on clean training data.
struct Stage {
    xs: Tensor,
    ys: Tensor,
    n_test: i64,
    /// `true` for pairs in the fit split (by pair index).
    in_fit: Vec<bool>,
    detectors: Vec<Box<dyn Detector>>,
}

/// Evaluates the trained `net`; returns the clean accuracy and what was
/// skipped, with reasons.
pub(super) fn evaluate(
    ctx: &JobCtx,
    net: &Net,
    pred: &Tensor,
    rows: &mut RunTables,
) -> Result<(f64, Vec<String>)> {
    let c = &ctx.job.config;
    let mut out = Out {
        ctx,
        rows,
        notes: Vec::new(),
    };
    let correct = pred.eq_tensor(&ctx.test.y);
    let n_test = ctx.test.len();
    let clean_acc = correct.sum(Kind::Int64).int64_value(&[]) as f64 / n_test as f64;
    tracing::debug!(clean_acc, n_test, "clean accuracy");
    out.metric("none", "none", "clean", "clean_acc", clean_acc);
    // Eval-mode features of the clean training split: the mixture fit and
    // the detectors' clean fit share one pass.
    let mut train_features = None;
    if let Some(means) = net.head.class_means() {
        let f = train::map_batches(&ctx.train.x, EVAL_BATCH, |b| net.features(b, false));
        mixture_fit(&mut out, &f, &ctx.train.y, &means);
        train_features = Some(f);
    }
    if c.attacks.is_empty() && c.ood.is_empty() {
        return Ok((clean_acc, out.notes));
    }

    // The attacked population: every test sample, or `data.attack-subset` of
    // them, drawn with the job's seed (the same samples for every loss).
    let (keep, n_test) = match c.data.attack_subset {
        Some(n) if (n as i64) < n_test => {
            let mut all: Vec<i64> = (0..n_test).collect();
            all.shuffle(&mut ChaCha8Rng::seed_from_u64(
                c.seed ^ ATTACK_SUBSET_STREAM,
            ));
            let mut pool = all[..n].to_vec();
            pool.sort_unstable();
            let pool = Tensor::from_slice(&pool).to_device(correct.device());
            let ok = correct.index_select(0, &pool);
            (pool.masked_select(&ok), n as i64)
        }
        _ => (correct.nonzero().squeeze_dim(1), n_test),
    };
    let xs = ctx.test.x.index_select(0, &keep);
    let ys = ctx.test.y.index_select(0, &keep);
    let n_eval = xs.size()[0] as usize;
    // One seeded fit/test split of the pairs, shared by every attack and detector.
    let mut order: Vec<usize> = (0..n_eval).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(c.seed));
    let n_fit = (n_eval as f64 * FIT_FRACTION).round() as usize;
    let mut in_fit = vec![false; n_eval];
    for &i in &order[..n_fit] {
        in_fit[i] = true;
    }
    let mut stage = Stage {
        xs,
        ys,
        n_test,
        in_fit,
        detectors: fit_detectors(&mut out, net, train_features)?,
    };
    // Per budget: the samples some attack of that budget fooled, and how
    // many attacks they were.
    let mut worst: Vec<((Norm, f64), Vec<bool>, usize)> = Vec::new();
    for spec in c.attacks.iter() {
        // An adaptive entry attacks its fitted detector as well.
        let target = match attacks::adaptive_target(spec) {
            None => None,
            Some((t, _)) => match stage.detectors.iter().position(|d| d.name() == t.name()) {
                Some(i) => Some(i),
                None => {
                    out.skip(format!(
                        "{}: the adaptive attack on `{}` skipped: the detector does not apply \
                         to this model",
                        spec.label(),
                        t.name()
                    ));
                    continue;
                }
            },
        };
        // Every attack of the entry runs first (an adaptive one holds its
        // detector), then the detectors score what it made.
        let mut attacked = Vec::new();
        {
            let det = target.map(|i| stage.detectors[i].as_ref());
            if let Some(det) = det {
                let probe = stage.xs.narrow(0, 0, n_eval.min(1) as i64);
                match det.differentiable_score(net, &probe) {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(detector_error(det.name(), None, e)),
                    None => unreachable!("adaptive targets have differentiable scores"),
                }
            }
            let score_fn = |x: &Tensor| match det.and_then(|d| d.differentiable_score(net, x)) {
                Some(Ok(s)) => s,
                _ => unreachable!("checked on a first image"),
            };
            let score: Option<&dyn Fn(&Tensor) -> Tensor> = det.map(|_| &score_fn as _);
            for attack in attacks::build(spec, score) {
                if n_eval == 0 {
                    out.skip(format!(
                        "{} skipped: no clean-correct test sample",
                        attack.label()
                    ));
                    continue;
                }
                attacked.push(run_attack(&mut out, net, &stage, attack.as_ref())?);
            }
        }
        for a in attacked {
            if let Some(budget) = a.budget {
                match worst.iter_mut().find(|w| w.0 == budget) {
                    Some(w) => {
                        w.1.iter_mut().zip(&a.ok).for_each(|(f, &o)| *f |= o);
                        w.2 += 1;
                    }
                    None => worst.push((budget, a.ok.clone(), 1)),
                }
            }
            detect(&mut out, net, &mut stage, &a)?;
        }
    }
    worst_case(&mut out, &stage, &worst);
    abnormal(&mut out, net, &stage.detectors)?;
    Ok((clean_acc, out.notes))
}

/// The prefix of an abnormal source's label in the `attack` column.
const OOD_PREFIX: &str = "ood:";
/// Images a detector scores at once in the abnormal-input evaluation.
const OOD_BATCH: i64 = 1024;

/// The abnormal-input evaluation (docs/definitions.md §5): every
/// unsupervised detector scores every in-distribution test sample (the
/// negatives) and every image of each source (the positives), unpaired.
/// Supervised detectors are skipped: they fit on labelled adversarial pairs,
/// and the suite gives them no labelled abnormal inputs to fit on.
fn abnormal(out: &mut Out, net: &Net, detectors: &[Box<dyn Detector>]) -> Result<()> {
    let ctx = out.ctx;
    if ctx.ood.is_empty() {
        return Ok(());
    }
    let mut usable: Vec<&dyn Detector> = Vec::new();
    for d in detectors {
        if d.supervised() {
            out.skip(format!(
                "abnormal inputs / {}: skipped: a supervised detector fits on labelled \
                 adversarial pairs, and the suite gives no labelled abnormal inputs to fit on",
                d.name()
            ));
        } else {
            usable.push(d.as_ref());
        }
    }
    if usable.is_empty() {
        return Ok(());
    }
    let seed = ctx.job.config.seed;
    let x_in = &ctx.test.x;
    let f_in = train::map_batches(x_in, EVAL_BATCH, |b| net.features(b, false));
    let mut s_in = Vec::with_capacity(usable.len());
    for d in &usable {
        s_in.push(score_all(net, *d, x_in, &f_in, "ood")?);
    }
    for source in ctx.ood {
        crate::interrupt::check()?;
        let label = format!("{OOD_PREFIX}{}", source.label);
        let x_out = source.images(seed, x_in);
        if x_out.size()[0] == 0 {
            out.skip(format!(
                "{label}: no abnormal input (every class is kept), skipped"
            ));
            continue;
        }
        let f_out = train::map_batches(&x_out, EVAL_BATCH, |b| net.features(b, false));
        for (d, s_in) in usable.iter().zip(&s_in) {
            let name = d.name();
            let t = Instant::now();
            let s_out = score_all(net, *d, &x_out, &f_out, &label)?;
            tracing::debug!(
                detector = %name,
                source = %label,
                samples = s_out.len(),
                ms = t.elapsed().as_millis() as u64,
                "detector scored abnormal inputs"
            );
            record_ood_scores(out, &label, name, s_in, &s_out);
            if !s_in.iter().chain(&s_out).any(|s| s.is_finite()) {
                out.skip(format!(
                    "{label} / {name}: every score is infinite, so the detector ranks nothing; \
                     no detection metrics"
                ));
                continue;
            }
            ood_metrics(out, &label, name, &s_out, s_in)?;
        }
    }
    Ok(())
}

/// `d`'s scores of the images `x` (eval-mode features `f`), in batches.
fn score_all(net: &Net, d: &dyn Detector, x: &Tensor, f: &Tensor, what: &str) -> Result<Vec<f64>> {
    let n = x.size()[0];
    let mut scores = Vec::with_capacity(n as usize);
    for s in (0..n).step_by(OOD_BATCH as usize) {
        crate::interrupt::check()?;
        let len = OOD_BATCH.min(n - s);
        let part = tch::no_grad(|| d.score(net, &x.narrow(0, s, len), &f.narrow(0, s, len)))
            .map_err(|e| detector_error(d.name(), Some(what), e))?;
        scores.extend(to_vec_f64(&part));
    }
    Ok(scores)
}

/// The `scores` rows of one source and detector: the in-distribution
/// scores (kind `in-distribution`) then the abnormal ones (kind
/// `abnormal`), split `ood`, success 0, each numbered from 0 on its side.
fn record_ood_scores(out: &mut Out, label: &str, detector: &str, s_in: &[f64], s_out: &[f64]) {
    let c = &out.ctx.job.config;
    for (kind, scores) in [("in-distribution", s_in), ("abnormal", s_out)] {
        for (i, &score) in scores.iter().enumerate() {
            out.rows.scores.push(ScoreRow {
                job_id: out.ctx.job.id.clone(),
                loss: c.loss.label().to_string(),
                seed: c.seed,
                attack: label.to_string(),
                detector: detector.to_string(),
                sample: i as u64,
                kind: kind.to_string(),
                success: 0,
                split: OOD_SUBSET.to_string(),
                score,
            });
        }
    }
}

/// The metrics of docs/definitions.md §5 for abnormal scores `pos` against
/// in-distribution scores `neg`, and the ROC rows, subset `ood`.
fn ood_metrics(out: &mut Out, label: &str, detector: &str, pos: &[f64], neg: &[f64]) -> Result<()> {
    let c = &out.ctx.job.config;
    let metric_err = metric_error(detector, label);
    let m = metrics::Detection::compute(pos, neg).map_err(metric_err)?;
    let aupr_in = metrics::aupr_in(pos, neg).map_err(metric_err)?;
    // No pairs: each side is resampled on its own.
    let (ci_low, ci_high) =
        metrics::auroc_bootstrap_ci(pos, neg, metrics::BOOTSTRAP_RESAMPLES, c.seed)
            .map_err(metric_err)?;
    for (metric, value) in [
        ("auroc", m.auroc),
        ("aupr_in", aupr_in),
        ("aupr_out", m.aupr),
        ("fpr_at_95tpr", m.fpr_at_95tpr),
        ("det_acc", m.det_acc),
        ("auroc_ci_low", ci_low),
        ("auroc_ci_high", ci_high),
        ("n_in", neg.len() as f64),
        ("n_out", pos.len() as f64),
    ] {
        out.metric(label, detector, OOD_SUBSET, metric, value);
    }
    push_roc(out, label, detector, OOD_SUBSET, &m.roc);
    Ok(())
}

/// The fit of a head's mixture to its clean training features
/// (docs/definitions.md §1.4), as four informational metric rows of
/// attack and detector `none`, subset `train`: `lgm_mean_dist` and
/// `lgm_mean_dist_max` (the mean and largest distance between a learned
/// class mean and the empirical mean of that class's features),
/// `lgm_class_sep` (the mean distance between two classes' empirical means)
/// and `lgm_mean_dist_rel` (the first over the third).
fn mixture_fit(out: &mut Out, features: &Tensor, labels: &Tensor, means: &Tensor) {
    let dim = features.size()[1] as usize;
    let f = to_vec_f64(features);
    let y: Vec<i64> = to_vec_f64(labels).iter().map(|&v| v as i64).collect();
    let mu = to_vec_f64(&means.detach());
    let Some(fit) = metrics::mixture_fit(&f, &y, &mu, dim) else {
        return;
    };
    let rows = [
        ("lgm_mean_dist", Some(fit.mean_dist)),
        ("lgm_mean_dist_max", Some(fit.max_dist)),
        ("lgm_class_sep", fit.class_sep),
        ("lgm_mean_dist_rel", fit.relative),
    ];
    for (metric, value) in rows {
        if let Some(v) = value {
            out.metric("none", "none", "train", metric, v);
        }
    }
}

/// Builds every applicable detector and fits it on clean training data,
/// with the eval-mode training `features` when they were computed already.
fn fit_detectors(
    out: &mut Out,
    net: &Net,
    features: Option<Tensor>,
) -> Result<Vec<Box<dyn Detector>>> {
    let ctx = out.ctx;
    let mut detectors = Vec::new();
    for spec in &ctx.job.config.detectors {
        match detect::build(spec, net) {
            Ok(d) => detectors.push(d),
            Err(why) => out.skip(format!("detector '{}' skipped: {why}", spec.name())),
        }
    }
    if detectors.is_empty() {
        return Ok(detectors);
    }
    let features = features.unwrap_or_else(|| {
        train::map_batches(&ctx.train.x, EVAL_BATCH, |b| net.features(b, false))
    });
    let fit = FitData {
        x: &ctx.train.x,
        y: &ctx.train.y,
        features: &features,
    };
    for d in &mut detectors {
        let t = Instant::now();
        d.fit(net, &fit)
            .map_err(|e| detector_error(d.name(), None, e))?;
        tracing::debug!(
            detector = %d.name(),
            ms = t.elapsed().as_millis() as u64,
            "detector fitted on clean training data"
        );
        for (metric, value) in d.fitted_on_clean() {
            out.metric("none", d.name(), FIT_SUBSET, metric, value);
        }
    }
    Ok(detectors)
}

/// An attack's examples of the attacked samples, and which it fooled.
struct Attacked {
    label: String,
    budget: Option<(Norm, f64)>,
    x_adv: Tensor,
    ok: Vec<bool>,
}

/// The worst case over the attacks of one budget (docs/definitions.md
/// §2.6): a sample is robust if no attack of that norm and ε fooled it.
/// One row set per budget that two or more attacks share, under the attack
/// label `worst(<norm>,eps=<ε>)`.
fn worst_case(out: &mut Out, stage: &Stage, worst: &[((Norm, f64), Vec<bool>, usize)]) {
    for ((norm, eps), fooled, count) in worst {
        if *count < 2 {
            continue;
        }
        let label = format!("worst({},eps={eps})", norm.name());
        let n_fooled = fooled.iter().filter(|&&f| f).count();
        let n = fooled.len() as f64;
        let robust = (fooled.len() - n_fooled) as f64 / stage.n_test as f64;
        out.metric(&label, "none", "all", "robust_acc", robust);
        out.metric(&label, "none", "all", "asr", n_fooled as f64 / n);
        out.metric(&label, "none", "all", "n_eval", n);
        out.metric(&label, "none", "all", "n_attacks", *count as f64);
    }
}

/// Runs `attack` on the attacked samples in batches and records its
/// metrics and example images.
fn run_attack(out: &mut Out, net: &Net, stage: &Stage, attack: &dyn Attack) -> Result<Attacked> {
    let ctx = out.ctx;
    let label = attack.label();
    let n_eval = stage.xs.size()[0];
    let t = Instant::now();
    let mut parts: Vec<AdvBatch> = Vec::new();
    for s in (0..n_eval).step_by(EVAL_BATCH as usize) {
        crate::interrupt::check()?;
        let len = EVAL_BATCH.min(n_eval - s);
        parts.push(attack.run(
            net,
            &stage.xs.narrow(0, s, len),
            &stage.ys.narrow(0, s, len),
        ));
    }
    device::synchronize(ctx.device);
    let seconds = t.elapsed().as_secs_f64();
    let cat =
        |f: fn(&AdvBatch) -> &Tensor| Tensor::cat(&parts.iter().map(f).collect::<Vec<_>>(), 0);
    let x_adv = cat(|b| &b.x_adv);
    let ok: Vec<bool> = Vec::<bool>::try_from(&cat(|b| &b.success).to_device(Device::Cpu))?;
    let l2 = to_vec_f64(&cat(|b| &b.l2));
    let linf = to_vec_f64(&cat(|b| &b.linf));
    let iters = to_vec_f64(&cat(|b| &b.iters));
    let n_success = ok.iter().filter(|&&s| s).count();
    let pick = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .zip(&ok)
            .filter(|(_, &s)| s)
            .map(|(&x, _)| x)
            .collect()
    };
    let (l2s, linfs) = (pick(&l2), pick(&linf));
    let n = n_eval as f64;
    tracing::info!(
        attack = %label,
        n = n_eval,
        successful = n_success,
        seconds,
        images_per_s = n / seconds.max(1e-9),
        "attack done"
    );
    out.metric(&label, "none", "all", "n_eval", n);
    let robust = (n_eval as usize - n_success) as f64 / stage.n_test as f64;
    out.metric(&label, "none", "all", "robust_acc", robust);
    out.metric(&label, "none", "all", "asr", n_success as f64 / n);
    if n_success > 0 {
        out.metric(
            &label,
            "none",
            "successful",
            "l2_mean",
            metrics::mean_std(&l2s).0,
        );
        out.metric(&label, "none", "successful", "l2_median", median(&l2s));
        out.metric(
            &label,
            "none",
            "successful",
            "linf_mean",
            metrics::mean_std(&linfs).0,
        );
    }
    out.metric(
        &label,
        "none",
        "all",
        "iters_mean",
        metrics::mean_std(&iters).0,
    );
    out.metric(&label, "none", "all", "seconds", seconds);
    out.metric(&label, "none", "all", "images_per_s", n / seconds.max(1e-9));
    record_examples(out, net, &label, &stage.xs, &stage.ys, &x_adv, &ok);
    Ok(Attacked {
        label,
        budget: attack.budget(),
        x_adv,
        ok,
    })
}

/// Fits the supervised detectors on the fit split of `a`'s pairs, scores
/// every detector on all pairs and records the detection metrics and the
/// defended accuracy of the test split.
fn detect(out: &mut Out, net: &Net, stage: &mut Stage, a: &Attacked) -> Result<()> {
    if stage.detectors.is_empty() {
        return Ok(());
    }
    let ctx = out.ctx;
    let (label, x_adv, ok) = (a.label.clone(), &a.x_adv, &a.ok);
    let f_clean = train::map_batches(&stage.xs, EVAL_BATCH, |b| net.features(b, false));
    let f_adv = train::map_batches(x_adv, EVAL_BATCH, |b| net.features(b, false));
    // Supervised detectors fit on the successful pairs of the fit split.
    let fit_idx: Vec<i64> = (0..ok.len())
        .filter(|&i| stage.in_fit[i] && ok[i])
        .map(|i| i as i64)
        .collect();
    let fit_idx = Tensor::from_slice(&fit_idx).to_device(stage.xs.device());
    // The fit pairs, and a noisy copy of each clean image (seeded by the job
    // and the attack), built once for the supervised detectors.
    let fit_pairs = (fit_idx.size()[0] >= 2 && stage.detectors.iter().any(|d| d.supervised()))
        .then(|| {
            let clean = stage.xs.index_select(0, &fit_idx);
            let adv = x_adv.index_select(0, &fit_idx);
            let seed = ctx.job.config.seed ^ NOISE_STREAM ^ fnv1a(label.as_bytes());
            let noisy = detect::noisy_copies(&clean, &adv, seed);
            (clean, adv, noisy)
        });
    for det in &mut stage.detectors {
        let name = det.name();
        if det.supervised() {
            let Some((clean, adv, noisy)) = &fit_pairs else {
                out.skip(format!(
                    "{label} / {name}: fewer than 2 successful pairs to fit on, skipped"
                ));
                continue;
            };
            let t = Instant::now();
            let pairs = detect::Pairs { clean, adv, noisy };
            det.fit_pairs(net, &pairs)
                .map_err(|e| detector_error(name, Some(&label), e))?;
            tracing::debug!(
                detector = %name,
                attack = %label,
                pairs = fit_idx.size()[0],
                ms = t.elapsed().as_millis() as u64,
                "detector fitted on pairs"
            );
            for (metric, value) in det.fitted_on_pairs() {
                out.metric(&label, name, FIT_SUBSET, metric, value);
            }
        }
        let t = Instant::now();
        let (s_clean, s_adv) =
            tch::no_grad(|| det.score_pairs(net, &stage.xs, x_adv, &f_clean, &f_adv))
                .map_err(|e| detector_error(name, Some(&label), e))?;
        let (s_clean, s_adv) = (to_vec_f64(&s_clean), to_vec_f64(&s_adv));
        tracing::debug!(
            detector = %name,
            attack = %label,
            samples = s_clean.len() + s_adv.len(),
            ms = t.elapsed().as_millis() as u64,
            "detector scored"
        );
        record_scores(out, &label, name, &s_clean, &s_adv, ok, &stage.in_fit);
        if !s_clean.iter().chain(&s_adv).any(|s| s.is_finite()) {
            out.skip(format!(
                "{label} / {name}: every score is infinite, so the detector ranks nothing; \
                 no detection metrics (for kd, a sigma far from the feature distances does this)"
            ));
            continue;
        }
        if let Some(v) = defended_accuracy(&s_clean, &s_adv, ok, &stage.in_fit) {
            // Scaled to the population, as robust_acc is.
            let v = v * ok.len() as f64 / stage.n_test as f64;
            out.metric(&label, name, "all", "defended_acc", v);
        }
        for subset in ["successful", "all"] {
            let idx: Vec<usize> = (0..ok.len())
                .filter(|&i| !stage.in_fit[i] && (subset == "all" || ok[i]))
                .collect();
            if idx.is_empty() {
                let pairs = if subset == "all" {
                    "pair"
                } else {
                    "successful pair"
                };
                out.skip(format!(
                    "{label} / {name}: no {pairs} in the test split, no AUROC"
                ));
                continue;
            }
            let pos: Vec<f64> = idx.iter().map(|&i| s_adv[i]).collect();
            let neg: Vec<f64> = idx.iter().map(|&i| s_clean[i]).collect();
            detection_metrics(out, &label, name, subset, &pos, &neg)?;
        }
    }
    Ok(())
}

/// Keeps [`EXAMPLES`] attacked images, successful ones first, chosen by a
/// seeded shuffle (the same pairs for every attack of the job).
fn record_examples(
    out: &mut Out,
    net: &Net,
    attack: &str,
    xs: &Tensor,
    ys: &Tensor,
    x_adv: &Tensor,
    ok: &[bool],
) {
    let c = &out.ctx.job.config;
    let mut order: Vec<usize> = (0..ok.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(c.seed ^ 0xe8a3));
    order.sort_by_key(|&i| !ok[i]);
    order.truncate(EXAMPLES);
    let idx = Tensor::from_slice(&order.iter().map(|&i| i as i64).collect::<Vec<_>>())
        .to_device(xs.device());
    let clean = xs.index_select(0, &idx);
    let adv = x_adv.index_select(0, &idx);
    let pred = to_vec_f64(&tch::no_grad(|| net.logits(&adv).argmax(1, false)));
    let labels = to_vec_f64(&ys.index_select(0, &idx));
    let delta = &adv - &clean;
    // Perturbations are shown around mid-grey, scaled to the largest |δ| of
    // each image so that small budgets stay visible.
    let scale = delta
        .abs()
        .flatten(1, -1)
        .amax([1], true)
        .clamp_min(1e-12)
        .view([-1, 1, 1, 1]);
    let delta_img = (&delta / scale) * 0.5 + 0.5;
    let (_, ch, h, w) = clean.size4().expect("images are [N, C, H, W]");
    for (kind, imgs) in [
        ("clean", &clean),
        ("adversarial", &adv),
        ("perturbation", &delta_img),
    ] {
        let bytes = Vec::<u8>::try_from(
            &(imgs.clamp(0.0, 1.0) * 255.0)
                .round()
                .to_kind(Kind::Uint8)
                .to_device(Device::Cpu)
                .flatten(0, -1),
        )
        .expect("u8 pixels");
        let per = (ch * h * w) as usize;
        for (r, &sample) in order.iter().enumerate() {
            let pixels = bytes[r * per..(r + 1) * per]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            out.rows.examples.push(ExampleRow {
                job_id: out.ctx.job.id.clone(),
                loss: c.loss.label().to_string(),
                seed: c.seed,
                attack: attack.to_string(),
                sample: sample as u64,
                label: labels[r] as u64,
                pred_adv: pred[r] as u64,
                kind: kind.to_string(),
                channels: ch as u64,
                height: h as u64,
                width: w as u64,
                pixels,
            });
        }
    }
}

/// `e`, raised while `detector` fitted or scored (on `attack`'s pairs), as
/// an [`Error::Detector`] naming both. An error the detector raised about
/// itself gets the attack filled in rather than a second "detector" layer;
/// any other (libtorch, another detector it builds on) becomes the source.
/// An interruption stays one, so the run stops instead of failing the job.
fn detector_error(detector: &str, attack: Option<&str>, e: Error) -> Error {
    let attack = attack.map(str::to_owned);
    match e {
        Error::Interrupted => Error::Interrupted,
        Error::Detector {
            detector: own,
            attack: None,
            source,
        } if own == detector => Error::Detector {
            detector: own,
            attack,
            source,
        },
        e => Error::Detector {
            detector: detector.to_owned(),
            attack,
            source: DetectorFailure::Error(Box::new(e)),
        },
    }
}

/// A metric that could not be computed from `detector`'s scores on
/// `attack` (or an abnormal source), as an [`Error::Detector`] naming both.
fn metric_error<'a>(
    detector: &'a str,
    attack: &'a str,
) -> impl Fn(metrics::MetricError) -> Error + Copy + 'a {
    move |e| Error::Detector {
        detector: detector.to_owned(),
        attack: Some(attack.to_owned()),
        source: e.into(),
    }
}

fn record_scores(
    out: &mut Out,
    attack: &str,
    detector: &str,
    s_clean: &[f64],
    s_adv: &[f64],
    ok: &[bool],
    in_fit: &[bool],
) {
    let c = &out.ctx.job.config;
    for (i, (&sc, &sa)) in s_clean.iter().zip(s_adv).enumerate() {
        for (kind, score) in [("clean", sc), ("adversarial", sa)] {
            out.rows.scores.push(ScoreRow {
                job_id: out.ctx.job.id.clone(),
                loss: c.loss.label().to_string(),
                seed: c.seed,
                attack: attack.to_string(),
                detector: detector.to_string(),
                sample: i as u64,
                kind: kind.to_string(),
                success: ok[i] as u64,
                split: if in_fit[i] { "fit" } else { "test" }.to_string(),
                score,
            });
        }
    }
}

fn detection_metrics(
    out: &mut Out,
    attack: &str,
    detector: &str,
    subset: &str,
    pos: &[f64],
    neg: &[f64],
) -> Result<()> {
    let c = &out.ctx.job.config;
    let metric_err = metric_error(detector, attack);
    let m = metrics::Detection::compute(pos, neg).map_err(metric_err)?;
    // pos[i] and neg[i] are the adversarial and the clean score of one test
    // image: the interval resamples whole pairs (docs/definitions.md §4).
    let (ci_low, ci_high) =
        metrics::auroc_bootstrap_ci_paired(pos, neg, metrics::BOOTSTRAP_RESAMPLES, c.seed)
            .map_err(metric_err)?;
    for (metric, value) in [
        ("auroc", m.auroc),
        ("aupr", m.aupr),
        ("fpr_at_95tpr", m.fpr_at_95tpr),
        ("det_acc", m.det_acc),
        ("auroc_ci_low", ci_low),
        ("auroc_ci_high", ci_high),
        ("n_pairs", pos.len() as f64),
    ] {
        out.metric(attack, detector, subset, metric, value);
    }
    push_roc(out, attack, detector, subset, &m.roc);
    Ok(())
}

/// The downsampled points of `roc` as `roc` rows.
fn push_roc(out: &mut Out, attack: &str, detector: &str, subset: &str, roc: &metrics::Roc) {
    let c = &out.ctx.job.config;
    let small = roc.downsample(ROC_POINTS);
    for ((fpr, tpr), thr) in small.fpr.iter().zip(&small.tpr).zip(&small.thresholds) {
        out.rows.roc.push(RocRow {
            job_id: out.ctx.job.id.clone(),
            loss: c.loss.label().to_string(),
            seed: c.seed,
            attack: attack.to_string(),
            detector: detector.to_string(),
            subset: subset.to_string(),
            fpr: *fpr,
            tpr: *tpr,
            threshold: *thr,
        });
    }
}

/// The share of test-split pairs that the attack did not fool or that the
/// detector flags (docs/definitions.md §3.3), at the threshold `t` that
/// flags at most 5 % of the test split's clean scores: `t` is the
/// (⌊0.05 n⌋ + 1)-th largest of the n clean scores, and a score flags when
/// it is above `t`. `None` without test pairs.
pub(crate) fn defended_accuracy(
    s_clean: &[f64],
    s_adv: &[f64],
    ok: &[bool],
    in_fit: &[bool],
) -> Option<f64> {
    let test: Vec<usize> = (0..ok.len()).filter(|&i| !in_fit[i]).collect();
    let mut clean: Vec<f64> = test.iter().map(|&i| s_clean[i]).collect();
    clean.sort_by(|a, b| b.total_cmp(a));
    let t = *clean.get((DEFENDED_FPR * clean.len() as f64).floor() as usize)?;
    let defended = test.iter().filter(|&&i| !ok[i] || s_adv[i] > t).count();
    Some(defended as f64 / test.len() as f64)
}

/// The 64-bit FNV-1a hash of `bytes`: a stable seed from a label.
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => 0.5 * (s[n / 2 - 1] + s[n / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::detector_error;
    use crate::error::{DetectorFailure, OneLine};
    use crate::metrics::MetricError;
    use crate::{detect, Error};

    const FGSM: &str = "fgsm(eps=0.1)";

    /// 20 test pairs (and 2 in the fit split, ignored): clean scores 1..=20,
    /// so the threshold is the second largest, 19, and only a score above
    /// 19 flags. Pairs 0-9 were fooled, 10-19 not; the adversarial scores
    /// of the fooled ones are 25, 19.5, 19 (not above), 3, 3, ...
    /// Defended: 10 not fooled + 2 flagged = 12 of 20.
    #[test]
    fn defended_accuracy_by_hand() {
        let mut s_clean: Vec<f64> = (1..=20).map(f64::from).collect();
        let mut s_adv = vec![25.0, 19.5, 19.0];
        s_adv.resize(20, 3.0);
        let mut ok = vec![true; 10];
        ok.resize(20, false);
        let mut in_fit = vec![false; 20];
        // Two fit pairs with extreme scores change nothing.
        s_clean.extend([1e9, -1e9]);
        s_adv.extend([-1e9, 1e9]);
        ok.extend([true, true]);
        in_fit.extend([true, true]);
        let v = super::defended_accuracy(&s_clean, &s_adv, &ok, &in_fit).unwrap();
        assert_eq!(v, 12.0 / 20.0);
        assert_eq!(super::defended_accuracy(&[], &[], &[], &[]), None);
    }

    #[test]
    fn a_detectors_own_failure_gets_the_attack_not_a_second_layer() {
        let e = detector_error("kd", Some(FGSM), detect::error("kd", "scored before fit"));
        match &e {
            Error::Detector {
                detector,
                attack,
                source: DetectorFailure::Check(why),
            } => {
                assert_eq!(detector, "kd");
                assert_eq!(attack.as_deref(), Some(FGSM));
                assert_eq!(why, "scored before fit");
            }
            other => panic!("expected Error::Detector, got {other:?}"),
        }
        assert_eq!(e.exit_code(), 3);
        assert_eq!(
            OneLine(&e).to_string(),
            "detector 'kd' on fgsm(eps=0.1): scored before fit"
        );
    }

    #[test]
    fn any_other_failure_becomes_the_detectors_source() {
        let torch = Error::from(tch::TchError::Torch("out of memory".into()));
        let e = detector_error("lid", None, torch);
        assert!(
            matches!(
                &e,
                Error::Detector { detector, attack: None, source: DetectorFailure::Error(inner) }
                    if detector == "lid" && matches!(**inner, Error::Torch(_))
            ),
            "{e:?}"
        );
        assert_eq!(
            OneLine(&e).to_string(),
            "detector 'lid': libtorch: Internal torch error: out of memory"
        );
        // kd-bu builds on kd: kd's failure inside it names both.
        let e = detector_error(
            "kd-bu",
            Some(FGSM),
            detect::error("kd", "scored before fit"),
        );
        assert_eq!(
            OneLine(&e).to_string(),
            "detector 'kd-bu' on fgsm(eps=0.1): detector 'kd': scored before fit"
        );
        // The supervised detectors' regression, wrapped by the detector.
        let fit = detect::logistic::LogisticRegression::fit(&[0.0, 1.0], 1, &[true, true], 1.0)
            .unwrap_err();
        let e = detector_error("lid", Some(FGSM), detect::error("lid", fit));
        assert!(
            matches!(
                &e,
                Error::Detector {
                    source: DetectorFailure::Regression(_),
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            OneLine(&e)
                .to_string()
                .starts_with("detector 'lid' on fgsm(eps=0.1): logistic regression: "),
            "{}",
            OneLine(&e)
        );
        let e: Error = Error::Detector {
            detector: "kd".into(),
            attack: Some(FGSM.into()),
            source: MetricError::NaN { index: 0 }.into(),
        };
        assert_eq!(e.exit_code(), 3);
    }

    #[test]
    fn an_interruption_inside_a_detector_stays_an_interruption() {
        assert!(matches!(
            detector_error("kd", Some(FGSM), Error::Interrupted),
            Error::Interrupted
        ));
    }
}
