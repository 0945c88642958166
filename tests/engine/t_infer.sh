#!/usr/bin/env bash
# `vox infer` end to end: argument errors exit 2 with one line; the short reference case
# gives the reference's sample count, JSON fields, a raw float32 --out file and (with
# node) SNR >= 60 dB against onnxruntime's output.
set -u
VOX="${VOX_BUILD:-build}/vox"
SHARED="${VOX_SHARED:-../shared}"
M="$SHARED/models/en_US-rand-medium.onnx"
M3="$SHARED/models/en_US-rand3spk-x_low.onnx"
REF="$SHARED/reference"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $*" >&2; fi; }

expect_exit2() {  # expect_exit2 ARGS...: exit status 2 and exactly one line on stderr
  "$VOX" infer "$@" >"$TMP/o" 2>"$TMP/e"
  local rc=$?
  [ $rc -eq 2 ] && [ "$(wc -l <"$TMP/e")" -eq 1 ] && [ ! -s "$TMP/o" ] ||
    { echo "  vox infer $* -> exit $rc, stderr: $(cat "$TMP/e")" >&2; return 1; }
}

ok expect_exit2
ok expect_exit2 -m "$M"
ok expect_exit2 -m "$M" --ids 1,x,2
ok expect_exit2 -m "$M" --ids 1,2 --sid 0
ok expect_exit2 -m "$M" --ids 1,2 --scales 1,2
ok expect_exit2 -m "$M" --ids 1,2 --threads 0
ok expect_exit2 -m "$M" --ids 1,100000
ok expect_exit2 -m "$M" --ids @"$TMP/none.ids"
ok expect_exit2 -m "$M" --ids 1,2 --frobnicate 1
ok expect_exit2 -m "$TMP/none.onnx" --ids 1,2
ok expect_exit2 -m "$M3" --ids 1,2 --sid 3

# The short reference case.
"$VOX" infer -m "$M" --ids @"$REF/short.ids" --out "$TMP/short.f32" --reps 2 >"$TMP/j" 2>"$TMP/e"
ok test $? -eq 0
want=$(sed -n 's/.*"samples": *\([0-9]*\).*/\1/p' <(tr -d '\n' <"$REF/manifest.json" | sed 's/},/}\n/g' | grep '"en_US-rand-medium.short.f32"'))
got=$(sed -n 's/.*"samples":\([0-9]*\).*/\1/p' "$TMP/j")
ok test -n "$want"
ok test "$got" = "$want"
for k in sample_rate load_ms best_ms median_ms rtf peak_rss_mb; do ok grep -q "\"$k\":" "$TMP/j"; done
ok grep -q '"sample_rate":22050' "$TMP/j"
ok test "$(stat -c %s "$TMP/short.f32")" = "$((want * 4))"
if command -v node >/dev/null; then
  read -r _ _ snr < <(node "$(dirname "$0")/../../scripts/ort/snr.js" "$REF/en_US-rand-medium.short.f32" "$TMP/short.f32")
  echo "short: SNR $snr dB"
  ok awk -v s="$snr" 'BEGIN{exit !(s >= 60)}'
fi

# Multi-speaker: sid changes the audio; --profile prints op types to stderr.
"$VOX" infer -m "$M3" --ids @"$REF/short.ids" --sid 2 --out "$TMP/s2.f32" --profile >"$TMP/j2" 2>"$TMP/e2"
ok test $? -eq 0
ok grep -q '"sample_rate":16000' "$TMP/j2"
ok grep -q 'Conv' "$TMP/e2"
if command -v node >/dev/null; then
  read -r a b snr < <(node "$(dirname "$0")/../../scripts/ort/snr.js" "$REF/en_US-rand3spk-x_low.short.sid2.f32" "$TMP/s2.f32")
  ok test "$a" = "$b"
  ok awk -v s="$snr" 'BEGIN{exit !(s >= 60)}'
fi
# Noise on with a seed: the same seed repeats, another seed differs.
"$VOX" infer -m "$M" --ids 1,0,20,0,30,0,2 --scales 0.667,1,0.8 --seed 5 --out "$TMP/n1.f32" >/dev/null 2>&1
"$VOX" infer -m "$M" --ids 1,0,20,0,30,0,2 --scales 0.667,1,0.8 --seed 5 --out "$TMP/n2.f32" >/dev/null 2>&1
"$VOX" infer -m "$M" --ids 1,0,20,0,30,0,2 --scales 0.667,1,0.8 --seed 6 --out "$TMP/n3.f32" >/dev/null 2>&1
ok cmp -s "$TMP/n1.f32" "$TMP/n2.f32"
ok test -s "$TMP/n3.f32"
ok bash -c "! cmp -s '$TMP/n1.f32' '$TMP/n3.f32'"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
