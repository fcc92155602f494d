"""What says an ImageProcessor works: uploads that start executions, executions started, succeeded
and failed, how long each state's function takes, and how many uploads are rejected.

Rejected images have no metric of their own: the validate handler logs each verdict as structured
JSON (Powertools: ``{"message": "validated", "valid": false, "reason": ..., "function_name": ...}``),
and :func:`build_rejected_images_metric` counts the rejections with a metric filter on its log group.
(The alarms are built in ``ImageProcessor``.)
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from refarch.constructs._dashboards import Panel
from refarch.constructs._metrics import FIVE_MINUTES, build_metric

#: Namespace and name of the rejected-images metric, per validate function (dimension ``FunctionName``).
REJECTED_NAMESPACE = "refarch/ImageProcessor"
REJECTED_METRIC = "ImagesRejected"


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
