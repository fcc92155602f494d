"""Where PrivateApi's tiers live in the network, the security groups that chain them, and the flows
they declare: VPC Link -> NLB -> service -> database, nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from refarch.constructs._network_checks import ivpc_of, network_of, tier_subnets
from refarch.constructs.three_tier_vpc import EPHEMERAL_PORTS, ThreeTierVpc, Tier
from refarch.contracts import flows

_OWNER = "PrivateApi"


@dataclass(frozen=True)
class Placement:
    """The network of a PrivateApi and the subnets of its tiers."""

    #: The ThreeTierVpc the API lives in, or None for any other VPC.
    network: ThreeTierVpc | None
    vpc: ec2.IVpc
    vpc_subnets: ec2.SubnetSelection
    database_subnets: ec2.SubnetSelection
    #: The subnets ``vpc_subnets`` picks: the NLB's nodes and the instances are in them.
    service_subnets: Sequence[ec2.ISubnet]
    #: The subnets ``database_subnets`` picks.
    db_subnets: Sequence[ec2.ISubnet]


def place(
    vpc: ec2.IVpc | ThreeTierVpc,
    vpc_subnets: ec2.SubnetSelection | None,
    database_subnets: ec2.SubnetSelection | None,
) -> Placement:
    """The tiers' subnets in ``vpc``: a ThreeTierVpc's App and Db tiers (its ``vpc`` counts as the
    ThreeTierVpc: its tiers and network ACLs still apply), else the private subnets with egress and
    the isolated subnets. Raises PropValidationError when a selection picks no subnet."""
    service = tier_subnets(_OWNER, vpc, "app", prop="vpc_subnets", given=vpc_subnets)
    database = tier_subnets(_OWNER, vpc, "db", prop="database_subnets", given=database_subnets)
    return Placement(
        network=network_of(vpc),
        vpc=ivpc_of(vpc),
        vpc_subnets=service.selection,
        database_subnets=database.selection,
        service_subnets=service.subnets,
        db_subnets=database.subnets,
    )


@dataclass(frozen=True)
class SecurityGroups:
    """The three security groups of a PrivateApi, each admitting only the tier in front of it."""

    load_balancer: ec2.SecurityGroup
    service: ec2.SecurityGroup
    database: ec2.SecurityGroup


def build_security_groups(scope: Construct, placement: Placement, *, app_port: int, db_port: int) -> SecurityGroups:
    """The security groups of each hop, VPC Link -> NLB -> service -> database (a ThreeTierVpc's App tier
    ACL is opened to the NLB's traffic by :func:`open_service_tier`)."""
    vpc = placement.vpc
    load_balancer = ec2.SecurityGroup(
        scope,
        "LoadBalancerSecurityGroup",
        vpc=vpc,
        allow_all_outbound=False,
        description="Internal NLB: reached only through the VPC Link; forwards to the service port",
    )
    service = ec2.SecurityGroup(
        scope,
        "ServiceSecurityGroup",
        vpc=vpc,
        allow_all_outbound=False,
        description="Service instances: app port from the NLB; HTTPS out; database port to the database",
    )
    database = ec2.SecurityGroup(
        scope,
        "DatabaseSecurityGroup",
        vpc=vpc,
        allow_all_outbound=False,
        description="Database: its port from the service instances (and the rotation function) only",
    )
    service.connections.allow_from(load_balancer, ec2.Port.tcp(app_port), "NLB traffic and health checks")
    service.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs (SSM) and package repositories")
    database.connections.allow_from(service, ec2.Port.tcp(db_port), "Service instances to the database")
    return SecurityGroups(load_balancer=load_balancer, service=service, database=database)


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


@dataclass(frozen=True)
class DataPath:
    """The parts a PrivateApi's requests cross, for the flows it declares."""

    load_balancer: elbv2.NetworkLoadBalancer
    auto_scaling_group: autoscaling.AutoScalingGroup
    database: rds.DatabaseInstance
    secret_rotation: secretsmanager.SecretRotation


def declare_flows(
    scope: Construct, placement: Placement, path: DataPath, *, listener_port: int, app_port: int, db_port: int
) -> None:
    """The data path VPC Link -> NLB -> service -> database, and what must stay closed around it."""
    # The rotation function lives in a nested (SAR) application; its security group is in this stack.
    rotation_group = path.secret_rotation.node.find_child("SecurityGroup")
    assert isinstance(rotation_group, ec2.SecurityGroup)
    rotation = flows.hosts("secret rotation function", list(placement.service_subnets), [rotation_group])
    service, database = path.auto_scaling_group, path.database
    required: list[tuple[flows.FlowEnd, flows.FlowEnd, int, str]] = [
        (flows.vpc_link(path.load_balancer), path.load_balancer, listener_port, "VPC Link to the NLB listener"),
        (path.load_balancer, service, app_port, "NLB traffic and health checks to the service"),
        (service, database, db_port, "service to the database"),
        (service, "0.0.0.0/0", 443, "service to Session Manager and AWS APIs over HTTPS"),
        (rotation, database, db_port, "secret rotation to the database"),
        (rotation, flows.aws_service("secretsmanager"), 443, "secret rotation to Secrets Manager"),
    ]
    for source, destination, port, reason in required:
        flows.require_flow(scope, source=source, destination=destination, port=port, reason=reason)
    forbidden: list[tuple[flows.FlowEnd, flows.FlowEnd, int, str]] = [
        ("0.0.0.0/0", service, app_port, "the service is reached only through the NLB"),
        ("0.0.0.0/0", database, db_port, "the database is never reachable from the internet"),
    ]
    if placement.network is not None:
        web = flows.hosts("any host in the web tier", placement.network.web.subnets)
        forbidden.append((web, database, db_port, "the web tier must not reach the database"))
    for source, destination, port, reason in forbidden:
        flows.forbid_flow(scope, source=source, destination=destination, port=port, reason=reason)
