#!/usr/bin/env bash
# One-time (and idempotent) setup for lossbench on a Debian machine:
#   1. the Fashion-MNIST Debian package (the default suite's data), and with
#      --for-tests (what `make test` asks for) headless Chromium,
#   2. a project-local venv with torch==2.13.0 (libtorch for tch 0.26), and
#      with --for-tests the Python packages the tests use for reference
#      values (requirements-test.txt),
#   3. .cargo/config.toml pointing tch at that libtorch, so plain `cargo build`,
#      `cargo test` and `cargo run` work afterwards.
# A second run checks stamps and returns in well under a second.
set -euo pipefail
FOR_TESTS=0
for arg in "$@"; do
    case "$arg" in
        --for-tests) FOR_TESTS=1 ;;
        *) printf 'usage: %s [--for-tests]\n' "$0" >&2; exit 2 ;;
    esac
done
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
STAMP="$VENV/.lossbench-stamp"

log() { printf '[setup] %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
APT_UPDATED=0
apt_install() {
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        $SUDO apt-get update -qq
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# 1. Data.
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    apt_install dataset-fashion-mnist
fi
# Headless Chromium for scripts/check_report.sh (tests/report_browser.rs):
# only the tests need it, so a first `make run` does not wait for it.
if [ "$FOR_TESTS" = 1 ]; then
    command -v chromium >/dev/null || apt_install chromium
fi

# 2. Python venv with the pinned torch.
command -v cargo >/dev/null || { log "cargo not found: install Rust (rustup) first"; exit 1; }
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || apt_install python3 python3-venv
want_stamp=$(cat requirements.txt constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want_stamp" ]; then
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then apt_install python3-venv; fi
        log "creating venv in $VENV"
        "$PY" -m venv "$VENV"
    fi
    # The torch wheel and its CUDA libraries take ~5 GB installed plus ~3 GB of
    # downloaded wheels while pip works. Say so up front instead of failing
    # half-way with ENOSPC; no pip cache, so nothing is kept twice.
    need_kb=$((9 * 1024 * 1024))
    avail_kb=$(df -Pk "$ROOT" | awk 'NR==2 {print $4}')
    if [ -n "$avail_kb" ] && [ "$avail_kb" -lt "$need_kb" ]; then
        log "warning: $((avail_kb / 1024)) MiB free on the filesystem of $ROOT;" \
            "the venv install needs about 9 GiB (8 GiB peak, 5 GiB kept), the build ~3 GiB more"
    fi
    # While pip downloads and unpacks (mostly network and disk), cargo
    # compiles every dependency that does not need libtorch (polars,
    # plotters, clap, ...) on the otherwise idle core. Without LIBTORCH,
    # torch-sys and what depends on it fail at once; --keep-going builds the
    # rest, and the build after setup compiles only those few crates.
    # PREBUILD_PROFILE (set by the Makefile) names the profile to warm;
    # PREBUILD_PROFILE=none turns this off.
    prebuild_pid=""
    if [ "${PREBUILD_PROFILE:-dev}" != none ] && [ ! -f .cargo/config.toml ]; then
        log "compiling the Rust dependencies meanwhile (log: target/prebuild.log)"
        mkdir -p target
        env -u LIBTORCH cargo build --profile "${PREBUILD_PROFILE:-dev}" --bin lossbench \
            --keep-going >target/prebuild.log 2>&1 &
        prebuild_pid=$!
    fi
    log "installing torch==2.13.0 (first time: a few GB)"
    PIP_NO_CACHE_DIR=1 "$VENV/bin/pip" install -q --disable-pip-version-check \
        -c constraints.txt -r requirements.txt
    echo "$want_stamp" > "$STAMP"
    if [ -n "$prebuild_pid" ]; then
        log "waiting for the dependency build"
        wait "$prebuild_pid" || true  # torch-sys fails by design; see above
    fi
fi

# 2b. The tests' Python references, only for the tests (a first `make run`
#     does not wait for them).
TEST_STAMP="$VENV/.lossbench-test-stamp"
if [ "$FOR_TESTS" = 1 ]; then
    want_test=$(cat requirements-test.txt constraints.txt | sha256sum | cut -c1-16)
    if [ "$(cat "$TEST_STAMP" 2>/dev/null)" != "$want_test" ]; then
        log "installing the tests' Python packages (numpy, scikit-learn, torchattacks, foolbox)"
        PIP_NO_CACHE_DIR=1 "$VENV/bin/pip" install -q --disable-pip-version-check \
            -c constraints.txt -r requirements-test.txt
        echo "$want_test" > "$TEST_STAMP"
    fi
fi

# 3. Cargo environment. Importing torch takes seconds, so the file is only
#    rewritten when it is missing, or was written for another venv stamp or path.
#    (A torch reinstalled by hand into the same venv is not noticed: delete
#    .cargo/config.toml to have it rewritten.)
CONFIG_TAG="# setup stamp: $(cat "$STAMP") venv: $VENV"
if [ ! -f .cargo/config.toml ] || ! grep -qxF "$CONFIG_TAG" .cargo/config.toml; then
    # The ABI flag first: the path, last, may hold spaces.
    read -r CXX11 TORCH_DIR < <("$VENV/bin/python" - <<'PY'
import pathlib, torch
print(int(torch._C._GLIBCXX_USE_CXX11_ABI), pathlib.Path(torch.__file__).parent)
PY
)
    mkdir -p .cargo
    cat > .cargo/config.toml.new <<TOML
# Written by scripts/setup.sh; do not edit (it is regenerated).
$CONFIG_TAG
[env]
LIBTORCH = "$TORCH_DIR"
LIBTORCH_CXX11_ABI = "$CXX11"
LOSSBENCH_PYTHON = "$VENV/bin/python"
TOML
    mv .cargo/config.toml.new .cargo/config.toml
    log "wrote .cargo/config.toml (LIBTORCH=$TORCH_DIR)"
fi
log "ready"
