#!/usr/bin/env bash
# The vox CLI end to end: audio out in every mode, and a one-line error with a non-zero
# exit (never a crash) for each kind of bad input.
set -u
VOX="${VOX_BUILD:-build}/vox"
. "$(dirname "$0")/../lib.sh"

# WAV file: soxi reads 22050 Hz mono 16-bit with > 1 s of audio.
echo "Hello world. This is vox." | "$VOX" -m espeak:en-us -f "$T/a.wav" -q
check "wav rate"     '[ "$(soxi -r "$T/a.wav")" = 22050 ]'
check "wav channels" '[ "$(soxi -c "$T/a.wav")" = 1 ]'
check "wav bits"     '[ "$(soxi -b "$T/a.wav")" = 16 ]'
check "wav duration" '[ "$(echo "$(soxi -D "$T/a.wav") > 1.0" | bc)" = 1 ]'

# Raw s16 to stdout is non-silent (sox stat: RMS amplitude well above zero).
echo "Hello world. This is vox." | "$VOX" -m espeak:en-us --output-raw \
  | sox -t raw -r 22050 -e signed -b 16 -c 1 - -n stat 2>"$T/stat"
rms=$(awk '/RMS +amplitude/ {print $3}' "$T/stat")
check "raw non-silent (rms=$rms)" '[ "$(echo "$rms > 0.02" | bc)" = 1 ]'

# f32 raw has twice the bytes of s16 for the same text.
echo "Testing." | "$VOX" --output-raw >"$T/s16"
echo "Testing." | "$VOX" --output-raw --raw-format f32 >"$T/f32"
check "f32 = 2 x s16 bytes" '[ -s "$T/s16" ] && [ $(stat -c %s "$T/f32") -eq $((2 * $(stat -c %s "$T/s16"))) ]'

# WAV to a pipe uses streaming sizes and sox still reads it.
echo "Streaming to a pipe." | "$VOX" -f - | sox -t wav - -n stat 2>"$T/stat2"
check "wav via pipe" 'grep -q "Samples read" "$T/stat2"'

# --text, --output_dir (one WAV per line), dash/underscore spellings, sentence silence.
"$VOX" --text "Just this." --output-file "$T/t.wav" -q
check "--text + --output-file" '[ -s "$T/t.wav" ]'
mkdir "$T/d"
printf 'First line.\n\nSecond line.\n' | "$VOX" -d "$T/d" -q
check "output_dir files" '[ -f "$T/d/0.wav" ] && [ -f "$T/d/1.wav" ] && [ ! -f "$T/d/2.wav" ]'
"$VOX" --text "One. Two." -f "$T/s0.wav" -q
"$VOX" --text "One. Two." -f "$T/s1.wav" --sentence_silence 0.5 -q
check "sentence silence adds 2 x 0.5 s" \
  '[ $(( $(soxi -s "$T/s1.wav") - $(soxi -s "$T/s0.wav") )) -eq 22050 ]'

# JSON input: one object per line with its own output file.
printf '{"text":"Json line one.","output_file":"%s/j1.wav"}\n{"text":"Two.","output_file":"%s/j2.wav"}\n' "$T" "$T" \
  | "$VOX" --json-input -q
check "json-input files" '[ -s "$T/j1.wav" ] && [ -s "$T/j2.wav" ]'

# Timings and subtitles.
"$VOX" --text "Hello there. How are you today?" -f "$T/w.wav" --timings "$T/t.json" --subtitles "$T/s.vtt" -q
check "timings json parses" 'node -e "const t=require(\"$T/t.json\"); if(!(t.words.length>=6 && t.sentences.length==2)) process.exit(1)"'
check "vtt header" 'head -1 "$T/s.vtt" | grep -q WEBVTT'
check "vtt cues" '[ $(grep -c -- "-->" "$T/s.vtt") -eq 2 ]'

# --espeak_data selects another espeak-ng data folder, as in Piper; a wrong one is an error.
ED=$(dirname "$(find /usr/lib -name phontab -path '*espeak-ng-data*' 2>/dev/null | head -1)")
"$VOX" --espeak_data "$ED" --text "Data folder." -f "$T/ed.wav" -q
check "--espeak_data" '[ -s "$T/ed.wav" ]'
expect_error "bad espeak data" "not an espeak-ng data folder" sh -c "echo hi | '$VOX' --espeak_data '$T' -f '$T/x.wav'"

check "--version" '"$VOX" --version | grep -q "^vox [0-9]"'
check "--help" '"$VOX" --help | grep -q -- "--output-raw"'
check "--list-voices has en-us" '"$VOX" --list-voices | grep -q "^espeak:en-us"'

# Errors: one line, non-zero exit, never a crash.
expect_error "invalid utf-8" "invalid UTF-8 in input at byte offset 3" sh -c "printf 'ok \\377 no\\n' | '$VOX' -f '$T/x.wav'"
expect_error "invalid utf-8 raw" "byte offset 3" sh -c "printf 'ok \\377 no\\n' | '$VOX' --output-raw"
expect_error "empty input" "empty input" sh -c "printf '' | '$VOX' -f '$T/x.wav'"
expect_error "blank input" "empty input" sh -c "printf '  \\n\\n' | '$VOX' --output-raw"
expect_error "unknown voice" "unknown espeak-ng voice" sh -c "echo hi | '$VOX' -m espeak:no-such-voice -f '$T/x.wav'"
expect_error "unknown voice name" "voice not found" sh -c "echo hi | '$VOX' -m no-such-voice -f '$T/x.wav'"
expect_error "unwritable output" "cannot open output file" sh -c "echo hi | '$VOX' -f /nonexistent-dir/x.wav"
expect_error "missing output dir" "does not exist" sh -c "echo hi | '$VOX' -d '$T/nope'"
expect_error "unknown option" "unknown option" "$VOX" --frobnicate
expect_error "bad number" "invalid number" sh -c "echo hi | '$VOX' --length_scale abc -f '$T/x.wav'"
expect_error "out of range" "volume must be in" sh -c "echo hi | '$VOX' --volume -3 -f '$T/x.wav'"
expect_error "bad json line" "not a JSON object" sh -c "echo 'not json' | '$VOX' --json-input"
expect_error "two outputs" "choose one of" sh -c "echo hi | '$VOX' -f '$T/x.wav' --output-raw"
expect_error "speaker on espeak" "single speaker" sh -c "echo hi | '$VOX' -s 3 -f '$T/x.wav'"
expect_error "model not onnx" "config not found" sh -c "echo hi | '$VOX' -m /etc/hostname -f '$T/x.wav'"

finish
