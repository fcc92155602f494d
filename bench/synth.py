#!/usr/bin/env python3
"""Synth-time benchmark: prints measured figures, each against a baseline measured in the same run.

1. Each reference stack and an empty app, each synthesized in a fresh process (what `cdk synth`
   costs a user, Python start-up and the jsii runtime included), with the built-in CloudFormation
   validation on and off: median seconds and the ratio to the empty app.
2. Each construct of bench/baselines/ against the same resources written in plain aws-cdk-lib L2
   code, in one warm process, alternating the two: median milliseconds and the ratio (target <= 1.1).

    make bench                      # or: .venv/bin/python bench/synth.py --runs 7
    .venv/bin/python bench/synth.py --only constructs
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_NODE", str(ROOT / "node_modules" / ".bin" / "node"))

CONTEXT = {**json.loads((ROOT / "cdk.json").read_text())["context"], "aws:cdk:bundling-stacks": []}

# One synth in a fresh process. Bundling is skipped: `cdk synth` reuses bundled assets from
# cdk.out, so their one-off pip install is not what a user pays on each synth.
_SYNTH_ONE = """
import json, sys, tempfile
import aws_cdk as cdk
name, validation = sys.argv[1], sys.argv[2] == "on"
app = cdk.App(context=json.loads(sys.argv[3]), outdir=tempfile.mkdtemp(), builtin_cloud_formation_validation=validation)
if name != "(empty app)":
    from refarch.stacks import REFERENCE_STACKS
    REFERENCE_STACKS[name](app, name)
app.synth()
"""


def time_process(name: str, validation: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _SYNTH_ONE, name, validation, json.dumps(CONTEXT)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def bench_stacks(runs: int) -> None:
    from refarch.stacks import REFERENCE_STACKS

    names = ["(empty app)", *REFERENCE_STACKS]
    print(f"Reference stacks, fresh process per synth, median of {runs} (seconds):")
    head = ("stack", "validation off", "x empty", "validation on", "x empty", "validation cost")
    print(f"{head[0]:<28} {head[1]:>14} {head[2]:>8} {head[3]:>14} {head[4]:>8} {head[5]:>16}")
    medians: dict[tuple[str, str], float] = {}
    for validation in ("off", "on"):
        samples: dict[str, list[float]] = {n: [] for n in names}
        for _ in range(runs):  # interleave stacks so drift of the machine hits all alike
            for name in names:
                samples[name].append(time_process(name, validation))
        for name in names:
            medians[(name, validation)] = statistics.median(samples[name])
    for name in names:
        off, on = medians[(name, "off")], medians[(name, "on")]
        print(
            f"{name:<28} {off:>14.2f} {off / medians[('(empty app)', 'off')]:>8.2f} "
            f"{on:>14.2f} {on / medians[('(empty app)', 'on')]:>8.2f} {on - off:>15.2f}s"
        )


def compare_construct(name: str, runs: int) -> dict[str, float]:
    """Construct vs plain L2 of one bench/baselines module, alternating, in this (warm) process."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    def synth_ms(build: object) -> tuple[float, int]:
        start = time.perf_counter()
        app = cdk.App(context=CONTEXT, outdir=tempfile.mkdtemp(), builtin_cloud_formation_validation=False)
        stack = cdk.Stack(app, "Bench")
        build(stack)  # type: ignore[operator]
        resources = len(Template.from_stack(stack).to_json()["Resources"])
        return (time.perf_counter() - start) * 1000, resources

    module = importlib.import_module(f"bench.baselines.{name}")
    for _ in range(2):  # warm-up: the first uses load aws-cdk-lib's modules on both sides
        synth_ms(module.with_construct)
        synth_ms(module.with_plain_l2)
    ours: list[float] = []
    plain: list[float] = []
    ours_count = plain_count = 0
    for _ in range(runs):
        ms, ours_count = synth_ms(module.with_construct)
        ours.append(ms)
        ms, plain_count = synth_ms(module.with_plain_l2)
        plain.append(ms)
    return {
        "ours": statistics.median(ours),
        "plain": statistics.median(plain),
        "ours_resources": ours_count,
        "plain_resources": plain_count,
    }


def bench_constructs(runs: int, only: str | None) -> None:
    # Each construct in a process of its own: objects of earlier apps stay alive in the jsii
    # runtime and slow later synths, which would skew a comparison run late in a shared process.
    modules = sorted(p.stem for p in (ROOT / "bench" / "baselines").glob("*.py") if p.stem != "__init__")
    print(f"\nConstruct vs plain L2, one warm process each, alternating, median of {runs} (ms, validation off):")
    header = ("construct", "construct ms", "resources", "plain L2 ms", "resources", "ratio")
    print(
        f"{header[0]:<24} {header[1]:>12} {header[2]:>9} {header[3]:>12} {header[4]:>9} {header[5]:>6}  target <= 1.10"
    )
    for name in modules:
        if only and only != name:
            continue
        worker = subprocess.run(
            [sys.executable, __file__, "--compare", name, "--runs", str(runs)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        result = json.loads(worker.stdout.strip().splitlines()[-1])
        ratio = result["ours"] / result["plain"]
        print(
            f"{name:<24} {result['ours']:>12.0f} {result['ours_resources']:>9} {result['plain']:>12.0f} "
            f"{result['plain_resources']:>9} {ratio:>6.2f}  {'ok' if ratio <= 1.10 else 'OVER'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["stacks", "constructs"], default=None)
    parser.add_argument("--construct", default=None, help="one module of bench/baselines")
    parser.add_argument("--compare", default=None, help=argparse.SUPPRESS)  # the per-construct worker
    args = parser.parse_args()
    if args.compare:
        print(json.dumps(compare_construct(args.compare, args.runs)))
        return
    if args.only in (None, "stacks"):
        bench_stacks(args.runs)
    if args.only in (None, "constructs"):
        bench_constructs(max(args.runs, 15), args.construct)


if __name__ == "__main__":
    main()
