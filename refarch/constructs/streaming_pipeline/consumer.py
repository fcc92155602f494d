"""The consumer of ``StreamingPipeline``: the Powertools function that lands records in the lake, its
dependencies layer and code (shared with the Redshift SQL function), and its security group in a VPC."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders
from refarch.constructs._bundling import dependencies_layer, handler_code
from refarch.constructs.streaming_pipeline.checks import Placement
from refarch.constructs.streaming_pipeline.monitoring import HANDLER_NAMESPACE, HANDLER_SERVICE
from refarch.constructs.streaming_pipeline.props import StreamingPipelineProps, schema_json


@dataclass(frozen=True)
class Consumer:
    layer: lambda_.LayerVersion
    code: lambda_.Code
    security_group: ec2.SecurityGroup | None
    function: lambda_.Function


def build_consumer(
    scope: Construct, p: StreamingPipelineProps, *, key: kms.IKey, bucket: s3.IBucket, placement: Placement
) -> Consumer:
    layer = dependencies_layer(
        scope,
        "Dependencies",
        requirements="stream_processor",
        architecture=lambda_.Architecture.ARM_64,
        description="aws-lambda-powertools and fastjsonschema for the StreamingPipeline functions",
    )
    environment = {
        "BUCKET_NAME": bucket.bucket_name,
        "LAKE_PREFIX": p["lake_prefix"],
        "QUARANTINE_PREFIX": p["quarantine_prefix"],
        "POWERTOOLS_SERVICE_NAME": HANDLER_SERVICE,
        "POWERTOOLS_METRICS_NAMESPACE": HANDLER_NAMESPACE,
    }
    if p["event_schema"] is not None:
        environment["EVENT_SCHEMA"] = schema_json(p["event_schema"])
    security_group = None
    if placement.vpc is not None:
        security_group = ec2.SecurityGroup(
            scope,
            "FunctionSecurityGroup",
            vpc=placement.vpc,
            allow_all_outbound=False,
            description="StreamingPipeline functions: HTTPS to AWS APIs only",
        )
        security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to S3, Redshift Data API and X-Ray"
        )
    # One asset for both functions: the package is fingerprinted once.
    code = handler_code("stream_processor")
    function = _builders.build_python_function(
        scope,
        "Consumer",
        description=f"Lands the records of {scope.node.path}'s stream in the S3 lake",
        code=code,
        handler="stream_processor.handler.lambda_handler",
        encryption_key=key,
        removal_policy=p["removal_policy"],
        layers=[layer],
        environment=environment,
        timeout=p["timeout"],
        memory_size=p["memory_size"],
        reserved_concurrent_executions=p["reserved_concurrent_executions"],
        vpc=placement.vpc,
        vpc_subnets=placement.function_subnets,
        security_groups=[security_group] if security_group else None,
        log_retention=p["log_retention"],
    )
    return Consumer(layer, code, security_group, function)


def acknowledge_function(
    function: IConstruct, *, reserved: int | None, in_vpc: bool, custom_resource: bool = False
) -> None:
    """The findings a stream consumer or a deploy-time custom resource function has by design, with why."""
    invoked = (
        "It is invoked synchronously by CloudFormation's custom resource provider, which reports a failure "
        "to the stack; Lambda's dead-letter queue applies only to asynchronous invocations."
        if custom_resource
        else "It is invoked by a Kinesis event source mapping, whose on-failure destination (the SQS "
        "dead-letter queue of this construct) receives what fails; a function DLQ only serves async invokes."
    )
    acknowledge(function, invoked, "HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "PCI.DSS.321-LambdaDLQ")
    if reserved is None:
        acknowledge(
            function,
            "Concurrency is already bounded: a stream consumer runs at most shards x parallelization factor "
            "at once, and a deploy-time custom resource once per deployment. Reserving more wastes quota.",
            "HIPAA.Security-LambdaConcurrency",
            "NIST.800.53.R5-LambdaConcurrency",
        )
    if not in_vpc:
        acknowledge(
            function,
            "No vpc was given: the function reaches only AWS APIs (S3, Redshift Data API) over TLS with IAM "
            "authorization and holds no network-reachable endpoint. Pass vpc= to run it in private subnets.",
            "HIPAA.Security-LambdaInsideVPC",
            "NIST.800.53.R5-LambdaInsideVPC",
            "PCI.DSS.321-LambdaInsideVPC",
        )
