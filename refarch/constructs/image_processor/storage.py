"""Where an ImageProcessor keeps things: its key, the upload and rendition buckets, the status table
and the topics, all under one customer key."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders, _dashboards
from refarch.constructs.image_processor.props import WORK_PREFIX, ImageProcessorProps


@dataclass(frozen=True)
class Storage:
    key: kms.IKey
    upload_bucket: s3.Bucket
    output_bucket: s3.IBucket
    table: dynamodb.Table
    success_topic: sns.Topic
    error_topic: sns.Topic
    review_topic: sns.Topic | None


def build_storage(scope: Construct, p: ImageProcessorProps) -> Storage:
    key = p["encryption_key"] or _build_key(scope, p["removal_policy"])
    access_logs = _builders.build_access_log_bucket(scope, "AccessLogs", removal_policy=p["removal_policy"])
    return Storage(
        key=key,
        upload_bucket=_build_upload_bucket(scope, p, key, access_logs),
        output_bucket=p["output_bucket"] or _build_output_bucket(scope, p, key, access_logs),
        table=_build_table(scope, key, p["removal_policy"]),
        success_topic=_topic(scope, "Succeeded", key, "Image processed"),
        error_topic=_topic(scope, "Failed", key, "Image rejected or failed"),
        review_topic=_topic(scope, "Review", key, "Image review") if p["review"] else None,
    )


def _build_key(scope: Construct, removal_policy: RemovalPolicy) -> kms.Key:
    key = _builders.build_logs_key(
        scope, "Key", description=f"{scope.node.path}: images, status, topics, logs", removal_policy=removal_policy
    )
    # CloudWatch alarms (and the health alarm) publish to the encrypted error topic.
    _dashboards.allow_alarms(key, scope)
    return key


def _build_upload_bucket(scope: Construct, p: ImageProcessorProps, key: kms.IKey, access_logs: s3.IBucket) -> s3.Bucket:
    retention = p["original_retention"]
    bucket = _builders.build_data_bucket(
        scope,
        "Uploads",
        encryption_key=key,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix="uploads/",
        removal_policy=p["removal_policy"],
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireOriginals",
                prefix=p["upload_prefix"],
                expiration=retention,
                noncurrent_version_expiration=Duration.days(30),
            )
        ]
        if retention is not None
        else None,
    )
    # EventBridge delivery set on the bucket resource itself: the L2's event_bridge_enabled goes
    # through a custom-resource Lambda (inline policy, AWS managed policy) that is not needed.
    cfn_bucket = bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    cfn_bucket.add_property_override("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)
    return bucket


def _build_output_bucket(scope: Construct, p: ImageProcessorProps, key: kms.IKey, access_logs: s3.IBucket) -> s3.Bucket:
    return _builders.build_data_bucket(
        scope,
        "Renditions",
        encryption_key=key,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix="renditions/",
        removal_policy=p["removal_policy"],
        lifecycle_rules=[
            # Intermediates a failed execution leaves behind; a successful one deletes them.
            s3.LifecycleRule(
                id="ExpireWorkFiles",
                prefix=WORK_PREFIX,
                expiration=Duration.days(1),
                noncurrent_version_expiration=Duration.days(1),
            ),
            s3.LifecycleRule(
                id="ExpireReplacedRenditions",
                prefix=p["output_prefix"],
                noncurrent_version_expiration=Duration.days(30),
            ),
            s3.LifecycleRule(id="AbortUploads", abort_incomplete_multipart_upload_after=Duration.days(7)),
        ],
    )


def _build_table(scope: Construct, key: kms.IKey, removal_policy: RemovalPolicy) -> dynamodb.Table:
    table = dynamodb.Table(
        scope,
        "Status",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        # Only the handlers' idempotency records carry this attribute; status items never expire.
        time_to_live_attribute="expiration",
        deletion_protection=removal_policy == RemovalPolicy.RETAIN,
        removal_policy=removal_policy,
    )
    acknowledge(
        table,
        "Point-in-time recovery keeps 35 days of continuous backups under the customer key; an AWS Backup "
        "plan on top is an account-wide choice (vaults, cross-account copies) left to the owner.",
        "HIPAA.Security-DynamoDBInBackupPlan",
        "NIST.800.53.R5-DynamoDBInBackupPlan",
        "PCI.DSS.321-DynamoDBInBackupPlan",
    )
    return table


def _topic(scope: Construct, id: str, key: kms.IKey, display_name: str) -> sns.Topic:
    return sns.Topic(scope, id, master_key=key, enforce_ssl=True, display_name=display_name)
