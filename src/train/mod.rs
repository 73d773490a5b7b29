//! Training: data as tensors, the epoch loop, learning-rate schedules,
//! progress display and the per-epoch train log.
//!
//! A loss that turns NaN or infinite stops the job with an error naming the
//! epoch and the step at which it was detected: the running loss is read back
//! (a device sync) only every [`CHECK_EVERY`] steps and at the end of each
//! epoch. The runner records the error and moves on to the next job.

pub mod export;
mod net;
pub mod optim;

pub use net::Net;

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use tch::{Device, Kind, Tensor};

use crate::data::Split;
use crate::device;
use crate::heads::Progress;
use crate::suite::TrainSpec;
use crate::{Error, Result};

/// Steps between reads of the running training loss (progress display and
/// the non-finite check); each read waits for the device.
pub const CHECK_EVERY: i64 = 50;

/// A split as tensors on a device: `x: [N, C, H, W]` f32 in [0, 1], `y: [N]` i64.
#[derive(Debug)]
pub struct Tensors {
    pub x: Tensor,
    pub y: Tensor,
}

impl Tensors {
    pub fn from_split(split: &Split, shape: [usize; 3], device: Device) -> Tensors {
        let [c, h, w] = shape.map(|v| v as i64);
        let n = split.len() as i64;
        let x = Tensor::from_slice(&split.images)
            .view([n, c, h, w])
            .to_device(device)
            .to_kind(Kind::Float)
            / 255.0;
        let y = Tensor::from_slice(&split.labels)
            .to_kind(Kind::Int64)
            .to_device(device);
        Tensors { x, y }
    }

    pub fn len(&self) -> i64 {
        self.y.size()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Per-channel mean and standard deviation of a split's pixels in [0, 1]:
/// the model's normalisation layer.
pub fn channel_stats(split: &Split, channels: usize) -> (Vec<f64>, Vec<f64>) {
    let per_image = split.images.len() / split.len().max(1);
    let plane = per_image / channels.max(1);
    let mut sum = vec![0f64; channels];
    let mut sq = vec![0f64; channels];
    for img in split.images.chunks_exact(per_image.max(1)) {
        for (c, px) in img.chunks_exact(plane.max(1)).enumerate() {
            let (s, q) = px.iter().fold((0u64, 0u64), |(s, q), &p| {
                (s + p as u64, q + (p as u64) * (p as u64))
            });
            sum[c] += s as f64;
            sq[c] += q as f64;
        }
    }
    let count = (split.len() * plane).max(1) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / count / 255.0).collect();
    let std = sq
        .iter()
        .zip(&mean)
        .map(|(q, m)| (q / count / (255.0 * 255.0) - m * m).max(0.0).sqrt())
        .collect();
    (mean, std)
}

/// One row of the train log.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochLog {
    /// 1-based.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub loss: f64,
    /// Accuracy of the inference logits on the training batches (train mode).
    pub train_acc: f64,
    pub lr: f64,
    pub seconds: f64,
    pub images_per_s: f64,
}

/// Trains `net` on `data` for `spec.epochs` epochs. `label` prefixes the
/// progress line (e.g. `[2/8] lgm seed 1`). The shuffling order comes from
/// libtorch's generator, so seed it before calling for repeatable runs.
pub fn fit(net: &Net, data: &Tensors, spec: &TrainSpec, label: &str) -> Result<Vec<EpochLog>> {
    let mut opt = optim::optimizer(&net.vs, spec)?;
    let n = data.len();
    let bs = spec.batch_size as i64;
    let steps_per_epoch = (n + bs - 1) / bs;
    let total_steps = spec.total_steps(n as usize);
    let bar = progress_bar(steps_per_epoch as u64);
    let mut log = Vec::new();
    let mut step: u64 = 0;
    for epoch in 0..spec.epochs {
        let lr = optim::lr_at(spec, epoch);
        opt.set_lr(lr);
        let start = Instant::now();
        let perm = Tensor::randperm(n, (Kind::Int64, Device::Cpu)).to_device(data.x.device());
        let mut loss_sum = Tensor::zeros([], (Kind::Float, data.x.device()));
        let mut correct = Tensor::zeros([], (Kind::Int64, data.x.device()));
        bar.reset();
        for b in 0..steps_per_epoch {
            if let Err(e) = crate::interrupt::check() {
                bar.finish_and_clear();
                return Err(e);
            }
            let idx = perm.narrow(0, b * bs, bs.min(n - b * bs));
            let mut x = data.x.index_select(0, &idx);
            if spec.augment {
                x = augment(&x);
            }
            let y = data.y.index_select(0, &idx);
            let f = net.features(&x, true);
            let at = Progress {
                step,
                epoch: epoch as f64 + b as f64 / steps_per_epoch as f64,
                total_steps,
            };
            let loss = net.head.loss(&f, &y, at);
            opt.backward_step(&loss);
            net.head.after_step(&f, &y);
            step += 1;
            tch::no_grad(|| {
                loss_sum += loss.detach() * y.size()[0];
                correct += net
                    .head
                    .logits(&f.detach())
                    .argmax(1, false)
                    .eq_tensor(&y)
                    .sum(Kind::Int64);
            });
            if b % CHECK_EVERY == CHECK_EVERY - 1 || b == steps_per_epoch - 1 {
                let seen = ((b + 1) * bs).min(n) as f64;
                let mean_loss = loss_sum.double_value(&[]) / seen;
                if !mean_loss.is_finite() {
                    bar.finish_and_clear();
                    return Err(Error::Job {
                        job: label.to_string(),
                        msg: format!(
                            "non-finite training loss ({mean_loss}) detected at step {} of {steps_per_epoch} in epoch {} (lr {lr}; the loss is checked every {CHECK_EVERY} steps and at the end of each epoch); stopping this job",
                            b + 1,
                            epoch + 1,
                        ),
                    });
                }
                let acc = correct.int64_value(&[]) as f64 / seen;
                let ips = seen / start.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!(
                    "{label} epoch {}/{} loss {mean_loss:.4} acc {acc:.4} {ips:.0} img/s",
                    epoch + 1,
                    spec.epochs
                ));
            }
            bar.inc(1);
        }
        device::synchronize(data.x.device());
        let seconds = start.elapsed().as_secs_f64();
        let row = EpochLog {
            epoch: epoch + 1,
            loss: loss_sum.double_value(&[]) / n as f64,
            train_acc: correct.int64_value(&[]) as f64 / n as f64,
            lr,
            seconds,
            images_per_s: n as f64 / seconds.max(1e-9),
        };
        if !bar.is_hidden() {
            bar.println(format!(
                "{label} epoch {}/{}: loss {:.4}, train acc {:.4}, {:.0} img/s",
                row.epoch, spec.epochs, row.loss, row.train_acc, row.images_per_s
            ));
        }
        log.push(row);
    }
    bar.finish_and_clear();
    Ok(log)
}

/// CIFAR augmentation (He et al. 2016): zero-pad 4 pixels on each side,
/// crop back to `H x W` at a random offset, and flip horizontally with
/// probability ½; independently per sample, from libtorch's generator.
///
/// # Shapes
/// `x: [N, C, H, W]` -> `[N, C, H, W]`.
pub fn augment(x: &Tensor) -> Tensor {
    const PAD: i64 = 4;
    let (n, c, h, w) = x.size4().expect("images are [N, C, H, W]");
    let dev = x.device();
    let padded = x.constant_pad_nd([PAD, PAD, PAD, PAD]);
    let offsets = |len: i64| {
        let o = Tensor::randint(2 * PAD + 1, [n, 1], (Kind::Int64, dev));
        o + Tensor::arange(len, (Kind::Int64, dev)).unsqueeze(0) // [N, len]
    };
    let rows = offsets(h)
        .view([n, 1, h, 1])
        .expand([n, c, h, w + 2 * PAD], false);
    let cropped = padded.gather(2, &rows, false);
    let cols = offsets(w).view([n, 1, 1, w]).expand([n, c, h, w], false);
    let cropped = cropped.gather(3, &cols, false);
    let flip = Tensor::rand([n, 1, 1, 1], (Kind::Float, dev)).lt(0.5);
    cropped.flip([3]).where_self(&flip, &cropped)
}

/// Predicted classes `[N]` (eval mode, batches of `bs`).
pub fn predict(net: &Net, x: &Tensor, bs: i64) -> Tensor {
    map_batches(x, bs, |xb| net.logits(xb).argmax(1, false))
}

/// Applies `f` to consecutive batches of `x` without gradients and
/// concatenates the results along dimension 0.
pub fn map_batches(x: &Tensor, bs: i64, f: impl Fn(&Tensor) -> Tensor) -> Tensor {
    let n = x.size()[0];
    tch::no_grad(|| {
        let parts: Vec<Tensor> = (0..n)
            .step_by(bs.max(1) as usize)
            .map(|s| f(&x.narrow(0, s, bs.min(n - s))))
            .collect();
        Tensor::cat(&parts, 0)
    })
}

fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar
}
