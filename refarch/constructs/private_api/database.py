"""PrivateApi's database tier: RDS MySQL or PostgreSQL in isolated subnets, TLS only, IAM authentication,
its exported logs encrypted, its secret rotated from the service subnets."""

from __future__ import annotations

import re

from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders
from refarch.constructs._rds import acknowledge_monitoring_role, pin_rotation_port
from refarch.constructs.private_api.network import Placement
from refarch.constructs.private_api.props import ENGINE_LOG_EXPORTS, PrivateApiProps

#: Parameters that make the database refuse connections without TLS.
ENGINE_TLS_PARAMETERS = {
    "mysql": {"require_secure_transport": "ON"},
    "postgres": {"rds.force_ssl": "1"},
}


def build_database_tier(
    scope: Construct,
    p: PrivateApiProps,
    *,
    placement: Placement,
    security_group: ec2.SecurityGroup,
    port: int,
    encryption_key: kms.IKey,
) -> tuple[rds.DatabaseInstance, secretsmanager.SecretRotation]:
    """The database and the rotation of its master secret (the rotation function runs beside the service)."""
    database = build_database(
        scope,
        vpc=placement.vpc,
        subnets=placement.database_subnets,
        security_group=security_group,
        engine=p["engine"],
        instance_type=p["database_instance_type"],
        port=port,
        database_name=p["database_name"],
        allocated_storage_gib=p["allocated_storage_gib"],
        max_allocated_storage_gib=p["max_allocated_storage_gib"],
        multi_az=p["multi_az"],
        backup_retention=p["backup_retention"],
        deletion_protection=p["deletion_protection"],
        monitoring_interval=p["monitoring_interval"],
        encryption_key=encryption_key,
        log_retention=p["log_retention"],
        removal_policy=p["removal_policy"],
    )
    rotation = database.add_rotation_single_user(
        automatically_after=p["secret_rotation_interval"], vpc_subnets=placement.vpc_subnets
    )
    pin_rotation_port(security_group, port)
    acknowledge(
        database,
        "The database keeps its engine's standard port: only the service security group (and the secret "
        "rotation function) can reach it, from the app subnets; pass database_port to change it.",
        "AwsSolutions-RDS11",
    )
    acknowledge(
        database,
        "Automated backups with point-in-time recovery are on (backup_retention); an AWS Backup plan is an "
        "account-level policy (vaults, copies, retention across services) the account owner defines.",
        "HIPAA.Security-RDSInBackupPlan",
        "NIST.800.53.R5-RDSInBackupPlan",
        "PCI.DSS.321-RDSInBackupPlan",
    )
    return database, rotation


def build_database(
    scope: Construct,
    *,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    security_group: ec2.ISecurityGroup,
    engine: rds.IInstanceEngine,
    instance_type: ec2.InstanceType,
    port: int,
    database_name: str,
    allocated_storage_gib: int,
    max_allocated_storage_gib: int,
    multi_az: bool,
    backup_retention: Duration,
    deletion_protection: bool,
    monitoring_interval: Duration,
    encryption_key: kms.IKey,
    log_retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
) -> rds.DatabaseInstance:
    """The RDS instance, with its exported-log groups created first (encrypted, finite retention)."""
    # A known identifier lets the log groups exist, encrypted and with retention, before RDS
    # starts exporting to them (otherwise RDS creates them: unencrypted, kept forever). It ends
    # with a suffix unique to the stack's creation: the instance and its log groups are retained,
    # and a fixed name would make the next create of the stack fail ("already exists").
    # RDS identifiers: lowercase letters, digits and single hyphens, starting with a letter, at most 63.
    base = re.sub(
        r"-{2,}",
        "-",
        re.sub(r"[^a-z0-9-]", "-", Names.unique_resource_name(scope, max_length=48, separator="-").lower()),
    )
    prefix = ("db-" if not base[:1].isalpha() else "") + base.strip("-")
    identifier = f"{prefix}-{_builders.stack_unique_suffix(scope)}-db"
    engine_family = engine.engine_type
    log_types = ENGINE_LOG_EXPORTS[engine_family]
    log_groups = [
        _builders.build_log_group(
            scope,
            f"DatabaseLog{''.join(p.capitalize() for p in log_type.split('-'))}",
            log_group_name=f"/aws/rds/instance/{identifier}/{log_type}",
            encryption_key=encryption_key,
            retention=log_retention,
            removal_policy=removal_policy,
        )
        for log_type in log_types
    ]
    option_group = None
    if engine_family == "mysql":
        option_group = rds.OptionGroup(
            scope,
            "DatabaseOptions",
            engine=engine,
            description="MariaDB audit plugin, for the exported audit log",
            configurations=[rds.OptionConfiguration(name="MARIADB_AUDIT_PLUGIN")],
        )
        # Kept with the instance that uses it (as the parameter group below): CloudFormation cannot
        # delete a group a retained instance still uses.
        option_group.apply_removal_policy(removal_policy)
    database = rds.DatabaseInstance(
        scope,
        "Database",
        engine=engine,
        instance_type=instance_type,
        instance_identifier=identifier,
        vpc=vpc,
        vpc_subnets=subnets,
        security_groups=[security_group],
        port=port,
        database_name=database_name,
        credentials=rds.Credentials.from_generated_secret("dbadmin", encryption_key=encryption_key),
        storage_encrypted=True,
        storage_encryption_key=encryption_key,
        storage_type=rds.StorageType.GP3,
        allocated_storage=allocated_storage_gib,
        max_allocated_storage=max_allocated_storage_gib,
        multi_az=multi_az,
        iam_authentication=True,
        publicly_accessible=False,
        deletion_protection=deletion_protection,
        backup_retention=backup_retention,
        delete_automated_backups=False,
        copy_tags_to_snapshot=True,
        auto_minor_version_upgrade=True,
        enable_performance_insights=True,
        performance_insight_encryption_key=encryption_key,
        monitoring_interval=monitoring_interval,
        cloudwatch_logs_exports=list(log_types),
        parameter_group=rds.ParameterGroup(
            scope,
            "DatabaseParameters",
            engine=engine,
            description="Refuse connections without TLS",
            parameters=ENGINE_TLS_PARAMETERS[engine_family],
            removal_policy=removal_policy,
        ),
        option_group=option_group,
        removal_policy=removal_policy,
    )
    for log_group in log_groups:
        database.node.add_dependency(log_group)
    acknowledge_monitoring_role(database)
    return database
