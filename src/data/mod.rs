//! Datasets: readers for MNIST / Fashion-MNIST / KMNIST (IDX, gzip or raw),
//! CIFAR-10/100 (binary batches, unpacked or in the publisher's archive),
//! SVHN (MAT files) and a seeded synthetic dataset for tests; verified
//! downloads of the real ones ([`fetch`]).
//!
//! Images are kept as `u8` in `[N, C, H, W]` order; conversion to `[0, 1]`
//! floats happens when a batch becomes a tensor, outside this room. Every
//! failure (missing, truncated or mismatched file) is an error naming the file
//! and what was wrong, never a panic. This room knows nothing of tch.

pub mod cifar;
pub mod fetch;
pub mod idx;
pub mod load;
pub mod mat;
pub mod openset;
pub mod svhn;
pub mod synthetic;
pub mod tar;

pub use load::{load, resolve_dir};

use std::path::PathBuf;

/// Declared with the rest of the suite format ([`crate::suite::spec`]).
pub use crate::suite::{DataSpec, DatasetName, SyntheticSpec};

/// Fashion-MNIST's labels 0-9 (Xiao et al. 2017, the dataset's README).
const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// KMNIST's labels 0-9: the romanised reading of each class's hiragana
/// (お き す つ な は ま や れ を; the dataset's `kmnist_classmap.csv`).
const KMNIST_CLASSES: [&str; 10] = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"];

/// CIFAR-10's labels 0-9 (`batches.meta.txt`).
const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// The display name of class `label` of the dataset named `dataset` (as in
/// the result tables), for the datasets whose labels are not self-explaining
/// numbers: Fashion-MNIST, KMNIST and CIFAR-10. `None` for the others
/// (MNIST's and SVHN's digits, CIFAR-100, synthetic) and for labels out of
/// range.
pub fn class_name(dataset: &str, label: u64) -> Option<&'static str> {
    let names: &[&str] = match dataset {
        "fashion-mnist" => &FASHION_MNIST_CLASSES,
        "kmnist" => &KMNIST_CLASSES,
        "cifar10" => &CIFAR10_CLASSES,
        _ => return None,
    };
    usize::try_from(label)
        .ok()
        .and_then(|l| names.get(l).copied())
}

/// One split (train or test) of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// `len * C * H * W` bytes, `[N, C, H, W]` order, 0 = black, 255 = white.
    pub images: Vec<u8>,
    /// One class index per image, `< classes`.
    pub labels: Vec<u8>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// A loaded dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub name: DatasetName,
    pub classes: usize,
    /// `[C, H, W]`.
    pub shape: [usize; 3],
    pub train: Split,
    pub test: Split,
    /// Directory the files were read from (None for synthetic).
    pub source: Option<PathBuf>,
}
