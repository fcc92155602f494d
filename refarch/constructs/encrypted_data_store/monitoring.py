"""What says an EncryptedDataStore works and stays safe: the CIS alarm states and their metrics,
errors on the data key and the bucket, and the table's and database's golden signals.

KMS and S3 publish no per-key or per-bucket error metrics by default (S3 request metrics cost extra
and need a metrics configuration on the bucket). The trail already records every call on the key
and the bucket's data events, so :func:`build_error_metrics` counts the failed ones (events with an
``errorCode``) with two metric filters on the trail's log group.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from constructs import Construct

from refarch.constructs._dashboards import Panel
from refarch.constructs._metrics import FIVE_MINUTES


def build_error_metrics(
    scope: Construct, *, log_group: logs.ILogGroup, namespace: str, key: kms.IKey, bucket: s3.IBucket
) -> dict[str, cloudwatch.Metric]:
    """``DataKeyErrors`` and ``DataBucketErrors``: trail events on the key / bucket that carry an error code."""
    failed = logs.FilterPattern.exists("$.errorCode")
    patterns = {
        "DataKeyErrors": logs.FilterPattern.all(
            logs.FilterPattern.string_value("$.eventSource", "=", "kms.amazonaws.com"),
            logs.FilterPattern.string_value("$.resources[0].ARN", "=", key.key_arn),
            failed,
        ),
        "DataBucketErrors": logs.FilterPattern.all(
            logs.FilterPattern.string_value("$.eventSource", "=", "s3.amazonaws.com"),
            logs.FilterPattern.string_value("$.requestParameters.bucketName", "=", bucket.bucket_name),
            failed,
        ),
    }
    metrics: dict[str, cloudwatch.Metric] = {}
    for name, pattern in patterns.items():
        metric_filter = logs.MetricFilter(
            scope,
            f"{name}Filter",
            log_group=log_group,
            filter_pattern=pattern,
            metric_namespace=namespace,
            metric_name=name,
            metric_value="1",
        )
        metrics[name] = metric_filter.metric(statistic="Sum", period=FIVE_MINUTES)
    return metrics


def store_panels(
    *,
    alarms: Mapping[str, cloudwatch.Alarm],
    errors: Mapping[str, cloudwatch.IMetric],
    table: dynamodb.Table | None,
    database: rds.DatabaseCluster | None,
) -> list[Panel]:
    """The CIS metrics, the key and bucket errors, then the table and the database."""
    panels: list[Panel] = []
    if alarms:
        panels.append(Panel("CIS benchmark events", [alarm.metric for alarm in alarms.values()]))
    if errors:
        panels.append(Panel("Data key and bucket errors", list(errors.values())))
    if table is not None:
        # Two graphs: the per-operation expressions of both metrics share their IDs ("getitem", ...).
        # (DynamoDB's UserErrors has no table dimension: it counts the whole account's.)
        panels += [
            Panel(
                "Table: throttled requests",
                [table.metric_throttled_requests_for_operations(statistic="Sum", period=FIVE_MINUTES)],
            ),
            Panel(
                "Table: system errors",
                [table.metric_system_errors_for_operations(statistic="Sum", period=FIVE_MINUTES)],
            ),
        ]
    if database is not None:
        panels.append(
            Panel(
                "Database: CPU and connections",
                [database.metric_cpu_utilization(period=FIVE_MINUTES)],
                [database.metric_database_connections(statistic="Maximum", period=FIVE_MINUTES)],
            )
        )
    return panels
