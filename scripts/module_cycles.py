#!/usr/bin/env python3
"""Fails when modules of a crate import each other in a cycle.

For every crate of the workspace (each `Cargo.toml` with a `src/lib.rs` or `src/main.rs`), every
`crate::…` and `super::…` path in a module's code (its `#[cfg(test)]` tail excluded: tests may
reach anywhere) is resolved to the module it names. A reference from module `a::x` to module
`a::y::z` is an edge between the siblings `x` and `y` under their common parent `a`; references
between a module and its own ancestors or descendants are not edges. Any strongly connected
group of two or more siblings is a cycle and is printed. Exit 1 if there is one.

Usage: python3 scripts/module_cycles.py [ROOT]
"""
import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
PATH_RE = re.compile(r"\b(crate|super)((?:::(?:" + IDENT + r"|\{[^;]*?\}))+)")


def crate_dirs(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ("target", ".git", "node_modules")]
        if "Cargo.toml" in filenames:
            src = os.path.join(dirpath, "src")
            for top in ("lib.rs", "main.rs"):
                if os.path.isfile(os.path.join(src, top)):
                    yield dirpath, src, top
                    break


def modules(src, top):
    """Module path (tuple) -> file, for the files under src (src/bin excluded)."""
    out = {(): os.path.join(src, top)}
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        parts = () if rel == "." else tuple(rel.split(os.sep))
        if parts[:1] == ("bin",):
            continue
        for f in filenames:
            if not f.endswith(".rs") or (parts == () and f == top):
                continue
            name = f[:-3]
            path = parts if name == "mod" else parts + (name,)
            out[path] = os.path.join(dirpath, f)
    return out


def code_of(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r"#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod\s+tests\b", text)
    if m:
        text = text[: m.start()]
    text = re.sub(r"//[^\n]*", "", text)
    return text


def expand(segments):
    """'::a::{b, c::d}' -> [['a','b'], ['a','c','d']] (first level of braces only)."""
    segments = segments.lstrip(":")
    if segments.startswith("{"):
        inner = segments[1:-1]
        paths, depth, cur = [], 0, ""
        for ch in inner:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                paths.append(cur)
                cur = ""
            else:
                cur += ch
        paths.append(cur)
        out = []
        for p in paths:
            p = p.strip()
            if p and p != "self":
                head = re.match(IDENT, p)
                if head:
                    out.append([head.group(0)])
        return out
    parts = []
    for piece in segments.split("::"):
        piece = piece.strip()
        if piece.startswith("{"):
            for sub in expand("::" + piece):
                return [parts + sub]
            return [parts]
        if not re.fullmatch(IDENT, piece):
            break
        parts.append(piece)
    return [parts]


def resolve(known, base, parts):
    """The longest known module path that `base + parts` starts with."""
    full = tuple(base) + tuple(parts)
    for n in range(len(full), -1, -1):
        if full[:n] in known:
            return full[:n]
    return ()


def edges_of(mods):
    edges = set()
    for mod, path in mods.items():
        for kind, rest in PATH_RE.findall(code_of(path)):
            if kind == "crate":
                base = ()
            else:
                # `super` inside a mod.rs / leaf file is the parent module.
                hops = 1 + rest.count("::super")
                rest = rest.replace("::super", "")
                base = mod[: max(0, len(mod) - hops)]
            for parts in expand(rest):
                target = resolve(mods, base, parts)
                common = 0
                while common < min(len(mod), len(target)) and mod[common] == target[common]:
                    common += 1
                if common == len(mod) or common == len(target):
                    continue  # ancestor or descendant
                parent = mod[:common]
                edges.add((parent, mod[common], target[common]))
    return edges


def cycles(edges):
    by_parent = {}
    for parent, a, b in edges:
        by_parent.setdefault(parent, {}).setdefault(a, set()).add(b)
    found = []
    for parent, graph in by_parent.items():
        index, low, stack, on, counter = {}, {}, [], set(), [0]

        def strong(v):
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in graph.get(v, ()):
                if w not in index:
                    strong(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                group = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    group.append(w)
                    if w == v:
                        break
                if len(group) > 1:
                    found.append((parent, sorted(group)))

        for v in list(graph):
            if v not in index:
                strong(v)
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    bad = 0
    count = 0
    for crate, src, top in sorted(crate_dirs(root)):
        mods = modules(src, top)
        count += len(mods)
        for parent, group in cycles(edges_of(mods)):
            where = "::".join(("crate",) + parent)
            rel = os.path.relpath(crate, root)
            print(f"{rel}: modules of {where} import each other: {' <-> '.join(group)}")
            bad += 1
    if bad:
        sys.exit(1)
    print(f"no module import cycles ({count} modules)")


if __name__ == "__main__":
    main()
