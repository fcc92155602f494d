"""Builders for PrivateApi's service and database tiers, and its alarms (see ``private_api``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders
from refarch.constructs.private_api_checks import ENGINE_LOG_EXPORTS
from refarch.constructs.three_tier_vpc import EPHEMERAL_PORTS, Tier

#: Source of the default service, copied verbatim into the instances' user data.
SERVICE_SOURCE = Path(__file__).resolve().parent.parent / "runtime" / "private_api" / "service.py"


#: Parameters that make the database refuse connections without TLS.
ENGINE_TLS_PARAMETERS = {
    "mysql": {"require_secure_transport": "ON"},
    "postgres": {"rds.force_ssl": "1"},
}


def default_user_data(*, app_port: int, db_host: str, db_port: int) -> ec2.UserData:
    """User data that runs ``refarch/runtime/private_api/service.py`` as a locked-down systemd service."""
    source = SERVICE_SOURCE.read_text()
    unit = "\n".join(
        [
            "[Unit]",
            "Description=refarch PrivateApi default service",
            "After=network-online.target",
            "Wants=network-online.target",
            "[Service]",
            f"Environment=PORT={app_port}",
            f"Environment=DB_HOST={db_host}",
            f"Environment=DB_PORT={db_port}",
            "ExecStart=/usr/bin/python3 /opt/refarch/service.py",
            "DynamicUser=yes",
            "AmbientCapabilities=CAP_NET_BIND_SERVICE",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateTmp=yes",
            "Restart=always",
            "[Install]",
            "WantedBy=multi-user.target",
        ]
    )
    user_data = ec2.UserData.for_linux()
    user_data.add_commands(
        "set -euo pipefail",
        "install -d -m 0755 /opt/refarch",
        f"cat > /opt/refarch/service.py <<'REFARCH_SERVICE'\n{source}REFARCH_SERVICE",
        f"cat > /etc/systemd/system/refarch-service.service <<'REFARCH_UNIT'\n{unit}\nREFARCH_UNIT",
        "systemctl daemon-reload",
        "systemctl enable --now refarch-service",
    )
    return user_data


def build_service_role(scope: Construct, description: str) -> _builders.ManagedPolicyRole:
    """The instances' role: Session Manager, nothing else until the construct grants more."""
    role = _builders.ManagedPolicyRole(
        scope, "InstanceRole", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"), description=description
    )
    role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore"))
    acknowledge(
        role,
        "AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, which replaces SSH "
        "keys and bastions; AWS updates it as the SSM agent's needs change.",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
    )
    return role


def build_auto_scaling_group(
    scope: Construct,
    *,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    security_group: ec2.ISecurityGroup,
    role: iam.IRole,
    instance_type: ec2.InstanceType,
    machine_image: ec2.IMachineImage,
    user_data: ec2.UserData,
    root_volume_size_gib: int,
    min_capacity: int,
    max_capacity: int,
    desired_capacity: int | None,
    cpu_target_percent: float,
    notifications_topic: sns.ITopic | None,
) -> tuple[ec2.LaunchTemplate, autoscaling.AutoScalingGroup]:
    launch_template = ec2.LaunchTemplate(
        scope,
        "LaunchTemplate",
        instance_type=instance_type,
        machine_image=machine_image,
        user_data=user_data,
        role=role,
        security_group=security_group,
        require_imdsv2=True,
        http_put_response_hop_limit=1,
        detailed_monitoring=True,
        ebs_optimized=True,
        block_devices=[
            ec2.BlockDevice(
                device_name="/dev/xvda",
                volume=ec2.BlockDeviceVolume.ebs(
                    root_volume_size_gib,
                    encrypted=True,
                    volume_type=ec2.EbsDeviceVolumeType.GP3,
                    delete_on_termination=True,
                ),
            )
        ],
    )
    group = autoscaling.AutoScalingGroup(
        scope,
        "AutoScalingGroup",
        vpc=vpc,
        vpc_subnets=subnets,
        launch_template=launch_template,
        min_capacity=min_capacity,
        max_capacity=max_capacity,
        desired_capacity=desired_capacity,
        health_checks=autoscaling.HealthChecks.with_additional_checks(
            additional_types=[autoscaling.AdditionalHealthCheckType.ELB], grace_period=Duration.minutes(5)
        ),
        cooldown=Duration.minutes(5),
        default_instance_warmup=Duration.minutes(3),
        group_metrics=[autoscaling.GroupMetrics.all()],
        update_policy=autoscaling.UpdatePolicy.rolling_update(),
        notifications=[autoscaling.NotificationConfiguration(topic=notifications_topic)]
        if notifications_topic is not None
        else None,
    )
    group.scale_on_cpu_utilization("CpuTarget", target_utilization_percent=cpu_target_percent)
    return launch_template, group


def build_database(
    scope: Construct,
    *,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    security_group: ec2.ISecurityGroup,
    engine: rds.IInstanceEngine,
    engine_family: str,
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
        ),
        option_group=option_group,
        removal_policy=removal_policy,
    )
    for log_group in log_groups:
        database.node.add_dependency(log_group)
    acknowledge_monitoring_role(database)
    return database


def acknowledge_monitoring_role(database: Construct) -> None:
    """The enhanced-monitoring role RDS and Aurora create use the AWS managed policy made for them."""
    monitoring_role = database.node.try_find_child("MonitoringRole")
    if monitoring_role is not None:
        acknowledge(
            monitoring_role,
            "AmazonRDSEnhancedMonitoringRole is the AWS-maintained policy RDS enhanced monitoring requires "
            "to publish OS metrics to CloudWatch Logs; it grants nothing else.",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
        )


def build_alarm(
    scope: Construct,
    id: str,
    *,
    metric: cloudwatch.IMetric,
    threshold: float,
    comparison: cloudwatch.ComparisonOperator,
    description: str,
    evaluation_periods: int = 3,
    treat_missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.MISSING,
) -> cloudwatch.Alarm:
    return cloudwatch.Alarm(
        scope,
        id,
        metric=metric,
        threshold=threshold,
        comparison_operator=comparison,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=evaluation_periods,
        alarm_description=description,
        treat_missing_data=treat_missing_data,
    )


def open_service_tier(tier: Tier, cidrs: Sequence[str], *, app_port: int, listener_port: int) -> None:
    """Open a ThreeTierVpc tier's network ACL to the NLB's traffic; the tier numbers the entries.

    The NLB's nodes live in the service subnets too, so a node in one AZ reaching an instance in
    another (cross-zone) crosses the ACL both ways: app port in and out, ephemeral answers out.
    Traffic a VPC Link delivers arrives over PrivateLink with the NLB's own private addresses as
    source (the ELB documentation: targets see PrivateLink traffic from the load balancer's private
    IP addresses), so the listener port is admitted from the service subnets as well.
    """
    ephemeral = ec2.AclTraffic.tcp_port_range(*EPHEMERAL_PORTS)
    for cidr in cidrs:
        tier.allow_inbound(cidr, ec2.AclTraffic.tcp_port(app_port))
        tier.allow_outbound(cidr, ec2.AclTraffic.tcp_port(app_port))
        tier.allow_outbound(cidr, ephemeral)
    for cidr in cidrs:
        tier.allow_inbound(cidr, ec2.AclTraffic.tcp_port(listener_port))


def pin_rotation_port(database_security_group: ec2.SecurityGroup, port: int) -> None:
    """Write the concrete database port into the rotation function's ingress rule.

    ``add_rotation_single_user`` opens the database's default port, which DatabaseInstance
    knows only as a token (its endpoint's port attribute); the port is known here, and with it
    the rule reads as what it is (one port, from one security group) to reviewers and checks.
    """
    for child in database_security_group.node.children:
        if isinstance(child, ec2.CfnSecurityGroupIngress) and "RotationSingleUser" in child.node.id:
            child.from_port = port
            child.to_port = port
            child.description = "Secret rotation function to the database"


_AlarmSpec = tuple[str, cloudwatch.IMetric, float, cloudwatch.ComparisonOperator, str, cloudwatch.TreatMissingData]


def build_alarms(
    scope: Construct,
    *,
    owner_path: str,
    api: apigw.RestApi,
    target_group: elbv2.NetworkTargetGroup,
    auto_scaling_group: autoscaling.AutoScalingGroup,
    database: rds.DatabaseInstance,
    min_capacity: int,
    api_5xx_rate: float,
    api_p99_latency: Duration,
    db_cpu_percent: float,
    db_free_storage_gib: float,
    db_connections: int,
) -> dict[str, cloudwatch.Alarm]:
    """The alarms of a PrivateApi, by name."""
    gt = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
    lt = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
    quiet = cloudwatch.TreatMissingData.NOT_BREACHING
    five = Duration.minutes(5)
    in_service = cloudwatch.Metric(
        namespace="AWS/AutoScaling",
        metric_name="GroupInServiceInstances",
        dimensions_map={"AutoScalingGroupName": auto_scaling_group.auto_scaling_group_name},
        statistic="Minimum",
        period=Duration.minutes(1),
    )
    specs: list[
        tuple[str, cloudwatch.IMetric, float, cloudwatch.ComparisonOperator, str, cloudwatch.TreatMissingData]
    ] = [
        (
            "Api5xxRate",
            api.metric_server_error(statistic="Average", period=five),
            api_5xx_rate,
            gt,
            f"More than {api_5xx_rate:.1%} of API requests answered 5XX",
            quiet,
        ),
        (
            "ApiLatencyP99",
            api.metric_latency(statistic="p99", period=five),
            api_p99_latency.to_milliseconds(),
            gt,
            f"API p99 latency above {api_p99_latency.to_human_string()}",
            quiet,
        ),
        (
            "UnhealthyHosts",
            target_group.metrics.un_healthy_host_count(statistic="Maximum", period=Duration.minutes(1)),
            0,
            gt,
            "The NLB sees unhealthy service instances",
            cloudwatch.TreatMissingData.MISSING,
        ),
        (
            "InServiceBelowMinimum",
            in_service,
            min_capacity,
            lt,
            f"Fewer than {min_capacity} service instances in service",
            cloudwatch.TreatMissingData.BREACHING,
        ),
        (
            "DatabaseCpu",
            database.metric_cpu_utilization(period=five),
            db_cpu_percent,
            gt,
            f"Database CPU above {db_cpu_percent}%",
            cloudwatch.TreatMissingData.MISSING,
        ),
        (
            "DatabaseFreeStorage",
            database.metric_free_storage_space(statistic="Minimum", period=five),
            db_free_storage_gib * 1024**3,
            lt,
            f"Database free storage below {db_free_storage_gib} GiB",
            cloudwatch.TreatMissingData.MISSING,
        ),
        (
            "DatabaseConnections",
            database.metric_database_connections(statistic="Maximum", period=five),
            db_connections,
            gt,
            f"More than {db_connections} database connections",
            cloudwatch.TreatMissingData.MISSING,
        ),
    ]
    return {
        name: build_alarm(
            scope,
            f"{name}Alarm",
            metric=metric,
            threshold=threshold,
            comparison=comparison,
            description=f"{description} ({owner_path})",
            treat_missing_data=missing,
        )
        for name, metric, threshold, comparison, description, missing in specs
    }
