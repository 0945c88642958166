#!/usr/bin/env bash
# vox CLI output formats: -f picks the format from the extension (or --format), every one
# decodes with ffmpeg to the rate asked and to the WAV's duration (within the codec's
# documented delay/padding), --sample-rate resamples, pipes stream, --output-raw is as before.
set -u
VOX="${VOX_BUILD:-build}/vox"
. "$(dirname "$0")/../lib.sh"
command -v ffprobe >/dev/null || { echo "FAIL: ffprobe (ffmpeg) is required"; exit 1; }
TXT="Hello world. This is vox, speaking in several formats. The third sentence ends here."
probe() { ffprobe -v error -select_streams a:0 -show_entries "stream=$2" -of csv=p=0 "$1" | head -1; }
# decoded frames (by ffmpeg) at the stream's own rate
frames() { ffmpeg -nostdin -v error $2 -i "$1" -f s16le -acodec pcm_s16le - | wc -c | awk '{print int($1/2)}'; }

"$VOX" --text "$TXT" -f "$T/ref.wav" -q
N=$(frames "$T/ref.wav" "")
check "reference wav has audio" '[ "$N" -gt 22050 ]'
# extension -> codec, rate, and frames against the WAV (mp3 files carry a LAME tag: exact;
# aac: 1024 priming + <= 1 frame; opus: exact at 48 kHz, +-2 for the 24 kHz coding rate)
for e in mp3:mp3:22050:0:0 aac:aac:22050:1024:2048 flac:flac:22050:0:0 \
         opus:opus:48000:0:0 ogg:opus:48000:0:0 wav:pcm_s16le:22050:0:0; do
  IFS=: read -r ext codec rate lo hi <<<"$e"
  "$VOX" --text "$TXT" -f "$T/a.$ext" -q
  check "$ext codec" '[ "$(probe "$T/a.$ext" codec_name)" = "$codec" ]'
  check "$ext rate" '[ "$(probe "$T/a.$ext" sample_rate)" = "$rate" ]'
  n=$(frames "$T/a.$ext" "")
  if [ "$codec" = opus ]; then want=$((N * 48000 / 22050)); d=$((n - want)); d=${d#-}
    check "opus frames $n vs $want" '[ "$d" -le 2 ]'
  else extra=$((n - N)); check "$ext frames: $extra extra" '[ "$extra" -ge "$lo" ] && [ "$extra" -le "$hi" ]'; fi
done
# flac and wav files carry their exact length (the stream start is patched on a file)
check "flac header length" '[ "$(probe "$T/a.flac" duration_ts)" = "$N" ]'
check "wav header length" '[ "$(soxi -s "$T/a.wav")" = "$N" ]'
cmp -s "$T/a.wav" "$T/ref.wav"; check "wav bytes unchanged by the encoder path" '[ $? -eq 0 ]'
# --format overrides the extension; --sample-rate resamples (duration kept)
"$VOX" --text "$TXT" --format flac --sample-rate 48000 -f "$T/b.bin" -q
check "--format flac" '[ "$(probe "$T/b.bin" codec_name)" = flac ]'
check "--sample-rate 48000" '[ "$(probe "$T/b.bin" sample_rate)" = 48000 ]'
n=$(frames "$T/b.bin" ""); want=$((N * 48000 / 22050)); d=$((n - want)); d=${d#-}
check "48 kHz frames $n vs $want" '[ "$d" -le 1 ]'
"$VOX" --text "$TXT" --sample-rate 8000 -f "$T/c.mp3" -q
check "mp3 at 8000" '[ "$(probe "$T/c.mp3" sample_rate)" = 8000 ]'
# to a pipe: a streamed mp3 and a streaming-size WAV decode
"$VOX" --text "$TXT" --format mp3 -f - | cat > "$T/pipe.mp3"
n=$(frames "$T/pipe.mp3" ""); extra=$((n - N))
check "mp3 pipe (stream tag: delay trimmed, $extra extra < one frame)" '[ "$extra" -ge 0 ] && [ "$extra" -lt 576 ]'
"$VOX" --text "$TXT" -f - | ffmpeg -nostdin -v error -i - -f s16le - | wc -c > "$T/pn"
check "wav pipe frames" '[ $(( $(cat "$T/pn") / 2 )) -eq "$N" ]'
# -d with --format: numbered files of that format
mkdir -p "$T/d"
printf 'One.\nTwo.\n' | "$VOX" -d "$T/d" --format opus -q
check "-d --format opus" '[ "$(probe "$T/d/0.opus" codec_name)" = opus ] && [ -s "$T/d/1.opus" ]'
# --output-raw: unchanged s16le at the voice rate, identical to the WAV's samples
"$VOX" --text "$TXT" --output-raw > "$T/r.raw"
check "raw = wav samples" 'tail -c +45 "$T/ref.wav" | cmp -s - "$T/r.raw"'
"$VOX" --text "$TXT" --output-raw --sample-rate 24000 > "$T/r24.raw"
n=$(( $(stat -c %s "$T/r24.raw") / 2 )); want=$((N * 24000 / 22050)); d=$((n - want)); d=${d#-}
check "raw resampled to 24000: $n vs $want" '[ "$d" -le 1 ]'
# bad values: one clear line, non-zero exit
expect_error "bad format" "format must be" sh -c "'$VOX' --text hi --format vorbis -f '$T/x'"
expect_error "rate low" "sample-rate must be 8000..48000" sh -c "'$VOX' --text hi --sample-rate 7999 -f '$T/x.wav'"
expect_error "rate high" "sample-rate must be" sh -c "'$VOX' --text hi --sample-rate 48001 -f '$T/x.wav'"
expect_error "mp3 rate" "does not support sample_rate 20000" sh -c "'$VOX' --text hi --sample-rate 20000 -f '$T/x.mp3'"
expect_error "mp3 bitrate" "bitrate 400000 is out of range" sh -c "'$VOX' --text hi --bitrate 400000 -f '$T/x.mp3'"
expect_error "flac bitrate" "bitrate does not apply to flac" sh -c "'$VOX' --text hi --bitrate 64000 -f '$T/x.flac'"
expect_error "flac level" "compression 9 is out of range for flac" sh -c "'$VOX' --text hi --compression 9 -f '$T/x.flac'"
finish
