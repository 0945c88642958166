#!/bin/bash
# Streaming inside a sentence: bench/stream.sh BUILD_DIR  (run by `make bench` after the engine table)
#
# For each model (medium, x_low) and sentence size (30/200/800/2,000/3,000 random valid ids, fixed
# seed), 1 thread, noise off: `vox infer` one-shot and windowed (--window 8,256: a first
# window of 8 frames, later 256), side by side: time to the first window's audio, whole-
# sentence time of both and their ratio, RTF, peak RSS of each process (/usr/bin/time), and
# onnxruntime's one-shot time and peak RSS (no streaming there) when ortref is installed.
# Two ratios: `ratio` of the best of the runs (a warm process, as a server is) and `ratio1`
# of each process's first run (a fresh process, which alone pays for first-touch pages:
# the one-shot run touches far more new memory, so ratio1 flatters the windows).
# One-shot and windowed processes alternate BENCH_STREAM_ROUNDS times (default 2; the
# machine's speed drifts between processes), and the best of all is kept.
# Knobs: BENCH_STREAM_SIZES, BENCH_STREAM_MODELS, BENCH_STREAM_REPS (default 3),
# BENCH_STREAM=0 to skip (from run.sh).
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
SHARED=${VOX_SHARED:-$ROOT/../shared}
VOX="$BUILD/vox"
ORT="$SHARED/tools/ortref/ortref.js"
REPS=${BENCH_STREAM_REPS:-3}
ROUNDS=${BENCH_STREAM_ROUNDS:-2}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
have_ort=0
node -e "require('${VOX_ORTREF_DIR:-$HOME/.cache/vox-ortref}/node_modules/onnxruntime-node')" 2>/dev/null && have_ort=1

# random valid ids: BOS, (phoneme, pad)*, EOS; phonemes from the shared reference ids
mkids() {  # mkids N FILE
  /usr/bin/python3 - "$1" "$2" "$SHARED/reference/medium.ids" <<'PY'
import random, sys
n, out, src = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ph = [int(x) for x in open(src).read().replace(',', ' ').split() if int(x) > 2]
random.seed(n)
ids = [1]
while len(ids) < n - 1:
    ids += [random.choice(ph), 0]
ids = ids[:n - 1] + [2]
open(out, 'w').write(','.join(map(str, ids)))
PY
}
field() { sed -n "s/.*\"$1\":\\([0-9.]*\\).*/\\1/p" "$2"; }
minf() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
rss() { awk '/Maximum resident/ {printf "%.0f", $6/1024}' "$1"; }

echo
echo "Streaming inside a sentence (1 thread, noise off; windowed = --window 8,256; times in ms, best of $REPS runs x $ROUNDS processes):"
printf "%-7s %5s %8s | %9s %9s %6s %6s | %8s %8s | %7s %7s | %9s %8s\n" model ids audio_s first_ms \
  whole_ms ratio ratio1 rtf_one rtf_win rss_one rss_win ort_ms ort_rss
for m in ${BENCH_STREAM_MODELS:-medium x_low}; do
  case $m in medium) M="$SHARED/models/en_US-rand-medium.onnx"; SID="" ;;
             x_low) M="$SHARED/models/en_US-rand3spk-x_low.onnx"; SID="--sid 1" ;; esac
  for n in ${BENCH_STREAM_SIZES:-30 200 800 2000 3000}; do
    mkids "$n" "$TMP/ids"
    # one-shot and windowed processes alternate ROUNDS times (the machine's speed drifts);
    # the best of all their runs is kept, the first round's processes give ratio1 and RSS
    one=""; win=""; first=""
    for r in $(seq "$ROUNDS"); do
      # shellcheck disable=SC2086
      /usr/bin/time -v "$VOX" infer -m "$M" --ids @"$TMP/ids" $SID --reps "$REPS" >"$TMP/one$r" 2>"$TMP/one$r.t"
      # shellcheck disable=SC2086
      /usr/bin/time -v "$VOX" infer -m "$M" --ids @"$TMP/ids" $SID --reps "$REPS" --window 8,256 >"$TMP/win$r" 2>"$TMP/win$r.t"
      one=$(minf "$one" "$(field best_ms "$TMP/one$r")"); win=$(minf "$win" "$(field best_ms "$TMP/win$r")")
      first=$(minf "$first" "$(field first_ms "$TMP/win$r")")
    done
    cp "$TMP/one1" "$TMP/one"; cp "$TMP/one1.t" "$TMP/one.t"; cp "$TMP/win1.t" "$TMP/win.t"
    one1=$(field first_run_ms "$TMP/one1"); win1=$(field first_run_ms "$TMP/win1")
    samples=$(field samples "$TMP/one"); sr=$(field sample_rate "$TMP/one")
    ort="-"; ortrss="-"
    if [ $have_ort = 1 ]; then
      # shellcheck disable=SC2086
      /usr/bin/time -v node "$ORT" --model "$M" --ids @"$TMP/ids" $SID --scales 0,1,0 --threads 1 --reps "$REPS" \
        >"$TMP/ort" 2>"$TMP/ort.t" && { ort=$(field best_ms "$TMP/ort"); ortrss=$(rss "$TMP/ort.t"); }
    fi
    awk -v m=$m -v n=$n -v s="$samples" -v sr="$sr" -v f="$first" -v w="$win" -v o="$one" \
        -v w1="$win1" -v o1="$one1" -v r1="$(rss "$TMP/one.t")" \
        -v r2="$(rss "$TMP/win.t")" -v ort="$ort" -v orss="$ortrss" 'BEGIN {
      a = s / sr; printf "%-7s %5d %8.2f | %9.1f %9.1f %6.3f %6.3f | %8.4f %8.4f | %7s %7s | %9s %8s\n",
        m, n, a, f, w, w / o, w1 / o1, o / 1000 / a, w / 1000 / a, r1, r2, ort, orss }'
  done
done
echo "ratio = windowed whole-sentence time / one-shot (best of $REPS runs x $ROUNDS alternating processes: warm); ratio1 = the same of the first processes'"
echo "first run (fresh); first_ms: best of the windowed runs; rss in MB; ort: onnxruntime one-shot (no streaming)."
