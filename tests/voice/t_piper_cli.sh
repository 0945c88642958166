#!/usr/bin/env bash
# Piper voices through the vox CLI: Piper's own flags, exact model output, speakers,
# phonemes, JSON input, timings/subtitles, and clear errors.
set -u
VOX="${VOX_BUILD:-build}/vox"
SH="${VOX_SHARED:-../shared}"
MED="$SH/models/en_US-rand-medium.onnx"
X3="$SH/models/en_US-rand3spk-x_low.onnx"
. "$(dirname "$0")/../lib.sh"

# The acceptance command: equal to onnxruntime's output for Piper's ids.
echo "Hello world." | "$VOX" -m "$MED" --noise_scale 0 --noise_w 0 --no-normalize --output-raw --raw-format f32 >"$T/hw.f32"
read -r nref nout snr < <(node scripts/ort/snr.js "$SH/reference/en_US-rand-medium.short.f32" "$T/hw.f32")
check "hello world samples ($nout vs $nref)" '[ "$nref" = "$nout" ]'
check "hello world SNR $snr dB >= 60" '[ "$(echo "$snr >= 60" | bc)" = 1 ]'

# Speaker by id and by name: same audio. Unknown speaker lists the valid ones.
echo "Which speaker is this?" | "$VOX" -m "$X3" --speaker 2 --noise_scale 0 --noise_w 0 -f "$T/s2.wav" -q
echo "Which speaker is this?" | "$VOX" -m "$X3" --speaker speaker2 --noise_scale 0 --noise_w 0 -f "$T/n2.wav" -q
check "speaker 2 == speaker2" 'cmp -s "$T/s2.wav" "$T/n2.wav"'
check "16 kHz output" '[ "$(soxi -r "$T/s2.wav")" = 16000 ]'
expect_error "unknown speaker" "valid speakers: 0 (speaker0), 1 (speaker1), 2 (speaker2)" \
  sh -c "echo hi | '$VOX' -m '$X3' --speaker nobody -f '$T/x.wav'"

# --pack-cache: the first run stores the packed weights, the second maps them; the
# audio is the same bytes as with the cache off.
for i in 1 2; do
  echo "Which speaker is this?" | "$VOX" -m "$X3" --pack-cache "$T/pc" --seed 3 -f "$T/pc$i.wav" -q
done
echo "Which speaker is this?" | "$VOX" -m "$X3" --pack-cache off --seed 3 -f "$T/pc0.wav" -q
check "--pack-cache wrote one cache file" '[ "$(ls "$T/pc" | grep -c "\.vxpack$")" = 1 ]'
check "--pack-cache: stored, mapped and off give the same audio" \
  'cmp -s "$T/pc0.wav" "$T/pc1.wav" && cmp -s "$T/pc0.wav" "$T/pc2.wav"'

# Voice by name in a data dir; --phonemes prints phonemes and Piper's ids.
echo "Hello world." | "$VOX" --data-dir "$SH/models" -m en_US-rand-medium --phonemes >"$T/ph"
check "phonemes line" 'grep -q "^həlˈoʊ wˈɜːld\." "$T/ph"'
check "phoneme ids = reference ids" '[ "$(cut -f2 "$T/ph")" = "$(tr -d "\n " < "$SH/reference/short.ids")" ]'

# JSON input with per-line speakers.
printf '{"text":"First.","speaker_id":1,"output_file":"%s/j1.wav"}\n{"text":"Second.","speaker":"speaker2","output_file":"%s/j2.wav"}\n' "$T" "$T" \
  | "$VOX" -m "$X3" --json-input -q
check "json-input wrote both" '[ -s "$T/j1.wav" ] && [ -s "$T/j2.wav" ]'

# Timings and subtitles from the duration predictor.
"$VOX" -m "$MED" --text "Hello there. How are you today?" -f "$T/t.wav" --timings "$T/t.json" --subtitles "$T/t.srt" -q
check "timings: words ordered, within audio, phonemes sum to audio" "node -e '
const t=require(\"$T/t.json\"); const dur=t.duration; let ok=t.words.length>=6 && t.sentences.length==2;
for (let i=0;i<t.words.length;i++){const w=t.words[i]; if(!(w.start<=w.end && w.end<=dur+1e-6)) ok=false; if(i && w.start<t.words[i-1].start) ok=false;}
let s=0; for (const p of t.phonemes) s+=p.end-p.start; if (Math.abs(s-dur)>1e-3) ok=false;
process.exit(ok?0:1)'"
check "srt cues" '[ "$(grep -c -- " --> " "$T/t.srt")" = 2 ] && head -1 "$T/t.srt" | grep -qx 1'
check "srt time format" 'grep -Eq "^00:00:0[0-9],[0-9]{3} --> 00:00:0[0-9],[0-9]{3}$" "$T/t.srt"'

# Errors.
expect_error "voice not found" "voice not found" sh -c "echo hi | '$VOX' -m no_such_voice -f '$T/x.wav'"
ln -s "$(readlink -f "$MED")" "$T/noconf.onnx"
expect_error "missing config" "config not found" sh -c "echo hi | '$VOX' -m '$T/noconf.onnx' -f '$T/x.wav'"
echo '{"audio": {"sample_rate": "fast"}}' > "$T/bad.json"
expect_error "corrupt config" "sample_rate" sh -c "echo hi | '$VOX' -m '$MED' -c '$T/bad.json' -f '$T/x.wav'"
head -c 1000 "$MED" > "$T/trunc.onnx"; cp "$MED.json" "$T/trunc.onnx.json"
expect_error "truncated model" "" sh -c "echo hi | '$VOX' -m '$T/trunc.onnx' -f '$T/x.wav'"

finish
