//! The SVHN reader: the cropped-digits files `train_32x32.mat` and
//! `test_32x32.mat` as the publisher distributes them (Level 5 MAT files,
//! read by [`super::mat`]).
//!
//! Each file holds `X`, a `uint8` array of `[32, 32, 3, N]` (row, column,
//! channel, sample, stored column-major: the row index runs fastest), and
//! `y`, `N` labels (`[N, 1]`, stored as doubles) from 1 to 10, where 10 is
//! the digit 0. lossbench maps 10 to 0, so label `d` is the digit `d`, and
//! reorders each image to `[3, 32, 32]` (CHW, row-major) like CIFAR's.
//! A wrong shape, a missing variable or a label that is not a whole number
//! in 1..=10 is an [`Error::Data`] naming the file.

use std::path::{Path, PathBuf};

use super::mat::{self, class, dims_str};
use super::Split;
use crate::{Error, Result};

pub const TRAIN_FILE: &str = "train_32x32.mat";
pub const TEST_FILE: &str = "test_32x32.mat";
/// `[C, H, W]` of every SVHN image.
pub const SHAPE: [usize; 3] = [3, 32, 32];
pub const CLASSES: usize = 10;
const SIDE: usize = 32;
const PLANE: usize = SIDE * SIDE;
const IMAGE_BYTES: usize = 3 * PLANE;

/// `dir` if it holds both files, else the names of those missing.
pub fn locate(dir: &Path) -> std::result::Result<PathBuf, Vec<String>> {
    let missing: Vec<String> = [TRAIN_FILE, TEST_FILE]
        .into_iter()
        .filter(|f| !dir.join(f).is_file())
        .map(String::from)
        .collect();
    if missing.is_empty() {
        Ok(dir.to_path_buf())
    } else {
        Err(missing)
    }
}

/// Reads the train and test splits from `dir`.
pub fn read(dir: &Path) -> Result<(Split, Split)> {
    Ok((
        read_file(&dir.join(TRAIN_FILE))?,
        read_file(&dir.join(TEST_FILE))?,
    ))
}

/// Reads one SVHN `.mat` file into a split.
pub fn read_file(path: &Path) -> Result<Split> {
    let err = |msg: String| Error::Data {
        file: path.to_path_buf(),
        msg,
    };
    let vars = mat::read_vars(path, &["X", "y"])?;
    let missing: Vec<&str> = ["X", "y"]
        .iter()
        .zip(&vars)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    let mut vars = vars.into_iter().flatten();
    let (Some(x), Some(y)) = (vars.next(), vars.next()) else {
        return Err(err(format!(
            "no variable {} (SVHN files hold X and y)",
            missing.join(" or ")
        )));
    };
    let n = match x.dims.as_slice() {
        [SIDE, SIDE, 3, n] => *n,
        // MATLAB drops trailing singleton dimensions.
        [SIDE, SIDE, 3] => 1,
        other => return Err(err(format!("X is {}, expected 32x32x3xN", dims_str(other)))),
    };
    if x.class != class::UINT8 {
        return Err(err(format!(
            "X is a {} array, expected uint8",
            class::name(x.class)
        )));
    }
    let y_ok = matches!(y.dims.as_slice(), [a, 1] | [1, a] if *a == n);
    if !y_ok {
        return Err(err(format!(
            "y is {}, expected {n}x1 (one label per image of X)",
            dims_str(&y.dims)
        )));
    }
    let labels = y
        .to_f64()
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.fract() == 0.0 && (1.0..=10.0).contains(&v) {
                Ok((v as u8) % 10)
            } else {
                Err(err(format!(
                    "label {v} at index {i} is not a digit label 1..=10"
                )))
            }
        })
        .collect::<Result<Vec<u8>>>()?;
    let Some(mut images) = x.into_u8() else {
        return Err(err("X is not stored as uint8 bytes".to_string()));
    };
    // Column-major [32, 32, 3, N]: within each channel plane the row index
    // runs fastest; transpose each plane to row-major.
    let mut plane = [0u8; PLANE];
    for image in images.chunks_exact_mut(IMAGE_BYTES) {
        for channel in image.chunks_exact_mut(PLANE) {
            plane.copy_from_slice(channel);
            for r in 0..SIDE {
                for c in 0..SIDE {
                    channel[r * SIDE + c] = plane[c * SIDE + r];
                }
            }
        }
    }
    Ok(Split { images, labels })
}
