"""The props of :class:`~refarch.constructs.EncryptedDataStore`, each written once, and the checks that
need several props or the stack (run right after ``read_props``, before anything is built)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct
from typing_extensions import TypedDict

from refarch.compliance.residency import check_regions, guard_region
from refarch.constructs import _defaults
from refarch.constructs._dashboards import DashboardProp
from refarch.constructs._network_checks import (
    check_database_network,
    default_tier_selection,
    ivpc_of,
    network_of,
    tier_subnets,
)
from refarch.constructs._props import (
    Check,
    Prop,
    described,
    duration_range,
    each,
    finite_log_retention,
    matches,
    number_range,
    whole_range,
)
from refarch.constructs._validation import is_token
from refarch.constructs.three_tier_vpc import ThreeTierVpc
from refarch.errors import PropValidationError

OWNER = "EncryptedDataStore"

#: Aurora PostgreSQL's default port; the cluster keeps it.
AURORA_POSTGRES_PORT = 5432
#: Engine version of the cluster: a full version (cfn-lint E3691 rejects a bare major version).
DEFAULT_ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_17_7

#: The longest data and version retention the store takes, in days: 100 years.
_MAX_RETENTION_DAYS = 36500
_SHIELD_ARN = (
    r"arn:aws[a-z-]*:(cloudfront::\d{12}:distribution/|elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/"
    r"|ec2:[a-z0-9-]+:\d{12}:eip-allocation/|globalaccelerator::\d{12}:accelerator/|route53:::hostedzone/)\S+"
)

#: Days of each CloudWatch Logs retention period (RetentionDays' Python values are its names, not days).
LOG_RETENTION_DAYS: dict[logs.RetentionDays, int] = {
    logs.RetentionDays.ONE_DAY: 1,
    logs.RetentionDays.THREE_DAYS: 3,
    logs.RetentionDays.FIVE_DAYS: 5,
    logs.RetentionDays.ONE_WEEK: 7,
    logs.RetentionDays.TWO_WEEKS: 14,
    logs.RetentionDays.ONE_MONTH: 30,
    logs.RetentionDays.TWO_MONTHS: 60,
    logs.RetentionDays.THREE_MONTHS: 90,
    logs.RetentionDays.FOUR_MONTHS: 120,
    logs.RetentionDays.FIVE_MONTHS: 150,
    logs.RetentionDays.SIX_MONTHS: 180,
    logs.RetentionDays.ONE_YEAR: 365,
    logs.RetentionDays.THIRTEEN_MONTHS: 400,
    logs.RetentionDays.EIGHTEEN_MONTHS: 545,
    logs.RetentionDays.TWO_YEARS: 731,
    logs.RetentionDays.THREE_YEARS: 1096,
    logs.RetentionDays.FIVE_YEARS: 1827,
    logs.RetentionDays.SIX_YEARS: 2192,
    logs.RetentionDays.SEVEN_YEARS: 2557,
    logs.RetentionDays.EIGHT_YEARS: 2922,
    logs.RetentionDays.NINE_YEARS: 3288,
    logs.RetentionDays.TEN_YEARS: 3653,
}


def _days(minimum: int, maximum: int) -> Check:
    return duration_range(Duration.days(minimum), Duration.days(maximum), unit="days")


def _check_half_steps(owner: str, prop: str, value: float) -> None:
    if value * 2 != int(value * 2):
        raise PropValidationError(owner, prop, value, "Allowed: steps of 0.5 (Aurora capacity units).")


_half_steps = described(_check_half_steps, "in steps of 0.5")


def _known_regions(owner: str, prop: str, value: Sequence[str]) -> None:
    check_regions(owner, prop, value)


class EncryptedDataStoreProps(TypedDict, total=False):
    """The props of :class:`~refarch.constructs.EncryptedDataStore`."""

    data_retention: Annotated[
        Duration,
        Prop(
            "How long objects are kept before they expire (data minimization). How long "
            "personal data may be kept is a legal decision, so there is no default.",
            checks=(_days(1, _MAX_RETENTION_DAYS),),
        ),
    ]
    noncurrent_version_retention: Annotated[
        Duration,
        Prop(
            "How long overwritten or deleted versions are kept before they are removed for good (a deleted object "
            "is only erased once this is over).",
            default=Duration.days(30),
            checks=(_days(1, _MAX_RETENTION_DAYS),),
            needs="versioned",
        ),
    ]
    versioned: Annotated[
        bool, Prop("Keep object versions (recovery from overwrites; Object Lock needs it).", default=True)
    ]
    object_lock_retention: Annotated[
        Duration | None,
        Prop(
            "Turn on S3 Object Lock and keep every new object version unmodifiable for this long, "
            "at most data_retention. Object Lock can never be turned off for the bucket.",
            default=None,
            default_doc="- no Object Lock",
            checks=(_days(1, _MAX_RETENTION_DAYS),),
            needs="versioned",
        ),
    ]
    object_lock_mode: Annotated[
        s3.ObjectLockMode,
        Prop(
            "GOVERNANCE (privileged users may lift the lock) or COMPLIANCE (nobody can, not even root).",
            default=s3.ObjectLockMode.GOVERNANCE,
            needs="object_lock_retention",
        ),
    ]
    key_rotation_period: Annotated[
        Duration,
        Prop(
            "Rotation period of the data and audit keys.",
            default=_defaults.KEY_ROTATION_PERIOD,
            checks=(_days(90, 2560),),
        ),
    ]
    key_admins: Annotated[
        Sequence[iam.IPrincipal] | None,
        Prop(
            "Principals that administer the keys (enable, disable, schedule deletion, change their policies); "
            "the key policies give them no cryptographic action.",
            default=None,
            default_doc="- the account, through IAM policies",
        ),
    ]
    key_alias_prefix: Annotated[
        str | None,
        Prop(
            "Prefix of the key aliases, `<prefix>/data` and `<prefix>/audit`.",
            default=None,
            default_doc="- `alias/` and the construct's unique ID",
            checks=(
                matches(
                    r"(?=.{7,200}$)alias/(?!aws/)[A-Za-z0-9/_-]+",
                    "'alias/' followed by letters, digits, '/', '_' or '-' (up to 200 characters), "
                    "not starting with 'alias/aws/'",
                ),
            ),
        ),
    ]
    table_partition_key: Annotated[
        dynamodb.Attribute | None,
        Prop(
            "Create a DynamoDB table with this partition key for structured personal data (the data key, "
            "point-in-time recovery, deletion protection, on-demand).",
            default=None,
            default_doc="- no table",
        ),
    ]
    table_sort_key: Annotated[
        dynamodb.Attribute | None,
        Prop("Sort key of the table.", default=None, default_doc="- none", needs="table_partition_key"),
    ]
    table_ttl_attribute: Annotated[
        str | None,
        Prop(
            "Attribute holding each item's expiry (epoch seconds), so items expire like objects do.",
            default=None,
            default_doc="- no TTL",
            needs="table_partition_key",
        ),
    ]
    vpc: Annotated[
        ec2.IVpc | ThreeTierVpc | None,
        Prop(
            "Create an Aurora PostgreSQL Serverless v2 cluster in this network (a ThreeTierVpc or any IVpc) for "
            "relational personal data: storage, Performance Insights and the RDS-managed master secret under the "
            "data key, TLS required, IAM authentication, deletion protection. Its subnets must span 2 AZs; on a "
            "ThreeTierVpc's db tier, the tier's db_port must be 5432 (both checked before anything is built).",
            default=None,
            default_doc="- no database",
        ),
    ]
    database_subnets: Annotated[
        ec2.SubnetSelection | None,
        Prop(
            "Subnets of the cluster.",
            default=None,
            default_doc="- a ThreeTierVpc's db tier, else the VPC's isolated subnets",
            needs="vpc",
        ),
    ]
    database_security_groups: Annotated[
        Sequence[ec2.ISecurityGroup] | None,
        Prop(
            "Security groups of the cluster.",
            default=None,
            default_doc="- a ThreeTierVpc's db tier group, else a new group that allows nothing in",
            needs="vpc",
        ),
    ]
    database_engine_version: Annotated[
        rds.AuroraPostgresEngineVersion,
        Prop("Aurora PostgreSQL version.", default=DEFAULT_ENGINE_VERSION, default_doc="`VER_17_7`", needs="vpc"),
    ]
    database_backup_retention: Annotated[
        Duration,
        Prop(
            "Automated backup retention.",
            default=Duration.days(14),
            checks=(_days(1, 35),),
            needs="vpc",
        ),
    ]
    database_min_capacity: Annotated[
        float,
        Prop(
            "Minimum Aurora capacity units of each instance.",
            default=0.5,
            checks=(number_range(0, 256), _half_steps),
            needs="vpc",
        ),
    ]
    database_max_capacity: Annotated[
        float,
        Prop(
            "Maximum Aurora capacity units, at least database_min_capacity.",
            default=4,
            checks=(number_range(1, 256), _half_steps),
            needs="vpc",
        ),
    ]
    database_readers: Annotated[
        int,
        Prop(
            "Reader instances beside the writer (a reader in another AZ is the failover target).",
            default=1,
            checks=(whole_range(0, 15),),
            needs="vpc",
        ),
    ]
    audit_trail: Annotated[
        bool,
        Prop(
            "Create a CloudTrail trail (multi-region, log file validation, encrypted, the bucket's data events, "
            "CloudWatch Logs delivery). Turn it off when an organization trail already records this account, "
            "and give its log group as trail_log_group.",
            default=True,
        ),
    ]
    trail_log_group: Annotated[
        logs.ILogGroup | None,
        Prop(
            "The log group an existing (organization) trail delivers to, for the alarms; only with audit_trail=False.",
            default=None,
            default_doc="- the new trail's log group",
        ),
    ]
    log_retention: Annotated[
        logs.RetentionDays,
        Prop(
            "How long the trail's log files and log events and the database's log are kept.",
            default=_defaults.LOG_RETENTION,
            checks=(finite_log_retention,),
        ),
    ]
    alarms: Annotated[
        bool, Prop("Create the CIS-benchmark metric filters and alarms over the trail's events.", default=True)
    ]
    alarm_topic: Annotated[
        sns.ITopic | None,
        Prop(
            "Topic the alarms and the health alarm notify.",
            default=None,
            default_doc="- a new topic encrypted with the audit key",
        ),
    ]
    alarm_emails: Annotated[
        Sequence[str],
        Prop(
            "Email addresses subscribed to the new alarm topic.",
            default=(),
            default_doc="- none",
            checks=(each(matches(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address such as 'dpo@example.com'")),),
            needs="alarms",
        ),
    ]
    metric_namespace: Annotated[
        str,
        Prop(
            "CloudWatch namespace of the alarm and error metrics.",
            default="CISBenchmark",
            checks=(
                matches(r"(?!AWS/)[A-Za-z0-9._/#:-]{1,255}", "1-255 letters, digits and . _ / # : -, not 'AWS/...'"),
            ),
        ),
    ]
    allowed_regions: Annotated[
        Sequence[str] | None,
        Prop(
            "Regions where the data may rest (refarch.compliance.residency): a stack in another region fails "
            "synth; an environment-agnostic stack gets a warning.",
            default=None,
            default_doc="- no restriction",
            checks=(_known_regions,),
        ),
    ]
    shield_advanced_protected_arns: Annotated[
        Sequence[str],
        Prop(
            "Internet-facing resources in front of the data to protect with AWS Shield Advanced, which needs an "
            "account subscription (USD 3,000 a month, one-year commitment; deployment fails "
            "without it). For a WAF web ACL use ProtectiveWebAcl.",
            default=(),
            default_doc="- none",
            checks=(
                each(
                    matches(
                        _SHIELD_ARN,
                        "the ARN of a CloudFront distribution, load balancer, Elastic IP allocation, "
                        "Global Accelerator accelerator or Route 53 hosted zone",
                    )
                ),
            ),
        ),
    ]
    removal_policy: Annotated[
        RemovalPolicy,
        Prop(
            "What happens to the keys, bucket, table, database and logs when removed from the stack.",
            default=_defaults.DATA_REMOVAL_POLICY,
        ),
    ]
    dashboard: DashboardProp


def check_props(scope: Construct, p: EncryptedDataStoreProps, given: Sequence[str]) -> None:
    """The checks that need several props, the network or the stack (``scope`` is the store's parent);
    ``given`` names the props the caller gave."""
    _check_lock(p)
    _check_audit(p, given)
    _check_alarm_topic(p)
    _check_capacity(p)
    vpc = p["vpc"]
    if vpc is not None:
        tier_subnets(OWNER, vpc, "db", prop="database_subnets", given=p["database_subnets"])
        check_database_network(
            OWNER,
            vpc=vpc,
            subnets=database_subnets(p),
            subnets_prop="database_subnets",
            port=AURORA_POSTGRES_PORT,
            port_prop="vpc",
            multi_az=p["database_readers"] > 0,
        )
    regions = p["allowed_regions"]
    if regions is not None and not Token.is_unresolved(Stack.of(scope).region):
        guard_region(scope, OWNER, regions)  # raises now; the store warns of an unresolved region itself


def database_subnets(p: EncryptedDataStoreProps) -> ec2.SubnetSelection:
    """Where the cluster goes: the given subnets, a ThreeTierVpc's db tier, else the isolated subnets."""
    return p["database_subnets"] or default_tier_selection(p["vpc"], "db")


def database_security_groups(p: EncryptedDataStoreProps) -> Sequence[ec2.ISecurityGroup] | None:
    """The cluster's groups: the given ones, a ThreeTierVpc's db tier group, else None (a new group)."""
    chosen = p["database_security_groups"]
    if chosen is not None:
        return chosen
    network = network_of(p["vpc"])
    return [network.db.security_group] if network is not None else None


def database_ivpc(p: EncryptedDataStoreProps) -> ec2.IVpc | None:
    vpc = p["vpc"]
    return ivpc_of(vpc) if vpc is not None else None


def _check_lock(p: EncryptedDataStoreProps) -> None:
    lock, retention = p["object_lock_retention"], p["data_retention"]
    if lock is None or is_token(lock) or is_token(retention):
        return  # a deploy-time value cannot be compared here
    if lock.to_days() > retention.to_days():
        raise PropValidationError(
            OWNER,
            "data_retention",
            p["data_retention"].to_human_string(),
            f"It must be at least object_lock_retention ({lock.to_human_string()}): objects cannot expire while "
            "locked.",
        )


def _check_audit(p: EncryptedDataStoreProps, given: Sequence[str]) -> None:
    if p["audit_trail"] and p["trail_log_group"] is not None:
        raise PropValidationError(
            OWNER,
            "trail_log_group",
            p["trail_log_group"].node.path,
            "Give it only with audit_trail=False (the log group of an existing trail).",
        )
    if p["alarms"] and not p["audit_trail"] and p["trail_log_group"] is None:
        raise PropValidationError(
            OWNER,
            "trail_log_group",
            None,
            "With audit_trail=False the alarms need the log group your existing trail delivers to; "
            "give it, or set alarms=False.",
        )
    if "log_retention" in given and not p["audit_trail"] and p["vpc"] is None:
        raise PropValidationError(
            OWNER,
            "log_retention",
            p["log_retention"],
            "Without audit_trail and vpc the store creates no log group for it to apply to: leave it out.",
        )


def _check_alarm_topic(p: EncryptedDataStoreProps) -> None:
    if p["alarm_topic"] is not None and p["alarm_emails"]:
        raise PropValidationError(
            OWNER,
            "alarm_emails",
            list(p["alarm_emails"]),
            "Emails are subscribed to the topic the store creates; with your alarm_topic, subscribe them to it.",
        )


def _check_capacity(p: EncryptedDataStoreProps) -> None:
    if p["database_max_capacity"] < p["database_min_capacity"]:
        raise PropValidationError(
            OWNER,
            "database_max_capacity",
            p["database_max_capacity"],
            f"It must be at least database_min_capacity ({p['database_min_capacity']}).",
        )
