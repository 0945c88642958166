#!/usr/bin/env bash
# First audio byte from an idle voxd for one long sentence (issue 12): the Piper medium test
# voice, ~300 and ~1,000 characters (one sentence each), pcm and wav over HTTP/1.1, with
# loudness steady (voxd's default: streams from inside the sentence) and peak (Piper's
# level: the sentence is sent whole, the "before"), in the same run. Medians of RUNS.
# usage: bench/first_byte.sh [BUILD_DIR]   (env RUNS, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
RUNS=${RUNS:-3}
MODELS=${VOX_SHARED:-../shared}/models
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'kill $VPID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
"$B/voxd" --port 0 --port-file "$TMP/ports" --data-dir "$MODELS" --workers 2 \
  --preload en_US-rand-medium --quiet &
VPID=$!
for _ in $(seq 1 200); do [ -s "$TMP/ports" ] && break; sleep 0.05; done
PORT=$(awk '{print $1; exit}' "$TMP/ports")
for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.1; done
clause=("with many commas" "clauses and pauses" "that goes on and on" "through several ideas"
        "about streaming audio" "speech synthesis" "latency and memory" "and then some more")
long_text() { # long_text CHARS: one sentence of about CHARS characters
  local t="This is one long sentence" i=0
  while [ ${#t} -lt $(($1 - 20)) ]; do t+=", ${clause[$((i % 8))]}"; i=$((i + 1)); done
  echo "$t, until the end."
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-6s %-4s %-7s %12s %12s\n' chars fmt loud first_ms total_ms
for chars in 300 1000; do
  T=$(long_text "$chars")
  for fmt in pcm wav; do
    skip=0; [ "$fmt" = wav ] && skip=44
    for loud in steady peak; do
      body="{\"input\":\"$T\",\"voice\":\"en_US-rand-medium\",\"response_format\":\"$fmt\",\"sample_rate\":22050,\"loudness\":\"$loud\"}"
      $PY bench/first_byte.py "$PORT" "$skip" "$body" >/dev/null # warm
      : > "$TMP/r"
      for _ in $(seq 1 "$RUNS"); do $PY bench/first_byte.py "$PORT" "$skip" "$body" >> "$TMP/r"; done
      f=$($PY -c 'import json,sys; [print(json.loads(l)["first_ms"]) for l in sys.stdin]' < "$TMP/r" | median)
      t=$($PY -c 'import json,sys; [print(json.loads(l)["total_ms"]) for l in sys.stdin]' < "$TMP/r" | median)
      printf '%-6s %-4s %-7s %12s %12s\n' "${#T}" "$fmt" "$loud" "$f" "$t"
    done
  done
done
