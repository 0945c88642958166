#!/usr/bin/env bash
# Start voxd on 127.0.0.1:5500 with the built-in espeak voice and any Piper voices in the
# data dir. Usage: scripts/run_server.sh BUILD_DIR [extra voxd flags...]
# Env: VOX_HOST, VOX_PORT, VOX_DATA_DIR (default ~/.local/share/vox/voices), VOX_API_KEY.
set -euo pipefail
BUILD=${1:-build}
shift || true
VOXD=$BUILD/voxd
[ -x "$VOXD" ] || { echo "run_server: $VOXD not built (cmake --build $BUILD --target voxd)" >&2; exit 1; }
HOST=${VOX_HOST:-127.0.0.1}
PORT=${VOX_PORT:-5500}
DATA=${VOX_DATA_DIR:-$HOME/.local/share/vox/voices}
args=(--host "$HOST" --port "$PORT" --voice espeak:en-us)
if [ -d "$DATA" ]; then
  args+=(--data-dir "$DATA")
  n=$(find "$DATA" -maxdepth 1 -name '*.onnx' | wc -l)
  echo "voxd: voices from $DATA: $n Piper voice(s) + espeak:en-us"
else
  echo "voxd: no voice dir at $DATA (only espeak voices); put Piper .onnx + .onnx.json there"
fi
auth=""
[ -n "${VOX_API_KEY:-}" ] && auth=" -H \"Authorization: Bearer \$VOX_API_KEY\""
cat <<EOT
voxd: open http://$HOST:$PORT/ in a browser, or:
  curl -s http://$HOST:$PORT/v1/audio/speech$auth -H 'content-type: application/json' \\
       -d '{"model":"tts-1","voice":"alloy","input":"Hello from vox."}' -o hello.wav
  curl -s http://$HOST:$PORT/v1/voices$auth
voxd: Ctrl-C (or SIGTERM) finishes in-flight requests and exits.
EOT
exec "$VOXD" "${args[@]}" "$@"
