#!/usr/bin/env bash
# Wyoming latency benchmark (not a test). Usage: bench/wyoming_bench.sh [BUILD_DIR]
# Idle voxd, Piper voice en_US-rand-medium (shared/models) loaded: the time from
# synthesize-stop of a one-sentence Wyoming stream (its text sent 100 ms before) to the
# first audio-chunk, against the time from an HTTP streamed pcm request of the same
# sentence to its first body byte; 10 pairs back to back in alternating order (the
# first pair is warm-up), medians, their ratio and the median paired difference.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
MODELS=${VOX_SHARED:-$ROOT/../shared}/models
TMP=$(mktemp -d /tmp/voxd-wybench.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
[ -x "$BUILD/voxd" ] || { echo "build voxd first"; exit 1; }
"$BUILD/voxd" --port 0 --port-file "$TMP/port" --workers "${WORKERS:-2}" --data-dir "$MODELS" \
  --preload en_US-rand-medium --wyoming tcp://127.0.0.1:0 >"$TMP/log" 2>&1 &
PID=$!
for i in $(seq 1 200); do grep -q ready "$TMP/log" && break; sleep 0.05; done
HP=$(cut -d' ' -f1 "$TMP/port")
WY=$(sed -n 's/.*wyoming on \(.*\)$/\1/p' "$TMP/log")
echo "== wyoming bench: $(nproc) cores, ${WORKERS:-2} workers, load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$ROOT/tests/server/wyoming_client.py" "$WY" "$HP" en_US-rand-medium "$PID" latency
