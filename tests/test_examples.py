"""Every standalone example app synthesizes the way a user would run it, compliance packs included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.background import Background
from tests.harness import EXAMPLES, ExampleRuns, cfn_lint, pack_errors


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


#: Region-bound example stacks name their AZs (aws-cdk-lib writes the environment's AZs into the
#: template), which cfn-lint's W3010 warns about: expected for a concrete environment (FINDINGS.md).
EXAMPLE_LINT_IGNORES = ("W3010",)


def lint_example_templates() -> dict[str, list[str]]:
    """cfn-lint over every stack of every example as `cdk synth` writes it, in one call; in the
    background, after the example runs it reads. "example/Stack" -> findings."""
    runs = ExampleRuns()  # the same background jobs as the session's, so the same runs
    files: dict[Path, str] = {}
    for example in EXAMPLES:
        run = runs[example.name]
        assert run.result.returncode == 0, f"{example.name} failed to synthesize:\n{run.result.stderr}"
        files.update(
            {
                path: f"{example.name}/{path.name.removesuffix('.template.json')}"
                for path in run.outdir.glob("*.template.json")
            }
        )
    return {files[path]: found for path, found in cfn_lint(sorted(files), ignore=EXAMPLE_LINT_IGNORES).items()}


#: Long (it runs the example apps it lints first): queued among the first, so the short jobs are left for the end.
LONG_BACKGROUND_JOBS = {"cfn-lint examples": lint_example_templates}


@pytest.mark.slow
@pytest.mark.parametrize("example", [p.name for p in EXAMPLES])
def test_example_templates_are_cfn_lint_clean(example: str, background: Background) -> None:
    findings = background.result("cfn-lint examples", lint_example_templates)
    stacks = {name: found for name, found in findings.items() if name.startswith(f"{example}/")}
    assert stacks, f"{example} has no template to lint"
    errors = [f"{name}: {finding}" for name, found in stacks.items() for finding in found]
    assert not errors, "cfn-lint errors and warnings:\n" + "\n".join(errors)
