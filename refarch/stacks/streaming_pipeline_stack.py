"""Reference stack: the streaming pipeline with Redshift, in a three-tier VPC."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.constructs import StreamingPipeline, ThreeTierVpc, _builders
from refarch.constructs.streaming_pipeline_redshift import REDSHIFT_PORT

#: Rule numbers of the ACL entries added here, clear of ThreeTierVpc's (denies from 100, allows from 1000).
_ENDPOINT_RULE = 5000


def allow_db_tier_to_endpoints(network: ThreeTierVpc, *, first_rule: int = _ENDPOINT_RULE) -> None:
    """Let the db tier (Redshift) reach the interface endpoints of the app tier over HTTPS.

    With enhanced VPC routing, Redshift reads Kinesis through the VPC: this opens exactly that flow
    and its return traffic in the db tier's security group and in both tiers' network ACLs, which
    otherwise admit only the database port from the app tier.
    """
    db, app = network.db, network.app
    db.security_group.add_egress_rule(
        ec2.Peer.ipv4(network.cidr), ec2.Port.tcp(443), "HTTPS to interface endpoints (Kinesis)"
    )
    ephemeral = ec2.AclTraffic.tcp_port_range(1024, 65535)
    https = ec2.AclTraffic.tcp_port(443)
    for index, app_cidr in enumerate(app.cidrs):
        rule = first_rule + index * 10
        db.network_acl.add_entry(
            f"EndpointHttpsOut{rule}",
            cidr=ec2.AclCidr.ipv4(app_cidr),
            rule_number=rule,
            traffic=https,
            direction=ec2.TrafficDirection.EGRESS,
        )
        db.network_acl.add_entry(
            f"EndpointReturnIn{rule}",
            cidr=ec2.AclCidr.ipv4(app_cidr),
            rule_number=rule,
            traffic=ephemeral,
            direction=ec2.TrafficDirection.INGRESS,
        )
    for index, db_cidr in enumerate(db.cidrs):
        rule = first_rule + index * 10
        app.network_acl.add_entry(
            f"RedshiftHttpsIn{rule}",
            cidr=ec2.AclCidr.ipv4(db_cidr),
            rule_number=rule,
            traffic=https,
            direction=ec2.TrafficDirection.INGRESS,
        )
        app.network_acl.add_entry(
            f"RedshiftReturnOut{rule}",
            cidr=ec2.AclCidr.ipv4(db_cidr),
            rule_number=rule,
            traffic=ephemeral,
            direction=ec2.TrafficDirection.EGRESS,
        )


class StreamingPipelineStack(Stack):
    """Kinesis -> Lambda (app tier) -> S3 lake, and Redshift Serverless (db tier) reading the stream
    through a Kinesis interface endpoint (enhanced VPC routing keeps that traffic in the VPC)."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, description="cdk-refarch reference: streaming pipeline", **kwargs)
        self.network = ThreeTierVpc(
            self,
            "Network",
            db_port=REDSHIFT_PORT,
            interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS],
        )
        db, app = self.network.db, self.network.app
        allow_db_tier_to_endpoints(self.network)

        # Alarms notify an encrypted topic; CloudWatch may use its key to publish.
        alarm_key = _builders.build_key(
            self, "AlarmKey", description="Encrypts the pipeline's alarm topic", removal_policy=RemovalPolicy.RETAIN
        )
        alarm_key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey")
        self.alarm_topic = sns.Topic(self, "Alarms", master_key=alarm_key, enforce_ssl=True)

        self.pipeline = StreamingPipeline(
            self,
            "Pipeline",
            vpc=self.network.vpc,
            function_subnets=app.subnet_selection,
            redshift_subnets=db.subnet_selection,
            redshift_security_groups=[db.security_group],
            alarm_topic=self.alarm_topic,
            # Storage limitation: events are kept three years (Glacier IR after one), then deleted.
            lake_expiration=Duration.days(3 * 365),
        )
