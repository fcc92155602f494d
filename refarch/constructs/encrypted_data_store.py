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

from aws_cdk import Duration, Names, RemovalPolicy, Stack
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
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.compliance.residency import guard_region
from refarch.constructs import _builders, _dashboards, _defaults
from refarch.constructs._flags import pin_required_flags
from refarch.constructs._network_checks import check_database_network
from refarch.constructs._validation import PropValidationError
from refarch.constructs.encrypted_data_store_audit import (
    AUDIT_ALARMS,
    AuditAlarm,
    allow_audit_services,
    build_alarms,
    build_trail,
)
from refarch.constructs.encrypted_data_store_database import (
    AURORA_POSTGRES_PORT,
    DEFAULT_ENGINE_VERSION,
    build_database,
)
from refarch.constructs.encrypted_data_store_keys import (
    KEY_ADMIN_ACTIONS,
    KEY_SERVICES,
    KEY_USE_ACTIONS,
    audit_key_policy,
    data_key_policy,
    deny_other_encryption,
)
from refarch.constructs.encrypted_data_store_monitoring import build_error_metrics, store_panels
from refarch.constructs.encrypted_data_store_props import _OWNER, check_props
from refarch.contracts import flows


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

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_retention: Duration,
        noncurrent_version_retention: Duration | None = None,
        versioned: bool = True,
        object_lock_retention: Duration | None = None,
        object_lock_mode: s3.ObjectLockMode = s3.ObjectLockMode.GOVERNANCE,
        key_rotation_period: Duration | None = None,
        key_admins: Sequence[iam.IPrincipal] | None = None,
        key_alias_prefix: str | None = None,
        table_partition_key: dynamodb.Attribute | None = None,
        table_sort_key: dynamodb.Attribute | None = None,
        table_ttl_attribute: str | None = None,
        database_vpc: ec2.IVpc | None = None,
        database_subnets: ec2.SubnetSelection | None = None,
        database_security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        database_engine_version: rds.AuroraPostgresEngineVersion | None = None,
        database_backup_retention: Duration | None = None,
        database_min_capacity: float = 0.5,
        database_max_capacity: float = 4,
        database_readers: int = 1,
        audit_trail: bool = True,
        trail_log_group: logs.ILogGroup | None = None,
        trail_retention: Duration | None = None,
        alarms: bool = True,
        alarm_topic: sns.ITopic | None = None,
        alarm_emails: Sequence[str] = (),
        metric_namespace: str = "CISBenchmark",
        allowed_regions: Sequence[str] | None = None,
        shield_advanced_protected_arns: Sequence[str] = (),
        removal_policy: RemovalPolicy = _defaults.DATA_REMOVAL_POLICY,
        dashboard: bool | str = True,
    ) -> None:
        """
        :param data_retention: How long objects are kept before they expire (data minimization).
            Whole days, 1 to 36500. Required: how long personal data may be kept is a legal decision.
        :param noncurrent_version_retention: How long overwritten or deleted versions are kept before
            they are removed for good (a deleted object is only erased once this is over). Whole days.
            Default: ``Duration.days(30)``
        :param versioned: Keep object versions (recovery from overwrites, needed by Object Lock).
            Default: ``True``
        :param object_lock_retention: Turn on S3 Object Lock and keep every new object version
            unmodifiable for this long (records that must be kept). At most ``data_retention``.
            Object Lock can never be turned off for the bucket. Default: - no Object Lock
        :param object_lock_mode: ``GOVERNANCE`` (privileged users may lift it) or ``COMPLIANCE``
            (nobody can, not even root). Default: ``ObjectLockMode.GOVERNANCE``
        :param key_rotation_period: Rotation period of the keys, 90 to 2560 days.
            Default: ``Duration.days(365)``
        :param key_admins: Principals that administer the keys (enable, disable, schedule deletion,
            change their policies); the key policies give them no cryptographic action. Default: - the
            account, through IAM policies
        :param key_alias_prefix: Prefix of the key aliases, ``<prefix>/data`` and ``<prefix>/audit``
            (letters, digits, ``/``, ``_``, ``-``). Default: - ``alias/`` and the construct's unique ID
        :param table_partition_key: Create a DynamoDB table with this partition key for structured
            personal data (customer key, point-in-time recovery, deletion protection, on-demand).
            Default: - no table
        :param table_sort_key: Sort key of the table. Default: - none
        :param table_ttl_attribute: Attribute holding each item's expiry (epoch seconds), so items
            expire like objects do. Default: - no TTL
        :param database_vpc: Create an Aurora PostgreSQL Serverless v2 cluster in this VPC for
            relational personal data: storage, Performance Insights and the RDS-managed (rotated)
            master secret under the data key, TLS required (``rds.force_ssl``), IAM authentication,
            deletion protection, connection logging to an encrypted log group. Its subnets must span
            2 AZs; on a ``ThreeTierVpc``'s db tier, the tier's ``db_port`` must be 5432 (checked before
            anything is built). Default: - no database
        :param database_subnets: Subnets of the cluster. Default: - the VPC's isolated subnets
        :param database_security_groups: Security groups of the cluster (for example
            ``ThreeTierVpc.db.security_group``). Default: - a new security group that allows nothing in
        :param database_engine_version: Aurora PostgreSQL version. Default: ``AuroraPostgresEngineVersion.VER_17_7``
        :param database_backup_retention: Automated backup retention, 1 to 35 days.
            Default: ``Duration.days(14)``
        :param database_min_capacity: Minimum Aurora capacity units of each instance, 0 to 256 in
            steps of 0.5. Default: ``0.5``
        :param database_max_capacity: Maximum Aurora capacity units, 1 to 256. Default: ``4``
        :param database_readers: Reader instances beside the writer (a reader in another AZ is the
            failover target), 0 to 15. Default: ``1``
        :param audit_trail: Create a CloudTrail trail (multi-region, log file validation, encrypted,
            S3 data events of the bucket, CloudWatch Logs delivery). Turn it off when an organization
            trail already records this account, and give its log group as ``trail_log_group``.
            Default: ``True``
        :param trail_log_group: The log group an existing (organization) trail delivers to, for the
            alarms when ``audit_trail`` is off. Default: - the new trail's log group
        :param trail_retention: How long trail log files and log events are kept. Whole days, and one
            of CloudWatch Logs' retention values. Default: ``Duration.days(365)``
        :param alarms: Create the CIS-benchmark metric filters and alarms over the trail's events.
            Default: ``True``
        :param alarm_topic: Topic the alarms and the health alarm notify. Default: - a new topic encrypted with
            the audit key
        :param alarm_emails: Email addresses subscribed to the new alarm topic. Default: - none
        :param metric_namespace: CloudWatch namespace of the alarm metrics. Default: ``"CISBenchmark"``
        :param allowed_regions: Regions where the data may rest (see ``refarch.compliance.residency``).
            A stack in another region fails synth; an environment-agnostic stack gets a warning.
            Default: - no restriction
        :param shield_advanced_protected_arns: Internet-facing resources in front of the data (CloudFront
            distributions, load balancers, Elastic IPs, Global Accelerator accelerators, Route 53 hosted
            zones) to protect with AWS Shield Advanced. Shield Advanced needs an account subscription that
            costs USD 3,000 per month with a one-year commitment, plus data transfer fees; deployment fails
            without it. For a WAF web ACL on the same resources use ``ProtectiveWebAcl``. Default: - none
        :param removal_policy: What happens to the keys, bucket, table and logs when removed from the
            stack. Default: ``RemovalPolicy.RETAIN``
        :param dashboard: ``False`` for no CloudWatch dashboard, or a name for it. Default: - a dashboard
            with a generated name
        """
        super().__init__(scope, id)
        pin_required_flags(self)  # before any child: its buckets need bucket-policy log delivery
        settings = check_props(
            dashboard=dashboard,
            data_retention=data_retention,
            noncurrent_version_retention=noncurrent_version_retention,
            versioned=versioned,
            object_lock_retention=object_lock_retention,
            object_lock_mode=object_lock_mode,
            key_rotation_period=key_rotation_period,
            key_alias_prefix=key_alias_prefix,
            table_partition_key=table_partition_key,
            table_sort_key=table_sort_key,
            table_ttl_attribute=table_ttl_attribute,
            database_vpc=database_vpc,
            database_subnets=database_subnets,
            database_security_groups=database_security_groups,
            database_engine_version=database_engine_version,
            database_backup_retention=database_backup_retention,
            database_min_capacity=database_min_capacity,
            database_max_capacity=database_max_capacity,
            database_readers=database_readers,
            audit_trail=audit_trail,
            trail_log_group=trail_log_group,
            trail_retention=trail_retention,
            alarms=alarms,
            alarm_topic=alarm_topic,
            alarm_emails=alarm_emails,
            metric_namespace=metric_namespace,
            allowed_regions=allowed_regions,
            shield_advanced_protected_arns=shield_advanced_protected_arns,
        )
        regions = settings.regions
        if regions is not None:
            guard_region(self, _OWNER, regions)
        if database_vpc is not None:
            check_database_network(
                _OWNER,
                vpc=database_vpc,
                subnets=database_subnets,
                subnets_prop="database_subnets",
                port=AURORA_POSTGRES_PORT,
                port_prop="database_vpc",
                multi_az=database_readers > 0,
            )
        retention_days, noncurrent_days, lock_days = (
            settings.retention_days,
            settings.noncurrent_days,
            settings.lock_days,
        )
        rotation_days, backup_days, trail_days = settings.rotation_days, settings.backup_days, settings.trail_days
        log_retention = settings.log_retention

        self.allowed_regions = regions
        self.data_retention_days = retention_days
        rotation = Duration.days(rotation_days) if rotation_days is not None else _defaults.KEY_ROTATION_PERIOD
        alias_prefix = key_alias_prefix or f"alias/{Names.unique_id(self)}"
        stack = Stack.of(self)

        # -- keys ----------------------------------------------------------------------------
        path = self.node.path
        admins = key_admins or [iam.AccountRootPrincipal()]
        self.key = _builders.build_key(
            self,
            "DataKey",
            description=f"Personal data of {path}",
            rotation_period=rotation,
            alias=f"{alias_prefix}/data",
            removal_policy=removal_policy,
            policy=data_key_policy(stack, admins),
        )
        self.audit_key = _builders.build_key(
            self,
            "AuditKey",
            description=f"Audit trail and alarms of {path}",
            rotation_period=rotation,
            alias=f"{alias_prefix}/audit",
            removal_policy=removal_policy,
            policy=audit_key_policy(stack, admins),
        )
        _builders.allow_cloudwatch_logs(self.audit_key, self)
        allow_audit_services(self.audit_key, self)

        # -- personal-data bucket ---------------------------------------------------------------
        self.access_log_bucket = _builders.build_access_log_bucket(self, "AccessLogs", removal_policy=removal_policy)
        lifecycle = [
            s3.LifecycleRule(
                id="ExpirePersonalData",
                expiration=Duration.days(retention_days),
                noncurrent_version_expiration=Duration.days(noncurrent_days) if versioned and noncurrent_days else None,
                abort_incomplete_multipart_upload_after=Duration.days(7),
            ),
        ]
        if versioned:
            lifecycle.append(s3.LifecycleRule(id="RemoveExpiredDeleteMarkers", expired_object_delete_marker=True))
        lock_retention = None
        if lock_days is not None:
            days = Duration.days(lock_days)
            lock_retention = (
                s3.ObjectLockRetention.compliance(days)
                if object_lock_mode == s3.ObjectLockMode.COMPLIANCE
                else s3.ObjectLockRetention.governance(days)
            )
        self.bucket = _builders.build_data_bucket(
            self,
            "Bucket",
            encryption_key=self.key,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="personal-data/",
            removal_policy=removal_policy,
            lifecycle_rules=lifecycle,
            versioned=versioned,
            object_lock_enabled=True if lock_days is not None else None,
            object_lock_default_retention=lock_retention,
        )
        deny_other_encryption(self.bucket, self.key)

        # -- table ------------------------------------------------------------------------------
        self.table: dynamodb.Table | None = None
        if table_partition_key is not None:
            self.table = dynamodb.Table(
                self,
                "Table",
                partition_key=table_partition_key,
                sort_key=table_sort_key,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
                encryption_key=self.key,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                deletion_protection=True,
                time_to_live_attribute=table_ttl_attribute,
                removal_policy=removal_policy,
            )
            acknowledge(
                self.table,
                "Point-in-time recovery keeps continuous backups for 35 days under the customer key; an "
                "AWS Backup plan on top is an account-wide choice (vaults, cross-account copies) left to the owner.",
                "HIPAA.Security-DynamoDBInBackupPlan",
                "NIST.800.53.R5-DynamoDBInBackupPlan",
                "PCI.DSS.321-DynamoDBInBackupPlan",
            )

        # -- database ---------------------------------------------------------------------------
        self.database: rds.DatabaseCluster | None = None
        self.database_log_group: logs.LogGroup | None = None
        if database_vpc is not None:
            self.database, self.database_log_group = build_database(
                self,
                vpc=database_vpc,
                subnets=database_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
                security_groups=database_security_groups,
                engine_version=database_engine_version or DEFAULT_ENGINE_VERSION,
                data_key=self.key,
                log_key=self.audit_key,
                backup_retention=Duration.days(backup_days),
                min_capacity=database_min_capacity,
                max_capacity=database_max_capacity,
                readers=database_readers,
                removal_policy=removal_policy,
            )
            flows.forbid_flow(
                self,
                source="0.0.0.0/0",
                destination=self.database,
                port=5432,  # Aurora PostgreSQL's port: the construct keeps the engine default
                reason="personal data: the database is never reachable from the internet",
            )

        # -- audit ------------------------------------------------------------------------------
        self.trail: cloudtrail.Trail | None = None
        self.trail_bucket: s3.Bucket | None = None
        self.trail_log_group: logs.ILogGroup | None = trail_log_group
        if audit_trail:
            self.trail_bucket = _builders.build_data_bucket(
                self,
                "TrailBucket",
                encryption_key=self.audit_key,
                server_access_logs_bucket=self.access_log_bucket,
                server_access_logs_prefix="trail/",
                removal_policy=removal_policy,
                lifecycle_rules=[
                    s3.LifecycleRule(
                        id="ExpireTrailLogs",
                        expiration=Duration.days(trail_days or 365),
                        noncurrent_version_expiration=Duration.days(30),
                        abort_incomplete_multipart_upload_after=Duration.days(7),
                    )
                ],
            )
            log_group = _builders.build_log_group(
                self,
                "TrailLogGroup",
                encryption_key=self.audit_key,
                removal_policy=removal_policy,
                retention=log_retention,
            )
            self.trail_log_group = log_group
            self.trail, self.trail_logs_role = build_trail(
                self, key=self.audit_key, bucket=self.trail_bucket, log_group=log_group, data_bucket=self.bucket
            )

        self.alarm_topic: sns.ITopic | None = alarm_topic
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        if alarms and self.trail_log_group is not None:
            if alarm_topic is None:
                topic = sns.Topic(
                    self,
                    "AlarmTopic",
                    master_key=self.audit_key,
                    enforce_ssl=True,
                    display_name="Personal data store audit alarms",
                )
                for email in alarm_emails:
                    topic.add_subscription(subscriptions.EmailSubscription(email))
                self.alarm_topic = topic
            assert self.alarm_topic is not None
            self.alarms = build_alarms(
                self, log_group=self.trail_log_group, topic=self.alarm_topic, namespace=metric_namespace
            )
        errors = (
            build_error_metrics(
                self, log_group=self.trail_log_group, namespace=metric_namespace, key=self.key, bucket=self.bucket
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

        # -- threat protection --------------------------------------------------------------------
        self.shield_protections = [
            shield.CfnProtection(
                self, f"ShieldProtection{i + 1}", name=f"{Names.unique_id(self)}-{i + 1}", resource_arn=arn
            )
            for i, arn in enumerate(shield_advanced_protected_arns)
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
        """The database's security groups, to allow clients in (``store.connections.allow_default_port_from(x)``)."""
        if self.database is None:
            raise ValueError("EncryptedDataStore: connections exist only with a database (database_vpc).")
        return self.database.connections

    @property
    def audit_alarms(self) -> tuple[AuditAlarm, ...]:
        """The CIS checks behind :attr:`alarms`."""
        return AUDIT_ALARMS if self.alarms else ()

    # -- grants -------------------------------------------------------------------------------

    def grant_read(
        self, grantee: iam.IGrantable, objects_key_pattern: str = "*", database_user: str | None = None
    ) -> iam.Grant:
        """Let ``grantee`` read objects matching ``objects_key_pattern`` (and the table's items),
        and decrypt them with the data key: nothing else.

        The key policy lets key users decrypt only through S3, DynamoDB, RDS and Secrets Manager,
        so the grant cannot be used to decrypt data outside them. With ``database_user``, also
        ``rds-db:connect`` as that database user (IAM authentication; what the user may read is
        the database's own GRANTs).
        """
        # DynamoDB also describes the table key on the caller's behalf.
        return self._grant(
            grantee,
            database_user,
            object_actions=["s3:GetObject", "s3:GetObjectVersion"],
            objects_key_pattern=objects_key_pattern,
            bucket_actions=["s3:ListBucket"],
            key_actions=["kms:Decrypt", "kms:DescribeKey"] if self.table is not None else ["kms:Decrypt"],
            table_actions=[
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:Query",
                "dynamodb:ConditionCheckItem",
                "dynamodb:DescribeTable",
            ],
        )

    def grant_write(
        self, grantee: iam.IGrantable, objects_key_pattern: str = "*", database_user: str | None = None
    ) -> iam.Grant:
        """Let ``grantee`` write and delete objects matching ``objects_key_pattern`` (and the
        table's items), encrypting them with the data key: nothing else. ``database_user`` as for
        :meth:`grant_read`."""
        # Multipart uploads read back the data key (kms:Decrypt) to assemble the parts.
        key_actions = ["kms:GenerateDataKey", "kms:Decrypt"]
        if self.table is not None:  # DynamoDB encrypts items and describes the key on the caller's behalf
            key_actions += ["kms:Encrypt", "kms:DescribeKey"]
        return self._grant(
            grantee,
            database_user,
            object_actions=["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            objects_key_pattern=objects_key_pattern,
            bucket_actions=[],
            key_actions=key_actions,
            table_actions=[
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:DescribeTable",
            ],
        )

    def _grant(
        self,
        grantee: iam.IGrantable,
        database_user: str | None,
        *,
        object_actions: list[str],
        objects_key_pattern: str,
        bucket_actions: list[str],
        key_actions: list[str],
        table_actions: list[str],
    ) -> iam.Grant:
        """One grant over the store's parts: objects under the pattern, the bucket, the data key,
        the table (if any) and ``rds-db:connect`` as ``database_user`` (if given)."""
        self._check_database_user(database_user)
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=object_actions, resource_arns=[self.bucket.arn_for_objects(objects_key_pattern)]
        )
        if bucket_actions:
            grant = grant.combine(
                iam.Grant.add_to_principal(
                    grantee=grantee, actions=bucket_actions, resource_arns=[self.bucket.bucket_arn]
                )
            )
        grant = grant.combine(self.key.grant(grantee, *key_actions))
        if self.table is not None:
            grant = grant.combine(
                iam.Grant.add_to_principal(grantee=grantee, actions=table_actions, resource_arns=[self.table.table_arn])
            )
        return self._grant_connect(grant, grantee, database_user)

    def _check_database_user(self, database_user: str | None) -> None:
        if database_user is not None and self.database is None:
            raise PropValidationError(_OWNER, "database_user", database_user, "It needs a database (database_vpc).")

    def _grant_connect(self, grant: iam.Grant, grantee: iam.IGrantable, database_user: str | None) -> iam.Grant:
        if database_user is None or self.database is None:
            return grant
        return grant.combine(self.database.grant_connect(grantee, database_user))


__all__ = ["KEY_ADMIN_ACTIONS", "KEY_SERVICES", "KEY_USE_ACTIONS", "EncryptedDataStore"]
