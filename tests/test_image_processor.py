"""ImageProcessor: buckets, trigger, state machine, functions and layer, table, topics, alarms,
grants, and bad props failing early."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match

from refarch.constructs import ImageProcessor, ImageProcessorProps, ImageRendition, PropValidationError, ThreeTierVpc
from refarch.constructs._props import prop_specs
from refarch.constructs.image_processor.grants import STATUS_READ_ACTIONS
from refarch.constructs.image_processor.workflow import LAMBDA_RETRY_ERRORS
from tests.harness import (
    BadProp,
    ReferenceStacks,
    SynthesizedStack,
    assert_fails_early,
    bad_prop_params,
    new_app,
    synth,
)

STACK = "ImageProcessorStack"


@pytest.fixture(scope="module")
def ref(reference_stacks: ReferenceStacks) -> SynthesizedStack:
    return reference_stacks[STACK]


@pytest.fixture(scope="module")
def variant() -> SynthesizedStack:
    """Review on, a VPC, a user's output bucket, no manifests, no filters, DESTROY for a dev stack."""
    stack = cdk.Stack(new_app(), "Variant")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    bucket = s3.Bucket(stack, "Mine", encryption=s3.BucketEncryption.S3_MANAGED)
    processor = ImageProcessor(
        stack,
        "Images",
        review=True,
        review_timeout=Duration.hours(2),
        vpc=vpc,
        output_bucket=bucket,
        manifest_suffix=None,
        removal_policy=RemovalPolicy.DESTROY,
    )
    reviewer = iam.Role(stack, "Reviewer", assumed_by=iam.AccountRootPrincipal())
    processor.grant_review(reviewer)
    return synth(stack)


def _definition(synthesized: SynthesizedStack) -> dict[str, Any]:
    (machine,) = synthesized.resources("AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "__TOKEN__" for p in parts)
    return json.loads(text)  # type: ignore[no-any-return]


def _states(definition: dict[str, Any]) -> dict[str, Any]:
    """Every state, nested ones (Map, Parallel) included, by name."""
    found: dict[str, Any] = {}

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            found[name] = state
            for branch in state.get("Branches", []):
                walk(branch["States"])
            if "ItemProcessor" in state:
                walk(state["ItemProcessor"]["States"])

    walk(definition["States"])
    return found


# -- storage and trigger -----------------------------------------------------------------------


def test_upload_bucket_is_encrypted_versioned_private_and_sends_events(ref: SynthesizedStack) -> None:
    ref.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"BucketKeyEnabled": True, "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
                ]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": Match.object_like(
                {"BlockPublicAcls": True, "RestrictPublicBuckets": True}
            ),
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "uploads/"}),
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
        },
    )
    # Native EventBridge setting: no custom-resource Lambda for bucket notifications.
    assert not ref.resources("Custom::S3BucketNotifications")


def test_renditions_bucket_expires_work_files(ref: SynthesizedStack) -> None:
    ref.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [Match.object_like({"Id": "ExpireWorkFiles", "Prefix": "work/", "ExpirationInDays": 1})]
                )
            }
        },
    )


def test_rule_matches_uploads_by_prefix_and_suffix_and_passes_the_version(ref: SynthesizedStack) -> None:
    (rule,) = ref.resources("AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    keys = {k["wildcard"] for k in pattern["detail"]["object"]["key"]}
    assert {"uploads/*.jpg", "uploads/*.JPG", "uploads/*.png", "uploads/*.manifest.json"} <= keys
    assert all(k.startswith("uploads/") for k in keys)
    target = rule["Properties"]["Targets"][0]
    assert target["InputTransformer"]["InputPathsMap"]["detail-object-version-id"] == "$.detail.object.version-id"
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 10}


def test_status_table_is_on_demand_encrypted_with_pitr(ref: SynthesizedStack) -> None:
    ref.template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "BillingMode": "PAY_PER_REQUEST",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
                    "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
                    "DeletionProtectionEnabled": True,
                }
            ),
        },
    )


def test_topics_are_encrypted_and_tls_only(ref: SynthesizedStack) -> None:
    topics = ref.resources("AWS::SNS::Topic")
    assert len(topics) == 2
    for topic in topics.values():
        assert "KmsMasterKeyId" in topic["Properties"]
    for policy in ref.resources("AWS::SNS::TopicPolicy").values():
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# -- functions and layer -----------------------------------------------------------------------


def test_one_layer_shared_by_every_function(ref: SynthesizedStack) -> None:
    (layer_id,) = ref.resources("AWS::Lambda::LayerVersion")
    functions = ref.resources("AWS::Lambda::Function")
    assert {f["Properties"]["Handler"] for f in functions.values()} == {
        "image_processor.handlers.validate",
        "image_processor.handlers.resize",
        "image_processor.handlers.apply_filters",
        "image_processor.handlers.optimize",
        "image_processor.manifest.load",
    }
    for function in functions.values():
        props = function["Properties"]
        assert props["Layers"] == [{"Ref": layer_id}]
        assert props["Runtime"] == "python3.14" and props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"} and "KmsKeyArn" in props
        assert "ReservedConcurrentExecutions" not in props  # opt-in: low-quota accounts reject any


def test_functions_get_the_configuration(ref: SynthesizedStack) -> None:
    function = next(
        f for f in ref.resources("AWS::Lambda::Function").values() if f["Properties"]["Handler"].endswith(".resize")
    )
    env = function["Properties"]["Environment"]["Variables"]
    assert json.loads(env["RENDITIONS"])[1] == {"name": "medium", "width": 800, "height": 600}
    assert json.loads(env["FILTERS"]) == ["sharpen"]
    assert (env["JPEG_QUALITY"], env["WEBP_QUALITY"], env["OUTPUT_FORMATS"]) == ("82", "80", "JPEG,WEBP")
    assert env["MAX_PIXELS"] == "50000000"


def test_function_permissions_are_narrow(ref: SynthesizedStack) -> None:
    policies = ref.resources("AWS::IAM::ManagedPolicy")
    validate = next(p for k, p in policies.items() if k.startswith("ImagesValidateFunctionRolePolicy"))
    statements = validate["Properties"]["PolicyDocument"]["Statement"]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    # Validation reads the upload and decrypts it; it writes nowhere but its own log group.
    assert actions == [
        "kms:Decrypt",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    ]
    text = json.dumps(policies)
    assert '"s3:*"' not in text and '"dynamodb:*"' not in text and "kms:ReEncrypt*" not in text
    assert not ref.resources("AWS::IAM::Policy"), "grants go to managed policies (HIPAA/NIST/PCI IAMNoInlinePolicy)"


# -- state machine -----------------------------------------------------------------------------


def test_state_machine_is_standard_logged_and_traced(ref: SynthesizedStack) -> None:
    ref.template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like({"Level": "ALL", "IncludeExecutionData": False}),
        },
    )


def test_definition_has_the_workflow(ref: SynthesizedStack) -> None:
    definition = _definition(ref)
    states = _states(definition)
    assert definition["StartAt"] == "IsManifest"
    for name in (
        "LoadManifest",
        "SingleImage",
        "ProcessImages",
        "CheckStatus",
        "ValidateImage",
        "IsValid",
        "ProcessImage",
        "ResizeImage",
        "ApplyFilters",
        "OptimizeImage",
        "RecordSuccess",
        "NotifySuccess",
        "RecordRejected",
        "NotifyRejected",
        "RecordFailure",
        "NotifyError",
        "ImageFailed",
    ):
        assert name in states, name
    assert states["ProcessImages"]["MaxConcurrency"] == 4
    assert states["ProcessImage"]["Type"] == "Parallel" and len(states["ProcessImage"]["Branches"]) == 2
    assert states["RecordSuccess"]["Resource"].endswith(":states:::dynamodb:putItem")
    assert states["NotifySuccess"]["Resource"].endswith(":states:::sns:publish")
    assert "AwaitReview" not in states


def test_every_lambda_task_retries_with_jitter_and_every_task_is_caught(ref: SynthesizedStack) -> None:
    states = _states(_definition(ref))
    for name, state in states.items():
        if state["Type"] != "Task":
            continue
        if state["Resource"] == "__TOKEN__":  # a Lambda function
            (retry,) = state["Retry"]
            assert retry["ErrorEquals"] == LAMBDA_RETRY_ERRORS
            assert retry["JitterStrategy"] == "FULL" and retry["BackoffRate"] == 2
        else:
            assert state["Retry"][0]["JitterStrategy"] == "FULL", name
        in_branch = name in ("ResizeImage", "ApplyFilters")  # caught by their Parallel
        terminal = name in ("RecordFailure", "NotifyError", "NotifyManifestError")
        if not in_branch and not terminal:
            assert state["Catch"][0]["ErrorEquals"] == ["States.ALL"], name


def test_alarms_on_failed_timed_out_and_throttled_executions(ref: SynthesizedStack) -> None:
    alarms = {a["Properties"]["MetricName"]: a["Properties"] for a in ref.resources("AWS::CloudWatch::Alarm").values()}
    assert set(alarms) == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionThrottled"}
    for alarm in alarms.values():
        assert alarm["Namespace"] == "AWS/States" and alarm["AlarmActions"]


def test_alarms_can_publish_to_the_encrypted_topic(ref: SynthesizedStack) -> None:
    ref.template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "AllowCloudWatchAlarms",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            }
                        )
                    ]
                )
            }
        },
    )


# -- the variant -------------------------------------------------------------------------------


def test_review_waits_for_a_task_token_with_a_timeout(variant: SynthesizedStack) -> None:
    states = _states(_definition(variant))
    review = states["AwaitReview"]
    assert review["Resource"].endswith(":states:::sns:publish.waitForTaskToken")
    assert review["TimeoutSeconds"] == 7200
    assert review["Parameters"]["Message"]["taskToken.$"] == "$$.Task.Token"
    assert review["Next"] == "RecordSuccess" and review["Catch"][0]["Next"] == "RecordFailure"
    assert states["OptimizeImage"]["Next"] == "AwaitReview"
    assert len(variant.resources("AWS::SNS::Topic")) == 3


def test_without_manifests_or_filters(variant: SynthesizedStack) -> None:
    definition = _definition(variant)
    states = _states(definition)
    assert definition["StartAt"] == "SingleImage" and "LoadManifest" not in states
    assert len(states["ProcessImage"]["Branches"]) == 1
    handlers = {
        f["Properties"]["Handler"]
        for f in variant.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Runtime") == "python3.14"
    }
    assert handlers == {
        "image_processor.handlers.validate",
        "image_processor.handlers.resize",
        "image_processor.handlers.optimize",
    }


def test_vpc_functions_and_user_bucket(variant: SynthesizedStack) -> None:
    for function in variant.resources("AWS::Lambda::Function").values():
        if function["Properties"].get("Runtime") == "python3.14":
            assert "VpcConfig" in function["Properties"]
    assert len(variant.resources("AWS::S3::Bucket")) == 3  # uploads, access logs, the user's own
    assert json.dumps(variant.json).count('"DeletionPolicy": "Delete"') >= 1


def test_grant_review_allows_task_responses(variant: SynthesizedStack) -> None:
    variant.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": [
                                    "states:SendTaskFailure",
                                    "states:SendTaskHeartbeat",
                                    "states:SendTaskSuccess",
                                ],
                            }
                        )
                    ]
                )
            }
        },
    )


def test_user_grants_are_narrow_and_leave_the_role_clean(make_stack: Callable[..., cdk.Stack]) -> None:
    from refarch.compliance import packs
    from refarch.constructs import ManagedPolicyRole

    stack = make_stack()
    processor = ImageProcessor(stack, "Images")
    uploader = ManagedPolicyRole(stack, "Uploader", assumed_by=iam.AccountRootPrincipal(), description="uploader")
    reader = ManagedPolicyRole(stack, "Reader", assumed_by=iam.AccountRootPrincipal(), description="reader")
    processor.grant_upload(uploader)
    processor.grant_read_renditions(reader)
    synthesized = synth(stack)
    policies = {
        k: v["Properties"]["PolicyDocument"]["Statement"]
        for k, v in synthesized.resources("AWS::IAM::ManagedPolicy").items()
        if k.startswith(("Uploader", "Reader"))
    }
    actions = {
        k[:6]: sorted(a for st in v for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"]))
        for k, v in policies.items()
    }
    assert actions == {
        "Upload": ["kms:Decrypt", "kms:GenerateDataKey", "s3:AbortMultipartUpload", "s3:PutObject"],
        "Reader": ["kms:Decrypt", "s3:GetObject", "s3:GetObjectVersion"],
    }
    assert '"/uploads/*"' in json.dumps(policies) and '"/renditions/*"' in json.dumps(policies)
    errors = [
        v.rule_name
        for pack in packs()
        for v in pack.validate_scope(stack).violations
        if v.severity == "error"
        and any(r.construct_path.startswith(("TestStack/Uploader", "TestStack/Reader")) for r in v.violating_resources)
    ]
    assert errors == []


def test_express_state_machine(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    ImageProcessor(stack, "Images", state_machine_type=sfn.StateMachineType.EXPRESS)
    synth(stack).template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {"StateMachineType": "EXPRESS", "LoggingConfiguration": Match.object_like({"Level": "ALL"})},
    )
    definition = _definition(synth(stack))
    assert definition["TimeoutSeconds"] == 300


def test_grant_review_needs_review(make_stack: Callable[..., cdk.Stack]) -> None:
    processor = ImageProcessor(make_stack(), "Images")
    with pytest.raises(PropValidationError, match="review"):
        processor.grant_review(iam.AccountRootPrincipal())


# -- the shared vocabulary: networks, connections, grants, metrics ------------------------------


def test_takes_a_three_tier_vpc_and_runs_in_its_app_tier(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    network = ThreeTierVpc(stack, "Network", max_azs=2, flow_logs=False)
    processor = ImageProcessor(stack, "Images", vpc=network, manifest_suffix=None)
    synthesized = synth(stack)
    app_subnets = {synthesized.stack.resolve(s.subnet_id)["Ref"] for s in network.app.subnets}
    functions = [
        f["Properties"]
        for f in synthesized.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Runtime") == "python3.14"
    ]
    assert len(functions) == 3
    (group_id,) = {
        group["Fn::GetAtt"][0] for f in functions for group in f["VpcConfig"]["SecurityGroupIds"]
    }  # one security group for every function
    for function in functions:
        assert {s["Ref"] for s in function["VpcConfig"]["SubnetIds"]} == app_subnets
    assert [synthesized.stack.resolve(g.security_group_id) for g in processor.connections.security_groups] == [
        {"Fn::GetAtt": [group_id, "GroupId"]}
    ]


def test_connections_are_empty_outside_a_vpc(make_stack: Callable[..., cdk.Stack]) -> None:
    assert ImageProcessor(make_stack(), "Images").connections.security_groups == []


def _granted_actions(grant: iam.Grant) -> list[str]:
    return sorted(action for statement in grant.principal_statements for action in statement.actions)


def test_each_grant_is_one_whole_grant_with_the_key(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    processor = ImageProcessor(stack, "Images", review=True)

    def role(name: str) -> iam.Role:
        return iam.Role(stack, name, assumed_by=iam.AccountRootPrincipal())

    assert _granted_actions(processor.grant_upload(role("Uploader"))) == [
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "s3:AbortMultipartUpload",
        "s3:PutObject",
    ]
    assert _granted_actions(processor.grant_read_renditions(role("Reader"))) == [
        "kms:Decrypt",
        "s3:GetObject",
        "s3:GetObjectVersion",
    ]
    assert _granted_actions(processor.grant_read_status(role("Status"))) == sorted(
        ["kms:Decrypt", "kms:DescribeKey", *STATUS_READ_ACTIONS]
    )
    review = processor.grant_review(role("Reviewer"))
    assert review.success
    assert _granted_actions(review) == [
        "kms:Decrypt",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
        "states:SendTaskSuccess",
    ]


def test_an_imported_output_bucket_leaves_no_finding_unacknowledged(make_stack: Callable[..., cdk.Stack]) -> None:
    """The functions' and a grantee's object-prefix IAM5 findings name the imported bucket by its ARN
    (``arn:<AWS::Partition>:s3:::name/prefix*``): the construct acknowledges those too."""
    from refarch.constructs import ManagedPolicyRole
    from refarch.testing.compliance import unacknowledged_errors

    stack = make_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Theirs", "their-renditions")
    processor = ImageProcessor(stack, "Images", output_bucket=bucket)
    reader = ManagedPolicyRole(stack, "Reader", assumed_by=iam.AccountRootPrincipal(), description="reader")
    processor.grant_read_renditions(reader)
    assert unacknowledged_errors(stack) == []


def test_a_users_sse_s3_output_bucket_gets_no_key_grant(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    bucket = s3.Bucket(stack, "Mine", encryption=s3.BucketEncryption.S3_MANAGED)
    processor = ImageProcessor(stack, "Images", output_bucket=bucket)
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    assert _granted_actions(processor.grant_read_renditions(reader)) == ["s3:GetObject", "s3:GetObjectVersion"]


def test_metrics_take_metric_options_and_the_caller_wins(make_stack: Callable[..., cdk.Stack]) -> None:
    processor = ImageProcessor(make_stack(), "Images")
    failed = processor.metric_failed(period=Duration.minutes(1), statistic="Average", label="failed")
    assert (failed.metric_name, failed.statistic, failed.period.to_seconds(), failed.label) == (
        "ExecutionsFailed",
        "Average",
        60,
        "failed",
    )
    succeeded = processor.metric_succeeded()
    assert (succeeded.metric_name, succeeded.statistic, succeeded.period.to_seconds()) == (
        "ExecutionsSucceeded",
        "Sum",
        300,
    )


def test_review_timeout_default_is_written_once() -> None:
    """The docstring and the README table read the default from the props entry: one day."""
    (spec,) = [s for s in prop_specs(ImageProcessorProps) if s.name == "review_timeout"]
    assert spec.prop.default.to_days() == 1 and spec.prop.needs == "review"
    doc = ImageProcessor.__init__.__doc__ or ""
    expected = "How long a review may take, in whole seconds. Allowed: 1 minute to 364 days. Default: `1 day`"
    assert f":param review_timeout: {expected}" in doc


# -- bad props ---------------------------------------------------------------------------------

R = ImageRendition
EXPRESS = sfn.StateMachineType.EXPRESS


def _vpc(**props: Any) -> Callable[[cdk.Stack], dict[str, Any]]:
    """Props with a plain two-AZ VPC (public and private subnets with egress) built in the case's stack."""

    def build(stack: cdk.Stack) -> dict[str, Any]:
        vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
        return {"vpc": vpc, **{k: v(vpc) if callable(v) else v for k, v in props.items()}}

    return build


def _public_only_vpc(stack: cdk.Stack) -> dict[str, Any]:
    public = ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC)
    return {"vpc": ec2.Vpc(stack, "Vpc", max_azs=2, subnet_configuration=[public])}


def _three_tier_web_subnets(stack: cdk.Stack) -> dict[str, Any]:
    network = ThreeTierVpc(stack, "Network", max_azs=2, flow_logs=False)
    return {"vpc": network, "vpc_subnets": network.web.subnet_selection}


BAD_PROPS: list[BadProp] = [
    BadProp("vpc_subnet", {"vpc_subnet": ec2.SubnetSelection()}, says="Did you mean 'vpc_subnets'?"),
    BadProp("reserved_concurrency", {"reserved_concurrency": 5}, says="has no such prop"),
    # renditions
    BadProp("renditions", {"renditions": []}, says="must not be empty"),
    BadProp("renditions", {"renditions": "thumbnail"}, says="list of ImageRendition"),
    BadProp("renditions", {"renditions": [("a", 10, 10)]}),
    BadProp("renditions", {"renditions": [R("a", 10, 10), R("a", 20, 20)]}, says="appear once"),
    BadProp("renditions[0].width", {"renditions": [R("a", 0, 10)]}, says="from 1 to 10000"),
    BadProp("renditions[1].height", {"renditions": [R("a", 10, 10), R("b", 10, -5)]}),
    BadProp("renditions[0].width", {"renditions": [R("a", 10.5, 10)]}),  # type: ignore[arg-type]
    BadProp("renditions[0].name", {"renditions": [R("Big One", 10, 10)]}),
    BadProp("renditions[0].name", {"renditions": [R("filtered", 10, 10)]}, says="'filtered' is reserved"),
    # filters and formats
    BadProp("filters", {"filters": "sharpen"}, says="list of str"),
    BadProp("filters[0]", {"filters": ["sepia"]}, says="one of"),
    BadProp("filters", {"filters": ["blur", "blur"]}, says="'blur' repeats"),
    BadProp("allowed_formats", {"allowed_formats": []}),
    BadProp("allowed_formats[0]", {"allowed_formats": ["HEIC"]}),
    BadProp("allowed_formats", {"allowed_formats": ["PNG", "PNG"]}),
    BadProp("output_formats[0]", {"output_formats": ["AVIF"]}),
    BadProp("output_formats", {"output_formats": []}),
    # qualities and limits
    BadProp("jpeg_quality", {"jpeg_quality": 0}, says="Allowed: a whole number from 1 to 100."),
    BadProp("jpeg_quality", {"jpeg_quality": 80.0}, says="whole number (int)"),
    BadProp("webp_quality", {"webp_quality": 101}),
    BadProp("webp_quality", {"webp_quality": True}),
    BadProp("max_bytes", {"max_bytes": 0}),
    BadProp("max_bytes", {"max_bytes": 2 * 1024**3}, says="memory_size=1769"),
    BadProp("max_bytes", {"max_bytes": 40_000_000.0}),  # would reach the handlers as "40000000.0"
    BadProp("max_pixels", {"max_pixels": 1000}, says="largest rendition"),
    BadProp("max_pixels", {"max_pixels": 10**9}),
    # keys
    BadProp("upload_prefix", {"upload_prefix": "up*/"}),
    BadProp("upload_prefix", {"upload_prefix": ""}, says="must not be empty"),
    BadProp("upload_prefix", {"upload_prefix": "/uploads/"}),
    BadProp("original_retention", {"original_retention": Duration.days(0)}),
    BadProp("original_retention", {"original_retention": Duration.hours(36)}, says="whole number of days"),
    BadProp("original_retention", {"original_retention": 365}, says="Duration"),
    BadProp("upload_suffixes[0]", {"upload_suffixes": ["jpg"]}),
    BadProp("upload_suffixes", {"upload_suffixes": [".jpg", ".JPG"]}),
    BadProp("upload_suffixes", {"upload_suffixes": ".jpg"}),
    BadProp("upload_suffixes", {"upload_suffixes": []}),
    BadProp("manifest_suffix", {"manifest_suffix": ".png"}, says="differ from every upload suffix"),
    BadProp("manifest_suffix", {"manifest_suffix": ""}),
    BadProp("max_manifest_items", {"max_manifest_items": 0}),
    BadProp("max_manifest_items", {"max_manifest_items": 5000}),
    BadProp("max_manifest_items", {"manifest_suffix": None, "max_manifest_items": 10}, says="manifest_suffix"),
    BadProp("max_concurrency", {"max_concurrency": 0}),
    BadProp("max_concurrency", {"max_concurrency": 41}),
    BadProp("output_bucket", {"output_bucket": "my-bucket"}, says="IBucket"),
    BadProp("output_prefix", {"output_prefix": "work/renditions/"}, says="work files"),
    BadProp("output_prefix", {"output_prefix": "w"}),
    # the workflow
    BadProp("state_machine_type", {"state_machine_type": "EXPRESS"}),
    BadProp("timeout", {"state_machine_type": EXPRESS, "timeout": Duration.minutes(10)}, says="Express"),
    BadProp("timeout", {"timeout": Duration.millis(90_500)}, says="whole number of seconds"),
    BadProp(
        "timeout",
        {"review": True, "review_timeout": Duration.hours(2), "timeout": Duration.hours(1)},
        says="longer than review_timeout",
    ),
    BadProp("review", {"review": "yes"}),
    BadProp("review", {"review": True, "state_machine_type": EXPRESS}, says="STANDARD"),
    BadProp("review_timeout", {"review_timeout": Duration.hours(1)}, says="only takes effect with review"),
    BadProp("review_timeout", {"review": True, "review_timeout": Duration.days(400)}),
    BadProp("review_timeout", {"review": True, "review_timeout": 3600}),
    BadProp("log_execution_data", {"log_execution_data": 1}),
    # the functions
    BadProp("encryption_key", {"encryption_key": "alias/images"}, says="IKey"),
    BadProp("architecture", {"architecture": "arm64"}),
    BadProp("memory_size", {"memory_size": 128}),
    BadProp("memory_size", {"memory_size": 20_000}),
    BadProp("function_timeout", {"function_timeout": Duration.minutes(20)}),
    BadProp("function_timeout", {"function_timeout": Duration.millis(30_500)}, says="whole number of seconds"),
    BadProp("reserved_concurrent_executions", {"reserved_concurrent_executions": 0}),
    BadProp("reserved_concurrent_executions", {"reserved_concurrent_executions": 5.0}),
    BadProp("retry_interval", {"retry_interval": Duration.seconds(0)}),
    BadProp("retry_attempts", {"retry_attempts": 11}),
    BadProp("retry_attempts", {"retry_attempts": -1}),
    # the network
    BadProp("vpc", {"vpc": "vpc-0123456789abcdef0"}, says="IVpc or a ThreeTierVpc"),
    BadProp("vpc_subnets", {"vpc_subnets": ec2.SubnetSelection()}, says="only takes effect with vpc"),
    BadProp("vpc", _public_only_vpc, says="picks no private subnets with egress"),
    BadProp(
        "vpc_subnets",
        _vpc(vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)),
        says="public subnets",
    ),
    BadProp(
        "vpc_subnets",
        _vpc(vpc_subnets=ec2.SubnetSelection(subnet_group_name="Nope")),
        says="no subnet groups with name 'Nope'",
    ),
    BadProp("vpc_subnets", _three_tier_web_subnets, says="public subnets"),
    # shared props
    BadProp("log_retention", {"log_retention": Duration.days(30)}, says="RetentionDays"),
    BadProp("log_retention", {"log_retention": 30}),
    BadProp("removal_policy", {"removal_policy": "retain"}),
    BadProp("alarm_topic", {"alarm_topic": "arn:aws:sns:eu-west-1:123456789012:alarms"}, says="ITopic"),
    BadProp("dashboard", {"dashboard": "my dashboard"}),
    BadProp("dashboard", {"dashboard": ""}),
    BadProp("dashboard", {"dashboard": 3}, says="a bool or a str"),
    BadProp("dashboard", {"dashboard": "x" * 256}, says="1 to 255 characters"),
]


@pytest.mark.parametrize("case", bad_prop_params(BAD_PROPS))
def test_bad_props_fail_early(case: BadProp) -> None:
    assert_fails_early(ImageProcessor, case)


def test_error_shows_the_value_and_what_is_allowed(make_stack: Callable[..., cdk.Stack]) -> None:
    with pytest.raises(ValueError) as error:
        ImageProcessor(make_stack(), "Images", jpeg_quality=150)
    assert str(error.value) == "ImageProcessor: invalid jpeg_quality=150. Allowed: a whole number from 1 to 100."


def test_originals_expire_after_the_retention_given(ref: SynthesizedStack) -> None:
    """Storage limitation: the reference stack deletes originals after a year; renditions stay."""
    ref.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "Id": "ExpireOriginals",
                        "Prefix": "uploads/",
                        "ExpirationInDays": 365,
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                        "Status": "Enabled",
                    }
                ]
            }
        },
    )
