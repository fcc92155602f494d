"""`make docs`: synthesize every reference stack and example app, write docs/<Stack>.md + .svg and docs/README.md.

Run from the repository root (the Makefile does): ``.venv/bin/python scripts/make_docs.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from refarch.diagrams.docs import render_pages, write_pages  # noqa: E402
from tests.harness import ExampleRuns, ReferenceStacks, docs_sources  # noqa: E402

DOCS = ROOT / "docs"


def main() -> None:
    started = time.perf_counter()
    sources = docs_sources(ReferenceStacks(), ExampleRuns())
    synthesized = time.perf_counter()
    written = write_pages(render_pages(sources), DOCS)
    total = sum(path.stat().st_size for path in written)
    print(
        f"docs: {len(written)} files, {total / 1024:.0f} KB in {DOCS.relative_to(ROOT)}/ "
        f"(synth {synthesized - started:.1f} s, drawing {time.perf_counter() - synthesized:.1f} s)"
    )


if __name__ == "__main__":
    main()
