#!/bin/bash
# vox vs onnxruntime on the shared Piper models: bench/run.sh BUILD_DIR  (make bench)
#
# For each model (medium, x_low), input size (30/200/800 random valid ids, fixed seed)
# and thread count (1, 2) it runs `vox infer` and onnxruntime (shared/tools/ortref)
# alternately, BENCH_RUNS processes each (default 5) of BENCH_REPS repetitions (default 3),
# and prints the medians of each process's best time, their ratio, RTF, load time, peak
# RSS (ORT's measured with /usr/bin/time) and vox's fraction of FP32 peak, then the
# kernel micro-benchmarks (bench/kbench.c, bench/lowpbench.c: bf16 / int8 vs FP32). Knobs: BENCH_RUNS, BENCH_REPS,
# BENCH_SIZES="30 200 800", BENCH_THREADS="1 2", BENCH_MODELS="medium x_low",
# BENCH_KERNELS=0 to skip the kernel table.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
SHARED=${VOX_SHARED:-$ROOT/../shared}
VOX="$BUILD/vox"

fail() { echo "bench: $*" >&2; exit 1; }
[ -x "$VOX" ] || fail "$VOX not found: build first (make build)"
# `vox infer` must exist (it prints a JSON line with best_ms).
if ! "$VOX" infer -m "$SHARED/models/en_US-rand-medium.onnx" --ids 1,0,20,0,2 --scales 0,1,0 2>/dev/null \
     | grep -q '"best_ms"'; then
  fail "'$VOX infer' is missing or failed (needs tools/vox_infer.c); nothing to benchmark"
fi
command -v node >/dev/null || fail "node is required (onnxruntime reference)"
[ -x /usr/bin/time ] || fail "/usr/bin/time is required for ORT's peak RSS (apt-get install -y time)"
ORTREF="$SHARED/tools/ortref"
if ! node -e "require('${VOX_ORTREF_DIR:-$HOME/.cache/vox-ortref}/node_modules/onnxruntime-node')" 2>/dev/null; then
  echo "bench: installing onnxruntime-node (ortref setup.sh)" >&2
  bash "$ORTREF/setup.sh" >&2 || fail "onnxruntime-node setup failed"
fi

# Helpers built against the library: kernel dispatch name + model FLOP estimate, and
# the kernel micro-benchmark.
TOOLS="$BUILD/bench-tools"
mkdir -p "$TOOLS"
LIBS="$(pkg-config --libs libcjson 2>/dev/null || echo -lcjson) -lespeak-ng -lpthread -lm"
DEFS=""
case "$(uname -m)" in x86_64) DEFS="-DVOX_HAVE_X86=1" ;; aarch64) DEFS="-DVOX_HAVE_NEON=1" ;; esac
for t in modelinfo kbench lowpbench; do
  # shellcheck disable=SC2086
  cc -O2 $DEFS -I"$ROOT/src" -I"$ROOT/include" "$ROOT/bench/$t.c" "$BUILD/libvoxcore.a" $LIBS \
     -o "$TOOLS/$t" || fail "cannot build bench/$t.c"
done

# the measured arithmetic peak of one core (%peak's divisor); needs no library
cc -O2 "$ROOT/bench/peak.c" -o "$TOOLS/peak" || fail "cannot build bench/peak.c"

node "$ROOT/bench/bench.js" --vox "$VOX" --ortref "$ORTREF/ortref.js" --shared "$SHARED" \
     --modelinfo "$TOOLS/modelinfo" --peak "$TOOLS/peak" --tmp "$TOOLS"

if [ "${BENCH_KERNELS:-1}" != 0 ]; then
  echo
  echo "Kernel micro-benchmark (best of several; single-thread GFLOP/s from thread CPU time, pool from wall time; pool = ${BENCH_KTHREADS:-2} threads):"
  echo "(the scalar table's conv1d/convtr1d use the dispatched sgemm: run with VOX_CPU=scalar for a fully scalar row)"
  "$TOOLS/kbench" "${BENCH_KTHREADS:-2}"
  echo
  echo "Reduced-precision kernels vs the FP32 kernel, same run (single thread, thread CPU time; ratio = FP32 time / its time):"
  "$TOOLS/lowpbench"
fi

if [ "${BENCH_STREAM:-1}" != 0 ]; then
  bash "$ROOT/bench/stream.sh" "$BUILD"
fi
