"""The grants of :class:`~refarch.constructs.EncryptedDataStore`: one :class:`iam.Grant` over the objects
under a key pattern, the bucket, the data key, the table and a database user, with the one cdk-nag
finding such a grant cannot avoid acknowledged on the grantee's policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3

from refarch.compliance.acknowledge import acknowledge_wildcard_grant
from refarch.constructs.encrypted_data_store.props import OWNER
from refarch.errors import PropValidationError


@dataclass(frozen=True)
class Access:
    """The actions of one kind of access (read, write) on each part of the store."""

    objects: Sequence[str]
    bucket: Sequence[str]
    key: Sequence[str]
    #: Extra key actions when the store has a table (DynamoDB calls KMS on the caller's behalf).
    key_with_table: Sequence[str]
    table: Sequence[str]


READ = Access(
    objects=("s3:GetObject", "s3:GetObjectVersion"),
    bucket=("s3:ListBucket",),
    key=("kms:Decrypt",),
    key_with_table=("kms:DescribeKey",),  # DynamoDB describes the table key on the caller's behalf
    table=(
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DescribeTable",
    ),
)

WRITE = Access(
    objects=("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"),
    bucket=(),
    key=("kms:GenerateDataKey", "kms:Decrypt"),  # multipart uploads read the data key back
    key_with_table=("kms:Encrypt", "kms:DescribeKey"),  # DynamoDB encrypts items on the caller's behalf
    table=(
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:DescribeTable",
    ),
)


@dataclass(frozen=True)
class StoreParts:
    """What a grant reaches."""

    bucket: s3.IBucket
    key: kms.IKey
    table: dynamodb.ITable | None
    database: rds.DatabaseCluster | None


def grant_access(
    method: str,
    parts: StoreParts,
    access: Access,
    grantee: iam.IGrantable,
    objects_key_pattern: str,
    database_user: str | None,
) -> iam.Grant:
    """One grant of ``access`` to ``grantee``: objects matching ``objects_key_pattern``, the bucket, the
    data key, the table (if any) and ``rds-db:connect`` as ``database_user`` (if given)."""
    _check_grant_args(method, parts, objects_key_pattern, database_user)
    object_arn = parts.bucket.arn_for_objects(objects_key_pattern)
    grant = _allow(grantee, access.objects, object_arn)
    if access.bucket:
        grant = grant.combine(_allow(grantee, access.bucket, parts.bucket.bucket_arn))
    key_actions = [*access.key, *(access.key_with_table if parts.table is not None else ())]
    grant = grant.combine(parts.key.grant(grantee, *key_actions))
    if parts.table is not None:
        grant = grant.combine(_allow(grantee, access.table, parts.table.table_arn))
    if database_user is not None and parts.database is not None:
        grant = grant.combine(parts.database.grant_connect(grantee, database_user))
    if "*" in objects_key_pattern:
        acknowledge_wildcard_grant(
            grant,
            grantee,
            f"Granted by {OWNER}.{method}: object-level S3 permissions name objects by ARN pattern, here "
            f"the objects matching {objects_key_pattern!r} in the personal-data bucket.",
            object_arn,
        )
    return grant


def _allow(grantee: iam.IGrantable, actions: Sequence[str], resource_arn: str) -> iam.Grant:
    return iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=[resource_arn])


def _check_grant_args(method: str, parts: StoreParts, pattern: str, database_user: str | None) -> None:
    if not isinstance(pattern, str) or not pattern:
        raise PropValidationError(
            OWNER, "objects_key_pattern", pattern, f"{method} needs a key pattern such as 'reports/*'."
        )
    if database_user is not None:
        if parts.database is None:
            raise PropValidationError(OWNER, "database_user", database_user, "It needs a database (vpc).")
        if not isinstance(database_user, str) or not database_user:
            raise PropValidationError(OWNER, "database_user", database_user, "Allowed: a database user name.")
