"""Every standalone example app synthesizes the way a user would run it, compliance packs included."""

from __future__ import annotations

import json

import pytest

from tests.harness import EXAMPLES, ExampleRuns


@pytest.mark.parametrize("example", [p.name for p in EXAMPLES])
def test_example_synthesizes_clean(example: str, example_runs: ExampleRuns) -> None:
    run = example_runs[example]
    config = json.loads((run.example / "cdk.json").read_text())
    assert config["app"] == "python3 app.py"
    assert run.result.returncode == 0, f"{example} failed to synthesize:\n{run.result.stdout}\n{run.result.stderr}"

    stacks = run.stacks
    assert stacks, f"{example} produced no stack"
    for stack in stacks:
        assert stack.resources, f"{example}: {stack.name} has no resources"
    # apply_packs ran as validation plugins: their report must show no violation at all. The
    # report lists only plugins with findings, so check that the app registers the packs at all.
    assert "apply_packs(app" in (run.example / "app.py").read_text(), f"{example} does not apply the packs"
    report_file = run.outdir / "validation-report.json"
    assert report_file.exists(), f"{example} wrote no validation report"
    report = json.loads(report_file.read_text())
    violations = [
        f"{p['pluginName']}: {v['ruleName']} at {[c['constructPath'] for c in v['violatingConstructs']]}"
        for p in report.get("pluginReports", [])
        for v in p.get("violations", [])
        if v.get("severity") == "error"
    ]
    assert not violations, "\n".join(violations)
