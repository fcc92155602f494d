"""The floor gates: one network ACL per tier (stateless, ordered, allow and deny).

Every allowed flow needs an entry for its return traffic too, and every entry is derived from
the subnets the VPC really gets, never from hand-copied CIDRs. The tiers number the entries.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs.three_tier_vpc.props import ANYWHERE
from refarch.constructs.three_tier_vpc.subnets import TIER_NAMES
from refarch.constructs.three_tier_vpc.tiers import APP_EGRESS_PORTS, EPHEMERAL_PORTS, Tier

_EPHEMERAL = ec2.AclTraffic.tcp_port_range(*EPHEMERAL_PORTS)


def build_tiers(scope: Construct, vpc: ec2.Vpc, groups: Sequence[ec2.SecurityGroup]) -> tuple[Tier, Tier, Tier]:
    """The web, app and db tiers: each subnet group with its security group and a network ACL of its own."""
    subnets = {name: vpc.select_subnets(subnet_group_name=name).subnets for name in TIER_NAMES}
    web, app, db = (
        Tier(name, ec2.SubnetSelection(subnet_group_name=name), subnets[name], group, _network_acl(scope, vpc, name))
        for name, group in zip(TIER_NAMES, groups, strict=True)
    )
    return web, app, db


def _network_acl(scope: Construct, vpc: ec2.IVpc, group: str) -> ec2.NetworkAcl:
    acl = ec2.NetworkAcl(scope, f"{group}Nacl", vpc=vpc, subnet_selection=ec2.SubnetSelection(subnet_group_name=group))
    acknowledge(
        acl,
        "Network ACLs are deliberate here: a stateless second layer under the security groups, "
        "with deny entries for blocked networks that security groups cannot express.",
        "AwsSolutions-VPC3",
    )
    return acl


def open_network_acls(
    web: Tier,
    app: Tier,
    db: Tier,
    *,
    web_networks: Sequence[ipaddress.IPv4Network],
    blocked: Sequence[ipaddress.IPv4Network],
    web_ports: Sequence[int],
    app_port: int,
    db_port: int,
) -> None:
    """Blocked networks denied in every tier, then the chain clients -> web -> app -> db and its replies."""
    for tier in (web, app, db):
        for network in blocked:
            tier.deny_inbound(str(network))
            tier.deny_outbound(str(network))

    for network in web_networks:
        for port in web_ports:
            web.allow_inbound(str(network), ec2.AclTraffic.tcp_port(port))
    # The NAT gateways live here: they receive the app tier's outbound HTTPS.
    for cidr in app.cidrs:
        for port in APP_EGRESS_PORTS:
            web.allow_inbound(cidr, ec2.AclTraffic.tcp_port(port))
    # Return traffic: internet servers answering the NAT gateways, app tier answering the web tier.
    web.allow_inbound(ANYWHERE, _EPHEMERAL)
    for cidr in app.cidrs:
        web.allow_outbound(cidr, ec2.AclTraffic.tcp_port(app_port))
    for port in APP_EGRESS_PORTS:
        web.allow_outbound(ANYWHERE, ec2.AclTraffic.tcp_port(port))
    # Return traffic to web clients, and to the app tier for connections it made through NAT.
    web.allow_outbound(ANYWHERE, _EPHEMERAL)

    for cidr in web.cidrs:
        app.allow_inbound(cidr, ec2.AclTraffic.tcp_port(app_port))
    # Return traffic of the app tier's own outbound connections: HTTPS through NAT or to the S3 and
    # DynamoDB gateway endpoints (public service addresses, hence 0.0.0.0/0), and db answers.
    app.allow_inbound(ANYWHERE, _EPHEMERAL)
    for cidr in web.cidrs:
        app.allow_outbound(cidr, _EPHEMERAL)
    for cidr in db.cidrs:
        app.allow_outbound(cidr, ec2.AclTraffic.tcp_port(db_port))
    for port in APP_EGRESS_PORTS:
        app.allow_outbound(ANYWHERE, ec2.AclTraffic.tcp_port(port))

    for cidr in app.cidrs:
        db.allow_inbound(cidr, ec2.AclTraffic.tcp_port(db_port))
        db.allow_outbound(cidr, _EPHEMERAL)


def open_app_tier_across_azs(app: Tier, port: int) -> None:
    """``port`` from every app subnet to every other, and the replies (for endpoints in each app subnet)."""
    for cidr in app.cidrs:
        app.allow_inbound(cidr, ec2.AclTraffic.tcp_port(port))
        app.allow_outbound(cidr, _EPHEMERAL)


def open_db_tier_to_app_tier(app: Tier, db: Tier, port: int) -> None:
    """``port`` from the db tier to the app tier, and the replies (db tier: out and answers in; app tier:
    in and answers out)."""
    traffic = ec2.AclTraffic.tcp_port(port)
    for cidr in app.cidrs:
        db.allow_outbound(cidr, traffic)
        db.allow_inbound(cidr, _EPHEMERAL)
    for cidr in db.cidrs:
        app.allow_inbound(cidr, traffic)
        app.allow_outbound(cidr, _EPHEMERAL)


def open_app_tier_to_db_tier(app: Tier, db: Tier, port: int) -> None:
    """``port`` from the app tier to the db tier (the replies are open already: those of ``db_port``)."""
    for cidr in db.cidrs:
        app.allow_outbound(cidr, ec2.AclTraffic.tcp_port(port))
    for cidr in app.cidrs:
        db.allow_inbound(cidr, ec2.AclTraffic.tcp_port(port))
