//! Arbitrary bytes into every parser a user's file reaches: the suite
//! parser (and validation), the IDX reader (raw and gzip), the CIFAR
//! batch reader, the tar reader of the CIFAR archives and the MAT-file
//! reader of SVHN. Each must return `Ok` or an error, never panic or abort.
//! Inputs are both unstructured and mutations of a valid file, so the
//! cases reach past the first check. `PROPTEST_CASES` raises the count.

use std::io::Write;
use std::path::Path;

use lossbench::data::cifar::{self, Variant};
use lossbench::data::{idx, mat, tar};
use lossbench::suite::Suite;
use proptest::prelude::*;

/// A valid suite to mutate.
const SUITE: &str = include_str!("fixtures/e2e.yaml");

fn cases(default: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Edits to a byte string: (position, byte, kind: 0 replace, 1 insert, 2 delete).
fn mutations() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..12)
}

fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut out = base.to_vec();
    for &(at, byte, kind) in edits {
        let at = at % (out.len() + 1);
        match kind {
            0 if at < out.len() => out[at] = byte,
            2 if at < out.len() => {
                out.remove(at);
            }
            _ => out.insert(at, byte),
        }
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A small valid IDX image file (`n` images of 4x4).
fn idx_images(n: u32) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3];
    for d in [n, 4, 4] {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend((0..n * 16).map(|i| i as u8));
    b
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn suite_parser_takes_any_text(text in ".{0,400}") {
        let _ = Suite::parse(&text, Path::new("fuzz.yaml"));
    }

    #[test]
    fn suite_parser_takes_any_edit_of_a_valid_suite(edits in mutations()) {
        let bytes = mutate(SUITE.as_bytes(), &edits);
        let tmp = tempfile::tempdir().unwrap();
        let _ = Suite::load(&write(tmp.path(), "s.yaml", &bytes));
    }

    #[test]
    fn idx_reader_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200), gz in any::<bool>()) {
        let tmp = tempfile::tempdir().unwrap();
        let bytes = if gz { gzip(&bytes) } else { bytes };
        let p = write(tmp.path(), "f", &bytes);
        let _ = idx::read_images(&p);
        let _ = idx::read_labels(&p);
    }

    #[test]
    fn idx_reader_takes_any_edit_of_a_valid_file(edits in mutations(), gz in any::<bool>()) {
        let tmp = tempfile::tempdir().unwrap();
        let bytes = mutate(&idx_images(3), &edits);
        let bytes = if gz { gzip(&bytes) } else { bytes };
        let p = write(tmp.path(), "f", &bytes);
        let _ = idx::read_images(&p);
        let _ = idx::read_labels(&p);
    }

    #[test]
    fn cifar_reader_takes_any_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..8000),
        hundred in any::<bool>(),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let variant = if hundred { Variant::Cifar100 } else { Variant::Cifar10 };
        // A whole record now and then, so the label checks run.
        let len = variant.record_len();
        let bytes = if bytes.len() > 7000 { bytes.iter().copied().cycle().take(len * 2).collect() } else { bytes };
        let _ = cifar::read_batch(&write(tmp.path(), "b.bin", &bytes), variant);
    }

    #[test]
    fn mat_reader_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400), mark in any::<bool>()) {
        // With a valid header now and then, so the element parser runs.
        let mut bytes = bytes;
        if mark && bytes.len() >= 128 {
            bytes[124..128].copy_from_slice(&[0, 1, b'I', b'M']);
        }
        let _ = mat::parse(&bytes, &["X", "y"]);
    }

    #[test]
    fn mat_reader_takes_any_edit_of_a_valid_file(edits in mutations(), compressed in any::<bool>()) {
        let base: &[u8] = if compressed { MAT_COMPRESSED } else { MAT_PLAIN };
        // Edits near the start reach the header and the tags.
        let edits: Vec<_> = edits.into_iter().map(|(at, b, k)| (at % 400, b, k)).collect();
        let _ = mat::parse(&mutate(base, &edits), &["X", "y"]);
    }

    #[test]
    fn tar_reader_takes_any_edit_of_a_valid_archive(edits in mutations()) {
        let archive = crate::common::tar(&[
            ("d/a.bin", vec![1u8; 700]),
            ("d/b.bin", vec![2u8; 10]),
        ]);
        let edits: Vec<_> = edits.into_iter().map(|(at, b, k)| (at % 1600, b, k)).collect();
        let bytes = mutate(&archive, &edits);
        let _ = tar::members(&mut bytes.as_slice(), &["a.bin", "b.bin"]);
    }
}

/// SVHN-format files written by scipy (`tests/reference/svhn_ref.py`).
const MAT_PLAIN: &[u8] = include_bytes!("fixtures/svhn/test_32x32.mat");
const MAT_COMPRESSED: &[u8] = include_bytes!("fixtures/svhn/train_32x32.mat");
