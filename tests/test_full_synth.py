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

pytestmark = pytest.mark.slow  # bundles the Lambda layers and runs the built-in CloudFormation validation

#: Run in the background (tests/background.py) from the start of the session: it is the longest synth.
LONG_BACKGROUND_JOBS = {REFERENCE_APP: synthesize_reference_app}


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


#: The Lambda layers of the reference app, by stack, and top-level packages each must hold
#: (refarch/runtime/layers/*.txt): a layer missing from the assembly fails, as does an empty one.
EXPECTED_LAYERS = {
    "ImageProcessorStack": {"PIL", "pillow_heif", "aws_lambda_powertools", "fastjsonschema"},
    "StreamingPipelineStack": {"aws_lambda_powertools", "fastjsonschema"},
}


def bundled_layers(assembly: Path) -> dict[str, list[Path]]:
    """Stack name -> the asset folders of its AWS::Lambda::LayerVersion resources."""
    layers: dict[str, list[Path]] = {}
    for template_file in sorted(assembly.glob("*.template.json")):
        resources = json.loads(template_file.read_text())["Resources"].values()
        folders = [
            assembly / r["Metadata"]["aws:asset:path"] for r in resources if r["Type"] == "AWS::Lambda::LayerVersion"
        ]
        if folders:
            layers[template_file.name.removesuffix(".template.json")] = folders
    return layers


def test_lambda_assets_are_bundled(assembly: Path) -> None:
    """Layers were built by local pip bundling: each holds python/ with the packages of its requirements."""
    layers = bundled_layers(assembly)
    assert {stack: len(folders) for stack, folders in layers.items()} == dict.fromkeys(EXPECTED_LAYERS, 1)
    for stack, (folder,) in layers.items():
        site = folder / "python"
        assert site.is_dir(), f"{stack}: layer asset {folder.name} has no python/ folder"
        installed = {p.name for p in site.iterdir()}
        missing = EXPECTED_LAYERS[stack] - installed
        assert not missing, f"{stack}: layer {folder.name} lacks {sorted(missing)} (has {sorted(installed)})"
        assert any(name.endswith(".dist-info") for name in installed), f"{stack}: layer {folder.name} is no pip install"
