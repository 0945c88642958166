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
[ -x "$BUILD/voxd" ] || { echo "build voxd first"; exit 1; }

TEXT="The quick brown fox jumps over the lazy dog. A second sentence follows the first one. And a third, shorter one."
printf '{"model":"tts-1","voice":"%s","input":"%s","response_format":"pcm"}' "$VOICE" "$TEXT" > "$TMP/req.json"
dd_args=()
[ -n "${DATA_DIR:-}" ] && dd_args=(--data-dir "$DATA_DIR")

echo "== voxd bench: voice $VOICE, $WORKERS workers, $(nproc) cores, input ${#TEXT} chars"

# --- raw engine: the same input through libvox in-process (one vox_synth per input),
# on 1 thread and on WORKERS threads, built here against the build's libvoxcore.a.
cat > "$TMP/raw.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vox.h"
static vox_voice *voice; static const char *text; static int per_thread; static double audio[64];
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static void *run(void *arg) {
  int id = (int)(long)arg;
  for (int i = 0; i < per_thread; i++) {
    vox_synth_options o; vox_synth_options_init(&o); o.seed = 1;
    vox_synth *s; if (vox_synth_start(voice, text, strlen(text), &o, &s)) exit(1);
    vox_chunk c; do { if (vox_synth_next(s, &c)) exit(1); audio[id] += (double)c.n_samples / c.sample_rate; } while (!c.last);
    vox_synth_free(s);
  }
  return NULL;
}
int main(int argc, char **argv) {
  char err[256]; vox_load_options lo; vox_load_options_init(&lo); lo.threads = 1;
  const char *dirs[1] = {argc > 5 ? argv[5] : "."}; if (argc > 5) { lo.data_dirs = dirs; lo.n_data_dirs = 1; }
  if (vox_voice_load(argv[1], &lo, &voice, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
  text = argv[2]; int n = atoi(argv[3]), th = atoi(argv[4]); per_thread = n / th;
  pthread_t t[64]; double t0 = now();
  for (int i = 0; i < th; i++) pthread_create(&t[i], NULL, run, (void *)(long)i);
  double a = 0; for (int i = 0; i < th; i++) { pthread_join(t[i], NULL); a += audio[i]; }
  double w = now() - t0;
  printf("%.2f %.1f\n", per_thread * th / w, a / w); /* inputs/s, audio s per s */
  return 0;
}
C
raw_rps=0; raw_rate=0; raw_mt_rate=0; raw_mt_rps=0
if cc -O2 -I"$(dirname "$0")/../include" "$TMP/raw.c" "$BUILD/libvoxcore.a" -lespeak-ng -lcjson -lm -lpthread \
     -o "$TMP/raw" 2>"$TMP/raw.err"; then
  read -r raw_rps raw_rate < <("$TMP/raw" "$VOICE" "$TEXT" 100 1 ${DATA_DIR:-})
  echo "raw engine (libvox in-process, 1 thread): $raw_rps inputs/s, $raw_rate s of audio per s"
  if [ "$WORKERS" -gt 1 ]; then
    read -r raw_mt_rps raw_mt_rate < <("$TMP/raw" "$VOICE" "$TEXT" 100 "$WORKERS" ${DATA_DIR:-})
    echo "raw engine (libvox in-process, $WORKERS threads): $raw_mt_rps inputs/s, $raw_mt_rate s of audio per s"
  fi
else
  echo "(could not build the in-process raw bench: $(head -1 "$TMP/raw.err")); no raw figures"
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

# --- streaming on an idle server: time to the first AUDIO byte (voxd's own histogram,
# measured when the first sentence's samples are written; curl's time_starttransfer
# would count the response headers) vs the whole response (curl's time_total).
ttfb_sum() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^vox_ttfb_seconds_sum/{s=$2} /^vox_ttfb_seconds_count/{c=$2} END{print s, c}'; }
read -r s0 c0 < <(ttfb_sum)
for i in 1 2 3 4 5; do
  curl -s -o /dev/null -w '%{time_total}\n' "$URL" -d @"$TMP/req.json"
done > "$TMP/idle.txt"
read -r s1 c1 < <(ttfb_sum)
sort -n "$TMP/idle.txt" | awk -v ds="$(awk -v a="$s0" -v b="$s1" 'BEGIN{print b-a}')" -v dc="$((c1 - c0))" \
  '{ w[NR] = $1 } END { t = dc > 0 ? ds / dc : 0; printf "idle, 5 requests: first audio byte (server) mean %.1f ms; whole response median %.1f ms (%.0f%%)\n", 1000 * t, 1000 * w[3], 100 * t / w[3] }'

cat > "$TMP/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$TMP/req.json"); wrk.body = f:read("*a"); f:close()
LUA
audio_total() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^vox_audio_seconds_total/{print $2}'; }
C=$((WORKERS * 2))
echo "-- wrk HTTP/1.1, $C connections, ${SECS}s"
a0=$(audio_total)
wrk -t 2 -c $C -d "${SECS}s" --timeout 120s --latency -s "$TMP/post.lua" "$URL" > "$TMP/wrk.txt" 2>&1 || true
wrk_rps=$(awk '/^Requests\/sec/{print $2}' "$TMP/wrk.txt")
p50=$(awk '$1=="50%"{print $2}' "$TMP/wrk.txt"); p99=$(awk '$1=="99%"{print $2}' "$TMP/wrk.txt")
non2xx=$(awk '/Non-2xx/{print $NF}' "$TMP/wrk.txt"); non2xx=${non2xx:-0}
a1=$(audio_total)
srv_rate=$(awk -v a="$a0" -v b="$a1" -v t="$SECS" 'BEGIN{printf "%.1f", (b-a)/t}')
echo "wrk: $wrk_rps req/s, latency p50 $p50, p99 $p99, non-2xx $non2xx; $srv_rate s of audio per s"

echo "-- h2load h2c, 1 connection x $C streams, ${SECS}s"
h2load -D "$SECS" -c 1 -m $C -w 24 -W 30 -d "$TMP/req.json" "$URL" > "$TMP/h2load.txt" 2>&1 || true
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

awk -v s="${wrk_rps:-0}" -v r="$raw_rps" -v m="${raw_mt_rps:-0}" -v w="$WORKERS" 'BEGIN{
  if (r > 0) printf "server req/s (wrk) / raw engine inputs/s: %.2f (1 thread), %.2f (%d threads)\n", s / r, (m > 0 ? s / m : 0), w }'
awk -v s="$srv_rate" -v r="$raw_rate" -v m="$raw_mt_rate" -v w="$WORKERS" 'BEGIN{
  if (r > 0) printf "server throughput / raw engine (1 thread): %.2f\n", s / r
  if (m > 0) printf "server throughput / raw engine (%d threads): %.2f\n", w, s / m }'

# --- RSS at 2x saturation: 10 s of warm-up at that load (pools and caches fill), then
# RSS sampled every second for RSS_SECS; flat means max within 10% of min.
C2=$((WORKERS * 4))
echo "-- RSS at 2x saturation ($C2 connections): 10 s warm-up, then ${RSS_SECS}s sampled"
wrk -t 2 -c $C2 -d "$((RSS_SECS + 10))s" --timeout 120s -s "$TMP/post.lua" "$URL" > "$TMP/wrk2.txt" 2>&1 &
WPID=$!
sleep 10
: > "$TMP/rss.txt"
for i in $(seq 1 "$RSS_SECS"); do
  awk '/^VmRSS/{print $2}' "/proc/$PID/status" >> "$TMP/rss.txt" 2>/dev/null || break
  sleep 1
done
wait $WPID || true
awk '{ if (NR == 1 || $1 < mn) mn = $1; if ($1 > mx) mx = $1; v[NR] = $1 }
     END { printf "RSS (KiB): first %d, min %d, max %d, last %d over %d samples: spread %.1f%% -> %s\n",
                  v[1], mn, mx, v[NR], NR, 100 * (mx - mn) / mn, (mx <= 1.10 * mn) ? "flat (within 10%)" : "NOT flat" }' "$TMP/rss.txt"
n2=$(awk '/Non-2xx/{print $NF}' "$TMP/wrk2.txt"); serr=$(grep -o 'Socket errors:.*' "$TMP/wrk2.txt" || true)
echo "wrk at 2x: $(awk '/^Requests\/sec/{print $2}' "$TMP/wrk2.txt") req/s, non-2xx ${n2:-0}${serr:+, $serr}"
curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^vox_requests_total/ && /code="/ { match($0, /code="[0-9]+"/); c = substr($0, RSTART+6, 3); n[c] += $2 }
  END { for (c in n) printf "  responses with code %s: %d\n", c, n[c]; }'
kill -TERM $PID; wait $PID; PID=""
echo "voxd exited cleanly after SIGTERM"
