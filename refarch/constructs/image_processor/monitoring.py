"""What says an ImageProcessor works: uploads that start executions, executions started, succeeded
and failed, how long each state's function takes, and how many uploads are rejected.

Rejected images have no metric of their own: the validate handler logs each verdict as structured
JSON (Powertools: ``{"message": "validated", "valid": false, "reason": ..., "function_name": ...}``),
and :func:`build_rejected_images_metric` counts the rejections with a metric filter on its log group.
The alarms page on failed, timed-out and throttled executions.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from refarch.constructs import _dashboards
from refarch.constructs._dashboards import Panel
from refarch.constructs._metrics import FIVE_MINUTES, build_metric

#: Namespace and name of the rejected-images metric, per validate function (dimension ``FunctionName``).
REJECTED_NAMESPACE = "refarch/ImageProcessor"
REJECTED_METRIC = "ImagesRejected"


def build_monitoring(
    scope: Construct,
    *,
    state_machine: sfn.StateMachine,
    rule: events.Rule,
    functions: Mapping[str, lambda_.Function],
    topic: sns.ITopic,
    dashboard: bool | str,
) -> tuple[dict[str, cloudwatch.Alarm], cloudwatch.Dashboard | None, cloudwatch.CompositeAlarm | None]:
    """The alarms (each notifying ``topic``), the dashboard and the health alarm."""
    alarms = build_alarms(scope, state_machine, topic)
    dashboard_, health_alarm = _dashboards.build_operations_view(
        scope,
        dashboard=dashboard,
        title=scope.node.path,
        panels=image_panels(
            rule=rule,
            state_machine=state_machine,
            functions=functions,
            rejected=build_rejected_images_metric(scope, functions["ValidateImage"]),
        ),
        alarms=alarms,
        topic=topic,
    )
    return alarms, dashboard_, health_alarm


def build_alarms(scope: Construct, state_machine: sfn.StateMachine, topic: sns.ITopic) -> dict[str, cloudwatch.Alarm]:
    """One alarm per way an execution goes wrong: failed, timed out, throttled."""
    alarms = {
        name: cloudwatch.Alarm(
            scope,
            f"Executions{name}Alarm",
            alarm_description=f"{scope.node.path}: executions {name.lower()}",
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for name, metric in (
            ("Failed", state_machine.metric_failed(period=FIVE_MINUTES, statistic="Sum")),
            ("TimedOut", state_machine.metric_timed_out(period=FIVE_MINUTES, statistic="Sum")),
            ("Throttled", state_machine.metric_throttled(period=FIVE_MINUTES, statistic="Sum")),
        )
    }
    for alarm in alarms.values():
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    return alarms


def build_rejected_images_metric(scope: Construct, validate_function: lambda_.Function) -> cloudwatch.Metric:
    """A metric filter on the validate function's log group counting ``valid: false`` verdicts; its metric."""
    logs.MetricFilter(
        scope,
        "RejectedImagesFilter",
        log_group=validate_function.log_group,
        filter_pattern=logs.FilterPattern.all(
            logs.FilterPattern.string_value("$.message", "=", "validated"),
            logs.FilterPattern.boolean_value("$.valid", False),
        ),
        metric_namespace=REJECTED_NAMESPACE,
        metric_name=REJECTED_METRIC,
        metric_value="1",
        # The function's name is in every log line (Powertools inject_lambda_context): one series per
        # ImageProcessor, even with several in one account and region.
        dimensions={"FunctionName": "$.function_name"},
    )
    return build_metric(
        REJECTED_NAMESPACE,
        REJECTED_METRIC,
        {"FunctionName": validate_function.function_name},
        label="rejected images",
    )


def image_panels(
    *,
    rule: events.Rule,
    state_machine: sfn.StateMachine,
    functions: Mapping[str, lambda_.IFunction],
    rejected: cloudwatch.IMetric,
) -> list[Panel]:
    """Graphs from upload to outcome: trigger, executions, duration per state, rejections."""
    period = FIVE_MINUTES
    return [
        Panel(
            "Uploads: executions started by EventBridge",
            [
                _rule_metric(rule, "TriggeredRules", "uploads matched"),
                _rule_metric(rule, "FailedInvocations", "failed to start"),
            ],
        ),
        Panel(
            "Executions: started, succeeded, failed",
            [
                state_machine.metric_started(statistic="Sum", period=period, label="started"),
                state_machine.metric_succeeded(statistic="Sum", period=period, label="succeeded"),
                state_machine.metric_failed(statistic="Sum", period=period, label="failed"),
                state_machine.metric_timed_out(statistic="Sum", period=period, label="timed out"),
            ],
            [state_machine.metric_time(statistic="p99", period=period, label="execution time p99")],
        ),
        Panel(
            "Duration per state, p99 (ms)",
            [
                function.metric_duration(statistic="p99", period=period, label=state)
                for state, function in functions.items()
            ],
            [
                function.metric_errors(statistic="Sum", period=period, label=f"{state} errors")
                for state, function in functions.items()
            ],
        ),
        Panel("Rejected images", [rejected]),
    ]


def _rule_metric(rule: events.Rule, metric_name: str, label: str) -> cloudwatch.Metric:
    return build_metric("AWS/Events", metric_name, {"RuleName": rule.rule_name}, label=label)
