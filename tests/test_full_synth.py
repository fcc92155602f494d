"""The reference app synthesized once as `make synth` does it: assets bundled for real, the
built-in CloudFormation validation on, and the compliance packs as validation plugins.

Unit-test synths skip the first two (bundling and ~3.5 s of validation per synth); this test is
where their findings gate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from refarch.stacks import REFERENCE_STACKS
from tests.background import Background
from tests.harness import REFERENCE_APP, synthesize_reference_app

#: Run in the background (tests/background.py) from the start of the session: it is the longest synth.
BACKGROUND_JOBS = {REFERENCE_APP: synthesize_reference_app}


@pytest.fixture(scope="module")
def assembly(background: Background) -> Path:
    run = background.result(REFERENCE_APP, synthesize_reference_app)
    # app.py applies the packs as validation plugins: an error finding fails its synth.
    assert run.result.returncode == 0, f"app.py failed to synthesize:\n{run.result.stdout}\n{run.result.stderr}"
    return run.outdir


def test_every_reference_stack_is_in_the_assembly(assembly: Path) -> None:
    manifest = json.loads((assembly / "manifest.json").read_text())
    stacks = {name for name, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"}
    assert stacks == set(REFERENCE_STACKS)


def test_builtin_cloudformation_validation_finds_nothing(assembly: Path) -> None:
    report: dict[str, Any] = json.loads((assembly / "validation-report.json").read_text())
    findings = [
        f"{plugin['pluginName']} {v['severity']} {v['ruleName']}: {v['description']} "
        f"at {[c['constructPath'] for c in v['violatingConstructs']]}"
        for plugin in report.get("pluginReports", [])
        for v in plugin.get("violations", [])
    ]
    assert not findings, "\n".join(findings)


def test_lambda_assets_are_bundled(assembly: Path) -> None:
    """Layers were built by local pip bundling: each holds python/ with real packages in it."""
    layers = []
    for template_file in assembly.glob("*.template.json"):
        template = json.loads(template_file.read_text())
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Lambda::LayerVersion":
                layers.append(resource["Metadata"]["aws:asset:path"])
    for layer in layers:
        site = assembly / layer / "python"
        assert site.is_dir(), f"layer asset {layer} has no python/ folder"
        assert any(p.name.endswith(".dist-info") for p in site.iterdir()), f"layer {layer} has no installed package"
    packages = [{p.name for p in (assembly / layer / "python").iterdir()} for layer in layers]
    assert any({"PIL", "pillow_heif"} <= names for names in packages), "the image layer decodes HEIC (pillow-heif)"
