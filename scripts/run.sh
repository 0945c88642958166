#!/usr/bin/env bash
# `make run`: the main job. Starts the server when it is built; otherwise speaks a demo.
set -euo pipefail
BUILD=${1:-build}
if [ -x "$BUILD/voxd" ] && [ -f scripts/run_server.sh ]; then
  exec bash scripts/run_server.sh "$BUILD"
fi
TEXT="Hello, and welcome to vox. This demo was spoken by the built-in espeak voice. Piper voices run on our own engine."
echo "$TEXT" | "$BUILD/vox" -m espeak:en-us -f demo.wav -q
echo "vox: spoke the demo text to $(pwd)/demo.wav"
command -v soxi >/dev/null && soxi demo.wav | grep -E 'Sample Rate|Duration|Precision' || true
