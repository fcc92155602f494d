"""Read back the operations view of a synthesized stack: dashboards, their metrics and alarm
widgets, composite alarms and the alarms their rules name; and check that every alarm is seen.

A ``DashboardBody`` is a JSON document that CloudFormation assembles with ``Fn::Join`` from text and
references; :func:`dashboards` renders each reference as a marker (``${Logical}`` for a ``Ref``,
``${Logical.Attr}`` for a ``Fn::GetAtt``) and parses the result, so a test can ask which metrics
and alarms a dashboard shows without deploying it::

    from refarch.testing import check_operations_view, from_assembly

    for stack in ...:
        assert not check_operations_view(from_assembly("cdk.out", stack)), "every alarm is seen"

The rules (each finding names the stack, the alarm and what is missing):

``OPS-NO-ACTION``
    An alarm or composite alarm notifies nobody (no ``AlarmActions``).
``OPS-NOT-IN-HEALTH``
    A metric alarm that no composite alarm's rule names: the "is it up" page would miss it.
``OPS-NOT-ON-DASHBOARD``
    An alarm (or composite alarm) that no dashboard's alarm widget shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from refarch.testing.assembly import SynthesizedTemplate

ALARM = "AWS::CloudWatch::Alarm"
COMPOSITE_ALARM = "AWS::CloudWatch::CompositeAlarm"
DASHBOARD = "AWS::CloudWatch::Dashboard"

#: ``ALARM("<arn>")`` in a composite alarm's rule, with the ARN rendered as ``${Logical.Arn}``.
_RULE_OPERAND = re.compile(r'ALARM\("\$\{([A-Za-z0-9]+)\.Arn\}"\)')
_ARN_MARKER = re.compile(r"\$\{([A-Za-z0-9]+)\.Arn\}")


@dataclass(frozen=True)
class DashboardMetric:
    """One metric line of a graph or single-value widget."""

    namespace: str
    metric_name: str
    dimensions: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Dashboard:
    """A dashboard of a template, its body parsed."""

    logical_id: str
    body: dict[str, Any]

    @property
    def widgets(self) -> list[dict[str, Any]]:
        widgets: list[dict[str, Any]] = self.body.get("widgets", [])
        return widgets

    def metrics(self) -> list[DashboardMetric]:
        """Every metric the graphs plot (math expressions are skipped; their inputs are listed)."""
        found = []
        for widget in self.widgets:
            for line in widget.get("properties", {}).get("metrics", []):
                names = [part for part in line if isinstance(part, str)]
                if len(names) < 2:
                    continue  # an expression line: [{"expression": ...}]
                namespace, metric_name, *pairs = names
                found.append(DashboardMetric(namespace, metric_name, dict(zip(pairs[::2], pairs[1::2], strict=False))))
        return found

    def alarms(self) -> list[str]:
        """Logical IDs of the alarms its alarm status widgets show."""
        found = []
        for widget in self.widgets:
            if widget.get("type") == "alarm":
                for arn in widget.get("properties", {}).get("alarms", []):
                    match = _ARN_MARKER.fullmatch(arn)
                    if match:
                        found.append(match.group(1))
        return found


@dataclass(frozen=True)
class OperationsFinding:
    """An alarm that would not be seen or would notify nobody."""

    rule: str
    stack: str
    logical_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.stack}/{self.logical_id}: {self.message}"


def render(value: Any) -> str:
    """A CloudFormation string expression as text, each reference as a ``${...}`` marker."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return f"${{{argument}}}"
        if function == "Fn::GetAtt":
            target = argument if isinstance(argument, str) else ".".join(str(a) for a in argument)
            return f"${{{target}}}"
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(render(part) for part in parts)
    return "${?}"


def dashboards(output: SynthesizedTemplate) -> list[Dashboard]:
    """Every dashboard of the stack, its body parsed (references rendered as markers)."""
    return [
        Dashboard(logical_id, json.loads(render(props.get("DashboardBody", "{}"))))
        for logical_id, props in _resources(output, DASHBOARD)
    ]


def composite_rule_alarms(props: dict[str, Any]) -> list[str]:
    """Logical IDs of the alarms a composite alarm's ``AlarmRule`` names as ``ALARM(...)``."""
    return _RULE_OPERAND.findall(render(props.get("AlarmRule", "")))


def check_operations_view(output: SynthesizedTemplate) -> list[OperationsFinding]:
    """Every alarm of the stack notifies someone, is in a composite alarm, and is on a dashboard."""
    alarms = dict(_resources(output, ALARM))
    composites = dict(_resources(output, COMPOSITE_ALARM))
    in_health = {alarm for props in composites.values() for alarm in composite_rule_alarms(props)}
    on_dashboard = {alarm for board in dashboards(output) for alarm in board.alarms()}
    findings = []
    for logical_id, props in sorted({**alarms, **composites}.items()):
        kind = "composite alarm" if logical_id in composites else "alarm"
        # A member of a composite alarm may stay silent: it notifies through the composite (AWS's way
        # to page once for a combination of conditions).
        silent_member = logical_id in alarms and any(
            logical_id in composite_rule_alarms(composite) and composite.get("AlarmActions")
            for composite in composites.values()
        )
        if (not props.get("AlarmActions") or props.get("ActionsEnabled") is False) and not silent_member:
            findings.append(OperationsFinding("OPS-NO-ACTION", output.name, logical_id, f"the {kind} notifies nobody"))
        if logical_id in alarms and logical_id not in in_health:
            findings.append(
                OperationsFinding(
                    "OPS-NOT-IN-HEALTH",
                    output.name,
                    logical_id,
                    "no composite alarm's rule names it"
                    + (f" (composite alarms: {', '.join(sorted(composites))})" if composites else " (there is none)"),
                )
            )
        if logical_id not in on_dashboard:
            findings.append(
                OperationsFinding("OPS-NOT-ON-DASHBOARD", output.name, logical_id, f"no dashboard shows the {kind}")
            )
    return findings


def _resources(output: SynthesizedTemplate, type_: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in output.resources.items():
        if resource.get("Type") == type_:
            yield logical_id, resource.get("Properties", {})
