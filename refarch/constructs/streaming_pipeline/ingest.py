"""The ingest side of ``StreamingPipeline``: the encrypted stream, the dead-letter queue, and the event
source mapping that feeds the consumer (bisect on error, bounded retries, partial batch responses)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs.streaming_pipeline.props import StreamingPipelineProps


def build_stream(scope: Construct, p: StreamingPipelineProps, key: kms.IKey) -> kinesis.Stream:
    stream = kinesis.Stream(
        scope,
        "Stream",
        stream_name=p["stream_name"],
        stream_mode=p["stream_mode"],
        shard_count=p["shard_count"] if p["stream_mode"] == kinesis.StreamMode.PROVISIONED else None,
        retention_period=p["stream_retention"],
        encryption=kinesis.StreamEncryption.KMS,
        encryption_key=key,
        removal_policy=p["removal_policy"],
    )
    acknowledge(
        stream,
        "The stream is encrypted with a customer-managed key on purpose: its key policy, rotation and "
        "CloudTrail record are the owner's, and the same key covers the lake, queue and Redshift.",
        "AwsSolutions-KDS3",
    )
    return stream


def build_dead_letter_queue(scope: Construct, p: StreamingPipelineProps, key: kms.IKey) -> sqs.Queue:
    queue = sqs.Queue(
        scope,
        "DeadLetterQueue",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=p["removal_policy"],
    )
    acknowledge(
        queue,
        "This queue is the dead-letter destination itself (the event source mapping's on-failure "
        "destination); a dead-letter queue of the dead-letter queue would only move the same messages.",
        "AwsSolutions-SQS3",
    )
    return queue


def feed_consumer(
    scope: Construct,
    p: StreamingPipelineProps,
    *,
    stream: kinesis.Stream,
    function: lambda_.Function,
    dead_letter_queue: sqs.Queue,
    consumer_name: str,
) -> kinesis.StreamConsumer | None:
    """The event source mapping from the stream (or its enhanced fan-out consumer, returned) to ``function``."""
    options = {
        "starting_position": lambda_.StartingPosition.TRIM_HORIZON,
        "batch_size": p["batch_size"],
        "max_batching_window": p["max_batching_window"],
        "bisect_batch_on_error": True,
        "retry_attempts": p["retry_attempts"],
        "max_record_age": p["max_record_age"],
        "parallelization_factor": p["parallelization_factor"],
        "report_batch_item_failures": True,
        "on_failure": sources.SqsDlq(dead_letter_queue),
    }
    consumer: kinesis.StreamConsumer | None = None
    event_source: lambda_.IEventSource
    if p["enhanced_fan_out"]:
        consumer = kinesis.StreamConsumer(scope, "FanOutConsumer", stream=stream, stream_consumer_name=consumer_name)
        event_source = sources.KinesisConsumerEventSource(consumer, **options)  # type: ignore[arg-type]
    else:
        event_source = sources.KinesisEventSource(stream, **options)  # type: ignore[arg-type]
    function.add_event_source(event_source)
    acknowledge(
        function.role,  # type: ignore[arg-type]
        "Lambda sends failed-batch records to the KMS-encrypted dead-letter queue with this role; the "
        "SqsDlq grant adds the key's GenerateDataKey*/ReEncrypt* family, on this one key only.",
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
    )
    return consumer
