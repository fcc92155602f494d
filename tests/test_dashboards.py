"""Dashboards and "architecture health" composite alarms of every construct.

What each dashboard plots (by namespace and metric name), that each health alarm's rule names every
alarm of its construct and notifies its topic, the ``dashboard`` and ``alarm_topic`` props, and the
public check :func:`refarch.testing.check_operations_view` on every reference stack and example.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.constructs import (
    EncryptedDataStore,
    ImageProcessor,
    NatStrategy,
    PrivateApi,
    ResilientWebApp,
    StreamingPipeline,
    ThreeTierVpc,
)
from refarch.testing import SynthesizedTemplate, check_operations_view, check_permissions
from refarch.testing.operations import COMPOSITE_ALARM, DASHBOARD, composite_rule_alarms, dashboards
from tests.harness import DEPLOY_TARGETS, BadProp, ReferenceStacks, assert_fails_early
from tests.test_image_handlers import Ctx, _upload, aws, handlers  # noqa: F401

Outputs = Callable[[str], list[SynthesizedTemplate]]

#: Reference stack -> (attribute of the stack holding the construct, metrics its dashboard must plot).
EXPECTED_METRICS: dict[str, tuple[str, set[tuple[str, str]]]] = {
    "ThreeTierVpcStack": (
        "network",
        {
            ("AWS/NATGateway", "ErrorPortAllocation"),
            ("AWS/NATGateway", "PacketsDropCount"),
            ("AWS/NATGateway", "ActiveConnectionCount"),
            ("AWS/Logs", "IncomingLogEvents"),
            ("AWS/PrivateLinkEndpoints", "PacketsDropped"),
            ("AWS/PrivateLinkEndpoints", "BytesProcessed"),
        },
    ),
    "PrivateApiStack": (
        "api",
        {
            ("AWS/ApiGateway", "Count"),
            ("AWS/ApiGateway", "4XXError"),
            ("AWS/ApiGateway", "5XXError"),
            ("AWS/ApiGateway", "Latency"),
            ("AWS/WAFV2", "BlockedRequests"),
            ("AWS/NetworkELB", "HealthyHostCount"),
            ("AWS/AutoScaling", "GroupInServiceInstances"),
            ("AWS/AutoScaling", "GroupDesiredCapacity"),
            ("AWS/RDS", "CPUUtilization"),
            ("AWS/RDS", "DatabaseConnections"),
            ("AWS/RDS", "FreeStorageSpace"),
        },
    ),
    "StreamingPipelineStack": (
        "pipeline",
        {
            ("AWS/Kinesis", "IncomingRecords"),
            ("AWS/Lambda", "IteratorAge"),
            ("AWS/Lambda", "Errors"),
            ("refarch/StreamingPipeline", "RecordsFailed"),
            ("refarch/StreamingPipeline", "RecordsQuarantined"),
            ("refarch/StreamingPipeline", "ObjectsWritten"),
            ("AWS/SQS", "NumberOfMessagesSent"),
            ("AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds"),
            ("AWS/Redshift-Serverless", "ComputeCapacity"),
        },
    ),
    "ImageProcessorStack": (
        "images",
        {
            ("AWS/States", "ExecutionsStarted"),
            ("AWS/States", "ExecutionsSucceeded"),
            ("AWS/States", "ExecutionsFailed"),
            ("AWS/Lambda", "Duration"),
            ("AWS/Events", "FailedInvocations"),
            ("refarch/ImageProcessor", "ImagesRejected"),
        },
    ),
    "EncryptedDataStoreStack": (
        "store",
        {
            ("CISBenchmark", "UnauthorizedApiCalls"),
            ("CISBenchmark", "RootAccountUsage"),
            ("CISBenchmark", "DataKeyErrors"),
            ("CISBenchmark", "DataBucketErrors"),
            ("AWS/DynamoDB", "ThrottledRequests"),
            ("AWS/DynamoDB", "SystemErrors"),
            ("AWS/RDS", "CPUUtilization"),
        },
    ),
}


def _logical_id(construct: Construct) -> str:
    child = construct.node.default_child
    assert isinstance(child, cdk.CfnElement), construct.node.path
    return str(cdk.Stack.of(construct).resolve(child.logical_id))


def _construct(reference_stacks: ReferenceStacks, name: str) -> Any:
    attribute, _ = EXPECTED_METRICS[name]
    return getattr(reference_stacks[name].stack, attribute)


# -- every reference stack and example -------------------------------------------------------------


@pytest.mark.parametrize("target", DEPLOY_TARGETS)
def test_every_alarm_notifies_is_in_a_health_alarm_and_on_a_dashboard(target: str, deploy_outputs: Outputs) -> None:
    outputs = deploy_outputs(target)
    assert any(dashboards(o) for o in outputs), f"{target} has no dashboard"
    assert any(COMPOSITE_ALARM in {r["Type"] for r in o.resources.values()} for o in outputs), (
        f"{target} has no composite alarm"
    )
    findings = [str(f) for o in outputs for f in check_operations_view(o)]
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize("name", sorted(EXPECTED_METRICS))
def test_the_dashboard_plots_what_says_the_construct_works(name: str, reference_stacks: ReferenceStacks) -> None:
    construct = _construct(reference_stacks, name)
    board_id = _logical_id(construct.dashboard)
    (board,) = [b for b in dashboards(reference_stacks[name].output) if b.logical_id == board_id]
    # A generated name by default: no fixed physical name to collide with on the next create.
    assert "DashboardName" not in reference_stacks[name].output.resources[board_id]["Properties"]
    shown = {(m.namespace, m.metric_name) for m in board.metrics()}
    _, expected = EXPECTED_METRICS[name]
    assert expected <= shown, f"missing from {board_id}: {sorted(expected - shown)}"
    # An AWS metric without dimensions is the account's total (or nothing): never what a construct means.
    unscoped = [m for m in board.metrics() if m.namespace.startswith("AWS/") and not m.dimensions]
    assert not unscoped, unscoped


@pytest.mark.parametrize("name", sorted(EXPECTED_METRICS))
def test_the_health_alarm_names_every_alarm_and_notifies_the_topic(
    name: str, reference_stacks: ReferenceStacks
) -> None:
    construct = _construct(reference_stacks, name)
    resources = reference_stacks[name].output.resources
    health = resources[_logical_id(construct.health_alarm)]["Properties"]
    alarm_ids = {_logical_id(alarm) for alarm in construct.alarms.values()}
    assert alarm_ids, f"{name}: the construct has no alarms, so the rule proves nothing"
    assert set(composite_rule_alarms(health)) == alarm_ids
    assert health["AlarmRule"]["Fn::Join"][1][0].startswith('(ALARM("'), "any_of renders as ALARM(..) OR ALARM(..)"
    topic = {"Ref": _logical_id(construct.alarm_topic)}
    assert health["AlarmActions"] == [topic]
    assert health["OKActions"] == [topic]
    assert health["ActionsEnabled"] is True
    board_id = _logical_id(construct.dashboard)
    board = next(b for b in dashboards(reference_stacks[name].output) if b.logical_id == board_id)
    assert set(board.alarms()) == alarm_ids | {_logical_id(construct.health_alarm)}


def test_rejected_images_are_counted_from_the_validate_log(reference_stacks: ReferenceStacks) -> None:
    images = reference_stacks["ImageProcessorStack"].stack.images  # type: ignore[attr-defined]
    filters = reference_stacks["ImageProcessorStack"].resources("AWS::Logs::MetricFilter")
    (rejected,) = [f["Properties"] for f in filters.values() if "ImagesRejected" in str(f)]
    assert rejected["LogGroupName"] == {"Ref": _logical_id(images.validate_function.log_group)}
    assert rejected["FilterPattern"] == '{ ($.message = "validated") && ($.valid IS FALSE) }'
    (transformation,) = rejected["MetricTransformations"]
    assert transformation["Dimensions"] == [{"Key": "FunctionName", "Value": "$.function_name"}]


# -- the check fails when an alarm is left out -----------------------------------------------------


def test_an_alarm_left_out_of_the_health_rule_and_the_dashboard_is_named(reference_stacks: ReferenceStacks) -> None:
    output = reference_stacks["ImageProcessorStack"].output
    template = copy.deepcopy(output.template)
    resources = template["Resources"]
    (composite,) = [r for r in resources.values() if r["Type"] == COMPOSITE_ALARM]
    left_out = composite_rule_alarms(composite["Properties"])[0]
    parts = composite["Properties"]["AlarmRule"]["Fn::Join"][1]
    composite["Properties"]["AlarmRule"]["Fn::Join"][1] = [p for p in parts if p != {"Fn::GetAtt": [left_out, "Arn"]}]
    for board in (r for r in resources.values() if r["Type"] == DASHBOARD):
        body = board["Properties"]["DashboardBody"]["Fn::Join"][1]
        board["Properties"]["DashboardBody"]["Fn::Join"][1] = [
            "" if p == {"Fn::GetAtt": [left_out, "Arn"]} else p for p in body
        ]
    del resources[left_out]["Properties"]["AlarmActions"]

    findings = {(f.rule, f.logical_id) for f in check_operations_view(SynthesizedTemplate(output.name, template))}

    assert {
        ("OPS-NOT-IN-HEALTH", left_out),
        ("OPS-NOT-ON-DASHBOARD", left_out),
        ("OPS-NO-ACTION", left_out),
    } <= findings, findings


def test_the_topic_key_must_admit_cloudwatch_for_the_composite_alarm(reference_stacks: ReferenceStacks) -> None:
    """Without the key statement for CloudWatch, the composite alarm cannot publish: the check says so,
    even when no metric alarm is left to need the same statement."""
    output = reference_stacks["PrivateApiStack"].output
    template = copy.deepcopy(output.template)
    resources = template["Resources"]
    for logical_id in [k for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"]:
        del resources[logical_id]
    key = next(r for k, r in resources.items() if k.startswith("AlarmTopicKey") and r["Type"] == "AWS::KMS::Key")
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    key["Properties"]["KeyPolicy"]["Statement"] = [s for s in statements if s.get("Sid") != "AllowCloudWatchAlarms"]
    assert len(key["Properties"]["KeyPolicy"]["Statement"]) == len(statements) - 1

    findings = check_permissions(SynthesizedTemplate(output.name, template, output.metadata))

    cloudwatch_findings = [f for f in findings if f.principal == "cloudwatch.amazonaws.com"]
    assert cloudwatch_findings, [str(f) for f in findings]
    assert any("PrivateApiHealthAlarm" in str(f) for f in cloudwatch_findings), [str(f) for f in cloudwatch_findings]


# -- the props --------------------------------------------------------------------------------------


def test_dashboard_false_builds_none_and_a_name_names_it(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    off = ThreeTierVpc(stack, "Off", max_azs=2, nat_strategy=NatStrategy.SINGLE, dashboard=False)
    named = ThreeTierVpc(stack, "Named", max_azs=2, nat_strategy=NatStrategy.SINGLE, dashboard="network-ops_1")
    quiet = ThreeTierVpc(stack, "Quiet", max_azs=2, nat_strategy=NatStrategy.NONE, flow_logs=False)
    resources = cdk.assertions.Template.from_stack(stack).to_json()["Resources"]

    boards = {k: r for k, r in resources.items() if r["Type"] == DASHBOARD}
    assert off.dashboard is None and not [k for k in boards if k.startswith("Off")]
    assert off.health_alarm is not None, "the health alarm does not depend on the dashboard"
    assert boards[_logical_id(named.dashboard)]["Properties"]["DashboardName"] == "network-ops_1"
    # Without NAT gateways and flow logs there is nothing to alarm on or plot: no topic, alarm or dashboard.
    assert quiet.alarms == {} and quiet.health_alarm is None and quiet.alarm_topic is None
    assert quiet.dashboard is None
    assert not [k for k, r in resources.items() if k.startswith("Quiet") and r["Type"] == "AWS::SNS::Topic"]
    assert named.alarm_topic is not None


def test_a_given_topic_is_used_and_no_other_is_made(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    topic = sns.Topic.from_topic_arn(stack, "Ops", "arn:aws:sns:eu-west-1:123456789012:ops")
    network = ThreeTierVpc(stack, "Network", max_azs=2, nat_strategy=NatStrategy.SINGLE, alarm_topic=topic)
    template = cdk.assertions.Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 0)
    assert network.alarm_topic is topic
    health = template.find_resources(COMPOSITE_ALARM)
    (props,) = [r["Properties"] for r in health.values()]
    assert props["AlarmActions"] == ["arn:aws:sns:eu-west-1:123456789012:ops"]


def _network(stack: cdk.Stack) -> dict[str, Any]:
    return {"vpc": ThreeTierVpc(stack, "Network", max_azs=2, nat_strategy=NatStrategy.SINGLE)}


#: Each construct, and what it needs besides the bad prop (EncryptedDataStore a retention; ResilientWebApp a
#: network, which it takes only as a ThreeTierVpc).
_SUBJECTS: dict[str, tuple[type, Callable[[cdk.Stack], dict[str, Any]]]] = {
    "ThreeTierVpc": (ThreeTierVpc, lambda stack: {}),
    "PrivateApi": (PrivateApi, lambda stack: {}),
    "StreamingPipeline": (StreamingPipeline, lambda stack: {}),
    "ImageProcessor": (ImageProcessor, lambda stack: {}),
    "EncryptedDataStore": (EncryptedDataStore, lambda stack: {"data_retention": Duration.days(30)}),
    "ResilientWebApp": (ResilientWebApp, _network),
}

#: The operations props every construct shares, each wrong in one way, with what the error must say.
_OPERATIONS_BAD_PROPS: list[tuple[str, Any, str]] = [
    ("dashboard", 3, "a bool or a str"),
    ("dashboard", "", "invalid dashboard=''"),  # "must not be empty", or the name rule: both say it is wrong
    ("dashboard", "ops dashboard!", "each a letter, a digit, '-' or '_'"),
    ("dashboard", "x" * 256, "1 to 255 characters"),
    ("alarm_topic", "arn:aws:sns:eu-west-1:123456789012:ops", "an ITopic"),
]


@pytest.mark.parametrize("owner", sorted(_SUBJECTS))
@pytest.mark.parametrize(("prop", "value", "says"), _OPERATIONS_BAD_PROPS)
def test_bad_operations_props_fail_before_anything_is_built(owner: str, prop: str, value: Any, says: str) -> None:
    construct, needs = _SUBJECTS[owner]
    case = BadProp(prop, lambda stack: {**needs(stack), prop: value}, says=says)
    assert_fails_early(construct, case)


def test_a_composite_alarm_with_no_alarms_is_not_made(make_stack: Callable[..., cdk.Stack]) -> None:
    from refarch.constructs._dashboards import build_health_alarm

    stack = make_stack()
    assert build_health_alarm(stack, title="empty", alarms={}, topic=None) is None
    alarm = cloudwatch.Alarm(
        stack,
        "A",
        metric=cloudwatch.Metric(namespace="N", metric_name="M"),
        threshold=1,
        evaluation_periods=1,
    )
    health = build_health_alarm(stack, title="one", alarms={"A": alarm}, topic=None)
    assert health is not None


def test_the_validate_handler_logs_what_the_rejected_images_filter_reads(
    aws: Any,  # noqa: F811 (the moto fixture of test_image_handlers)
) -> None:
    """The filter matches ``message == "validated"`` and ``valid`` false, and takes ``function_name`` as the
    dimension: a rejected upload must log exactly those fields (if the handler's log changes, this fails)."""
    item = _upload(aws, "uploads/diary.jpg", b"Dear diary, not a photo\n")
    stream = io.StringIO()
    copy_of_log = logging.StreamHandler(stream)
    copy_of_log.setFormatter(handlers.logger.registered_formatter)  # the JSON Lambda writes
    level = handlers.logger.log_level
    handlers.logger.addHandler(copy_of_log)
    handlers.logger.setLevel("INFO")
    try:
        assert handlers.validate(item, Ctx())["valid"] is False
    finally:
        handlers.logger.setLevel(level)
        handlers.logger.removeHandler(copy_of_log)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    verdicts = [line for line in lines if line.get("message") == "validated"]
    assert verdicts, lines
    assert verdicts[0]["valid"] is False
    assert verdicts[0]["function_name"] == Ctx.function_name


def test_a_brought_key_is_not_changed_and_the_topic_gets_its_own(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    key = kms.Key(stack, "MyKey", enable_key_rotation=True)
    network = ThreeTierVpc(stack, "Network", max_azs=2, nat_strategy=NatStrategy.SINGLE, encryption_key=key)
    resources = cdk.assertions.Template.from_stack(stack).to_json()["Resources"]
    keys = {k: r for k, r in resources.items() if r["Type"] == "AWS::KMS::Key"}
    mine = keys.pop(_logical_id(key))
    assert "AllowCloudWatchAlarms" not in json.dumps(mine), "the user's key policy is theirs"
    (topic_key,) = keys
    topic = resources[_logical_id(network.alarm_topic)]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [topic_key, "Arn"]}
    assert "AllowCloudWatchAlarms" in json.dumps(keys[topic_key])


def test_a_silent_member_of_a_paging_composite_is_not_an_unnotified_alarm(reference_stacks: ReferenceStacks) -> None:
    """ResilientWebApp's 'Degraded' members notify only through the composite; take the composite's
    actions away and each member is reported as notifying nobody."""
    output = reference_stacks["ResilientWebAppStack"].output
    degraded = [k for k, r in output.resources.items() if k.startswith("AppAlarmsDegraded")]
    assert len(degraded) == 1
    members = composite_rule_alarms(output.resources[degraded[0]]["Properties"])
    assert len(members) == 3 and all(not output.resources[m]["Properties"].get("AlarmActions") for m in members)
    assert not check_operations_view(output)

    template = copy.deepcopy(output.template)
    template["Resources"][degraded[0]]["Properties"].pop("AlarmActions")
    broken = SynthesizedTemplate(output.name, template, output.metadata)
    silent = {f.logical_id for f in check_operations_view(broken) if f.rule == "OPS-NO-ACTION"}
    assert set(members) <= silent
