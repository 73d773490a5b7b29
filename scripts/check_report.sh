#!/usr/bin/env bash
# Opens a rendered report's index.html in headless Chromium and checks it:
#   - the page's own check (inline script in index.html) must have passed:
#     every plot is a non-empty inline SVG with a size, every embedded image
#     decodes, nothing points outside the page, no script or console error;
#   - no uncaught error in Chromium's console log;
#   - a full-page screenshot is written to <report-dir>/screenshot.png.
#
# Usage: scripts/check_report.sh <report-dir>     (the folder with index.html)
# Exit codes: 0 ok, 1 the check failed, 2 bad usage or no Chromium.
# Chromium comes from the Debian package `chromium` (scripts/setup.sh); set
# CHROMIUM to use another binary.
set -euo pipefail

log() { printf '[check_report] %s\n' "$*" >&2; }

if [ $# -ne 1 ]; then
    log "usage: $0 <report-dir>"
    exit 2
fi
dir=$(cd "$1" 2>/dev/null && pwd) || { log "no such directory: $1"; exit 2; }
html="$dir/index.html"
[ -f "$html" ] || { log "no index.html in $dir"; exit 2; }
chrome=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chrome" ] || { log "chromium not found (install the Debian package 'chromium')"; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --disable-extensions --hide-scrollbars --enable-logging=stderr --v=0)
url="file://$html"

# 1. Load the page, let its check run (virtual time runs timers and image
#    decoding to completion), and dump the resulting DOM.
if ! timeout 180 "$chrome" "${flags[@]}" --user-data-dir="$work/profile-dom" \
        --virtual-time-budget=15000 --window-size=1400,1000 \
        --dump-dom "$url" >"$work/dom.html" 2>"$work/dom.log"; then
    log "chromium failed while loading $html:"
    tail -n 20 "$work/dom.log" >&2
    exit 1
fi
body=$(grep -o '<body[^>]*>' "$work/dom.html" | head -n 1 || true)
attr() { sed -n "s/.* $1=\"\\([^\"]*\\)\".*/\\1/p" <<<"$body"; }
ok=$(attr data-report-ok)
failed=0
if [ "$ok" != 1 ]; then
    if [ -z "$ok" ]; then
        log "the page's check did not run (no data-report-ok on <body>)"
    else
        log "the page reports errors: $(attr data-report-errors)"
    fi
    failed=1
fi
if grep -E 'CONSOLE.*Uncaught' "$work/dom.log" >&2; then
    log "uncaught script error in the console (above)"
    failed=1
fi
log "plots: $(attr data-report-plots) of $(attr data-expected-plots); images decoded: $(attr data-report-images) of $(attr data-expected-images)"

# 2. Screenshot the whole page. Chromium draws at most ~16000 device pixels
#    in height, so a taller page is drawn at a device scale factor that fits
#    it (window sizes are in CSS pixels; the image is scaled by the factor).
height=$(attr data-report-height)
[[ "$height" =~ ^[0-9]+$ ]] || height=4000
# Some slack: the page measured in a 1000-pixel-high window can lay out a
# little taller in the screenshot's window.
height=$(( height < 1000 ? 1000 : height + height / 20 + 200 ))
max=16000
scale=1
if [ "$height" -gt "$max" ]; then
    # Truncated, not rounded, so the drawn height stays within the limit.
    scale=$(LC_ALL=C awk -v h="$height" -v m="$max" 'BEGIN { printf "%.4f", int(m * 10000 / h) / 10000 }')
fi
shot="$dir/screenshot.png"
rm -f "$shot"
if ! timeout 180 "$chrome" "${flags[@]}" --user-data-dir="$work/profile-shot" \
        --virtual-time-budget=15000 --window-size="1400,$height" \
        --force-device-scale-factor="$scale" \
        --screenshot="$shot" "$url" >"$work/shot.log" 2>&1; then
    log "chromium failed to take the screenshot:"
    tail -n 20 "$work/shot.log" >&2
    exit 1
fi
if [ ! -s "$shot" ] || [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" != 89504e470d0a1a0a ]; then
    log "no screenshot written to $shot"
    exit 1
fi
log "screenshot: $shot (the whole page, 1400x$height CSS pixels at scale $scale)"
if [ "$failed" != 0 ]; then
    exit 1
fi
log "ok: $html"
