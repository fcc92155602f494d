"""Builders for the secure sub-resources several constructs need.

Each builder returns an L2 with the library's secure defaults applied, and acknowledges
on that very resource the compliance findings that are inherent to it (with the reason),
so every construct that uses the builder is clean in the same way.
"""

from __future__ import annotations

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _defaults
from refarch.contracts import declare
from refarch.iam import ManagedPolicyRole as ManagedPolicyRole  # re-exported: the builders make them

#: Contract kind of a reserved concurrency the construct's user asked for (read by
#: ``refarch.testing.lifecycle``, which flags every other reservation).
RESERVED_CONCURRENCY_KIND = "reserved-concurrency"


def stack_unique_suffix(scope: Construct) -> str:
    """Eight lowercase hex digits unique to each creation of ``scope``'s stack (a token: the start of
    the UUID in the stack ID).

    For physical names that must be known before their resource exists (an RDS identifier whose
    log groups are created first, a WAF log group): with it, a resource retained by a deleted
    stack never collides with the same resource of the stack created again.
    """
    stack_id = Stack.of(scope).stack_id  # arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>
    return Fn.select(0, Fn.split("-", Fn.select(2, Fn.split("/", stack_id))))


def build_key(
    scope: Construct,
    id: str,
    *,
    description: str,
    removal_policy: RemovalPolicy,
    rotation_period: Duration | None = None,
    alias: str | None = None,
    policy: iam.PolicyDocument | None = None,
) -> kms.Key:
    """A customer-managed symmetric KMS key with rotation on.

    ``policy`` replaces the default key policy (which gives the account full control), for
    constructs that separate key administrators from key users.
    """
    return kms.Key(
        scope,
        id,
        description=description,
        enable_key_rotation=True,
        rotation_period=rotation_period or _defaults.KEY_ROTATION_PERIOD,
        removal_policy=removal_policy,
        alias=alias,
        policy=policy,
    )


def build_logs_key(scope: Construct, id: str, *, description: str, removal_policy: RemovalPolicy) -> kms.Key:
    """A construct's own customer-managed key (:func:`build_key`) that its log groups may use too
    (:func:`allow_cloudwatch_logs`): what every construct makes when the user brings no key."""
    key = build_key(scope, id, description=description, removal_policy=removal_policy)
    allow_cloudwatch_logs(key, scope)
    return key


def allow_cloudwatch_logs(key: kms.IKey, scope: Construct) -> None:
    """Let CloudWatch Logs in this stack's account and region use ``key`` for log groups.

    The grant is scoped with the encryption-context condition CloudWatch Logs sets, so
    the key can only encrypt log groups of this account and region.
    """
    stack = Stack.of(scope)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                    )
                }
            },
        )
    )


def build_log_group(
    scope: Construct,
    id: str,
    *,
    encryption_key: kms.IKey,
    removal_policy: RemovalPolicy,
    retention: logs.RetentionDays | None = None,
    log_group_name: str | None = None,
) -> logs.LogGroup:
    """A log group encrypted with ``encryption_key`` and with finite retention.

    The caller makes sure the key admits CloudWatch Logs (:func:`allow_cloudwatch_logs`
    for a key the construct owns). Give ``log_group_name`` for a group a service would
    otherwise create itself (unencrypted, kept forever) under that name: creating it first
    keeps the service's logs under our key and retention.
    """
    return logs.LogGroup(
        scope,
        id,
        log_group_name=log_group_name,
        encryption_key=encryption_key,
        retention=retention or _defaults.LOG_RETENTION,
        removal_policy=removal_policy,
    )


VPC_INTERFACES_REASON = (
    "Lambda creates, describes and deletes the function's VPC network interfaces with this role: "
    "ec2:DescribeNetworkInterfaces works only on Resource '*', and the interfaces do not exist before "
    "Lambda creates them (Lambda developer guide, VPC permissions)."
)


def build_access_log_bucket(scope: Construct, id: str, *, removal_policy: RemovalPolicy) -> s3.Bucket:
    """The target of S3 server access logs: private, TLS-only, versioned, logs expire.

    S3 log delivery writes only to buckets encrypted with SSE-S3 (not SSE-KMS), and the
    log bucket cannot usefully log to itself: both findings are acknowledged here, on it.
    """
    bucket = s3.Bucket(
        scope,
        id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=removal_policy,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireAccessLogs",
                expiration=Duration.days(_defaults.ACCESS_LOG_DAYS),
                noncurrent_version_expiration=Duration.days(30),
                abort_incomplete_multipart_upload_after=Duration.days(7),
            )
        ],
    )
    acknowledge(
        bucket,
        "This bucket receives S3 server access logs; logging its own access would loop into itself. "
        "Access to it is recorded by CloudTrail.",
        "AwsSolutions-S1",
        "HIPAA.Security-S3BucketLoggingEnabled",
        "NIST.800.53.R5-S3BucketLoggingEnabled",
        "PCI.DSS.321-S3BucketLoggingEnabled",
        "GDPR-S3AccessLogging",
    )
    acknowledge(
        bucket,
        "S3 server access log delivery only supports target buckets encrypted with SSE-S3; SSE-KMS "
        "targets silently receive no logs.",
        "HIPAA.Security-S3DefaultEncryptionKMS",
        "NIST.800.53.R5-S3DefaultEncryptionKMS",
        "PCI.DSS.321-S3DefaultEncryptionKMS",
        "GDPR-S3KMS",
    )
    _acknowledge_replication(bucket)
    return bucket


def build_data_bucket(
    scope: Construct,
    id: str,
    *,
    encryption_key: kms.IKey,
    server_access_logs_bucket: s3.IBucket,
    server_access_logs_prefix: str,
    removal_policy: RemovalPolicy,
    lifecycle_rules: list[s3.LifecycleRule] | None = None,
    event_bridge_enabled: bool = False,
    object_lock_enabled: bool | None = None,
    object_lock_default_retention: s3.ObjectLockRetention | None = None,
    versioned: bool = True,
) -> s3.Bucket:
    """A bucket for data: SSE-KMS with a customer key and bucket keys, versioned (unless the
    caller opts out), private, TLS-only, server access logs on."""
    bucket = s3.Bucket(
        scope,
        id,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=encryption_key,
        bucket_key_enabled=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=versioned,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=server_access_logs_bucket,
        server_access_logs_prefix=server_access_logs_prefix,
        removal_policy=removal_policy,
        lifecycle_rules=lifecycle_rules,
        event_bridge_enabled=event_bridge_enabled,
        object_lock_enabled=object_lock_enabled,
        object_lock_default_retention=object_lock_default_retention,
    )
    _acknowledge_replication(bucket)
    return bucket


def _acknowledge_replication(bucket: s3.IBucket) -> None:
    acknowledge(
        bucket,
        "Cross-region replication copies data to another region, which is a data-residency decision "
        "(GDPR art. 44) the owner makes; durability within the region is S3's 11 nines plus versioning.",
        "HIPAA.Security-S3BucketReplicationEnabled",
        "NIST.800.53.R5-S3BucketReplicationEnabled",
        "PCI.DSS.321-S3BucketReplicationEnabled",
    )


def build_python_function(
    scope: Construct,
    id: str,
    *,
    description: str,
    code: lambda_.Code,
    handler: str,
    encryption_key: kms.IKey,
    removal_policy: RemovalPolicy,
    architecture: lambda_.Architecture = lambda_.Architecture.ARM_64,
    layers: list[lambda_.ILayerVersion] | None = None,
    environment: dict[str, str] | None = None,
    timeout: Duration | None = None,
    memory_size: int = 256,
    reserved_concurrent_executions: int | None = None,
    vpc: ec2.IVpc | None = None,
    vpc_subnets: ec2.SubnetSelection | None = None,
    security_groups: list[ec2.ISecurityGroup] | None = None,
    log_retention: logs.RetentionDays | None = None,
) -> lambda_.Function:
    """A Python Lambda function with the library's defaults.

    Its role routes grants into a managed policy (:class:`ManagedPolicyRole`); its log group is
    its own, encrypted with ``encryption_key`` (which must admit CloudWatch Logs) and with
    finite retention; its environment is encrypted with the same key; X-Ray tracing is on.
    Give ``reserved_concurrent_executions`` only when the construct's user asked for it: accounts
    with a low concurrency quota (new ones may have 10 or 50) reject any reservation, so it is
    declared as requested for the lifecycle lint.
    """
    role = ManagedPolicyRole(
        scope, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description
    )
    log_group = build_log_group(
        scope, f"{id}LogGroup", encryption_key=encryption_key, retention=log_retention, removal_policy=removal_policy
    )
    function = lambda_.Function(
        scope,
        id,
        description=description,
        runtime=_defaults.LAMBDA_PYTHON_RUNTIME,
        architecture=architecture,
        code=code,
        handler=handler,
        role=role,
        layers=layers,
        environment=environment,
        environment_encryption=encryption_key,
        timeout=timeout or Duration.seconds(30),
        memory_size=memory_size,
        reserved_concurrent_executions=reserved_concurrent_executions,
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        vpc=vpc,
        vpc_subnets=vpc_subnets,
        security_groups=security_groups,
    )
    if reserved_concurrent_executions is not None:
        declare(
            function,
            RESERVED_CONCURRENCY_KIND,
            {
                "function": function.function_name,
                "requested_by": f"reserved_concurrent_executions of {scope.node.path}",
            },
        )
    # A passed-in role gets neither the log permissions nor the VPC ones aws-cdk-lib gives the
    # roles it creates: grant them here, narrowly (this log group; the ENI actions need "*").
    log_group.grant_write(role)
    if vpc is not None:
        role.allow_vpc_network_interfaces()
    acknowledge(
        role,
        "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions: AWS "
        "documents Resource '*' as the only form." + (f" {VPC_INTERFACES_REASON}" if vpc is not None else ""),
        "AwsSolutions-IAM5[Resource::*]",
    )
    return function
