#!/usr/bin/env bash
# voxd --precision / --voice-precision: each voice synthesizes in the precision it was
# given (the server's output equals `vox --precision P` byte for byte with noise off, and
# differs from FP32's), and bad values are refused at startup.
cd "$(dirname "$0")" && source ./lib.sh
MODELS=${VOX_SHARED:-../shared}/models
[ -f "$MODELS/en_US-rand-medium.onnx" ] || MODELS=$(cd ../../.. && pwd)/shared/models
[ -f "$MODELS/en_US-rand-medium.onnx" ] || { fail "no models at $MODELS (VOX_SHARED)"; finish; }

timeout 20 "$VOXD" --port 0 --precision fp16 > "$TMP/b1.log" 2>&1; rc=$?
check_eq "--precision fp16 refused" "$rc" 2
check "--precision message" grep -q "bad --precision 'fp16'" "$TMP/b1.log"
timeout 20 "$VOXD" --port 0 --voice-precision en_US-rand-medium > /dev/null 2>&1; rc=$?
check_eq "--voice-precision without =P refused" "$rc" 2

start_server prec --data-dir "$MODELS" --workers 2 --precision bf16 \
  --voice-precision en_US-rand3spk-x_low=int8
PU=http://127.0.0.1:$PORT
PT='Hello there. This is a piper voice! A third sentence.'
for v in en_US-rand-medium:bf16 en_US-rand3spk-x_low:int8; do
  name=${v%%:*} p=${v##*:}
  rate=22050; [ "$name" = en_US-rand3spk-x_low ] && rate=16000   # the voice's own (pcm defaults to 24 kHz)
  body="{\"input\":\"$PT\",\"voice\":\"$name\",\"response_format\":\"pcm\",\"sample_rate\":$rate,\"noise_scale\":0,\"noise_w\":0}"
  code=$(curl -s -o "$TMP/$name.pcm" -w '%{http_code}' "$PU/v1/audio/speech" -d "$body")
  check_eq "$name: 200" "$code" 200
  "$BUILD/vox" -m "$name" --data-dir "$MODELS" --loudness steady --noise_scale 0 --noise_w 0 --precision "$p" \
    --text "$PT" --output-raw > "$TMP/$name.cli.pcm" 2>/dev/null
  "$BUILD/vox" -m "$name" --data-dir "$MODELS" --loudness steady --noise_scale 0 --noise_w 0 \
    --text "$PT" --output-raw > "$TMP/$name.fp32.pcm" 2>/dev/null
  check "$name: server ($p) == vox --precision $p, byte for byte" cmp -s "$TMP/$name.pcm" "$TMP/$name.cli.pcm"
  check "$name: $p differs from fp32 (the precision took effect)" bash -c "! cmp -s '$TMP/$name.pcm' '$TMP/$name.fp32.pcm'"
  check_eq "$name: same length as fp32" "$(stat -c %s "$TMP/$name.pcm")" "$(stat -c %s "$TMP/$name.fp32.pcm")"
done
finish
