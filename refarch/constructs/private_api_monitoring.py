"""What says a PrivateApi works, tier by tier: requests, errors and latency at the API, what the
WAF blocks, healthy hosts behind the NLB, service capacity, and the database's CPU, connections
and free storage. (The alarms are built in ``private_api_tiers.build_alarms``.)
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_rds as rds

from refarch.constructs._dashboards import Panel
from refarch.constructs._metrics import FIVE_MINUTES, build_metric
from refarch.constructs.web_acl import ProtectiveWebAcl


def api_panels(
    *,
    api: apigw.RestApi,
    web_acl: ProtectiveWebAcl,
    target_group: elbv2.NetworkTargetGroup,
    auto_scaling_group: autoscaling.AutoScalingGroup,
    database: rds.DatabaseInstance,
) -> list[Panel]:
    """The golden signals of each tier, client side first."""
    period = FIVE_MINUTES
    return [
        Panel(
            "API: requests and errors",
            [api.metric_count(statistic="Sum", period=period)],
            [
                api.metric_client_error(statistic="Sum", period=period, label="4XX"),
                api.metric_server_error(statistic="Sum", period=period, label="5XX"),
            ],
        ),
        Panel(
            "API: latency",
            [
                api.metric_latency(statistic="p50", period=period, label="p50"),
                api.metric_latency(statistic="p99", period=period, label="p99"),
                api.metric_integration_latency(statistic="p99", period=period, label="integration p99"),
            ],
        ),
        Panel(
            "WAF: blocked and allowed requests",
            [web_acl.metric_blocked_requests(period=period)],
            [web_acl.metric_allowed_requests(period=period)],
        ),
        Panel(
            "NLB: healthy hosts",
            [
                target_group.metrics.healthy_host_count(statistic="Minimum", period=Duration.minutes(1)),
                target_group.metrics.un_healthy_host_count(statistic="Maximum", period=Duration.minutes(1)),
            ],
        ),
        Panel(
            "Service: capacity",
            [
                _group_metric(auto_scaling_group, "GroupInServiceInstances", "in service"),
                _group_metric(auto_scaling_group, "GroupDesiredCapacity", "desired"),
            ],
            [
                build_metric(
                    "AWS/EC2",
                    "CPUUtilization",
                    {"AutoScalingGroupName": auto_scaling_group.auto_scaling_group_name},
                    statistic="Average",
                    label="CPU %",
                )
            ],
        ),
        Panel(
            "Database: CPU and connections",
            [database.metric_cpu_utilization(period=period)],
            [database.metric_database_connections(statistic="Maximum", period=period)],
        ),
        Panel("Database: free storage", [database.metric_free_storage_space(statistic="Minimum", period=period)]),
    ]


def _group_metric(group: autoscaling.AutoScalingGroup, metric_name: str, label: str) -> cloudwatch.Metric:
    """An ``AWS/AutoScaling`` group metric (the group publishes them: group metrics collection is on)."""
    return build_metric(
        "AWS/AutoScaling",
        metric_name,
        {"AutoScalingGroupName": group.auto_scaling_group_name},
        statistic="Average",
        period=Duration.minutes(1),
        label=label,
    )
