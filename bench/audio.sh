#!/bin/bash
# Encoding + resampling cost per format against synthesis of the medium voice (issue 14's
# budget: <= 5%): bench/audio.sh BUILD_DIR [MODEL]. BENCH_REPS (default 3) runs per row.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
SHARED=${VOX_SHARED:-$ROOT/../shared}
MODEL=${2:-$SHARED/models/en_US-rand-medium.onnx}
[ -f "$BUILD/libvoxcore.a" ] || { echo "bench: build first (make build)" >&2; exit 1; }
mkdir -p "$BUILD/bench-tools"
DEFS=""
case "$(uname -m)" in x86_64) DEFS="-DVOX_HAVE_X86=1" ;; aarch64) DEFS="-DVOX_HAVE_NEON=1" ;; esac
# shellcheck disable=SC2046,SC2086
cc -O2 $DEFS -I"$ROOT/src" -I"$ROOT/include" "$ROOT/bench/audio_bench.c" "$BUILD/libvoxcore.a" \
   $(pkg-config --libs libcjson ogg opus flac libavcodec libavutil soxr expat) -lmp3lame \
   -lespeak-ng -lpthread -lm -o "$BUILD/bench-tools/audio_bench"
"$BUILD/bench-tools/audio_bench" "$MODEL"
