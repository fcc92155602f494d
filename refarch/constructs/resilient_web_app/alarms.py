"""Alarms per layer, the composite alarm (CPU AND errors AND latency), and request-count anomalies."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_rds as rds
from constructs import Construct
from typing_extensions import Unpack

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs._dashboards import build_alarm
from refarch.constructs._metrics import FIVE_MINUTES, MetricOptions, build_metric

_GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
_LT = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
_QUIET = cloudwatch.TreatMissingData.NOT_BREACHING
_MINUTE = Duration.minutes(1)


def error_rate(
    load_balancer: elbv2.ApplicationLoadBalancer, **options: Unpack[MetricOptions]
) -> cloudwatch.MathExpression:
    """Fraction of requests answered 5XX, by the ALB itself or by its targets: the Sum of each count per
    minute unless ``options`` say otherwise."""
    counts = MetricOptions(period=_MINUTE, statistic="Sum")
    counts.update(options)
    metrics = load_balancer.metrics
    return cloudwatch.MathExpression(
        expression="IF(requests > 0, (elb5xx + target5xx) / requests, 0)",
        using_metrics={
            "elb5xx": metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, **counts),
            "target5xx": metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, **counts),
            "requests": metrics.request_count(**counts),
        },
        period=counts["period"],
        label="5XX rate",
    )


def layer_alarms(
    scope: Construct,
    prefix: str,
    *,
    load_balancer: elbv2.ApplicationLoadBalancer,
    target_group: elbv2.ApplicationTargetGroup,
    group: autoscaling.AutoScalingGroup,
    min_capacity: int,
    error_rate_threshold: float,
    response_time: Duration,
) -> dict[str, cloudwatch.Alarm]:
    """5XX rate, p99 response time, unhealthy hosts and in-service below minimum, for one layer."""
    in_service = build_metric(
        "AWS/AutoScaling",
        "GroupInServiceInstances",
        {"AutoScalingGroupName": group.auto_scaling_group_name},
        statistic="Minimum",
        period=_MINUTE,
    )
    specs: list[
        tuple[str, cloudwatch.IMetric, float, cloudwatch.ComparisonOperator, str, cloudwatch.TreatMissingData]
    ] = [
        (
            "5xxRate",
            error_rate(load_balancer),
            error_rate_threshold,
            _GT,
            f"{prefix}: more than {error_rate_threshold:.1%} 5XX",
            _QUIET,
        ),
        (
            "ResponseTime",
            load_balancer.metrics.target_response_time(statistic="p99", period=_MINUTE),
            response_time.to_milliseconds() / 1000,
            _GT,
            f"{prefix}: p99 response time above {response_time.to_human_string()}",
            _QUIET,
        ),
        (
            "UnhealthyHosts",
            target_group.metrics.unhealthy_host_count(statistic="Maximum", period=_MINUTE),
            0,
            _GT,
            f"{prefix}: the load balancer sees unhealthy instances",
            cloudwatch.TreatMissingData.MISSING,
        ),
        (
            "InServiceBelowMinimum",
            in_service,
            min_capacity,
            _LT,
            f"{prefix}: fewer than {min_capacity} instances in service",
            cloudwatch.TreatMissingData.BREACHING,
        ),
    ]
    return {
        f"{prefix}{name}": build_alarm(
            scope,
            f"{prefix}{name}",
            metric=metric,
            threshold=threshold,
            comparison=cmp,
            description=text,
            treat_missing_data=missing,
        )
        for name, metric, threshold, cmp, text, missing in specs
    }


def database_alarms(scope: Construct, cluster: rds.DatabaseCluster) -> dict[str, cloudwatch.Alarm]:
    """Writer CPU, replica lag and freeable memory of the Aurora cluster."""
    lag = build_metric(
        "AWS/RDS",
        "AuroraReplicaLagMaximum",
        {"DBClusterIdentifier": cluster.cluster_identifier},
        statistic="Maximum",
        period=_MINUTE,
    )
    return {
        "DatabaseCpu": build_alarm(
            scope,
            "DatabaseCpu",
            metric=cluster.metric_cpu_utilization(period=FIVE_MINUTES),
            threshold=80,
            comparison=_GT,
            description="Aurora CPU above 80%",
        ),
        "DatabaseReplicaLag": build_alarm(
            scope,
            "DatabaseReplicaLag",
            metric=lag,
            threshold=1000,
            comparison=_GT,
            description="Aurora replica lag above 1 s (a failover would lose more)",
        ),
        "DatabaseFreeableMemory": build_alarm(
            scope,
            "DatabaseFreeableMemory",
            metric=cluster.metric_freeable_memory(period=FIVE_MINUTES),
            threshold=256 * 1024 * 1024,
            comparison=_LT,
            description="Aurora freeable memory below 256 MiB",
        ),
    }


def global_replication_lag_alarm(scope: Construct, cluster: rds.DatabaseCluster) -> cloudwatch.Alarm:
    """A secondary of an Aurora Global Database: AuroraGlobalDBReplicationLag (milliseconds the secondary
    trails the primary) above 1 s for 3 minutes, the data an unplanned failover would lose."""
    lag = build_metric(
        "AWS/RDS",
        "AuroraGlobalDBReplicationLag",
        {"DBClusterIdentifier": cluster.cluster_identifier},
        statistic="Maximum",
        period=_MINUTE,
    )
    return build_alarm(
        scope,
        "DatabaseGlobalReplicationLag",
        metric=lag,
        threshold=1000,
        comparison=_GT,
        description="Aurora Global Database: this secondary trails the primary by more than 1 s",
    )


def composite_alarm(
    scope: Construct,
    *,
    load_balancer: elbv2.ApplicationLoadBalancer,
    group: autoscaling.AutoScalingGroup,
    cpu_percent: float,
    error_rate_threshold: float,
    response_time: Duration,
) -> tuple[cloudwatch.CompositeAlarm, list[cloudwatch.Alarm]]:
    """The application is in trouble when all three hold: CPU above ``cpu_percent`` for 5 minutes AND
    5XX rate above ``error_rate_threshold`` for 3 minutes AND average response time above
    ``response_time`` for 3 minutes (one-minute periods, every period breaching). Returns the
    composite alarm and its three members (which notify only through it)."""
    cpu = build_metric(
        "AWS/EC2",
        "CPUUtilization",
        {"AutoScalingGroupName": group.auto_scaling_group_name},
        statistic="Average",
        period=_MINUTE,
    )
    parts: dict[str, tuple[cloudwatch.IMetric, float, int, str]] = {
        "HighCpu": (cpu, cpu_percent, 5, f"Front CPU above {cpu_percent}% for 5 minutes"),
        "HighErrorRate": (
            error_rate(load_balancer),
            error_rate_threshold,
            3,
            f"5XX above {error_rate_threshold:.1%} for 3 minutes",
        ),
        "SlowResponses": (
            load_balancer.metrics.target_response_time(statistic="Average", period=_MINUTE),
            response_time.to_milliseconds() / 1000,
            3,
            f"Response time above {response_time.to_human_string()} for 3 minutes",
        ),
    }
    members = [
        build_alarm(
            scope,
            name,
            metric=metric,
            threshold=threshold,
            comparison=_GT,
            description=text,
            evaluation_periods=periods,
            treat_missing_data=_QUIET,
        )
        for name, (metric, threshold, periods, text) in parts.items()
    ]
    for member in members:
        acknowledge(
            member,
            "A member of the composite alarm 'Degraded', which notifies the alarm topic: each condition alone is "
            "not worth a page, all three together are.",
            "HIPAA.Security-CloudWatchAlarmAction",
            "NIST.800.53.R5-CloudWatchAlarmAction",
        )
    rules = [cloudwatch.AlarmRule.from_alarm(member, cloudwatch.AlarmState.ALARM) for member in members]
    degraded = cloudwatch.CompositeAlarm(
        scope,
        "Degraded",
        alarm_rule=cloudwatch.AlarmRule.all_of(*rules),
        alarm_description="Degraded: high CPU AND errors AND slow responses together",
    )
    return degraded, members


def request_anomaly_alarm(
    scope: Construct, load_balancer: elbv2.ApplicationLoadBalancer
) -> cloudwatch.AnomalyDetectionAlarm:
    """Requests outside the band CloudWatch learned (2 standard deviations), for 3 of 3 five-minute periods."""
    return cloudwatch.AnomalyDetectionAlarm(
        scope,
        "RequestAnomaly",
        metric=load_balancer.metrics.request_count(period=FIVE_MINUTES, statistic="Sum"),
        std_devs=2,
        evaluation_periods=3,
        datapoints_to_alarm=3,
        comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_LOWER_OR_GREATER_THAN_UPPER_THRESHOLD,
        alarm_description="Public ALB request count outside its expected band",
        treat_missing_data=_QUIET,
    )
