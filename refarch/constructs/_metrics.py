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

    account: str
    color: str
    dimensions_map: Mapping[str, str]
    label: str
    period: Duration
    region: str
    stack_account: str
    stack_region: str
    statistic: str
    unit: cloudwatch.Unit


#: The period of most metrics: fine enough to see an incident, coarse enough to read a day.
FIVE_MINUTES = Duration.minutes(5)


def build_metric(
    namespace: str,
    metric_name: str,
    dimensions: Mapping[str, str],
    *,
    statistic: str = "Sum",
    **options: Unpack[MetricOptions],
) -> cloudwatch.Metric:
    """A metric scoped by ``dimensions``; ``options`` (the caller's) override the method's defaults and add
    dimensions of their own."""
    extra = options.pop("dimensions_map", {})
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map={**dimensions, **extra},
        **{"statistic": statistic, "period": FIVE_MINUTES, **options},
    )
