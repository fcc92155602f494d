"""Every standalone example app synthesizes the way a user would run it, compliance packs included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import ROOT

EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/app.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_synthesizes_clean(example: Path, tmp_path: Path) -> None:
    config = json.loads((example / "cdk.json").read_text())
    assert config["app"] == "python3 app.py"
    # What `cdk synth` gives the app: its cdk.json context and an output directory, in a process
    # of its own (the app reads them when its jsii runtime starts). Bundling is skipped
    # (tests/test_full_synth.py bundles the reference app once), so is the 3.5 s built-in
    # template validation (same reason).
    context = {**config.get("context", {}), "aws:cdk:bundling-stacks": []}
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(context),
        "CDK_OUTDIR": str(tmp_path),
        "CDK_VALIDATION": "false",
    }
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=example, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{example.name} failed to synthesize:\n{result.stdout}\n{result.stderr}"

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    stacks = [a for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"]
    assert stacks, f"{example.name} produced no stack"
    for artifact in stacks:
        template = json.loads((tmp_path / artifact["properties"]["templateFile"]).read_text())
        assert template["Resources"]
    # apply_packs ran as validation plugins: their report must show no violation at all.
    report_file = tmp_path / "validation-report.json"
    if report_file.exists():
        report = json.loads(report_file.read_text())
        violations = [
            f"{p['pluginName']}: {v['ruleName']} at {[c['constructPath'] for c in v['violatingConstructs']]}"
            for p in report.get("pluginReports", [])
            for v in p.get("violations", [])
            if v.get("severity") == "error"
        ]
        assert not violations, "\n".join(violations)
