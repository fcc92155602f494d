"""What an ImageProcessor lets others do. Each grant is one whole ``iam.Grant``: the S3 or DynamoDB
permissions and the key permissions they need, and each acknowledges, on the grantee's own policy, the
cdk-nag finding its object-level permissions cannot avoid."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from refarch.compliance.acknowledge import acknowledge_wildcard_grant

#: Reading the status table: items, queries, scans and its description (no stream: it has none).
STATUS_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)


def grant_objects(
    method: str,
    grantee: iam.IGrantable,
    *,
    bucket: s3.IBucket,
    prefix: str,
    actions: Sequence[str],
    key_actions: Sequence[str],
) -> iam.Grant:
    """``actions`` on the objects under ``prefix`` of ``bucket`` and ``key_actions`` on its key (if it has
    one of its own: an SSE-S3 bucket a user brought has none)."""
    grants = []
    if bucket.encryption_key is not None:
        grants.append(with_key(grantee, bucket.encryption_key, key_actions))
    objects = bucket.arn_for_objects(f"{prefix}*")
    object_grant = iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=[objects])
    grants.append(object_grant)
    # The finding lands on the grantee's policy (a role of this app): name it there, narrowly.
    acknowledge_wildcard_grant(
        object_grant,
        grantee,
        f"Granted by ImageProcessor.{method}: object-level S3 permissions name objects by ARN pattern, "
        "here limited to one key prefix.",
        objects,
    )
    return combine(grants)


def with_key(grantee: iam.IGrantable, key: kms.IKey, actions: Sequence[str]) -> iam.Grant:
    """``actions`` on ``key``, in the grantee's policy (the key policy delegates to IAM)."""
    return iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=[key.key_arn])


def combine(grants: Sequence[iam.Grant]) -> iam.Grant:
    """One Grant covering every grant of ``grants``."""
    whole = grants[0]
    for grant in grants[1:]:
        whole = whole.combine(grant)
    return whole
