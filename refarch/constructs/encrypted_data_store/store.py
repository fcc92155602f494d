"""GDPR-grade storage for personal data: encrypted under keys the owner controls, reachable
only through least-privilege grants, expiring when its retention is over, and audited.

The pieces map onto the GDPR's technical measures:

- art. 32 (security of processing): customer-managed KMS keys with rotation whose policy
  separates key administrators (manage, never decrypt) from key users (decrypt only through
  the data services); SSE-KMS bucket with bucket keys, TLS-only, public access blocked, uploads
  under any other key denied; DynamoDB and Aurora options under the same key.
- art. 5(1)(e) (storage limitation): a lifecycle that expires objects and old versions after
  ``data_retention``, which the user must choose; Object Lock for records that must be kept.
- art. 30 (records of processing): a CloudTrail trail with the bucket's data events, server
  access logs, and CIS-benchmark alarms to an encrypted topic.
- art. 44 (transfers): ``allowed_regions`` fails synth in a region outside the list.

Threat protection of the internet-facing resources in front of the data is ``ProtectiveWebAcl``
(WAF); Shield Advanced only behind ``shield_advanced_protected_arns`` (USD 3,000 a month).
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Names, Stack, Token
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_shield as shield
from aws_cdk import aws_sns as sns
from constructs import Construct
from typing_extensions import Unpack

from refarch.compliance.residency import guard_region
from refarch.constructs import _builders, _dashboards
from refarch.constructs._flags import pin_required_flags
from refarch.constructs._props import document_props, read_props
from refarch.constructs.encrypted_data_store.audit import (
    AUDIT_ALARMS,
    AuditAlarm,
    build_alarms,
    build_audit,
    build_audit_topic,
)
from refarch.constructs.encrypted_data_store.bucket import build_bucket
from refarch.constructs.encrypted_data_store.database import build_database
from refarch.constructs.encrypted_data_store.grants import READ, WRITE, StoreParts, grant_access
from refarch.constructs.encrypted_data_store.keys import build_keys
from refarch.constructs.encrypted_data_store.monitoring import build_error_metrics, store_panels
from refarch.constructs.encrypted_data_store.props import (
    OWNER,
    EncryptedDataStoreProps,
    check_props,
    database_ivpc,
    database_security_groups,
    database_subnets,
)
from refarch.constructs.encrypted_data_store.table import build_table


@jsii.implements(ec2.IConnectable)
@document_props(EncryptedDataStoreProps)
class EncryptedDataStore(Construct):
    """An S3 bucket (and optionally a DynamoDB table and an Aurora PostgreSQL cluster) for personal
    data, with keys, retention, grants, an audit trail and alarms.

    Example::

        store = EncryptedDataStore(
            self, "Customers",
            data_retention=Duration.days(365 * 2),
            table_partition_key=dynamodb.Attribute(name="customerId", type=dynamodb.AttributeType.STRING),
            allowed_regions=EU_REGIONS,
            alarm_emails=["dpo@example.com"],
        )
        store.grant_read(reporting_role, "reports/*")
    """

    def __init__(self, scope: Construct, id: str, **props: Unpack[EncryptedDataStoreProps]) -> None:
        """Keys, bucket, table, database, audit trail, alarms and dashboard, from checked props."""
        p = read_props(OWNER, EncryptedDataStoreProps, props)
        check_props(scope, p, tuple(props))
        super().__init__(scope, id)
        pin_required_flags(self)  # before any child: its buckets need bucket-policy log delivery
        regions = p["allowed_regions"]
        self.allowed_regions: tuple[str, ...] | None = tuple(regions) if regions is not None else None
        if regions is not None and Token.is_unresolved(Stack.of(self).region):
            # check_props judged a known region; one known only at deploy time gets guard_region's warning.
            guard_region(self, OWNER, regions)
        self.data_retention_days = int(p["data_retention"].to_days())
        removal_policy = p["removal_policy"]
        log_retention = p["log_retention"]

        self.key, self.audit_key = build_keys(
            self,
            admins=p["key_admins"],
            rotation_period=p["key_rotation_period"],
            alias_prefix=p["key_alias_prefix"] or f"alias/{Names.unique_id(self)}",
            removal_policy=removal_policy,
        )
        self.access_log_bucket = _builders.build_access_log_bucket(self, "AccessLogs", removal_policy=removal_policy)
        self.bucket = build_bucket(
            self,
            key=self.key,
            access_log_bucket=self.access_log_bucket,
            retention=p["data_retention"],
            versioned=p["versioned"],
            noncurrent_retention=p["noncurrent_version_retention"],
            lock_retention=p["object_lock_retention"],
            lock_mode=p["object_lock_mode"],
            removal_policy=removal_policy,
        )

        partition_key = p["table_partition_key"]
        self.table: dynamodb.Table | None = None
        if partition_key is not None:
            self.table = build_table(
                self,
                partition_key=partition_key,
                sort_key=p["table_sort_key"],
                ttl_attribute=p["table_ttl_attribute"],
                key=self.key,
                removal_policy=removal_policy,
            )

        vpc = database_ivpc(p)
        self.database: rds.DatabaseCluster | None = None
        self.database_log_group: logs.LogGroup | None = None
        if vpc is not None:
            self.database, self.database_log_group = build_database(
                self,
                vpc=vpc,
                subnets=database_subnets(p),
                security_groups=database_security_groups(p),
                engine_version=p["database_engine_version"],
                data_key=self.key,
                log_key=self.audit_key,
                backup_retention=p["database_backup_retention"],
                min_capacity=p["database_min_capacity"],
                max_capacity=p["database_max_capacity"],
                readers=p["database_readers"],
                log_retention=log_retention,
                removal_policy=removal_policy,
            )

        self.trail: cloudtrail.Trail | None = None
        self.trail_bucket: s3.Bucket | None = None
        self.trail_logs_role: iam.IRole | None = None
        self.trail_log_group: logs.ILogGroup | None = p["trail_log_group"]
        if p["audit_trail"]:
            audit = build_audit(
                self,
                key=self.audit_key,
                data_bucket=self.bucket,
                access_log_bucket=self.access_log_bucket,
                retention=log_retention,
                removal_policy=removal_policy,
            )
            self.trail, self.trail_bucket, self.trail_logs_role = audit.trail, audit.bucket, audit.logs_role
            self.trail_log_group = audit.log_group

        self.alarm_topic: sns.ITopic | None = p["alarm_topic"]
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        if p["alarms"] and self.trail_log_group is not None:
            if self.alarm_topic is None:
                self.alarm_topic = build_audit_topic(self, key=self.audit_key, emails=p["alarm_emails"])
            self.alarms = build_alarms(
                self, log_group=self.trail_log_group, topic=self.alarm_topic, namespace=p["metric_namespace"]
            )
        self._build_operations_view(p["metric_namespace"], p["dashboard"])
        self.shield_protections = self._protect_with_shield(p["shield_advanced_protected_arns"])

    def _build_operations_view(self, namespace: str, dashboard: bool | str) -> None:
        """The error metrics over the trail's events, the health alarm and the dashboard."""
        errors = (
            build_error_metrics(
                self, log_group=self.trail_log_group, namespace=namespace, key=self.key, bucket=self.bucket
            )
            if self.trail_log_group is not None
            else {}
        )
        self.dashboard, self.health_alarm = _dashboards.build_operations_view(
            self,
            dashboard=dashboard,
            title=self.node.path,
            panels=store_panels(alarms=self.alarms, errors=errors, table=self.table, database=self.database),
            alarms=self.alarms,
            topic=self.alarm_topic,
        )

    def _protect_with_shield(self, arns: Sequence[str]) -> list[shield.CfnProtection]:
        return [
            shield.CfnProtection(
                self, f"ShieldProtection{i + 1}", name=f"{Names.unique_id(self)}-{i + 1}", resource_arn=arn
            )
            for i, arn in enumerate(arns)
        ]

    # -- attributes ---------------------------------------------------------------------------

    @property
    def bucket_name(self) -> str:
        return self.bucket.bucket_name

    @property
    def bucket_arn(self) -> str:
        return self.bucket.bucket_arn

    @property
    def key_arn(self) -> str:
        return self.key.key_arn

    @property
    def connections(self) -> ec2.Connections:
        """The database's security groups, to allow clients in (``store.connections.allow_default_port_from(x)``);
        without a database, an empty Connections (nothing of the store is in a VPC)."""
        if self.database is None:
            return ec2.Connections()
        return self.database.connections

    @property
    def audit_alarms(self) -> tuple[AuditAlarm, ...]:
        """The CIS checks behind :attr:`alarms`."""
        return AUDIT_ALARMS if self.alarms else ()

    # -- grants -------------------------------------------------------------------------------

    def grant_read(
        self, grantee: iam.IGrantable, objects_key_pattern: str = "*", database_user: str | None = None
    ) -> iam.Grant:
        """Let ``grantee`` read objects matching ``objects_key_pattern`` (and the table's items), and
        decrypt them with the data key: nothing else. One grant, the key included.

        The key policy lets key users decrypt only through S3, DynamoDB, RDS and Secrets Manager, so the
        grant cannot be used to decrypt data outside them. With ``database_user``, also ``rds-db:connect``
        as that database user (IAM authentication; what the user may read is the database's own GRANTs).
        The prefix-scoped ``AwsSolutions-IAM5`` finding on the grantee's policy is acknowledged here.
        """
        return grant_access("grant_read", self._parts(), READ, grantee, objects_key_pattern, database_user)

    def grant_write(
        self, grantee: iam.IGrantable, objects_key_pattern: str = "*", database_user: str | None = None
    ) -> iam.Grant:
        """Let ``grantee`` write and delete objects matching ``objects_key_pattern`` (and the table's
        items), encrypting them with the data key: nothing else. As for :meth:`grant_read` otherwise."""
        return grant_access("grant_write", self._parts(), WRITE, grantee, objects_key_pattern, database_user)

    def _parts(self) -> StoreParts:
        return StoreParts(bucket=self.bucket, key=self.key, table=self.table, database=self.database)
