#!/usr/bin/env python3
"""What ``refarch.testing.check_lifecycle`` costs per reference stack, against that stack's synth.

For every stack of ``refarch.stacks.REFERENCE_STACKS``, in one warm process:

- synth: a fresh App (the project's feature flags, no bundling, built-in validation off, no
  compliance packs: the cheapest synth, so the ratio is the least flattering) and ``app.synth()``;
- read: ``refarch.testing.from_stack`` on that synthesized stack (template and metadata from the
  cloud assembly, shared by every deploy check);
- lint: ``check_lifecycle`` on what was read.

Prints the medians and the lint's share of the synth (target: under 10%).

    .venv/bin/python bench/lifecycle_lint.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_NODE", str(ROOT / "node_modules" / ".bin" / "node"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from refarch.stacks import REFERENCE_STACKS
    from refarch.testing import check_lifecycle, from_stack
    from tests.harness import new_app

    print(f"{'stack':<26} {'synth ms':>9} {'read ms':>8} {'lint ms':>8} {'lint/synth':>11}")
    for name, stack_class in REFERENCE_STACKS.items():
        synths, reads, lints = [], [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            app = new_app()
            stack = stack_class(app, name)
            app.synth()
            synths.append(time.perf_counter() - start)
            start = time.perf_counter()
            output = from_stack(stack)
            reads.append(time.perf_counter() - start)
            start = time.perf_counter()
            findings = check_lifecycle(output)
            lints.append(time.perf_counter() - start)
            assert not findings, findings
        synth, read, lint = (statistics.median(x) * 1000 for x in (synths, reads, lints))
        print(f"{name:<26} {synth:>9.0f} {read:>8.1f} {lint:>8.1f} {lint / synth:>10.2%}")


if __name__ == "__main__":
    main()
