# Helpers for the t_*.sh tests: counters, checks, and the error contract of the CLIs.
# Source it after setting VOX (the binary) if expect_error is used.
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }
# An error: exit 1..127 (not a signal), exactly one line on stderr, starting with
# "vox:" and containing PATTERN.
expect_error() {
  local name=$1 pattern=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && [ "$(wc -l <"$T/err")" -eq 1 ] \
     && grep -q '^vox: ' "$T/err" && grep -q -- "$pattern" "$T/err"; then ok
  else bad "$name: rc=$rc, stderr: $(cat "$T/err")"; fi
}
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; }
