"""The VPC itself: three subnet groups (Web public, App private, Db isolated) in each AZ, and its gateway endpoints."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Fn, Stack, Token
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs.three_tier_vpc.checks import Layout
from refarch.constructs.three_tier_vpc.props import ThreeTierVpcProps

#: The subnet group of each tier, in the order ec2.Vpc allocates their address blocks.
TIER_NAMES = ("Web", "App", "Db")


def build_vpc(scope: Construct, p: ThreeTierVpcProps, layout: Layout) -> ec2.Vpc:
    """The ``ec2.Vpc`` with the three tiers' subnets, its NAT gateways and (optionally) gateway endpoints."""
    app_subnet_type = ec2.SubnetType.PRIVATE_WITH_EGRESS if layout.nat_count > 0 else ec2.SubnetType.PRIVATE_ISOLATED
    vpc = ec2.Vpc(
        scope,
        "Vpc",
        vpc_name=p["vpc_name"],
        ip_addresses=ec2.IpAddresses.cidr(str(layout.network)),
        availability_zones=_availability_zones(scope, p, layout.az_count),
        nat_gateways=layout.nat_count,
        subnet_configuration=[
            # No public IPs on launch: the web tier is for load balancers and NAT gateways,
            # which get their own addresses; an instance placed here should not be exposed.
            ec2.SubnetConfiguration(
                name="Web",
                subnet_type=ec2.SubnetType.PUBLIC,
                cidr_mask=p["web_subnet_mask"],
                map_public_ip_on_launch=False,
            ),
            ec2.SubnetConfiguration(name="App", subnet_type=app_subnet_type, cidr_mask=p["app_subnet_mask"]),
            ec2.SubnetConfiguration(
                name="Db", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=p["db_subnet_mask"]
            ),
        ],
        gateway_endpoints={
            "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
        }
        if p["gateway_endpoints"]
        else None,
        restrict_default_security_group=True,
    )
    if p["availability_zone_ids"]:
        _pin_subnets_to_az_ids(vpc, p["availability_zone_ids"])
    for subnet in vpc.public_subnets:
        # On the public subnet: the finding is about its DefaultRoute, the only route it has.
        acknowledge(
            subnet,
            "The web tier is the VPC's public tier: its route to the internet gateway is what lets "
            "internet-facing load balancers and the NAT gateways work. No other tier has one.",
            "HIPAA.Security-VPCNoUnrestrictedRouteToIGW",
            "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
            "PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
        )
    return vpc


def _availability_zones(scope: Construct, p: ThreeTierVpcProps, count: int) -> list[str]:
    if p["availability_zones"]:
        return list(p["availability_zones"])
    if p["availability_zone_ids"] or Token.is_unresolved(Stack.of(scope).region):
        # An environment-agnostic stack only knows AZs as tokens, and the ec2.Vpc default caps it
        # at 2 of them; select the count asked for instead. With AZ IDs these are placeholders that
        # _pin_subnets_to_az_ids replaces.
        return [Fn.select(i, Fn.get_azs()) for i in range(count)]
    return list(Stack.of(scope).availability_zones[:count])


def _pin_subnets_to_az_ids(vpc: ec2.Vpc, az_ids: Sequence[str]) -> None:
    subnets = [*vpc.public_subnets, *vpc.private_subnets, *vpc.isolated_subnets]
    for subnet in subnets:
        index = vpc.availability_zones.index(subnet.availability_zone)
        cfn = subnet.node.default_child
        assert isinstance(cfn, ec2.CfnSubnet)
        cfn.add_property_deletion_override("AvailabilityZone")
        cfn.availability_zone_id = az_ids[index]
