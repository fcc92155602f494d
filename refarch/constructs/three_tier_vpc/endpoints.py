"""Interface endpoints in the app tier: AWS APIs reached privately, over HTTPS from inside the VPC."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from refarch.constructs.three_tier_vpc.acls import open_app_tier_across_azs
from refarch.constructs.three_tier_vpc.tiers import Tier


def build_interface_endpoints(
    scope: Construct,
    vpc: ec2.Vpc,
    *,
    cidr: str,
    app: Tier,
    services: Sequence[ec2.InterfaceVpcEndpointAwsService],
) -> dict[str, ec2.InterfaceVpcEndpoint]:
    """One endpoint per service in the app tier's subnets, keyed by the service's short name."""
    endpoint_sg = ec2.SecurityGroup(
        scope,
        "EndpointSecurityGroup",
        vpc=vpc,
        allow_all_outbound=False,
        description="Interface endpoints: HTTPS from the app tier",
    )
    # From the VPC's own CIDR (the literal, not the VPC's CidrBlock attribute), so any in-VPC client
    # can reach AWS APIs privately; the network ACLs still decide which tiers may (the db tier may not).
    endpoint_sg.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS from inside the VPC")
    endpoints = {
        service.short_name: vpc.add_interface_endpoint(
            endpoint_id(service),
            service=service,
            subnets=app.subnet_selection,
            security_groups=[endpoint_sg],
            private_dns_enabled=True,
            open=False,
        )
        for service in services
    }
    # The endpoint's regional DNS name resolves to its network interfaces in every AZ, so an app-tier
    # client also calls the interfaces in the other app subnets: that crosses the app ACL both ways.
    open_app_tier_across_azs(app, 443)
    return endpoints


def endpoint_id(service: ec2.InterfaceVpcEndpointAwsService) -> str:
    """The construct ID of a service's endpoint: ``SsmEndpoint``, ``SecretsmanagerEndpoint``, ..."""
    return "".join(part.capitalize() for part in service.short_name.replace("-", ".").split(".")) + "Endpoint"
