"""The operations view every construct shares: a CloudWatch dashboard, an "architecture health"
composite alarm, and the encrypted SNS topic alarms notify.

Each construct says *what* to watch (its panels of metrics and its alarms); this module says *how*
it is shown and wired, so all five constructs read the same way:

- ``dashboard`` prop: ``True`` (a dashboard with a name CloudFormation generates), ``False`` (none)
  or a string (the dashboard's name). Checked by :func:`check_dashboard_prop`.
- ``alarm_topic`` prop: an ``sns.ITopic`` or ``None``; ``None`` means a new topic encrypted with a
  customer-managed key (:func:`build_alarm_topic`).
- The dashboard opens with the state of every alarm of the construct and of its health alarm,
  then one graph per panel.
- The health alarm is in ALARM when any of the construct's alarms is (``AlarmRule.any_of``), and
  notifies the alarm topic on ALARM and on OK: one page answers "is it up".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.constructs import _builders
from refarch.constructs._props import Prop
from refarch.constructs._validation import PropValidationError, is_token

#: What CloudWatch accepts as a dashboard name (PutDashboard: alphanumerics, "-" and "_", 1 to 255).
DASHBOARD_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")

#: Dashboard grid: 24 columns; three graphs a row.
_GRID_WIDTH = 24
_GRAPH_WIDTH = 8
_GRAPH_HEIGHT = 6


@dataclass(frozen=True)
class Panel:
    """One graph of a dashboard: a title and the metrics it plots (``right`` on a second axis)."""

    title: str
    left: Sequence[cloudwatch.IMetric]
    right: Sequence[cloudwatch.IMetric] = field(default_factory=tuple)


def check_dashboard_prop(owner: str, prop: str, value: Any) -> None:
    """``dashboard`` is ``True``, ``False`` or a name CloudWatch accepts; tokens pass. A ``Prop`` check
    (refarch.constructs._props): every construct's ``dashboard`` entry lists it in ``checks``."""
    if isinstance(value, bool):
        return
    if not isinstance(value, str):
        raise PropValidationError(
            owner, prop, value, "Allowed: True (a generated name), False (no dashboard) or a dashboard name."
        )
    if is_token(value):
        return
    if not DASHBOARD_NAME.fullmatch(value):
        raise PropValidationError(
            owner,
            prop,
            value,
            "A dashboard name has 1 to 255 characters, each a letter, a digit, '-' or '_' (CloudWatch rejects "
            "others); pass True for a generated name.",
        )


#: The ``dashboard`` prop, the same in every construct: its type, default, documentation and check, written
#: once (``dashboard: DashboardProp`` in a props class). An empty name reaches the check, which says what a
#: name may hold.
DashboardProp = Annotated[
    bool | str,
    Prop(
        "`False` for no CloudWatch dashboard, or a name for it.",
        default=True,
        default_doc="- a dashboard with a generated name",
        checks=(check_dashboard_prop,),
        allow_empty=True,
    ),
]


def build_alarm_topic(
    scope: Construct,
    id: str,
    *,
    removal_policy: RemovalPolicy,
    description: str,
    key_id: str | None = None,
    own_key: kms.Key | None = None,
) -> sns.Topic:
    """An SNS topic for alarms, encrypted with a customer-managed key that alarms may use.

    CloudWatch cannot publish to topics under the AWS managed ``aws/sns`` key, so the key admits
    the CloudWatch service of this account (metric and composite alarms alike) and, like
    ``aws/sns``, any principal of this account calling through SNS (Auto Scaling notifications).
    Pass ``own_key``, a key the construct created itself, to use it (and add those statements to
    it); never a key the user brought, whose policy is theirs. Otherwise a new key, ``<id>Key``
    unless ``key_id`` names it.
    """
    stack = Stack.of(scope)
    key = own_key or _builders.build_key(
        scope, key_id or f"{id}Key", description=f"Encrypts {description}", removal_policy=removal_policy
    )
    allow_alarms(key, scope)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowThisAccountThroughSns",
            principals=[iam.AnyPrincipal()],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={
                "StringEquals": {
                    "kms:CallerAccount": stack.account,
                    "kms:ViaService": f"sns.{stack.region}.amazonaws.com",
                }
            },
        )
    )
    return sns.Topic(scope, id, master_key=key, enforce_ssl=True, display_name=description[:100])


def allow_alarms(key: kms.IKey, scope: Construct) -> None:
    """Let CloudWatch alarms (and composite alarms) of this account publish to topics under ``key``."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarms",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions={"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}},
        )
    )


def build_operations_view(
    scope: Construct,
    *,
    dashboard: bool | str,
    title: str,
    panels: Sequence[Panel],
    alarms: Mapping[str, cloudwatch.IAlarm],
    topic: sns.ITopic | None,
) -> tuple[cloudwatch.Dashboard | None, cloudwatch.CompositeAlarm | None]:
    """The construct's health alarm (when it has alarms) and its dashboard (unless ``dashboard`` is False
    or there is nothing to show).

    The health alarm is ``HealthAlarm`` under ``scope``, the dashboard ``Dashboard``; the dashboard
    shows the alarm states first, then ``panels``.
    """
    health = build_health_alarm(scope, title=title, alarms=alarms, topic=topic)
    if dashboard is False or not (panels or alarms):
        return None, health  # off, or nothing to show
    states: list[cloudwatch.IAlarm] = [*([health] if health is not None else []), *alarms.values()]
    rows: list[list[cloudwatch.IWidget]] = [
        [cloudwatch.TextWidget(markdown=f"# {title}", width=_GRID_WIDTH, height=1)],
    ]
    if states:
        rows.append(
            [cloudwatch.AlarmStatusWidget(alarms=states, title="Alarms", width=_GRID_WIDTH, height=_alarm_rows(states))]
        )
    graphs: list[cloudwatch.IWidget] = [
        cloudwatch.GraphWidget(
            title=panel.title,
            left=list(panel.left),
            right=list(panel.right),
            width=_GRAPH_WIDTH,
            height=_GRAPH_HEIGHT,
        )
        for panel in panels
    ]
    per_row = _GRID_WIDTH // _GRAPH_WIDTH
    rows += [graphs[i : i + per_row] for i in range(0, len(graphs), per_row)]
    board = cloudwatch.Dashboard(
        scope,
        "Dashboard",
        dashboard_name=dashboard if isinstance(dashboard, str) else None,
        widgets=rows,
    )
    return board, health


def build_health_alarm(
    scope: Construct,
    *,
    title: str,
    alarms: Mapping[str, cloudwatch.IAlarm],
    topic: sns.ITopic | None,
) -> cloudwatch.CompositeAlarm | None:
    """A composite alarm in ALARM when any of ``alarms`` is, notifying ``topic``; None without alarms."""
    if not alarms:
        return None
    health = cloudwatch.CompositeAlarm(
        scope,
        "HealthAlarm",
        alarm_description=f"Architecture health of {title}: in ALARM while any of its alarms is "
        f"({', '.join(sorted(alarms))}).",
        alarm_rule=cloudwatch.AlarmRule.any_of(
            *(cloudwatch.AlarmRule.from_alarm(alarm, cloudwatch.AlarmState.ALARM) for alarm in alarms.values())
        ),
        actions_enabled=True,
    )
    if topic is not None:
        action = cw_actions.SnsAction(topic)
        health.add_alarm_action(action)
        health.add_ok_action(action)
    return health


def build_alarm(
    scope: Construct,
    id: str,
    *,
    metric: cloudwatch.IMetric,
    threshold: float,
    comparison: cloudwatch.ComparisonOperator,
    description: str,
    evaluation_periods: int = 3,
    treat_missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.MISSING,
) -> cloudwatch.Alarm:
    """An alarm on ``metric`` that fires when ``evaluation_periods`` periods in a row breach ``threshold``
    (so one noisy period does not page)."""
    return cloudwatch.Alarm(
        scope,
        id,
        metric=metric,
        threshold=threshold,
        comparison_operator=comparison,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=evaluation_periods,
        alarm_description=description,
        treat_missing_data=treat_missing_data,
    )


def _alarm_rows(alarms: Sequence[cloudwatch.IAlarm]) -> int:
    """Height of an alarm status widget: about four alarms a grid row, at least 2."""
    return max(2, -(-len(alarms) // 4) + 1)
