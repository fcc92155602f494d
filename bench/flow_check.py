#!/usr/bin/env python3
"""Cost of the network-flow check (refarch.testing.check_flows) against the synth it checks.

For each reference stack, in one warm process: the best of ``--runs`` times to build and synthesize
the stack (built-in CloudFormation validation off, as in the unit tests: the cheapest synth, so the
ratio is the least flattering) and to run ``check_flows`` on the result. Target: under 10%.

    .venv/bin/python bench/flow_check.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_NODE", str(ROOT / "node_modules" / ".bin" / "node"))

import aws_cdk as cdk  # noqa: E402

from refarch.stacks import REFERENCE_STACKS  # noqa: E402
from refarch.testing import check_flows, from_stack  # noqa: E402

CONTEXT = {**json.loads((ROOT / "cdk.json").read_text())["context"], "aws:cdk:bundling-stacks": []}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    print(f"{'stack':<26} {'build+synth':>11} {'check_flows':>12} {'ratio':>7} {'flows':>6}")
    for name, stack_class in REFERENCE_STACKS.items():
        synth_times, check_times, flows = [], [], 0
        for _ in range(runs):
            start = time.perf_counter()
            app = cdk.App(context=CONTEXT, builtin_cloud_formation_validation=False)
            output = from_stack(stack_class(app, name))
            synthesized = time.perf_counter()
            findings = check_flows([output])
            checked = time.perf_counter()
            assert not findings, "\n".join(str(f) for f in findings)
            synth_times.append(synthesized - start)
            check_times.append(checked - synthesized)
            flows = len(output.declarations("flow"))
        synth, check = min(synth_times), min(check_times)
        print(f"{name:<26} {synth:>10.2f}s {check * 1000:>10.1f}ms {check / synth:>7.2%} {flows:>6}")


if __name__ == "__main__":
    main()
