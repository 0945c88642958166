#!/usr/bin/env bash
# voxd's Wyoming front end (Home Assistant), through a client written from the protocol
# (wyoming_client.py): describe/info, one-shot synthesize equal to HTTP's pcm, streaming
# synthesis split mid-sentence and mid-word, both framings, bad input -> error events,
# 20 concurrent clients with a Piper voice and RSS, a slow reader dropped, disconnect
# cancels, a unix socket without HTTP. (Stop -> first audio vs HTTP's first byte is a
# measurement: bench/wyoming_bench.sh.)
cd "$(dirname "$0")" && source ./lib.sh
MODELS=${VOX_SHARED:-../shared}/models
[ -f "$MODELS/en_US-rand-medium.onnx" ] || MODELS=$(cd ../../.. && pwd)/shared/models
PY=/usr/bin/python3
CLIENT=tests/server/wyoming_client.py
cd ../..

# run_client ADDR HTTP_PORT PID CHECKS...: the client's ok/FAIL lines into this test's counts
run_client() {
  local out
  out=$(timeout 600 $PY $CLIENT "$1" "$2" en_US-rand-medium "$3" "${@:4}" 2>&1)
  echo "$out"
  PASS=$((PASS + $(grep -c '^ok ' <<<"$out")))
  FAIL=$((FAIL + $(grep -c '^FAIL' <<<"$out")))
  [ -n "$out" ] || fail "client gave no output for ${*:4}"
}

# wy_addr NAME: the Wyoming address voxd logged
wy_addr() {
  local i
  for i in $(seq 1 100); do
    grep -q 'wyoming on ' "$TMP/$1.log" && break
    sleep 0.05
  done
  sed -n 's/.*wyoming on \(.*\)$/\1/p' "$TMP/$1.log" | head -1
}

cd tests/server
# --timeout 600: under ASan/TSan on a busy machine 20 clients x 2 Piper sentences on 2 workers
# outlast the default deadline; this test is about every client being served, not speed
start_server piper --workers 2 --timeout 600 --data-dir "$MODELS" --preload en_US-rand-medium \
  --wyoming tcp://127.0.0.1:0
WY=$(wy_addr piper)
cd ../..
check "voxd logs its Wyoming address" test -n "$WY"
run_client "$WY" "$PORT" "$SERVER_PID" describe oneshot stream errors concurrent

cd tests/server
start_server stub --workers 2 --stub-engine 30 --write-timeout 1 --wyoming tcp://127.0.0.1:0
WY=$(wy_addr stub)
cd ../..
run_client "$WY" "$PORT" "$SERVER_PID" slow disconnect

# a unix socket, Wyoming only
SOCK=$TMP/wy.sock
"$VOXD" --no-http --stub-engine 0 --wyoming "unix://$SOCK" >"$TMP/unix.log" 2>&1 &
UPID=$!
SERVER_PIDS+=("$UPID")
for i in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
check "--no-http --wyoming unix://: the socket is there" test -S "$SOCK"
check "--no-http: no HTTP listener logged" bash -c "! grep -q 'listening on http' '$TMP/unix.log'"
$PY - "$SOCK" <<'PYEOF' && ok "unix socket: describe -> info, synthesize -> audio" || fail "unix socket: describe, synthesize"
import sys
sys.path.insert(0, "tests/server")
import wyoming_client as w
c = w.connect("unix://" + sys.argv[1])
c.send("describe")
assert c.read()[0] == "info"
c.send("synthesize", {"text": "Hi there."})
evs = w.read_until(c, "audio-stop")
assert [e[0] for e in evs][0] == "audio-start" and sum(len(e[2]) for e in evs) == 9 * 320
PYEOF
kill -TERM "$UPID"
wait "$UPID"
check_eq "SIGTERM: voxd exits 0" "$?" 0
check "the unix socket is removed at exit" test ! -e "$SOCK"
check "--wyoming with a bad URI is refused" bash -c "! '$VOXD' --wyoming ftp://x --port 0 2>/dev/null"
check "--no-http without --wyoming is refused" bash -c "! '$VOXD' --no-http 2>/dev/null"
finish
