"""What each principal of a synthesized template must be able to do, and why.

Three sources, each a list of :class:`Need`:

1. **The platform**, read from the template alone: what Lambda, Step Functions, CloudWatch Logs,
   CloudWatch alarms, EventBridge, CloudTrail, S3 server access logging and VPC flow logs do with
   the roles and keys the template gives them. Each rule cites the AWS page it follows.
2. **The handler code**: every AWS call :mod:`refarch.testing.handler_calls` finds in a function's
   handler, bound to a resource through the function's environment variables (``OUTPUT_BUCKET:
   {"Ref": "Renditions"}``). A call whose resource the template cannot tell (a bucket named in the
   invocation event) needs a declaration; an undeclared one is a need on an unknown resource, which
   only a ``Resource: "*"`` grant meets.
3. **The constructs' declarations** (:func:`refarch.contracts.permissions.require_permission`):
   calls a service makes with a role (Redshift reading Kinesis) and the exact resources of calls
   the code scan can only bind to a bucket (the prefixes a function writes under).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refarch.contracts.permissions import LAMBDA_VPC_ACTIONS, PERMISSION_KIND
from refarch.testing.assembly import SynthesizedTemplate
from refarch.testing.cfn_symbols import Resolver
from refarch.testing.handler_calls import AwsCall, find_handler_module, scan_handler

#: Where the library's own handler code lives (``refarch/runtime``).
LIBRARY_CODE_ROOT = Path(__file__).resolve().parent.parent / "runtime"

#: What a resource argument of an API call names: argument -> the resource type it refers to.
RESOURCE_ARGUMENTS: dict[str, str] = {
    "Bucket": "AWS::S3::Bucket",
    "TableName": "AWS::DynamoDB::Table",
    "table_name": "AWS::DynamoDB::Table",
    "QueueUrl": "AWS::SQS::Queue",
    "TopicArn": "AWS::SNS::Topic",
    "StreamName": "AWS::Kinesis::Stream",
    "StreamARN": "AWS::Kinesis::Stream",
    "SecretId": "AWS::SecretsManager::Secret",
    "stateMachineArn": "AWS::StepFunctions::StateMachine",
}

#: Marker of a resource a need could not be bound to: only a ``*`` grant matches it.
UNBOUND = "<resource not derivable: declare it with require_permission>"

# https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html#services-xray-permissions
XRAY_WRITE_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
# https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-create.html (execution role permissions)
KINESIS_ESM_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
# https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html (IAM policies for logging to CloudWatch Logs)
STATES_LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
# https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html
STATES_XRAY_ACTIONS = (*XRAY_WRITE_ACTIONS, "xray:GetSamplingRules", "xray:GetSamplingTargets")
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html (key policy)
LOGS_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey", "kms:DescribeKey")
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
# https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
PRODUCER_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


@dataclass(frozen=True)
class Need:
    """``principal`` must be able to perform each of ``actions`` on ``resource``."""

    principal: str
    """Logical ID of an IAM role of the template, or a service principal."""
    actions: tuple[str, ...]
    resource: str
    reason: str
    context: Mapping[str, str] = field(default_factory=dict)


def derive_needs(
    template: SynthesizedTemplate, resolver: Resolver, *, code_roots: Sequence[Path] | None = None
) -> list[Need]:
    """Every need of ``template``'s principals: platform, handler code and declarations."""
    declared = list(declared_needs(template, resolver))
    roots = list(code_roots) if code_roots is not None else [LIBRARY_CODE_ROOT]
    return [*platform_needs(resolver), *code_needs(resolver, roots, declared), *declared]


# -- 3. declarations -------------------------------------------------------------------------


def declared_needs(template: SynthesizedTemplate, resolver: Resolver) -> Iterator[Need]:
    for declaration in template.declarations(PERMISSION_KIND):
        data = declaration.data
        principal = _principal(resolver, data["principal"])
        reason = f"{declaration.path} declares: {data.get('reason', '')}"
        context = {str(k): resolver.text(v) for k, v in (data.get("context") or {}).items()}
        actions = tuple(data["actions"])
        for value in data.get("resources", []):
            resource = resolver.text(value)
            yield Need(principal, actions, resource, reason, context)
            yield from key_needs(resolver, principal, actions, resource, reason)


def key_needs(resolver: Resolver, principal: str, actions: Sequence[str], resource: str, reason: str) -> Iterator[Need]:
    """The producer or reader half of the KMS key of the encrypted bucket, queue, topic or stream that
    ``resource`` names (nothing when it names no such template resource). The request goes through
    the service, so it carries ``kms:ViaService`` and ``kms:CallerAccount``."""
    target = _resource_of(resolver, resource)
    key = _encryption_key(resolver, target) if target else None
    needed = _key_actions(actions)
    if key is None or not needed:
        return
    service = actions[0].partition(":")[0]
    context = {"kms:ViaService": f"{service}.{resolver.region}.amazonaws.com", "kms:CallerAccount": resolver.account}
    yield Need(principal, needed, resolver.arn(key), f"{reason} ({target} is encrypted with {key})", context)


def _resource_of(resolver: Resolver, arn: str) -> str | None:
    """The template resource an ARN names (an object ARN names its bucket)."""
    if ":s3:::" in arn:
        arn = arn.split("/", 1)[0]
    return resolver.logical_id_of_arn(arn)


def _principal(resolver: Resolver, value: Any) -> str:
    logical_id = resolver.logical_id(value)
    return logical_id if logical_id else resolver.text(value)


# -- 2. handler code -------------------------------------------------------------------------


def code_needs(resolver: Resolver, code_roots: Sequence[Path], declared: Sequence[Need]) -> Iterator[Need]:
    for function_id, props in _resources(resolver, "AWS::Lambda::Function"):
        role = resolver.logical_id(props.get("Role"))
        handler = props.get("Handler")
        if role is None or not isinstance(handler, str):
            continue
        found = [(root, find_handler_module(handler, [root])) for root in code_roots]
        located = [(root, module) for root, module in found if module is not None]
        if not located:
            continue  # not code of ours (a CDK-provided function): its policies come with it
        root, module = located[0]
        scan = scan_handler(module, root, handler.rsplit(".", 1)[1])
        environment = (props.get("Environment") or {}).get("Variables") or {}
        read = {name: value for name, value in environment.items() if name in scan.literals}
        for call in scan.calls:
            yield from _call_needs(resolver, function_id, role, call, read, declared)


def _call_needs(
    resolver: Resolver,
    function_id: str,
    role: str,
    call: AwsCall,
    environment: Mapping[str, Any],
    declared: Sequence[Need],
) -> Iterator[Need]:
    reason = f"{function_id}'s handler calls {call.where()}"
    target = _bind(resolver, call, environment)
    mine = [n for n in declared if n.principal == role and any(_action_in(a, n.actions) for a in call.actions)]
    if target is None:
        if any(mine):
            return  # the construct declared where this call goes; the declaration is checked
        yield Need(role, call.actions, UNBOUND, f"{reason}, whose resource argument the template does not bind")
        return
    arn = resolver.arn(target)
    resource = f"{arn}/*" if call.service == "s3" and _is_object_call(call) else arn
    if any(n.resource.startswith(arn) for n in mine):
        return  # declared more exactly (the key prefixes it writes under): checked as declared
    yield Need(role, call.actions, resource, reason)
    yield from key_needs(resolver, role, call.actions, resource, reason)


def _bind(resolver: Resolver, call: AwsCall, environment: Mapping[str, Any]) -> str | None:
    """The logical ID a call's resource argument names, through the environment variable it is read from.

    The argument's last name (``cfg.output_bucket`` -> ``output_bucket``) must name a variable of the
    function's environment (``OUTPUT_BUCKET``, or ``BUCKET_NAME`` for ``bucket``) whose value refers to a
    resource of the type the argument takes. Anything else (a value from the invocation event, a local
    variable) is not bound: the construct declares it.
    """
    for argument, source in call.arguments.items():
        wanted = RESOURCE_ARGUMENTS.get(argument)
        if wanted is None:
            continue
        last = re.split(r"[^A-Za-z0-9_]", source.rstrip("()"))[-1].upper()
        names = [n for n in environment if last and (n == last or n.startswith(f"{last}_"))]
        bound = {resolver.logical_id(environment[n]) for n in names}
        matching = [b for b in bound if b is not None and resolver.type_of(b) == wanted]
        return matching[0] if len(matching) == 1 and "event" not in source else None
    return None


def _is_object_call(call: AwsCall) -> bool:
    return any(a.startswith(("s3:GetObject", "s3:PutObject", "s3:DeleteObject")) for a in call.actions)


def _action_in(action: str, granted: Sequence[str]) -> bool:
    return action.lower() in (g.lower() for g in granted)


#: Data actions on SSE-KMS resources -> the KMS actions the caller needs for them (S3, SQS, SNS and
#: Kinesis developer guides, "key management" / "permissions for SSE-KMS").
KEY_ACTIONS_OF: dict[str, tuple[str, ...]] = {
    "s3:PutObject": ("kms:GenerateDataKey",),
    "s3:GetObject": ("kms:Decrypt",),
    "s3:GetObjectVersion": ("kms:Decrypt",),
    "sqs:SendMessage": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:ReceiveMessage": ("kms:Decrypt",),
    "sns:Publish": ("kms:GenerateDataKey", "kms:Decrypt"),
    "kinesis:PutRecord": ("kms:GenerateDataKey",),
    "kinesis:PutRecords": ("kms:GenerateDataKey",),
    "kinesis:GetRecords": ("kms:Decrypt",),
}


def _key_actions(actions: Sequence[str]) -> tuple[str, ...]:
    needed = [k for action in actions for k in KEY_ACTIONS_OF.get(action, ())]
    return tuple(dict.fromkeys(needed))


def _encryption_key(resolver: Resolver, logical_id: str) -> str | None:
    props = resolver.props(logical_id)
    type_ = resolver.type_of(logical_id)
    key: Any = None
    if type_ == "AWS::S3::Bucket":
        rules = (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
        for rule in rules:
            key = (rule.get("ServerSideEncryptionByDefault") or {}).get("KMSMasterKeyID") or key
    elif type_ in ("AWS::SQS::Queue", "AWS::SNS::Topic"):
        key = props.get("KmsMasterKeyId")
    elif type_ == "AWS::Kinesis::Stream":
        key = (props.get("StreamEncryption") or {}).get("KeyId")
    found = resolver.logical_id(key) if key is not None else None
    return found if resolver.type_of(found) == "AWS::KMS::Key" else None


# -- 1. the platform -------------------------------------------------------------------------


def platform_needs(resolver: Resolver) -> Iterator[Need]:
    yield from _lambda_needs(resolver)
    yield from _event_source_needs(resolver)
    yield from _state_machine_needs(resolver)
    yield from _log_group_key_needs(resolver)
    yield from _alarm_topic_needs(resolver)
    yield from _rule_target_needs(resolver)
    yield from _trail_needs(resolver)
    yield from _access_log_needs(resolver)
    yield from _flow_log_needs(resolver)
    yield from _monitoring_role_needs(resolver)
    yield from _cross_region_reference_needs(resolver)


def _resources(resolver: Resolver, type_: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in resolver.resources.items():
        if resource.get("Type") == type_:
            yield logical_id, resource.get("Properties", {})


def _log_stream_arn(resolver: Resolver, group_name: str) -> str:
    return (
        f"arn:{resolver.partition}:logs:{resolver.region}:{resolver.account}:log-group:{group_name}:log-stream:stream"
    )


def _lambda_needs(resolver: Resolver) -> Iterator[Need]:
    for function_id, props in _resources(resolver, "AWS::Lambda::Function"):
        role = resolver.logical_id(props.get("Role"))
        if resolver.type_of(role) != "AWS::IAM::Role":
            continue
        assert role is not None
        # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html (permissions)
        group = (props.get("LoggingConfig") or {}).get("LogGroup")
        group_name = resolver.text(group) if group is not None else f"/aws/lambda/{resolver.ref(function_id)}"
        yield Need(
            role,
            ("logs:CreateLogStream", "logs:PutLogEvents"),
            _log_stream_arn(resolver, group_name),
            f"{function_id} writes its logs to {group_name}",
        )
        if props.get("VpcConfig"):
            yield Need(
                role,
                LAMBDA_VPC_ACTIONS,
                "*",
                f"{function_id} runs in a VPC: Lambda manages its network interfaces with this role",
            )
        if (props.get("TracingConfig") or {}).get("Mode") == "Active":
            yield Need(role, XRAY_WRITE_ACTIONS, "*", f"{function_id} has active X-Ray tracing")
        target = (props.get("DeadLetterConfig") or {}).get("TargetArn")
        if target is not None:
            yield from _send_needs(resolver, role, target, f"{function_id}'s dead-letter target")


def _send_needs(
    resolver: Resolver, principal: str, target: Any, why: str, context: Mapping[str, str] | None = None
) -> Iterator[Need]:
    """Sending to a queue or topic, and the producer half of its KMS key."""
    target_id = resolver.logical_id(target)
    type_ = resolver.type_of(target_id)
    if target_id is None or type_ not in ("AWS::SQS::Queue", "AWS::SNS::Topic"):
        return
    action = "sqs:SendMessage" if type_ == "AWS::SQS::Queue" else "sns:Publish"
    yield Need(principal, (action,), resolver.arn(target_id), f"{why} is {target_id}", context or {})
    key = _encryption_key(resolver, target_id)
    if key is not None:
        yield Need(
            principal,
            PRODUCER_KEY_ACTIONS,
            resolver.arn(key),
            f"{why} {target_id} is encrypted with {key}",
            context or {},
        )


def _event_source_needs(resolver: Resolver) -> Iterator[Need]:
    for mapping_id, props in _resources(resolver, "AWS::Lambda::EventSourceMapping"):
        function_id = resolver.logical_id(props.get("FunctionName"))
        if function_id is None:
            continue
        role = resolver.logical_id(resolver.props(function_id).get("Role"))
        if role is None:
            continue
        source = resolver.logical_id(props.get("EventSourceArn"))
        why = f"{mapping_id} polls {source} for {function_id}"
        if resolver.type_of(source) == "AWS::Kinesis::Stream":
            assert source is not None
            yield Need(role, KINESIS_ESM_ACTIONS, resolver.arn(source), why)
            key = _encryption_key(resolver, source)
            if key is not None:
                yield Need(role, ("kms:Decrypt",), resolver.arn(key), f"{why}; the stream is encrypted with {key}")
        destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if destination is not None:
            yield from _send_needs(resolver, role, destination, f"{mapping_id}'s on-failure destination")


def _state_machine_needs(resolver: Resolver) -> Iterator[Need]:
    for machine_id, props in _resources(resolver, "AWS::StepFunctions::StateMachine"):
        role = resolver.logical_id(props.get("RoleArn"))
        if role is None:
            continue
        definition = props.get("DefinitionString")
        try:
            parsed = json.loads(resolver.text(definition)) if definition is not None else props.get("Definition", {})
        except ValueError:
            parsed = {}
        for task in _tasks(parsed):
            yield from _task_needs(resolver, machine_id, role, task)
        if (props.get("LoggingConfiguration") or {}).get("Destinations"):
            yield Need(role, STATES_LOG_DELIVERY_ACTIONS, "*", f"{machine_id} logs to CloudWatch Logs")
        if (props.get("TracingConfiguration") or {}).get("Enabled"):
            yield Need(role, STATES_XRAY_ACTIONS, "*", f"{machine_id} has X-Ray tracing")


def _tasks(definition: Any) -> Iterator[dict[str, Any]]:
    if isinstance(definition, dict):
        if definition.get("Type") == "Task":
            yield definition
        for value in definition.values():
            yield from _tasks(value)
    elif isinstance(definition, list):
        for value in definition:
            yield from _tasks(value)


def _task_needs(resolver: Resolver, machine_id: str, role: str, task: dict[str, Any]) -> Iterator[Need]:
    """Service integrations: https://docs.aws.amazon.com/step-functions/latest/dg/service-integration-iam-templates.html"""
    resource = str(task.get("Resource", ""))
    parameters = task.get("Parameters") or task.get("Arguments") or {}
    why = f"{machine_id}'s task {resource.rsplit(':::', 1)[-1]}"
    if resource.endswith(":::lambda:invoke") or resource.endswith(":::lambda:invoke.waitForTaskToken"):
        function = str(parameters.get("FunctionName", ""))
        yield Need(role, ("lambda:InvokeFunction",), function.split(":$")[0], why)
    elif ":lambda:" in resource and ":function:" in resource:
        yield Need(role, ("lambda:InvokeFunction",), resource, why)
    elif ":::dynamodb:" in resource:
        operation = resource.rsplit(":", 1)[-1]
        table = str(parameters.get("TableName", ""))
        table_id = resolver.logical_id_of_arn(table)
        arn = resolver.arn(table_id) if table_id else UNBOUND
        yield Need(role, (f"dynamodb:{operation[0].upper()}{operation[1:]}",), arn, why)
    elif ":::sns:publish" in resource:
        yield from _send_needs(resolver, role, _as_ref(resolver, parameters.get("TopicArn")), why)
    elif ":::sqs:sendMessage" in resource:
        queue_url = str(parameters.get("QueueUrl", ""))
        yield from _send_needs(resolver, role, _as_ref(resolver, queue_url), why)


def _as_ref(resolver: Resolver, text: Any) -> Any:
    logical_id = resolver.logical_id_of_arn(str(text))
    return {"Ref": logical_id} if logical_id else text


def _log_group_key_needs(resolver: Resolver) -> Iterator[Need]:
    service = f"logs.{resolver.region}.amazonaws.com"
    for group_id, props in _resources(resolver, "AWS::Logs::LogGroup"):
        key = resolver.logical_id(props.get("KmsKeyId"))
        if resolver.type_of(key) != "AWS::KMS::Key":
            continue
        assert key is not None
        group_arn = resolver.arn(group_id)
        yield Need(
            service,
            LOGS_KEY_ACTIONS,
            resolver.arn(key),
            f"log group {group_id} is encrypted with {key}",
            {"kms:EncryptionContext:aws:logs:arn": group_arn},
        )


def _alarm_topic_needs(resolver: Resolver) -> Iterator[Need]:
    """https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html (encrypted topics).

    Composite alarms publish as the same service principal, so their topics' keys need the same grant.
    """
    alarms = [
        *_resources(resolver, "AWS::CloudWatch::Alarm"),
        *_resources(resolver, "AWS::CloudWatch::CompositeAlarm"),
    ]
    for alarm_id, props in alarms:
        actions = [
            *(props.get("AlarmActions") or []),
            *(props.get("OKActions") or []),
            *(props.get("InsufficientDataActions") or []),
        ]
        for action in actions:
            topic = resolver.logical_id(action)
            if resolver.type_of(topic) != "AWS::SNS::Topic":
                continue
            assert topic is not None
            key = _encryption_key(resolver, topic)
            if key is not None:
                context = {"aws:SourceAccount": resolver.account, "aws:SourceArn": resolver.arn(alarm_id)}
                yield Need(
                    "cloudwatch.amazonaws.com",
                    ("kms:Decrypt", "kms:GenerateDataKey"),
                    resolver.arn(key),
                    f"alarm {alarm_id} notifies {topic}, encrypted with {key}",
                    context,
                )


def _rule_target_needs(resolver: Resolver) -> Iterator[Need]:
    """https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html"""
    for rule_id, props in _resources(resolver, "AWS::Events::Rule"):
        context = {"aws:SourceArn": resolver.arn(rule_id), "aws:SourceAccount": resolver.account}
        for target in props.get("Targets") or []:
            target_id = resolver.logical_id(target.get("Arn"))
            type_ = resolver.type_of(target_id)
            role = resolver.logical_id(target.get("RoleArn")) if target.get("RoleArn") else None
            principal = role or "events.amazonaws.com"
            why = f"rule {rule_id} targets {target_id}"
            if type_ == "AWS::StepFunctions::StateMachine" and target_id:
                yield Need(principal, ("states:StartExecution",), resolver.arn(target_id), why, context)
            elif type_ == "AWS::Lambda::Function" and target_id:
                yield Need(principal, ("lambda:InvokeFunction",), resolver.arn(target_id), why, context)
            elif type_ in ("AWS::SQS::Queue", "AWS::SNS::Topic"):
                yield from _send_needs(resolver, principal, target.get("Arn"), why, context)


def _trail_needs(resolver: Resolver) -> Iterator[Need]:
    """https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
    and .../create-kms-key-policy-for-cloudtrail.html"""
    service = "cloudtrail.amazonaws.com"
    for trail_id, props in _resources(resolver, "AWS::CloudTrail::Trail"):
        trail_arn = resolver.arn(trail_id)
        context = {"aws:SourceArn": trail_arn, "aws:SourceAccount": resolver.account}
        bucket = resolver.logical_id(props.get("S3BucketName"))
        if resolver.type_of(bucket) == "AWS::S3::Bucket":
            assert bucket is not None
            bucket_arn = resolver.arn(bucket)
            prefix = f"{resolver.text(props['S3KeyPrefix'])}/" if props.get("S3KeyPrefix") else ""
            yield Need(service, ("s3:GetBucketAcl",), bucket_arn, f"trail {trail_id} checks its bucket", context)
            yield Need(
                service,
                ("s3:PutObject",),
                f"{bucket_arn}/{prefix}AWSLogs/{resolver.account}/CloudTrail/file.json.gz",
                f"trail {trail_id} delivers log files",
                {**context, "s3:x-amz-acl": "bucket-owner-full-control"},
            )
        key = resolver.logical_id(props.get("KMSKeyId"))
        if resolver.type_of(key) == "AWS::KMS::Key":
            assert key is not None
            yield Need(
                service,
                ("kms:GenerateDataKey",),
                resolver.arn(key),
                f"trail {trail_id} encrypts log files with {key}",
                {**context, "kms:EncryptionContext:aws:cloudtrail:arn": trail_arn},
            )
        logs_role = resolver.logical_id(props.get("CloudWatchLogsRoleArn"))
        group = resolver.logical_id(props.get("CloudWatchLogsLogGroupArn"))
        if logs_role and group:
            yield Need(
                logs_role,
                ("logs:CreateLogStream", "logs:PutLogEvents"),
                _log_stream_arn(resolver, resolver.name(group)),
                f"trail {trail_id} sends events to {group}",
            )


def _access_log_needs(resolver: Resolver) -> Iterator[Need]:
    """https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html#grant-log-delivery-permissions-general"""
    for bucket_id, props in _resources(resolver, "AWS::S3::Bucket"):
        logging = props.get("LoggingConfiguration") or {}
        target = resolver.logical_id(logging.get("DestinationBucketName"))
        if resolver.type_of(target) != "AWS::S3::Bucket":
            continue
        assert target is not None
        prefix = resolver.text(logging.get("LogFilePrefix", ""))
        yield Need(
            "logging.s3.amazonaws.com",
            ("s3:PutObject",),
            f"{resolver.arn(target)}/{prefix}log-object",
            f"bucket {bucket_id} sends server access logs to {target}",
            {"aws:SourceArn": resolver.arn(bucket_id), "aws:SourceAccount": resolver.account},
        )


def _flow_log_needs(resolver: Resolver) -> Iterator[Need]:
    """https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html"""
    for flow_id, props in _resources(resolver, "AWS::EC2::FlowLog"):
        role = resolver.logical_id(props.get("DeliverLogsPermissionArn"))
        group = props.get("LogGroupName")
        if role is None or group is None:
            continue
        yield Need(
            role,
            ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
            _log_stream_arn(resolver, resolver.text(group)),
            f"flow log {flow_id} delivers to {resolver.text(group)}",
        )


def _monitoring_role_needs(resolver: Resolver) -> Iterator[Need]:
    """RDS Enhanced Monitoring and API Gateway's account-wide logging role.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html and
    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
    """
    for type_ in ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
        for database_id, props in _resources(resolver, type_):
            role = resolver.logical_id(props.get("MonitoringRoleArn"))
            if role is not None:
                yield Need(
                    role,
                    ("logs:CreateLogStream", "logs:PutLogEvents"),
                    _log_stream_arn(resolver, "RDSOSMetrics"),
                    f"{database_id} sends Enhanced Monitoring metrics to RDSOSMetrics",
                )
    for account_id, props in _resources(resolver, "AWS::ApiGateway::Account"):
        role = resolver.logical_id(props.get("CloudWatchRoleArn"))
        if role is not None:
            yield Need(
                role,
                ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups"),
                "*",
                f"{account_id} makes API Gateway write execution and access logs with this role",
            )


#: What aws-cdk-lib's cross-region reference handlers call (its strong references, through SSM parameters
#: in the consumer's region; ``custom-resource-handlers/lib/core/cross-region-ssm-*-handler``): the writer
#: in the producer stack puts and deletes the parameters; the reader in the consumer stack tags them while
#: it uses them (CloudFormation itself reads their values with ``{{resolve:ssm:...}}``).
CROSS_REGION_HANDLER_ACTIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "Custom::CrossRegionExportWriter": ("WriterProps", "exports", ("ssm:PutParameter", "ssm:DeleteParameters")),
    "Custom::CrossRegionExportReader": (
        "ReaderProps",
        "imports",
        ("ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"),
    ),
}


def _cross_region_reference_needs(resolver: Resolver) -> Iterator[Need]:
    """The parameters each cross-region export writer or reader handles, in the region its props name."""
    for type_, (props_key, names_key, actions) in CROSS_REGION_HANDLER_ACTIONS.items():
        for resource_id, props in _resources(resolver, type_):
            function_id = resolver.logical_id(props.get("ServiceToken"))
            role = resolver.logical_id(resolver.props(function_id).get("Role")) if function_id else None
            handler_props = props.get(props_key) or {}
            region = resolver.text(handler_props.get("region", resolver.region))
            if role is None:
                continue
            for name in handler_props.get(names_key) or {}:
                yield Need(
                    role,
                    actions,
                    f"arn:{resolver.partition}:ssm:{region}:{resolver.account}:parameter{name}",
                    f"{resource_id} ({type_}) handles the SSM parameter {name} in {region}",
                )


__all__ = [
    "LIBRARY_CODE_ROOT",
    "UNBOUND",
    "Need",
    "code_needs",
    "declared_needs",
    "derive_needs",
    "key_needs",
    "platform_needs",
]
