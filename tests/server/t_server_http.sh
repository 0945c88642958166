#!/usr/bin/env bash
# voxd with the real espeak voice, driven by curl: HTTP/1.1, h2c, h2 + TLS 1.3 via ALPN,
# TLS session resumption, every route, and the OpenAI-style errors.
cd "$(dirname "$0")" && source ./lib.sh

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1 || { echo "openssl req failed"; exit 1; }

start_server plain --workers 2
P=$PORT
URL=http://127.0.0.1:$P
SPEECH=$URL/v1/audio/speech
TEXT='Hello from vox. This is the second sentence! And a third one?'

# --- HTTP/1.1, as an OpenAI client sends it (no response_format): streamed mp3
out=$(curl -s -o "$TMP/a.mp3" -D "$TMP/a.h" -w '%{http_code} %{http_version}' \
      "$SPEECH" -H 'content-type: application/json' -d "{\"model\":\"tts-1\",\"input\":\"$TEXT\",\"voice\":\"alloy\"}")
read -r code ver <<<"$out"
check_eq "h1 speech: 200" "$code" 200
check_eq "h1 speech: HTTP/1.1" "$ver" 1.1
check "h1 speech: chunked" grep -qi '^transfer-encoding: chunked' "$TMP/a.h"
check "h1 speech: default is audio/mpeg" grep -qi '^content-type: audio/mpeg' "$TMP/a.h"
check_eq "h1 speech: ffprobe sees mp3" "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$TMP/a.mp3")" mp3
# streaming WAV
out=$(curl -s -o "$TMP/a.wav" -D "$TMP/aw.h" -w '%{http_code} %{size_download}' \
      "$SPEECH" -d "{\"input\":\"$TEXT\",\"response_format\":\"wav\"}")
read -r code size <<<"$out"
check "h1 speech: audio/wav" grep -qi '^content-type: audio/wav' "$TMP/aw.h"
check "h1 speech: RIFF header" test "$(head -c4 "$TMP/a.wav")" = RIFF
check_eq "h1 speech: streaming RIFF size 0xFFFFFFFF" "$(le32 "$TMP/a.wav" 4)" 4294967295
check_eq "h1 speech: streaming data size 0xFFFFFFFF" "$(le32 "$TMP/a.wav" 40)" 4294967295
check_eq "h1 speech: 22050 Hz" "$(le32 "$TMP/a.wav" 24)" 22050
check "h1 speech: > 1 s of audio" test "$size" -gt $((44 + 22050 * 2))
# The parallel, sentence-split result equals one-sentence-at-a-time order: same length as non-streamed
out=$(curl -s -o "$TMP/b.wav" -D "$TMP/b.h" -w '%{http_code}' "$SPEECH" \
      -d "{\"input\":\"$TEXT\",\"stream\":false,\"response_format\":\"wav\"}")
check_eq "non-streamed: 200" "$out" 200
check "non-streamed: content-length" grep -qi '^content-length: ' "$TMP/b.h"
check_eq "non-streamed: RIFF size exact" "$(le32 "$TMP/b.wav" 4)" $(( $(stat -c %s "$TMP/b.wav") - 8 ))
check_eq "non-streamed: data size exact" "$(le32 "$TMP/b.wav" 40)" $(( $(stat -c %s "$TMP/b.wav") - 44 ))
# libespeak-ng output varies slightly from call to call within one process, so sizes
# are compared with a tolerance here; t_server_stub.sh checks byte equality.
near() { local a=$1 b=$2; [ $((a * 100)) -le $((b * 110)) ] && [ $((b * 100)) -le $((a * 110)) ]; }
check "streamed and non-streamed audio lengths agree" near "$(stat -c %s "$TMP/a.wav")" "$(stat -c %s "$TMP/b.wav")"
# pcm
out=$(curl -s -o "$TMP/c.pcm" -D "$TMP/c.h" -w '%{http_code}' "$SPEECH" -d '{"input":"Short.","response_format":"pcm"}')
check_eq "pcm: 200" "$out" 200
check "pcm: x-sample-rate 24000 (OpenAI's pcm rate)" grep -qi '^x-sample-rate: 24000' "$TMP/c.h"
check "pcm: no RIFF" test "$(head -c4 "$TMP/c.pcm" | tr -d '\000')" != RIFF
check "pcm: even byte count" test $(( $(stat -c %s "$TMP/c.pcm") % 2 )) -eq 0
# speed changes the duration
s1=$(curl -s "$SPEECH" -d '{"input":"Speed test sentence.","response_format":"pcm"}' | wc -c)
s2=$(curl -s "$SPEECH" -d '{"input":"Speed test sentence.","response_format":"pcm","speed":2.0}' | wc -c)
check "speed 2.0 gives shorter audio ($s2 < $s1)" test "$s2" -lt "$s1"

# --- keep-alive: two requests on one connection
n=$(curl -s -v "$URL/healthz" "$URL/healthz" 2>&1 | grep -c 'Re-using existing connection')
check "h1 keep-alive reuses the connection" test "$n" -ge 1

# --- h2c with prior knowledge
out=$(curl -s --http2-prior-knowledge -o "$TMP/d.wav" -w '%{http_code} %{http_version}' "$SPEECH" -d "{\"input\":\"$TEXT\",\"response_format\":\"wav\"}")
check_eq "h2c speech: 200 over HTTP/2" "$out" "200 2"
check "h2c audio length agrees with h1" near "$(stat -c %s "$TMP/d.wav")" "$(stat -c %s "$TMP/a.wav")"
out=$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code} %{http_version}' "$URL/v1/voices")
check_eq "h2c voices" "$out" "200 2"

# --- routes
check "healthz" curl -sf "$URL/healthz" -o /dev/null
check_eq "readyz" "$(curl -s "$URL/readyz")" '{"status":"ready"}'
curl -s "$URL/v1/voices" > "$TMP/voices.json"
check "voices lists espeak:en-us with 22050 Hz" grep -q '"id":"espeak:en-us".*"sample_rate":22050' "$TMP/voices.json"
check "voices has language and num_speakers" grep -q '"language":"en-us".*"num_speakers":1' "$TMP/voices.json"
curl -s "$URL/v1/models" > "$TMP/models.json"
check "models lists tts-1" grep -q '"id":"tts-1"' "$TMP/models.json"
check "models lists the voice" grep -q '"id":"espeak:en-us"' "$TMP/models.json"
curl -s "$URL/" > "$TMP/index.html"
check "index page is served" grep -q '/v1/audio/speech' "$TMP/index.html"
curl -s "$URL/metrics" > "$TMP/metrics.txt"
check "metrics: speech 200 counted" grep -q 'vox_requests_total{route="/v1/audio/speech",code="200"}' "$TMP/metrics.txt"
check "metrics: rtf histogram" grep -q '^vox_rtf_bucket{le="+Inf"} [1-9]' "$TMP/metrics.txt"
check "metrics: ttfb histogram" grep -q '^vox_ttfb_seconds_count [1-9]' "$TMP/metrics.txt"
check "metrics: queue depth" grep -q '^vox_queue_depth 0' "$TMP/metrics.txt"
check "metrics: in flight" grep -q '^vox_in_flight 0' "$TMP/metrics.txt"
check "metrics: audio seconds" grep -q '^vox_audio_seconds_total [1-9]' "$TMP/metrics.txt"
check "metrics: bytes out" grep -q '^vox_bytes_out_total [1-9]' "$TMP/metrics.txt"

# --- errors (OpenAI-shaped)
err() { # err DATA -> "code type/code"
  curl -s -o "$TMP/e.json" -w '%{http_code}' "$SPEECH" -H 'content-type: application/json' -d "$1"
}
check_eq "malformed JSON -> 400" "$(err '{"input": "x"')" 400
check "malformed JSON -> error object" grep -q '"error":{"message":".*","type":"invalid_request_error"' "$TMP/e.json"
check_eq "missing input -> 400" "$(err '{"model":"tts-1"}')" 400
check "missing input -> param input" grep -q '"param":"input"' "$TMP/e.json"
check_eq "empty input -> 400" "$(err '{"input":""}')" 400
check_eq "unknown format -> 400" "$(err '{"input":"hi","response_format":"ogg"}')" 400
check_eq "speed 5 -> 400" "$(err '{"input":"hi","speed":5}')" 400
check_eq "speed 0.1 -> 400" "$(err '{"input":"hi","speed":0.1}')" 400
check_eq "unknown voice -> 404" "$(err '{"input":"hi","voice":"no-such-voice"}')" 404
check "unknown voice -> voice_not_found" grep -q '"code":"voice_not_found"' "$TMP/e.json"
check_eq "unknown espeak voice -> 404" "$(err '{"input":"hi","voice":"espeak:xx-nope"}')" 404
check_eq "path-like voice -> 404" "$(err '{"input":"hi","voice":"../../etc/passwd"}')" 404
check_eq "speaker out of range -> 400" "$(err '{"input":"hi","speaker":3}')" 400
long=$(head -c 5000 /dev/zero | tr '\0' 'a')
check_eq "input over 4096 chars -> 400" "$(err "{\"input\":\"$long\"}")" 400
check "too long -> string_above_max_length" grep -q 'string_above_max_length' "$TMP/e.json"
check_eq "non-object body -> 400" "$(err '[1,2]')" 400
check_eq "instructions accepted" "$(err '{"input":"Hi.","instructions":"cheerful","response_format":"pcm"}')" 200
check_eq "unknown route -> 404" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v2/nothing")" 404
check_eq "GET speech -> 405" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/audio/speech")" 405
# 413: a body over the limit (max_input*6+16K bytes)
head -c 100000 /dev/zero | tr '\0' 'a' > "$TMP/big.txt"
check_eq "oversized body -> 413" "$(curl -s -o /dev/null -w '%{http_code}' "$SPEECH" --data-binary @"$TMP/big.txt")" 413
check_eq "oversized body over h2c -> 413" "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code}' "$SPEECH" --data-binary @"$TMP/big.txt")" 413
# 431: too many / too large headers
hdrs=(); for i in $(seq 1 70); do hdrs+=(-H "x-h$i: v"); done
check_eq "70 headers -> 431" "$(curl -s -o /dev/null -w '%{http_code}' "${hdrs[@]}" "$URL/healthz")" 431
bigh=$(head -c 20000 /dev/zero | tr '\0' 'b')
check_eq "20 KB header -> 431" "$(curl -s -o /dev/null -w '%{http_code}' -H "x-big: $bigh" "$URL/healthz")" 431
# raw malformed requests
check "garbage request line -> 400" bash -c "source ./lib.sh; raw_http $P 'HELLO\r\n\r\n' | head -1 | grep -q ' 400 '"
check "HTTP/1.1 without Host -> 400" bash -c "source ./lib.sh; raw_http $P 'GET /healthz HTTP/1.1\r\n\r\n' | head -1 | grep -q ' 400 '"
check "HTTP/2.0 request line -> 505" bash -c "source ./lib.sh; raw_http $P 'GET / HTTP/2.0\r\nHost: x\r\n\r\n' | head -1 | grep -q ' 505 '"
check "CL + TE -> 400 (no smuggling)" bash -c "source ./lib.sh; raw_http $P 'POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' | head -1 | grep -q ' 400 '"
check "obs-fold -> 400" bash -c "source ./lib.sh; raw_http $P 'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n' | head -1 | grep -q ' 400 '"
check "chunked request body is accepted" bash -c "source ./lib.sh; raw_http $P 'POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n9\r\n{\"input\":\r\nA\r\n\"Chunked.\"\r\n1\r\n}\r\n0\r\n\r\n' | head -1 | grep -q ' 200 '"
check "pipelined requests both answered" bash -c "source ./lib.sh; test \$(raw_http $P 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | grep -o 'HTTP/1.1 200' | wc -l) -eq 2"
check "server still healthy after all that" curl -sf "$URL/healthz" -o /dev/null

# --- TLS: h2 via ALPN over TLS 1.3, HTTP/1.1 via ALPN, resumption
start_server tls --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --plain-port 0
T=$PORT
out=$(curl -s --cacert "$TMP/cert.pem" --http2 -o "$TMP/t.wav" -w '%{http_code} %{http_version} %{scheme}' \
      "https://localhost:$T/v1/audio/speech" -d "{\"input\":\"$TEXT\",\"response_format\":\"wav\"}" -v 2>"$TMP/tls.log")
check_eq "TLS h2 speech: 200 over HTTP/2" "$out" "200 2 HTTPS"
check "TLS: ALPN chose h2" grep -q 'ALPN: server accepted h2' "$TMP/tls.log"
check "TLS: TLSv1.3" grep -q 'SSL connection using TLSv1.3' "$TMP/tls.log"
check "TLS h2 audio length agrees with plain" near "$(stat -c %s "$TMP/t.wav")" "$(stat -c %s "$TMP/a.wav")"
out=$(curl -s --cacert "$TMP/cert.pem" --http1.1 -o /dev/null -w '%{http_code} %{http_version}' "https://localhost:$T/healthz")
check_eq "TLS http/1.1 via ALPN" "$out" "200 1.1"
check "TLS 1.2 refused without --tls12" bash -c "! curl -s --cacert '$TMP/cert.pem' --tls-max 1.2 -o /dev/null 'https://localhost:$T/healthz'"
out=$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code} %{http_version}' "http://127.0.0.1:$PLAIN_PORT/healthz")
check_eq "--plain-port serves h2c" "$out" "200 2"
(sleep 1; echo) | timeout 10 openssl s_client -connect "127.0.0.1:$T" -alpn h2 -sess_out "$TMP/sess.pem" >"$TMP/s1.txt" 2>&1
(sleep 1; echo) | timeout 10 openssl s_client -connect "127.0.0.1:$T" -alpn h2 -sess_in "$TMP/sess.pem" >"$TMP/s2.txt" 2>&1
check "s_client: first handshake is New, TLSv1.3" grep -q '^New, TLSv1.3' "$TMP/s1.txt"
check "s_client: ALPN h2" grep -q 'ALPN protocol: h2' "$TMP/s1.txt"
check "s_client: session Reused" grep -q '^Reused, TLSv1.3' "$TMP/s2.txt"

start_server tls12 --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --tls12
out=$(curl -s --cacert "$TMP/cert.pem" --tls-max 1.2 --http2 -o /dev/null -w '%{http_code} %{http_version}' "https://localhost:$PORT/healthz")
check_eq "--tls12: TLS 1.2 + h2 accepted" "$out" "200 2"

# --- API key
VOX_API_KEY=s3cret start_server keyed
K=$PORT
check_eq "no key -> 401" "$(curl -s -o "$TMP/e.json" -w '%{http_code}' "http://127.0.0.1:$K/v1/audio/speech" -d '{"input":"hi"}')" 401
check "401 -> invalid_api_key" grep -q '"code":"invalid_api_key"' "$TMP/e.json"
check_eq "wrong key -> 401" "$(curl -s -o /dev/null -w '%{http_code}' -H 'authorization: Bearer nope' "http://127.0.0.1:$K/v1/voices")" 401
check_eq "prefix of key -> 401" "$(curl -s -o /dev/null -w '%{http_code}' -H 'authorization: Bearer s3cre' "http://127.0.0.1:$K/v1/voices")" 401
check_eq "right key -> 200" "$(curl -s -o /dev/null -w '%{http_code}' -H 'authorization: Bearer s3cret' "http://127.0.0.1:$K/v1/audio/speech" -d '{"input":"Hi."}')" 200
check_eq "wrong key over h2c -> 401" "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code}' -H 'authorization: Bearer x' "http://127.0.0.1:$K/v1/voices")" 401
check_eq "healthz needs no key" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$K/healthz")" 200

# --- Piper voices from a data dir (../shared/models: random-weight VITS models)
MODELS=${VOX_SHARED:-../shared}/models
[ -f "$MODELS/en_US-rand-medium.onnx" ] || MODELS=$(cd ../../.. && pwd)/shared/models
if [ -f "$MODELS/en_US-rand-medium.onnx" ]; then
  # --timeout 600: the first request loads the voice; under TSan on a busy machine load and
  # four sentences outlast the default deadline, and a cut response fails the byte checks
  start_server piper --data-dir "$MODELS" --workers 2 --timeout 600 --alias nova=en_US-rand3spk-x_low
  PU=http://127.0.0.1:$PORT
  curl -s "$PU/v1/voices" > "$TMP/pv.json"
  check "data-dir voice listed before loading, with speakers" grep -q '"id":"en_US-rand3spk-x_low","object":"voice","kind":"piper","language":"en_US","quality":"x_low","sample_rate":16000,"num_speakers":3,"speakers":\["speaker0","speaker1","speaker2"\],"loaded":false' "$TMP/pv.json"
  out=$(curl -s -o "$TMP/p3.wav" -w '%{http_code}' "$PU/v1/audio/speech" -d '{"input":"Hi there. Second one.","voice":"en_US-rand3spk-x_low","speaker":"speaker1","response_format":"wav"}')
  check_eq "piper multi-speaker by speaker name: 200" "$out" 200
  check_eq "piper x_low: 16000 Hz" "$(le32 "$TMP/p3.wav" 24)" 16000
  check "piper voice now loaded" grep -q '"id":"en_US-rand3spk-x_low".*"loaded":true' <(curl -s "$PU/v1/voices")
  check_eq "piper speaker id out of range -> 400" "$(curl -s -o /dev/null -w '%{http_code}' "$PU/v1/audio/speech" -d '{"input":"Hi.","voice":"en_US-rand3spk-x_low","speaker":3}')" 400
  check "OpenAI alias nova -> configured piper voice" grep -qi '^x-sample-rate: 16000' <(curl -s -D - -o /dev/null "$PU/v1/audio/speech" -d '{"input":"Hi.","voice":"nova"}')
  PT='Hello there. This is a piper voice! A third sentence? And the fourth.'
  body="{\"input\":\"$PT\",\"voice\":\"en_US-rand-medium\",\"response_format\":\"pcm\",\"sample_rate\":22050,\"noise_scale\":0,\"noise_w\":0}"
  curl -s -o "$TMP/ps.pcm" "$PU/v1/audio/speech" -d "$body"
  curl -s --http2-prior-knowledge -o "$TMP/ps2.pcm" "$PU/v1/audio/speech" -d "$body"
  "$BUILD/vox" -m en_US-rand-medium --data-dir "$MODELS" --loudness steady --noise_scale 0 --noise_w 0 --text "$PT" --output-raw > "$TMP/pc.pcm" 2>/dev/null
  check "piper: sentence-parallel server output is non-empty" test -s "$TMP/ps.pcm"
  check "piper: server output == vox CLI output, byte for byte (noise off)" cmp -s "$TMP/ps.pcm" "$TMP/pc.pcm"
  check "piper: h2c output == HTTP/1.1 output" cmp -s "$TMP/ps.pcm" "$TMP/ps2.pcm"
  # loudness: voxd's default is steady (above: == vox --loudness steady); "peak" is Piper's
  # per-sentence level, == the CLI's default
  curl -s -o "$TMP/pk.pcm" "$PU/v1/audio/speech" -d "${body%\}},\"loudness\":\"peak\"}"
  "$BUILD/vox" -m en_US-rand-medium --data-dir "$MODELS" --noise_scale 0 --noise_w 0 --text "$PT" --output-raw > "$TMP/pkc.pcm" 2>/dev/null
  check "piper: loudness peak == vox CLI default (Piper's level), byte for byte" cmp -s "$TMP/pk.pcm" "$TMP/pkc.pcm"
  check "piper: peak and steady differ" bash -c "! cmp -s '$TMP/pk.pcm' '$TMP/ps.pcm'"
  check_eq "loudness 'loud' -> 400" "$(curl -s -o /dev/null -w '%{http_code}' "$PU/v1/audio/speech" -d '{"input":"Hi.","loudness":"loud"}')" 400
  # streaming inside a sentence: one long sentence, steady, goes out in pieces while it is
  # still being made (vox_early_audio_parts_total counts them); peak sends it whole
  LT='One long sentence, with many commas, clauses and pauses, that goes on and on, until it ends.'
  lb="{\"input\":\"$LT\",\"voice\":\"en_US-rand-medium\",\"response_format\":\"pcm\",\"sample_rate\":22050,\"noise_scale\":0,\"noise_w\":0"
  early() { curl -s "$PU/metrics" | sed -n 's/^vox_early_audio_parts_total \([0-9]*\)$/\1/p'; }
  e0=$(early)
  curl -s -o "$TMP/lp.pcm" "$PU/v1/audio/speech" -d "$lb,\"loudness\":\"peak\"}"
  e1=$(early)
  curl -s -o "$TMP/ls.pcm" "$PU/v1/audio/speech" -d "$lb}"
  e2=$(early)
  "$BUILD/vox" -m en_US-rand-medium --data-dir "$MODELS" --loudness steady --noise_scale 0 --noise_w 0 --text "$LT" --output-raw > "$TMP/lsc.pcm" 2>/dev/null
  echo "# early audio parts: peak $((e1 - e0)), steady $((e2 - e1))"
  check_eq "piper, one long sentence, peak: sent whole (no early parts)" "$((e1 - e0))" 0
  check "piper, one long sentence, steady: sent in pieces while being made ($((e2 - e1)) early parts)" test "$((e2 - e1))" -ge 2
  check "piper, one long sentence, steady: == vox --loudness steady, byte for byte" cmp -s "$TMP/ls.pcm" "$TMP/lsc.pcm"
  # text normalization: "text_norm": false is the CLI's --text-norm off, byte for byte
  NT='It costs $500 on 2026-12-02.'
  nb="{\"input\":\"$NT\",\"voice\":\"en_US-rand-medium\",\"response_format\":\"pcm\",\"sample_rate\":22050,\"noise_scale\":0,\"noise_w\":0"
  curl -s -o "$TMP/n1.pcm" "$PU/v1/audio/speech" -d "$nb}"
  curl -s -o "$TMP/n0.pcm" "$PU/v1/audio/speech" -d "$nb,\"text_norm\":false}"
  "$BUILD/vox" -m en_US-rand-medium --data-dir "$MODELS" --loudness steady --noise_scale 0 --noise_w 0 --text "$NT" --output-raw > "$TMP/nc1.pcm" 2>/dev/null
  "$BUILD/vox" -m en_US-rand-medium --data-dir "$MODELS" --loudness steady --noise_scale 0 --noise_w 0 --text "$NT" --text-norm off --output-raw > "$TMP/nc0.pcm" 2>/dev/null
  check "text_norm on: server == CLI" cmp -s "$TMP/n1.pcm" "$TMP/nc1.pcm"
  check "text_norm false: server == CLI --text-norm off" cmp -s "$TMP/n0.pcm" "$TMP/nc0.pcm"
  check "text_norm changes the audio" bash -c "! cmp -s '$TMP/n1.pcm' '$TMP/n0.pcm'"
  # SSML: one synthesis (a break lengthens it), malformed SSML is a 400 with the position
  sb='{"input":"<speak>One.<break time=\"1s\"/>Two.</speak>","voice":"en_US-rand-medium","response_format":"pcm","sample_rate":22050,"noise_scale":0,"noise_w":0}'
  s0='{"input":"<speak><s>One.</s><s>Two.</s></speak>","voice":"en_US-rand-medium","response_format":"pcm","sample_rate":22050,"noise_scale":0,"noise_w":0}'
  a1=$(curl -s "$PU/v1/audio/speech" -d "$sb" | wc -c); a0=$(curl -s "$PU/v1/audio/speech" -d "$s0" | wc -c)
  check_eq "SSML break adds 1 s of pcm (bytes)" "$((a1 - a0))" 44100
  code=$(curl -s -o "$TMP/ssml.err" -w '%{http_code}' "$PU/v1/audio/speech" -d '{"input":"<speak>oops</spek>"}')
  check_eq "malformed SSML -> 400" "$code" 400
  check "malformed SSML -> line and column" grep -q 'line 1, column' "$TMP/ssml.err"
  # --lexicon for one voice, reloaded when the file changes (atomic replace)
  printf 'peking\tbay jing\n' > "$TMP/lex.w"; mv "$TMP/lex.w" "$TMP/lex.lex"
  start_server lexd --data-dir "$MODELS" --workers 2 --lexicon "en_US-rand-medium=$TMP/lex.lex"
  LU=http://127.0.0.1:$PORT
  lb='{"input":"Peking.","voice":"en_US-rand-medium","response_format":"pcm","sample_rate":22050,"noise_scale":0,"noise_w":0}'
  curl -s -o "$TMP/l1.pcm" "$LU/v1/audio/speech" -d "$lb"
  "$BUILD/vox" -m en_US-rand-medium --data-dir "$MODELS" --loudness steady --noise_scale 0 --noise_w 0 --text "bay jing." --output-raw > "$TMP/lc1.pcm" 2>/dev/null
  check "voxd --lexicon: the entry is said" cmp -s "$TMP/l1.pcm" "$TMP/lc1.pcm"
  printf 'peking\tbeijing\n' > "$TMP/lex.w"; mv "$TMP/lex.w" "$TMP/lex.lex"
  sleep 1.2
  curl -s -o "$TMP/l2.pcm" "$LU/v1/audio/speech" -d "$lb"
  "$BUILD/vox" -m en_US-rand-medium --data-dir "$MODELS" --loudness steady --noise_scale 0 --noise_w 0 --text "beijing." --output-raw > "$TMP/lc2.pcm" 2>/dev/null
  check "voxd --lexicon: reloaded after a change" cmp -s "$TMP/l2.pcm" "$TMP/lc2.pcm"
  curl -s -o "$TMP/l3.pcm" "$LU/v1/audio/speech" -d '{"input":"Peking.","voice":"espeak:en-us","response_format":"pcm","sample_rate":22050}'
  check "voxd --lexicon: other voices unaffected (audio)" test -s "$TMP/l3.pcm"
else
  fail "piper voices: no models at $MODELS (VOX_SHARED)"
fi

# --- startup: preloaded voices; a default voice that cannot load is a clean exit 1
start_server pre --preload espeak:de
check "--preload: voice listed as loaded" grep -q '"id":"espeak:de"' <(curl -s "http://127.0.0.1:$PORT/v1/voices")
timeout 20 "$VOXD" --port 0 --voice espeak:zz-none > "$TMP/bad.log" 2>&1; rc=$?
check_eq "unloadable default voice -> exit 1" "$rc" 1
check "unloadable default voice -> message" grep -q "cannot load voice 'espeak:zz-none'" "$TMP/bad.log"
timeout 20 "$VOXD" --port 0 --voice ../x > /dev/null 2>&1; rc=$?
check_eq "path-like default voice refused" "$rc" 2

finish
