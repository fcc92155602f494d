"""The keys of :class:`~refarch.constructs.EncryptedDataStore`: a data key whose policy separates
administrators from users, and the bucket policy that admits no other encryption."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from refarch.constructs import _builders
from refarch.constructs.encrypted_data_store.audit import allow_audit_services

#: Administrative KMS actions: manage the key, never use it on data.
KEY_ADMIN_ACTIONS = (
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
)

#: Cryptographic KMS actions the data services perform on a key user's behalf.
KEY_USE_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
    "kms:CreateGrant",
)

#: Services through which key users may use the data key (``kms:ViaService``).
KEY_SERVICES = ("s3", "dynamodb", "rds", "secretsmanager")


def build_keys(
    scope: Construct,
    *,
    admins: Sequence[iam.IPrincipal] | None,
    rotation_period: Duration,
    alias_prefix: str,
    removal_policy: RemovalPolicy,
) -> tuple[kms.Key, kms.Key]:
    """The data key (bucket, table, database) and the audit key (trail, logs, alarm topic), both
    administered by ``admins`` (default: the account, through IAM policies)."""
    stack = Stack.of(scope)
    path = scope.node.path
    administrators = list(admins) if admins is not None else [iam.AccountRootPrincipal()]
    data_key, audit_key = (
        _builders.build_key(
            scope,
            f"{name.capitalize()}Key",
            description=f"{description} of {path}",
            rotation_period=rotation_period,
            alias=f"{alias_prefix}/{name}",
            removal_policy=removal_policy,
            policy=policy,
        )
        for name, description, policy in (
            ("data", "Personal data", data_key_policy(stack, administrators)),
            ("audit", "Audit trail and alarms", audit_key_policy(stack, administrators)),
        )
    )
    _builders.allow_cloudwatch_logs(audit_key, scope)
    allow_audit_services(audit_key, scope)
    return data_key, audit_key


def _administration(admins: Sequence[iam.IPrincipal]) -> iam.PolicyStatement:
    """Both keys: the administrators manage the key (and cannot use it)."""
    return iam.PolicyStatement(
        sid="KeyAdministration",
        principals=list(admins),
        actions=list(KEY_ADMIN_ACTIONS),
        resources=["*"],  # in a key policy, "*" means this key
    )


def data_key_policy(stack: Stack, admins: Sequence[iam.IPrincipal]) -> iam.PolicyDocument:
    """Administrators manage the key and cannot use it; users (granted through IAM by
    :meth:`EncryptedDataStore.grant_read` and ``grant_write``) use it only through the data services."""
    region = stack.region
    return iam.PolicyDocument(
        statements=[
            _administration(admins),
            iam.PolicyStatement(
                sid="KeyUseThroughDataServicesOnly",
                principals=[iam.AccountRootPrincipal()],
                actions=list(KEY_USE_ACTIONS),
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "kms:CallerAccount": stack.account,
                        "kms:ViaService": [f"{service}.{region}.amazonaws.com" for service in KEY_SERVICES],
                    }
                },
            ),
        ]
    )


def audit_key_policy(stack: Stack, admins: Sequence[iam.IPrincipal]) -> iam.PolicyDocument:
    """The audit key: the same administrators, and principals of this account use it through
    IAM policies (reading trail logs and alarms). The services that write with it (CloudWatch
    Logs, CloudTrail, CloudWatch alarms) get statements of their own."""
    return iam.PolicyDocument(
        statements=[
            _administration(admins),
            iam.PolicyStatement(
                sid="KeyUseThroughIamPolicies",
                principals=[iam.AccountRootPrincipal()],
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=["*"],
                conditions={"StringEquals": {"kms:CallerAccount": stack.account}},
            ),
        ]
    )


def deny_other_encryption(bucket: s3.Bucket, key: kms.IKey) -> None:
    """Deny uploads that ask for any encryption other than SSE-KMS with the data key.

    Uploads without encryption headers get the bucket's default (this key) and must pass: the
    Deny applies only when the header is present (``Null: false``) and names something else. (A
    ``StringNotEqualsIfExists`` Deny would reject them: IAM evaluates ``...IfExists`` as true
    when the key is absent.)
    """
    for sid, condition_key, value in (
        ("DenyOtherEncryptionTypes", "s3:x-amz-server-side-encryption", "aws:kms"),
        ("DenyOtherKmsKeys", "s3:x-amz-server-side-encryption-aws-kms-key-id", key.key_arn),
    ):
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects("*")],
                conditions={"Null": {condition_key: "false"}, "StringNotEquals": {condition_key: value}},
            )
        )
