"""Replaces one generated section of a document (docs/benchmarks.md unless named), read from stdin.

Usage: replace_section.py NAME [FILE] < block   (block starts with <!-- NAME:start --> and ends
with <!-- NAME:end -->). A section not there yet is appended after the <!-- notes --> marker, so
bench/token-endpoint.sh, which rewrites the top of docs/benchmarks.md, keeps it.
"""
import re
import sys

name = sys.argv[1]
block = sys.stdin.read().strip()
path = sys.argv[2] if len(sys.argv) > 2 else "docs/benchmarks.md"
text = open(path).read()
start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
if start in text:
    text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
else:
    if "<!-- notes -->" not in text:
        text = text.rstrip() + "\n\n<!-- notes -->\n"
    text = text.rstrip() + "\n\n" + block + "\n"
open(path, "w").write(text)
