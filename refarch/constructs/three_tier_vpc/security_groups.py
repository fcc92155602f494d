"""The room locks: one security group per tier, chained web -> app -> db (stateful, allow-only)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs.three_tier_vpc.tiers import APP_EGRESS_PORTS


def chain_security_groups(
    scope: Construct,
    vpc: ec2.IVpc,
    *,
    web_networks: Sequence[ipaddress.IPv4Network],
    web_ports: Sequence[int],
    app_port: int,
    db_port: int,
) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup, ec2.SecurityGroup]:
    """web <- allowed CIDRs; app <- web on the app port; db <- app on the db port."""
    web = ec2.SecurityGroup(
        scope,
        "WebSecurityGroup",
        vpc=vpc,
        allow_all_outbound=False,
        description="Web tier: web ports from the allowed networks",
    )
    app = ec2.SecurityGroup(
        scope,
        "AppSecurityGroup",
        vpc=vpc,
        allow_all_outbound=False,
        description="App tier: app port from the web tier only",
    )
    db = ec2.SecurityGroup(
        scope,
        "DbSecurityGroup",
        vpc=vpc,
        allow_all_outbound=False,
        description="Db tier: db port from the app tier only",
    )
    for network in web_networks:
        for port in web_ports:
            web.add_ingress_rule(ec2.Peer.ipv4(str(network)), ec2.Port.tcp(port), f"Web port {port} from {network}")
    web.connections.allow_to(app, ec2.Port.tcp(app_port), "Web tier to the app port")
    app.connections.allow_to(db, ec2.Port.tcp(db_port), "App tier to the db port")
    for port in APP_EGRESS_PORTS:
        app.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(port), "HTTPS to AWS APIs through NAT and endpoints")
    if any(n.prefixlen == 0 for n in web_networks):
        acknowledge(
            web,
            "The web tier is public by design (web_ingress_cidrs defaults to 0.0.0.0/0) and admits only "
            "the web ports; pass web_ingress_cidrs to narrow it.",
            "AwsSolutions-EC23",
        )
    return web, app, db
