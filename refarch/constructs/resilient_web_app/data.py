"""The data layer: Aurora (a writer and readers in different AZs) or a DynamoDB table with PITR."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders
from refarch.constructs._rds import acknowledge_monitoring_role
from refarch.constructs.resilient_web_app.props import DataLayer

#: Pinned engine versions (cfn-lint rejects major-only versions).
AURORA_ENGINES = {
    DataLayer.AURORA_POSTGRESQL: rds.DatabaseClusterEngine.aurora_postgres(
        version=rds.AuroraPostgresEngineVersion.VER_17_5
    ),
    DataLayer.AURORA_MYSQL: rds.DatabaseClusterEngine.aurora_mysql(version=rds.AuroraMysqlEngineVersion.VER_3_10_0),
}

#: Logs each engine exports to CloudWatch Logs, and the cluster parameters that refuse plain-text
#: connections (and, for MySQL, turn the audit log on).
AURORA_LOG_EXPORTS = {
    DataLayer.AURORA_POSTGRESQL: ("postgresql",),
    DataLayer.AURORA_MYSQL: ("audit", "error", "general", "slowquery"),
}
AURORA_PARAMETERS = {
    DataLayer.AURORA_POSTGRESQL: {"rds.force_ssl": "1"},
    DataLayer.AURORA_MYSQL: {"require_secure_transport": "ON", "server_audit_logging": "1"},
}


def build_aurora(
    scope: Construct,
    *,
    layer: DataLayer,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    availability_zones: Sequence[str],
    security_group: ec2.ISecurityGroup,
    port: int,
    instance_type: ec2.InstanceType,
    reader_count: int,
    backup_retention: Duration,
    deletion_protection: bool,
    encryption_key: kms.IKey,
    log_retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
    global_database: bool = False,
    secondary_of: str | None = None,
) -> rds.DatabaseCluster:
    """Writer in the first AZ, reader ``i`` in AZ ``i + 1`` (round robin): a failover promotes a reader in
    another AZ. Its log groups exist before the cluster (encrypted, finite retention), named after a cluster
    identifier that ends with a suffix unique to the stack's creation (no fixed names on retained data).

    ``global_database``: the cluster belongs to an Aurora Global Database (no backtracking). ``secondary_of``:
    the identifier of the global database this cluster joins as a secondary (see :func:`join_global_cluster`)."""
    base = re.sub(
        r"-{2,}",
        "-",
        re.sub(r"[^a-z0-9-]", "-", Names.unique_resource_name(scope, max_length=40, separator="-").lower()),
    ).strip("-")
    identifier = f"{'db-' if not base[:1].isalpha() else ''}{base}-{_builders.stack_unique_suffix(scope)}"
    log_groups = [
        _builders.build_log_group(
            scope,
            f"Log{log_type.capitalize()}",
            log_group_name=f"/aws/rds/cluster/{identifier}/{log_type}",
            encryption_key=encryption_key,
            retention=log_retention,
            removal_policy=removal_policy,
        )
        for log_type in AURORA_LOG_EXPORTS[layer]
    ]
    engine = AURORA_ENGINES[layer]
    # Retained with the cluster: RDS refuses to delete a parameter group a cluster still uses.
    parameter_group = rds.ParameterGroup(
        scope,
        "Parameters",
        engine=engine,
        description="Refuse connections without TLS",
        parameters=AURORA_PARAMETERS[layer],
        removal_policy=removal_policy,
    )

    def instance(id: str, az: str) -> rds.IClusterInstance:
        return rds.ClusterInstance.provisioned(
            id,
            instance_type=instance_type,
            availability_zone=az,
            enable_performance_insights=True,
            performance_insight_encryption_key=encryption_key,
            auto_minor_version_upgrade=True,
            publicly_accessible=False,
        )

    cluster = rds.DatabaseCluster(
        scope,
        "Cluster",
        engine=engine,
        cluster_identifier=identifier,
        writer=instance("Writer", availability_zones[0]),
        readers=[
            instance(f"Reader{i + 1}", availability_zones[(i + 1) % len(availability_zones)])
            for i in range(reader_count)
        ],
        vpc=vpc,
        vpc_subnets=subnets,
        security_groups=[security_group],
        port=port,
        # A secondary has no user, password or database of its own: they are the primary's.
        default_database_name="app" if secondary_of is None else None,
        credentials=rds.Credentials.from_generated_secret("dbadmin", encryption_key=encryption_key)
        if secondary_of is None
        else None,
        manage_master_user_password=secondary_of is not None,
        storage_encrypted=True,
        storage_encryption_key=encryption_key,
        iam_authentication=True,
        deletion_protection=deletion_protection,
        backup=rds.BackupProps(retention=backup_retention),
        copy_tags_to_snapshot=True,
        # Aurora MySQL can rewind the cluster in place (minutes, no restore) after a bad write.
        # Not in a global database, which does not support Backtrack.
        backtrack_window=Duration.hours(24) if layer is DataLayer.AURORA_MYSQL and not global_database else None,
        cloudwatch_logs_exports=list(AURORA_LOG_EXPORTS[layer]),
        monitoring_interval=Duration.seconds(60),
        parameter_group=parameter_group,
        removal_policy=removal_policy,
    )
    for log_group in log_groups:
        cluster.node.add_dependency(log_group)
    if secondary_of is not None:
        join_global_cluster(cluster, secondary_of)
    if layer is DataLayer.AURORA_MYSQL and global_database:
        acknowledge(
            cluster,
            "Aurora Global Database does not support Backtrack (AWS Prescriptive Guidance, 'Aurora global "
            "databases'); point-in-time recovery from the automated backups (backup_retention) remains.",
            "AwsSolutions-RDS14",
        )
    acknowledge_monitoring_role(cluster)
    acknowledge(
        cluster,
        "The cluster keeps its engine's standard port: only the back group's security group (and the secret "
        "rotation function) can reach it, from the app tier; pass database_port to change it.",
        "AwsSolutions-RDS11",
    )
    acknowledge(
        cluster,
        "Automated backups with point-in-time recovery are on (backup_retention); an AWS Backup plan is an "
        "account-level policy the account owner defines across services.",
        "HIPAA.Security-RDSInBackupPlan",
        "NIST.800.53.R5-RDSInBackupPlan",
        "PCI.DSS.321-RDSInBackupPlan",
    )
    return cluster


def build_global_cluster(
    scope: Construct, cluster: rds.DatabaseCluster, *, deletion_protection: bool, removal_policy: RemovalPolicy
) -> rds.CfnGlobalCluster:
    """An Aurora Global Database whose primary is ``cluster``: engine, version and storage encryption come
    from it (CloudFormation refuses them beside a source cluster); CloudFormation names it (no fixed name on
    a retained resource); retained and deletion-protected like the data."""
    global_cluster = rds.CfnGlobalCluster(
        scope,
        "GlobalCluster",
        source_db_cluster_identifier=cluster.cluster_identifier,
        deletion_protection=deletion_protection,
    )
    global_cluster.apply_removal_policy(removal_policy)
    return global_cluster


def join_global_cluster(cluster: rds.DatabaseCluster, global_cluster_identifier: str) -> None:
    """Make ``cluster`` a secondary of the global database: aws-cdk-lib has no L2 for it, so the L1 is set
    here. RDS refuses a user name or password for a cross-region secondary (aws-cdk issue 29880: "Invalid
    master password"): the cluster was built with a managed password so that the L2 made no secret, and
    the user and password properties are removed. Its instances are readers until a failover promotes one;
    writes sent to them are forwarded to the primary (global write forwarding: Aurora MySQL 2.08.1 and
    higher, Aurora PostgreSQL 16 and higher, so both pinned engines)."""
    cfn = cluster.node.default_child
    assert isinstance(cfn, rds.CfnDBCluster)
    cfn.global_cluster_identifier = global_cluster_identifier
    cfn.master_username = None
    cfn.manage_master_user_password = None
    cfn.master_user_secret = None
    cfn.enable_global_write_forwarding = True


#: What Table.grant_read_write_data grants on the table's customer key (aws-cdk-lib's KEY_READ_WRITE_ACTIONS).
TABLE_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")


def build_table(
    scope: Construct, *, encryption_key: kms.IKey, deletion_protection: bool, removal_policy: RemovalPolicy
) -> dynamodb.Table:
    """A table keyed by ``pk``/``sk`` with point-in-time recovery, a customer key and on-demand capacity."""
    # Table, not TableV2: TableV2 cannot render a customer key in an environment-agnostic stack.
    table = dynamodb.Table(
        scope,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=encryption_key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=deletion_protection,
        removal_policy=removal_policy,
    )
    acknowledge(
        table,
        "Point-in-time recovery is on (35 days of continuous backups); an AWS Backup plan is an account-level "
        "policy the account owner defines across services.",
        "HIPAA.Security-DynamoDBInBackupPlan",
        "NIST.800.53.R5-DynamoDBInBackupPlan",
        "PCI.DSS.321-DynamoDBInBackupPlan",
    )
    return table
