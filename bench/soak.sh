#!/usr/bin/env bash
# voxd soak bench (not a test; issue 18). Usage: bench/soak.sh [BUILD_DIR]
# Loopback only, bounded: SOAK_SECONDS (default 600) of load on one voxd with a Piper voice
# (../shared's en_US-rand-medium, else VOICE), after BASE_SECONDS (default 20) of the same
# normal clients alone for the unloaded p99. Under load:
#   normal clients  2 x workers closed-loop HTTP/1.1 clients (2x saturation), each request
#                   a streamed pcm response read to the end
#   hostile         in rotation, one at a time: a slow reader below --min-rate, an h2
#                   client with window 0 and 10 streams, clients that disconnect
#                   mid-response, a pipeliner that never reads (tests/server/hostile.py)
# Prints RSS min/max after warm-up (first 20 % of the run) and their spread, requests
# admitted vs rejected (429), errors on admitted requests (must be 0), p50/p99 of normal
# clients loaded and unloaded, and the ratio.
set -uo pipefail
BUILD=${1:-build}
SECS=${SOAK_SECONDS:-600}
BASE=${BASE_SECONDS:-20}
WORKERS=${WORKERS:-$(nproc)}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/voxd-soak.XXXXXX)
PID=""; HPID=""
trap '[ -n "$HPID" ] && kill $HPID 2>/dev/null; [ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
[ -x "$BUILD/voxd" ] || { echo "build voxd first"; exit 1; }
MODELS=$HERE/../shared/models
if [ -f "$MODELS/en_US-rand-medium.onnx" ]; then VOICE=${VOICE:-en_US-rand-medium}; DD=(--data-dir "$MODELS")
else VOICE=${VOICE:-espeak:en-us}; DD=(); fi

"$BUILD/voxd" --host 127.0.0.1 --port 0 --port-file "$TMP/port" --workers "$WORKERS" \
  --voice "$VOICE" "${DD[@]}" --queue $((WORKERS * 2)) --write-timeout 5 --min-rate 4096 \
  --header-timeout 5 --idle-timeout 10 --quiet >"$TMP/voxd.log" 2>&1 &
PID=$!
for _ in $(seq 200); do [ -s "$TMP/port" ] && break; sleep 0.05; done
read -r PORT _ < "$TMP/port"
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "== soak: voice $VOICE, $WORKERS workers, queue $((WORKERS * 2)), ${SECS}s loaded after ${BASE}s unloaded"

# normal clients: N threads for S seconds; one line per request: status latency bytes
cat > "$TMP/normal.py" <<'PY'
import http.client, json, sys, threading, time
port, n, secs, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
body = json.dumps({"input": "The quick brown fox jumps over the lazy dog. A second sentence.",
                   "response_format": "pcm", "voice": sys.argv[5]})
lines, lock = [], threading.Lock()
def run():
    end = time.time() + secs
    while time.time() < end:
        t0 = time.time()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("POST", "/v1/audio/speech", body, {"content-type": "application/json"})
            r = c.getresponse(); d = r.read(); st = r.status
            if st == 200 and len(d) == 0: st = -2        # empty audio: an error
            c.close()
        except Exception:
            st, d = -1, b""                              # reset, truncated chunked body, timeout
        with lock: lines.append("%d %.4f %d" % (st, time.time() - t0, len(d)))
        if st == 429: time.sleep(0.05)
ts = [threading.Thread(target=run) for _ in range(n)]
[t.start() for t in ts]; [t.join() for t in ts]
open(out, "w").write("\n".join(lines) + "\n")
PY
stats() { # file label: prints the counts; the admitted requests' p99 goes to stderr
  local a r e n p50 p99
  n=$(wc -l < "$1"); a=$(awk '$1==200' "$1" | wc -l); r=$(awk '$1==429' "$1" | wc -l)
  e=$((n - a - r))
  awk '$1==200{print $2}' "$1" | sort -n > "$1.lat"
  p50=$(awk -v k=$(( (a + 1) / 2 )) 'NR==k' "$1.lat"); p99=$(awk -v k=$(( (a * 99 + 99) / 100 )) 'NR==k' "$1.lat")
  printf '%s: %d requests, admitted %d, rejected (429) %d, errors on admitted %d, p50 %ss p99 %ss\n' \
    "$2" "$n" "$a" "$r" "$e" "${p50:-?}" "${p99:-?}"
  echo "${p99:-0}" >&2
}
$PY "$TMP/normal.py" "$PORT" $((WORKERS * 2)) "$BASE" "$TMP/base.txt" "$VOICE"
stats "$TMP/base.txt" unloaded 2>"$TMP/p99b"; p99_base=$(cat "$TMP/p99b")

# hostile rotation in the background for the whole run
(
  end=$(( $(date +%s) + SECS ))
  i=0
  while [ "$(date +%s)" -lt "$end" ]; do
    case $((i % 4)) in
      0) $PY "$HERE/tests/server/hostile.py" h1-trickle "$PORT" 12 ;;
      1) $PY "$HERE/tests/server/hostile.py" h2-window0 "$PORT" 12 ;;
      2) for _ in $(seq 20); do curl -s -o /dev/null --max-time 0.3 "http://127.0.0.1:$PORT/v1/audio/speech" \
           -d '{"input":"A client that leaves early. It does not wait for the end.","response_format":"pcm"}'; done ;;
      3) $PY "$HERE/tests/server/hostile.py" h1-pipeline "$PORT" 12 ;;
    esac >/dev/null 2>&1
    i=$((i + 1))
  done
) &
HPID=$!
# RSS once a second
( while kill -0 $PID 2>/dev/null; do ps -o rss= -p $PID; sleep 1; done ) > "$TMP/rss.txt" &
RPID=$!
$PY "$TMP/normal.py" "$PORT" $((WORKERS * 2)) "$SECS" "$TMP/load.txt" "$VOICE"
kill $RPID 2>/dev/null; wait $HPID 2>/dev/null; HPID=""
stats "$TMP/load.txt" "loaded  " 2>"$TMP/p99l"; p99_load=$(cat "$TMP/p99l")
awk -v n="$(wc -l < "$TMP/rss.txt")" 'NR > n * 0.2 {if(min==""||$1<min)min=$1; if($1>max)max=$1}
  END{printf "RSS after warm-up: min %.1f MB, max %.1f MB, spread %.1f%% (bound 10%%)\n", min/1024, max/1024, (max-min)*100/min}' "$TMP/rss.txt"
awk -v a="$p99_load" -v b="$p99_base" 'BEGIN{printf "p99 loaded / unloaded: %.2f (bound 2.00)\n", (b > 0 ? a / b : 0)}'
