#!/usr/bin/env python3
"""What the GDPR pack adds to synthesizing each reference stack, against a baseline measured in
the same run.

For every stack of ``refarch.stacks.REFERENCE_STACKS``, in one warm process, alternating:

- baseline: a fresh App with the stack and the four cdk-nag packs of ``refarch.compliance.packs()``
  as validation plugins, ``app.synth()`` (built-in validation off);
- with GDPR: the same with all of ``packs()``, i.e. plus ``GdprChecks`` (what ``make synth`` does).

Prints the medians, the time the pack adds and the ratio (target: the pack adds under 10%),
and ``GdprChecks().validate_scope(stack)`` on an already-synthesized stack (the test usage).

    .venv/bin/python bench/gdpr_pack.py --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_NODE", str(ROOT / "node_modules" / ".bin" / "node"))

CONTEXT = {
    **json.loads((ROOT / "cdk.json").read_text())["context"],
    "aws:cdk:bundling-stacks": [],
    # A finding must not abort the measurement: it goes to the validation report instead.
    "@aws-cdk/core:failSynthOnValidationErrors": False,
}


def synth_seconds(name: str, gdpr: bool) -> float:
    import aws_cdk as cdk

    from refarch.compliance import GdprChecks, packs
    from refarch.stacks import REFERENCE_STACKS

    start = time.perf_counter()
    app = cdk.App(context=CONTEXT, outdir=tempfile.mkdtemp(), builtin_cloud_formation_validation=False)
    REFERENCE_STACKS[name](app, name)
    plugins = [p for p in packs() if gdpr or not isinstance(p, GdprChecks)]
    cdk.Validations.of(app).add_plugins(*plugins)
    app.synth()
    return time.perf_counter() - start


def validate_seconds(name: str) -> float:
    import aws_cdk as cdk

    from refarch.compliance import GdprChecks
    from refarch.stacks import REFERENCE_STACKS

    app = cdk.App(context=CONTEXT, outdir=tempfile.mkdtemp(), builtin_cloud_formation_validation=False)
    stack = REFERENCE_STACKS[name](app, name)
    app.synth()  # as in tests: the stage's assembly exists (and is cached) before the pack runs
    start = time.perf_counter()
    GdprChecks().validate_scope(stack)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from refarch.stacks import REFERENCE_STACKS

    names = list(REFERENCE_STACKS)
    for name in names:  # warm-up: the first synth of each stack loads its aws-cdk-lib modules
        synth_seconds(name, gdpr=True)
    samples: dict[tuple[str, bool], list[float]] = {(n, g): [] for n in names for g in (False, True)}
    validate: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(args.runs):  # interleaved, so drift of the shared machine hits both alike
        for name in names:
            for gdpr in (False, True):
                samples[(name, gdpr)].append(synth_seconds(name, gdpr))
            validate[name].append(validate_seconds(name))

    print(f"GDPR pack cost, warm process, median of {args.runs} (ms; synth with the four packs, validation off):")
    print(f"{'stack':<28} {'4 packs':>9} {'+ GDPR':>9} {'added':>8} {'ratio':>6} {'pack alone':>11}  target < 1.10")
    total_base = total_gdpr = 0.0
    for name in names:
        base = statistics.median(samples[(name, False)]) * 1000
        with_gdpr = statistics.median(samples[(name, True)]) * 1000
        alone = statistics.median(validate[name]) * 1000
        total_base += base
        total_gdpr += with_gdpr
        ratio = with_gdpr / base
        print(
            f"{name:<28} {base:>9.0f} {with_gdpr:>9.0f} {with_gdpr - base:>8.0f} {ratio:>6.3f} {alone:>11.1f}"
            f"  {'ok' if ratio < 1.10 else 'OVER'}"
        )
    ratio = total_gdpr / total_base
    print(
        f"{'all reference stacks':<28} {total_base:>9.0f} {total_gdpr:>9.0f} {total_gdpr - total_base:>8.0f} "
        f"{ratio:>6.3f} {'':>11}  {'ok' if ratio < 1.10 else 'OVER'}"
    )


if __name__ == "__main__":
    main()
