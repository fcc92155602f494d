"""Every standalone example app synthesizes the way a user would run it, compliance packs included."""

from __future__ import annotations

import json

import pytest

from tests.harness import EXAMPLES, ExampleRuns, pack_errors


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
    # apply_packs ran as validation plugins: their report must show no violation at all.
    assert "apply_packs(app" in (run.example / "app.py").read_text(), f"{example} does not apply the packs"
    errors = pack_errors(run)
    assert not errors, "\n".join(errors)
