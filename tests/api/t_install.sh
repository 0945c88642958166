#!/usr/bin/env bash
# libvox as a library: install into a temporary DESTDIR, build examples/hello.c with
# `pkg-config --cflags --libs vox` against the installed copy only (nothing from the
# source or build tree), run it, and check that libvox.so exports only vox_ symbols.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${VOX_BUILD:-build}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
prefix=/opt/vox-test
DESTDIR="$tmp/root" cmake --install "$B" --prefix "$prefix" > "$tmp/install.log"
root="$tmp/root$prefix"
for f in include/vox.h lib/libvox.a lib/pkgconfig/vox.pc bin/vox bin/voxd; do
  [ -e "$root/$f" ] || { echo "FAIL: $f not installed"; cat "$tmp/install.log"; exit 1; }
done
so=$(readlink -f "$root/lib/libvox.so")
soname=$(objdump -p "$so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libvox.so.0" ] || { echo "FAIL: soname '$soname'"; exit 1; }
exported=$(nm -D --defined-only "$so" | awk '{print $3}')
bad=$(printf '%s\n' "$exported" | grep -v '^vox_' | grep -v '^_init$\|^_fini$' || true)
[ -z "$bad" ] || { echo "FAIL: libvox.so exports non-vox_ symbols:"; echo "$bad" | head; exit 1; }
printf '%s\n' "$exported" | grep -qx vox_synth_start || { echo "FAIL: vox_synth_start not exported"; exit 1; }
echo "libvox.so: soname $soname, $(printf '%s\n' "$exported" | wc -l) exported symbols, all vox_"

# the example, against the installed copy only (vox.pc is relocatable: ${pcfiledir})
export PKG_CONFIG_PATH="$root/lib/pkgconfig"; unset PKG_CONFIG_SYSROOT_DIR
flags=$(pkg-config --cflags --libs vox)
case "$flags" in *"$PWD"*) echo "FAIL: pkg-config points into the source tree: $flags"; exit 1;; esac
CC=${VOX_CC:-cc}
# shellcheck disable=SC2086
"$CC" -std=c11 -Wall -Wextra -Werror ${VOX_SAN_FLAGS:-} examples/hello.c $flags -o "$tmp/hello"
# hello needs libvox.so.0 and has no RPATH/RUNPATH, so only LD_LIBRARY_PATH (the installed
# copy) can provide it. (Not ldd: a ThreadSanitizer binary re-executes itself under ldd.)
readelf -d "$tmp/hello" | grep -q 'NEEDED.*\[libvox.so.0\]' \
  || { echo "FAIL: hello does not link libvox.so.0"; readelf -d "$tmp/hello"; exit 1; }
if readelf -d "$tmp/hello" | grep -q 'RPATH\|RUNPATH'; then
  echo "FAIL: hello carries a library path"; readelf -d "$tmp/hello"; exit 1
fi
LD_LIBRARY_PATH="$root/lib" "$tmp/hello" "$tmp/hello.wav" "Hello from an installed vox."
n=$(soxi -s "$tmp/hello.wav"); r=$(soxi -r "$tmp/hello.wav")
[ "$r" = 22050 ] && [ "$n" -gt 20000 ] || { echo "FAIL: hello.wav rate $r samples $n"; exit 1; }
# and statically, through Libs.private
"$CC" -std=c11 ${VOX_SAN_FLAGS:-} examples/hello.c $(pkg-config --cflags vox) "$root/lib/libvox.a" \
   $(pkg-config --libs-only-other --static vox) $(pkg-config --libs --static vox | sed 's/-lvox//') \
   -o "$tmp/hello_static"
"$tmp/hello_static" "$tmp/s.wav" "Static." > /dev/null
[ "$(soxi -r "$tmp/s.wav")" = 22050 ] || { echo "FAIL: static hello"; exit 1; }
echo "t_install: ok ($n samples at $r Hz)"
