"""The options every ``metric_*`` method of the library takes: ``cloudwatch.MetricOptions`` as keywords.

``construct.metric_errors(period=Duration.minutes(1), statistic="Average")`` reads like aws-cdk-lib's
own ``metric_*`` methods; each method supplies its defaults and the caller's options win.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from typing_extensions import TypedDict, Unpack


class MetricOptions(TypedDict, total=False):
    """Keyword form of ``cloudwatch.MetricOptions``."""

    account: str | None
    color: str | None
    dimensions_map: Mapping[str, str] | None
    label: str | None
    period: Duration | None
    region: str | None
    stack_account: str | None
    stack_region: str | None
    statistic: str | None
    unit: cloudwatch.Unit | None


#: The period of most metrics: fine enough to see an incident, coarse enough to read a day.
FIVE_MINUTES = Duration.minutes(5)


def build_metric(
    namespace: str,
    metric_name: str,
    dimensions: Mapping[str, str],
    **options: Unpack[MetricOptions],
) -> cloudwatch.Metric:
    """A metric scoped by ``dimensions``: the Sum over five minutes unless ``options`` say otherwise; their
    ``dimensions_map`` adds to ``dimensions``."""
    merged = MetricOptions(statistic="Sum", period=FIVE_MINUTES)
    merged.update(options)
    merged["dimensions_map"] = {**dimensions, **(options.get("dimensions_map") or {})}
    return cloudwatch.Metric(namespace=namespace, metric_name=metric_name, **merged)
