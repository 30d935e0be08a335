#!/usr/bin/env python3
"""Turns the C++ code blocks of a Markdown file into one translation unit, so that the build
fails when the documentation's examples stop compiling.

Usage: readme_blocks.py README.md OUT.cpp [--expect N]

Each ```cpp block becomes the body of its own function inside namespace readme_context, where
the names the prose leaves to the reader (io, now, payload, log, registry, key, value, send_to,
use) are declared by tests/docs/readme_context.hpp. `#include` lines are hoisted to file scope.
A block whose first line is `// readme: skip` is left out (none is today).
"""
import re
import sys
from pathlib import Path


def main() -> int:
    args = sys.argv[1:]
    expect = None
    if "--expect" in args:
        i = args.index("--expect")
        expect = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, out = Path(args[0]), Path(args[1])
    text = src.read_text(encoding="utf-8")
    blocks = re.findall(r"^```cpp\n(.*?)^```", text, flags=re.S | re.M)
    blocks = [b for b in blocks if not b.startswith("// readme: skip")]
    if expect is not None and len(blocks) != expect:
        print(f"{src}: expected {expect} C++ blocks, found {len(blocks)}", file=sys.stderr)
        return 1
    includes, bodies = [], []
    for n, b in enumerate(blocks, 1):
        body = []
        for line in b.splitlines():
            if line.startswith("#include"):
                includes.append(line)
            else:
                body.append("    " + line if line else "")
        bodies.append(f"// {src.name}, C++ block {n}\nvoid block_{n}() {{\n" + "\n".join(body) + "\n}\n")
    unique = list(dict.fromkeys(includes))
    out.write_text(
        f"// Generated from {src.name} by readme_blocks.py: do not edit.\n"
        + "\n".join(unique)
        + '\n#include "readme_context.hpp"\n\nnamespace readme_context {\n\n'
        + "\n".join(bodies)
        + "\n}  // namespace readme_context\n",
        encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
