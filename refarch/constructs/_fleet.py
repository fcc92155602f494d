"""Instances behind a load balancer, as PrivateApi and ResilientWebApp run them: the instance role (Session
Manager, no SSH), the launch template (IMDSv2, encrypted gp3 root) and the Auto Scaling group (ELB health
checks, rolling replacement, CPU target tracking), and the default service their user data installs.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.iam import ManagedPolicyRole

#: Source of the default service, copied verbatim into the instances' user data.
SERVICE_SOURCE = Path(__file__).resolve().parents[1] / "runtime" / "private_api" / "service.py"


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


def build_service_role(scope: Construct, description: str) -> ManagedPolicyRole:
    """The instances' role: Session Manager, nothing else until the construct grants more."""
    role = ManagedPolicyRole(
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
    """The launch template (IMDSv2 with hop limit 1, encrypted gp3 root, no key pair) and the group that runs it:
    ELB health checks, rolling replacement on every template change, target tracking on CPU; with
    ``notifications_topic``, all its scaling events (launches, terminations, their errors) go there."""
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
