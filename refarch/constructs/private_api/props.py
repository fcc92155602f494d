"""PrivateApi's props, each written once: type, default, documentation and value checks.

The checks that need several props, the stack or the network are in ``checks.py``.
"""

from __future__ import annotations

import enum
from typing import Annotated

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_sns as sns
from typing_extensions import TypedDict

from refarch.constructs import _defaults
from refarch.constructs._dashboards import DashboardProp
from refarch.constructs._props import (
    Prop,
    described,
    duration_one_of,
    duration_range,
    matches,
    number_range,
    port,
    whole_range,
)
from refarch.constructs._validation import check_one_of
from refarch.constructs.three_tier_vpc import ThreeTierVpc
from refarch.constructs.web_acl import RATE_LIMIT_RANGE
from refarch.errors import PropValidationError


class ApiAuthorization(enum.Enum):
    """Who may call the API."""

    #: Callers sign requests with SigV4 and need ``execute-api:Invoke`` (see ``grant_invoke``).
    IAM = "iam"
    #: Callers present a token of the given Cognito user pool.
    COGNITO = "cognito"
    #: Anyone who reaches the API (WAF and throttling still apply). Only when explicitly asked.
    NONE = "none"


#: Log types each engine exports to CloudWatch Logs (every type the engine offers on RDS).
ENGINE_LOG_EXPORTS = {
    "mysql": ("audit", "error", "general", "slowquery"),
    "postgres": ("postgresql", "upgrade", "iam-db-auth-error"),
}

#: The port each engine listens on unless ``database_port`` says otherwise.
ENGINE_PORTS = {"mysql": 3306, "postgres": 5432}

#: The engine when none is given: MySQL 8.4 (the LTS line), pinned to a full version.
DEFAULT_ENGINE = rds.DatabaseInstanceEngine.mysql(version=rds.MysqlEngineVersion.VER_8_4_7)

_CACHE_SIZES = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")
_MONITORING_SECONDS = (0, 1, 5, 10, 15, 30, 60)


def check_engine(owner: str, prop: str, engine: rds.IInstanceEngine) -> None:
    """MySQL or PostgreSQL, with a full version (the log exports and TLS parameters depend on both)."""
    if engine.engine_type not in ENGINE_LOG_EXPORTS:
        raise PropValidationError(
            owner,
            prop,
            engine.engine_type,
            "Allowed: a MySQL or PostgreSQL engine (rds.DatabaseInstanceEngine.mysql(...) or .postgres(...)).",
        )
    if engine.engine_version is None:
        raise PropValidationError(
            owner, prop, engine.engine_type, "Pin a full engine version, for example MysqlEngineVersion.VER_8_4_7."
        )


def _check_cache_size(owner: str, prop: str, value: str) -> None:
    check_one_of(owner, prop, value, _CACHE_SIZES)


_cache_size = described(_check_cache_size, "one of " + ", ".join(repr(size) for size in _CACHE_SIZES))


def _check_fraction(owner: str, prop: str, value: float) -> None:
    if not 0 < value <= 1:
        raise PropValidationError(owner, prop, value, "Allowed: a fraction above 0 and at most 1 (0.05 is 5%).")


_fraction = described(_check_fraction, "above 0 and at most 1 (0.05 is 5%)")


def _check_latency(owner: str, prop: str, value: Duration) -> None:
    # The alarm threshold is in milliseconds; API Gateway waits at most minutes for an integration.
    milliseconds = value.to_milliseconds()
    if not 1 <= milliseconds <= Duration.minutes(5).to_milliseconds():
        raise PropValidationError(owner, prop, value.to_human_string(), "Allowed: from 1 millisecond to 5 minutes.")


_latency = described(_check_latency, "1 millisecond to 5 minutes")


#: A database user name: no wildcard or path, so the rds-db:connect grant names exactly one user.
_DB_USER = matches(
    r"[A-Za-z_][A-Za-z0-9_$-]{0,62}",
    "a database user name: a letter or '_', then up to 62 "
    "letters, digits, '_', '$' or '-' (no wildcard: the grant must name one user)",
)


class PrivateApiProps(TypedDict, total=False):
    """The props of :class:`~refarch.constructs.PrivateApi`."""

    # -- network
    vpc: Annotated[
        ec2.IVpc | ThreeTierVpc | None,
        Prop(
            "The network. A ThreeTierVpc (or its vpc) is used tier by tier: service in App, database in Db, its "
            "app-tier network ACL opened to load balancer traffic. Any other IVpc needs private subnets with "
            "egress and isolated subnets. The database subnets must span 2 AZs.",
            default=None,
            default_doc="- a new ThreeTierVpc with this construct's app and database ports",
        ),
    ]
    vpc_subnets: Annotated[
        ec2.SubnetSelection | None,
        Prop(
            "Subnets of the NLB, the instances and the secret rotation function; needs vpc.",
            default=None,
            default_doc="- the App tier of a ThreeTierVpc, else the private subnets with egress",
            needs="vpc",
        ),
    ]
    database_subnets: Annotated[
        ec2.SubnetSelection | None,
        Prop(
            "Subnets of the database; needs vpc.",
            default=None,
            default_doc="- the Db tier of a ThreeTierVpc, else the isolated subnets",
            needs="vpc",
        ),
    ]
    # -- API
    stage_name: Annotated[
        str,
        Prop(
            "Name of the API stage.",
            default="prod",
            checks=(matches(r"[A-Za-z0-9_]{1,128}", "1 to 128 letters, digits and '_'"),),
        ),
    ]
    authorization: Annotated[
        ApiAuthorization,
        Prop(
            "Who may call the API. ApiAuthorization.NONE leaves it open (WAF and throttling still apply) and the "
            "compliance packs report it (AwsSolutions-APIG4, -COG4): the user's decision, not acknowledged here.",
            default=ApiAuthorization.IAM,
        ),
    ]
    user_pool: Annotated[
        cognito.IUserPool | None,
        Prop(
            "The Cognito user pool whose tokens are accepted; required with, and only with, ApiAuthorization.COGNITO.",
            default=None,
        ),
    ]
    throttling_rate_limit: Annotated[
        float,
        Prop("Steady-state requests per second of the stage.", default=100, checks=(number_range(1, 1_000_000),)),
    ]
    throttling_burst_limit: Annotated[
        int, Prop("Burst of requests of the stage.", default=200, checks=(whole_range(1, 1_000_000),))
    ]
    execution_log_level: Annotated[
        apigw.MethodLoggingLevel,
        Prop(
            "Execution logging level of every method (request and response bodies are never logged). Execution "
            "logs need the account's API Gateway CloudWatch role: see cloud_watch_role.",
            default=apigw.MethodLoggingLevel.INFO,
        ),
    ]
    cloud_watch_role: Annotated[
        bool,
        Prop(
            "Create the API Gateway CloudWatch role and set it in the account's API Gateway settings. That "
            "setting is ACCOUNT-WIDE, one per region: set this on one API of the account (or run aws apigateway "
            "update-account) before any stage with execution logging is deployed. The role is retained when "
            "the stack is deleted.",
            default=False,
        ),
    ]
    cache_cluster_size: Annotated[
        str | None,
        Prop(
            "Size in GB of an encrypted response cache; it is billed per hour.",
            default=None,
            default_doc="- no cache",
            checks=(_cache_size,),
        ),
    ]
    usage_plan: Annotated[
        bool,
        Prop(
            "Require an API key on every method and create a usage plan with one key, throttled like the stage.",
            default=False,
        ),
    ]
    usage_plan_quota_per_day: Annotated[
        int | None,
        Prop(
            "Requests per day each key of the usage plan may make; needs usage_plan.",
            default=None,
            default_doc="- no quota",
            checks=(whole_range(1, 2**31 - 1),),
            needs="usage_plan",
        ),
    ]
    lambda_function: Annotated[
        lambda_.IFunction | None,
        Prop(
            "A function to serve under /{lambda_path} (and everything below it), beside the service behind the "
            "VPC Link.",
            default=None,
            default_doc="- no Lambda route",
        ),
    ]
    lambda_path: Annotated[
        str,
        Prop(
            "Path segment of the Lambda route; needs lambda_function.",
            default="lambda",
            checks=(matches(r"[A-Za-z0-9._~-]{1,64}", "one path segment of letters, digits and '._~-'"),),
            needs="lambda_function",
        ),
    ]
    waf_rate_limit: Annotated[
        int,
        Prop(
            "Requests per 5 minutes one client IP may send before WAF blocks it.",
            default=2000,
            checks=(whole_range(*RATE_LIMIT_RANGE),),
        ),
    ]
    domain_name: Annotated[
        str | None,
        Prop(
            "A custom domain for the API: CloudFront in front of it (HTTPS only, TLS 1.2+, security headers, no "
            "caching), an ACM certificate and Route 53 alias records. Needs hosted_zone, and Cognito or no "
            "authorization (SigV4 signatures name the host CloudFront replaces).",
            default=None,
            default_doc="- no edge resources",
            checks=(
                matches(
                    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
                    "a lower-case DNS name such as 'api.example.com'",
                ),
            ),
        ),
    ]
    hosted_zone: Annotated[
        route53.IHostedZone | None,
        Prop("The public hosted zone domain_name belongs to; needs domain_name.", default=None, needs="domain_name"),
    ]
    edge_certificate: Annotated[
        acm.ICertificate | None,
        Prop(
            "A certificate for domain_name in us-east-1, as CloudFront requires; needs domain_name.",
            default=None,
            default_doc="- a new DNS-validated certificate when the stack is in us-east-1 (required otherwise)",
            needs="domain_name",
        ),
    ]
    edge_web_acl_arn: Annotated[
        str | None,
        Prop(
            "ARN of a CloudFront-scoped web ACL for the distribution (for example a ProtectiveWebAcl with "
            "WafScope.CLOUDFRONT in a us-east-1 stack); needs domain_name.",
            default=None,
            default_doc="- none at the edge; the stage's regional web ACL still applies",
            checks=(
                matches(
                    r"arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[^/]+/[^/]+",
                    "the ARN of a CloudFront-scoped web ACL (arn:aws:wafv2:us-east-1:<account>:global/webacl/...)",
                ),
            ),
            needs="domain_name",
        ),
    ]
    # -- service tier
    listener_port: Annotated[int, Prop("TCP port of the NLB listener.", default=80, checks=(port,))]
    app_port: Annotated[int, Prop("TCP port the service listens on.", default=8080, checks=(port,))]
    health_check_path: Annotated[
        str,
        Prop(
            "HTTP path of the NLB health check on the app port.",
            default="/health",
            checks=(matches(r"/[^\s]{0,1023}", "an HTTP path starting with '/', without spaces, at most 1024 long"),),
        ),
    ]
    instance_type: Annotated[
        ec2.InstanceType,
        Prop(
            "Instance type of the service.",
            default=ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.SMALL),
            default_doc="`t4g.small`",
        ),
    ]
    machine_image: Annotated[
        ec2.IMachineImage | None,
        Prop(
            "Machine image of the service (its root device must be /dev/xvda).",
            default=None,
            default_doc="- the latest Amazon Linux 2023 for the instance type's architecture",
        ),
    ]
    user_data: Annotated[
        ec2.UserData | None,
        Prop(
            "Commands the instances run at launch to start the service on app_port.",
            default=None,
            default_doc="- a small HTTP service (refarch/runtime/private_api/service.py) answering /health, /db "
            "(a TCP check of the database) and every other path",
        ),
    ]
    root_volume_size_gib: Annotated[
        int, Prop("Size of the encrypted gp3 root volume.", default=20, checks=(whole_range(8, 16384),))
    ]
    min_capacity: Annotated[int, Prop("Minimum number of instances.", default=2, checks=(whole_range(1, 1000),))]
    max_capacity: Annotated[int, Prop("Maximum number of instances.", default=4, checks=(whole_range(1, 1000),))]
    desired_capacity: Annotated[
        int | None,
        Prop(
            "Initial number of instances, from min_capacity to max_capacity (every deploy resets it).",
            default=None,
            default_doc="- min_capacity",
            checks=(whole_range(1, 1000),),
        ),
    ]
    cpu_target_percent: Annotated[
        float,
        Prop("Average CPU the target-tracking policy keeps the group at.", default=70, checks=(number_range(1, 100),)),
    ]
    # -- database tier
    engine: Annotated[
        rds.IInstanceEngine,
        Prop(
            "Database engine, MySQL or PostgreSQL with a full version.",
            default=DEFAULT_ENGINE,
            default_doc="- MySQL 8.4.7",
            checks=(check_engine,),
        ),
    ]
    database_instance_type: Annotated[
        ec2.InstanceType,
        Prop(
            "Instance class of the database (Performance Insights needs at least a medium class).",
            default=ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MEDIUM),
            default_doc="`t4g.medium`",
        ),
    ]
    database_port: Annotated[
        int | None,
        Prop(
            "TCP port of the database; it must differ from app_port, and a ThreeTierVpc's db tier must admit it.",
            default=None,
            default_doc="- the engine's default port (3306 for MySQL, 5432 for PostgreSQL)",
            checks=(port,),
        ),
    ]
    database_name: Annotated[
        str,
        Prop(
            "Name of the database created in the instance.",
            default="app",
            checks=(matches(r"[A-Za-z][A-Za-z0-9_]{0,62}", "a letter, then up to 62 letters, digits and '_'"),),
        ),
    ]
    database_iam_user: Annotated[
        str,
        Prop(
            "Database user the instance role may connect as with IAM authentication (create it in the database: "
            "see the README).",
            default="app",
            checks=(_DB_USER,),
        ),
    ]
    allocated_storage_gib: Annotated[int, Prop("Initial storage in GiB.", default=20, checks=(whole_range(20, 65536),))]
    max_allocated_storage_gib: Annotated[
        int,
        Prop(
            "Storage autoscaling ceiling in GiB, at least allocated_storage_gib.",
            default=100,
            checks=(whole_range(20, 65536),),
        ),
    ]
    multi_az: Annotated[
        bool,
        Prop(
            "A standby in a second AZ with automatic failover (doubles the instance cost). With False the packs "
            "report AwsSolutions-RDS3 and RDSMultiAZSupport, by design.",
            default=True,
        ),
    ]
    backup_retention: Annotated[
        Duration,
        Prop(
            "How long automated backups are kept, in whole days.",
            default=Duration.days(7),
            checks=(duration_range(Duration.days(1), Duration.days(35), unit="days"),),
        ),
    ]
    deletion_protection: Annotated[
        bool,
        Prop(
            "Protect the database from deletion (it is also retained with the default removal_policy). The NLB "
            "is never protected: it holds no data, and a protected NLB makes the stack delete fail.",
            default=True,
        ),
    ]
    secret_rotation_interval: Annotated[
        Duration,
        Prop(
            "How often the master password rotates, in whole days.",
            default=Duration.days(30),
            checks=(duration_range(Duration.days(1), Duration.days(365), unit="days"),),
        ),
    ]
    monitoring_interval: Annotated[
        Duration,
        Prop(
            "Enhanced monitoring interval (0 is off).",
            default=Duration.seconds(60),
            checks=(duration_one_of(_MONITORING_SECONDS, "0, 1, 5, 10, 15, 30 or 60 seconds"),),
        ),
    ]
    # -- shared
    encryption_key: Annotated[
        kms.IKey | None,
        Prop(
            "Key of the database storage, Performance Insights, the secret and every log group; it must admit "
            "CloudWatch Logs.",
            default=None,
            default_doc="- a new customer-managed key with rotation",
        ),
    ]
    log_retention: Annotated[logs.RetentionDays, Prop("Retention of every log group.", default=_defaults.LOG_RETENTION)]
    removal_policy: Annotated[
        RemovalPolicy,
        Prop(
            "What happens to the database, its key and the log groups when removed from the stack.",
            default=_defaults.DATA_REMOVAL_POLICY,
        ),
    ]
    # -- alarms
    alarm_topic: Annotated[
        sns.ITopic | None,
        Prop(
            "SNS topic for alarm (and recovery) notifications, the health alarm and Auto Scaling events.",
            default=None,
            default_doc="- a new topic encrypted with the construct's key (a new key when encryption_key is given)",
        ),
    ]
    alarm_api_5xx_rate: Annotated[
        float,
        Prop(
            "Fraction of requests answered 5XX (over 3 x 5 minutes) that alarms.",
            default=0.05,
            checks=(_fraction,),
        ),
    ]
    alarm_api_p99_latency: Annotated[
        Duration,
        Prop("p99 latency of the API that alarms.", default=Duration.seconds(2), checks=(_latency,)),
    ]
    alarm_db_cpu_percent: Annotated[
        float, Prop("Database CPU that alarms.", default=80, checks=(number_range(1, 100),))
    ]
    alarm_db_free_storage_gib: Annotated[
        float,
        Prop("Free database storage below which the alarm fires.", default=2, checks=(number_range(0.1, 65536),)),
    ]
    alarm_db_connections: Annotated[
        int, Prop("Database connections that alarm.", default=100, checks=(whole_range(1, 100_000),))
    ]
    dashboard: DashboardProp
