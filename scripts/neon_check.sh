#!/bin/bash
# Cross-builds the NEON kernels and their tests for aarch64 and runs them under qemu.
#   needs: apt-get install -y gcc-aarch64-linux-gnu qemu-user
# Only the kernel sources (+ the thread pool) are built: the whole library would need
# aarch64 builds of libespeak-ng and libcjson. The same compile line as the aarch64 CMake
# build (cmake/aarch64-toolchain.cmake): -DVOX_HAVE_NEON=1, src/kernels/arm/*.c.
# Exit status: 0 all passed, 1 a failure, 2 toolchain missing.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC_AARCH64:-aarch64-linux-gnu-gcc}
QEMU=${QEMU_AARCH64:-qemu-aarch64}
if ! command -v "$CC" >/dev/null || ! command -v "$QEMU" >/dev/null; then
  echo "neon_check: need $CC and $QEMU (apt-get install -y gcc-aarch64-linux-gnu qemu-user)" >&2
  exit 2
fi
OUT=${1:-/tmp/vox-neon-check}
mkdir -p "$OUT"
CFLAGS="-std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wshadow=local -Werror \
  -fno-strict-aliasing -D_GNU_SOURCE -DVOX_HAVE_NEON=1 -Iinclude -Isrc -Itests"
SRCS="src/kernels/dispatch.c src/kernels/scalar.c src/kernels/gemm.c src/kernels/conv1d.c src/kernels/conv_par.c src/kernels/arm/*.c src/util/tpool.c src/kernels/lowp_ref.c src/kernels/lowp_fused.c"
status=0
for t in "tests/kernels/test_simd_kernels.c neon" "tests/kernels/test_simd_kernels.c scalar" \
         tests/kernels/test_conv_par.c "tests/kernels/test_lowp.c bf16-emul" \
         "tests/kernels/test_lowp.c int8-emul"; do
  set -- $t
  name=$(basename "$1" .c)
  echo "== $name ${2:-} (aarch64, static)"
  # shellcheck disable=SC2086
  $CC $CFLAGS -static -o "$OUT/$name" "$1" $SRCS -lpthread -lm
  # exit 77 (path unavailable) is a failure here: under qemu NEON must run
  if "$QEMU" -L /usr/aarch64-linux-gnu "$OUT/$name" ${2:-}; then :; else
    echo "neon_check: $name FAILED" >&2; status=1
  fi
done
exit $status
