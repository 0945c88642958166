#!/usr/bin/env bash
# voxd against hostile clients (issue 18), loopback and bounded: each attack runs for a few
# seconds while this script samples the server's RSS and open connections and checks that a
# normal client is still served. hostile.py (python3-h2 for HTTP/2) plays the attacks.
#   h2 window 0, h1 never reading, h1 trickle reading, h1 pipelining: RSS stays bounded and
#   the connections are closed within the write timeout; an h2 stream left open is reset at
#   the header timeout; bounds on work and strict framing answer 400.
# VOX_HOSTILE_OPTS replaces the options this fix added (to run the attacks on an old voxd).
cd "$(dirname "$0")" && source ./lib.sh
PY=/usr/bin/python3
$PY -c 'import h2' 2>/dev/null || { echo "python3-h2 missing (scripts/packages.txt)"; exit 1; }
HOSTILE="$PY $PWD/hostile.py"
NEW_OPTS=${VOX_HOSTILE_OPTS---max-audio 86400 --min-rate 1024}
RSS_MAX_KB=${VOX_HOSTILE_RSS_MAX_KB:-102400}   # 100 MB (idle: ~25 MB); the issue asks < 400 MB
# Under ASan/TSan the allocator keeps freed blocks in quarantine (ASan: up to 256 MB) and
# shadow memory counts too, so RSS says nothing about our buffers there: the bounds are
# checked in the release build (make test); a sanitized build prints the peaks, counts no
# check for them, and runs every other check.
rss_check() { # rss_check "description" PEAK_KB
  if [ -n "${VOX_SAN_FLAGS:-}" ]; then
    echo "# not checked under $VOX_SAN_FLAGS: $1 (peak $2 kB)"
  else
    check "$1 (peak $2 kB)" test "$2" -lt "$RSS_MAX_KB"
  fi
}

# shellcheck disable=SC2086
start_server main --workers 2 --write-timeout 3 --header-timeout 2 --idle-timeout 3 $NEW_OPTS
URL=http://127.0.0.1:$PORT
base_kb=$(ps -o rss= -p "$SERVER_PID" | tr -d ' ')
echo "# idle RSS ${base_kb} kB"

conns() { curl -s --max-time 2 "$URL/metrics" | awk '/^vox_connections /{print $2}'; }

# attack NAME MODE SECS: run it in the background; sample RSS / connections / a normal
# request every second. Sets PEAK_KB, NORMAL_OK (normal requests answered 200 / tried),
# CLEARED (seconds until only the sampler's connection was left, -1: never), OUT.
attack() {
  local name=$1 mode=$2 secs=$3
  $HOSTILE "$mode" "$PORT" "$secs" >"$TMP/$name.out" 2>&1 &
  local hp=$! t=0 kb ok=0 tried=0 n
  PEAK_KB=0; CLEARED=-1
  sleep 1
  while kill -0 "$hp" 2>/dev/null; do
    kb=$(ps -o rss= -p "$SERVER_PID" | tr -d ' ')
    [ -n "$kb" ] && [ "$kb" -gt "$PEAK_KB" ] && PEAK_KB=$kb
    if [ $((t % 3)) -eq 0 ]; then
      tried=$((tried + 1))
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL/v1/audio/speech" \
             -d '{"input":"A normal client.","response_format":"pcm"}')
      [ "$code" = 200 ] && ok=$((ok + 1))
    fi
    n=$(conns)
    [ "$CLEARED" = -1 ] && [ "${n:-9}" -le 1 ] && CLEARED=$t
    sleep 1
    t=$((t + 1))
  done
  wait "$hp"
  NORMAL_OK="$ok/$tried"
  OUT=$(cat "$TMP/$name.out")
  echo "# $name: peak RSS ${PEAK_KB} kB, normal $NORMAL_OK, connections cleared after ${CLEARED}s"
  echo "$OUT" | sed 's/^/#   /'
}
val() { echo "$OUT" | awk -v k="$1" '$1==k{print $2}'; }

# --- finding 1: h2, window 0, 10 streams of long audio, no WINDOW_UPDATE
attack h2w0 h2-window0 14
rss_check "h2 window 0: RSS under $RSS_MAX_KB kB" "$PEAK_KB"
check "h2 window 0: normal clients served ($NORMAL_OK)" test "${NORMAL_OK%/*}" = "${NORMAL_OK#*/}"
c=$(val closed_after)
check "h2 window 0: closed within write timeout + 3 s (after $c s)" \
  awk -v c="$c" 'BEGIN{exit !(c >= 0 && c <= 8)}'
check_eq "h2 window 0: GOAWAY before the close" "$(val goaway)" 1

# --- finding 2: h1 clients that never read
attack h1nr h1-noread 14
rss_check "h1 never reading: RSS under $RSS_MAX_KB kB" "$PEAK_KB"
check "h1 never reading: normal clients served ($NORMAL_OK)" test "${NORMAL_OK%/*}" = "${NORMAL_OK#*/}"
check "h1 never reading: connections closed within 8 s (after $CLEARED s)" test "$CLEARED" -ge 0 -a "$CLEARED" -le 8

# a trickle reader (64 KiB every 1.5 s) under --min-rate 100000: dropped
start_server trickle --workers 2 --write-timeout 3 --header-timeout 2 --idle-timeout 3 \
  ${VOX_HOSTILE_OPTS---max-audio 86400 --min-rate 100000}
$HOSTILE h1-trickle "$PORT" 16 >"$TMP/trickle.out" 2>&1
OUT=$(cat "$TMP/trickle.out"); echo "$OUT" | sed 's/^/#   trickle: /'
c=$(val closed_after)
check "h1 trickle reader below --min-rate: dropped (after $c s)" \
  awk -v c="$c" 'BEGIN{exit !(c >= 0 && c <= 10)}'
PORT_TRICKLE=$PORT
PORT=$(head -c 100 "$TMP/main.port" | awk '{print $1}')

# h1 pipelining: 1,000 requests, nothing read
attack pipe h1-pipeline 14
rss_check "h1 pipelining unread: RSS under $RSS_MAX_KB kB" "$PEAK_KB"
check "h1 pipelining unread: connection closed within 8 s (after $CLEARED s)" test "$CLEARED" -ge 0 -a "$CLEARED" -le 8
done_n=$(curl -s "$URL/metrics" | awk '/^vox_requests_total.*speech.*200/{s+=$2} END{print s+0}')
echo "# speech requests answered 200 so far: $done_n"
check "h1 pipelining unread: not all 1,000 synthesized ($done_n)" test "$done_n" -lt 200

# --- finding 3: an h2 stream left open (HEADERS without END_STREAM), then silence
attack h2open h2-open 10
r=$(val reset_after)
check "h2 open stream: reset at the header timeout (after $r s)" \
  awk -v c="$r" 'BEGIN{exit !(c >= 1.5 && c <= 4)}'
c=$(val closed_after)
check "h2 open stream: the idle connection closed then (after $c s)" \
  awk -v c="$c" 'BEGIN{exit !(c >= 0 && c <= 9)}'

# --- findings 4, 6, 7: bounds on work, strict framing, strict JSON (default limits)
start_server limits --stub-engine 1
URL=http://127.0.0.1:$PORT
code() { curl -s -o "$TMP/body" -w '%{http_code}' --max-time 20 "$URL/v1/audio/speech" "$@"; }
check_eq "sentence_silence 10 (> 5 s): 400" "$(code -d '{"input":"Hi.","sentence_silence":10}')" 400
amp=$($PY -c 'import json; print(json.dumps({"input": "A? " * 1365, "sentence_silence": 5}))')
check_eq "'A? ' x 1,365 with 5 s pauses (> --max-audio 600): 400" "$(code -d "$amp")" 400
check "  ... code audio_too_long" grep -q audio_too_long "$TMP/body"
emoji=$($PY -c 'print("{\"input\":\"" + "\\ud83d\\ude00" * 4096 + "\",\"response_format\":\"pcm\"}")')
check "4,096 emoji as escape pairs (49 KB, = --max-input): not 413" test "$(code -d "$emoji")" != 413
check_eq "JSON with trailing data: 400" "$(code -d '{"input":"Hi."} xyz')" 400
check_eq "NUL in voice: 400" "$(code -d '{"input":"Hi.","voice":"espeak:en-us\u0000x"}')" 400
# "fx": size f and an extension without ';' (the "0x2b" shape; test_http1 has 0x2b itself)
r=$(raw_http "$PORT" 'POST /v1/audio/speech HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfx\r\n{"input":"Hi."}\r\n0\r\n\r\n')
check "chunk size 'fx' (no ';' before the extension): 400" grep -q '^HTTP/1.1 400' <<<"$r"
r=$(raw_http "$PORT" 'POST /v1/audio/speech HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\nf\r\n{"input":"Hi."}\r\n0\r\n\r\n')
check "HTTP/1.0 + Transfer-Encoding: 400" grep -q '^HTTP/1.1 400' <<<"$r"
check "  ... and close" grep -qi '^connection: close' <<<"$r"
# --- finding 5 (part): espeak names are case-insensitive, so case variants share one entry
for v in espeak:EN-us espeak:En-Us espeak:en-US; do code -d "{\"input\":\"Hi.\",\"voice\":\"$v\"}" >/dev/null; done
n=$(curl -s "$URL/v1/voices" | $PY -c 'import json,sys; d=json.load(sys.stdin); v=d.get("voices", d.get("data", d)); print(sum(1 for x in v if str(x.get("name", x.get("id",""))).lower()=="espeak:en-us"))')
check_eq "case variants of espeak:en-us: one registry entry" "$n" 1

# --- finding 8: without --data-dir voices come from ~/.local/share/vox/voices only (listed
# there), never from the working directory
M=$(cd ../../../shared/models 2>/dev/null && pwd)
if [ -n "$M" ] && [ -f "$M/en_US-rand-medium.onnx" ]; then
  mkdir -p "$TMP/cwd" "$TMP/home/.local/share/vox/voices"
  ln -s "$M/en_US-rand-medium.onnx" "$TMP/cwd/en_US-cwd-medium.onnx"
  ln -s "$M/en_US-rand-medium.onnx.json" "$TMP/cwd/en_US-cwd-medium.onnx.json"
  ln -s "$M/en_US-rand-medium.onnx" "$TMP/home/.local/share/vox/voices/en_US-home-medium.onnx"
  ln -s "$M/en_US-rand-medium.onnx.json" "$TMP/home/.local/share/vox/voices/en_US-home-medium.onnx.json"
  VOXD=$(cd "$(dirname "$VOXD")" && pwd)/voxd
  here=$PWD; cd "$TMP/cwd"; OLD_HOME=$HOME; export HOME=$TMP/home
  start_server dirs --workers 1
  export HOME=$OLD_HOME; cd "$here"
  URL=http://127.0.0.1:$PORT
  l=$(curl -s "$URL/v1/voices")
  check "no --data-dir: the home voice dir is listed" grep -q en_US-home-medium <<<"$l"
  check "no --data-dir: the working directory is not listed" test -z "$(grep -o en_US-cwd-medium <<<"$l")"
  check_eq "no --data-dir: a voice in the working directory is not found" \
    "$(code -d '{"input":"Hi.","voice":"en_US-cwd-medium","response_format":"pcm"}')" 404
else
  fail "../shared/models/en_US-rand-medium.onnx missing"
fi

# --- finding 6: the TLS alert that was pending goes out before the close (TLS 1.2 client
# against a TLS 1.3-only voxd: protocol_version alert, not a bare EOF)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -keyout "$TMP/key.pem" \
  -out "$TMP/cert.pem" -subj /CN=localhost >/dev/null 2>&1
start_server tls --stub-engine 1 --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
r=$(timeout 5 openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 </dev/null 2>&1)
check "TLS 1.2 handshake refused with the alert (protocol version)" grep -qi 'alert protocol version' <<<"$r"

finish
