"""What says a ThreeTierVpc works: its NAT gateways, flow-log delivery and interface endpoints.

Alarms: one per NAT gateway on port-allocation errors (the gateway ran out of source ports to a
destination: new connections from the app tier fail). Packet drops, flow-log delivery and
endpoint traffic are graphs only: they are not zero in a healthy VPC often enough to page anyone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.constructs._dashboards import Panel, build_alarm_topic, build_operations_view
from refarch.constructs._metrics import build_metric


@dataclass(frozen=True)
class OperationsView:
    """The alarms, the topic they notify, the health alarm and the dashboard of a ThreeTierVpc."""

    alarms: dict[str, cloudwatch.Alarm]
    alarm_topic: sns.ITopic | None
    dashboard: cloudwatch.Dashboard | None
    health_alarm: cloudwatch.CompositeAlarm | None


def build_vpc_operations_view(
    scope: Construct,
    vpc: ec2.Vpc,
    *,
    alarm_topic: sns.ITopic | None,
    dashboard: bool | str,
    flow_log_group: logs.ILogGroup | None,
    interface_endpoints: Mapping[str, ec2.InterfaceVpcEndpoint],
    endpoint_services: Sequence[ec2.InterfaceVpcEndpointAwsService],
    removal_policy: RemovalPolicy,
    own_key: kms.Key | None,
) -> OperationsView:
    """NAT alarms notifying ``alarm_topic`` (a new one when there are alarms and none is given), the health
    alarm and the dashboard."""
    alarms = build_nat_alarms(scope, vpc)
    # Without a NAT gateway nothing here alarms, and no topic is made for nothing.
    topic = alarm_topic
    if alarms:
        topic = alarm_topic or build_alarm_topic(
            scope,
            "AlarmTopic",
            removal_policy=removal_policy,
            description=f"alarms of {scope.node.path}",
            own_key=own_key,
        )
        action = cw_actions.SnsAction(topic)
        for alarm in alarms.values():
            alarm.add_alarm_action(action)
    panels = vpc_panels(
        vpc, flow_log_group, interface_endpoints, {service.short_name: service.name for service in endpoint_services}
    )
    board, health_alarm = build_operations_view(
        scope, dashboard=dashboard, title=scope.node.path, panels=panels, alarms=alarms, topic=topic
    )
    return OperationsView(alarms=alarms, alarm_topic=topic, dashboard=board, health_alarm=health_alarm)


def nat_gateways(vpc: ec2.Vpc) -> list[ec2.CfnNatGateway]:
    """The NAT gateways ``ec2.Vpc`` created, one per public subnet that has one, in AZ order."""
    found = (subnet.node.try_find_child("NATGateway") for subnet in vpc.public_subnets)
    return [nat for nat in found if isinstance(nat, ec2.CfnNatGateway)]


def nat_metric(nat: ec2.CfnNatGateway, metric_name: str, label: str | None = None) -> cloudwatch.Metric:
    """A 5-minute sum of one ``AWS/NATGateway`` metric of ``nat`` (labelled for a graph, not for an alarm:
    a label makes the alarm use the ``Metrics`` form instead of ``MetricName``)."""
    return build_metric("AWS/NATGateway", metric_name, {"NatGatewayId": nat.ref}, label=label)


def build_nat_alarms(scope: Construct, vpc: ec2.Vpc) -> dict[str, cloudwatch.Alarm]:
    """``NatGateway<n>PortAllocation``: the gateway failed to allocate a source port (ErrorPortAllocation > 0)."""
    alarms: dict[str, cloudwatch.Alarm] = {}
    for number, nat in enumerate(nat_gateways(vpc), start=1):
        name = f"NatGateway{number}PortAllocation"
        alarms[name] = cloudwatch.Alarm(
            scope,
            f"{name}Alarm",
            metric=nat_metric(nat, "ErrorPortAllocation"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"NAT gateway {number} of {scope.node.path} could not allocate source ports: "
            "new connections from the app tier fail (too many to one destination)",
        )
    return alarms


def vpc_panels(
    vpc: ec2.Vpc,
    flow_log_group: logs.ILogGroup | None,
    interface_endpoints: Mapping[str, ec2.InterfaceVpcEndpoint],
    endpoint_services: Mapping[str, str],
) -> list[Panel]:
    """Graphs of NAT gateway errors and traffic, flow-log delivery and interface-endpoint traffic.

    ``endpoint_services`` maps an endpoint's key in ``interface_endpoints`` to its service name
    (``com.amazonaws.<region>.<service>``), a dimension of its metrics.
    """
    panels: list[Panel] = []
    nats = nat_gateways(vpc)
    if nats:
        panels += [
            Panel(
                "NAT gateways: errors and drops",
                [nat_metric(nat, "ErrorPortAllocation", f"port errors, NAT {n}") for n, nat in _numbered(nats)]
                + [nat_metric(nat, "PacketsDropCount", f"packets dropped, NAT {n}") for n, nat in _numbered(nats)],
            ),
            Panel(
                "NAT gateways: traffic",
                [nat_metric(nat, "BytesOutToDestination", f"bytes out, NAT {n}") for n, nat in _numbered(nats)],
                [nat_metric(nat, "ActiveConnectionCount", f"connections, NAT {n}") for n, nat in _numbered(nats)],
            ),
        ]
    if flow_log_group is not None:
        panels.append(
            Panel(
                "Flow-log delivery",
                [log_group_metric(flow_log_group, "IncomingLogEvents", "flow-log records")],
                [log_group_metric(flow_log_group, "IncomingBytes", "bytes")],
            )
        )
    if interface_endpoints:
        panels.append(
            Panel(
                "Interface endpoints",
                [
                    _endpoint_metric(vpc, endpoint, endpoint_services[name], "PacketsDropped", f"{name} drops")
                    for name, endpoint in interface_endpoints.items()
                ],
                [
                    _endpoint_metric(vpc, endpoint, endpoint_services[name], "BytesProcessed", f"{name} bytes")
                    for name, endpoint in interface_endpoints.items()
                ],
            )
        )
    return panels


def log_group_metric(log_group: logs.ILogGroup, metric_name: str, label: str) -> cloudwatch.Metric:
    """A 5-minute sum of an ``AWS/Logs`` metric of one log group.

    Not ``LogGroup.metric_incoming_log_events``: in aws-cdk-lib 2.275 it asks for ``IncomingLogs`` (the
    metric is ``IncomingLogEvents``) and, like ``metric_incoming_bytes``, without the ``LogGroupName``
    dimension, so it would graph nothing, or every log group of the account.
    """
    return build_metric("AWS/Logs", metric_name, {"LogGroupName": log_group.log_group_name}, label=label)


def _endpoint_metric(
    vpc: ec2.IVpc, endpoint: ec2.InterfaceVpcEndpoint, service_name: str, metric_name: str, label: str
) -> cloudwatch.Metric:
    """An ``AWS/PrivateLinkEndpoints`` metric of one endpoint (its four-dimension set, all subnets)."""
    dimensions = {
        "Endpoint Type": "Interface",
        "Service Name": service_name,
        "VPC Endpoint Id": endpoint.vpc_endpoint_id,
        "VPC Id": vpc.vpc_id,
    }
    return build_metric("AWS/PrivateLinkEndpoints", metric_name, dimensions, label=label)


def _numbered(nats: Sequence[ec2.CfnNatGateway]) -> list[tuple[int, ec2.CfnNatGateway]]:
    return list(enumerate(nats, start=1))
