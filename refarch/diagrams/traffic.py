"""The traffic matrix: which tier reaches which on which port, and why, from the network-flow evaluator.

Two tables, both answered by :class:`refarch.testing.Network` (security groups, network ACLs and
routes of the synthesized templates, every source AZ to every destination AZ):

- tier to tier: from the internet and from any host of each tier (the subnet groups) to each other
  tier, on every port the stack's flow contracts name. A host with no security group of its own is
  assumed, so the network ACLs decide; the "why" column names the ACL entries that let the request
  and its reply through, or the entry (or missing entry) that stops them;
- the declared flows (:mod:`refarch.contracts.flows`): what each construct promised, what the
  network does, and the security group rules and ACL entries that make it so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from refarch.diagrams.build import ranked_subnets
from refarch.diagrams.model import Source
from refarch.testing.assembly import SynthesizedTemplate
from refarch.testing.network import FLOW_KIND, Network, Reach

INTERNET = "0.0.0.0/0"

#: At most this many reasons per row (the rest are counted).
_MAX_REASONS = 4


@dataclass(frozen=True)
class TrafficRow:
    source: str
    destination: str
    port: int
    result: str
    """``open``, ``closed``, ``partly open`` (some AZ paths) or ``unknown``."""
    why: tuple[str, ...]
    expected: str | None = None
    """For a declared flow: ``open`` or ``closed``; None for the tier matrix."""
    reason: str = ""


@dataclass(frozen=True)
class TrafficMatrix:
    tiers: tuple[TrafficRow, ...]
    flows: tuple[TrafficRow, ...]

    def row(self, source: str, destination: str, port: int) -> TrafficRow:
        """The tier-matrix row from ``source`` to ``destination`` (tier names or ``internet``)."""
        for row in self.tiers:
            if (row.source, row.destination, row.port) == (source, destination, port):
                return row
        raise KeyError(f"no row {source} -> {destination} on {port}; rows: {self._keys()}")

    def _keys(self) -> list[tuple[str, str, int]]:
        return [(r.source, r.destination, r.port) for r in self.tiers]

    def markdown(self) -> str:
        """Both tables, or a sentence when the stack has no network."""
        lines: list[str] = []
        if self.tiers:
            lines += [
                "### Tier to tier",
                "",
                "Any host of the source tier (no security group of its own) to the destination tier, "
                "every AZ to every AZ: the network ACLs decide.",
                "",
                "| From | To | TCP port | Result | Why |",
                "| --- | --- | --- | --- | --- |",
            ]
            lines += [f"| {r.source} | {r.destination} | {r.port} | {r.result} | {_cell(r.why)} |" for r in self.tiers]
            lines.append("")
        if self.flows:
            lines += [
                "### Declared flows",
                "",
                "What the constructs require open or forbid (`require_flow` / `forbid_flow`), and what the "
                "synthesized security groups, network ACLs and routes do.",
                "",
                "| Flow | From | To | TCP port | Expected | Result | Why |",
                "| --- | --- | --- | --- | --- | --- | --- |",
            ]
            lines += [
                f"| {_escape(r.reason)} | {_escape(r.source)} | {_escape(r.destination)} | {r.port} | {r.expected} "
                f"| {r.result} | {_cell(r.why)} |"
                for r in self.flows
            ]
            lines.append("")
        if not lines:
            return "This architecture has no VPC: no network traffic to evaluate.\n"
        return "\n".join(lines)


def traffic_matrix(templates: Sequence[SynthesizedTemplate]) -> TrafficMatrix:
    """Evaluate the tier matrix and every declared flow of ``templates``."""
    network = Network.from_templates(templates)
    stacks = {t.name for t in templates}
    declarations = [(t.name, d.data) for t in templates for d in t.declarations(FLOW_KIND)]
    ports = sorted({int(data["port"]) for _, data in declarations})
    tiers = list(dict.fromkeys(s.group for s in ranked_subnets(Source.read(templates)) if s.group))
    tier_rows = []
    for source in ["internet", *tiers]:
        for destination in tiers:
            if source == destination:
                continue
            for port in ports:
                origin = INTERNET if source == "internet" else f"tier:{source}"
                reach = network.can_reach(origin, f"tier:{destination}", port)
                tier_rows.append(_row(source, destination, port, reach, stacks))
    flow_rows = []
    for stack, data in declarations:
        reach = network.can_reach(data["source"], data["destination"], int(data["port"]), stack=stack)
        row = _row(reach.source, reach.destination, int(data["port"]), reach, stacks)
        flow_rows.append(
            TrafficRow(
                row.source,
                row.destination,
                row.port,
                row.result,
                row.why,
                str(data.get("expect", "open")),
                str(data.get("reason", "")),
            )
        )
    return TrafficMatrix(tuple(tier_rows), tuple(flow_rows))


def _row(source: str, destination: str, port: int, reach: Reach, stacks: set[str]) -> TrafficRow:
    """One row; "why" reads one AZ path (the first blocked one when closed), the same rules decide the others."""
    count = f"{len(reach.paths)} AZ path{'s' if len(reach.paths) != 1 else ''}"
    if reach.unknown or any(p.unknown for p in reach.paths) or not reach.paths:
        result = "unknown"
        why: list[str] = [*reach.unknown, *(u for p in reach.paths for u in p.unknown)] or ["no path"]
    elif reach.open:
        first = reach.paths[0]
        result, why = "open", [f"on {count}, e.g. {first.source} -> {first.destination}:", *first.allowed_by]
    else:
        blocked = [p for p in reach.paths if p.blocked_by]
        result = "closed" if reach.closed else f"partly open ({len(reach.paths) - len(blocked)} of {count})"
        first = blocked[0]
        why = [f"blocked on {len(blocked)} of {count}, e.g. {first.source} -> {first.destination}:", *first.blocked_by]
    unique = list(dict.fromkeys(_short(r, stacks) for r in why))
    if len(unique) > _MAX_REASONS + 1:
        unique = unique[: _MAX_REASONS + 1] + [f"and {len(unique) - _MAX_REASONS - 1} more"]
    return TrafficRow(_short(source, stacks), _short(destination, stacks), port, result, tuple(unique))


def _short(text: str, stacks: set[str]) -> str:
    """Without the stack prefix and CDK's logical-ID hashes: ``WebAcl (rule 100 ...)``."""
    for stack in sorted(stacks, key=len, reverse=True):
        text = text.replace(f"{stack}/", "")
    text = text.replace(" (the ACL's final deny applies)", "")
    return re.sub(r"\b([A-Za-z][A-Za-z0-9]*?)[0-9A-F]{8}\b", r"\1", text)


def _cell(reasons: Sequence[str]) -> str:
    return "<br>".join(_escape(r) for r in reasons)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["TrafficMatrix", "TrafficRow", "traffic_matrix"]
