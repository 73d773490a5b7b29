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

// Spec literals name what they set and take the declared defaults for the
// rest, as in tests/all.rs, so that a new parameter touches no test.
#[cfg(test)]
#[allow(clippy::needless_update)]
mod tests {
    use super::*;
    use crate::suite::spec::{GaussianParams, HeldOutParams, UniformParams};

    fn source(spec: OodSource, images: Option<Tensor>) -> Source {
        Source {
            label: spec.label(),
            spec,
            images,
        }
    }

    fn values(t: &Tensor) -> Vec<f64> {
        Vec::<f64>::try_from(&t.to_kind(Kind::Double).flatten(0, -1)).unwrap()
    }

    #[test]
    fn noise_is_seeded_shaped_and_in_the_pixel_range() {
        let like = Tensor::zeros([30, 1, 4, 5], (Kind::Float, Device::Cpu));
        let uniform = source(
            OodSource::Uniform(UniformParams {
                n: None,
                ..Default::default()
            }),
            None,
        );
        let a = uniform.images(0, &like);
        assert_eq!(a.size(), vec![30, 1, 4, 5]);
        assert_eq!(values(&a), values(&uniform.images(0, &like)));
        assert_ne!(values(&a), values(&uniform.images(1, &like)));
        let v = values(&a);
        assert!(v.iter().all(|&p| (0.0..1.0).contains(&p)));
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean - 0.5).abs() < 0.05, "{mean}");

        let gaussian = source(
            OodSource::Gaussian(GaussianParams {
                mean: 0.9,
                std: 0.5,
                n: Some(7),
                ..Default::default()
            }),
            None,
        );
        let g = values(&gaussian.images(0, &like));
        assert_eq!(g.len(), 7 * 20);
        assert!(g.iter().all(|&p| (0.0..=1.0).contains(&p)));
        // Clipped at 1: about 42 % of N(0.9, 0.5) lies above it.
        let ones = g.iter().filter(|&&p| p == 1.0).count() as f64 / g.len() as f64;
        assert!((0.3..0.55).contains(&ones), "{ones}");
        // Another label, another stream.
        let other = source(
            OodSource::Gaussian(GaussianParams {
                mean: 0.9,
                std: 0.5,
                n: Some(8),
                ..Default::default()
            }),
            None,
        );
        assert_ne!(values(&other.images(0, &like))[..7 * 20], g[..]);
    }

    #[test]
    fn a_fixed_source_gives_all_or_a_seeded_sample_in_order() {
        let x = Tensor::arange(10, (Kind::Float, Device::Cpu)).view([10, 1, 1, 1]);
        let like = Tensor::zeros([3, 1, 1, 1], (Kind::Float, Device::Cpu));
        let all = source(
            OodSource::HeldOutClasses(HeldOutParams {
                n: Some(20),
                ..Default::default()
            }),
            Some(x.shallow_clone()),
        );
        assert_eq!(
            values(&all.images(0, &like)),
            (0..10).map(f64::from).collect::<Vec<_>>()
        );
        let some = source(
            OodSource::HeldOutClasses(HeldOutParams {
                n: Some(4),
                ..Default::default()
            }),
            Some(x),
        );
        let v = values(&some.images(0, &like));
        assert_eq!(v.len(), 4);
        assert!(v.windows(2).all(|w| w[0] < w[1]), "{v:?}");
        assert_eq!(v, values(&some.images(0, &like)));
    }
}
