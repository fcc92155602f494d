"""The ImageProcessor's state machine (definition in :mod:`.workflow`) with its role, execution log and
tracing, and the EventBridge rule that starts it for each upload."""

from __future__ import annotations

from aws_cdk import Duration, Names
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge, wildcard_resource_finding
from refarch.constructs import _builders
from refarch.constructs.image_processor.functions import ImageFunctions
from refarch.constructs.image_processor.props import ImageProcessorProps
from refarch.constructs.image_processor.storage import Storage
from refarch.constructs.image_processor.workflow import WorkflowParts, build_definition
from refarch.iam import ManagedPolicyRole


def build_state_machine(
    scope: Construct, p: ImageProcessorProps, storage: Storage, functions: ImageFunctions
) -> tuple[sfn.StateMachine, logs.LogGroup]:
    """The state machine and its execution log group."""
    # Step Functions logs to groups under /aws/vendedlogs/ without adding each one to the account's
    # CloudWatch Logs resource policy (which has a size limit); the suffix unique to the stack's
    # creation keeps the retained group from colliding with the next create of the stack.
    log_group = _builders.build_log_group(
        scope,
        "ExecutionLogs",
        log_group_name=f"/aws/vendedlogs/states/{Names.unique_resource_name(scope, max_length=200)}-"
        f"{_builders.stack_unique_suffix(scope)}",
        encryption_key=storage.key,
        retention=p["log_retention"],
        removal_policy=p["removal_policy"],
    )
    role = ManagedPolicyRole(
        scope,
        "StateMachineRole",
        assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
        description=f"{scope.node.path} state machine",
    )
    definition = build_definition(scope, _workflow_parts(p, storage, functions))
    state_machine = sfn.StateMachine(
        scope,
        "StateMachine",
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        state_machine_type=p["state_machine_type"],
        role=role,
        timeout=p["timeout"] or _default_timeout(p),
        tracing_enabled=True,
        logs=sfn.LogOptions(
            destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=p["log_execution_data"]
        ),
    )
    # The topics and the table are encrypted with the key: the role needs it to publish and write.
    role.add_to_policy(
        iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[storage.key.key_arn])
    )
    _acknowledge_role(role, functions)
    return state_machine, log_group


def _workflow_parts(p: ImageProcessorProps, storage: Storage, functions: ImageFunctions) -> WorkflowParts:
    return WorkflowParts(
        validate=functions.validate,
        resize=functions.resize,
        optimize=functions.optimize,
        filters=functions.filters,
        manifest=functions.manifest,
        table=storage.table,
        success_topic=storage.success_topic,
        error_topic=storage.error_topic,
        review_topic=storage.review_topic,
        review_timeout=p["review_timeout"],
        manifest_suffix=p["manifest_suffix"],
        max_concurrency=p["max_concurrency"],
        retry_interval=p["retry_interval"],
        retry_attempts=p["retry_attempts"],
    )


def _default_timeout(p: ImageProcessorProps) -> Duration:
    """An hour (5 minutes for Express); with review, an hour more than a review may take."""
    if p["review"]:
        return Duration.seconds(3600 + p["review_timeout"].to_seconds())
    if p["state_machine_type"] == sfn.StateMachineType.EXPRESS:
        return Duration.minutes(5)
    return Duration.hours(1)


def _acknowledge_role(role: iam.Role, functions: ImageFunctions) -> None:
    acknowledge(
        role,
        "Step Functions' log delivery (logs:CreateLogDelivery and related) and X-Ray's PutTraceSegments "
        "support no resource-level permissions: AWS documents Resource '*' as the only form.",
        "AwsSolutions-IAM5[Resource::*]",
    )
    acknowledge(
        role,
        "lambda:InvokeFunction on '<function ARN>:*' lets the state machine call the function's versions "
        "and aliases; it is limited to this construct's own functions.",
        *(wildcard_resource_finding(role, f"{fn.function_arn}:*") for fn in functions.by_state().values()),
    )


def build_trigger(
    scope: Construct, p: ImageProcessorProps, storage: Storage, state_machine: sfn.StateMachine
) -> events.Rule:
    """An EventBridge rule on the upload bucket's Object Created events under the prefix, for image and
    manifest suffixes (lower and upper case), starting the state machine with the object's version."""
    suffixes = sorted({s.lower() for s in p["upload_suffixes"]} | {s.upper() for s in p["upload_suffixes"]})
    if p["manifest_suffix"] is not None:
        suffixes.append(p["manifest_suffix"])
    upload_prefix = p["upload_prefix"]
    trigger_role = ManagedPolicyRole(
        scope,
        "TriggerRole",
        assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
        description=f"{scope.node.path} upload trigger",
    )
    rule = events.Rule(
        scope,
        "OnUpload",
        description=f"Starts {scope.node.path} for images uploaded under {upload_prefix!r}",
        event_pattern=events.EventPattern(
            source=["aws.s3"],
            detail_type=["Object Created"],
            detail={
                "bucket": {"name": [storage.upload_bucket.bucket_name]},
                "object": {"key": [{"wildcard": f"{upload_prefix}*{s}"} for s in suffixes]},
            },
        ),
    )
    rule.add_target(
        targets.SfnStateMachine(
            state_machine,
            role=trigger_role,
            input=events.RuleTargetInput.from_object(
                {
                    "bucket": events.EventField.from_path("$.detail.bucket.name"),
                    "key": events.EventField.from_path("$.detail.object.key"),
                    "versionId": events.EventField.from_path("$.detail.object.version-id"),
                }
            ),
            retry_attempts=10,
            max_event_age=Duration.hours(24),
        )
    )
    return rule
