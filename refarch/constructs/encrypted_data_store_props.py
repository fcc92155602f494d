"""Prop checks of :class:`~refarch.constructs.EncryptedDataStore`, and the settings derived from them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from refarch.compliance.residency import check_regions
from refarch.constructs._dashboards import check_alarm_topic_prop, check_dashboard_prop
from refarch.constructs._validation import (
    PropValidationError,
    check_exclusive,
    check_int_range,
    check_whole_range,
    is_token,
)

_OWNER = "EncryptedDataStore"

_DAY = 86400
_MAX_RETENTION_DAYS = 36500  # 100 years
_ALIAS = re.compile(r"^[a-zA-Z0-9/_-]{1,200}$")
_SHIELD_ARN = re.compile(
    r"^arn:aws[a-z-]*:(cloudfront::\d{12}:distribution/|elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/"
    r"|ec2:[a-z0-9-]+:\d{12}:eip-allocation/|globalaccelerator::\d{12}:accelerator/|route53:::hostedzone/)"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _whole_days(
    prop: str, value: Duration | None, *, minimum: int = 1, maximum: int = _MAX_RETENTION_DAYS
) -> int | None:
    """``value`` in whole days within ``minimum..maximum``; ``None`` passes."""
    if value is None:
        return None
    if value.is_unresolved():
        raise PropValidationError(_OWNER, prop, value, "Allowed: a concrete Duration in whole days, not a token.")
    seconds = value.to_seconds()
    days = seconds / _DAY
    if days != int(days):
        raise PropValidationError(_OWNER, prop, value.to_human_string(), "Allowed: a whole number of days.")
    if not minimum <= days <= maximum:
        raise PropValidationError(_OWNER, prop, value.to_human_string(), f"Allowed: from {minimum} to {maximum} days.")
    return int(days)


@dataclass(frozen=True)
class Settings:
    """The checked props, in the units the construct builds with."""

    retention_days: int
    noncurrent_days: int
    lock_days: int | None
    rotation_days: int | None
    backup_days: int
    trail_days: int
    log_retention: logs.RetentionDays | None
    regions: tuple[str, ...] | None


def check_props(
    *,
    data_retention: Duration,
    noncurrent_version_retention: Duration | None,
    versioned: bool,
    object_lock_retention: Duration | None,
    object_lock_mode: s3.ObjectLockMode,
    key_rotation_period: Duration | None,
    key_alias_prefix: str | None,
    table_partition_key: dynamodb.Attribute | None,
    table_sort_key: dynamodb.Attribute | None,
    table_ttl_attribute: str | None,
    database_vpc: ec2.IVpc | None,
    database_subnets: ec2.SubnetSelection | None,
    database_security_groups: Sequence[ec2.ISecurityGroup] | None,
    database_engine_version: rds.AuroraPostgresEngineVersion | None,
    database_backup_retention: Duration | None,
    database_min_capacity: float,
    database_max_capacity: float,
    database_readers: int,
    audit_trail: bool,
    trail_log_group: logs.ILogGroup | None,
    trail_retention: Duration | None,
    alarms: bool,
    alarm_topic: sns.ITopic | None,
    alarm_emails: Sequence[str],
    metric_namespace: str,
    allowed_regions: Sequence[str] | None,
    shield_advanced_protected_arns: Sequence[str],
    dashboard: bool | str,
) -> Settings:
    """Every prop check of the construct, before it creates anything (see its docstring)."""
    retention_days = _whole_days("data_retention", data_retention)
    if retention_days is None:
        raise PropValidationError(_OWNER, "data_retention", None, "Required: how long personal data may be kept.")
    noncurrent_days = _whole_days("noncurrent_version_retention", noncurrent_version_retention) or 30
    lock_days = _whole_days("object_lock_retention", object_lock_retention)
    if lock_days is not None:
        if not versioned:
            raise PropValidationError(
                _OWNER,
                "object_lock_retention",
                object_lock_retention.to_human_string() if object_lock_retention else None,
                "Object Lock needs versioning: leave versioned=True, or drop object_lock_retention.",
            )
        if lock_days > retention_days:
            raise PropValidationError(
                _OWNER,
                "data_retention",
                data_retention.to_human_string(),
                f"It must be at least object_lock_retention ({lock_days} days): objects cannot expire while locked.",
            )
    if object_lock_mode not in (s3.ObjectLockMode.GOVERNANCE, s3.ObjectLockMode.COMPLIANCE):
        raise PropValidationError(_OWNER, "object_lock_mode", object_lock_mode, "Allowed: GOVERNANCE or COMPLIANCE.")
    rotation_days = _whole_days("key_rotation_period", key_rotation_period, minimum=90, maximum=2560)
    if (
        key_alias_prefix is not None
        and not is_token(key_alias_prefix)
        and (
            not key_alias_prefix.startswith("alias/")
            or key_alias_prefix.startswith("alias/aws/")
            or not _ALIAS.match(key_alias_prefix)
        )
    ):
        raise PropValidationError(
            _OWNER,
            "key_alias_prefix",
            key_alias_prefix,
            "Allowed: 'alias/' followed by letters, digits, '/', '_' or '-', not starting with 'alias/aws/'.",
        )
    if table_partition_key is None:
        for prop, value in (("table_sort_key", table_sort_key), ("table_ttl_attribute", table_ttl_attribute)):
            if value is not None:
                raise PropValidationError(_OWNER, prop, value, "It needs table_partition_key (the table) too.")
    if database_vpc is None:
        db_props: tuple[tuple[str, object], ...] = (
            ("database_subnets", database_subnets),
            ("database_security_groups", database_security_groups),
            ("database_engine_version", database_engine_version),
            ("database_backup_retention", database_backup_retention),
        )
        for db_prop, db_value in db_props:
            if db_value is not None:
                raise PropValidationError(_OWNER, db_prop, db_value, "It needs database_vpc (the database) too.")
    backup_days = _whole_days("database_backup_retention", database_backup_retention, maximum=35) or 14
    check_int_range(_OWNER, "database_min_capacity", database_min_capacity, minimum=0, maximum=256)
    if database_min_capacity * 2 != int(database_min_capacity * 2):
        raise PropValidationError(_OWNER, "database_min_capacity", database_min_capacity, "Allowed: steps of 0.5.")
    check_int_range(_OWNER, "database_max_capacity", database_max_capacity, minimum=1, maximum=256)
    if database_max_capacity * 2 != int(database_max_capacity * 2):
        raise PropValidationError(_OWNER, "database_max_capacity", database_max_capacity, "Allowed: steps of 0.5.")
    if database_max_capacity < database_min_capacity:
        raise PropValidationError(
            _OWNER,
            "database_max_capacity",
            database_max_capacity,
            f"It must be at least database_min_capacity ({database_min_capacity}).",
        )
    check_whole_range(_OWNER, "database_readers", database_readers, minimum=0, maximum=15)
    if audit_trail and trail_log_group is not None:
        raise PropValidationError(
            _OWNER,
            "trail_log_group",
            trail_log_group.node.path,
            "Give it only with audit_trail=False (the log group of an existing trail).",
        )
    if alarms and not audit_trail and trail_log_group is None:
        raise PropValidationError(
            _OWNER,
            "trail_log_group",
            None,
            "With audit_trail=False the alarms need the log group your existing trail delivers to; "
            "give it, or set alarms=False.",
        )
    trail_days = _whole_days("trail_retention", trail_retention) or 365
    log_retention = _retention_days(trail_days)
    check_alarm_topic_prop(_OWNER, alarm_topic)
    check_dashboard_prop(_OWNER, dashboard)
    check_exclusive(_OWNER, alarm_topic=alarm_topic, alarm_emails=list(alarm_emails) or None)
    for email in alarm_emails:
        if not is_token(email) and not _EMAIL.match(email):
            raise PropValidationError(
                _OWNER, "alarm_emails", email, "Allowed: email addresses such as 'dpo@example.com'."
            )
    if not re.match(r"^[A-Za-z0-9._/#:-]{1,255}$", metric_namespace) or metric_namespace.startswith("AWS/"):
        raise PropValidationError(
            _OWNER,
            "metric_namespace",
            metric_namespace,
            "Allowed: 1-255 letters, digits and . _ / # : -, not starting with 'AWS/'.",
        )
    for arn in shield_advanced_protected_arns:
        if not is_token(arn) and not _SHIELD_ARN.match(arn):
            raise PropValidationError(
                _OWNER,
                "shield_advanced_protected_arns",
                arn,
                "Allowed: ARNs of CloudFront distributions, load balancers, Elastic IP allocations, "
                "Global Accelerator accelerators or Route 53 hosted zones.",
            )
    regions = check_regions(_OWNER, "allowed_regions", allowed_regions)
    return Settings(
        retention_days=retention_days,
        noncurrent_days=noncurrent_days,
        lock_days=lock_days,
        rotation_days=rotation_days,
        backup_days=backup_days,
        trail_days=trail_days,
        log_retention=log_retention,
        regions=regions,
    )


#: The retention periods CloudWatch Logs offers, in days (RetentionDays' Python values are its names).
_LOG_RETENTION_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def _retention_days(days: int | None) -> logs.RetentionDays | None:
    """The ``RetentionDays`` for a whole number of days, which must be one CloudWatch Logs offers."""
    if days is None:
        return None
    by_days = _LOG_RETENTION_DAYS
    if days not in by_days:
        raise PropValidationError(
            _OWNER,
            "trail_retention",
            f"{days} days",
            f"Allowed: one of CloudWatch Logs' retention periods, in days: {sorted(by_days)}.",
        )
    return by_days[days]
