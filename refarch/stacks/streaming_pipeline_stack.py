"""Reference stack: the streaming pipeline with Redshift, in a three-tier VPC."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from refarch.constructs import StreamingPipeline, ThreeTierVpc
from refarch.constructs._dashboards import build_alarm_topic
from refarch.constructs.streaming_pipeline.redshift import REDSHIFT_PORT


class StreamingPipelineStack(Stack):
    """Kinesis -> Lambda (app tier) -> S3 lake, and Redshift Serverless (db tier) reading the stream
    through a Kinesis interface endpoint (enhanced VPC routing keeps that traffic in the VPC)."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, description="cdk-refarch reference: streaming pipeline", **kwargs)
        # The alarms of the network and of the pipeline notify one encrypted topic.
        self.alarm_topic = build_alarm_topic(
            self, "Alarms", key_id="AlarmKey", removal_policy=RemovalPolicy.RETAIN, description="the pipeline's alarms"
        )
        self.network = ThreeTierVpc(
            self,
            "Network",
            db_port=REDSHIFT_PORT,
            interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS],
            alarm_topic=self.alarm_topic,
        )
        # Redshift (db tier) reads Kinesis through the endpoint in the app tier.
        self.network.allow_db_tier_to_endpoints()

        # On a ThreeTierVpc the functions run in the App tier, Redshift in the Db tier with its group.
        self.pipeline = StreamingPipeline(
            self,
            "Pipeline",
            vpc=self.network,
            alarm_topic=self.alarm_topic,
            # Storage limitation: events are kept three years (Glacier IR after one), then deleted.
            lake_expiration=Duration.days(3 * 365),
        )
