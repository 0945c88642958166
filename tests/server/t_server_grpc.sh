#!/usr/bin/env bash
# voxd's gRPC service (vox.v1.Speech, grpc.health.v1) on its HTTP/2 port, with real
# clients: python3-grpcio (and python3-h2 for the wire-level checks) over h2c and over
# TLS 1.3 with ALPN h2, against the deterministic stub engine. The checks themselves are
# in grpc_checks.py; this script starts the servers and makes the HTTP reference audio.
cd "$(dirname "$0")" && source ./lib.sh
PY=/usr/bin/python3
$PY -c 'import grpc, grpc_tools, h2' 2>/dev/null || { echo "python3-grpcio/grpc-tools/h2 missing"; exit 1; }

# client stubs from the checked-in protos (health under another module name: python's
# `grpc` package would shadow grpc/health/v1)
mkdir -p "$TMP/stubs"
cp ../../proto/grpc/health/v1/health.proto "$TMP/stubs/vox_health.proto"
$PY -m grpc_tools.protoc -I"$TMP/stubs" -I../../proto --python_out="$TMP/stubs" \
  --grpc_python_out="$TMP/stubs" "$TMP/stubs/vox_health.proto" ../../proto/vox/v1/speech.proto \
  || { echo "protoc failed"; exit 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1 || { echo "openssl req failed"; exit 1; }

# a data dir with one (never loaded) Piper voice for ListVoices
fake_voice "$TMP/voices"

run_checks() { # run_checks GROUP PORT [args]: grpc_checks.py's lines counted as our checks
  local out
  out=$($PY grpc_checks.py "$TMP/stubs" "$2" "$1" --dir "$TMP" "${@:3}" 2>&1)
  echo "$out"
  PASS=$((PASS + $(grep -c '^ok ' <<<"$out")))
  FAIL=$((FAIL + $(grep -c '^FAIL ' <<<"$out")))
  grep -qE '^(ok|FAIL) ' <<<"$out" || fail "grpc_checks.py $1 ran no checks"
  grep -q 'Traceback' <<<"$out" && fail "grpc_checks.py $1 crashed"
}

TEXT='One two. Three four five! Six?'
http_refs() { # the same requests over HTTP, streamed, as the references
  local u=$1 f
  curl -sk -o "$TMP/http.pcm" "$u/v1/audio/speech" -d "{\"input\":\"$TEXT\",\"response_format\":\"pcm\",\"sample_rate\":16000}"
  for f in wav mp3 opus flac aac; do
    curl -sk -o "$TMP/http.$f" "$u/v1/audio/speech" -d "{\"input\":\"$TEXT\",\"response_format\":\"$f\"}"
  done
}

# h2c and TLS on one server (--plain-port), the basic group on each
start_server main --stub-engine 0 --workers 2 --data-dir "$TMP/voices" \
  --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --plain-port 0
http_refs "http://127.0.0.1:$PLAIN_PORT"
check_eq "reference: HTTP pcm" "$(stat -c %s "$TMP/http.pcm")" 8960
run_checks basic "$PLAIN_PORT"
run_checks basic "$PORT" --tls "$TMP/cert.pem"
check "HTTP still served next to gRPC" curl -sf -o /dev/null "http://127.0.0.1:$PLAIN_PORT/v1/voices"

start_server auth --stub-engine 0 --api-key sekrit
run_checks auth "$PORT" --key sekrit

start_server busy --stub-engine 300 --queue 1
run_checks busy "$PORT"

start_server slow --stub-engine 300 --workers 1
run_checks slow "$PORT"

start_server flow --stub-engine 20 --workers 2
run_checks flow "$PORT"
start_server flowtls --stub-engine 20 --workers 2 --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
run_checks flow "$PORT" --tls "$TMP/cert.pem"

start_server quiet --stub-engine 300 --workers 1 --header-timeout 1
run_checks quiet "$PORT"

start_server drain --stub-engine 0
run_checks drain "$PORT" --pid "$SERVER_PID"

finish
