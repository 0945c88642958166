#!/usr/bin/env bash
# vox --text-norm: the written form's phonemes/ids equal the spoken form's with
# normalization on (the default), differ with --text-norm off, and a bad value is a
# clear usage error. Uses the Piper test voice.
set -u
VOX="${VOX_BUILD:-build}/vox"
SH="${VOX_SHARED:-../shared}"
. "$(dirname "$0")/../lib.sh"
M="$SH/models/en_US-rand-medium.onnx"
ph() { printf '%s\n' "$1" | "$VOX" -m "$M" --phonemes "${@:2}"; }
while IFS=$'\t' read -r written spoken; do
  a=$(ph "$written"); b=$(ph "$spoken" --text-norm off)
  check "'$written' reads as '$spoken'" '[ -n "$a" ] && [ "$a" = "$b" ]'
done <<'CASES'
It costs $500 today.	It costs five hundred dollars today.
The meeting is at 8:30 pm on 2026-12-02.	The meeting is at eight thirty PM on December second, twenty twenty-six.
Henry VIII drove 10km in 1999.	Henry the eighth drove ten kilometers in nineteen ninety-nine.
CASES
a=$(ph 'It costs $500 today.' --text-norm off); b=$(ph 'It costs five hundred dollars today.' --text-norm off)
check "--text-norm off leaves \$500 to espeak" '[ -n "$a" ] && [ "$a" != "$b" ]'
a=$(ph 'Hello world.'); b=$(ph 'Hello world.' --text-norm off)
check "nothing to normalize: same ids either way" '[ -n "$a" ] && [ "$a" = "$b" ]'
# subtitles point at the written token
"$VOX" -m espeak:en-us --text 'Pay $500 now.' -f "$T/a.wav" --timings "$T/t.json" -q
n=$(grep -cF '"$500"' "$T/t.json")
check "one word timing for \$500, got $n" '[ "$n" = 1 ]'
# SSML through the CLI: marks in the timings, --phonemes per block, errors with a position
"$VOX" -m espeak:en-us --text '<speak>One <mark name="here"/>two<break time="1s"/>three</speak>' \
  -f "$T/s.wav" --timings "$T/s.json" -q
check "mark in timings" 'grep -q "\"here\"" "$T/s.json"'
d=$(soxi -D "$T/s.wav" 2>/dev/null || echo 0)
check "break makes it longer than 1 s ($d)" 'awk "BEGIN{exit !($d > 1.3)}"'
p=$(printf '%s' '<speak>A <phoneme ph="həlˈoʊ">x</phoneme></speak>' | "$VOX" -m "$M" --phonemes | cut -f1)
q=$(printf '%s' 'A [[həlˈoʊ]]' | "$VOX" -m "$M" --phonemes --text-norm off | cut -f1)
check "--phonemes reads SSML ($p vs $q)" '[ -n "$p" ] && [ "$p" = "$q" ]'
expect_error "malformed SSML" "line 1, column" "$VOX" -m espeak:en-us --text '<speak>oops</spek>' -f "$T/x.wav"
expect_error "bad --text-norm" "text-norm" "$VOX" --text-norm maybe --text hi
finish
