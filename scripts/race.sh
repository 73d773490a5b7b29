#!/usr/bin/env bash
# Two runs of one suite into one results directory at once, the survivor
# killed (SIGKILL) as soon as the first exits; then the run directory must
# read (`lossbench report`), and a rerun must finish every job with its rows.
#
#   scripts/race.sh [BINARY] [TRIALS] [SUITE]
#
# Defaults: target/release/lossbench if built, else target/debug/lossbench
# (what `make run` builds), 25 trials, tests/fixtures/e2e.yaml
# (synthetic data, two jobs). Prints one line per trial and a total; exits 1
# when any trial left a run that does not read or resume.
set -uo pipefail
default_bin=target/release/lossbench
[ -x "$default_bin" ] || default_bin=target/debug/lossbench
bin=${1:-$default_bin}
trials=${2:-25}
suite=${3:-tests/fixtures/e2e.yaml}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bad=0
for t in $(seq 1 "$trials"); do
    res="$work/$t/results" rep="$work/$t/reports"
    mkdir -p "$work/$t"
    "$bin" run "$suite" --device cpu --results "$res" --reports "$rep" >"$work/$t/a.log" 2>&1 &
    a=$!
    "$bin" run "$suite" --device cpu --results "$res" --reports "$rep" >"$work/$t/b.log" 2>&1 &
    b=$!
    # The first to exit ends the race; the other is killed where it stands.
    wait -n "$a" "$b"
    first=$?
    kill -9 "$a" "$b" 2>/dev/null
    wait "$a" "$b" 2>/dev/null
    run=$(find "$res" -mindepth 2 -maxdepth 2 -type d ! -name checkpoints | head -1)
    verdict=ok
    if ! "$bin" report "$run" --out "$work/$t/report" >"$work/$t/report.log" 2>&1; then
        verdict="report failed: $(head -c 300 "$work/$t/report.log" | tr '\n' ' ')"
    elif ! "$bin" run "$suite" --device cpu --results "$res" --reports "$rep" >"$work/$t/rerun.log" 2>&1; then
        verdict="rerun failed: $(grep -m1 error "$work/$t/rerun.log")"
    elif ! grep -q "job(s): .* done" "$work/$t/rerun.log" || grep -q " [1-9][0-9]* failed" "$work/$t/rerun.log"; then
        verdict="rerun incomplete: $(grep 'job(s):' "$work/$t/rerun.log")"
    fi
    # Every job the jobs table calls done has its metric rows (the report
    # reads through the same rule; this checks the CSV a person would open).
    if [ "$verdict" = ok ]; then
        missing=$(awk -F, 'NR==FNR { if (FNR > 1 && $7 == "done") done[$1] = 1; next }
                           FNR > 1 { seen[$1] = 1 }
                           END { for (j in done) if (!(j in seen)) print j }' \
                  "$run/jobs.csv" "$run/metrics.csv")
        [ -z "$missing" ] || verdict="done without metric rows: $missing"
    fi
    summary=$(grep -h "job(s):" "$work/$t/rerun.log" 2>/dev/null | tail -1)
    echo "trial $t: first exit $first; $verdict; rerun: ${summary:-none}"
    [ "$verdict" = ok ] || bad=$((bad + 1))
done
echo "$((trials - bad)) passed, $bad failed"
[ "$bad" = 0 ]
