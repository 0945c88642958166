#!/usr/bin/env bash
# voxd's voice names and listing (issue 18, Deliver 4/5), with the real backend:
# - "espeak:<name>" is checked against the installed espeak-ng voices before anything is
#   loaded: unknown -> 404 (OpenAI error shape, the installed-list message, no registry
#   entry), every documented spelling of a voice -> 200 and one entry;
# - GET /v1/voices lists Piper voices that would not load (bad JSON, invalid config,
#   model or config missing) and voices whose load failed with "available": false and
#   their "error", none of their raw metadata.
cd "$(dirname "$0")" && source ./lib.sh
SHARED=${VOX_SHARED:-../../../shared}
M=$(realpath "$SHARED/models/en_US-rand-medium.onnx") || { echo "no test model in $SHARED"; exit 1; }
D=$TMP/voices
mkdir -p "$D"
ln -s "$M" "$D/good.onnx"; cp "$M.json" "$D/good.onnx.json"
ln -s "$M" "$D/bad-json.onnx"; printf '{"audio": {"sample_rate": 22050,' > "$D/bad-json.onnx.json"
ln -s "$M" "$D/bad-rate.onnx"; sed 's/"sample_rate": *[0-9]*/"sample_rate": -5/' "$M.json" > "$D/bad-rate.onnx.json"
ln -s "$M" "$D/no-config.onnx"
cp "$M.json" "$D/no-model.onnx.json"
head -c 4096 "$M" > "$D/cut-model.onnx"; cp "$M.json" "$D/cut-model.onnx.json" # loads fail

start_server v --data-dir "$D" --workers 2 --wyoming tcp://127.0.0.1:0
URL=http://127.0.0.1:$PORT
say() { # say VOICE -> HTTP code; the body in $TMP/e.json
  curl -s -o "$TMP/e.json" -w '%{http_code}' "$URL/v1/audio/speech" \
    -d "{\"input\":\"Hi.\",\"voice\":\"$1\",\"response_format\":\"pcm\"}"
}
voices() { curl -s "$URL/v1/voices" > "$TMP/v.json"; }
# field VOICE KEY -> the listing's value (json), "absent" if the voice has no such key,
# "unlisted" if the voice is not listed; COUNT VOICE -> how many entries have that id
field() {
  /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["data"]
v = [x for x in d if x["id"] == sys.argv[2]]
print("unlisted" if not v else json.dumps(v[0][sys.argv[3]]) if sys.argv[3] in v[0] else "absent")
' "$TMP/v.json" "$1" "$2"
}
count() { /usr/bin/python3 -c 'import json,sys; print(sum(x["id"]==sys.argv[2] for x in json.load(open(sys.argv[1]))["data"]))' "$TMP/v.json" "$1"; }
n_espeak() { /usr/bin/python3 -c 'import json,sys; print(sum(x["id"].startswith("espeak:") for x in json.load(open(sys.argv[1]))["data"]))' "$TMP/v.json"; }

# --- espeak names: unknown ones refused before any load
for v in espeak:xx-nope espeak:en-us+nosuch espeak:adam espeak:zh espeak:en-us+f3+f2; do
  check_eq "$v -> 404" "$(say "$v")" 404
  check "$v -> voice_not_found, installed-list message" grep -q \
    '"message":"voice .* not found: not an installed espeak-ng voice.*"type":"invalid_request_error".*"code":"voice_not_found"' "$TMP/e.json"
done
voices
check_eq "refused names: no registry entry (only the default voice loaded)" "$(n_espeak)" 1
# --- the README's names and other spellings of them
for v in espeak:en-us espeak:EN-US espeak:en-US espeak:En-Us; do
  check_eq "$v -> 200" "$(say "$v")" 200
done
for v in espeak:de espeak:fr espeak:en-us+f3 espeak:EN-US+F3 espeak:en-us+13 espeak:en-gb espeak:en; do
  check_eq "$v -> 200" "$(say "$v")" 200
done
voices
check_eq "en-us spellings: one entry" "$(count espeak:en-us)" 1
check_eq "en-us+f3 spellings: one entry" "$(count espeak:en-us+f3)" 1
check_eq "en-gb and en: one entry (espeak:en)" "$(count espeak:en)" 1
check_eq "5 espeak entries in all" "$(n_espeak)" 5
check_eq "espeak:en-us is the default" "$(field espeak:en-us default)" true

# --- Piper voices that would not load: listed with their error, no raw metadata
check_eq "good: available" "$(field good available)" true
check_eq "good: sample rate from its config" "$(field good sample_rate)" 22050
for v in bad-json bad-rate no-config no-model; do
  check_eq "$v: listed as unavailable" "$(field "$v" available)" false
  check "$v: has an error" test "$(field "$v" error)" != absent -a "$(field "$v" error)" != '""'
  check_eq "$v: no raw sample_rate" "$(field "$v" sample_rate)" absent
done
check "bad-rate: error names sample_rate" grep -q sample_rate <<<"$(field bad-rate error)"
check "no-model: error names the model file" grep -q 'no-model.onnx' <<<"$(field no-model error)"
check "no-config: error names the config" grep -q 'onnx.json' <<<"$(field no-config error)"
# a voice whose config is valid but whose model does not load: listed until a request fails
check_eq "cut-model: available before a load" "$(field cut-model available)" true
code=$(say cut-model)
check "cut-model: request fails (4xx/5xx)" test "$code" -ge 400
voices
check_eq "cut-model: now unavailable" "$(field cut-model available)" false
check "cut-model: with the load's error" test "$(field cut-model error)" != absent
check_eq "cut-model: listed once" "$(count cut-model)" 1
# a broken voice asked for by name: the load's error, not a crash
check "bad-json: request -> 4xx/5xx" test "$(say bad-json)" -ge 400

# --- Wyoming: the same check, through the same registry (an error event, no audio)
for i in $(seq 1 100); do grep -q 'wyoming on ' "$TMP/v.log" && break; sleep 0.05; done
WY=$(sed -n 's/.*wyoming on \(.*\)$/\1/p' "$TMP/v.log" | head -1)
wy() { # wy VOICE -> the last event's type, and an error's text
  /usr/bin/python3 -c '
import sys; sys.path.insert(0, "tests/server" if __import__("os").path.isdir("tests/server") else ".")
import wyoming_client as w
c = w.connect(sys.argv[1], timeout=60)
c.send("synthesize", {"text": "Hi.", "voice": {"name": sys.argv[2]}})
e = w.read_until(c, "audio-stop")[-1]
print(e[0], (e[1] or {}).get("text", ""))
' "$WY" "$1"
}
out=$(wy espeak:xx-nope)
check "wyoming: espeak:xx-nope -> error event" grep -q '^error .*not an installed espeak-ng voice' <<<"$out"
check "wyoming: espeak:EN-US+F3 -> audio" grep -q '^audio-stop' <<<"$(wy espeak:EN-US+F3)"
finish
