"""Full WAF logs: an encrypted, retained log group named as WAF requires, with secrets redacted."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Names, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from refarch.constructs import _builders
from refarch.constructs.web_acl.props import WAF_LOG_GROUP_PREFIX

#: Request headers whose values are replaced by "REDACTED" in the WAF logs.
REDACTED_HEADERS = ("authorization", "cookie")


@dataclass(frozen=True)
class LogDelivery:
    """Where the web ACL logs, under which key."""

    log_group: logs.LogGroup
    encryption_key: kms.IKey


def build_log_group(
    scope: Construct,
    *,
    log_group_name: str | None,
    log_retention: logs.RetentionDays,
    encryption_key: kms.IKey | None,
    removal_policy: RemovalPolicy,
) -> LogDelivery:
    """The log group (under a new key that admits CloudWatch Logs unless one is given)."""
    key = encryption_key or _builders.build_logs_key(
        scope, "LogKey", description=f"Encrypts the WAF logs of {scope.node.path}", removal_policy=removal_policy
    )
    log_group = _builders.build_log_group(
        scope,
        "LogGroup",
        # The group is retained: a suffix unique to the stack's creation keeps the next create
        # of the stack from colliding with it.
        log_group_name=log_group_name
        or f"{WAF_LOG_GROUP_PREFIX}{Names.unique_resource_name(scope, max_length=200)}-"
        f"{_builders.stack_unique_suffix(scope)}",
        encryption_key=key,
        retention=log_retention,
        removal_policy=removal_policy,
    )
    return LogDelivery(log_group=log_group, encryption_key=key)


def build_logging_configuration(
    scope: Construct, web_acl: wafv2.CfnWebACL, log_group: logs.ILogGroup
) -> wafv2.CfnLoggingConfiguration:
    """Send every request of ``web_acl`` to ``log_group``, the ``REDACTED_HEADERS`` blanked."""
    return wafv2.CfnLoggingConfiguration(
        scope,
        "Logging",
        resource_arn=web_acl.attr_arn,
        # WAF wants the log group ARN without the ":*" suffix that LogGroup.log_group_arn has.
        log_destination_configs=[
            Stack.of(scope).format_arn(
                service="logs",
                resource="log-group",
                resource_name=log_group.log_group_name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
        ],
        redacted_fields=[
            wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
            for header in REDACTED_HEADERS
        ],
    )
