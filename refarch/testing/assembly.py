"""Read a synthesized stack back: its template and the contract declarations beside it.

The deploy checks work on synthesized output only, so they judge exactly what CloudFormation
would receive, whether it comes from a Stack in a test (:func:`from_stack`) or from the
``cdk.out`` folder of ``cdk synth`` (:func:`from_assembly`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refarch.contracts import METADATA_PREFIX


@dataclass(frozen=True)
class Declaration:
    """One need a construct declared (see :func:`refarch.contracts.declare`), tokens resolved."""

    path: str
    """Construct path of the declaring construct, e.g. ``/MyStack/Pipeline``."""
    kind: str
    """What is declared: ``permission``, ``flow``, ..."""
    data: dict[str, Any]


@dataclass(frozen=True)
class SynthesizedTemplate:
    """One stack as the cloud assembly holds it."""

    name: str
    """The stack's artifact ID (its name in ``cdk.out``)."""
    template: dict[str, Any]
    metadata: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Construct path -> metadata entries (``{"type": ..., "data": ...}``)."""
    environment: str = ""
    """The stack's environment as the manifest writes it: ``aws://<account>/<region>``, with
    ``unknown-account`` / ``unknown-region`` in an environment-agnostic stack."""

    @property
    def region(self) -> str | None:
        """The region the stack is bound to (None when environment-agnostic)."""
        return _known(self.environment, 1, "unknown-region")

    @property
    def account(self) -> str | None:
        """The account the stack is bound to (None when account-agnostic)."""
        return _known(self.environment, 0, "unknown-account")

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template.get("Resources", {})
        return resources

    def declarations(self, kind: str | None = None) -> list[Declaration]:
        """Every contract declaration in this stack, or only those of ``kind``."""
        found = []
        for path, entries in self.metadata.items():
            for entry in entries:
                type_ = str(entry.get("type", ""))
                if not type_.startswith(METADATA_PREFIX):
                    continue
                entry_kind = type_.removeprefix(METADATA_PREFIX)
                if kind is None or entry_kind == kind:
                    found.append(Declaration(path, entry_kind, entry["data"]))
        return found


def _known(environment: str, index: int, unknown: str) -> str | None:
    parts = environment.removeprefix("aws://").split("/")
    value = parts[index] if len(parts) == 2 else ""
    return value if value and value != unknown else None


def from_stack(stack: Any) -> SynthesizedTemplate:
    """Synthesize ``stack``'s Stage (or reuse its assembly, when already synthesized) and read the stack back."""
    from aws_cdk import Stage  # imported here: reading a cdk.out folder needs no jsii

    assembly = Stage.of(stack).synth()  # type: ignore[union-attr]
    return _read(Path(assembly.directory), stack.artifact_id)


def from_assembly(outdir: str | Path) -> list[SynthesizedTemplate]:
    """Every stack of a cloud assembly folder (``cdk.out``), nested stages included."""
    outdir = Path(outdir)
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") == "aws:cloudformation:stack":
            stacks.append(_read(outdir, artifact_id, manifest))
        elif artifact.get("type") == "cdk:cloud-assembly":
            stacks.extend(from_assembly(outdir / artifact["properties"]["directoryName"]))
    return stacks


def _read(outdir: Path, artifact_id: str, manifest: dict[str, Any] | None = None) -> SynthesizedTemplate:
    if manifest is None:
        manifest = json.loads((outdir / "manifest.json").read_text())
    artifact = manifest["artifacts"][artifact_id]
    template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
    metadata: dict[str, list[dict[str, Any]]] = dict(artifact.get("metadata", {}))
    extra = artifact.get("additionalMetadataFile")
    if extra:
        for path, entries in json.loads((outdir / extra).read_text()).items():
            metadata.setdefault(path, []).extend(entries)
    return SynthesizedTemplate(artifact_id, template, metadata, str(artifact.get("environment", "")))


__all__ = ["Declaration", "SynthesizedTemplate", "from_assembly", "from_stack"]
