#!/usr/bin/env python3
"""A user's app: clickstream events stream into Kinesis, land in an S3 lake (Hive partitions by
arrival hour, invalid events quarantined) and are queryable in Redshift Serverless within seconds.

    pip install cdk-refarch
    cdk synth                          # or: cdk deploy StreamingPipelineExample
    python producer.py --stream <StreamName output> --count 1000

Redshift bills for the RPU-hours its auto-refreshed materialized view uses; pass redshift=False to
keep only the lake path.
"""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from refarch.compliance import apply_packs
from refarch.constructs import ManagedPolicyRole, StreamingPipeline, ThreeTierVpc
from refarch.environment import environment_from_context

#: The events this app accepts (a trimmed clickstream schema; records that fail it are quarantined).
CLICK_SCHEMA = {
    "type": "object",
    "required": ["event_id", "event_type", "occurred_at", "source"],
    "properties": {
        "event_id": {"type": "string", "minLength": 1},
        "event_type": {"enum": ["page.view", "cart.add", "checkout.start", "search"]},
        "occurred_at": {"type": "string", "format": "date-time"},
        "source": {"type": "string"},
        "user_id": {"type": "string"},
        "attributes": {"type": "object"},
    },
}


class ClickstreamStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)
        # Redshift's port on the db tier; Kinesis reachable from the VPC through an interface endpoint.
        network = ThreeTierVpc(
            self,
            "Network",
            db_port=5439,
            interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS],
        )
        # Redshift in the db tier reads Kinesis through the app tier's endpoint: open that HTTPS path.
        network.allow_db_tier_to_endpoints()
        # On a ThreeTierVpc the functions run in the app tier, Redshift in the db tier with its security group.
        pipeline = StreamingPipeline(
            self,
            "Clicks",
            vpc=network,
            event_schema=CLICK_SCHEMA,
            batch_size=1000,
            max_batching_window=cdk.Duration.seconds(10),
            stream_retention=cdk.Duration.days(3),
            redshift_view_name="clicks",
        )
        # The producer (producer.py, or your web tier) may put records and nothing else.
        producer = ManagedPolicyRole(
            self, "Producer", assumed_by=iam.AccountRootPrincipal(), description="clickstream producers"
        )
        pipeline.grant_write(producer)
        cdk.CfnOutput(self, "StreamName", value=pipeline.stream.stream_name)
        cdk.CfnOutput(self, "LakeBucket", value=pipeline.bucket_name)
        cdk.CfnOutput(self, "ProducerRoleArn", value=producer.role_arn)


app = cdk.App()
# Environment-agnostic, or for the account and region of `cdk synth -c account=... -c region=...`.
ClickstreamStack(app, "StreamingPipelineExample", env=environment_from_context(app))
apply_packs(app)
app.synth()
