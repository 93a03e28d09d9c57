#!/usr/bin/env python3
"""Import cycles between the source files of each crate.

usage: .ci/import-cycles.py [--root DIR] [CRATE ...] [--skip CRATE ...]

With no CRATE, every crate under crates/ is checked (minus --skip). For
each crate the graph is: one node per file under src/ (src/bin/ excluded:
each binary is its own crate root), one edge A -> B when A names a path
that resolves into file B. For each set of files that reach each other
(a strongly connected component) it prints the set and the shortest
cycle through each of its files, and the exit code is 1; 0 when there is
none.

How a path resolves:
  * Each file is a module: src/lib.rs and src/main.rs are the crate root,
    src/a.rs and src/a/mod.rs are `a`, src/a/b.rs is `a::b`. `mod x { }`
    blocks inside a file are modules too (so `use super::*` in a `mod
    tests` block names the file itself, not its parent).
  * Paths are read from `use` declarations (braces expanded) and from
    every `x::y` path in the code, after comments, strings and chars are
    removed. A path is resolved from the module it appears in:
    `crate::` from the root, `self::` from the current module, each
    `super::` one module up; a path whose first segment is a child module
    of the current module (`use agent_args::X`, `login::run(..)`) is
    relative to it. Any other path (std, other crates, local names) is
    not followed.
  * The resolved module path is mapped to the file of its longest prefix
    that is a file module: `crate::cli::token::Args` -> src/cli/token.rs,
    `crate::cli::Command` -> src/cli/mod.rs (or src/cli.rs). A reference
    from a file to itself is no edge.
  * A reference from a file to a module that contains it (its parent
    mod.rs, lib.rs/main.rs, ...) is no edge: the container declares the
    file (`mod x;`), so every such reference would close a loop with that
    declaration; a submodule using its parent's items is how Rust nests
    modules. `mod x;` declarations themselves are not edges either.
  * `#[path]` attributes and macros that expand to paths are not
    understood.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def strip_code(text):
    """The text with comments, string and char literals blanked out."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    out.append("\n" if text[i] == "\n" else "")
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 40]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            end = n if end < 0 else end + 1 + len(hashes)
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12])
            if m:
                out.append("' '")
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand_use(tree):
    """`a::{b, c::{d, e as f}, self}` -> [[a,b],[a,c,d],[a,c,e],[a]]."""
    tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+\w+", "", tree))

    def parse(s, prefix):
        paths, i, cur = [], 0, ""
        while i < len(s):
            ch = s[i]
            if ch == "{":
                depth, j = 1, i + 1
                while depth:
                    depth += {"{": 1, "}": -1}.get(s[j], 0)
                    j += 1
                base = prefix + [p for p in cur.split("::") if p]
                paths += parse(s[i + 1:j - 1], base)
                cur, i = "", j
                continue
            if ch == ",":
                if cur:
                    paths.append(prefix + [p for p in cur.split("::") if p])
                cur = ""
            else:
                cur += ch
            i += 1
        if cur:
            paths.append(prefix + [p for p in cur.split("::") if p])
        return paths

    out = []
    for p in parse(tree, []):
        p = [seg for seg in p if seg != "*"]
        if p and p[-1] == "self":
            p = p[:-1]
        if p:
            out.append(p)
    return out


class Crate:
    def __init__(self, src):
        self.src = src
        self.files = {}  # module path tuple -> file path (relative to src)
        for dirpath, dirnames, filenames in os.walk(src):
            rel_dir = os.path.relpath(dirpath, src)
            if rel_dir == "bin" or rel_dir.startswith("bin" + os.sep):
                dirnames[:] = []
                continue
            for name in filenames:
                if not name.endswith(".rs"):
                    continue
                rel = os.path.normpath(os.path.join(rel_dir, name))
                parts = rel[:-3].split(os.sep)
                if parts in (["lib"], ["main"]):
                    parts = []
                elif parts[-1] == "mod":
                    parts = parts[:-1]
                self.files[tuple(parts)] = rel

    def file_of(self, path):
        """The file of the longest prefix of `path` that is a file module."""
        for k in range(len(path), -1, -1):
            if tuple(path[:k]) in self.files:
                return self.files[tuple(path[:k])]
        return None

    def is_module(self, path):
        return tuple(path) in self.files

    def resolve(self, current, path):
        """The absolute module path `path` names from module `current`, or None."""
        head = path[0]
        if head == "crate":
            return path[1:]
        if head in ("self", "super"):
            base = list(current)
            i = 0
            if path[0] == "self":
                i = 1
            while i < len(path) and path[i] == "super":
                if not base:
                    return None
                base.pop()
                i += 1
            return base + path[i:]
        if self.is_module(list(current) + [head]):
            return list(current) + path
        return None

    def parse(self, modpath, rel):
        """What file `rel` defines, binds with `use`, and names."""
        with open(os.path.join(self.src, rel), encoding="utf-8") as f:
            code = strip_code(f.read())
        defs = set(re.findall(r"\b(?:struct|enum|fn|trait|type|const|static|union|macro_rules!)\s+(\w+)", code))
        binds, globs, refs = {}, [], []
        inline = []  # (name, brace depth at which it opened)
        depth = 0
        token = re.compile(
            r"\buse\s+([^;]+);"
            r"|\bmod\s+(\w+)\s*\{"
            r"|((?:\b\w+\s*::\s*)+\w+)"
            r"|([{}])"
        )
        for m in token.finditer(code):
            current = list(modpath) + [name for name, _ in inline]
            if m.group(1):
                use = m.group(1)
                for p in expand_use(use):
                    p = [seg for seg in p if seg]
                    resolved = self.resolve(current, p) if p else None
                    if resolved is None:
                        continue
                    refs.append(resolved)
                    if not inline:
                        if re.search(r"::\s*\*", use) and p == expand_use(use.replace("*", "self"))[0]:
                            globs.append(resolved)
                        else:
                            binds[p[-1]] = resolved
            elif m.group(2):
                inline.append((m.group(2), depth))
                depth += 1
            elif m.group(3):
                p = [s.strip() for s in m.group(3).split("::")]
                resolved = self.resolve(current, p)
                if resolved is not None:
                    refs.append(resolved)
            elif m.group(4) == "{":
                depth += 1
            else:
                depth -= 1
                if inline and inline[-1][1] == depth:
                    inline.pop()
        return defs, binds, globs, refs

    def target(self, path, seen=None):
        """The file that defines what `path` names: its longest file-module
        prefix, or, when that module only re-exports the next segment
        (`pub use x::Name`, `pub use x::*`), the file it comes from."""
        seen = set() if seen is None else seen
        for k in range(len(path), -1, -1):
            if tuple(path[:k]) in self.files:
                break
        else:
            return None
        module, rest = tuple(path[:k]), path[k:]
        rel = self.files[module]
        if not rest or (module, rest[0]) in seen:
            return rel
        seen.add((module, rest[0]))
        defs, binds, globs, _ = self.parsed[rel]
        if rest[0] in defs:
            return rel
        if rest[0] in binds:
            return self.target(binds[rest[0]] + rest[1:], seen) or rel
        for g in globs:
            if tuple(g) in self.files and rest[0] in self.parsed[self.files[tuple(g)]][0]:
                return self.files[tuple(g)]
        return rel

    def ancestors(self, rel):
        """The module paths that contain file `rel`'s module."""
        module = next(m for m, r in self.files.items() if r == rel)
        return [module[:k] for k in range(len(module)) if module[:k] in self.files]

    def graph(self):
        self.parsed = {rel: self.parse(mod, rel) for mod, rel in self.files.items()}
        graph = {}
        for rel, (_, _, _, refs) in self.parsed.items():
            targets = {self.target(list(r)) for r in refs}
            ancestors = {self.files[m] for m in self.ancestors(rel)}
            graph[rel] = {t for t in targets if t and t != rel and t not in ancestors}
        return graph


def cycles(graph):
    """One cycle (as a file list) per strongly connected component of size > 1."""
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(set(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    found = []
    for comp in sccs:
        seen_cycles, cycles_of_comp = set(), []
        for start in sorted(comp):
            cycle = shortest_cycle(graph, comp, start)
            key = frozenset(zip(cycle, cycle[1:]))
            if cycle and key not in seen_cycles:
                seen_cycles.add(key)
                cycles_of_comp.append(cycle)
        found.append((cycles_of_comp, sorted(comp)))
    return found


def shortest_cycle(graph, comp, start):
    """The shortest way from `start` back to itself inside `comp` (BFS)."""
    prev, frontier, seen = {}, [start], {start}
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & comp):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return list(reversed(path)) + [start]
                if w not in seen:
                    seen.add(w)
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return None


def main(argv):
    skip, names, root, it = set(), [], ROOT, iter(argv)
    for arg in it:
        if arg == "--skip":
            skip.add(next(it, ""))
        elif arg == "--root":
            root = next(it, root)
        elif arg in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            names.append(arg)
    crates_dir = os.path.join(root, "crates")
    if not names:
        names = sorted(d for d in os.listdir(crates_dir) if os.path.isdir(os.path.join(crates_dir, d, "src")))
    status = 0
    for name in names:
        if name in skip:
            continue
        src = os.path.join(crates_dir, name, "src")
        if not os.path.isdir(src):
            print(f"import-cycles: no crate {name} (no {src})", file=sys.stderr)
            return 2
        for found, comp in cycles(Crate(src).graph()):
            status = 1
            print(f"{name}: {len(comp)} files import each other round in circles: {', '.join('src/' + f for f in comp)}")
            for cycle in found:
                print(f"{name}:   import cycle: " + " -> ".join(f"src/{f}" for f in cycle))
    if status == 0:
        print(f"import-cycles: no cycles in {', '.join(n for n in names if n not in skip)}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
