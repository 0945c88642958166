#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD for SECONDS each, starting from its seed corpus.
# Exits non-zero if any target finds a crash, leak or timeout.
set -uo pipefail
BUILD=${1:-build-fuzz}
SECS=${2:-60}
status=0
# libespeak-ng's own use-after-free (see the file) must not hide ours: suppressed for that library only.
export ASAN_OPTIONS="suppressions=$(pwd)/tests/fuzz/asan.supp:${ASAN_OPTIONS:-}"
for f in "$BUILD"/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  work=$(mktemp -d)
  seeds="tests/fuzz/corpus/$name"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null
  echo "fuzz: $name for ${SECS}s"
  if ! "$f" "$work" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/" >"$work.log" 2>&1; then
    echo "fuzz: $name FAILED"; tail -40 "$work.log"; status=1
  else
    grep -E 'stat::number_of_executed_units' "$work.log" | sed "s/^/fuzz: $name /"
  fi
  rm -rf "$work" "$work.log"
done
exit $status
