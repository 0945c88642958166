#!/usr/bin/env bash
# The include-order check (scripts/check_layers.py) passes on the tree, and fails on a
# copy of the tree with an upward include planted (kernels -> engine) and with a per-arch
# header included across arch folders (arm -> x86).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${VOX_PYTHON:-/usr/bin/python3}
"$PY" scripts/check_layers.py .

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
plant() {   # plant FILE LINE EXPECTED-TEXT
  rm -rf "$tmp/t"; mkdir -p "$tmp/t"
  cp -r src include ARCHITECTURE.md "$tmp/t/"
  printf '%s\n' "$2" >> "$tmp/t/$1"
  if "$PY" scripts/check_layers.py "$tmp/t" > "$tmp/out"; then
    echo "FAIL: planted '$2' in $1 was not caught"; cat "$tmp/out"; exit 1
  fi
  grep -q "$3" "$tmp/out" || { echo "FAIL: report does not name '$3'"; cat "$tmp/out"; exit 1; }
  echo "caught: $(grep "$3" "$tmp/out" | head -1)"
}
plant src/kernels/gemm.c '#include "engine/graph.h"' 'src/kernels/gemm.c:.*kernels (rank 1) includes engine'
plant src/text/clause.c '#include "voice/voice.h"' 'src/text/clause.c:.*text (rank 6) includes voice'
plant src/kernels/arm/kern_neon.c '#include "kernels/x86/x86.h"' 'src/kernels/arm/kern_neon.c:.*per-arch'
echo "t_layers: ok"
