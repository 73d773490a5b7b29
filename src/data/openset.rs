//! Open-set splits (docs/definitions.md §5): a dataset cut down to the
//! classes a suite trains on (`data.classes`), relabelled `0..K-1` in the
//! order given, and the test samples of every other class, kept apart as
//! abnormal inputs.
//!
//! This room knows nothing of tch: it works on the bytes of a [`Split`].

use std::path::PathBuf;

use super::{Dataset, Split};
use crate::{Error, Result};

/// Keeps the samples of `classes` (strictly increasing, as validation
/// requires) in both splits of `ds`, relabelled to their position in
/// `classes`, and sets `ds.classes` to their number. Returns the test
/// samples of the other classes with their original labels, in test-split
/// order.
///
/// # Errors
///
/// [`Error::Data`] naming the dataset's source when a class is not one of
/// the dataset's, or when a kept class has no training or no test sample
/// (e.g. after `train-subset`).
pub fn keep_classes(ds: &mut Dataset, classes: &[usize]) -> Result<Split> {
    let origin = ds
        .source
        .clone()
        .unwrap_or_else(|| PathBuf::from(super::synthetic::FILE));
    let fail = |msg: String| Error::Data {
        file: origin.clone(),
        msg,
    };
    if let Some(&c) = classes.iter().find(|&&c| c >= ds.classes) {
        return Err(fail(format!(
            "data.classes lists class {c}, but {} has classes 0..={}",
            ds.name.name(),
            ds.classes - 1
        )));
    }
    // Old label -> new label, or None for a held-out class.
    let mut map = vec![None; ds.classes];
    for (new, &old) in classes.iter().enumerate() {
        map[old] = Some(new as u8);
    }
    let sample_len: usize = ds.shape.iter().product();
    let (train, _) = split_by(&ds.train, &map, sample_len);
    let (test, held_out) = split_by(&ds.test, &map, sample_len);
    for (split, what) in [(&train, "training"), (&test, "test")] {
        let mut seen = vec![false; classes.len()];
        for &l in &split.labels {
            seen[l as usize] = true;
        }
        if let Some(k) = seen.iter().position(|s| !s) {
            return Err(fail(format!(
                "data.classes keeps class {}, but the {what} split has no sample of it",
                classes[k]
            )));
        }
    }
    ds.train = train;
    ds.test = test;
    ds.classes = classes.len();
    Ok(held_out)
}

/// The samples of `split` whose class `map` keeps (relabelled) and the
/// others (labels unchanged), each in split order.
fn split_by(split: &Split, map: &[Option<u8>], sample_len: usize) -> (Split, Split) {
    let mut kept = Split {
        images: Vec::new(),
        labels: Vec::new(),
    };
    let mut other = kept.clone();
    for (i, &label) in split.labels.iter().enumerate() {
        let image = &split.images[i * sample_len..(i + 1) * sample_len];
        match map.get(label as usize).copied().flatten() {
            Some(new) => {
                kept.images.extend_from_slice(image);
                kept.labels.push(new);
            }
            None => {
                other.images.extend_from_slice(image);
                other.labels.push(label);
            }
        }
    }
    (kept, other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DatasetName;

    /// Five 1x1x1 images per split, labels 0..=4 (train) and 4..=0 (test),
    /// pixel = 10 * index.
    fn tiny() -> Dataset {
        let split = |labels: Vec<u8>| Split {
            images: (0..5).map(|i| 10 * i as u8).collect(),
            labels,
        };
        Dataset {
            name: DatasetName::Synthetic,
            classes: 5,
            shape: [1, 1, 1],
            train: split(vec![0, 1, 2, 3, 4]),
            test: split(vec![4, 3, 2, 1, 0]),
            source: None,
        }
    }

    #[test]
    fn kept_classes_are_relabelled_in_order_and_the_rest_held_out() {
        let mut ds = tiny();
        let held = keep_classes(&mut ds, &[1, 3]).unwrap();
        assert_eq!(ds.classes, 2);
        assert_eq!(ds.train.labels, vec![0, 1]);
        assert_eq!(ds.train.images, vec![10, 30]);
        // Test labels 4,3,2,1,0: class 3 (pixel 10) and class 1 (pixel 30).
        assert_eq!(ds.test.labels, vec![1, 0]);
        assert_eq!(ds.test.images, vec![10, 30]);
        assert_eq!(held.labels, vec![4, 2, 0]);
        assert_eq!(held.images, vec![0, 20, 40]);
    }

    #[test]
    fn a_class_out_of_range_or_without_samples_is_an_error() {
        let err = keep_classes(&mut tiny(), &[0, 5]).unwrap_err().to_string();
        assert!(
            err.contains("lists class 5") && err.contains("0..=4"),
            "{err}"
        );
        let mut ds = tiny();
        ds.train.labels = vec![0, 0, 0, 0, 0];
        let err = keep_classes(&mut ds, &[0, 2]).unwrap_err().to_string();
        assert!(
            err.contains("keeps class 2") && err.contains("training"),
            "{err}"
        );
    }
}
