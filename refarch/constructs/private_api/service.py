"""PrivateApi's service tier: EC2 instances in an Auto Scaling group behind an internal NLB, reached
only through the VPC Link; the instances reach the database with IAM authentication."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs._fleet import build_auto_scaling_group, build_service_role, default_user_data
from refarch.constructs.private_api.network import Placement
from refarch.constructs.private_api.props import PrivateApiProps
from refarch.iam import ManagedPolicyRole


@dataclass(frozen=True)
class ServiceTier:
    """The instances of a PrivateApi and the internal NLB in front of them."""

    instance_role: ManagedPolicyRole
    user_data: ec2.UserData
    launch_template: ec2.LaunchTemplate
    auto_scaling_group: autoscaling.AutoScalingGroup
    load_balancer: elbv2.NetworkLoadBalancer
    listener: elbv2.NetworkListener
    target_group: elbv2.NetworkTargetGroup


def build_service_tier(
    scope: Construct,
    p: PrivateApiProps,
    *,
    placement: Placement,
    service_security_group: ec2.ISecurityGroup,
    load_balancer_security_group: ec2.ISecurityGroup,
    database: rds.DatabaseInstance,
    database_port: int,
    notifications_topic: sns.ITopic,
    description: str,
) -> ServiceTier:
    """Role (Session Manager and ``rds-db:connect`` as ``database_iam_user``), instances, then the NLB."""
    role = build_service_role(scope, description)
    database.grant_connect(role, p["database_iam_user"])
    instance_type = p["instance_type"]
    cpu = (
        ec2.AmazonLinuxCpuType.ARM_64
        if instance_type.architecture == ec2.InstanceArchitecture.ARM_64
        else ec2.AmazonLinuxCpuType.X86_64
    )
    user_data = p["user_data"] or default_user_data(
        app_port=p["app_port"], db_host=database.db_instance_endpoint_address, db_port=database_port
    )
    launch_template, group = build_auto_scaling_group(
        scope,
        vpc=placement.vpc,
        subnets=placement.vpc_subnets,
        security_group=service_security_group,
        role=role,
        instance_type=instance_type,
        machine_image=p["machine_image"] or ec2.MachineImage.latest_amazon_linux2023(cpu_type=cpu),
        user_data=user_data,
        root_volume_size_gib=p["root_volume_size_gib"],
        min_capacity=p["min_capacity"],
        max_capacity=p["max_capacity"],
        desired_capacity=p["desired_capacity"],
        cpu_target_percent=p["cpu_target_percent"],
        notifications_topic=notifications_topic,
    )
    load_balancer, listener, target_group = build_load_balancer(
        scope, p, placement=placement, security_group=load_balancer_security_group, targets=group
    )
    return ServiceTier(
        instance_role=role,
        user_data=user_data,
        launch_template=launch_template,
        auto_scaling_group=group,
        load_balancer=load_balancer,
        listener=listener,
        target_group=target_group,
    )


def build_load_balancer(
    scope: Construct,
    p: PrivateApiProps,
    *,
    placement: Placement,
    security_group: ec2.ISecurityGroup,
    targets: autoscaling.AutoScalingGroup,
) -> tuple[elbv2.NetworkLoadBalancer, elbv2.NetworkListener, elbv2.NetworkTargetGroup]:
    """An internal NLB across the service subnets: a TCP listener, HTTP health checks on the app port."""
    load_balancer = elbv2.NetworkLoadBalancer(
        scope,
        "LoadBalancer",
        vpc=placement.vpc,
        vpc_subnets=placement.vpc_subnets,
        internet_facing=False,
        cross_zone_enabled=True,
        security_groups=[security_group],
        # VPC Link traffic arrives over PrivateLink: admit it without opening any inbound rule.
        enforce_security_group_inbound_rules_on_private_link_traffic=False,
        # Not protected: the stack deletes the NLB (it holds no data and is rebuilt from the template),
        # and deletion protection would make every stack delete fail on it.
        deletion_protection=False,
    )
    acknowledge(
        load_balancer,
        "NLB access logs are written only for TLS listeners; this listener carries TCP from the VPC Link, "
        "and each request is logged in the API stage's access log and the VPC flow logs instead.",
        "AwsSolutions-ELB2",
        "HIPAA.Security-ELBLoggingEnabled",
        "NIST.800.53.R5-ELBLoggingEnabled",
        "PCI.DSS.321-ELBLoggingEnabled",
    )
    acknowledge(
        load_balancer,
        "The NLB holds no data: the stack deletes it and a redeploy rebuilds it from the template. Deletion "
        "protection on it would make every stack delete and creation rollback fail; the database behind it "
        "is the resource that is protected and retained.",
        "HIPAA.Security-ELBDeletionProtectionEnabled",
        "NIST.800.53.R5-ELBDeletionProtectionEnabled",
    )
    listener = load_balancer.add_listener("Listener", port=p["listener_port"], protocol=elbv2.Protocol.TCP)
    acknowledge(
        listener,
        "Client TLS terminates at API Gateway; this internal listener receives only VPC Link traffic, "
        "carried over AWS PrivateLink and never the internet. A TLS listener needs a certificate for a "
        "domain the user owns.",
        "HIPAA.Security-ELBv2ACMCertificateRequired",
        "NIST.800.53.R5-ELBv2ACMCertificateRequired",
        "PCI.DSS.321-ELBv2ACMCertificateRequired",
    )
    target_group = listener.add_targets(
        "Service",
        port=p["app_port"],
        protocol=elbv2.Protocol.TCP,
        targets=[targets],
        deregistration_delay=Duration.seconds(30),
        health_check=elbv2.HealthCheck(
            protocol=elbv2.Protocol.HTTP,
            path=p["health_check_path"],
            interval=Duration.seconds(10),
            healthy_threshold_count=3,
            unhealthy_threshold_count=3,
        ),
    )
    return load_balancer, listener, target_group
