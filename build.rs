//! Link-time glue for libtorch taken from the project venv's PyTorch wheel.
//!
//! `torch-sys` finds the headers and libraries; this script makes the *final*
//! binaries usable without `LD_LIBRARY_PATH` (an rpath to the wheel's
//! `torch/lib`) and keeps `libtorch_cuda` linked even though no symbol of it is
//! referenced directly: without `--no-as-needed` the linker drops it and CUDA
//! stays invisible to `tch::Cuda::is_available()` on GPU machines.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=build.rs");
    let Some(root) = std::env::var_os("LIBTORCH").map(PathBuf::from) else {
        println!("cargo:warning=LIBTORCH is not set; run `make setup` (or scripts/setup.sh) first");
        return;
    };
    // Recorded in every run manifest.
    let version = std::fs::read_to_string(root.join("version.py"))
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("__version__ = ")
                    .map(|v| v.trim().trim_matches('\'').to_string())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LOSSBENCH_LIBTORCH_VERSION={version}");
    let lib = root.join("lib");
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
