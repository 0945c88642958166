# lib.sh — helpers for voxd's shell tests (sourced, not a test itself).
# Each test: source this, start_server ARGS..., run checks with ok/fail, then finish.
set -u
BUILD=${VOX_BUILD:-build}
VOXD=$BUILD/voxd
PASS=0
FAIL=0
TMP=$(mktemp -d /tmp/voxd-test.XXXXXX)
SERVER_PIDS=()

cleanup() {
  for p in "${SERVER_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [ "$FAIL" -gt 0 ]; then   # a failing test shows what the servers said
    for l in "$TMP"/*.log; do [ -f "$l" ] && { echo "--- $l (last 40 lines)"; tail -40 "$l"; }; done
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

ok()   { PASS=$((PASS + 1)); echo "ok   - $*"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() { # check "description" test-args...
  local d=$1; shift
  if "$@"; then ok "$d"; else fail "$d"; fi
}
check_eq() { # check_eq "description" got want
  if [ "$2" = "$3" ]; then ok "$1"; else fail "$1 (got '$2', want '$3')"; fi
}

# start_server NAME ARGS... : runs voxd on a free port; sets PORT (and PLAIN_PORT) and
# SERVER_PID; waits until /healthz answers (and /readyz unless NO_READY=1).
start_server() {
  local name=$1; shift
  [ -x "$VOXD" ] || { echo "voxd not built at $VOXD"; exit 1; }
  rm -f "$TMP/$name.port"
  "$VOXD" --host 127.0.0.1 --port 0 --port-file "$TMP/$name.port" "$@" >"$TMP/$name.log" 2>&1 &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  local i
  for i in $(seq 1 200); do
    [ -s "$TMP/$name.port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "voxd exited:"; cat "$TMP/$name.log"; exit 1; }
    sleep 0.05
  done
  read -r PORT PLAIN_PORT < "$TMP/$name.port"
  local scheme=http extra=()
  case " $* " in *" --tls-cert "*) scheme=https; extra=(-k);; esac
  for i in $(seq 1 400); do
    if curl -sf "${extra[@]}" "$scheme://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "voxd did not become ready:"; cat "$TMP/$name.log"; exit 1
}

finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
  exit $?
}

# raw_http PORT DATA: send raw bytes over plain TCP, print the response (5 s max).
raw_http() {
  local port=$1 data=$2
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf '%b' "$data" >&3
  timeout 5 cat <&3
  exec 3>&- 3<&-
}

# le32 FILE OFFSET: unsigned 32-bit little-endian value at OFFSET.
# fake_voice DIR: DIR/xx-fake-low.onnx{,.json}, a Piper voice that is listed but never
# loaded (an empty model; language xx, 16 kHz, low, speakers amy=0 and bob=1)
fake_voice() {
  mkdir -p "$1"
  /usr/bin/python3 - "${VOX_SHARED:-../../../shared}/models/en_US-rand3spk-x_low.onnx.json" \
    "$1/xx-fake-low.onnx.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["audio"] = {"sample_rate": 16000, "quality": "low"}
c["language"] = {"code": "xx"}
c["num_speakers"] = 2
c["speaker_id_map"] = {"bob": 1, "amy": 0}
json.dump(c, open(sys.argv[2], "w"))
PY
  : > "$1/xx-fake-low.onnx"
}
le32() { od -An -tu4 -j "$2" -N4 --endian=little "$1" | tr -d ' '; }
