"""The back layer's entry: an internal ALB in the app tier that only the front group can reach.

It listens on HTTP inside the VPC: both ends are this construct's instances in private subnets, and an
internal listener would need a private certificate authority (AWS Private CA, about 400 USD a month) to
serve TLS. The network ACLs and security groups admit only the front group's traffic to it.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs.resilient_web_app.front import (
    acknowledge_no_deletion_protection,
    acknowledge_plain_http,
    enable_access_logs,
)
from refarch.constructs.three_tier_vpc import EPHEMERAL_PORTS, Tier

_INTERNAL_HTTP = (
    "Internal listener between this construct's own instances in private subnets: a TLS listener needs a "
    "certificate from a private CA (AWS Private CA, about 400 USD a month). Only the front group's security "
    "group reaches it, and the network ACLs admit only the app tier; viewers' TLS ends at CloudFront and the "
    "public ALB."
)


def build_internal_alb(
    scope: Construct, *, vpc: ec2.IVpc, subnets: ec2.SubnetSelection, log_bucket: s3.IBucket, port: int
) -> tuple[elbv2.ApplicationLoadBalancer, ec2.SecurityGroup, elbv2.ApplicationListener]:
    security_group = ec2.SecurityGroup(
        scope,
        "LoadBalancerSecurityGroup",
        vpc=vpc,
        allow_all_outbound=False,
        description="Internal ALB: reached only from the front group; forwards to the back group",
    )
    load_balancer = elbv2.ApplicationLoadBalancer(
        scope,
        "LoadBalancer",
        vpc=vpc,
        vpc_subnets=subnets,
        internet_facing=False,
        security_group=security_group,
        drop_invalid_header_fields=True,
        desync_mitigation_mode=elbv2.DesyncMitigationMode.STRICTEST,
        cross_zone_enabled=True,
        deletion_protection=False,
    )
    enable_access_logs(load_balancer, log_bucket, "back-alb")
    listener = load_balancer.add_listener("Http", port=port, protocol=elbv2.ApplicationProtocol.HTTP, open=False)
    acknowledge_no_deletion_protection(load_balancer)
    acknowledge_plain_http(load_balancer, listener, _INTERNAL_HTTP)
    acknowledge(
        load_balancer,
        "Internal ALB: its only clients are the front instances, whose requests passed the WAF web ACL on the "
        "public ALB; it has no internet-facing address for WAF to protect.",
        "NIST.800.53.R5-ALBWAFEnabled",
        "PCI.DSS.321-ALBWAFEnabled",
    )
    return load_balancer, security_group, listener


def open_app_tier(tier: Tier, *, internal_port: int, back_port: int) -> None:
    """Front group -> internal ALB -> back group all live in the app tier, one subnet per AZ: cross-AZ
    hops cross the tier's network ACL both ways. The tier numbers the entries."""
    ephemeral = ec2.AclTraffic.tcp_port_range(*EPHEMERAL_PORTS)
    for cidr in tier.cidrs:
        for port in (internal_port, back_port):
            tier.allow_inbound(cidr, ec2.AclTraffic.tcp_port(port))
            tier.allow_outbound(cidr, ec2.AclTraffic.tcp_port(port))
        tier.allow_outbound(cidr, ephemeral)
