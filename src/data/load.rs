//! Finding a dataset's directory and loading it as a [`Dataset`].
//!
//! The lookup order is fixed and documented in one place: the suite's
//! `data.path` (no fallback: if it is given, it must hold the files), then
//! `$LOSSBENCH_DATA/<name>`, `./data/<name>` and `/usr/share/datasets/<name>`
//! (where Debian's `dataset-fashion-mnist` installs). Formats are the
//! readers' business ([`super::idx`], [`super::cifar`], [`super::svhn`]);
//! `lossbench data fetch` downloads into the first candidate after
//! `data.path` ([`super::fetch`]). This room only picks
//! the directory, checks the splits against each other and applies
//! `train-subset` / `test-subset`.

use std::path::{Path, PathBuf};

use super::cifar::{self, Variant};
use super::{idx, svhn, synthetic, DataSpec, Dataset, DatasetName, Split};
use crate::{Error, Result};

/// Environment variable naming a directory with one subdirectory per dataset.
pub const ENV_VAR: &str = "LOSSBENCH_DATA";
/// The system-wide dataset directory (Debian's `dataset-*` packages).
pub const SYSTEM_DIR: &str = "/usr/share/datasets";

/// The directory holding `name`'s files.
///
/// With `explicit` (the suite's `data.path`) only that directory is tried,
/// and an [`Error::Data`] naming it says what is missing. Otherwise the
/// candidates are tried in order and [`Error::DataNotFound`] lists them all.
/// For CIFAR the result may be the archive's subdirectory
/// (`cifar-10-batches-bin`, `cifar-100-binary`) below the candidate.
pub fn resolve_dir(name: DatasetName, explicit: Option<&Path>) -> Result<PathBuf> {
    if name == DatasetName::Synthetic {
        return Err(Error::Data {
            file: PathBuf::from(synthetic::FILE),
            msg: "the synthetic dataset is generated and has no directory".to_string(),
        });
    }
    if let Some(dir) = explicit {
        return locate(name, dir).map_err(|why| {
            // `data fetch` writes <data dir>/<name>: say so when it fits.
            let hint = match dir.parent() {
                Some(parent) if dir.file_name() == Some(name.name().as_ref()) => format!(
                    "; `lossbench data fetch {} --data-dir {}` downloads them there",
                    name.name(),
                    if parent.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        parent
                    }
                    .display()
                ),
                _ => String::new(),
            };
            Error::Data {
                file: dir.to_path_buf(),
                msg: format!(
                    "data.path does not hold the {} files: {why}{hint}",
                    name.name()
                ),
            }
        });
    }
    let mut tried = Vec::new();
    for dir in candidates(name) {
        match locate(name, &dir) {
            Ok(found) => return Ok(found),
            // A directory that exists but lacks files is worth pointing at.
            Err(why) if dir.is_dir() => tried.push(format!("{} ({why})", dir.display())),
            Err(_) => tried.push(dir.display().to_string()),
        }
    }
    Err(Error::DataNotFound {
        name: name.name().to_string(),
        tried: tried.join(", "),
    })
}

/// The fallback directories for `name`, in lookup order.
fn candidates(name: DatasetName) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(root) = std::env::var_os(ENV_VAR).filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(root).join(name.name()));
    }
    dirs.push(Path::new("data").join(name.name()));
    dirs.push(Path::new(SYSTEM_DIR).join(name.name()));
    dirs
}

/// The directory under `dir` holding `name`'s files, or why there is none.
fn locate(name: DatasetName, dir: &Path) -> std::result::Result<PathBuf, String> {
    if dir.is_file() {
        return Err("it is a file; give the directory that holds the dataset's files".to_string());
    }
    if !dir.is_dir() {
        return Err("no such directory".to_string());
    }
    let missing = match name {
        DatasetName::Mnist | DatasetName::FashionMnist | DatasetName::Kmnist => {
            match idx::locate(dir) {
                Ok(_) => return Ok(dir.to_path_buf()),
                Err(missing) => missing,
            }
        }
        DatasetName::Svhn => match svhn::locate(dir) {
            Ok(found) => return Ok(found),
            Err(missing) => missing,
        },
        DatasetName::Cifar10 | DatasetName::Cifar100 => match cifar::locate(dir, variant(name)) {
            Ok(found) => return Ok(found),
            Err(missing) => missing,
        },
        DatasetName::Synthetic => return Err("synthetic data has no files".to_string()),
    };
    Err(format!("missing {}", missing.join(", ")))
}

fn variant(name: DatasetName) -> Variant {
    if name == DatasetName::Cifar100 {
        Variant::Cifar100
    } else {
        Variant::Cifar10
    }
}

/// Loads the dataset `spec` describes: finds and reads its files (or
/// generates it), checks both splits, then keeps the first
/// `train_subset` / `test_subset` samples.
pub fn load(spec: &DataSpec) -> Result<Dataset> {
    let (mut data, origin) = match spec.dataset {
        DatasetName::Synthetic => (
            synthetic::generate(&spec.synthetic)?,
            PathBuf::from(synthetic::FILE),
        ),
        name => {
            let dir = resolve_dir(name, spec.path.as_deref())?;
            (read_dir(name, &dir)?, dir)
        }
    };
    let sample_len = data.shape.iter().product::<usize>();
    for (field, split, n, what) in [
        (
            "train-subset",
            &mut data.train,
            spec.train_subset,
            "training",
        ),
        ("test-subset", &mut data.test, spec.test_subset, "test"),
    ] {
        if let Some(n) = n {
            if n == 0 || n > split.len() {
                return Err(Error::Data {
                    file: origin.clone(),
                    msg: format!(
                        "data.{field} = {n} but the {what} split has {} samples{}",
                        split.len(),
                        if n == 0 { " (need at least 1)" } else { "" }
                    ),
                });
            }
            *split = subset(split, n, sample_len);
        }
    }
    if let Some(n) = spec.attack_subset {
        if n > data.test.len() {
            return Err(Error::Data {
                file: origin,
                msg: format!(
                    "data.attack-subset = {n} but the test split has {} samples; attack \
                     them all by leaving attack-subset out, or give at most {}",
                    data.test.len(),
                    data.test.len()
                ),
            });
        }
    }
    Ok(data)
}

/// Reads a real dataset from the directory [`resolve_dir`] returned.
fn read_dir(name: DatasetName, dir: &Path) -> Result<Dataset> {
    let (train, test, classes, shape) = match name {
        DatasetName::Mnist | DatasetName::FashionMnist | DatasetName::Kmnist => {
            let files = idx::locate(dir).map_err(|missing| Error::Data {
                file: dir.to_path_buf(),
                msg: format!("missing {}", missing.join(", ")),
            })?;
            let classes = 10;
            let (train, shape) =
                idx::read_split(&files.train_images, &files.train_labels, classes)?;
            let (test, test_shape) =
                idx::read_split(&files.test_images, &files.test_labels, classes)?;
            if test_shape != shape {
                return Err(Error::Data {
                    file: files.test_images,
                    msg: format!(
                        "images are {}x{} but the training images '{}' are {}x{}",
                        test_shape[1],
                        test_shape[2],
                        files.train_images.display(),
                        shape[1],
                        shape[2]
                    ),
                });
            }
            (train, test, classes, shape)
        }
        DatasetName::Cifar10 | DatasetName::Cifar100 => {
            let variant = variant(name);
            let (train, test) = cifar::read(dir, variant)?;
            (train, test, variant.classes(), cifar::SHAPE)
        }
        DatasetName::Svhn => {
            let (train, test) = svhn::read(dir)?;
            (train, test, svhn::CLASSES, svhn::SHAPE)
        }
        DatasetName::Synthetic => {
            return Err(Error::Data {
                file: dir.to_path_buf(),
                msg: "the synthetic dataset is generated, not read".to_string(),
            })
        }
    };
    for (split, what) in [(&train, "training"), (&test, "test")] {
        if split.is_empty() {
            return Err(Error::Data {
                file: dir.to_path_buf(),
                msg: format!("the {what} split has no samples"),
            });
        }
    }
    Ok(Dataset {
        name,
        classes,
        shape,
        train,
        test,
        source: Some(dir.to_path_buf()),
    })
}

/// The first `n` samples of `split` (all of it if `n >= split.len()`), where
/// each image is `sample_len` bytes.
pub fn subset(split: &Split, n: usize, sample_len: usize) -> Split {
    let n = n.min(split.len());
    let bytes = n.saturating_mul(sample_len).min(split.images.len());
    Split {
        images: split.images[..bytes].to_vec(),
        labels: split.labels[..n].to_vec(),
    }
}
