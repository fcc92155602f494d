"""The lake of ``StreamingPipeline``: an encrypted, versioned, logged bucket whose objects move to
Standard-IA (and Glacier Instant Retrieval) with age, and the consumer's write access to its prefixes."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders
from refarch.constructs.streaming_pipeline.catalog import results_lifecycle_rule
from refarch.constructs.streaming_pipeline.props import StreamingPipelineProps
from refarch.contracts.permissions import require_permission


def build_lake(scope: Construct, p: StreamingPipelineProps, key: kms.IKey) -> tuple[s3.Bucket, s3.Bucket]:
    """The access-log bucket and the lake bucket."""
    access_logs = _builders.build_access_log_bucket(scope, "AccessLogs", removal_policy=p["removal_policy"])
    transitions = [
        s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=p["infrequent_access_after"])
    ]
    if p["archive_after"] is not None:
        transitions.append(
            s3.Transition(storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transition_after=p["archive_after"])
        )
    bucket = _builders.build_data_bucket(
        scope,
        "Lake",
        encryption_key=key,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix="lake/",
        removal_policy=p["removal_policy"],
        lifecycle_rules=[
            s3.LifecycleRule(
                id="TierLakeObjects",
                transitions=transitions,
                expiration=p["lake_expiration"],
                # Retried batches overwrite their objects: old versions are kept a while, not forever.
                noncurrent_version_expiration=Duration.days(90),
                abort_incomplete_multipart_upload_after=Duration.days(7),
            ),
            *([results_lifecycle_rule()] if p["lake_catalog"] else []),
        ],
    )
    return access_logs, bucket


def grant_lake_writes(
    scope: Construct, function: lambda_.Function, bucket: s3.Bucket, key: kms.IKey, prefixes: tuple[str, str]
) -> None:
    """PutObject under the lake and quarantine prefixes, and the one KMS action an SSE-KMS PUT needs."""
    objects = [bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes]
    function.add_to_role_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=objects))
    key.grant(function, "kms:GenerateDataKey")
    role = function.role
    assert role is not None
    require_permission(
        scope,
        principal=role,
        actions=["s3:PutObject"],
        resources=objects,
        reason="the consumer writes accepted records under the lake prefix, rejected ones under quarantine",
    )
    acknowledge_prefix_grant(
        role,
        "The consumer writes new objects whose keys (partition, shard, sequence numbers) are only known "
        "at run time; the grant is PutObject alone, limited to the lake and quarantine prefixes.",
        bucket,
        prefixes,
    )


def acknowledge_prefix_grant(
    grantee: iam.IGrantable, reason: str, bucket: s3.IBucket, prefixes: Sequence[str], actions: Sequence[str] = ()
) -> None:
    """Acknowledge on ``grantee`` the AwsSolutions-IAM5 findings of a grant on ``bucket``'s ``prefixes``
    (object ARNs are patterns) and of the ``actions`` groups it uses, so its user need not.
    A grantee outside the app (an imported role) carries no findings here: nothing to acknowledge."""
    if not isinstance(grantee, Construct) or bucket.node.default_child is None:
        return
    bucket_ref = Stack.of(bucket).get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
    acknowledge(
        grantee,
        reason,
        *(f"AwsSolutions-IAM5[Action::{action}]" for action in actions),
        *(f"AwsSolutions-IAM5[Resource::<{bucket_ref}.Arn>/{prefix}*]" for prefix in prefixes),
    )
