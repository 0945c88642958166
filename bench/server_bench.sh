#!/usr/bin/env bash
# voxd benchmark (not a test). Usage: bench/server_bench.sh BUILD_DIR
# Env: BENCH_SECONDS (load phases, default 20), RSS_SECONDS (default 60), VOICE
# (default espeak:en-us), DATA_DIR (voice dir), WORKERS (default nproc).
#
# Reports, on one fixed input and in one run:
#   raw engine throughput  — the vox CLI synthesizing the input N times in one process
#   server throughput      — wrk (HTTP/1.1, latency percentiles) and h2load (h2c), req/s
#   fraction               — server req/s / raw engine req/s
#   time to first audio    — from voxd's own vox_ttfb_seconds histogram (mean, p50, p99)
#   RSS                    — sampled each second over RSS_SECONDS at 2x saturation
set -euo pipefail
BUILD=${1:-build}
SECS=${BENCH_SECONDS:-20}
RSS_SECS=${RSS_SECONDS:-60}
VOICE=${VOICE:-espeak:en-us}
WORKERS=${WORKERS:-$(nproc)}
TMP=$(mktemp -d /tmp/voxd-bench.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
for t in wrk h2load curl; do command -v $t >/dev/null || { echo "need $t (scripts/setup.sh)"; exit 1; }; done
[ -x "$BUILD/voxd" ] && [ -x "$BUILD/vox" ] || { echo "build voxd and vox first"; exit 1; }

TEXT="The quick brown fox jumps over the lazy dog. A second sentence follows the first one. And a third, shorter one."
printf '{"model":"tts-1","voice":"%s","input":"%s","response_format":"pcm"}' "$VOICE" "$TEXT" > "$TMP/req.json"
dd_args=()
[ -n "${DATA_DIR:-}" ] && dd_args=(--data-dir "$DATA_DIR")

echo "== voxd bench: voice $VOICE, $WORKERS workers, $(nproc) cores, input ${#TEXT} chars"

# --- raw engine: N syntheses of the same input, one process
N=40
for i in $(seq 1 $N); do echo "$TEXT"; done > "$TMP/lines.txt"
mkdir -p "$TMP/raw"
t0=$(date +%s.%N)
"$BUILD/vox" -m "$VOICE" "${dd_args[@]}" -d "$TMP/raw" < "$TMP/lines.txt" >/dev/null 2>&1
t1=$(date +%s.%N)
raw_rps=$(awk -v n=$N -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", n/(b-a)}')
audio_s=$(awk -v b="$(stat -c %s "$TMP/raw/0.wav")" 'BEGIN{printf "%.2f", (b-44)/2/22050}')
echo "raw engine (1 thread, vox CLI): $raw_rps syntheses/s (~${audio_s} s of audio each)"
raw_mt=""
if [ "$WORKERS" -gt 1 ]; then
  t0=$(date +%s.%N)
  for w in $(seq 1 "$WORKERS"); do
    mkdir -p "$TMP/raw$w"
    "$BUILD/vox" -m "$VOICE" "${dd_args[@]}" -d "$TMP/raw$w" < "$TMP/lines.txt" >/dev/null 2>&1 &
  done
  wait
  t1=$(date +%s.%N)
  raw_mt=$(awk -v n=$((N * WORKERS)) -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", n/(b-a)}')
  echo "raw engine ($WORKERS processes in parallel): $raw_mt syntheses/s"
fi

# --- server
"$BUILD/voxd" --port 0 --port-file "$TMP/port" --workers "$WORKERS" --queue 100000 --quiet \
  --voice "$VOICE" "${dd_args[@]}" > "$TMP/voxd.log" 2>&1 &
PID=$!
for i in $(seq 1 200); do [ -s "$TMP/port" ] && break; sleep 0.05; done
read -r PORT _ < "$TMP/port"
URL=http://127.0.0.1:$PORT/v1/audio/speech
for i in $(seq 1 200); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.05; done
curl -sf -o /dev/null "$URL" -d @"$TMP/req.json" || { echo "warm-up request failed"; cat "$TMP/voxd.log"; exit 1; }

cat > "$TMP/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$TMP/req.json"); wrk.body = f:read("*a"); f:close()
LUA
C=$((WORKERS * 2))
echo "-- wrk HTTP/1.1, $C connections, ${SECS}s"
wrk -t 2 -c $C -d "${SECS}s" --latency -s "$TMP/post.lua" "$URL" > "$TMP/wrk.txt" 2>&1 || true
wrk_rps=$(awk '/^Requests\/sec/{print $2}' "$TMP/wrk.txt")
p50=$(awk '$1=="50%"{print $2}' "$TMP/wrk.txt"); p99=$(awk '$1=="99%"{print $2}' "$TMP/wrk.txt")
non2xx=$(awk '/Non-2xx/{print $NF}' "$TMP/wrk.txt"); non2xx=${non2xx:-0}
echo "wrk: $wrk_rps req/s, latency p50 $p50, p99 $p99, non-2xx $non2xx"

echo "-- h2load h2c, 1 connection x $C streams, ${SECS}s"
h2load -D "$SECS" -c 1 -m $C -d "$TMP/req.json" "$URL" > "$TMP/h2load.txt" 2>&1 || true
h2_rps=$(awk '/^finished in/{gsub(",","",$4); print $4}' "$TMP/h2load.txt")
grep -E '^requests:|^status codes:|time for request:|time to 1st byte:' "$TMP/h2load.txt" | sed 's/^/  /'
echo "h2load: $h2_rps req/s"

curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/metrics.txt"
awk '
  /^vox_ttfb_seconds_bucket/ { match($0, /le="[^"]+"/); le = substr($0, RSTART+4, RLENGTH-5); b[n] = le; c[n++] = $2 }
  /^vox_ttfb_seconds_sum/ { s = $2 } /^vox_ttfb_seconds_count/ { t = $2 }
  /^vox_rtf_sum/ { rs = $2 } /^vox_rtf_count/ { rc = $2 }
  END {
    for (i = 0; i < n; i++) { if (!p50 && c[i] >= t * 0.5) p50 = b[i]; if (!p99 && c[i] >= t * 0.99) p99 = b[i] }
    printf "time to first audio byte (server-side, %d requests): mean %.1f ms, p50 <= %s s, p99 <= %s s\n", t, 1000 * s / t, p50, p99
    printf "mean RTF per request (synthesis/audio): %.3f\n", rs / rc
  }' "$TMP/metrics.txt"

best=$(awk -v a="${wrk_rps:-0}" -v b="${h2_rps:-0}" 'BEGIN{print (a > b ? a : b)}')
awk -v s="$best" -v r="$raw_rps" -v m="${raw_mt:-0}" 'BEGIN{
  printf "server / raw engine (1 thread): %.2f\n", s / r
  if (m > 0) printf "server / raw engine (%s parallel processes): %.2f\n", "'"$WORKERS"'", s / m }'

# --- RSS at 2x saturation
C2=$((WORKERS * 4))
echo "-- RSS over ${RSS_SECS}s at 2x saturation ($C2 connections, queue unbounded)"
wrk -t 2 -c $C2 -d "${RSS_SECS}s" -s "$TMP/post.lua" "$URL" > "$TMP/wrk2.txt" 2>&1 &
WPID=$!
: > "$TMP/rss.txt"
for i in $(seq 1 "$RSS_SECS"); do
  awk '/^VmRSS/{print $2}' "/proc/$PID/status" >> "$TMP/rss.txt" 2>/dev/null || break
  sleep 1
done
wait $WPID || true
awk '{ if (NR == 1 || $1 < mn) mn = $1; if ($1 > mx) mx = $1; v[NR] = $1 }
     END { printf "RSS (KiB): first %d, min %d, max %d, last %d over %d samples\n", v[1], mn, mx, v[NR], NR }' "$TMP/rss.txt"
echo "wrk at 2x: $(awk '/^Requests\/sec/{print $2}' "$TMP/wrk2.txt") req/s"
kill -TERM $PID; wait $PID; PID=""
echo "voxd exited cleanly after SIGTERM"
