"""What says a StreamingPipeline works: records coming in, how far the consumer lags, batches that
fail, records quarantined and dead-lettered, lake objects written, and how far Redshift's reads lag.

The record counts are the Powertools metrics the consumer emits (``RecordsIn``, ``RecordsLanded``,
``RecordsQuarantined``, ``RecordsFailed``, ``ObjectsWritten`` in :data:`HANDLER_NAMESPACE`, dimension
``service``). CloudWatch has no metric for a streaming materialized view's refresh: Redshift reads
the stream through shared-throughput ``GetRecords``, so the stream's ``GetRecords.IteratorAgeMilliseconds``
(the oldest position any such reader holds) next to the consumer's own ``IteratorAge`` shows when
Redshift falls behind. (The alarms are built in ``StreamingPipeline._add_alarms``.)
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_redshiftserverless as redshift
from aws_cdk import aws_sqs as sqs

from refarch.constructs._dashboards import Panel
from refarch.constructs._metrics import FIVE_MINUTES, build_metric

#: Namespace and ``service`` dimension of the consumer's Powertools metrics (set in its environment).
HANDLER_NAMESPACE = "refarch/StreamingPipeline"
HANDLER_SERVICE = "stream-processor"

_MINUTE = Duration.minutes(1)


def handler_metric(metric_name: str, label: str) -> cloudwatch.Metric:
    """A 5-minute sum of one of the consumer's Powertools metrics."""
    return build_metric(HANDLER_NAMESPACE, metric_name, {"service": HANDLER_SERVICE}, label=label)


def pipeline_panels(
    *,
    stream: kinesis.Stream,
    function: lambda_.IFunction,
    dead_letter_queue: sqs.Queue,
    workgroup: redshift.CfnWorkgroup | None,
) -> list[Panel]:
    """Graphs in the order a record travels: stream, consumer, lake (and quarantine, dead letters), Redshift."""
    panels = [
        Panel(
            "Stream: incoming records",
            [stream.metric_incoming_records(statistic="Sum", period=FIVE_MINUTES)],
            [stream.metric_write_provisioned_throughput_exceeded(statistic="Sum", period=FIVE_MINUTES)],
        ),
        Panel(
            "Consumer: iterator age (ms)",
            [function.metric("IteratorAge", statistic="Maximum", period=_MINUTE, label="consumer iterator age")],
        ),
        Panel(
            "Consumer: batch failures",
            [
                function.metric_errors(statistic="Sum", period=FIVE_MINUTES, label="failed batches"),
                handler_metric("RecordsFailed", "records failed (retried)"),
            ],
            [function.metric_throttles(statistic="Sum", period=FIVE_MINUTES, label="throttles")],
        ),
        Panel(
            "Records: landed, quarantined, dead-lettered",
            [
                handler_metric("RecordsIn", "records in"),
                handler_metric("RecordsLanded", "landed in the lake"),
                handler_metric("RecordsQuarantined", "quarantined"),
            ],
            [
                dead_letter_queue.metric_number_of_messages_sent(
                    statistic="Sum", period=FIVE_MINUTES, label="dead-lettered ranges"
                )
            ],
        ),
        Panel("Lake: objects written", [handler_metric("ObjectsWritten", "objects written")]),
    ]
    if workgroup is not None:
        panels.append(
            Panel(
                "Redshift: read lag (ms) and capacity",
                [
                    stream.metric_get_records_iterator_age_milliseconds(
                        statistic="Maximum", period=_MINUTE, label="oldest GetRecords position (incl. Redshift)"
                    )
                ],
                [
                    build_metric(
                        "AWS/Redshift-Serverless",
                        "ComputeCapacity",
                        {"Workgroup": workgroup.ref},
                        statistic="Average",
                        label="RPUs",
                    )
                ],
            )
        )
    return panels
