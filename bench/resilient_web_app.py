#!/usr/bin/env python3
"""Resources and synth time of ResilientWebAppStack against the empty-app floor.

In one warm process, alternating, the best of ``--runs`` times to build and synthesize (built-in
CloudFormation validation off, as in the unit tests):

- floor: an App with one empty Stack;
- the reference stack (ThreeTierVpc + ResilientWebApp with the cache and the work queue on);
- the same with the four cdk-nag packs as validation plugins (what ``make synth`` adds).

Then, as ``cdk synth`` runs an app (one process each, Python and jsii start-up included), the best of
``--runs``: an empty app (the floor) against ``examples/resilient_web_app`` (two region-bound stacks,
the packs as plugins), both with the example's cdk.json context, no bundling, no built-in validation.

    .venv/bin/python bench/resilient_web_app.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_NODE", str(ROOT / "node_modules" / ".bin" / "node"))

import aws_cdk as cdk  # noqa: E402

from refarch.compliance import apply_packs  # noqa: E402
from refarch.stacks.resilient_web_app_stack import ResilientWebAppStack  # noqa: E402
from tests.harness import run_app  # noqa: E402

CONTEXT = {**json.loads((ROOT / "cdk.json").read_text())["context"], "aws:cdk:bundling-stacks": []}
NAME = "ResilientWebAppStack"
T = TypeVar("T")
EXAMPLE = ROOT / "examples" / "resilient_web_app"
EMPTY_APP = "import aws_cdk as cdk\napp = cdk.App()\ncdk.Stack(app, 'Empty')\napp.synth()\n"


def _synth(build: Callable[[cdk.App], cdk.Stack], packs: bool = False) -> tuple[float, int]:
    start = time.perf_counter()
    app = cdk.App(context=CONTEXT, builtin_cloud_formation_validation=False)
    stack = build(app)
    if packs:
        apply_packs(app)
    template = app.synth().get_stack_by_name(stack.stack_name).template
    return time.perf_counter() - start, len(template.get("Resources", {}))


def _run_app(folder: Path) -> tuple[float, dict[str, int]]:
    """Seconds to run ``folder/app.py`` as `cdk synth` does (tests/harness.py ``run_app``: built-in
    validation off), and resources per stack it wrote."""
    context = {**json.loads((EXAMPLE / "cdk.json").read_text())["context"], "aws:cdk:bundling-stacks": []}
    with tempfile.TemporaryDirectory(prefix="bench-resilient-") as outdir:
        start = time.perf_counter()
        run = run_app(folder, Path(outdir), context)
        seconds = time.perf_counter() - start
        assert run.result.returncode == 0, f"{folder}/app.py failed:\n{run.result.stderr}"
        stacks = {stack.name: len(stack.resources) for stack in run.stacks}
    return seconds, stacks


def example_app(runs: int) -> None:
    """The two-region example against an empty app, each in a process of its own."""
    with tempfile.TemporaryDirectory(prefix="bench-empty-") as folder:
        (Path(folder) / "app.py").write_text(EMPTY_APP)
        cases = {"empty app (floor)": Path(folder), "examples/resilient_web_app": EXAMPLE}
        best, stacks = _best_of(runs, {label: partial(_run_app, cwd) for label, cwd in cases.items()})
    print()
    _print_table("as cdk synth runs it", best, {label: sum(counts.values()) for label, counts in stacks.items()})
    for stack, count in sorted(stacks["examples/resilient_web_app"].items()):  # the floor's one stack is empty
        print(f"  {stack:<28} {count:>9}")


def _best_of(runs: int, cases: dict[str, Callable[[], tuple[float, T]]]) -> tuple[dict[str, float], dict[str, T]]:
    """The best seconds of each case over ``runs`` rounds (the cases alternate), and what each case counted."""
    best: dict[str, float] = {}
    counted: dict[str, T] = {}
    for _ in range(runs):
        for label, run in cases.items():
            seconds, counted[label] = run()
            best[label] = min(best.get(label, seconds), seconds)
    return best, counted


def _print_table(title: str, best: dict[str, float], resources: dict[str, int]) -> None:
    floor = best["empty app (floor)"]
    print(f"{title:<30} {'resources':>9} {'best s':>8} {'over floor':>10}")
    for label, seconds in best.items():
        print(f"{label:<30} {resources[label]:>9} {seconds:>8.2f} {seconds - floor:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    cases: dict[str, tuple[Callable[[cdk.App], cdk.Stack], bool]] = {
        "empty app (floor)": (lambda app: cdk.Stack(app, "Empty"), False),
        NAME: (lambda app: ResilientWebAppStack(app, NAME), False),
        f"{NAME} + packs": (lambda app: ResilientWebAppStack(app, NAME), True),
    }
    best, resources = _best_of(runs, {label: partial(_synth, build, packs) for label, (build, packs) in cases.items()})
    _print_table("case", best, resources)
    example_app(runs)


if __name__ == "__main__":
    main()
