#!/usr/bin/env python3
"""The code's layering (docs/DESIGN.md, "Layers of the code"), checked on the sources and on the
compiled objects:

1. includes: a file includes only headers of its own folder's layer or of the layers below;
2. calls (from the symbols `nm` lists in the build's object files): a file calls functions of its
   own layer or below (a header of a lower layer may declare a function defined above), and no
   cycle between source files through the functions they call each other, which a layering by
   folders cannot see;
3. one of each: the monotonic clock (base/clock.c), the version string (base/version.h).

usage: check_layers.py SOURCE_DIR BUILD_DIR; exit 1 naming every violation."""
import collections
import os
import re
import subprocess
import sys

# Bottom up; folders on one line may not include each other.
LAYERS = [
    ["include"],  # the public header: declarations and version numbers only
    ["base"],
    ["io/util"],
    ["io/formats"],
    ["io/data"],
    ["host"],
    ["model"],
    ["tune"],  # what a device is opened with (database, cache) and the search, which times model/
    ["export", "train", "api"],
    ["apps"],
]
LEVEL = {f: i for i, row in enumerate(LAYERS) for f in row}
# Call cycles still allowed, with the reason; each entry is a set of files.
ALLOWED_CYCLES = [
    # the search calls its CLBlast stage, which calls back into the search for a candidate's
    # correctness check and race (one algorithm in two files: model/tune*.c had the same)
    {"tune/search.c", "tune/search_clblast.c"},
]


def folder(path):
    for f in sorted(LEVEL, key=len, reverse=True):
        if path.startswith(f + "/"):
            return f
    return None


def sources(root):
    for base, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "build" and
                   not d.startswith("build")]
        for name in files:
            if name.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(base, name), root)


def check_includes(root):
    bad = []
    for path in sources(root):
        mine = folder(path)
        if mine is None:
            continue
        text = open(os.path.join(root, path), encoding="utf-8").read()
        for m in re.finditer(r'^#include "([^"]+)"', text, re.M):
            theirs = folder(m.group(1))
            if theirs is None or theirs == mine:
                continue
            if LEVEL[theirs] >= LEVEL[mine]:
                bad.append(f"{path} includes {m.group(1)} ({theirs}/ is not below {mine}/)")
    return bad


def objects(root, build):
    """The build's object files of mbn's own sources (not tests or benchmarks), by source."""
    found = {}
    for base, _, files in os.walk(os.path.join(build, "CMakeFiles")):
        for name in files:
            full = os.path.join(base, name)
            m = re.search(r"CMakeFiles/(?:mbnobj|mbntrain|mbn)\.dir/(.+\.c)\.o$", full)
            # Objects of files that no longer exist (moved or deleted) are left out.
            if m and os.path.exists(os.path.join(root, m.group(1))):
                found[m.group(1)] = full
    return found


def check_calls(root, build):
    objs = objects(root, build)
    if len(objs) < 20:
        return None
    defined, used = {}, collections.defaultdict(set)
    for src, obj in objs.items():
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBR":
                defined[parts[2]] = src
            elif len(parts) == 2 and parts[0] == "U":
                used[src].add(parts[1])
    graph = {s: {defined[u] for u in used[s] if u in defined and defined[u] != s} for s in objs}
    upward = [f"{s} calls into {t} ({folder(t)}/ is not below {folder(s)}/)"
              for s in sorted(graph) for t in sorted(graph[s])
              if folder(s) != folder(t) and LEVEL[folder(t)] >= LEVEL[folder(s)]]
    # Tarjan's strongly connected components.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.add(w)
                if w == v:
                    break
            if len(scc) > 1:
                cycles.append(scc)

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return upward + ["call cycle between " + ", ".join(sorted(c))
                     for c in cycles if c not in ALLOWED_CYCLES]


def check_one_of_each(root):
    bad = []
    for path in sources(root):
        text = open(os.path.join(root, path), encoding="utf-8").read()
        if "clock_gettime(CLOCK_MONOTONIC" in text and path != "base/clock.c":
            bad.append(f"{path}: a monotonic clock of its own (use base/clock.h, mbn_now)")
        if re.search(r"\bMBN_VERSION_(MAJOR|MINOR|PATCH)\b", text) and path not in (
                "include/mbn.h", "base/version.h") and not path.startswith("tests/"):
            bad.append(f"{path}: builds the version string (use base/version.h)")
    return bad


def main():
    root, build = sys.argv[1], sys.argv[2]
    bad = check_includes(root) + check_one_of_each(root)
    calls = check_calls(root, build)
    if calls is None:
        print(f"SKIP: no object files of mbn under {build}/CMakeFiles")
        return 77
    bad += calls
    for line in bad:
        print("FAIL", line)
    if not bad:
        print("ok  includes and calls follow the layers, no call cycles between files, one "
              "clock, one version string")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
