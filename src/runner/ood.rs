//! The abnormal inputs of a suite's `ood:` section (docs/definitions.md §5):
//! read once per run, before anything is written, and drawn per job.
//!
//! The held-out classes and another dataset's test images are fixed
//! images; a declared `n` takes a seeded sample of them. Noise (uniform, or
//! Gaussian clipped to [0, 1]) is drawn per job from a ChaCha8 stream seeded
//! with the job's seed and the source's label, so every loss of a seed sees
//! the same images.

use rand::{seq::SliceRandom, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

use super::evaluate::fnv1a;
use crate::data::{self, DataSpec, Dataset, Split};
use crate::detect::standard_normals;
use crate::suite::{OodSource, Suite};
use crate::train::Tensors;
use crate::{Error, Result};

/// Mixed into the job seed (with the source's label) for a source's draws.
const OOD_STREAM: u64 = 0x00d0_5eed_ab0e;

/// One source as a run holds it.
pub(crate) struct Source {
    /// `OodSource::label`, without the `ood:` prefix.
    pub label: String,
    pub spec: OodSource,
    /// The images of a fixed source, `[N, C, H, W]` in [0, 1]; `None` for noise.
    images: Option<Tensor>,
}

/// The images of a fixed source before they become tensors.
pub(crate) struct Loaded {
    spec: OodSource,
    split: Option<Split>,
}

/// Reads what the suite's sources need: the held-out test samples
/// (`held_out`, from [`data::openset::keep_classes`]) and the test split of
/// each other dataset, checked against `ds`'s image shape.
///
/// # Errors
///
/// [`Error::Data`] when another dataset is missing, malformed or of
/// another image shape.
pub(crate) fn load(suite: &Suite, ds: &Dataset, held_out: Option<&Split>) -> Result<Vec<Loaded>> {
    let mut out = Vec::new();
    for spec in &suite.ood {
        let split = match spec {
            OodSource::HeldOutClasses(_) => held_out.cloned(),
            OodSource::Dataset(p) => {
                let other = data::load(&DataSpec {
                    dataset: p.name,
                    path: p.path.clone(),
                    train_subset: None,
                    test_subset: None,
                    attack_subset: None,
                    classes: None,
                    synthetic: Default::default(),
                })?;
                if other.shape != ds.shape {
                    let [c, h, w] = other.shape;
                    let [c0, h0, w0] = ds.shape;
                    return Err(Error::Data {
                        file: other.source.unwrap_or_default(),
                        msg: format!(
                            "ood source `{}` has {c}x{h}x{w} images but {} has {c0}x{h0}x{w0}; \
                             an abnormal source needs images of the same shape",
                            p.name.name(),
                            ds.name.name()
                        ),
                    });
                }
                Some(other.test)
            }
            OodSource::Uniform(_) | OodSource::Gaussian(_) => None,
        };
        out.push(Loaded {
            spec: spec.clone(),
            split,
        });
    }
    Ok(out)
}

/// The loaded sources as tensors on `device`.
pub(crate) fn to_device(loaded: &[Loaded], shape: [usize; 3], device: Device) -> Vec<Source> {
    loaded
        .iter()
        .map(|l| Source {
            label: l.spec.label(),
            spec: l.spec.clone(),
            images: l
                .split
                .as_ref()
                .map(|s| Tensors::from_split(s, shape, device).x),
        })
        .collect()
}

impl Source {
    /// The source's images for the job of `seed`, `[n, C, H, W]` float in
    /// [0, 1] on the device of `like` (the in-distribution test images,
    /// `n_in` of them): a fixed source's images (a seeded sample of `n` of
    /// them when `n` is smaller), or `n` (default `n_in`) noise images.
    pub(crate) fn images(&self, seed: u64, like: &Tensor) -> Tensor {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ OOD_STREAM ^ fnv1a(self.label.as_bytes()));
        let size = like.size();
        let n_in = size[0] as usize;
        let per: usize = size[1..].iter().map(|&d| d as usize).product();
        let noise = |n: usize, values: Vec<f64>| {
            let mut shape = size.clone();
            shape[0] = n as i64;
            Tensor::from_slice(&values)
                .view(shape.as_slice())
                .to_kind(Kind::Float)
                .to_device(like.device())
        };
        match (&self.spec, &self.images) {
            (OodSource::Uniform(p), _) => {
                let n = p.n.unwrap_or(n_in);
                let values = (0..n * per).map(|_| rng.random::<f64>()).collect();
                noise(n, values)
            }
            (OodSource::Gaussian(p), _) => {
                let n = p.n.unwrap_or(n_in);
                let values = standard_normals(&mut rng, n * per)
                    .into_iter()
                    .map(|g| (p.mean + p.std * g).clamp(0.0, 1.0))
                    .collect();
                noise(n, values)
            }
            (OodSource::HeldOutClasses(_) | OodSource::Dataset(_), None) => {
                unreachable!("fixed sources are loaded with their images")
            }
            (OodSource::HeldOutClasses(p), Some(x)) => sample(x, p.n, &mut rng),
            (OodSource::Dataset(p), Some(x)) => sample(x, p.n, &mut rng),
        }
    }
}

/// `x` itself, or a seeded sample of `n` of its rows, in their order.
fn sample(x: &Tensor, n: Option<usize>, rng: &mut ChaCha8Rng) -> Tensor {
    let len = x.size()[0] as usize;
    match n {
        Some(n) if n < len => {
            let mut all: Vec<i64> = (0..len as i64).collect();
            all.shuffle(rng);
            let mut pick = all[..n].to_vec();
            pick.sort_unstable();
            x.index_select(0, &Tensor::from_slice(&pick).to_device(x.device()))
        }
        _ => x.shallow_clone(),
    }
}
