#!/bin/bash
# Confirm vox's Piper phoneme ids for the golden corpus against an independent
# implementation (sherpa-onnx's piper-phonemize front end, via
# $VOX_SHARED/tools/sherpa/piper_tts.js, VOX_SHARED defaulting to ../shared): for each corpus line, onnxruntime runs on
# vox's ids (one run per sentence) and the audio must equal sherpa's audio for that
# line. Same ids => same audio at zero noise.
#
#   scripts/golden/confirm.sh [--write] [lang...]      (langs: en tricky de fr es; default all)
#
# --write rewrites tests/text/golden/<lang>.ids: "OK<TAB>ids" for lines the oracle
# confirmed, "DIFF<TAB>ids" for known differences (newer espeak-ng in sherpa; see
# tests/text/golden/README.md). Needs: cc, node, both setup.sh run once.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
shared="${VOX_SHARED:-$root/../shared}"
build="${VOX_BUILD:-/tmp/build-golden}"
write=0
langs=()
for a in "$@"; do
  if [ "$a" = --write ]; then write=1; else langs+=("$a"); fi
done
[ ${#langs[@]} -gt 0 ] || langs=(en tricky de fr es)
work="$(mktemp -d /tmp/vox-golden.XXXXXX)"
trap 'rm -rf "$work"' EXIT

if [ ! -f "$build/libvoxcore.a" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j2 --target voxcore >/dev/null
fi
cc -O2 -I"$root/src" -I"$root/include" "$root/scripts/golden/gen_ids.c" "$build/libvoxcore.a" \
   -lespeak-ng -lcjson -lpthread -lm -o "$work/gen_ids"

model="$shared/models/en_US-rand-medium.onnx"
status=0
for lang in "${langs[@]}"; do
  corpus="$root/tests/text/golden/$lang.txt"
  case $lang in en|tricky) voice=en-us ;; *) voice=$lang ;; esac
  # A per-language model path (symlink) and config: sherpa keys its prepared model on
  # the path and embeds the espeak voice in it.
  mkdir -p "$work/$lang"
  ln -s "$(readlink -f "$model")" "$work/$lang/model-$lang.onnx"
  node -e 'const f=require("fs");const c=JSON.parse(f.readFileSync(process.argv[1]));c.espeak.voice=process.argv[2];f.writeFileSync(process.argv[3],JSON.stringify(c))' \
    "$model.json" "$voice" "$work/$lang/model-$lang.onnx.json"
  "$work/gen_ids" "$work/$lang/model-$lang.onnx.json" - < "$corpus" > "$work/$lang/ids.txt"
  node "$shared/tools/sherpa/piper_tts.js" --model "$work/$lang/model-$lang.onnx" --text-file "$corpus" --threads 2 \
    --out "$work/$lang/sherpa.f32" > "$work/$lang/sherpa.json"
  echo "== $lang ($voice)"
  node "$root/scripts/golden/compare.js" --model "$model" --ids "$work/$lang/ids.txt" \
    --sherpa "$work/$lang/sherpa.f32" --sherpa-json "$work/$lang/sherpa.json" --corpus "$corpus" \
    --report "$work/$lang/report.txt" || status=1
  if [ $write = 1 ]; then
    # report lines are in corpus order (non-empty lines); pair them with ids.
    paste -d '\t' <(cut -c1-4 "$work/$lang/report.txt" | sed 's/ *$//') "$work/$lang/ids.txt" \
      > "$root/tests/text/golden/$lang.ids"
    echo "wrote tests/text/golden/$lang.ids"
  fi
done
exit $status
