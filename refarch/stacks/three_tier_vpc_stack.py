"""Reference stack: the three-tier VPC on its own, with every default."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from refarch.constructs import ThreeTierVpc


class ThreeTierVpcStack(Stack):
    """A three-tier VPC across 3 AZs with flow logs, gateway endpoints and SSM endpoints."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, description="cdk-refarch reference: three-tier VPC", **kwargs)
        self.network = ThreeTierVpc(
            self,
            "Network",
            # Session Manager reaches app-tier instances without SSH or bastions.
            interface_endpoints=[
                ec2.InterfaceVpcEndpointAwsService.SSM,
                ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
            ],
        )
