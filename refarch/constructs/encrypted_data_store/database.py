"""The relational option of :class:`~refarch.constructs.EncryptedDataStore`: an Aurora PostgreSQL
Serverless v2 cluster under the data key, TLS-only, IAM authentication, deletion protection."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders
from refarch.constructs.encrypted_data_store.props import AURORA_POSTGRES_PORT
from refarch.contracts import flows

#: Server parameters: TLS for every connection, and connections recorded in the audit log.
DATABASE_PARAMETERS = {
    "rds.force_ssl": "1",
    "log_connections": "1",
    "log_disconnections": "1",
}


def build_database(
    scope: Construct,
    *,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    security_groups: Sequence[ec2.ISecurityGroup] | None,
    engine_version: rds.AuroraPostgresEngineVersion,
    data_key: kms.IKey,
    log_key: kms.IKey,
    backup_retention: Duration,
    min_capacity: float,
    max_capacity: float,
    readers: int,
    log_retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
) -> tuple[rds.DatabaseCluster, logs.LogGroup]:
    """An Aurora PostgreSQL cluster: storage, Performance Insights and the RDS-managed master
    secret under ``data_key``; its PostgreSQL log in a log group of ours (encrypted with
    ``log_key``, finite retention) created before the cluster, so RDS does not create an
    unencrypted one that keeps logs forever."""
    engine = rds.DatabaseClusterEngine.aurora_postgres(version=engine_version)
    parameter_group = rds.ParameterGroup(
        scope,
        "DatabaseParameters",
        engine=engine,
        description="TLS only; connections logged",
        parameters=DATABASE_PARAMETERS,
        # Kept with the cluster that uses it: CloudFormation cannot delete a group a cluster still uses.
        removal_policy=removal_policy,
    )
    # A known identifier lets the log group exist (with our key and retention) before the
    # cluster first writes to it. It ends with a suffix unique to the stack's creation: cluster
    # and log group are retained, and a fixed name would make the next create of the stack fail.
    base = Names.unique_resource_name(scope, max_length=48, separator="-").lower()
    identifier = f"{base}-{_builders.stack_unique_suffix(scope)}-db"
    log_group = _builders.build_log_group(
        scope,
        "DatabaseLogGroup",
        log_group_name=f"/aws/rds/cluster/{identifier}/postgresql",
        encryption_key=log_key,
        retention=log_retention,
        removal_policy=removal_policy,
    )
    instance_options = {
        "enable_performance_insights": True,
        "performance_insight_encryption_key": data_key,
        "auto_minor_version_upgrade": True,
        "publicly_accessible": False,
    }
    monitoring_role = iam.Role(
        scope,
        "DatabaseMonitoringRole",
        assumed_by=iam.ServicePrincipal("monitoring.rds.amazonaws.com"),
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonRDSEnhancedMonitoringRole")
        ],
        description="RDS enhanced monitoring of the personal-data cluster",
    )
    acknowledge(
        monitoring_role,
        "AmazonRDSEnhancedMonitoringRole is the AWS-maintained policy RDS enhanced monitoring requires; it only "
        "lets RDS write OS metrics to the RDSOSMetrics log group.",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
    )
    cluster = rds.DatabaseCluster(
        scope,
        "Database",
        engine=engine,
        cluster_identifier=identifier,
        parameter_group=parameter_group,
        writer=rds.ClusterInstance.serverless_v2("Writer", **instance_options),  # type: ignore[arg-type]
        readers=[
            rds.ClusterInstance.serverless_v2(f"Reader{i + 1}", scale_with_writer=True, **instance_options)  # type: ignore[arg-type]
            for i in range(readers)
        ],
        serverless_v2_min_capacity=min_capacity,
        serverless_v2_max_capacity=max_capacity,
        vpc=vpc,
        vpc_subnets=subnets,
        security_groups=list(security_groups) if security_groups else None,
        storage_encrypted=True,
        storage_encryption_key=data_key,
        iam_authentication=True,
        deletion_protection=True,
        manage_master_user_password=True,
        credentials=rds.Credentials.from_username("dbadmin", encryption_key=data_key),
        backup=rds.BackupProps(retention=backup_retention),
        cloudwatch_logs_exports=["postgresql"],
        monitoring_interval=Duration.seconds(60),
        monitoring_role=monitoring_role,
        copy_tags_to_snapshot=True,
        removal_policy=removal_policy,
    )
    cluster.node.add_dependency(log_group)
    acknowledge(
        cluster,
        "Aurora keeps continuous automated backups (point-in-time restore over the backup retention) under "
        "the data key; an AWS Backup plan on top is an account-wide choice (vaults, copies) left to the owner.",
        "HIPAA.Security-RDSInBackupPlan",
        "NIST.800.53.R5-RDSInBackupPlan",
    )
    flows.forbid_flow(
        scope,
        source="0.0.0.0/0",
        destination=cluster,
        port=AURORA_POSTGRES_PORT,  # the cluster keeps the engine's default port
        reason="personal data: the database is never reachable from the internet",
    )
    return cluster, log_group
