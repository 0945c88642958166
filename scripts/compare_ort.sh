#!/usr/bin/env bash
# Compare `vox infer` with onnxruntime (ortref.js) on random phoneme-id inputs.
#
#   scripts/compare_ort.sh [BUILD_DIR]      (default build/; run from the repo root)
#
# For both shared models and every speaker: CASES random id sequences (10-600 ids valid
# for the model's num_symbols) at scales 0,L,0 with L in 0.5-2.0 must give the same sample
# count and SNR >= 60 dB; one run with noise on (0.667,1,0.8) must succeed on both sides
# with lengths within a factor of 2. Prints a table; exits non-zero on any failure.
# Env: VOX_SHARED (default ../shared), CASES (default 1), SEED (default 1),
#      VOX_BIN (default "BUILD_DIR/vox infer"), THREADS (default 1).
set -u
BUILD=${1:-build}
SHARED=${VOX_SHARED:-../shared}
CASES=${CASES:-1}
THREADS=${THREADS:-1}
VOX_BIN=${VOX_BIN:-"$BUILD/vox infer"}
HERE=$(cd "$(dirname "$0")" && pwd)
RANDOM=${SEED:-1}

if ! bash "$SHARED/tools/ortref/setup.sh" >/dev/null; then
  echo "compare_ort: cannot install onnxruntime-node (setup.sh failed)" >&2; exit 2
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fails=0
printf '%-28s %3s %4s %6s %-15s %9s %9s %8s %s\n' model sid ids len scales vox_samp ort_samp snr_db result
row() { printf '%-28s %3s %4s %6s %-15s %9s %9s %8s %s\n' "$@"; }

json_field() {  # json_field FILE EXPR
  node -e "const j=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));const v=($2);console.log(v===undefined?'':v)" "$1"
}

# samples=N from a one-line JSON result
samples_of() { sed -n 's/.*"samples":\([0-9]*\).*/\1/p' "$1"; }

run_pair() {  # run_pair MODEL SIDARG IDSFILE SCALES TAG -> sets vs, os, snr, ok
  local model=$1 sidarg=$2 ids=$3 scales=$4 tag=$5
  vs=""; os=""; snr=""; ok=1
  if ! $VOX_BIN -m "$model" --ids @"$ids" --scales "$scales" $sidarg --threads "$THREADS" \
        --out "$TMP/$tag.vox.f32" >"$TMP/$tag.vox.json" 2>"$TMP/$tag.vox.err"; then
    echo "  vox failed: $(head -c 300 "$TMP/$tag.vox.err")" >&2; ok=0
  fi
  if ! node "$SHARED/tools/ortref/ortref.js" --model "$model" --ids @"$ids" --scales "$scales" $sidarg \
        --threads "$THREADS" --out "$TMP/$tag.ort.f32" >"$TMP/$tag.ort.json" 2>"$TMP/$tag.ort.err"; then
    echo "  ortref failed: $(head -c 300 "$TMP/$tag.ort.err")" >&2; ok=0
  fi
  [ $ok = 1 ] || return
  vs=$(samples_of "$TMP/$tag.vox.json"); os=$(samples_of "$TMP/$tag.ort.json")
  [ -n "$vs" ] && [ -n "$os" ] || { ok=0; return; }
  read -r _ _ snr < <(node "$HERE/ort/snr.js" "$TMP/$tag.ort.f32" "$TMP/$tag.vox.f32")
}

k=0
for model in "$SHARED"/models/*.onnx; do
  name=$(basename "$model" .onnx)
  nsym=$(json_field "$model.json" "j.num_symbols")
  nspk=$(json_field "$model.json" "j.num_speakers||1")
  [ -n "$nsym" ] || { echo "compare_ort: no num_symbols in $model.json" >&2; exit 2; }
  for ((sid = 0; sid < nspk; sid++)); do
    sidarg=""; [ "$nspk" -gt 1 ] && sidarg="--sid $sid"
    for ((c = 0; c < CASES; c++)); do
      k=$((k + 1))
      n=$((10 + RANDOM % 591))
      ids=$TMP/ids$k.txt
      # in this shell, not a pipeline's subshell (bash reseeds RANDOM there): SEED
      # reproduces the same ids
      line=""
      for ((i = 0; i < n; i++)); do line+="$((RANDOM % nsym)),"; done
      printf '%s\n' "${line%,}" >"$ids"
      r=$((RANDOM % 100)); len=$(awk -v r="$r" 'BEGIN{printf "%.3f", 0.5 + 1.5 * r / 100}')
      scales="0,$len,0"
      run_pair "$model" "$sidarg" "$ids" "$scales" "c$k"
      res=ok
      if [ $ok != 1 ] || [ "$vs" != "$os" ] || ! awk -v s="$snr" 'BEGIN{exit !(s >= 60)}'; then
        res=FAIL; fails=$((fails + 1))
        keep=${KEEP_DIR:-/tmp/compare_ort.fail}
        mkdir -p "$keep" && cp "$ids" "$keep/$name.sid$sid.c$k.ids" &&
          echo "  kept: $keep/$name.sid$sid.c$k.ids (scales $scales)" >&2
      fi
      row "$name" "$sid" "$n" "$len" "$scales" "${vs:--}" "${os:--}" "${snr:--}" "$res"
    done
    # Noise on: no sample-for-sample comparison; both must run, lengths plausible.
    # (on the first 150 ids of the last case, to keep the run short)
    tr ',' '\n' <"$TMP/ids$k.txt" | head -n 150 | paste -sd, >"$TMP/noise$k.txt"
    nn=$(tr ',' '\n' <"$TMP/noise$k.txt" | wc -l)
    k=$((k + 1))
    run_pair "$model" "$sidarg" "$TMP/noise$((k - 1)).txt" "0.667,1,0.8" "n$k"
    res=ok
    if [ $ok != 1 ] || ! awk -v a="$vs" -v b="$os" 'BEGIN{exit !(a > 0 && b > 0 && a <= 2 * b && b <= 2 * a)}'; then
      res=FAIL; fails=$((fails + 1))
    fi
    row "$name" "$sid" "$nn" "1" "0.667,1,0.8" "${vs:--}" "${os:--}" "(noise)" "$res"
  done
done
if [ $fails -gt 0 ]; then echo "compare_ort: $fails failure(s)"; exit 1; fi
echo "compare_ort: all cases agree"
