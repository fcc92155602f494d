"""Prop checks of PrivateApi (see ``private_api``): every bad prop fails before anything is built."""

from __future__ import annotations

import enum
import re

from aws_cdk import Duration, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from constructs import Construct

from refarch.constructs._network_checks import check_network_port, selected
from refarch.constructs._validation import (
    PropValidationError,
    check_duration_range,
    check_int_range,
    check_one_of,
    check_port,
    check_whole_range,
    is_token,
)
from refarch.constructs.three_tier_vpc import ThreeTierVpc

_OWNER = "PrivateApi"

#: Log types each engine exports to CloudWatch Logs (every type the engine offers on RDS).
ENGINE_LOG_EXPORTS = {
    "mysql": ("audit", "error", "general", "slowquery"),
    "postgres": ("postgresql", "upgrade", "iam-db-auth-error"),
}

_STAGE_NAME = re.compile(r"^[A-Za-z0-9_]{1,128}$")
_PATH_PART = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")
_DB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_MONITORING_SECONDS = (0, 1, 5, 10, 15, 30, 60)
_CACHE_SIZES = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")


class ApiAuthorization(enum.Enum):
    """Who may call the API."""

    #: Callers sign requests with SigV4 and need ``execute-api:Invoke`` (see ``grant_invoke``).
    IAM = "iam"
    #: Callers present a token of the given Cognito user pool.
    COGNITO = "cognito"
    #: Anyone who reaches the API (WAF and throttling still apply). Only when explicitly asked.
    NONE = "none"


#: The default subnet selections, for any VPC (selecting by type; a lookup by list is cheaper).
PRIVATE_WITH_EGRESS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
PRIVATE_ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)


def engine_family(engine: rds.IInstanceEngine) -> str:
    family = engine.engine_type
    if family not in ENGINE_LOG_EXPORTS:
        raise PropValidationError(
            _OWNER,
            "engine",
            family,
            "Allowed: a MySQL or PostgreSQL engine (rds.DatabaseInstanceEngine.mysql(...) or .postgres(...)).",
        )
    if engine.engine_version is None:
        raise PropValidationError(
            _OWNER, "engine", family, "Pin a full engine version, for example MysqlEngineVersion.VER_8_4_7."
        )
    return family


def check_subnets(vpc: ec2.IVpc, prop: str, selection: ec2.SubnetSelection, kind: str) -> list[ec2.ISubnet]:
    """The subnets ``selection`` picks in ``vpc``; there must be at least one."""
    try:
        if selection == PRIVATE_WITH_EGRESS:
            subnets = list(vpc.private_subnets)
        elif selection == PRIVATE_ISOLATED:
            subnets = list(vpc.isolated_subnets)
        else:
            subnets = selected(vpc, selection)
    except Exception as exc:  # jsii raises a RuntimeError-like error when the selection matches nothing
        raise PropValidationError(_OWNER, "vpc", vpc.node.path, f"It has no {kind} for {prop}: {exc}") from exc
    if not subnets:
        raise PropValidationError(_OWNER, "vpc", vpc.node.path, f"It has no {kind} for {prop}.")
    return subnets


def validate(
    *,
    vpc: ec2.IVpc | ThreeTierVpc | None,
    stage_name: str,
    authorization: ApiAuthorization,
    user_pool: cognito.IUserPool | None,
    throttling_rate_limit: float,
    throttling_burst_limit: int,
    cache_cluster_size: str | None,
    usage_plan: bool,
    usage_plan_quota_per_day: int | None,
    lambda_function: lambda_.IFunction | None,
    lambda_path: str | None,
    listener_port: int,
    app_port: int,
    db_port: int,
    health_check_path: str,
    root_volume_size_gib: int,
    min_capacity: int,
    max_capacity: int,
    desired_capacity: int | None,
    cpu_target_percent: float,
    database_name: str,
    allocated_storage_gib: int,
    max_allocated_storage_gib: int,
    backup_retention: Duration | None,
    secret_rotation_interval: Duration | None,
    monitoring_interval: Duration | None,
    alarm_api_5xx_rate: float,
    alarm_db_cpu_percent: float,
    alarm_db_free_storage_gib: float,
    alarm_db_connections: int,
) -> None:
    if not _STAGE_NAME.match(stage_name):
        raise PropValidationError(_OWNER, "stage_name", stage_name, "Allowed: 1 to 128 letters, digits and '_'.")
    if authorization is ApiAuthorization.COGNITO and user_pool is None:
        raise PropValidationError(
            _OWNER, "user_pool", None, "ApiAuthorization.COGNITO needs the user pool whose tokens it accepts."
        )
    if authorization is not ApiAuthorization.COGNITO and user_pool is not None:
        raise PropValidationError(
            _OWNER,
            "user_pool",
            user_pool.node.path,
            f"It is only used with ApiAuthorization.COGNITO, not {authorization}.",
        )
    check_int_range(_OWNER, "throttling_rate_limit", throttling_rate_limit, minimum=1, maximum=1_000_000)
    check_whole_range(_OWNER, "throttling_burst_limit", throttling_burst_limit, minimum=1, maximum=1_000_000)
    check_one_of(_OWNER, "cache_cluster_size", cache_cluster_size, _CACHE_SIZES)
    if usage_plan_quota_per_day is not None and not usage_plan:
        raise PropValidationError(
            _OWNER, "usage_plan_quota_per_day", usage_plan_quota_per_day, "It needs usage_plan=True."
        )
    check_whole_range(_OWNER, "usage_plan_quota_per_day", usage_plan_quota_per_day, minimum=1, maximum=2**31 - 1)
    if lambda_path is not None:
        if lambda_function is None:
            raise PropValidationError(_OWNER, "lambda_path", lambda_path, "It needs lambda_function.")
        if not _PATH_PART.match(lambda_path) or lambda_path.startswith("{"):
            raise PropValidationError(
                _OWNER, "lambda_path", lambda_path, "Allowed: one path segment of letters, digits and '._~-'."
            )
    for prop, port in (("listener_port", listener_port), ("app_port", app_port), ("database_port", db_port)):
        check_port(_OWNER, prop, port)
    if db_port == app_port:
        raise PropValidationError(_OWNER, "database_port", db_port, f"It must differ from app_port ({app_port}).")
    # The caller resolved network.vpc to its ThreeTierVpc already.
    check_network_port(_OWNER, "database_port", db_port, vpc if isinstance(vpc, ThreeTierVpc) else None)
    if not health_check_path.startswith("/") or len(health_check_path) > 1024 or " " in health_check_path:
        raise PropValidationError(
            _OWNER, "health_check_path", health_check_path, "Allowed: an HTTP path starting with '/'."
        )
    check_whole_range(_OWNER, "root_volume_size_gib", root_volume_size_gib, minimum=8, maximum=16384)
    check_whole_range(_OWNER, "min_capacity", min_capacity, minimum=1, maximum=1000)
    check_whole_range(_OWNER, "max_capacity", max_capacity, minimum=1, maximum=1000)
    if not is_token(min_capacity) and not is_token(max_capacity) and min_capacity > max_capacity:
        raise PropValidationError(
            _OWNER, "min_capacity", min_capacity, f"It must not exceed max_capacity ({max_capacity})."
        )
    if desired_capacity is not None:
        check_whole_range(_OWNER, "desired_capacity", desired_capacity, minimum=min_capacity, maximum=max_capacity)
    check_int_range(_OWNER, "cpu_target_percent", cpu_target_percent, minimum=1, maximum=100)
    if not _DB_NAME.match(database_name):
        raise PropValidationError(
            _OWNER, "database_name", database_name, "Allowed: a letter, then up to 62 letters, digits and '_'."
        )
    check_whole_range(_OWNER, "allocated_storage_gib", allocated_storage_gib, minimum=20, maximum=65536)
    check_whole_range(
        _OWNER, "max_allocated_storage_gib", max_allocated_storage_gib, minimum=allocated_storage_gib, maximum=65536
    )
    if backup_retention is not None:
        check_duration_range(
            _OWNER, "backup_retention", backup_retention, minimum=Duration.days(1), maximum=Duration.days(35)
        )
    if secret_rotation_interval is not None:
        check_duration_range(
            _OWNER,
            "secret_rotation_interval",
            secret_rotation_interval,
            minimum=Duration.days(1),
            maximum=Duration.days(365),
        )
    if (
        monitoring_interval is not None
        and not monitoring_interval.is_unresolved()
        and monitoring_interval.to_seconds() not in _MONITORING_SECONDS
    ):
        raise PropValidationError(
            _OWNER,
            "monitoring_interval",
            monitoring_interval.to_human_string(),
            f"Allowed: one of {list(_MONITORING_SECONDS)} seconds.",
        )
    if not 0 < alarm_api_5xx_rate <= 1:
        raise PropValidationError(
            _OWNER, "alarm_api_5xx_rate", alarm_api_5xx_rate, "Allowed: a fraction above 0 and at most 1 (0.05 is 5%)."
        )
    check_int_range(_OWNER, "alarm_db_cpu_percent", alarm_db_cpu_percent, minimum=1, maximum=100)
    check_int_range(_OWNER, "alarm_db_free_storage_gib", alarm_db_free_storage_gib, minimum=0.1, maximum=65536)
    check_whole_range(_OWNER, "alarm_db_connections", alarm_db_connections, minimum=1, maximum=100_000)


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def check_edge(
    scope: Construct,
    *,
    domain_name: str | None,
    hosted_zone: route53.IHostedZone | None,
    certificate: acm.ICertificate | None,
    web_acl_arn: str | None,
    authorization: ApiAuthorization,
) -> None:
    if domain_name is None:
        for prop, value in (
            ("hosted_zone", hosted_zone),
            ("edge_certificate", certificate),
            ("edge_web_acl_arn", web_acl_arn),
        ):
            if value is not None:
                raise PropValidationError(_OWNER, prop, _shown(value), "It needs domain_name (the edge is off).")
        return
    if not is_token(domain_name) and not _DOMAIN.match(domain_name):
        raise PropValidationError(
            _OWNER, "domain_name", domain_name, "Allowed: a lower-case DNS name such as 'api.example.com'."
        )
    if hosted_zone is None:
        raise PropValidationError(
            _OWNER, "hosted_zone", None, f"domain_name={domain_name!r} needs the hosted zone it belongs to."
        )
    zone_name = hosted_zone.zone_name
    if not is_token(domain_name) and not is_token(zone_name):
        zone = zone_name.rstrip(".")
        if domain_name != zone and not domain_name.endswith("." + zone):
            raise PropValidationError(_OWNER, "domain_name", domain_name, f"It is not in the hosted zone {zone!r}.")
    if authorization is ApiAuthorization.IAM:
        raise PropValidationError(
            _OWNER,
            "domain_name",
            domain_name,
            "The edge needs ApiAuthorization.COGNITO or NONE: SigV4 (IAM) signatures name the host, which "
            "CloudFront replaces with the API's own. Call the API's URL directly with IAM authorization.",
        )
    region = Stack.of(scope).region
    where = "an unresolved region" if is_token(region) else region
    if certificate is None and (is_token(region) or region != "us-east-1"):
        raise PropValidationError(
            _OWNER,
            "edge_certificate",
            None,
            f"CloudFront takes certificates from us-east-1 and this stack is in {where}: "
            "pass a us-east-1 certificate for domain_name, or deploy the stack to us-east-1.",
        )


def _shown(value: object) -> object:
    node = getattr(value, "node", None)
    return node.path if node is not None else value
