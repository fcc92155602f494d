"""EncryptedDataStore (bucket, table, trail, CIS alarms) vs the same resources in plain aws-cdk-lib L2 code."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

_PK = dynamodb.Attribute(name="subjectId", type=dynamodb.AttributeType.STRING)

_FILTERS = {
    "UnauthorizedApiCalls": '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
    "ConsoleSignInWithoutMfa": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
    "RootAccountUsage": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }',
    "KmsKeyDisabledOrScheduledForDeletion": "{ ($.eventSource = kms.amazonaws.com) && ($.eventName = DisableKey) }",
    "BucketPolicyChanges": "{ ($.eventSource = s3.amazonaws.com) && ($.eventName = PutBucketPolicy) }",
    "CloudTrailChanges": "{ ($.eventName = CreateTrail) || ($.eventName = StopLogging) }",
}


def with_construct(stack: Stack) -> None:
    from refarch.constructs import EncryptedDataStore

    EncryptedDataStore(stack, "Store", data_retention=Duration.days(731), table_partition_key=_PK)


def with_plain_l2(stack: Stack) -> None:
    retain = RemovalPolicy.RETAIN
    root = iam.AccountRootPrincipal()
    data_key = kms.Key(
        stack,
        "DataKey",
        enable_key_rotation=True,
        rotation_period=Duration.days(365),
        alias="alias/bench/data",
        removal_policy=retain,
        policy=iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    principals=[root],
                    actions=["kms:Create*", "kms:Describe*", "kms:Put*", "kms:Delete*"],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    principals=[root],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
                ),
            ]
        ),
    )
    audit_key = kms.Key(
        stack,
        "AuditKey",
        enable_key_rotation=True,
        rotation_period=Duration.days(365),
        alias="alias/bench/audit",
        removal_policy=retain,
    )
    for service, actions in (
        (f"logs.{stack.region}.amazonaws.com", ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"]),
        ("cloudtrail.amazonaws.com", ["kms:GenerateDataKey*"]),
        ("cloudtrail.amazonaws.com", ["kms:DescribeKey"]),
        ("cloudwatch.amazonaws.com", ["kms:Decrypt", "kms:GenerateDataKey*"]),
    ):
        audit_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(service)],
                actions=actions,
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )

    access_logs = s3.Bucket(
        stack,
        "AccessLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=retain,
        lifecycle_rules=[
            s3.LifecycleRule(expiration=Duration.days(365), noncurrent_version_expiration=Duration.days(30))
        ],
    )

    def data_bucket(id: str, key: kms.IKey, prefix: str, days: int) -> s3.Bucket:
        return s3.Bucket(
            stack,
            id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=prefix,
            removal_policy=retain,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(days),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )

    bucket = data_bucket("Bucket", data_key, "personal-data/", 731)
    bucket.add_lifecycle_rule(expired_object_delete_marker=True)
    for key_name, value in (
        ("s3:x-amz-server-side-encryption", "aws:kms"),
        ("s3:x-amz-server-side-encryption-aws-kms-key-id", data_key.key_arn),
    ):
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects("*")],
                conditions={"StringNotEqualsIfExists": {key_name: value}},
            )
        )
    dynamodb.Table(
        stack,
        "Table",
        partition_key=_PK,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=data_key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=True,
        removal_policy=retain,
    )

    trail_bucket = data_bucket("TrailBucket", audit_key, "trail/", 365)
    log_group = logs.LogGroup(
        stack, "TrailLogGroup", encryption_key=audit_key, retention=logs.RetentionDays.ONE_YEAR, removal_policy=retain
    )
    trail = cloudtrail.Trail(
        stack,
        "Trail",
        bucket=trail_bucket,
        encryption_key=audit_key,
        is_multi_region_trail=True,
        enable_file_validation=True,
        management_events=cloudtrail.ReadWriteType.ALL,
    )
    trail.add_s3_event_selector(
        [cloudtrail.S3EventSelector(bucket=bucket)], read_write_type=cloudtrail.ReadWriteType.ALL
    )
    role = iam.Role(stack, "TrailLogsRole", assumed_by=iam.ServicePrincipal("cloudtrail.amazonaws.com"))
    policy = iam.ManagedPolicy(
        stack,
        "TrailLogsPolicy",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        ],
    )
    cfn_trail = trail.node.default_child
    assert isinstance(cfn_trail, cloudtrail.CfnTrail)
    cfn_trail.cloud_watch_logs_log_group_arn = log_group.log_group_arn
    cfn_trail.cloud_watch_logs_role_arn = role.role_arn
    cfn_trail.node.add_dependency(policy)

    topic = sns.Topic(stack, "AlarmTopic", master_key=audit_key, enforce_ssl=True)
    action = cw_actions.SnsAction(topic)
    for name, pattern in _FILTERS.items():
        metric_filter = logs.MetricFilter(
            stack,
            f"{name}Filter",
            log_group=log_group,
            filter_pattern=logs.FilterPattern.literal(pattern),
            metric_namespace="CISBenchmark",
            metric_name=name,
            metric_value="1",
        )
        alarm = cloudwatch.Alarm(
            stack,
            f"{name}Alarm",
            metric=metric_filter.metric(statistic="Sum", period=Duration.minutes(5)),
            threshold=1,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        )
        alarm.add_alarm_action(action)
