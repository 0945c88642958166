#!/usr/bin/env bash
# voxd scheduling and robustness with the deterministic stub engine (--stub-engine MS:
# a tone, MS of wall time per sentence): byte-identical output over every protocol,
# sentence parallelism, deadline order and wide first sentences, 429 on a full queue,
# disconnect cancels, per-request timeout, slow-client timeout, SIGTERM drain.
cd "$(dirname "$0")" && source ./lib.sh

speech() { curl -s "$@"; }
ms() { date +%s%3N; }

# Stub audio: 10 ms at 16 kHz per input byte of each sentence -> 320 bytes per byte.
# a data dir with one Piper voice (listed, never loaded: the stub loads only espeak:*/
# stub:*) and entries the scan must skip: a hidden name, no config, an invalid config
fake_voice "$TMP/voices"
: > "$TMP/voices/.hidden.onnx"; cp "$TMP/voices/xx-fake-low.onnx.json" "$TMP/voices/.hidden.onnx.json"
: > "$TMP/voices/noconfig.onnx"
: > "$TMP/voices/badconfig.onnx"; printf '{"audio":{"sample_rate":16000}}' > "$TMP/voices/badconfig.onnx.json"
start_server fast --stub-engine 0 --workers 2 --data-dir "$TMP/voices"
U=http://127.0.0.1:$PORT/v1/audio/speech
TEXT='One two. Three four five! Six?'
# sentences: "One two." (8) "Three four five!" (16) "Six?" (4) -> 28 bytes -> 8960 bytes
speech -o "$TMP/h1.pcm" "$U" -d "{\"input\":\"$TEXT\",\"response_format\":\"pcm\",\"sample_rate\":16000}"
check_eq "stub pcm size" "$(stat -c %s "$TMP/h1.pcm")" 8960
speech --http2-prior-knowledge -o "$TMP/h2.pcm" "$U" -d "{\"input\":\"$TEXT\",\"response_format\":\"pcm\",\"sample_rate\":16000}"
check "h2c output identical to HTTP/1.1" cmp -s "$TMP/h1.pcm" "$TMP/h2.pcm"
speech -o "$TMP/ns.wav" "$U" -d "{\"input\":\"$TEXT\",\"stream\":false,\"response_format\":\"wav\"}"
check "non-streamed WAV carries the same samples" cmp -s <(tail -c +45 "$TMP/ns.wav") "$TMP/h1.pcm"
check_eq "non-streamed WAV data size" "$(le32 "$TMP/ns.wav" 40)" 8960
check_eq "stub voice by name" "$(curl -s -o /dev/null -w '%{http_code}' "$U" -d '{"input":"Hi.","voice":"espeak:other"}')" 200
check_eq "model as voice name" "$(curl -s -o /dev/null -w '%{http_code}' "$U" -d '{"input":"Hi.","model":"espeak:m"}')" 200
check_eq "speaker by name" "$(curl -s -o /dev/null -w '%{http_code}' "$U" -d '{"input":"Hi.","speaker":"speaker2"}')" 200
check_eq "unknown speaker name -> 400" "$(curl -s -o /dev/null -w '%{http_code}' "$U" -d '{"input":"Hi.","speaker":"nobody"}')" 400
curl -s "http://127.0.0.1:$PORT/v1/voices" > "$TMP/voices.json"
check "voices: a voice in --data-dir is listed with its config and speakers in id order" \
  grep -q '"id":"xx-fake-low","object":"voice","kind":"piper","language":"xx","quality":"low","sample_rate":16000,"num_speakers":2,"speakers":\["amy","bob"\],"loaded":false' "$TMP/voices.json"
check "voices: hidden names are not listed" \
  bash -c "grep -q '\"id\":\"xx-fake-low\"' '$TMP/voices.json' && ! grep -qE '\"id\":\"\\.hidden\"' '$TMP/voices.json'"
check "voices: voices without a config or with an invalid one are listed as unavailable, with an error" \
  bash -c "grep -q '\"id\":\"noconfig\",\"object\":\"voice\",\"kind\":\"piper\",\"loaded\":false,\"default\":false,\"available\":false,\"error\":\"[^\"]' '$TMP/voices.json' && grep -q '\"id\":\"badconfig\",[^}]*\"available\":false,\"error\":\"[^\"]' '$TMP/voices.json'"
check_eq "text without sentences -> 400" "$(curl -s -o /dev/null -w '%{http_code}' "$U" -d '{"input":"   "}')" 400
# garbage on the wire (random bytes as HTTP/1.1, after an h2 preface, as TLS-less junk)
for i in $(seq 1 40); do
  { exec 5<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || continue
  case $((i % 4)) in
    0) head -c $((i * 97)) /dev/urandom >&5 ;;
    1) { printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'; head -c $((i * 53)) /dev/urandom; } >&5 ;;
    2) { printf 'POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n'; head -c 40 /dev/urandom; } >&5 ;;
    3) { printf 'POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'; head -c $((i * 31)) /dev/urandom; } >&5 ;;
  esac 2>/dev/null
  timeout 1 cat <&5 >/dev/null 2>&1
  exec 5>&- 5<&-
done
check "server survives 40 connections of garbage" curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"
check_eq "and still synthesizes" "$(curl -s "$U" -d "{\"input\":\"$TEXT\",\"response_format\":\"pcm\",\"sample_rate\":16000}" | wc -c)" 8960

# HTTP/1.0: no chunked encoding; the body ends with the connection
body='{"input":"One two.","response_format":"pcm","sample_rate":16000}'
curl -s -0 -D "$TMP/h10.h" -o "$TMP/h10.pcm" "$U" -d "$body"
check "HTTP/1.0 streaming: 200, no transfer-encoding" bash -c "grep -q '^HTTP/1.1 200' '$TMP/h10.h' && ! grep -qi '^transfer-encoding' '$TMP/h10.h' && grep -qi '^connection: close' '$TMP/h10.h'"
check_eq "HTTP/1.0 streaming: whole body" "$(stat -c %s "$TMP/h10.pcm")" 2560
out=$(curl -s -X OPTIONS -o /dev/null -D "$TMP/opt.h" -w '%{http_code}' "$U")
check_eq "OPTIONS -> 204" "$out" 204
check "OPTIONS: CORS headers, no body framing" bash -c "grep -qi '^access-control-allow-origin: \*' '$TMP/opt.h' && ! grep -qiE '^(transfer-encoding|content-length)' '$TMP/opt.h'"
check_eq "OPTIONS over h2c -> 204" "$(curl -s --http2-prior-knowledge -X OPTIONS -o /dev/null -w '%{http_code}' "$U")" 204

# many concurrent streams on one h2 connection
printf '{"input":"%s","response_format":"pcm","sample_rate":16000}' "$TEXT" > "$TMP/req.json"
h2load -n 40 -c 1 -m 20 -d "$TMP/req.json" "$U" > "$TMP/h2load.txt" 2>&1
check "h2load: 40 requests, 20 concurrent streams on one connection, all 2xx" grep -q '40 succeeded' "$TMP/h2load.txt"
check "h2load: every response full size" grep -qF '(358400) data' "$TMP/h2load.txt"

# sentence-level parallelism: 4 sentences x 500 ms on 2 workers ~ 1000 ms, not 2000
start_server par --stub-engine 500 --workers 2 --timeout 30
t0=$(ms); speech -o /dev/null "http://127.0.0.1:$PORT/v1/audio/speech" -d '{"input":"A a. B b. C c. D d.","response_format":"pcm","sample_rate":16000}'; dt=$(( $(ms) - t0 ))
check "4 sentences on 2 workers in parallel (${dt} ms < 1700)" test "$dt" -lt 1700

# fairness: a short request is not stuck behind all 16 sentences of a long one (3.2 s)
speech -o /dev/null "http://127.0.0.1:$PORT/v1/audio/speech" -d '{"input":"A. B. C. D. E. F. G. H. I. J. K. L. M. N. O. P."}' & lp=$!
sleep 0.2
t0=$(ms); speech -o /dev/null "http://127.0.0.1:$PORT/v1/audio/speech" -d '{"input":"Short."}'; dt=$(( $(ms) - t0 ))
check "short request behind a long one finishes early (${dt} ms < 1600)" test "$dt" -lt 1600
wait $lp

# Scheduling (speech.c, pool.h). The stub runs a sentence given T threads in MS/T.
# Request A (2 long sentences) on an idle server: its sentence 0 takes both workers'
# cores (1.5 s) while its sentence 1 waits, due only once sentence 0 has played (~7 s of
# estimated audio). B and C, one sentence each, arrive during that: due at once, so both
# go before A's sentence 1 and both finish ~3 s before A (first in, first out would run
# A's sentence 1 alongside one of them, and the other one 3 s after A). Checked by
# completion order, with the precondition (A's sentence 1, B and C all queued while A's
# sentence 0 runs) read from /metrics, not assumed from timing.
start_server edf --stub-engine 3000 --workers 2 --timeout 60
U=http://127.0.0.1:$PORT/v1/audio/speech
M=http://127.0.0.1:$PORT/metrics
LONG=$(printf 'a%.0s' $(seq 1 99))
gauge() { curl -s "$M" | awk -v k="$1" '$1 == k { print $2 }'; }
wait_gauge() { # wait_gauge NAME VALUE: up to 3 s
  local i; for i in $(seq 1 60); do [ "$(gauge "$1")" = "$2" ] && return 0; sleep 0.05; done; return 1; }
done_at() { curl -s -o /dev/null "$U" -d "$1"; date +%s%N > "$2"; }
done_at "{\"input\":\"$LONG. $LONG.\",\"response_format\":\"pcm\",\"sample_rate\":16000}" "$TMP/a.t" & pa=$!
pre=no
if wait_gauge vox_queue_depth 1; then
  done_at '{"input":"B b.","response_format":"pcm","sample_rate":16000}' "$TMP/b.t" & pb=$!
  done_at '{"input":"C c.","response_format":"pcm","sample_rate":16000}' "$TMP/c.t" & pc=$!
  wait_gauge vox_queue_depth 3 && pre=yes
  wait $pb $pc
fi
wait $pa
check_eq "precondition: A's sentence 1, B and C queued while A's sentence 0 runs" "$pre" yes
ta=$(cat "$TMP/a.t"); tb=$(cat "$TMP/b.t"); tc=$(cat "$TMP/c.t")
check "new requests' first sentences run before an older request's later one (B and C done before A)" \
  test "$tb" -lt "$ta" -a "$tc" -lt "$ta"
check_eq "A's sentence 0 ran wide, nothing else did" "$(gauge vox_wide_sentences_total)" 1

start_server slow --stub-engine 300 --workers 2 --queue 2 --timeout 30
U=http://127.0.0.1:$PORT/v1/audio/speech
# streaming: the first sentence arrives before the whole is done
speech -N -o "$TMP/s.pcm" -w '%{time_starttransfer} %{time_total}\n' "$U" -d '{"input":"A a. B b. C c. D d. E e. F f.","response_format":"pcm","sample_rate":16000}' > "$TMP/times"
read -r ttfb total < "$TMP/times"
check "headers go out before synthesis ends (ttfb $ttfb s < total $total s)" awk -v a="$ttfb" -v b="$total" 'BEGIN{exit !(a < b / 2)}'

# overload: queue 2 -> the third concurrent request gets 429 at once, with Retry-After
speech -o /dev/null "$U" -d '{"input":"A a. B b. C c. D d."}' & b1=$!
speech -o /dev/null "$U" -d '{"input":"A a. B b. C c. D d."}' & b2=$!
sleep 0.2
t0=$(ms)
code=$(curl -s -D "$TMP/429.h" -o "$TMP/429.json" -w '%{http_code}' "$U" -d '{"input":"A a."}')
dt=$(( $(ms) - t0 ))
check_eq "full queue -> 429" "$code" 429
check "429 comes at once (${dt} ms)" test "$dt" -lt 500
check "429 has Retry-After" grep -qi '^retry-after: 1' "$TMP/429.h"
check "429 body is an OpenAI error" grep -q '"type":"rate_limit_error"' "$TMP/429.json"
wait $b1 $b2
check_eq "after the burst, requests are admitted again" "$(curl -s -o /dev/null -w '%{http_code}' "$U" -d '{"input":"A a."}')" 200

# disconnect mid-stream cancels the rest: 20 sentences x 300 ms = 3 s of work
M=http://127.0.0.1:$PORT/metrics
curl -s -N -o /dev/null --max-time 0.5 "$U" -d '{"input":"A. B. C. D. E. F. G. H. I. J. K. L. M. N. O. P. Q. R. S. T."}'
sleep 0.7
check "disconnect: job gone well before its synthesis would end" grep -q '^vox_in_flight 0' <(curl -s "$M")
check "disconnect: counted as cancelled" grep -q '^vox_cancelled_total [1-9]' <(curl -s "$M")
check "disconnect: queue drained" grep -q '^vox_queue_depth 0' <(curl -s "$M")
# same over h2: stream reset
curl -s -N --http2-prior-knowledge -o /dev/null --max-time 0.5 "$U" -d '{"input":"A. B. C. D. E. F. G. H. I. J. K. L. M. N. O. P. Q. R. S. T."}'
sleep 0.7
check "h2 disconnect: job gone" grep -q '^vox_in_flight 0' <(curl -s "$M")

# per-request timeout: 504 before the headers (stream=false), a cut stream after
start_server tmo --stub-engine 2000 --workers 1 --timeout 0.5
U=http://127.0.0.1:$PORT/v1/audio/speech
check_eq "timeout, not streamed -> 504" "$(curl -s -o "$TMP/e.json" -w '%{http_code}' "$U" -d '{"input":"A a.","stream":false}')" 504
check "504 code timeout" grep -q '"code":"timeout"' "$TMP/e.json"
curl -s -o /dev/null "$U" -d '{"input":"A a. B b."}'; rc=$?
check "timeout while streaming -> truncated response (curl rc $rc)" test "$rc" -ne 0

# slow client: a request head that never finishes gets 408 after --header-timeout
start_server hdr --stub-engine 0 --header-timeout 0.5
exec 3<>"/dev/tcp/127.0.0.1/$PORT"; printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&3
resp=$(timeout 5 cat <&3); exec 3>&- 3<&-
check "slow header -> 408 and close" grep -q ' 408 ' <<<"$resp"
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
resp=$(timeout 5 cat <&3); exec 3>&- 3<&-
check "silent connection closed by the server" test -z "$resp"

# idle keep-alive connections are closed after --idle-timeout (HTTP/1.1 and h2)
start_server idle --stub-engine 0 --idle-timeout 0.5
exec 3<>"/dev/tcp/127.0.0.1/$PORT"; printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&3
t0=$(ms); resp=$(timeout 5 cat <&3); dt=$(( $(ms) - t0 )); exec 3>&- 3<&-
check "idle h1 connection: answered, then closed after ~0.5 s (${dt} ms)" bash -c "grep -q ' 200 ' <<<'$resp' && [ $dt -ge 400 ] && [ $dt -lt 3000 ]"
nghttp -v "http://127.0.0.1:$PORT/healthz" > "$TMP/ng.txt" 2>&1
check "nghttp (h2c) client gets its answer" grep -q 'recv DATA frame' "$TMP/ng.txt"

# --max-conns: a connection over the limit is closed at once
start_server maxc --stub-engine 0 --max-conns 1
exec 4<>"/dev/tcp/127.0.0.1/$PORT"; sleep 0.2
check "over --max-conns: refused" bash -c "! curl -s -o /dev/null --max-time 3 http://127.0.0.1:$PORT/healthz"
exec 4>&- 4<&-; sleep 0.3
check "under --max-conns again: served" curl -sf -o /dev/null --max-time 3 "http://127.0.0.1:$PORT/healthz"

# SIGTERM: stop accepting, finish what is in flight, exit 0
start_server drain --stub-engine 300 --workers 2
U=http://127.0.0.1:$PORT/v1/audio/speech
curl -s -o "$TMP/drain.pcm" -w '%{http_code}' "$U" -d '{"input":"A a. B b. C c. D d.","response_format":"pcm","sample_rate":16000}' > "$TMP/drain.code" &
cpid=$!
curl -s --http2-prior-knowledge -o "$TMP/drain2.pcm" -w '%{http_code}' "$U" -d '{"input":"A a. B b. C c. D d.","response_format":"pcm","sample_rate":16000}' > "$TMP/drain2.code" &
cpid2=$!
# both requests admitted before the signal (a fixed sleep raced the clients on a loaded machine)
for _ in $(seq 100); do
  curl -s "http://127.0.0.1:$PORT/metrics" | grep -q '^vox_in_flight 2' && break
  sleep 0.05
done
kill -TERM "$SERVER_PID"
sleep 0.1
check "after SIGTERM new connections are refused" bash -c "! curl -s -o /dev/null --max-time 2 http://127.0.0.1:$PORT/healthz"
wait "$cpid" "$cpid2"
wait "$SERVER_PID"; src=$?
check_eq "drain: in-flight h1 request completed" "$(cat "$TMP/drain.code")" 200
check_eq "drain: in-flight h1 audio complete" "$(stat -c %s "$TMP/drain.pcm")" $((4 * 4 * 320))
check_eq "drain: in-flight h2 request completed" "$(cat "$TMP/drain2.code")" 200
check_eq "drain: in-flight h2 audio complete" "$(stat -c %s "$TMP/drain2.pcm")" $((4 * 4 * 320))
check_eq "drain: exit code 0" "$src" 0
check "drain: logged" grep -q 'draining' "$TMP/drain.log"

finish
