"""The audit half of :class:`~refarch.constructs.EncryptedDataStore`: a CloudTrail trail and the
CIS-benchmark metric filters and alarms over its CloudWatch Logs delivery."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from refarch.constructs import _builders, _dashboards
from refarch.constructs.encrypted_data_store.props import LOG_RETENTION_DAYS


@dataclass(frozen=True)
class AuditAlarm:
    """One CIS AWS Foundations Benchmark check: a metric filter over CloudTrail events and its alarm."""

    #: Metric name, and the construct ID prefix of the filter and the alarm.
    name: str
    #: The CIS control it implements.
    cis_control: str
    #: CloudWatch Logs filter pattern over CloudTrail JSON events.
    pattern: str
    #: What the alarm means, for whoever receives it.
    description: str


#: The CIS AWS Foundations Benchmark (v1.4-3.0, section "Monitoring") filters, verbatim.
AUDIT_ALARMS: tuple[AuditAlarm, ...] = (
    AuditAlarm(
        "UnauthorizedApiCalls",
        "CIS 4.1 / CloudWatch.2",
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") '
        '&& ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
        "API calls were denied: someone or something is probing for access it does not have.",
    ),
    AuditAlarm(
        "ConsoleSignInWithoutMfa",
        "CIS 4.2 / CloudWatch.3",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
        '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
        "An IAM user signed in to the console without MFA.",
    ),
    AuditAlarm(
        "RootAccountUsage",
        "CIS 4.3 / CloudWatch.1",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
        "The account's root user was used.",
    ),
    AuditAlarm(
        "KmsKeyDisabledOrScheduledForDeletion",
        "CIS 4.7 / CloudWatch.7",
        "{ ($.eventSource = kms.amazonaws.com) && "
        "(($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }",
        "A KMS key was disabled or scheduled for deletion: data under it becomes unreadable.",
    ),
    AuditAlarm(
        "BucketPolicyChanges",
        "CIS 4.8 / CloudWatch.8",
        "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) "
        "|| ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) "
        "|| ($.eventName = PutBucketReplication) "
        "|| ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) "
        "|| ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
        "An S3 bucket policy, ACL, CORS, lifecycle or replication setting changed.",
    ),
    AuditAlarm(
        "CloudTrailChanges",
        "CIS 4.5 / CloudWatch.5",
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) "
        "|| ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
        "A CloudTrail trail was created, changed, deleted, started or stopped.",
    ),
)


def allow_audit_services(key: kms.IKey, scope: Construct) -> None:
    """Let CloudTrail encrypt log files, and CloudWatch alarms publish to a topic, with ``key``.

    Both are scoped to this account (``aws:SourceAccount``); CloudTrail also to the encryption
    context of this account's trails.
    """
    stack = Stack.of(scope)
    account = stack.account
    this_account = {"aws:SourceAccount": account}
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudTrailToEncryptLogFiles",
            principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
            actions=["kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions={
                "StringEquals": this_account,
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": (
                        f"arn:{stack.partition}:cloudtrail:*:{account}:trail/*"
                    )
                },
            },
        )
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudTrailToDescribeKey",
            principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
            actions=["kms:DescribeKey"],
            resources=["*"],
            conditions={"StringEquals": this_account},
        )
    )
    _dashboards.allow_alarms(key, scope)


def build_trail(
    scope: Construct,
    *,
    key: kms.IKey,
    bucket: s3.IBucket,
    log_group: logs.ILogGroup,
    data_bucket: s3.IBucket,
) -> tuple[cloudtrail.Trail, _builders.ManagedPolicyRole]:
    """A multi-region trail with log file validation, encrypted with ``key``, writing to ``bucket``
    and to ``log_group``, recording the data events of ``data_bucket``.

    CloudWatch Logs delivery is wired on the L1 with a :class:`ManagedPolicyRole`: the L2's own
    delivery role puts its grant in an inline policy (HIPAA/NIST/PCI ``IAMNoInlinePolicy``).
    """
    trail = cloudtrail.Trail(
        scope,
        "Trail",
        bucket=bucket,
        encryption_key=key,
        is_multi_region_trail=True,
        include_global_service_events=True,
        enable_file_validation=True,
        management_events=cloudtrail.ReadWriteType.ALL,
    )
    trail.add_s3_event_selector(
        [cloudtrail.S3EventSelector(bucket=data_bucket)], read_write_type=cloudtrail.ReadWriteType.ALL
    )
    role = _builders.ManagedPolicyRole(
        scope,
        "TrailLogsRole",
        assumed_by=iam.ServicePrincipal("cloudtrail.amazonaws.com"),
        description="CloudTrail delivery to CloudWatch Logs",
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn],  # the group's ARN ends in ":*": its streams
        )
    )
    cfn_trail = trail.node.default_child
    assert isinstance(cfn_trail, cloudtrail.CfnTrail)
    cfn_trail.cloud_watch_logs_log_group_arn = log_group.log_group_arn
    cfn_trail.cloud_watch_logs_role_arn = role.role_arn
    # CloudTrail checks at creation that the role can write: the policy must exist first.
    cfn_trail.node.add_dependency(role.policy)
    return trail, role


def build_alarms(
    scope: Construct,
    *,
    log_group: logs.ILogGroup,
    topic: sns.ITopic,
    namespace: str,
) -> dict[str, cloudwatch.Alarm]:
    """A metric filter and an alarm per :data:`AUDIT_ALARMS` entry; each alarm notifies ``topic``."""
    alarms: dict[str, cloudwatch.Alarm] = {}
    action = cw_actions.SnsAction(topic)
    period = Duration.minutes(5)
    for check in AUDIT_ALARMS:
        metric_filter = logs.MetricFilter(
            scope,
            f"{check.name}Filter",
            log_group=log_group,
            filter_pattern=logs.FilterPattern.literal(check.pattern),
            metric_namespace=namespace,
            metric_name=check.name,
            metric_value="1",
        )
        alarm = cloudwatch.Alarm(
            scope,
            f"{check.name}Alarm",
            metric=metric_filter.metric(statistic="Sum", period=period),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{check.description} ({check.cis_control})",
        )
        alarm.add_alarm_action(action)
        alarms[check.name] = alarm
    return alarms


@dataclass(frozen=True)
class Audit:
    """What :func:`build_audit` creates."""

    bucket: s3.Bucket
    log_group: logs.LogGroup
    trail: cloudtrail.Trail
    logs_role: _builders.ManagedPolicyRole


def build_audit(
    scope: Construct,
    *,
    key: kms.IKey,
    data_bucket: s3.IBucket,
    access_log_bucket: s3.IBucket,
    retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
) -> Audit:
    """The trail's bucket and log group (under ``key``, kept ``retention``) and the trail itself."""
    bucket = _builders.build_data_bucket(
        scope,
        "TrailBucket",
        encryption_key=key,
        server_access_logs_bucket=access_log_bucket,
        server_access_logs_prefix="trail/",
        removal_policy=removal_policy,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireTrailLogs",
                expiration=Duration.days(LOG_RETENTION_DAYS[retention]),
                noncurrent_version_expiration=Duration.days(30),
                abort_incomplete_multipart_upload_after=Duration.days(7),
            )
        ],
    )
    log_group = _builders.build_log_group(
        scope, "TrailLogGroup", encryption_key=key, removal_policy=removal_policy, retention=retention
    )
    trail, role = build_trail(scope, key=key, bucket=bucket, log_group=log_group, data_bucket=data_bucket)
    return Audit(bucket=bucket, log_group=log_group, trail=trail, logs_role=role)


def build_audit_topic(scope: Construct, *, key: kms.IKey, emails: Sequence[str]) -> sns.Topic:
    """The alarms' topic, encrypted with the audit key, TLS only, ``emails`` subscribed.

    Not ``_dashboards.build_alarm_topic(own_key=key)``: that also opens the key to every principal of
    the account calling through SNS (for Auto Scaling notifications), which the audit key does not need.
    The key admits the alarms themselves through ``allow_audit_services``."""
    topic = sns.Topic(
        scope, "AlarmTopic", master_key=key, enforce_ssl=True, display_name="Personal data store audit alarms"
    )
    for email in emails:
        topic.add_subscription(subscriptions.EmailSubscription(email))
    return topic
