#!/usr/bin/env python3
"""A user's app: a three-tier VPC for a PostgreSQL-backed service, with a web tier open only
to a corporate range, known-bad ranges blocked, and the VPC pinned to AZ IDs so that a
second account's VPC lands in the same physical zones.

    pip install cdk-refarch
    cdk synth          # or: cdk deploy ThreeTierVpcExample
"""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from refarch.compliance import apply_packs
from refarch.constructs import NatStrategy, ThreeTierVpc


class NetworkStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)
        self.network = ThreeTierVpc(
            self,
            "Network",
            cidr="10.20.0.0/16",
            # AZ IDs are the same physical zones in every account; AZ names are not.
            availability_zone_ids=["euw1-az1", "euw1-az2", "euw1-az3"],
            web_ingress_cidrs=["198.18.0.0/15"],
            blocked_cidrs=["203.0.113.0/24"],
            db_port=5432,
            # One NAT gateway for a dev account; use the default (one per AZ) in production.
            nat_strategy=NatStrategy.SINGLE,
            interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
        )
        # Wire one more flow: a bastion-free admin security group to the database.
        admin = ec2.SecurityGroup(self, "DbAdmin", vpc=self.network.vpc, description="DBA workstations via SSM")
        self.network.db.connections.allow_from(admin, ec2.Port.tcp(5432), "DBA access")
        cdk.CfnOutput(self, "VpcId", value=self.network.vpc_id)


app = cdk.App()
NetworkStack(app, "ThreeTierVpcExample", env=cdk.Environment(region="eu-west-1"))
apply_packs(app)
app.synth()
