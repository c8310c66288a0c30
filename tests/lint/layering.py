#!/usr/bin/env python3
"""layering.py: the picture of the house, checked on the build. No two files need each other: the graph
of cross-file calls (read from the objects' symbol tables with nm) and the graph of #include lines have
no circle. The library (src/ outside src/ctl and src/kanca) never calls or includes kancactl's or the
kanca program's files. Each third-party library is included by its one module. No .c file is longer
than 750 lines unless its opening comment says why it is one concern."""
import collections
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("KANCA_SRCDIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "lib"))
import kancatest as kt  # noqa: E402

tap = kt.Tap()
top, build = kt.srcdir(), kt.builddir()


def cycles(nodes, edges):
    """The strongly connected components with more than one node (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def in_library(path):
    return path.startswith("src/") and not path.startswith(("src/ctl/", "src/kanca/"))


# ---- cross-file calls, from the objects ----
nm = kt.require_tool(tap, "nm")
objs = []
for d in ("src", "cgi-bin"):
    for dirpath, _, names in os.walk(os.path.join(build, d)):
        objs += [os.path.join(dirpath, n) for n in names if n.endswith(".o") and "skeleton" not in n]
rel = {o: os.path.relpath(o, build)[:-2] + ".c" for o in objs}
# an object left over from a source file that no longer exists (an old build directory) is not the house
rel = {o: r for o, r in rel.items() if os.path.exists(os.path.join(top, r)) or r == "src/store/migrations.c"}
objs = sorted(rel)
tap.ok(len(objs) > 40, "%d objects of the programs and the library found in the build" % len(objs))
defined, wanted = {}, collections.defaultdict(set)
for o in objs:
    out = subprocess.run([nm, o], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "TDRBC":
            defined[f[2]] = rel[o]
        elif len(f) == 2 and f[0] == "U":
            wanted[rel[o]].add(f[1])
calls = collections.defaultdict(set)
for src, syms in wanted.items():
    for s in syms:
        if s in defined and defined[s] != src:
            calls[src].add(defined[s])
found = cycles(sorted(rel.values()), calls)
tap.ok(not found, "no two files call each other, directly or around a circle%s" %
       "".join("; circle: %s" % " <-> ".join(c) for c in found))
up = sorted("%s -> %s" % (a, b) for a in calls for b in calls[a] if in_library(a) and not in_library(b))
tap.ok(not up, "no library file calls into kancactl or the kanca program%s" % (": " + ", ".join(up) if up else ""))

# ---- #include lines ----
files = []
for d in ("src", "cgi-bin"):
    for dirpath, _, names in os.walk(os.path.join(top, d)):
        files += [os.path.relpath(os.path.join(dirpath, n), top) for n in names if n.endswith((".c", ".h"))]
includes = collections.defaultdict(set)
third = collections.defaultdict(set)
unnamed = []
for f in files:
    with open(os.path.join(top, f), encoding="utf-8") as h:
        text = h.read()
    for name in re.findall(r'^\s*#\s*include\s+"([^"]+)"', text, re.M):
        if name == "autoconf.h":
            continue
        target = os.path.join("src", name)
        if not os.path.exists(os.path.join(top, target)):
            unnamed.append('%s: "%s"' % (f, name))
        includes[f].add(target)
    for lib in re.findall(r'^\s*#\s*include\s+<(curl|openssl|json-c|libpq-fe|sqlite3|fcgiapp|fcgi_stdio)', text, re.M):
        third[lib].add(f)
    if f.endswith(".c"):
        first = re.search(r'^\s*#\s*include\s+[<"]([^">]+)[">]', text, re.M)
        tap.ok(first and first.group(1) == "first.h", "%s includes first.h first" % f)
tap.ok(not unnamed, "every #include of a kanca header names it from src/%s" % (": " + ", ".join(unnamed) if unnamed
                                                                             else ""))
found = cycles(sorted(files), includes)
tap.ok(not found, "no circle of #include lines%s" % "".join("; circle: %s" % " -> ".join(c) for c in found))
up = sorted("%s includes %s" % (a, b) for a in includes for b in includes[a] if in_library(a) and not in_library(b))
tap.ok(not up, "no library file includes a kancactl or kanca program header%s" % (": " + ", ".join(up) if up else ""))
owners = {"curl": {"src/http_client.c"}, "openssl": {"src/verify.c"}, "json-c": {"src/json.c"},
          "libpq-fe": {"src/store/pg.c"}, "sqlite3": {"src/store/sqlite.c"}, "fcgiapp": {"src/serve_fcgi.c"},
          "fcgi_stdio": set()}
for lib, users in sorted(owners.items()):
    tap.eq(sorted(third.get(lib, set())), sorted(users), "<%s...> is included only by %s" %
           (lib, ", ".join(sorted(users)) or "nobody"))

# ---- file sizes ----
for f in sorted(x for x in files if x.endswith(".c")):
    with open(os.path.join(top, f), encoding="utf-8") as h:
        lines = h.read().split("\n")
    if len(lines) > 750:
        head = "\n".join(lines[:12])
        tap.ok("one concern" in head, "%s has %d lines: its opening comment says why it is one concern" %
               (f, len(lines)))
tap.done()
