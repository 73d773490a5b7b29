//! The readers of the publishers' formats not covered by `data_readers`:
//! SVHN's MAT files (a fixture written by scipy, `tests/reference/svhn_ref.py`,
//! and files built here byte by byte, in both byte orders), KMNIST's IDX
//! files, and the CIFAR archives read without unpacking them.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use lossbench::data::{self, cifar, mat, svhn, DataSpec, DatasetName, SyntheticSpec};
use lossbench::Error;

use crate::common::tar_gz;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/svhn")
}

fn spec(dataset: DatasetName, path: &Path) -> DataSpec {
    DataSpec {
        dataset,
        path: Some(path.to_path_buf()),
        train_subset: None,
        test_subset: None,
        attack_subset: None,
        classes: None,
        synthetic: SyntheticSpec::default(),
    }
}

fn assert_data_err(err: Error, file: &Path, needle: &str) {
    match err {
        Error::Data { file: f, msg } => {
            assert_eq!(f, file, "{msg}");
            assert!(msg.contains(needle), "'{needle}' not in: {msg}");
        }
        other => panic!(
            "expected a data error naming {}, got {other:?}",
            file.display()
        ),
    }
}

#[test]
fn svhn_files_written_by_scipy_read_as_scipy_reads_them() {
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/svhn_ref.json"),
    )
    .unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let loaded = data::load(&spec(DatasetName::Svhn, &fixtures())).unwrap();
    assert_eq!(loaded.shape, [3, 32, 32]);
    assert_eq!(loaded.classes, 10);
    for (split, file) in [
        (&loaded.train, svhn::TRAIN_FILE),
        (&loaded.test, svhn::TEST_FILE),
    ] {
        let r = &reference[file];
        let n = r["n"].as_u64().unwrap() as usize;
        let images: Vec<u8> = r["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u8)
            .collect();
        let labels: Vec<u8> = r["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(split.len(), n, "{file}");
        assert_eq!(split.labels, labels, "{file}: 10 is the digit 0");
        assert_eq!(split.images.len(), n * 3072);
        assert!(split.images == images, "{file}: pixels differ from scipy's");
        assert_eq!(split.labels[0], 0, "the fixture's first label is SVHN's 10");
    }
}

/// A value of a hand-built MAT variable.
enum Values {
    U8(Vec<u8>),
    U16(Vec<u16>),
    F64(Vec<f64>),
}

struct Var<'a> {
    name: &'a str,
    class: u8,
    dims: Vec<u32>,
    values: Values,
}

/// An uncompressed Level 5 MAT file in either byte order, with the variable
/// names in regular (not small) elements.
fn mat_file(big: bool, vars: &[Var]) -> Vec<u8> {
    let u32b = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let element = |ty: u32, data: &[u8]| {
        let mut e = Vec::new();
        e.extend_from_slice(&u32b(ty));
        e.extend_from_slice(&u32b(data.len() as u32));
        e.extend_from_slice(data);
        e.resize(e.len().div_ceil(8) * 8, 0);
        e
    };
    let mut out = vec![b' '; 116];
    out[..19].copy_from_slice(b"MATLAB 5.0 MAT-file");
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&if big {
        0x0100u16.to_be_bytes()
    } else {
        0x0100u16.to_le_bytes()
    });
    out.extend_from_slice(if big { b"MI" } else { b"IM" });
    for v in vars {
        let mut m = Vec::new();
        let mut flags = u32b(u32::from(v.class)).to_vec();
        flags.extend_from_slice(&[0; 4]);
        m.extend(element(6, &flags));
        let dims: Vec<u8> = v.dims.iter().flat_map(|&d| u32b(d)).collect();
        m.extend(element(5, &dims));
        m.extend(element(1, v.name.as_bytes()));
        let (ty, data): (u32, Vec<u8>) = match &v.values {
            Values::U8(b) => (2, b.clone()),
            Values::U16(x) => (
                4,
                x.iter()
                    .flat_map(|&v| {
                        if big {
                            v.to_be_bytes()
                        } else {
                            v.to_le_bytes()
                        }
                    })
                    .collect(),
            ),
            Values::F64(x) => (
                9,
                x.iter()
                    .flat_map(|&v| {
                        if big {
                            v.to_be_bytes()
                        } else {
                            v.to_le_bytes()
                        }
                    })
                    .collect(),
            ),
        };
        m.extend(element(ty, &data));
        out.extend(element(14, &m));
    }
    out
}

/// `n` SVHN images in MATLAB's order: value of (row, col, channel, sample).
fn svhn_x(n: usize) -> Vec<u8> {
    let mut x = vec![0u8; 3072 * n];
    for s in 0..n {
        for ch in 0..3 {
            for col in 0..32 {
                for row in 0..32 {
                    x[row + 32 * col + 1024 * ch + 3072 * s] = pixel(s, ch, row, col);
                }
            }
        }
    }
    x
}

fn pixel(s: usize, ch: usize, row: usize, col: usize) -> u8 {
    ((s * 61 + ch * 83 + row * 3 + col * 7) % 256) as u8
}

fn svhn_vars(n: usize, labels: Values) -> Vec<Var<'static>> {
    vec![
        Var {
            name: "X",
            class: mat::class::UINT8,
            dims: vec![32, 32, 3, n as u32],
            values: Values::U8(svhn_x(n)),
        },
        Var {
            name: "y",
            class: mat::class::DOUBLE,
            dims: vec![n as u32, 1],
            values: labels,
        },
    ]
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

#[test]
fn svhn_reads_both_byte_orders_and_narrow_label_types_into_chw() {
    let tmp = tempfile::tempdir().unwrap();
    for big in [false, true] {
        // MATLAB may store a double array of small whole numbers as uint16.
        let vars = svhn_vars(3, Values::U16(vec![10, 3, 9]));
        let path = write(&tmp.path().join("t.mat"), &mat_file(big, &vars));
        let split = svhn::read_file(&path).unwrap();
        assert_eq!(split.labels, vec![0, 3, 9], "big-endian: {big}");
        for s in 0..3 {
            for ch in 0..3 {
                for row in 0..32 {
                    for col in 0..32 {
                        assert_eq!(
                            split.images[s * 3072 + ch * 1024 + row * 32 + col],
                            pixel(s, ch, row, col),
                            "sample {s} channel {ch} ({row}, {col}), big-endian {big}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn svhn_errors_name_the_file_and_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("bad.mat");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"MATLAB".to_vec(),
            "shorter than the 128-byte MAT-file header",
        ),
        (
            {
                let mut b = mat_file(false, &svhn_vars(1, Values::F64(vec![1.0])));
                b[126] = b'X';
                b
            },
            "byte-order mark",
        ),
        (
            {
                let mut b = mat_file(false, &svhn_vars(1, Values::F64(vec![1.0])));
                b[124..126].copy_from_slice(&0x0200u16.to_le_bytes());
                b
            },
            "-v7.3",
        ),
        (
            {
                let b = mat_file(false, &svhn_vars(2, Values::F64(vec![1.0, 2.0])));
                b[..b.len() - 3000].to_vec()
            },
            "truncated",
        ),
        (
            mat_file(
                false,
                &[
                    Var {
                        name: "X",
                        class: mat::class::UINT8,
                        dims: vec![32, 32, 1, 2],
                        values: Values::U8(vec![0; 2048]),
                    },
                    svhn_vars(2, Values::F64(vec![1.0, 2.0])).remove(1),
                ],
            ),
            "X is 32x32x1x2, expected 32x32x3xN",
        ),
        (
            mat_file(false, &svhn_vars(2, Values::F64(vec![1.0, 11.0]))),
            "label 11 at index 1 is not a digit label 1..=10",
        ),
        (
            mat_file(false, &svhn_vars(2, Values::F64(vec![1.0, 2.5]))),
            "label 2.5 at index 1",
        ),
        (
            mat_file(false, &svhn_vars(2, Values::F64(vec![1.0, 2.0, 3.0]))),
            "holds 24 bytes of miDOUBLE (3 elements)",
        ),
        (
            {
                let mut vars = svhn_vars(2, Values::F64(vec![1.0, 2.0]));
                vars.truncate(1);
                mat_file(false, &vars)
            },
            "no variable y",
        ),
        (
            {
                let mut vars = svhn_vars(2, Values::F64(vec![1.0, 2.0]));
                vars[0].class = mat::class::DOUBLE;
                mat_file(false, &vars)
            },
            "X is a double array, expected uint8",
        ),
    ];
    for (bytes, needle) in cases {
        write(&p, &bytes);
        assert_data_err(svhn::read_file(&p).unwrap_err(), &p, needle);
    }
    // y with one label too few for X.
    let mut vars = svhn_vars(2, Values::F64(vec![1.0]));
    vars[1].dims = vec![1, 1];
    write(&p, &mat_file(false, &vars));
    assert_data_err(
        svhn::read_file(&p).unwrap_err(),
        &p,
        "y is 1x1, expected 2x1",
    );
}

#[test]
fn svhn_truncated_compressed_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let good = fs::read(fixtures().join(svhn::TRAIN_FILE)).unwrap();
    let p = write(&tmp.path().join(svhn::TRAIN_FILE), &good[..good.len() / 2]);
    assert_data_err(svhn::read_file(&p).unwrap_err(), &p, "truncated");
    // A directory with the train file only names the missing one.
    let err = data::load(&spec(DatasetName::Svhn, tmp.path())).unwrap_err();
    assert!(err.to_string().contains(svhn::TEST_FILE), "{err}");
}

fn idx_gz(magic: u8, dims: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, magic];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(payload);
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(&b).unwrap();
    e.finish().unwrap()
}

#[test]
fn kmnist_reads_its_idx_files_and_names_its_classes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let pixels = |n: usize| (0..n * 784).map(|i| (i % 253) as u8).collect::<Vec<u8>>();
    write(
        &d.join("train-images-idx3-ubyte.gz"),
        &idx_gz(3, &[3, 28, 28], &pixels(3)),
    );
    write(
        &d.join("train-labels-idx1-ubyte.gz"),
        &idx_gz(1, &[3], &[9, 0, 4]),
    );
    write(
        &d.join("t10k-images-idx3-ubyte.gz"),
        &idx_gz(3, &[2, 28, 28], &pixels(2)),
    );
    write(
        &d.join("t10k-labels-idx1-ubyte.gz"),
        &idx_gz(1, &[2], &[1, 2]),
    );
    let k = data::load(&spec(DatasetName::Kmnist, d)).unwrap();
    assert_eq!((k.shape, k.classes), ([1, 28, 28], 10));
    assert_eq!(k.train.labels, vec![9, 0, 4]);
    assert_eq!(k.train.images, pixels(3));
    assert_eq!(k.test.labels, vec![1, 2]);
    assert_eq!(data::class_name("kmnist", 0), Some("o"));
    assert_eq!(data::class_name("kmnist", 9), Some("wo"));
    assert_eq!(data::class_name("svhn", 0), None);
    // A bad magic number names the file.
    let bad = write(
        &d.join("t10k-labels-idx1-ubyte.gz"),
        &idx_gz(3, &[2], &[1, 2]),
    );
    assert_data_err(
        data::load(&spec(DatasetName::Kmnist, d)).unwrap_err(),
        &bad,
        "bad magic number",
    );
}

/// `n` CIFAR records: label bytes `labels(i)` then 3072 pixels.
fn records(n: usize, offset: usize, label_bytes: impl Fn(usize) -> Vec<u8>) -> Vec<u8> {
    let mut b = Vec::new();
    for i in 0..n {
        b.extend(label_bytes(offset + i));
        b.extend((0..3072).map(|p| ((p + 13 * (offset + i)) % 256) as u8));
    }
    b
}

#[test]
fn cifar10_reads_straight_from_the_publishers_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let v = cifar::Variant::Cifar10;
    let mut members: Vec<(String, Vec<u8>)> = (0..5)
        .map(|i| {
            (
                format!("cifar-10-batches-bin/data_batch_{}.bin", i + 1),
                records(2, 2 * i, |j| vec![(j % 10) as u8]),
            )
        })
        .collect();
    members.insert(
        2,
        (
            "cifar-10-batches-bin/readme.html".into(),
            b"<html>".to_vec(),
        ),
    );
    members.push((
        "cifar-10-batches-bin/test_batch.bin".into(),
        records(3, 100, |j| vec![(j % 10) as u8]),
    ));
    let refs: Vec<(&str, Vec<u8>)> = members
        .iter()
        .map(|(n, d)| (n.as_str(), d.clone()))
        .collect();
    let archive = write(&tmp.path().join(v.archive()), &tar_gz(&refs));
    let c = data::load(&spec(DatasetName::Cifar10, tmp.path())).unwrap();
    assert_eq!((c.train.len(), c.test.len(), c.classes), (10, 3, 10));
    assert_eq!(c.train.labels, (0..10).map(|j| j as u8).collect::<Vec<_>>());
    assert_eq!(c.test.labels, vec![0, 1, 2]);
    let expect_train: Vec<u8> = (0..5)
        .flat_map(|i| records(2, 2 * i, |_| Vec::new()))
        .collect();
    assert!(
        c.train.images == expect_train,
        "train pixels in batch order"
    );
    assert!(c.test.images == records(3, 100, |_| Vec::new()));

    // What the system's tar writes reads the same, if there is one.
    let unpacked = tmp.path().join("unpacked");
    fs::create_dir_all(unpacked.join(v.subdir())).unwrap();
    for (name, bytes) in &members {
        write(&unpacked.join(name), bytes);
    }
    let by_tar = tmp.path().join("by-tar");
    fs::create_dir_all(&by_tar).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(by_tar.join(v.archive()))
        .arg("-C")
        .arg(&unpacked)
        .arg(v.subdir())
        .status();
    if matches!(status, Ok(s) if s.success()) {
        let t = data::load(&spec(DatasetName::Cifar10, &by_tar)).unwrap();
        assert_eq!(
            t,
            data::Dataset {
                source: t.source.clone(),
                ..c.clone()
            }
        );
    }

    // Damaged archives name the archive.
    let bytes = fs::read(&archive).unwrap();
    write(&archive, &bytes[..bytes.len() / 2]);
    assert_data_err(
        data::load(&spec(DatasetName::Cifar10, tmp.path())).unwrap_err(),
        &archive,
        "truncated",
    );
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(&[7u8; 2048]).unwrap();
    write(&archive, &e.finish().unwrap());
    assert_data_err(
        data::load(&spec(DatasetName::Cifar10, tmp.path())).unwrap_err(),
        &archive,
        "not a tar archive",
    );
    write(&archive, &tar_gz(&refs[..3]));
    assert_data_err(
        data::load(&spec(DatasetName::Cifar10, tmp.path())).unwrap_err(),
        &archive,
        "lacks data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin",
    );
    // A bad record size names the member.
    let mut short = refs.clone();
    short[0].1.pop();
    write(&archive, &tar_gz(&short));
    assert_data_err(
        data::load(&spec(DatasetName::Cifar10, tmp.path())).unwrap_err(),
        &archive,
        "member 'data_batch_1.bin': size 6145 bytes",
    );
}

#[test]
fn cifar100_archive_uses_the_fine_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let v = cifar::Variant::Cifar100;
    // Coarse label 19 - j % 20, fine label (7 * j) % 100.
    let label = |j: usize| vec![(19 - j % 20) as u8, ((7 * j) % 100) as u8];
    let members = vec![
        (
            "cifar-100-binary/coarse_label_names.txt",
            b"aquatic_mammals\n".to_vec(),
        ),
        ("cifar-100-binary/train.bin", records(4, 0, label)),
        ("cifar-100-binary/test.bin", records(2, 50, label)),
    ];
    write(&tmp.path().join(v.archive()), &tar_gz(&members));
    let c = data::load(&spec(DatasetName::Cifar100, tmp.path())).unwrap();
    assert_eq!(c.classes, 100);
    assert_eq!(c.train.labels, vec![0, 7, 14, 21]);
    assert_eq!(c.test.labels, vec![50, 57]);
    // Unpacked batches win over the archive.
    let sub = tmp.path().join(v.subdir());
    fs::create_dir_all(&sub).unwrap();
    write(&sub.join("train.bin"), &records(1, 3, label));
    write(&sub.join("test.bin"), &records(1, 4, label));
    let c = data::load(&spec(DatasetName::Cifar100, tmp.path())).unwrap();
    assert_eq!(
        (c.train.labels.clone(), c.test.labels.clone()),
        (vec![21], vec![28])
    );
    assert_eq!(c.source.as_deref(), Some(sub.as_path()));
}

#[test]
fn a_data_path_named_after_the_dataset_says_how_to_fetch_into_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("svhn");
    let err = data::load(&spec(DatasetName::Svhn, &dir)).unwrap_err();
    assert_data_err(
        err,
        &dir,
        &format!(
            "`lossbench data fetch svhn --data-dir {}` downloads them there",
            tmp.path().display()
        ),
    );
    let other = tmp.path().join("elsewhere");
    let err = data::load(&spec(DatasetName::Svhn, &other)).unwrap_err();
    assert!(!err.to_string().contains("data fetch"), "{err}");
}
