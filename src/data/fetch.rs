//! Verified downloads of the real datasets: `lossbench data fetch <name>...`.
//!
//! Every file lossbench can download is listed in [`manifest`] with its
//! publisher's URL, its size and its SHA-256; a file is only ever put in
//! place after its hash matched. A download goes to `<file>.part` in the
//! dataset's directory and resumes from there with an HTTP `Range` request
//! (starting over when the server ignores the range); the finished part is
//! hashed, and renamed onto `<file>` only if the hash matches, so a file
//! under its real name is always a verified one. A part whose hash differs is
//! deleted. A lock file in the directory (`.lossbench-fetch.lock`) makes a
//! second fetch of the same dataset wait for the first instead of writing
//! the same part.
//!
//! Where files land: `<data dir>/<dataset>/`, the data dir being
//! `--data-dir`, else `$LOSSBENCH_DATA`, else `./data`: the first
//! directories of the lookup order ([`super::load`](mod@super::load)), so a suite finds what
//! was fetched. Mirrors: with `--mirror URL` (or `$LOSSBENCH_MIRROR`) every
//! file is fetched from `URL/<dataset>/<file>` instead of its publisher, the
//! layout of the data directory itself, so a copy of a data directory
//! served over HTTP is a mirror. The hashes do not change with the mirror.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::DatasetName;
use crate::error::IoOp;
use crate::{Error, Result};

/// Environment variable naming a mirror's base URL.
pub const MIRROR_ENV: &str = "LOSSBENCH_MIRROR";
/// The lock file in a dataset's directory while a fetch writes there.
pub const LOCK_FILE: &str = ".lossbench-fetch.lock";

/// One file of a dataset as its publisher distributes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteFile {
    /// The file's name in the dataset's directory (and on a mirror).
    pub name: String,
    /// The publisher's URL.
    pub url: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

fn file(name: &str, url: &str, size: u64, sha256: &str) -> RemoteFile {
    RemoteFile {
        name: name.to_string(),
        url: url.to_string(),
        size,
        sha256: sha256.to_string(),
    }
}

/// The files of `dataset` and their hashes, as lossbench ships them; empty
/// for `synthetic`.
///
/// Sizes and SHA-256 values are those TensorFlow Datasets records for the
/// same URLs (repository tensorflow/datasets, files
/// `tensorflow_datasets/url_checksums/<name>.txt`). The four Fashion-MNIST
/// hashes were also checked against Debian's `dataset-fashion-mnist` files,
/// which are the publisher's files with the gzip header's name and time
/// cleared (a test restores them and compares).
pub fn manifest(dataset: DatasetName) -> Vec<RemoteFile> {
    match dataset {
        // tensorflow/datasets: tensorflow_datasets/url_checksums/mnist.txt.
        // The original host (yann.lecun.com) often refuses downloads; this is
        // the copy TensorFlow Datasets and Keras use.
        DatasetName::Mnist => {
            let u = "https://storage.googleapis.com/cvdf-datasets/mnist/";
            vec![
                file(
                    "train-images-idx3-ubyte.gz",
                    &format!("{u}train-images-idx3-ubyte.gz"),
                    9_912_422,
                    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                ),
                file(
                    "train-labels-idx1-ubyte.gz",
                    &format!("{u}train-labels-idx1-ubyte.gz"),
                    28_881,
                    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                ),
                file(
                    "t10k-images-idx3-ubyte.gz",
                    &format!("{u}t10k-images-idx3-ubyte.gz"),
                    1_648_877,
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                ),
                file(
                    "t10k-labels-idx1-ubyte.gz",
                    &format!("{u}t10k-labels-idx1-ubyte.gz"),
                    4_542,
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                ),
            ]
        }
        // tensorflow/datasets: tensorflow_datasets/url_checksums/fashion_mnist.txt
        DatasetName::FashionMnist => {
            let u = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
            vec![
                file(
                    "train-images-idx3-ubyte.gz",
                    &format!("{u}train-images-idx3-ubyte.gz"),
                    26_421_880,
                    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                ),
                file(
                    "train-labels-idx1-ubyte.gz",
                    &format!("{u}train-labels-idx1-ubyte.gz"),
                    29_515,
                    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                ),
                file(
                    "t10k-images-idx3-ubyte.gz",
                    &format!("{u}t10k-images-idx3-ubyte.gz"),
                    4_422_102,
                    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                ),
                file(
                    "t10k-labels-idx1-ubyte.gz",
                    &format!("{u}t10k-labels-idx1-ubyte.gz"),
                    5_148,
                    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                ),
            ]
        }
        // tensorflow/datasets: tensorflow_datasets/url_checksums/kmnist.txt
        DatasetName::Kmnist => {
            let u = "http://codh.rois.ac.jp/kmnist/dataset/kmnist/";
            vec![
                file(
                    "train-images-idx3-ubyte.gz",
                    &format!("{u}train-images-idx3-ubyte.gz"),
                    18_165_135,
                    "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
                ),
                file(
                    "train-labels-idx1-ubyte.gz",
                    &format!("{u}train-labels-idx1-ubyte.gz"),
                    29_497,
                    "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
                ),
                file(
                    "t10k-images-idx3-ubyte.gz",
                    &format!("{u}t10k-images-idx3-ubyte.gz"),
                    3_041_136,
                    "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
                ),
                file(
                    "t10k-labels-idx1-ubyte.gz",
                    &format!("{u}t10k-labels-idx1-ubyte.gz"),
                    5_120,
                    "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
                ),
            ]
        }
        // tensorflow/datasets: tensorflow_datasets/url_checksums/cifar10.txt
        DatasetName::Cifar10 => vec![file(
            "cifar-10-binary.tar.gz",
            "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
            170_052_171,
            "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        )],
        // tensorflow/datasets: tensorflow_datasets/url_checksums/cifar100.txt
        DatasetName::Cifar100 => vec![file(
            "cifar-100-binary.tar.gz",
            "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
            168_513_733,
            "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
        )],
        // tensorflow/datasets: tensorflow_datasets/url_checksums/svhn_cropped.txt
        // (lossbench does not use extra_32x32.mat).
        DatasetName::Svhn => {
            let u = "http://ufldl.stanford.edu/housenumbers/";
            vec![
                file(
                    "train_32x32.mat",
                    &format!("{u}train_32x32.mat"),
                    182_040_794,
                    "435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8",
                ),
                file(
                    "test_32x32.mat",
                    &format!("{u}test_32x32.mat"),
                    64_275_384,
                    "cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b",
                ),
            ]
        }
        DatasetName::Synthetic => Vec::new(),
    }
}

/// The datasets lossbench can download.
pub fn fetchable() -> impl Iterator<Item = DatasetName> {
    DatasetName::ALL
        .iter()
        .copied()
        .filter(|d| !manifest(*d).is_empty())
}

/// Reads a manifest file that replaces the shipped list of some datasets:
/// JSON `{"<dataset>": [{"name", "url", "size", "sha256"}, ...], ...}`.
/// For tests and for mirrors of other versions of a dataset.
pub fn read_manifest(path: &Path) -> Result<Vec<(DatasetName, Vec<RemoteFile>)>> {
    let text = fs::read_to_string(path).map_err(|e| Error::io("cannot read manifest", path, e))?;
    let bad = |msg: String| Error::Data {
        file: path.to_path_buf(),
        msg,
    };
    let map: std::collections::BTreeMap<String, Vec<RemoteFile>> =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a fetch manifest: {e}")))?;
    map.into_iter()
        .map(|(name, files)| {
            let d = DatasetName::ALL
                .iter()
                .copied()
                .find(|d| d.name() == name)
                .ok_or_else(|| bad(format!("unknown dataset '{name}'")))?;
            for f in &files {
                check_name(&f.name).map_err(|m| bad(format!("{name}: {m}")))?;
                if f.sha256.len() != 64 || !f.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad(format!(
                        "{name}: '{}': sha256 must be 64 hex digits",
                        f.name
                    )));
                }
            }
            Ok((d, files))
        })
        .collect()
}

/// A file name must stay inside the dataset's directory.
fn check_name(name: &str) -> std::result::Result<(), String> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !name.ends_with(".part");
    if plain {
        Ok(())
    } else {
        Err(format!("file name '{name}' is not a plain file name"))
    }
}

/// The data directory fetches write to: `explicit`, else `$LOSSBENCH_DATA`,
/// else `./data`.
pub fn data_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(d) = explicit {
        return d.to_path_buf();
    }
    match std::env::var_os(super::load::ENV_VAR).filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from("data"),
    }
}

/// The mirror: `explicit`, else `$LOSSBENCH_MIRROR`, else none.
pub fn mirror(explicit: Option<&str>) -> Option<String> {
    explicit
        .map(str::to_string)
        .or_else(|| std::env::var(MIRROR_ENV).ok())
        .filter(|m| !m.trim().is_empty())
}

/// Where `file` of `dataset` is fetched from: the publisher's URL, or
/// `<mirror>/<dataset>/<file>`.
pub fn url_for(dataset: DatasetName, file: &RemoteFile, mirror: Option<&str>) -> String {
    match mirror {
        Some(m) => format!(
            "{}/{}/{}",
            m.trim_end_matches('/'),
            dataset.name(),
            file.name
        ),
        None => file.url.clone(),
    }
}

/// How a fetch goes.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The data directory; files land in `<data_dir>/<dataset>/`.
    pub data_dir: PathBuf,
    /// Base URL replacing the publishers' ([`url_for`]).
    pub mirror: Option<String>,
    /// Draw a progress bar on stderr (only where stderr is a terminal).
    pub progress: bool,
    /// Give up on a connection after this long.
    pub connect_timeout: Duration,
    /// Give up when no byte arrives for this long.
    pub read_timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            data_dir: data_dir(None),
            mirror: mirror(None),
            progress: true,
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It was there already, with the right hash.
    Present,
    /// Downloaded from the start.
    Downloaded,
    /// Downloaded from where an earlier part ended, `from` bytes in.
    Resumed { from: u64 },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Present => f.write_str("already present, verified"),
            Outcome::Downloaded => f.write_str("downloaded, verified"),
            Outcome::Resumed { from } => write!(f, "resumed at byte {from}, verified"),
        }
    }
}

fn fetch_err(url: &str, msg: impl Into<String>) -> Error {
    Error::Fetch {
        url: url.to_string(),
        msg: msg.into(),
    }
}

/// Fetches every file of `dataset` listed in `files` into
/// `<data_dir>/<dataset>/` and returns that directory.
/// `report` is called after each file.
pub fn fetch(
    dataset: DatasetName,
    files: &[RemoteFile],
    opts: &FetchOptions,
    mut report: impl FnMut(&RemoteFile, Outcome),
) -> Result<PathBuf> {
    if files.is_empty() {
        return Err(Error::Usage(format!(
            "dataset '{}' has nothing to download (it is generated)",
            dataset.name()
        )));
    }
    let dir = opts.data_dir.join(dataset.name());
    fs::create_dir_all(&dir).map_err(|e| Error::fs(IoOp::CreateDir, &dir, e))?;
    let lock_path = dir.join(LOCK_FILE);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::fs(IoOp::OpenLock, &lock_path, e))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            eprintln!(
                "waiting for another lossbench fetching into {}",
                dir.display()
            );
            lock.lock()
                .map_err(|e| Error::fs(IoOp::Lock, &lock_path, e))?;
        }
        Err(fs::TryLockError::Error(e)) => return Err(Error::fs(IoOp::Lock, &lock_path, e)),
    }
    let (proxied, direct) = (agent(opts, true), agent(opts, false));
    for f in files {
        check_name(&f.name).map_err(|m| Error::Usage(format!("{}: {m}", dataset.name())))?;
        let url = url_for(dataset, f, opts.mirror.as_deref());
        let agent = if is_loopback(&url) { &direct } else { &proxied };
        let outcome = fetch_file(agent, f, &url, &dir, opts)?;
        report(f, outcome);
    }
    drop(lock);
    Ok(dir)
}

/// Fetches `dataset` with its shipped file list if no directory of the
/// lookup order holds it (`lossbench run --fetch`); `Ok(None)` when it is
/// found, or is synthetic. `opts.data_dir` should be one the lookup order
/// reads (the default, [`data_dir`]`(None)`, is).
pub fn ensure(
    dataset: DatasetName,
    opts: &FetchOptions,
    report: impl FnMut(&RemoteFile, Outcome),
) -> Result<Option<PathBuf>> {
    if dataset == DatasetName::Synthetic {
        return Ok(None);
    }
    match super::load::resolve_dir(dataset, None) {
        Ok(_) => Ok(None),
        Err(Error::DataNotFound { .. }) => {
            fetch(dataset, &manifest(dataset), opts, report).map(Some)
        }
        Err(e) => Err(e),
    }
}

/// Whether `url` names this machine (a mirror on the loopback address is
/// never reached through the environment's proxy).
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An HTTP client; `proxy`: use the environment's proxy settings
/// (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, ...).
fn agent(opts: &FetchOptions, proxy: bool) -> ureq::Agent {
    let mut builder = ureq::Agent::config_builder();
    if !proxy {
        builder = builder.proxy(None);
    }
    let config = builder
        .http_status_as_error(false)
        .timeout_connect(Some(opts.connect_timeout))
        .timeout_per_read(Some(opts.read_timeout))
        .user_agent(format!("lossbench/{}", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::new_with_config(config)
}

/// SHA-256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).map_err(|e| Error::read(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::read(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

fn part_path(dir: &Path, f: &RemoteFile) -> PathBuf {
    dir.join(format!("{}.part", f.name))
}

/// Fetches one file into `dir` (the caller holds the directory's lock).
fn fetch_file(
    agent: &ureq::Agent,
    f: &RemoteFile,
    url: &str,
    dir: &Path,
    opts: &FetchOptions,
) -> Result<Outcome> {
    let dest = dir.join(&f.name);
    if dest.is_file() {
        let size = fs::metadata(&dest)
            .map_err(|e| Error::read(&dest, e))?
            .len();
        if size == f.size && sha256_file(&dest)? == f.sha256 {
            return Ok(Outcome::Present);
        }
        // Not the file lossbench ships the hash of: move it out of the way
        // (never delete what a user put there) and download the real one.
        let aside = dir.join(format!("{}.mismatch", f.name));
        fs::rename(&dest, &aside).map_err(|e| Error::fs(IoOp::MoveAside, &dest, e))?;
        eprintln!(
            "warning: '{}' is not the expected file (size or SHA-256 differs); moved it to '{}' \
             and downloading it again",
            dest.display(),
            aside.display()
        );
    }
    let part = part_path(dir, f);
    let mut from = match fs::metadata(&part) {
        Ok(m) => m.len(),
        Err(_) => 0,
    };
    if from > f.size {
        from = 0;
    }
    // A part of the full size was downloaded before but not verified.
    let start = if from < f.size {
        download(agent, f, url, &part, from, opts)?
    } else {
        from
    };
    verify_and_place(f, url, &part, &dest)?;
    Ok(if start > 0 {
        Outcome::Resumed { from: start }
    } else {
        Outcome::Downloaded
    })
}

/// Hashes the finished part; renames it onto `dest` if the hash matches,
/// deletes it otherwise.
fn verify_and_place(f: &RemoteFile, url: &str, part: &Path, dest: &Path) -> Result<()> {
    let size = fs::metadata(part).map_err(|e| Error::read(part, e))?.len();
    let actual = sha256_file(part)?;
    if size != f.size || actual != f.sha256 {
        let _ = fs::remove_file(part);
        return Err(fetch_err(
            url,
            format!(
                "'{}' failed verification: SHA-256 {actual} ({size} bytes), expected {} ({} \
                 bytes); the download was deleted. A mirror or proxy serving other bytes, or \
                 a damaged transfer: run the fetch again, or check the mirror",
                f.name, f.sha256, f.size
            ),
        ));
    }
    File::open(part)
        .and_then(|p| p.sync_all())
        .map_err(|e| Error::fs(IoOp::Write, part, e))?;
    fs::rename(part, dest).map_err(|e| Error::fs(IoOp::RenameInto, dest, e))?;
    if let Some(dir) = dest.parent() {
        // Make the rename durable; not every file system can sync a directory.
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// The first byte a `Content-Range: bytes a-b/n` header says the body starts at.
fn content_range_start(value: &str) -> Option<u64> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, _) = rest.split_once('/')?;
    let (a, _) = range.split_once('-')?;
    a.trim().parse().ok()
}

/// Downloads `url` into `part`, appending from byte `from` when the server
/// honours the range and starting over when it does not; returns the byte
/// the transfer started at.
fn download(
    agent: &ureq::Agent,
    f: &RemoteFile,
    url: &str,
    part: &Path,
    from: u64,
    opts: &FetchOptions,
) -> Result<u64> {
    let mirror_hint = match &opts.mirror {
        Some(m) => format!("the mirror is {m} (--mirror / {MIRROR_ENV})"),
        None => format!(
            "no mirror is set: --mirror URL or {MIRROR_ENV} fetches from URL/<dataset>/<file> \
             instead"
        ),
    };
    let mut request = agent.get(url);
    if from > 0 {
        request = request.header("Range", format!("bytes={from}-"));
    }
    let response = request.call().map_err(|e| {
        fetch_err(
            url,
            format!(
                "{e}; is this machine offline? {mirror_hint}, or put the files in '{}' yourself",
                part.parent().unwrap_or(Path::new(".")).display()
            ),
        )
    })?;
    let status = response.status().as_u16();
    let start = match status {
        206 => {
            let cr = response
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .and_then(content_range_start);
            match cr {
                Some(s) if s == from => from,
                _ => {
                    return Err(fetch_err(
                        url,
                        format!(
                            "asked for bytes {from}- but the server answered with another \
                             range; delete '{}' to start over",
                            part.display()
                        ),
                    ))
                }
            }
        }
        200 => 0,
        416 if from > 0 => {
            // The part is not a prefix the server recognises: start over.
            fs::remove_file(part).map_err(|e| Error::fs(IoOp::Write, part, e))?;
            return download(agent, f, url, part, 0, opts);
        }
        s => {
            return Err(fetch_err(
                url,
                format!("the server answered HTTP {s}; {mirror_hint}"),
            ))
        }
    };
    let mut out = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(part)
        .map_err(|e| Error::fs(IoOp::Create, part, e))?;
    out.set_len(start)
        .and_then(|_| out.seek(SeekFrom::Start(start)))
        .map_err(|e| Error::fs(IoOp::Write, part, e))?;
    let bar = progress_bar(f, start, opts.progress);
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut at = start;
    let result: std::result::Result<(), io::Error> = loop {
        match body.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = out.write_all(&buf[..n]) {
                    bar.abandon();
                    return Err(Error::fs(IoOp::Write, part, e));
                }
                at += n as u64;
                bar.set_position(at);
                if at > f.size {
                    break Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    bar.finish_and_clear();
    out.flush().map_err(|e| Error::fs(IoOp::Write, part, e))?;
    drop(out);
    if let Err(e) = result {
        return Err(fetch_err(
            url,
            format!(
                "the transfer stopped after {at} of {} bytes ({e}); '{}' is kept: run the same \
                 command again to resume",
                f.size,
                part.display()
            ),
        ));
    }
    if at < f.size {
        return Err(fetch_err(
            url,
            format!(
                "the server sent {at} of {} bytes and closed; '{}' is kept: run the same command \
                 again to resume",
                f.size,
                part.display()
            ),
        ));
    }
    Ok(start)
}

fn progress_bar(f: &RemoteFile, start: u64, show: bool) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(f.size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(f.name.clone());
    bar.set_position(start);
    bar
}

/// Where `dataset`'s files stand in `dir`: per file, `Some(true)` verified
/// size (the hash is not computed), `Some(false)` present with another size,
/// `None` absent; and the bytes of any partial download.
pub fn status(dataset: DatasetName, dir: &Path) -> Vec<(RemoteFile, Option<bool>, u64)> {
    manifest(dataset)
        .into_iter()
        .map(|f| {
            let present = fs::metadata(dir.join(&f.name))
                .ok()
                .map(|m| m.len() == f.size);
            let part = fs::metadata(part_path(dir, &f))
                .map(|m| m.len())
                .unwrap_or(0);
            (f, present, part)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{content_range_start, is_loopback};

    #[test]
    fn loopback_urls_are_recognised() {
        for url in [
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "https://LOCALHOST:1/",
            "http://[::1]:80/a",
            "http://user:pw@127.0.0.2/a",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "http://128.0.0.1/x",
            "https://www.cs.toronto.edu/~kriz/x",
            "http://localhost.example.org/",
            "http://[2001:db8::1]/",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }

    #[test]
    fn content_range_gives_the_first_byte() {
        assert_eq!(content_range_start("bytes 100-199/200"), Some(100));
        assert_eq!(content_range_start("bytes 0-0/*"), Some(0));
        assert_eq!(content_range_start("items 1-2/3"), None);
        assert_eq!(content_range_start("bytes */200"), None);
    }
}
