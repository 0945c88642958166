#!/usr/bin/env bash
# The CMU pronouncing dictionary (Debian pocketsphinx-en-us, ~126k words, ARPAbet
# mapped to IPA by scripts/cmudict_to_lex.py) as a lexicon: it compiles, maps, looks
# words up, and its entries change a Piper voice's phonemes. Times are printed, not
# asserted (bench/lexicon.sh measures them against the 2 s / 5 ms targets).
set -u
VOX="${VOX_BUILD:-build}/vox"
SH="${VOX_SHARED:-../shared}"
. "$(dirname "$0")/../lib.sh"
DICT=/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict
if [ ! -r "$DICT" ]; then echo "FAIL: $DICT missing (apt-get install pocketsphinx-en-us; see scripts/packages.txt)"; exit 1; fi
/usr/bin/python3 scripts/cmudict_to_lex.py "$DICT" >"$T/cmu.lex"
n=$(grep -vc '^#' "$T/cmu.lex")
check "converted >= 120000 words, got $n" '[ "$n" -ge 120000 ]'
t0=$(date +%s%N)
"$VOX" lexicon compile "$T/cmu.lex" "$T/cmu.img"; rc=$?
t1=$(date +%s%N)
check "compiles" '[ $rc = 0 ] && [ -s "$T/cmu.img" ]'
echo "compile: $(( (t1 - t0) / 1000000 )) ms for $n words"
"$VOX" lexicon lookup "$T/cmu.img" tomato Zebra banana xyzzyq >"$T/look" 2>"$T/err"
cat "$T/err"
check "tomato" 'grep -qx "tomato	/təmˈeɪtoʊ/" "$T/look"'
check "case-free lookup" 'grep -qx "Zebra	/zˈiːbɹə/" "$T/look"'
check "missing word" 'grep -qx "xyzzyq	(not found)" "$T/look"'
# A Piper voice reads "tomato" with the dictionary's phonemes; every CMU phoneme is in
# the voice's phoneme map (no dropped phonemes: the ids of the two spellings agree).
M="$SH/models/en_US-rand-medium.onnx"
a=$(echo "a tomato." | "$VOX" -m "$M" --phonemes --lexicon "$T/cmu.img")
b=$(echo "[[ˈʌ təmˈeɪtoʊ]]." | "$VOX" -m "$M" --phonemes --text-norm off)
check "Piper ids follow the lexicon" '[ -n "$a" ] && [ "$a" = "$b" ]'
finish
