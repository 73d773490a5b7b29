//! The CIFAR reader: the "binary version" batches of CIFAR-10 and CIFAR-100.
//!
//! The batches are read from the directory the publisher's archive unpacks
//! to, or straight from the archive itself (`cifar-10-binary.tar.gz`,
//! `cifar-100-binary.tar.gz`, see [`super::tar`]) when they are not
//! unpacked. A batch file is a plain sequence of fixed-size records: the label byte(s)
//! then 3072 pixel bytes, already in `[3, 32, 32]` (CHW) order. CIFAR-10 has
//! one label byte; CIFAR-100 has two (coarse, then fine) and lossbench uses
//! the fine label (100 classes). A file whose size is not a whole number of
//! records, or with a label out of range, is an [`Error::Data`] naming it.
//! Which directory to look in is decided in [`super::load`].

use std::fs;
use std::path::{Path, PathBuf};

use super::Split;
use crate::{Error, Result};

/// Pixel bytes per image: `3 * 32 * 32`.
pub const IMAGE_BYTES: usize = 3 * 32 * 32;
/// `[C, H, W]` of every CIFAR image.
pub const SHAPE: [usize; 3] = [3, 32, 32];

/// Which CIFAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Cifar10,
    Cifar100,
}

impl Variant {
    pub fn classes(self) -> usize {
        match self {
            Variant::Cifar10 => 10,
            Variant::Cifar100 => 100,
        }
    }

    /// The publisher's archive of the binary version.
    pub fn archive(self) -> &'static str {
        match self {
            Variant::Cifar10 => "cifar-10-binary.tar.gz",
            Variant::Cifar100 => "cifar-100-binary.tar.gz",
        }
    }

    /// The subdirectory the official archive unpacks to.
    pub fn subdir(self) -> &'static str {
        match self {
            Variant::Cifar10 => "cifar-10-batches-bin",
            Variant::Cifar100 => "cifar-100-binary",
        }
    }

    pub fn train_files(self) -> &'static [&'static str] {
        match self {
            Variant::Cifar10 => &[
                "data_batch_1.bin",
                "data_batch_2.bin",
                "data_batch_3.bin",
                "data_batch_4.bin",
                "data_batch_5.bin",
            ],
            Variant::Cifar100 => &["train.bin"],
        }
    }

    pub fn test_file(self) -> &'static str {
        match self {
            Variant::Cifar10 => "test_batch.bin",
            Variant::Cifar100 => "test.bin",
        }
    }

    /// Label bytes at the start of each record (the last one is used).
    pub fn label_bytes(self) -> usize {
        match self {
            Variant::Cifar10 => 1,
            Variant::Cifar100 => 2,
        }
    }

    /// Bytes per record: label byte(s) plus [`IMAGE_BYTES`].
    pub fn record_len(self) -> usize {
        self.label_bytes() + IMAGE_BYTES
    }

    fn all_files(self) -> impl Iterator<Item = &'static str> {
        self.train_files()
            .iter()
            .copied()
            .chain(std::iter::once(self.test_file()))
    }

    fn missing_in(self, dir: &Path) -> Vec<String> {
        self.all_files()
            .filter(|f| !dir.join(f).is_file())
            .map(String::from)
            .collect()
    }
}

/// The directory holding every batch file: `dir` itself or
/// `dir/<subdir>`, or else `dir` if it holds the publisher's archive
/// ([`Variant::archive`]). Otherwise the files missing (from the
/// subdirectory if it exists, else from `dir`).
pub fn locate(dir: &Path, variant: Variant) -> std::result::Result<PathBuf, Vec<String>> {
    let missing = variant.missing_in(dir);
    if missing.is_empty() {
        return Ok(dir.to_path_buf());
    }
    let sub = dir.join(variant.subdir());
    let unpacked = sub.is_dir() && variant.missing_in(&sub).is_empty();
    if !unpacked && dir.join(variant.archive()).is_file() {
        return Ok(dir.to_path_buf());
    }
    if !sub.is_dir() {
        let mut missing = missing;
        missing.push(format!("or {}", variant.archive()));
        return Err(missing);
    }
    let missing_sub = variant.missing_in(&sub);
    if missing_sub.is_empty() {
        Ok(sub)
    } else {
        Err(missing_sub
            .into_iter()
            .map(|f| format!("{}/{f}", variant.subdir()))
            .collect())
    }
}

/// Reads one batch file into a split, checking its size and labels.
pub fn read_batch(path: &Path, variant: Variant) -> Result<Split> {
    let bytes = fs::read(path).map_err(|e| Error::read(path, e))?;
    parse_batch(path, "", &bytes, variant)
}

/// Splits a batch's bytes into records. Errors name `path`, and `member`
/// (a prefix such as "member 'test.bin': ") says where in it.
fn parse_batch(path: &Path, member: &str, bytes: &[u8], variant: Variant) -> Result<Split> {
    let record = variant.record_len();
    let data_err = |msg: String| Error::Data {
        file: path.to_path_buf(),
        msg: format!("{member}{msg}"),
    };
    if bytes.is_empty() {
        return Err(data_err("empty file (no records)".to_string()));
    }
    if !bytes.len().is_multiple_of(record) {
        return Err(data_err(format!(
            "size {} bytes is not a multiple of the {record}-byte record \
             ({} label byte(s) + {IMAGE_BYTES} pixels): {} whole records and {} bytes left over",
            bytes.len(),
            variant.label_bytes(),
            bytes.len() / record,
            bytes.len() % record
        )));
    }
    let n = bytes.len() / record;
    let mut images = Vec::with_capacity(n * IMAGE_BYTES);
    let mut labels = Vec::with_capacity(n);
    for rec in bytes.chunks_exact(record) {
        let (label, pixels) = rec.split_at(variant.label_bytes());
        labels.push(label[variant.label_bytes() - 1]);
        images.extend_from_slice(pixels);
    }
    super::idx::check_labels(path, &labels, variant.classes()).map_err(|e| match e {
        Error::Data { file, msg } => Error::Data {
            file,
            msg: format!("{member}{msg}"),
        },
        other => other,
    })?;
    Ok(Split { images, labels })
}

/// Reads the train and test splits from `dir` (see [`locate`]): from the
/// batch files in it, or else from the archive in it.
pub fn read(dir: &Path, variant: Variant) -> Result<(Split, Split)> {
    if !variant.missing_in(dir).is_empty() && dir.join(variant.archive()).is_file() {
        return read_archive(&dir.join(variant.archive()), variant);
    }
    let mut train = Split {
        images: Vec::new(),
        labels: Vec::new(),
    };
    for file in variant.train_files() {
        let batch = read_batch(&dir.join(file), variant)?;
        train.images.extend_from_slice(&batch.images);
        train.labels.extend_from_slice(&batch.labels);
    }
    let test = read_batch(&dir.join(variant.test_file()), variant)?;
    Ok((train, test))
}

/// Reads the train and test splits straight from the publisher's archive.
pub fn read_archive(archive: &Path, variant: Variant) -> Result<(Split, Split)> {
    let names: Vec<&str> = variant.all_files().collect();
    let members = super::tar::read_members(archive, &names)?;
    let missing: Vec<&str> = names
        .iter()
        .zip(&members)
        .filter(|(_, m)| m.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Data {
            file: archive.to_path_buf(),
            msg: format!("the archive lacks {}", missing.join(", ")),
        });
    }
    let mut train = Split {
        images: Vec::new(),
        labels: Vec::new(),
    };
    let mut test = None;
    for (name, bytes) in names.iter().zip(members) {
        let bytes = bytes.unwrap_or_default();
        let batch = parse_batch(archive, &format!("member '{name}': "), &bytes, variant)?;
        if *name == variant.test_file() {
            test = Some(batch);
        } else {
            train.images.extend_from_slice(&batch.images);
            train.labels.extend_from_slice(&batch.labels);
        }
    }
    Ok((
        train,
        test.unwrap_or(Split {
            images: Vec::new(),
            labels: Vec::new(),
        }),
    ))
}
