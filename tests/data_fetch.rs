//! `lossbench data fetch` against a local HTTP server on the loopback
//! address: a good fetch, a corrupted file, a truncated transfer, a server
//! that stops midway or ignores `Range`, a refused connection, a mirror, two
//! fetches at once; and the shipped Fashion-MNIST hashes against Debian's
//! copy of the files.
//!
//! The server is a few lines of HTTP/1.1 over `std::net::TcpListener`: one
//! request per connection, `Range: bytes=N-` answered with 206 unless told
//! otherwise, and a queue of misbehaviours per path for the next requests.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use assert_cmd::Command;
use flate2::write::GzEncoder;
use flate2::Compression;
use lossbench::data::fetch::{self, FetchOptions, Outcome, RemoteFile};
use lossbench::data::{self, DataSpec, DatasetName, SyntheticSpec};
use lossbench::Error;
use sha2::{Digest, Sha256};

/// How the server answers one request for a path.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plan {
    /// 200 with the whole file, or 206 from the requested byte.
    Normal,
    /// Declares the full length but sends only the first `n` bytes of what
    /// it would send, then closes.
    Truncate(usize),
    /// No Content-Length (body ends at close); sends `n` bytes and closes.
    StopMidway(usize),
    /// 200 with the whole file, whatever the Range header says.
    IgnoreRange,
    /// The file with one byte flipped.
    Corrupt,
    /// Like Normal, in small pieces with pauses (for concurrent fetches).
    Slow,
}

#[derive(Default)]
struct State {
    files: HashMap<String, Vec<u8>>,
    plans: HashMap<String, VecDeque<Plan>>,
    /// (path, Range header) of every request.
    log: Vec<(String, Option<String>)>,
}

struct Server {
    base: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let st = Arc::clone(&state);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let st = Arc::clone(&st);
                thread::spawn(move || serve(stream, &st));
            }
        });
        Server { base, state }
    }

    fn put(&self, path: &str, bytes: &[u8]) {
        let mut s = self.state.lock().unwrap();
        s.files.insert(path.to_string(), bytes.to_vec());
    }

    fn plan(&self, path: &str, plans: &[Plan]) {
        let mut s = self.state.lock().unwrap();
        s.plans
            .entry(path.to_string())
            .or_default()
            .extend(plans.iter().copied());
    }

    fn log(&self) -> Vec<(String, Option<String>)> {
        self.state.lock().unwrap().log.clone()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = Some(v.trim().to_string());
            }
        }
    }
    let (file, plan) = {
        let mut s = state.lock().unwrap();
        s.log.push((path.clone(), range.clone()));
        let plan = s
            .plans
            .get_mut(&path)
            .and_then(VecDeque::pop_front)
            .unwrap_or(Plan::Normal);
        (s.files.get(&path).cloned(), plan)
    };
    let mut out = stream;
    let Some(mut file) = file else {
        let _ = out
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    if plan == Plan::Corrupt {
        let mid = file.len() / 2;
        file[mid] ^= 0xff;
    }
    let total = file.len();
    let start = match (&range, plan) {
        (_, Plan::IgnoreRange) => None,
        (Some(r), _) => r
            .strip_prefix("bytes=")
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|n| n.parse::<usize>().ok()),
        (None, _) => None,
    };
    let body = &file[start.unwrap_or(0).min(total)..];
    let mut head = match start {
        Some(s) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {s}-{}/{total}\r\n",
            total - 1
        ),
        None => "HTTP/1.1 200 OK\r\n".to_string(),
    };
    if !matches!(plan, Plan::StopMidway(_)) {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    let _ = out.write_all(head.as_bytes());
    let sent = match plan {
        Plan::Truncate(n) | Plan::StopMidway(n) => &body[..n.min(body.len())],
        _ => body,
    };
    if plan == Plan::Slow {
        for chunk in sent.chunks(sent.len().div_ceil(8).max(1)) {
            if out.write_all(chunk).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
    } else {
        let _ = out.write_all(sent);
    }
    let _ = out.flush();
    let _ = out.shutdown(std::net::Shutdown::Both);
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A small MNIST-format dataset: the four IDX files, gzip'd, by name.
fn mnist_files(n_train: u32, n_test: u32) -> Vec<(String, Vec<u8>)> {
    let images = |n: u32| {
        let mut b = vec![0, 0, 8, 3];
        for d in [n, 28, 28] {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend((0..n * 28 * 28).map(|i| (i * 7 % 251) as u8));
        gz(&b)
    };
    let labels = |n: u32| {
        let mut b = vec![0, 0, 8, 1];
        b.extend_from_slice(&n.to_be_bytes());
        b.extend((0..n).map(|i| (i % 10) as u8));
        gz(&b)
    };
    vec![
        ("train-images-idx3-ubyte.gz".into(), images(n_train)),
        ("train-labels-idx1-ubyte.gz".into(), labels(n_train)),
        ("t10k-images-idx3-ubyte.gz".into(), images(n_test)),
        ("t10k-labels-idx1-ubyte.gz".into(), labels(n_test)),
    ]
}

/// Serves `files` under `<dir>/<name>` and returns their manifest, each
/// file's publisher URL given by `url(name)`.
fn serve_files(
    server: &Server,
    files: &[(String, Vec<u8>)],
    dir: &str,
    url: impl Fn(&str) -> String,
) -> Vec<RemoteFile> {
    files
        .iter()
        .map(|(name, bytes)| {
            server.put(&format!("{dir}/{name}"), bytes);
            RemoteFile {
                name: name.clone(),
                url: url(name),
                size: bytes.len() as u64,
                sha256: sha256(bytes),
            }
        })
        .collect()
}

/// Serves `files` under `/pub/<name>` and returns their manifest.
fn publish(server: &Server, files: &[(String, Vec<u8>)]) -> Vec<RemoteFile> {
    serve_files(server, files, "/pub", |name| {
        format!("{}/pub/{name}", server.base)
    })
}

/// Serves `files` on a mirror only, under `<dir>/<name>`; the manifest's
/// publisher URLs point nowhere.
fn mirror_only(server: &Server, files: &[(String, Vec<u8>)], dir: &str) -> Vec<RemoteFile> {
    serve_files(server, files, dir, |_| {
        "http://127.0.0.1:9/unreachable".into()
    })
}

fn options(data_dir: &Path) -> FetchOptions {
    FetchOptions {
        data_dir: data_dir.to_path_buf(),
        mirror: None,
        progress: false,
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(10),
    }
}

fn run(
    dataset: DatasetName,
    files: &[RemoteFile],
    opts: &FetchOptions,
) -> lossbench::Result<Vec<(String, Outcome)>> {
    let mut outcomes = Vec::new();
    fetch::fetch(dataset, files, opts, |f, o| {
        outcomes.push((f.name.clone(), o))
    })?;
    Ok(outcomes)
}

fn fetch_msg(err: Error) -> (String, String) {
    match err {
        Error::Fetch { url, msg } => (url, msg),
        other => panic!("expected a fetch error, got {other:?}"),
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != fetch::LOCK_FILE)
        .collect();
    v.sort();
    v
}

#[test]
fn a_good_fetch_verifies_places_and_loads_then_is_not_repeated() {
    let server = Server::start();
    let files = mnist_files(20, 10);
    let manifest = publish(&server, &files);
    let tmp = tempfile::tempdir().unwrap();
    let outcomes = run(DatasetName::Mnist, &manifest, &options(tmp.path())).unwrap();
    assert!(
        outcomes.iter().all(|(_, o)| *o == Outcome::Downloaded),
        "{outcomes:?}"
    );
    let dir = tmp.path().join("mnist");
    let mut expected: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    expected.sort();
    assert_eq!(names_in(&dir), expected, "no .part left");
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(dir.join(name)).unwrap(), bytes);
    }
    let loaded = data::load(&DataSpec {
        dataset: DatasetName::Mnist,
        path: Some(dir.clone()),
        train_subset: None,
        test_subset: None,
        attack_subset: None,
        classes: None,
        synthetic: SyntheticSpec::default(),
    })
    .unwrap();
    assert_eq!((loaded.train.len(), loaded.test.len()), (20, 10));

    let requests = server.log().len();
    let again = run(DatasetName::Mnist, &manifest, &options(tmp.path())).unwrap();
    assert!(
        again.iter().all(|(_, o)| *o == Outcome::Present),
        "{again:?}"
    );
    assert_eq!(
        server.log().len(),
        requests,
        "present files are not downloaded again"
    );
}

#[test]
fn a_corrupted_file_is_refused_and_not_kept() {
    let server = Server::start();
    let files = mnist_files(5, 5);
    let manifest = publish(&server, &files[..1]);
    server.plan("/pub/train-images-idx3-ubyte.gz", &[Plan::Corrupt]);
    let tmp = tempfile::tempdir().unwrap();
    let err = run(DatasetName::Mnist, &manifest, &options(tmp.path())).unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let (url, msg) = fetch_msg(err);
    assert_eq!(url, manifest[0].url);
    let mut bad = files[0].1.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    assert!(msg.contains("train-images-idx3-ubyte.gz"), "{msg}");
    assert!(
        msg.contains(&manifest[0].sha256),
        "names the expected hash: {msg}"
    );
    assert!(msg.contains(&sha256(&bad)), "names the actual hash: {msg}");
    assert!(
        names_in(&tmp.path().join("mnist")).is_empty(),
        "neither the file nor a part"
    );
    // The next try gets the good bytes.
    let ok = run(DatasetName::Mnist, &manifest, &options(tmp.path())).unwrap();
    assert_eq!(ok, vec![(manifest[0].name.clone(), Outcome::Downloaded)]);
}

#[test]
fn a_truncated_transfer_keeps_the_part_and_the_next_fetch_resumes() {
    let server = Server::start();
    let files = mnist_files(40, 5);
    let manifest = publish(&server, &files[..1]);
    let path = "/pub/train-images-idx3-ubyte.gz";
    let size = files[0].1.len();
    let cut = size / 3;
    server.plan(path, &[Plan::Truncate(cut)]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mnist");
    let (_, msg) = fetch_msg(run(DatasetName::Mnist, &manifest, &options(tmp.path())).unwrap_err());
    assert!(msg.contains("resume"), "{msg}");
    assert_eq!(names_in(&dir), vec!["train-images-idx3-ubyte.gz.part"]);
    let part = std::fs::read(dir.join("train-images-idx3-ubyte.gz.part")).unwrap();
    assert_eq!(part, files[0].1[..cut], "the part holds what arrived");

    let outcome = run(DatasetName::Mnist, &manifest, &options(tmp.path())).unwrap();
    assert_eq!(
        outcome,
        vec![(
            manifest[0].name.clone(),
            Outcome::Resumed { from: cut as u64 }
        )]
    );
    assert_eq!(
        server.log().last().unwrap().1.as_deref(),
        Some(format!("bytes={cut}-").as_str())
    );
    assert_eq!(
        std::fs::read(dir.join(&manifest[0].name)).unwrap(),
        files[0].1
    );
    assert_eq!(names_in(&dir), vec!["train-images-idx3-ubyte.gz"]);
}

#[test]
fn a_server_that_stops_midway_twice_is_resumed_each_time() {
    let server = Server::start();
    let files = mnist_files(40, 5);
    let manifest = publish(&server, &files[..1]);
    let path = "/pub/train-images-idx3-ubyte.gz";
    let size = files[0].1.len();
    // No Content-Length: only the size the manifest declares tells the
    // client that the body is short.
    server.plan(
        path,
        &[Plan::StopMidway(size / 4), Plan::StopMidway(size / 4)],
    );
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(tmp.path());
    let (_, msg) = fetch_msg(run(DatasetName::Mnist, &manifest, &opts).unwrap_err());
    assert!(
        msg.contains(&format!("sent {} of {size} bytes", size / 4)),
        "{msg}"
    );
    let (_, msg) = fetch_msg(run(DatasetName::Mnist, &manifest, &opts).unwrap_err());
    assert!(
        msg.contains(&format!("sent {} of {size} bytes", 2 * (size / 4))),
        "{msg}"
    );
    let outcome = run(DatasetName::Mnist, &manifest, &opts).unwrap();
    assert_eq!(
        outcome[0].1,
        Outcome::Resumed {
            from: 2 * (size / 4) as u64
        }
    );
    let ranges: Vec<Option<String>> = server.log().into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        ranges,
        vec![
            None,
            Some(format!("bytes={}-", size / 4)),
            Some(format!("bytes={}-", 2 * (size / 4)))
        ]
    );
    let dir = tmp.path().join("mnist");
    assert_eq!(
        std::fs::read(dir.join(&manifest[0].name)).unwrap(),
        files[0].1
    );
}

#[test]
fn a_server_that_ignores_range_is_downloaded_from_the_start() {
    let server = Server::start();
    let files = mnist_files(40, 5);
    let manifest = publish(&server, &files[..1]);
    let path = "/pub/train-images-idx3-ubyte.gz";
    let cut = files[0].1.len() / 2;
    server.plan(path, &[Plan::Truncate(cut), Plan::IgnoreRange]);
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(tmp.path());
    run(DatasetName::Mnist, &manifest, &opts).unwrap_err();
    let outcome = run(DatasetName::Mnist, &manifest, &opts).unwrap();
    assert_eq!(
        outcome[0].1,
        Outcome::Downloaded,
        "the 200 replaced the part"
    );
    assert_eq!(
        server.log()[1].1.as_deref(),
        Some(format!("bytes={cut}-").as_str())
    );
    let dir = tmp.path().join("mnist");
    assert_eq!(
        std::fs::read(dir.join(&manifest[0].name)).unwrap(),
        files[0].1
    );
}

#[test]
fn a_refused_connection_says_offline_and_names_the_url_and_mirror_setting() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let manifest = vec![RemoteFile {
        name: "train-images-idx3-ubyte.gz".into(),
        url: format!("http://127.0.0.1:{port}/pub/train-images-idx3-ubyte.gz"),
        size: 10,
        sha256: "0".repeat(64),
    }];
    let tmp = tempfile::tempdir().unwrap();
    let err = run(DatasetName::Mnist, &manifest, &options(tmp.path())).unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let text = err.to_string();
    assert!(text.contains(&manifest[0].url), "{text}");
    assert!(text.contains("offline"), "{text}");
    assert!(
        text.contains("LOSSBENCH_MIRROR") && text.contains("--mirror"),
        "{text}"
    );
    assert!(names_in(&tmp.path().join("mnist")).is_empty());
}

#[test]
fn a_missing_file_is_an_http_error_naming_the_status() {
    let server = Server::start();
    let manifest = vec![RemoteFile {
        name: "t10k-labels-idx1-ubyte.gz".into(),
        url: format!("{}/nothing-here", server.base),
        size: 10,
        sha256: "0".repeat(64),
    }];
    let tmp = tempfile::tempdir().unwrap();
    let (url, msg) =
        fetch_msg(run(DatasetName::Mnist, &manifest, &options(tmp.path())).unwrap_err());
    assert!(url.ends_with("/nothing-here"));
    assert!(msg.contains("HTTP 404"), "{msg}");
}

#[test]
fn a_mirror_replaces_the_publishers_url() {
    let server = Server::start();
    let files = mnist_files(6, 4);
    // The publisher's URLs point nowhere; the mirror has the files under
    // <mirror>/<dataset>/<file>.
    let manifest = mirror_only(&server, &files, "/mirror/kmnist");
    assert_eq!(
        fetch::url_for(
            DatasetName::Kmnist,
            &manifest[0],
            Some("http://m.example/x/")
        ),
        "http://m.example/x/kmnist/train-images-idx3-ubyte.gz"
    );
    let tmp = tempfile::tempdir().unwrap();
    let opts = FetchOptions {
        mirror: Some(format!("{}/mirror", server.base)),
        ..options(tmp.path())
    };
    run(DatasetName::Kmnist, &manifest, &opts).unwrap();
    assert!(server
        .log()
        .iter()
        .all(|(p, _)| p.starts_with("/mirror/kmnist/")));
    let loaded = data::load(&DataSpec {
        dataset: DatasetName::Kmnist,
        path: Some(tmp.path().join("kmnist")),
        train_subset: None,
        test_subset: None,
        attack_subset: None,
        classes: None,
        synthetic: SyntheticSpec::default(),
    })
    .unwrap();
    assert_eq!((loaded.train.len(), loaded.test.len()), (6, 4));
}

#[test]
fn two_fetches_at_once_do_not_corrupt_each_other() {
    let server = Server::start();
    let files = mnist_files(60, 5);
    let manifest = publish(&server, &files[..1]);
    server.plan("/pub/train-images-idx3-ubyte.gz", &[Plan::Slow, Plan::Slow]);
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(tmp.path());
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (m, o) = (manifest.clone(), opts.clone());
            thread::spawn(move || run(DatasetName::Mnist, &m, &o))
        })
        .collect();
    let outcomes: Vec<Outcome> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap()[0].1)
        .collect();
    let mut sorted = outcomes.clone();
    sorted.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(
        sorted,
        vec![Outcome::Downloaded, Outcome::Present],
        "one waited for the other"
    );
    assert_eq!(server.log().len(), 1, "one download only");
    let dir = tmp.path().join("mnist");
    assert_eq!(
        std::fs::read(dir.join(&manifest[0].name)).unwrap(),
        files[0].1
    );
}

#[test]
fn a_wrong_file_in_place_is_moved_aside_and_fetched_again() {
    let server = Server::start();
    let files = mnist_files(5, 5);
    let manifest = publish(&server, &files[3..]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mnist");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&manifest[0].name), b"not the file").unwrap();
    let outcome = run(DatasetName::Mnist, &manifest, &options(tmp.path())).unwrap();
    assert_eq!(outcome[0].1, Outcome::Downloaded);
    assert_eq!(
        std::fs::read(dir.join(&manifest[0].name)).unwrap(),
        files[3].1
    );
    let aside = dir.join(format!("{}.mismatch", manifest[0].name));
    assert_eq!(std::fs::read(aside).unwrap(), b"not the file");
}

fn write_manifest(dir: &Path, dataset: &str, manifest: &[RemoteFile]) -> PathBuf {
    let path = dir.join("manifest.json");
    let json = serde_json::json!({ dataset: manifest });
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

#[test]
fn the_command_fetches_through_a_mirror_and_fails_with_exit_code_3_on_a_bad_hash() {
    let server = Server::start();
    let files = mnist_files(6, 4);
    let manifest = mirror_only(&server, &files, "/m/svhn");
    let tmp = tempfile::tempdir().unwrap();
    let m = write_manifest(tmp.path(), "svhn", &manifest);
    let data_dir = tmp.path().join("data");
    let out = Command::cargo_bin("lossbench")
        .unwrap()
        .args(["data", "fetch", "svhn", "--quiet", "--manifest"])
        .arg(&m)
        .arg("--data-dir")
        .arg(&data_dir)
        .env("LOSSBENCH_MIRROR", format!("{}/m", server.base))
        // A mirror on this machine is reached directly, whatever the proxy.
        .env("http_proxy", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("svhn: train-images-idx3-ubyte.gz"),
        "{stdout}"
    );
    assert!(stdout.contains("svhn: ready in"), "{stdout}");
    assert_eq!(names_in(&data_dir.join("svhn")).len(), 4);

    // A hash that no byte sequence served matches.
    let mut wrong = manifest.clone();
    wrong[0].sha256 = "ab".repeat(32);
    let m = write_manifest(tmp.path(), "svhn", &wrong);
    std::fs::remove_file(data_dir.join("svhn").join(&wrong[0].name)).unwrap();
    let out = Command::cargo_bin("lossbench")
        .unwrap()
        .args(["data", "fetch", "svhn", "--quiet", "--manifest"])
        .arg(&m)
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--mirror")
        .arg(format!("{}/m", server.base))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&"ab".repeat(32)) && stderr.contains("deleted"),
        "{stderr}"
    );
    assert!(!data_dir.join("svhn").join(&wrong[0].name).exists());
    assert!(!data_dir
        .join("svhn")
        .join(format!("{}.part", wrong[0].name))
        .exists());
}

#[test]
fn a_suite_whose_dataset_is_missing_names_the_fetch_command() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("s.yaml");
    std::fs::write(
        &suite,
        "name: s\ndata: {dataset: kmnist, train-subset: 10}\nmodel: mlp\nlosses: [softmax]\nseeds: [0]\n",
    )
    .unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::cargo_bin("lossbench")
        .unwrap()
        .current_dir(tmp.path())
        .args(["run", "s.yaml", "--device", "cpu"])
        .env("LOSSBENCH_DATA", &empty)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if Path::new("/usr/share/datasets/kmnist").exists() {
        return;
    }
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`lossbench data fetch kmnist`"), "{stderr}");
    // `validate` checks the suite, not this machine: a warning, exit code 0.
    let out = Command::cargo_bin("lossbench")
        .unwrap()
        .current_dir(tmp.path())
        .args(["validate", "s.yaml"])
        .env("LOSSBENCH_DATA", &empty)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: s.yaml: `run` would stop here"),
        "{stderr}"
    );
    assert!(stderr.contains("`lossbench data fetch kmnist`"), "{stderr}");
}

#[test]
fn run_fetch_downloads_a_missing_dataset_through_the_mirror_and_verifies_it() {
    if Path::new("/usr/share/datasets/kmnist").exists() {
        return;
    }
    let server = Server::start();
    // Not KMNIST's real bytes: the shipped hash must refuse them.
    let shipped = fetch::manifest(DatasetName::Kmnist);
    let fake = vec![7u8; shipped[0].size as usize];
    server.put(&format!("/m/kmnist/{}", shipped[0].name), &fake);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("s.yaml"),
        "name: s\ndata: {dataset: kmnist, train-subset: 10}\nmodel: mlp\nlosses: [softmax]\nseeds: [0]\n",
    )
    .unwrap();
    let data_dir = tmp.path().join("store");
    let out = Command::cargo_bin("lossbench")
        .unwrap()
        .current_dir(tmp.path())
        .args(["run", "s.yaml", "--device", "cpu", "--fetch"])
        .env("LOSSBENCH_DATA", &data_dir)
        .env("LOSSBENCH_MIRROR", format!("{}/m", server.base))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&shipped[0].sha256), "{stderr}");
    assert!(stderr.contains(&sha256(&fake)), "{stderr}");
    assert_eq!(server.log()[0].0, format!("/m/kmnist/{}", shipped[0].name));
    assert!(
        names_in(&data_dir.join("kmnist")).is_empty(),
        "nothing kept"
    );
    assert!(!tmp.path().join("results").exists(), "no run started");
}

#[test]
fn a_manifest_file_is_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("m.json");
    for (text, needle) in [
        (
            r#"{"mnist": [{"name": "../x", "url": "u", "size": 1, "sha256": "00"}]}"#,
            "not a plain file name",
        ),
        (
            r#"{"mnist": [{"name": "x", "url": "u", "size": 1, "sha256": "00"}]}"#,
            "64 hex digits",
        ),
        (r#"{"imagenet": []}"#, "unknown dataset 'imagenet'"),
        ("[1]", "not a fetch manifest"),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = fetch::read_manifest(&path).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn every_shipped_file_has_a_size_and_a_sha256_and_a_plain_name() {
    let mut n = 0;
    for d in DatasetName::ALL.iter().copied() {
        let files = fetch::manifest(d);
        assert_eq!(files.is_empty(), d == DatasetName::Synthetic, "{d:?}");
        for f in files {
            n += 1;
            assert_eq!(f.sha256.len(), 64, "{}", f.name);
            assert!(f
                .sha256
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            assert!(f.size > 0 && f.url.ends_with(&f.name), "{f:?}");
            assert!(!f.name.contains('/'));
        }
    }
    assert_eq!(n, 4 + 4 + 4 + 1 + 1 + 2);
}

/// Debian's `dataset-fashion-mnist` ships the publisher's gzip files with
/// the header's file name and time cleared (FLG 0, MTIME of packaging).
/// Putting back the name and the publisher's time (found once by search,
/// 2017-08-31) must give exactly the size and SHA-256 lossbench ships.
#[test]
fn shipped_fashion_mnist_hashes_match_debians_files_with_the_original_gzip_header() {
    let dir = Path::new("/usr/share/datasets/fashion-mnist");
    if !dir.is_dir() {
        eprintln!("skipped: {} is not installed", dir.display());
        return;
    }
    let shipped = fetch::manifest(DatasetName::FashionMnist);
    for (name, mtime) in [
        ("train-images-idx3-ubyte.gz", 1_504_176_606u32),
        ("train-labels-idx1-ubyte.gz", 1_504_176_606),
        ("t10k-images-idx3-ubyte.gz", 1_504_176_627),
        ("t10k-labels-idx1-ubyte.gz", 1_504_176_627),
    ] {
        let debian = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(&debian[..4], &[0x1f, 0x8b, 8, 0], "{name}: FNAME cleared");
        let mut original = vec![0x1f, 0x8b, 8, 0x08];
        original.extend_from_slice(&mtime.to_le_bytes());
        original.extend_from_slice(&debian[8..10]);
        original.extend_from_slice(name.trim_end_matches(".gz").as_bytes());
        original.push(0);
        original.extend_from_slice(&debian[10..]);
        let f = shipped.iter().find(|f| f.name == name).unwrap();
        assert_eq!(original.len() as u64, f.size, "{name}");
        assert_eq!(sha256(&original), f.sha256, "{name}");
    }
}

/// `data list` says, per shipped file, whether it is in the fetch target
/// (which it names), of the wrong size, or partly downloaded.
#[test]
fn data_list_shows_each_file_in_the_fetch_target() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let mnist = data_dir.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    let shipped = lossbench::data::fetch::manifest(lossbench::data::DatasetName::Mnist);
    // One file of the right size, one too short, one partly downloaded and
    // one missing.
    let file = |i: usize| &shipped[i];
    let labels = shipped
        .iter()
        .position(|f| f.name == "t10k-labels-idx1-ubyte.gz")
        .unwrap();
    let train_labels = shipped
        .iter()
        .position(|f| f.name == "train-labels-idx1-ubyte.gz")
        .unwrap();
    let images = shipped
        .iter()
        .position(|f| f.name == "t10k-images-idx3-ubyte.gz")
        .unwrap();
    std::fs::write(
        mnist.join(&file(labels).name),
        vec![0u8; file(labels).size as usize],
    )
    .unwrap();
    std::fs::write(mnist.join(&file(train_labels).name), b"short").unwrap();
    std::fs::write(
        mnist.join(format!("{}.part", file(images).name)),
        vec![0u8; 100],
    )
    .unwrap();
    let out = Command::cargo_bin("lossbench")
        .unwrap()
        .args(["data", "list", "--data-dir"])
        .arg(&data_dir)
        .env("LOSSBENCH_DATA", "/nonexistent-lossbench-data")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("  in the fetch target {}:", mnist.display())),
        "{stdout}"
    );
    let line = |name: &str| -> String {
        let mnist_part = &stdout[stdout.find("mnist (").unwrap()..];
        mnist_part
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {stdout}"))
            .to_owned()
    };
    assert!(
        line("t10k-labels-idx1-ubyte.gz").ends_with(": present"),
        "{stdout}"
    );
    assert!(
        line("train-labels-idx1-ubyte.gz").ends_with(": present, wrong size"),
        "{stdout}"
    );
    let size = file(images).size;
    assert!(
        line("t10k-images-idx3-ubyte.gz").ends_with(&format!(": partial, 100 of {size} bytes")),
        "{stdout}"
    );
    assert!(
        line("train-images-idx3-ubyte.gz").ends_with(": missing"),
        "{stdout}"
    );
}
