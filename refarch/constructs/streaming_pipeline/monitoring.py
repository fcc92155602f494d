"""What says a StreamingPipeline works: records coming in, how far the consumer lags, batches that
fail, records quarantined and dead-lettered, lake objects written, and how far Redshift's reads lag.

The record counts are the Powertools metrics the consumer emits (``RecordsIn``, ``RecordsLanded``,
``RecordsQuarantined``, ``RecordsFailed``, ``ObjectsWritten`` in :data:`HANDLER_NAMESPACE`, dimension
``service``). CloudWatch has no metric for a streaming materialized view's refresh: Redshift reads
the stream through shared-throughput ``GetRecords``, so the stream's ``GetRecords.IteratorAgeMilliseconds``
(the oldest position any such reader holds) next to the consumer's own ``IteratorAge`` shows when
Redshift falls behind. :func:`build_alarms` pages on lag, dead letters, errors and throttling.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_redshiftserverless as redshift
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from typing_extensions import Unpack

from refarch.constructs._dashboards import Panel
from refarch.constructs._metrics import FIVE_MINUTES, MetricOptions, build_metric

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
            [iterator_age(function, period=_MINUTE, label="consumer iterator age")],
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


def iterator_age(function: lambda_.IFunction, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
    """Maximum age of the last record the consumer read, in milliseconds (the caller's options win)."""
    options.setdefault("statistic", "Maximum")
    return function.metric("IteratorAge", **options)


def build_alarms(
    scope: Construct,
    *,
    stream: kinesis.Stream,
    function: lambda_.IFunction,
    dead_letter_queue: sqs.Queue,
    iterator_age_threshold: Duration,
    topic: sns.ITopic,
) -> dict[str, cloudwatch.Alarm]:
    """One alarm per way the pipeline falls behind or loses records, each notifying ``topic``."""
    specs: dict[str, tuple[cloudwatch.IMetric, float, str]] = {
        "IteratorAge": (
            iterator_age(function, period=_MINUTE),
            iterator_age_threshold.to_milliseconds(),
            f"The consumer lags the stream by more than {iterator_age_threshold.to_human_string()}",
        ),
        "DeadLetters": (
            dead_letter_queue.metric_approximate_number_of_messages_visible(statistic="Maximum", period=_MINUTE),
            1,
            "Records ran out of retries or age: their shard/sequence ranges are in the dead-letter queue",
        ),
        "Errors": (
            function.metric_errors(statistic="Sum", period=_MINUTE),
            1,
            "The consumer failed whole batches (they are retried, then bisected)",
        ),
        "Throttles": (
            function.metric_throttles(statistic="Sum", period=_MINUTE),
            1,
            "The consumer was throttled: raise the account's or the function's concurrency",
        ),
        "WriteThrottles": (
            stream.metric_write_provisioned_throughput_exceeded(statistic="Sum", period=_MINUTE),
            1,
            "Producers were throttled writing to the stream: add shards or spread partition keys",
        ),
    }
    alarms = {}
    for name, (metric, threshold, description) in specs.items():
        alarm = cloudwatch.Alarm(
            scope,
            f"{name}Alarm",
            metric=metric,
            threshold=threshold,
            # Lag is noisy (one slow batch); three minutes in a row is a consumer that falls behind.
            evaluation_periods=3 if name == "IteratorAge" else 1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(topic))
        alarms[name] = alarm
    return alarms
