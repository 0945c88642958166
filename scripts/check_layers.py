#!/usr/bin/env python3
"""Fails on any #include that goes against the order of rooms.

The order is read from ARCHITECTURE.md, from the one line that starts with
"Rooms, lowest first:". A file under src/ROOM/ may include headers of its own room and of
rooms below it, never above. include/vox.h (the public contract: types and error codes,
no includes of ours) sits below every room. Inside kernels/, per-arch folders (x86/,
arm/) never include each other, and only kernels/dispatch.c (the one registration)
includes a per-arch header from outside its folder.

usage: check_layers.py [ROOT]     exit 0 clean, 1 violations (listed), 2 setup error
"""
import os
import re
import sys

INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
ARCH_DIRS = ("kernels/x86/", "kernels/arm/")


def read_order(root):
    with open(os.path.join(root, "ARCHITECTURE.md"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("Rooms, lowest first:"):
                rooms = re.findall(r"`([a-z0-9_]+)`", line)
                if rooms:
                    return rooms
    raise SystemExit("check_layers: no 'Rooms, lowest first:' line in ARCHITECTURE.md")


def resolve(root, src_file, name):
    """Path of the included file relative to src/, 'include/...' or None (system)."""
    here = os.path.dirname(src_file)
    for base in (here, os.path.join(root, "src")):
        p = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(p):
            return os.path.relpath(p, os.path.join(root, "src"))
    if os.path.isfile(os.path.join(root, "include", name)):
        return "include/" + name
    gen = os.path.basename(name)
    return "generated/" + gen if gen.endswith(".c") else None


def room_of(rel, order):
    top = rel.split("/", 1)[0] if "/" in rel else ""
    return top if top in order else None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    order = read_order(root)
    rank = {r: i for i, r in enumerate(order)}
    bad = []
    src = os.path.join(root, "src")
    seen_rooms = set()
    for d, _, files in os.walk(src):
        for fn in sorted(files):
            if not fn.endswith((".c", ".h")):
                continue
            path = os.path.join(d, fn)
            rel = os.path.relpath(path, src)
            room = room_of(rel, order)
            if room is None:
                bad.append(f"src/{rel}: not in any room of ARCHITECTURE.md's order")
                continue
            seen_rooms.add(room)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for m in INC.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                tgt = resolve(root, path, m.group(1))
                if tgt is None or tgt.startswith(("include/", "generated/")):
                    continue
                troom = room_of(tgt, order)
                where = f"src/{rel}:{line}: #include \"{m.group(1)}\""
                if troom is None:
                    bad.append(f"{where}: target src/{tgt} is in no room")
                elif rank[troom] > rank[room]:
                    bad.append(f"{where}: {room} (rank {rank[room]}) includes {troom} "
                               f"(rank {rank[troom]}), which sits above it")
                for a in ARCH_DIRS:
                    if tgt.startswith(a) and not rel.startswith(a) and rel != "kernels/dispatch.c":
                        bad.append(f"{where}: only kernels/dispatch.c and {a} itself may "
                                   f"include per-arch headers")
    missing = [r for r in order if r not in seen_rooms]
    if missing:
        bad.append("rooms in the order with no files under src/: " + ", ".join(missing))
    for b in bad:
        print(b)
    print(f"check_layers: {len(order)} rooms ({' -> '.join(order)}), "
          f"{len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
