"""Helpers for snapshot-testing stacks built from refarch (or anything else).

Snapshots of synthesized templates churn for reasons that are not changes to the
infrastructure: asset hashes move with every handler edit and with every aws-cdk-lib
upgrade. :func:`normalize_template` replaces that noise with stable placeholders, so a
snapshot diff shows only what would change in the deployed stack::

    from aws_cdk.assertions import Template
    from refarch.testing import normalize_template

    def test_my_stack(snapshot):
        template = Template.from_stack(MyStack(App(), "MyStack")).to_json()
        assert normalize_template(template) == snapshot
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from refarch.testing.assembly import Declaration, SynthesizedTemplate, from_assembly, from_stack
from refarch.testing.lifecycle import LifecycleFinding, check_lifecycle
from refarch.testing.network import FlowFinding, Network, Reach, check_flows
from refarch.testing.operations import OperationsFinding, check_operations_view
from refarch.testing.permissions import Decision, Outcome, PermissionChecker, PermissionFinding, check_permissions

#: A 64-hex-digit asset hash (SHA-256), as CDK writes it into S3 keys and image tags.
ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
ASSET_HASH_PLACEHOLDER = "<asset-hash>"


def normalize_template(template: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``template`` with asset hashes and CDK version metadata replaced or dropped."""
    result = copy.deepcopy(template)
    resources = result.get("Resources", {})
    resources.pop("CDKMetadata", None)
    conditions = result.get("Conditions", {})
    conditions.pop("CDKMetadataAvailable", None)
    if not conditions:
        result.pop("Conditions", None)
    for resource in resources.values():
        # aws:asset:* metadata holds local staging paths and hashes; it is not deployed.
        metadata = resource.get("Metadata")
        if isinstance(metadata, dict):
            for key in [k for k in metadata if k.startswith("aws:asset:")]:
                del metadata[key]
            if not metadata:
                del resource["Metadata"]
    normalized: dict[str, Any] = _replace_hashes(result)
    return normalized


def _replace_hashes(value: Any) -> Any:
    if isinstance(value, str):
        return ASSET_HASH.sub(ASSET_HASH_PLACEHOLDER, value)
    if isinstance(value, list):
        return [_replace_hashes(v) for v in value]
    if isinstance(value, dict):
        return {_replace_hashes(k): _replace_hashes(v) for k, v in value.items()}
    return value


def summarize_assembly(outdir: str | Path) -> list[dict[str, Any]]:
    """Stack name, resource count and template size of each template in a cloud assembly."""
    rows = []
    for template in sorted(Path(outdir).glob("*.template.json")):
        body = json.loads(template.read_text())
        rows.append(
            {
                "stack": template.name.removesuffix(".template.json"),
                "resources": len(body.get("Resources", {})),
                "bytes": template.stat().st_size,
            }
        )
    return rows


def print_assembly_summary(outdir: str | Path = "cdk.out") -> None:
    """Print :func:`summarize_assembly` as a table (``make synth`` ends with it)."""
    rows = summarize_assembly(outdir)
    print(f"{'stack':<32} {'resources':>9} {'template':>10}")
    for row in rows:
        print(f"{row['stack']:<32} {row['resources']:>9} {row['bytes'] / 1024:>8.1f} KB")
    if not rows:
        print(f"(no templates in {outdir})")


__all__ = [
    "ASSET_HASH",
    "ASSET_HASH_PLACEHOLDER",
    "Declaration",
    "Decision",
    "FlowFinding",
    "LifecycleFinding",
    "Network",
    "OperationsFinding",
    "Outcome",
    "PermissionChecker",
    "PermissionFinding",
    "Reach",
    "SynthesizedTemplate",
    "check_flows",
    "check_lifecycle",
    "check_operations_view",
    "check_permissions",
    "from_assembly",
    "from_stack",
    "normalize_template",
    "print_assembly_summary",
    "summarize_assembly",
]
