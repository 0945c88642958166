#!/usr/bin/env bash
# Whole paragraphs, spoken by vox (noise 0, no normalization, no sentence silence) and
# by the independent Piper implementation in ../shared/tools/sherpa: the same audio,
# sentence for sentence (the oracle also speaks the empty sentences vox skips).
set -u
VOX="${VOX_BUILD:-build}/vox"
SH="${VOX_SHARED:-../shared}"
. "$(dirname "$0")/../lib.sh"
if ! bash "$SH/tools/sherpa/setup.sh" >"$T/setup.log" 2>&1; then
  echo "FAIL: cannot install the sherpa oracle:"; tail -5 "$T/setup.log"; exit 1
fi
# Sanitizer runs (VOX_TEST_SLOW=0) speak the last paragraph (quotes, ellipsis) with one model.
MODELS="en_US-rand-medium en_US-rand3spk-x_low"; PARAS=tests/voice/data/paragraphs.txt
if [ "${VOX_TEST_SLOW:-1}" = 0 ]; then MODELS=en_US-rand-medium; tail -1 "$PARAS" >"$T/paras"; PARAS="$T/paras"; fi
for model in $MODELS; do
  M="$SH/models/$model.onnx"
  n=0
  while IFS= read -r para; do
    n=$((n+1))
    printf '%s\n' "$para" | "$VOX" -m "$M" --noise_scale 0 --noise_w 0 --no-normalize --text-norm off \
      --sentence_silence 0 --output-raw --raw-format f32 --debug >"$T/vox.f32" 2>"$T/dbg"
    lens=$(sed -n 's/^vox: sentence [0-9]*: bytes [0-9+]*, \([0-9]*\) samples.*/\1/p' "$T/dbg" | paste -sd,)
    node "$SH/tools/sherpa/piper_tts.js" --model "$M" --text "$para" --out "$T/ora.f32" >/dev/null 2>"$T/ora.err"
    if node tests/voice/oracle_align.js "$T/vox.f32" "$T/ora.f32" "$lens" >"$T/align" 2>&1; then ok
    else bad "$model paragraph $n:"; cat "$T/align"; fi
    tail -1 "$T/align" | sed "s/^/$model paragraph $n: /"
  done < "$PARAS"
done
finish
