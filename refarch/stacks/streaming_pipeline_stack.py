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
        # Redshift (db tier) reads Kinesis through the endpoint in the app tier.
        self.network.allow_db_tier_to_endpoints()

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
