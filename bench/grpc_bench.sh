#!/usr/bin/env bash
# gRPC vs HTTP/2 throughput at saturation (not a test). Usage: bench/grpc_bench.sh BUILD_DIR
# Env: BENCH_SECONDS (each phase, default 15), BENCH_TEXT (the input; default three sentences), VOICE (default espeak:en-us; a Piper voice
# with DATA_DIR, e.g. VOICE=en_US-rand-medium DATA_DIR=../shared/models), WORKERS
# (default nproc), STREAMS (concurrent streams, default 4 x WORKERS), STUB_MS (set: the
# stub engine with that many ms a sentence instead of libvox, to weigh the transport alone).
#
# One voxd, one h2load client, the same text and PCM output, the same concurrency:
#   HTTP/2  POST /v1/audio/speech (OpenAI JSON, response_format pcm)
#   gRPC    /vox.v1.Speech/Synthesize (the same request as a length-prefixed protobuf)
# alternating phases (h2 grpc grpc h2), then both at once (half the streams each: on a
# shared machine the fairest comparison), and prints req/s and audio-seconds/s of each
# and the ratios gRPC / HTTP/2 (target >= 0.95). A gRPC call answers HTTP 200 even when it
# fails, so each gRPC phase is checked by its response bytes per request, and one call is
# made first with python3-grpcio to check grpc-status 0 and the audio size.
set -euo pipefail
BUILD=${1:-build}
SECS=${BENCH_SECONDS:-15}
VOICE=${VOICE:-espeak:en-us}
WORKERS=${WORKERS:-$(nproc)}
STREAMS=${STREAMS:-$((4 * WORKERS))}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/voxd-grpcbench.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
command -v h2load >/dev/null || { echo "need h2load (nghttp2-client)"; exit 1; }
[ -x "$BUILD/voxd" ] || { echo "build voxd first"; exit 1; }
PY=/usr/bin/python3

TEXT=${BENCH_TEXT:-"The quick brown fox jumps over the lazy dog. A second sentence follows the first one. And a third, shorter one."}
engine=()
[ -n "${STUB_MS:-}" ] && engine=(--stub-engine "$STUB_MS")
[ -n "${DATA_DIR:-}" ] && engine+=(--data-dir "$DATA_DIR")
"$BUILD/voxd" --host 127.0.0.1 --port 0 --port-file "$TMP/port" --workers "$WORKERS" \
  --voice "$VOICE" "${engine[@]}" > "$TMP/voxd.log" 2>&1 &
PID=$!
for i in $(seq 1 600); do
  [ -s "$TMP/port" ] && curl -sf "http://127.0.0.1:$(cut -d' ' -f1 "$TMP/port")/readyz" >/dev/null && break
  sleep 0.1
done
PORT=$(cut -d' ' -f1 "$TMP/port")

# the requests: the same text, voice, format and rate
RATE=$(curl -s "http://127.0.0.1:$PORT/v1/voices" | $PY -c "import json,sys; d=json.load(sys.stdin)['data']; print([v['sample_rate'] for v in d if v['id']=='$VOICE'][0])")
printf '{"input":"%s","voice":"%s","response_format":"pcm","sample_rate":%s}' "$TEXT" "$VOICE" "$RATE" > "$TMP/req.json"
mkdir -p "$TMP/stubs"
$PY -m grpc_tools.protoc -I"$ROOT/proto" --python_out="$TMP/stubs" --grpc_python_out="$TMP/stubs" \
  "$ROOT/proto/vox/v1/speech.proto"
$PY - "$TMP" "$PORT" "$TEXT" "$VOICE" "$RATE" <<'PY'
import sys
tmp, port, text, voice, rate = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
sys.path.insert(0, tmp + "/stubs")
import grpc
from vox.v1 import speech_pb2 as pb, speech_pb2_grpc as pg
req = pb.SynthesizeRequest(text=text, voice=voice, sample_rate=rate).SerializeToString()
open(tmp + "/req.grpc", "wb").write(b"\0" + len(req).to_bytes(4, "big") + req)
st = pg.SpeechStub(grpc.insecure_channel("127.0.0.1:" + port))
audio = b"".join(c.audio for c in st.Synthesize(pb.SynthesizeRequest.FromString(req), timeout=60))
open(tmp + "/grpc.pcm", "wb").write(audio)
PY
curl -s -o "$TMP/http.pcm" -d @"$TMP/req.json" "http://127.0.0.1:$PORT/v1/audio/speech"
PCM=$(stat -c %s "$TMP/http.pcm")
# the stub is deterministic: the same bytes; espeak's audio varies by a few samples from
# run to run (as between two HTTP requests): the same length within 1%
G=$(stat -c %s "$TMP/grpc.pcm")
if ! cmp -s "$TMP/http.pcm" "$TMP/grpc.pcm"; then
  if [ -n "${STUB_MS:-}" ] || [ $((G * 100 / PCM)) -lt 99 ] || [ $((G * 100 / PCM)) -gt 101 ]; then
    echo "gRPC audio differs from HTTP/2's ($G vs $PCM bytes): not comparable"; exit 1
  fi
fi
MIN_BYTES=$((PCM * 98 / 100))
AUDIO_S=$(awk -v b="$PCM" -v r="$RATE" 'BEGIN{printf "%.3f", b / 2 / r}')
echo "== gRPC vs HTTP/2: voice $VOICE${STUB_MS:+ (stub engine, ${STUB_MS} ms a sentence)}, $WORKERS workers, $(nproc) cores, $STREAMS streams on 1 connection, ${SECS}s a phase"
echo "   request: ${#TEXT} chars -> $PCM bytes of pcm ($AUDIO_S s of audio), the same over both"

run() { # run h2|grpc [STREAMS TAG] -> prints req/s; checks every request got the whole audio
  local kind=$1 m=${2:-$STREAMS} out=$TMP/$1${3:-}.txt
  if [ "$kind" = h2 ]; then
    h2load -D "$SECS" -c 1 -m "$m" -w 24 -W 30 -d "$TMP/req.json" \
      "http://127.0.0.1:$PORT/v1/audio/speech" > "$out" 2>&1 || true
  else
    h2load -D "$SECS" -c 1 -m "$m" -w 24 -W 30 -d "$TMP/req.grpc" \
      -H 'content-type: application/grpc' -H 'te: trailers' \
      "http://127.0.0.1:$PORT/vox.v1.Speech/Synthesize" > "$out" 2>&1 || true
  fi
  local ok bytes
  ok=$(awk '/^requests:/{print $8}' "$out")
  bytes=$(awk '/^traffic:/{for(i=1;i<=NF;i++) if($i=="data" || $i=="data,") {v=$(i-1); gsub(/[()]/,"",v); print v}}' "$out")
  if [ -z "$ok" ] || [ "$ok" -eq 0 ] || [ "$((bytes / ok))" -lt "$MIN_BYTES" ]; then
    echo "   $kind: requests incomplete ($ok ok, ${bytes:-?} data bytes)" >&2; grep -E '^requests:|^traffic:' "$out" >&2; exit 1
  fi
  awk '/^finished in/{gsub(",","",$4); print $4}' "$out"
}
# ABBA order: a load that drifts during the run (a shared machine) weighs on both alike
h2a=$(run h2); ga=$(run grpc); gb=$(run grpc); h2b=$(run h2)
h2=$(awk -v a="$h2a" -v b="$h2b" 'BEGIN{printf "%.2f", (a + b) / 2}')
g=$(awk -v a="$ga" -v b="$gb" 'BEGIN{printf "%.2f", (a + b) / 2}')
printf '   HTTP/2 : %8s req/s  (phases %s, %s)  %8.1f s of audio per s\n' "$h2" "$h2a" "$h2b" "$(awk -v x="$h2" -v a="$AUDIO_S" 'BEGIN{print x * a}')"
printf '   gRPC   : %8s req/s  (phases %s, %s)  %8.1f s of audio per s\n' "$g" "$ga" "$gb" "$(awk -v x="$g" -v a="$AUDIO_S" 'BEGIN{print x * a}')"
awk -v g="$g" -v h="$h2" 'BEGIN{r = g / h; printf "   ratio gRPC / HTTP/2, phases in turn: %.3f (target >= 0.95: %s)\n", r, (r >= 0.95) ? "met" : "NOT met"}'
# Both at once, half the streams each, on two connections: the same moment of a shared
# machine for both, the server saturated by the two together.
half=$(( (STREAMS + 1) / 2 ))
run h2 "$half" mix > "$TMP/mix_h2" & p1=$!
run grpc "$half" mix > "$TMP/mix_grpc" & p2=$!
wait $p1 && wait $p2
mh=$(cat "$TMP/mix_h2"); mg=$(cat "$TMP/mix_grpc")
printf '   at once (%s streams each): HTTP/2 %s req/s, gRPC %s req/s\n' "$half" "$mh" "$mg"
awk -v g="$mg" -v h="$mh" 'BEGIN{r = g / h; printf "   ratio gRPC / HTTP/2, at once: %.3f (target >= 0.95: %s)\n", r, (r >= 0.95) ? "met" : "NOT met"}'
