"""StreamingPipeline: Kinesis Data Streams -> Lambda -> S3 data lake -> Redshift Serverless.

The parts, in the order a record travels: ``props`` (what a user can set) and ``checks`` (what must
hold across props and the network), ``ingest`` (stream, dead-letter queue, event source mapping),
``consumer`` (the function), ``lake`` (the bucket and its tiers), ``catalog`` (Glue and Athena),
``redshift`` (streaming ingestion), ``monitoring`` (alarms and dashboard panels); ``pipeline`` wires them.
"""

from refarch.constructs.streaming_pipeline.pipeline import StreamingPipeline
from refarch.constructs.streaming_pipeline.props import StreamingPipelineProps

__all__ = ["StreamingPipeline", "StreamingPipelineProps"]
