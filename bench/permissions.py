#!/usr/bin/env python3
"""What ``refarch.testing.check_permissions`` costs against synthesizing each reference stack.

Each stack is measured in a process of its own, so the first check pays the one-time costs (reading
the handler modules and botocore's service models) as a user's first check would:

- synth: a fresh unit-test App (flags of cdk.json, no bundling, built-in validation off) with the
  stack, synthesized and read back (``from_stack``);
- check cold: the first ``check_permissions`` in the process; warm: the second.

Target: the check costs under 10% of the stack's synth.

    .venv/bin/python bench/permissions.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(name: str) -> str:
    sys.path.insert(0, str(ROOT))
    from refarch.stacks import REFERENCE_STACKS
    from refarch.testing import check_permissions, from_stack
    from tests.harness import new_app

    new_app()  # the jsii runtime is up before anything is timed
    started = time.perf_counter()
    output = from_stack(REFERENCE_STACKS[name](new_app(), name))
    synth = time.perf_counter() - started
    started = time.perf_counter()
    findings = check_permissions(output)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    check_permissions(output)
    warm = time.perf_counter() - started
    return (
        f"{name:26} synth {synth:5.2f} s   check cold {cold * 1000:5.0f} ms ({100 * cold / synth:4.1f}%)"
        f"   warm {warm * 1000:4.0f} ms ({100 * warm / synth:4.1f}%)   findings {len(findings)}"
    )


def main() -> None:
    if len(sys.argv) > 1:
        print(measure(sys.argv[1]))
        return
    sys.path.insert(0, str(ROOT))
    from refarch.stacks import REFERENCE_STACKS

    for name in REFERENCE_STACKS:
        result = subprocess.run([sys.executable, __file__, name], capture_output=True, text=True, check=True, cwd=ROOT)
        print(result.stdout.strip())


if __name__ == "__main__":
    main()
