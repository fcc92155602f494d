"""One layer's instances: a launch template (IMDSv2, encrypted gp3, SSM, no key pair) and an Auto Scaling
group that scales on CPU and on requests per target, replaced on template change, checked by the ALB."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.constructs import _builders
from refarch.constructs._fleet import build_auto_scaling_group, build_service_role
from refarch.constructs.resilient_web_app.props import Capacity


@dataclass(frozen=True)
class Fleet:
    """The instances of one layer."""

    role: _builders.ManagedPolicyRole
    #: Where the instances send their application logs (the CloudWatch agent writes with ``role``).
    log_group: logs.LogGroup
    security_group: ec2.SecurityGroup
    launch_template: ec2.LaunchTemplate
    auto_scaling_group: autoscaling.AutoScalingGroup


def build_fleet(
    scope: Construct,
    *,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    description: str,
    instance_type: ec2.InstanceType,
    machine_image: ec2.IMachineImage | None,
    user_data: ec2.UserData,
    capacity: Capacity,
    cpu_target_percent: float,
    health_check_grace: Duration,
    notifications_topic: sns.ITopic,
    encryption_key: kms.IKey,
    log_retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
) -> Fleet:
    """PrivateApi's launch template and group (IMDSv2 hop limit 1, encrypted gp3 root, SSM role, no key pair,
    rolling replacement on every template change), with this construct's health-check grace."""
    role = build_service_role(scope, description)
    log_group = _builders.build_log_group(
        scope, "Logs", encryption_key=encryption_key, retention=log_retention, removal_policy=removal_policy
    )
    log_group.grant_write(role)
    security_group = ec2.SecurityGroup(
        scope, "SecurityGroup", vpc=vpc, allow_all_outbound=False, description=description[:255]
    )
    security_group.add_egress_rule(
        ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs (SSM) and package repositories"
    )
    cpu = (
        ec2.AmazonLinuxCpuType.ARM_64
        if instance_type.architecture == ec2.InstanceArchitecture.ARM_64
        else ec2.AmazonLinuxCpuType.X86_64
    )
    launch_template, group = build_auto_scaling_group(
        scope,
        vpc=vpc,
        subnets=subnets,
        security_group=security_group,
        role=role,
        instance_type=instance_type,
        machine_image=machine_image or ec2.MachineImage.latest_amazon_linux2023(cpu_type=cpu),
        user_data=user_data,
        root_volume_size_gib=20,
        min_capacity=capacity.minimum,
        max_capacity=capacity.maximum,
        desired_capacity=capacity.desired,
        cpu_target_percent=cpu_target_percent,
        notifications_topic=notifications_topic,
    )
    cfn_group = group.node.default_child
    assert isinstance(cfn_group, autoscaling.CfnAutoScalingGroup)
    cfn_group.health_check_grace_period = int(health_check_grace.to_seconds())
    return Fleet(
        role=role,
        log_group=log_group,
        security_group=security_group,
        launch_template=launch_template,
        auto_scaling_group=group,
    )


def scale_on_requests(fleet: Fleet, requests_per_target: int) -> None:
    """Second target-tracking policy, on the ALB's requests per target (load shows there before CPU).

    Call it after the group is a target of an ALB listener: the policy names that target group.
    """
    fleet.auto_scaling_group.scale_on_request_count("RequestsPerTarget", target_requests_per_minute=requests_per_target)
