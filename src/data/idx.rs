//! The IDX reader: MNIST and Fashion-MNIST image and label files, gzip or raw.
//!
//! An IDX file is a big-endian header (magic `0x000008NN`, where `NN` is the
//! number of dimensions, then one `u32` per dimension) followed by exactly the
//! declared number of `u8` values. Gzip is recognised by its magic bytes, not
//! the file name. Every size is checked against the bytes actually present
//! before anything is allocated for it, so a hostile or damaged header can
//! neither panic nor exhaust memory; anything wrong is an [`Error::Data`]
//! naming the file. This room knows file formats only; which directory holds
//! the files is decided in [`super::load`].

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::GzDecoder;

use super::Split;
use crate::{Error, Result};

/// Stems of the four files of an MNIST-style directory; each may end in `.gz`.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// Magic number of an IDX file of unsigned bytes with three dimensions.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with one dimension.
pub const LABELS_MAGIC: u32 = 0x0000_0801;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The four files of an MNIST-style directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxFiles {
    pub train_images: PathBuf,
    pub train_labels: PathBuf,
    pub test_images: PathBuf,
    pub test_labels: PathBuf,
}

/// Finds `<stem>.gz` or `<stem>` in `dir`, preferring the compressed file.
pub fn find(dir: &Path, stem: &str) -> Option<PathBuf> {
    [format!("{stem}.gz"), stem.to_string()]
        .into_iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// The four IDX files in `dir`, or the names of those missing (as `stem[.gz]`).
pub fn locate(dir: &Path) -> std::result::Result<IdxFiles, Vec<String>> {
    let found = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS].map(|s| find(dir, s));
    match found {
        [Some(train_images), Some(train_labels), Some(test_images), Some(test_labels)] => {
            Ok(IdxFiles {
                train_images,
                train_labels,
                test_images,
                test_labels,
            })
        }
        _ => Err([TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS]
            .iter()
            .zip(&found)
            .filter(|(_, f)| f.is_none())
            .map(|(stem, _)| format!("{stem}[.gz]"))
            .collect()),
    }
}

/// Reads an IDX images file: `(n, rows, cols, pixels)` with `pixels.len() ==
/// n * rows * cols`, row-major, one byte per pixel.
pub fn read_images(path: &Path) -> Result<(usize, usize, usize, Vec<u8>)> {
    let (dims, pixels) = read_idx(path, Kind::Images)?;
    Ok((dims[0], dims[1], dims[2], pixels))
}

/// Reads an IDX labels file: one byte per item.
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    let (_, labels) = read_idx(path, Kind::Labels)?;
    Ok(labels)
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Images,
    Labels,
}

impl Kind {
    fn magic(self) -> u32 {
        match self {
            Kind::Images => IMAGES_MAGIC,
            Kind::Labels => LABELS_MAGIC,
        }
    }
    fn ndims(self) -> usize {
        match self {
            Kind::Images => 3,
            Kind::Labels => 1,
        }
    }
    fn header_len(self) -> usize {
        4 + 4 * self.ndims()
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Images => "IDX images",
            Kind::Labels => "IDX labels",
        }
    }
    /// "60000 images of 28x28" / "60000 labels", for messages.
    fn describe(self, dims: &[usize]) -> String {
        match (self, dims) {
            (Kind::Images, [n, rows, cols]) => format!("{n} images of {rows}x{cols}"),
            (_, [n, ..]) => format!("{n} labels"),
            (_, []) => String::from("nothing"),
        }
    }
}

fn data_err(path: &Path, msg: impl Into<String>) -> Error {
    Error::Data {
        file: path.to_path_buf(),
        msg: msg.into(),
    }
}

/// Reads and checks a whole IDX file; returns its dimensions and payload.
fn read_idx(path: &Path, kind: Kind) -> Result<(Vec<usize>, Vec<u8>)> {
    let bytes = fs::read(path).map_err(|e| Error::read(path, e))?;
    if bytes.is_empty() {
        return Err(data_err(path, "empty file"));
    }
    if bytes.starts_with(&GZIP_MAGIC) {
        read_gzip(path, kind, &bytes)
    } else {
        read_raw(path, kind, bytes)
    }
}

fn read_raw(path: &Path, kind: Kind, mut bytes: Vec<u8>) -> Result<(Vec<usize>, Vec<u8>)> {
    let hlen = kind.header_len();
    let header = bytes.get(..hlen).unwrap_or(&bytes);
    let dims = parse_header(header, kind, false).map_err(|m| data_err(path, m))?;
    let total = total_len(kind, &dims).map_err(|m| data_err(path, m))?;
    if bytes.len() != total {
        let what = if bytes.len() < total {
            "truncated"
        } else {
            "trailing bytes after the data"
        };
        return Err(data_err(
            path,
            format!(
                "{what}: header says {} ({total} bytes), file has {}",
                kind.describe(&dims),
                bytes.len()
            ),
        ));
    }
    bytes.drain(..hlen);
    Ok((dims, bytes))
}

fn read_gzip(path: &Path, kind: Kind, bytes: &[u8]) -> Result<(Vec<usize>, Vec<u8>)> {
    let gz_err = |e: io::Error| data_err(path, format!("corrupt or truncated gzip stream: {e}"));
    let mut decoder = Members(GzDecoder::new(bytes));
    let hlen = kind.header_len();
    let mut header = Vec::with_capacity(hlen);
    (&mut decoder)
        .take(hlen as u64)
        .read_to_end(&mut header)
        .map_err(gz_err)?;
    if header.is_empty() {
        return Err(data_err(path, "gzip stream decompresses to nothing"));
    }
    let dims = parse_header(&header, kind, true).map_err(|m| data_err(path, m))?;
    let total = total_len(kind, &dims).map_err(|m| data_err(path, m))?;
    let payload_len = total - hlen;
    // Read one byte past the declared payload to detect trailing data without
    // decompressing an arbitrarily long stream; the buffer grows only as real
    // data arrives, so a huge header count cannot allocate ahead of it.
    let mut payload = Vec::new();
    (&mut decoder)
        .take((payload_len as u64).saturating_add(1))
        .read_to_end(&mut payload)
        .map_err(gz_err)?;
    if payload.len() != payload_len {
        let (what, has) = if payload.len() < payload_len {
            ("truncated", format!("{}", hlen + payload.len()))
        } else {
            (
                "trailing bytes after the data",
                format!("more than {total}"),
            )
        };
        return Err(data_err(
            path,
            format!(
                "{what}: header says {} ({total} bytes), decompressed stream has {has}",
                kind.describe(&dims)
            ),
        ));
    }
    Ok((dims, payload))
}

/// Gzip members back to back, decompressed as one stream (as `gunzip` and
/// `bgzip` files need); bytes after the last member that do not start another
/// one are an error saying so, rather than a confusing bad-header error.
struct Members<'a>(GzDecoder<&'a [u8]>);

impl Read for Members<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.0.read(buf)?;
            let rest: &[u8] = self.0.get_ref();
            if n > 0 || buf.is_empty() || rest.is_empty() {
                return Ok(n);
            }
            if !rest.starts_with(&GZIP_MAGIC) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} bytes of non-gzip data after the end of the gzip stream",
                        rest.len()
                    ),
                ));
            }
            self.0 = GzDecoder::new(rest);
        }
    }
}

/// Checks the magic number and returns the dimensions. `header` holds at most
/// the header's bytes; fewer means the file ends inside the header.
fn parse_header(header: &[u8], kind: Kind, gz: bool) -> std::result::Result<Vec<usize>, String> {
    let hlen = kind.header_len();
    if header.len() >= 2 && header[..2] != [0, 0] {
        return Err(if gz {
            format!(
                "gzip stream does not hold IDX data (starts with 0x{:02x} 0x{:02x})",
                header[0], header[1]
            )
        } else {
            format!(
                "not gzip or raw IDX (starts with 0x{:02x} 0x{:02x})",
                header[0], header[1]
            )
        });
    }
    let word = |i: usize| -> Option<u32> {
        let b = header.get(4 * i..4 * i + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    if let Some(magic) = word(0) {
        if magic != kind.magic() {
            return Err(format!(
                "bad magic number 0x{magic:08x}, expected 0x{:08x} ({})",
                kind.magic(),
                kind.name()
            ));
        }
    }
    if header.len() < hlen {
        return Err(format!(
            "truncated header: {} has {} bytes, the {} header needs {hlen}",
            if gz { "decompressed stream" } else { "file" },
            header.len(),
            kind.name()
        ));
    }
    (1..=kind.ndims())
        .map(|i| {
            word(i)
                .and_then(|w| usize::try_from(w).ok())
                .ok_or_else(|| "header dimension does not fit in memory".to_string())
        })
        .collect()
}

/// Header plus payload length in bytes, without overflowing.
fn total_len(kind: Kind, dims: &[usize]) -> std::result::Result<usize, String> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .and_then(|payload| payload.checked_add(kind.header_len()))
        .ok_or_else(|| {
            format!(
                "header says {}, which overflows any possible file size",
                kind.describe(dims)
            )
        })
}

/// Reads one split from an images file and a labels file, checking that the
/// counts agree and every label is `< classes`. Returns the split and the
/// image shape `[1, rows, cols]`.
pub fn read_split(images: &Path, labels: &Path, classes: usize) -> Result<(Split, [usize; 3])> {
    let (n, rows, cols, pixels) = read_images(images)?;
    let label_bytes = read_labels(labels)?;
    if label_bytes.len() != n {
        return Err(data_err(
            labels,
            format!(
                "labels file has {} items but images file '{}' has {n}",
                label_bytes.len(),
                images.display()
            ),
        ));
    }
    check_labels(labels, &label_bytes, classes)?;
    Ok((
        Split {
            images: pixels,
            labels: label_bytes,
        },
        [1, rows, cols],
    ))
}

/// Errors on the first label `>= classes`, naming `file` and the index.
pub(crate) fn check_labels(file: &Path, labels: &[u8], classes: usize) -> Result<()> {
    match labels.iter().position(|&l| usize::from(l) >= classes) {
        Some(i) => Err(data_err(
            file,
            format!("label {} at index {i} >= {classes} classes", labels[i]),
        )),
        None => Ok(()),
    }
}
