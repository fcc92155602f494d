"""What says a PrivateApi works, tier by tier: requests, errors and latency at the API, what the
WAF blocks, healthy hosts behind the NLB, service capacity, and the database's CPU, connections
and free storage: the dashboard's panels and the alarms that notify.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.constructs import _dashboards
from refarch.constructs._dashboards import Panel, build_alarm
from refarch.constructs._metrics import FIVE_MINUTES, build_metric
from refarch.constructs.private_api.props import PrivateApiProps
from refarch.constructs.private_api.service import ServiceTier
from refarch.constructs.web_acl import ProtectiveWebAcl


def build_operations(
    scope: Construct,
    p: PrivateApiProps,
    *,
    path: str,
    api: apigw.RestApi,
    web_acl: ProtectiveWebAcl,
    service: ServiceTier,
    database: rds.DatabaseInstance,
    topic: sns.ITopic,
) -> tuple[dict[str, cloudwatch.Alarm], cloudwatch.Dashboard | None, cloudwatch.CompositeAlarm | None]:
    """The alarms (each notifying ``topic`` of trouble and recovery), the dashboard and the health alarm."""
    alarms = build_alarms(
        Construct(scope, "Alarms"),
        owner_path=path,
        api=api,
        target_group=service.target_group,
        auto_scaling_group=service.auto_scaling_group,
        database=database,
        p=p,
    )
    action = cw_actions.SnsAction(topic)
    for alarm in alarms.values():
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
    dashboard, health_alarm = _dashboards.build_operations_view(
        scope,
        dashboard=p["dashboard"],
        title=path,
        panels=api_panels(
            api=api,
            web_acl=web_acl,
            target_group=service.target_group,
            auto_scaling_group=service.auto_scaling_group,
            database=database,
        ),
        alarms=alarms,
        topic=topic,
    )
    return alarms, dashboard, health_alarm


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


def build_alarms(
    scope: Construct,
    *,
    owner_path: str,
    api: apigw.RestApi,
    target_group: elbv2.NetworkTargetGroup,
    auto_scaling_group: autoscaling.AutoScalingGroup,
    database: rds.DatabaseInstance,
    p: PrivateApiProps,
) -> dict[str, cloudwatch.Alarm]:
    """The alarms of a PrivateApi, by name."""
    min_capacity, api_5xx_rate, api_p99_latency = p["min_capacity"], p["alarm_api_5xx_rate"], p["alarm_api_p99_latency"]
    db_cpu_percent, db_free_storage_gib = p["alarm_db_cpu_percent"], p["alarm_db_free_storage_gib"]
    db_connections = p["alarm_db_connections"]
    gt = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
    lt = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
    quiet = cloudwatch.TreatMissingData.NOT_BREACHING
    five = Duration.minutes(5)
    in_service = cloudwatch.Metric(
        namespace="AWS/AutoScaling",
        metric_name="GroupInServiceInstances",
        dimensions_map={"AutoScalingGroupName": auto_scaling_group.auto_scaling_group_name},
        statistic="Minimum",
        period=Duration.minutes(1),
    )
    specs: list[
        tuple[str, cloudwatch.IMetric, float, cloudwatch.ComparisonOperator, str, cloudwatch.TreatMissingData]
    ] = [
        (
            "Api5xxRate",
            api.metric_server_error(statistic="Average", period=five),
            api_5xx_rate,
            gt,
            f"More than {api_5xx_rate:.1%} of API requests answered 5XX",
            quiet,
        ),
        (
            "ApiLatencyP99",
            api.metric_latency(statistic="p99", period=five),
            api_p99_latency.to_milliseconds(),
            gt,
            f"API p99 latency above {api_p99_latency.to_human_string()}",
            quiet,
        ),
        (
            "UnhealthyHosts",
            target_group.metrics.un_healthy_host_count(statistic="Maximum", period=Duration.minutes(1)),
            0,
            gt,
            "The NLB sees unhealthy service instances",
            cloudwatch.TreatMissingData.MISSING,
        ),
        (
            "InServiceBelowMinimum",
            in_service,
            min_capacity,
            lt,
            f"Fewer than {min_capacity} service instances in service",
            cloudwatch.TreatMissingData.BREACHING,
        ),
        (
            "DatabaseCpu",
            database.metric_cpu_utilization(period=five),
            db_cpu_percent,
            gt,
            f"Database CPU above {db_cpu_percent}%",
            cloudwatch.TreatMissingData.MISSING,
        ),
        (
            "DatabaseFreeStorage",
            database.metric_free_storage_space(statistic="Minimum", period=five),
            db_free_storage_gib * 1024**3,
            lt,
            f"Database free storage below {db_free_storage_gib} GiB",
            cloudwatch.TreatMissingData.MISSING,
        ),
        (
            "DatabaseConnections",
            database.metric_database_connections(statistic="Maximum", period=five),
            db_connections,
            gt,
            f"More than {db_connections} database connections",
            cloudwatch.TreatMissingData.MISSING,
        ),
    ]
    return {
        name: build_alarm(
            scope,
            f"{name}Alarm",
            metric=metric,
            threshold=threshold,
            comparison=comparison,
            description=f"{description} ({owner_path})",
            treat_missing_data=missing,
        )
        for name, metric, threshold, comparison, description, missing in specs
    }
