"""VPC flow logs: all traffic to a log group under a customer key, written by a role of their own."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from refarch.constructs import _builders
from refarch.iam import ManagedPolicyRole


@dataclass(frozen=True)
class FlowLogs:
    """The flow log, where it writes, and the key that encrypts it."""

    flow_log: ec2.FlowLog
    log_group: logs.LogGroup
    encryption_key: kms.IKey
    #: The key, when the construct made it (its alarm topic may use it too).
    own_key: kms.Key | None


def build_flow_logs(
    scope: Construct,
    vpc: ec2.Vpc,
    *,
    encryption_key: kms.IKey | None,
    log_retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
) -> FlowLogs:
    """Log all of ``vpc``'s traffic to an encrypted log group (under a new key unless one is given)."""
    path = scope.node.path
    own_key = None
    if encryption_key is None:
        own_key = _builders.build_logs_key(
            scope, "FlowLogKey", description=f"Encrypts the VPC flow logs of {path}", removal_policy=removal_policy
        )
    key = encryption_key or own_key
    assert key is not None
    log_group = _builders.build_log_group(
        scope, "FlowLogGroup", encryption_key=key, retention=log_retention, removal_policy=removal_policy
    )
    role = ManagedPolicyRole(
        scope,
        "FlowLogRole",
        assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
        description=f"VPC flow logs of {path}",
    )
    flow_log = vpc.add_flow_log(
        "FlowLog",
        destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group, role),
        traffic_type=ec2.FlowLogTrafficType.ALL,
    )
    return FlowLogs(flow_log=flow_log, log_group=log_group, encryption_key=key, own_key=own_key)
