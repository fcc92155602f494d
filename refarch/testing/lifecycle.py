"""Lifecycle and limits lint: what CloudFormation or the service would refuse on create, delete,
create-again or replace, read off synthesized templates before any deploy.

Every finding names its rule, the stack, the logical ID and the construct path, says what
CloudFormation or the service would do, and how to fix it. The rules (their IDs are stable):

``LC-ACL-DUPLICATE``
    Two ``AWS::EC2::NetworkAclEntry`` with the same ACL, direction and rule number: CloudFormation
    fails to create the second ("already exists").
``LC-ACL-QUOTA``
    More than 20 entries in one ACL and direction (the default quota, not counting the default
    ``*`` rule): the entry past the quota fails to create unless the account raised the quota.
``LC-ACL-RULE-NUMBER``
    A rule number outside 1-32766: EC2 rejects it.
``LC-DELETION-PROTECTION``
    Deletion protection (``DeletionProtection``, ``DeletionProtectionEnabled``, the load balancer
    attribute ``deletion_protection.enabled``, ``DisableApiTermination``) on a resource the stack
    deletes (no ``DeletionPolicy`` of ``Retain`` or ``RetainExceptOnCreate``): deleting the stack
    fails on it. Retain the resource, or turn its protection off.
``LC-RETAINED-USES-DELETED``
    A retained resource (``DeletionPolicy`` ``Retain`` or ``RetainExceptOnCreate``) refers to (``Ref``,
    ``Fn::GetAtt``, ``Fn::Sub`` anywhere in its properties) a resource the stack deletes that its
    service refuses to delete while something uses it (:data:`DELETE_BLOCKED_WHILE_IN_USE`: subnet
    groups, parameter groups, option groups): on ``cdk destroy`` the retained cluster still uses it,
    so its deletion fails and the stack ends DELETE_FAILED. Give it the same removal policy.
``LC-FIXED-NAME``
    A physical name that is a literal (or built only from literals and parameters) on a retained
    resource, or on a data store: the retained copy keeps the name after a stack delete, so the
    next create fails ("already exists"), and CloudFormation cannot replace a custom-named
    resource on update. Let CloudFormation generate the name, or include something unique to the
    stack (``AWS::StackName``, ``AWS::StackId``, another resource's generated ID). An RDS instance
    or cluster with a fixed identifier also makes RDS create ``/aws/rds/.../<id>/...`` log groups
    that outlive the stack.
``LC-VENDED-LOGS``
    A log group that receives vended logs outside the prefix the service needs: Step Functions
    logs to groups outside ``/aws/vendedlogs/`` add to the account's CloudWatch Logs resource
    policy (5,120 characters: busy accounts hit it and logging setup fails); WAF logs only to
    groups named ``aws-waf-logs-...``.
``LC-AZ-INDEX``
    ``Fn::Select`` of an index into ``Fn::GetAZs`` that the region does not have (pass
    ``available_zones``; default 3): the stack fails to create ("Template error: Fn::Select cannot
    select nonexistent value").
``LC-AZ-COUNT``
    A service that needs subnets in three AZs (Redshift Serverless workgroups) given fewer.
``LC-RESERVED-CONCURRENCY``
    ``ReservedConcurrentExecutions`` on a function the construct was not asked to reserve for
    (see :data:`RESERVED_CONCURRENCY_KIND`): Lambda keeps 100 executions unreserved, and new
    accounts may have a total quota of 10 or 50, so CreateFunction fails there. Also the total of
    all reservations above 900 (the default quota of 1,000 minus the 100).
``LC-CUSTOM-RESOURCE-DEPENDENCY``
    A custom resource whose provider runs in a VPC, where an interface endpoint, a network ACL
    entry of its subnets, a security group rule of its security groups or a policy of its role is
    not in the custom resource's dependency chain: CloudFormation may create (or, on delete, call)
    the custom resource before that piece exists, and the provider times out or is denied.

Each stack is read on its own: a resource in another stack of the app (an ACL, an endpoint) is not
followed, so lint the stack that owns the network too.

Acknowledge a finding only in code, with a reason: ``check_lifecycle(t, ignore={"LC-FIXED-NAME":
"why"})`` for a rule, or ``{"LC-FIXED-NAME[LogicalId]": "why"}`` for one resource. An unknown rule
or an empty reason raises ``ValueError``; nothing is skipped silently.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from refarch.testing.assembly import SynthesizedTemplate

#: Every rule this lint applies, with what it catches (details in the module docstring).
RULES: dict[str, str] = {
    "LC-ACL-DUPLICATE": "duplicate network ACL rule number in one ACL and direction",
    "LC-ACL-QUOTA": "more network ACL entries per ACL and direction than the default quota",
    "LC-ACL-RULE-NUMBER": "network ACL rule number outside 1-32766",
    "LC-DELETION-PROTECTION": "deletion protection on a resource the stack deletes",
    "LC-RETAINED-USES-DELETED": "retained resource uses a deleted resource that cannot be deleted while in use",
    "LC-FIXED-NAME": "fixed physical name on a retained resource or a data store",
    "LC-VENDED-LOGS": "vended-log group outside the prefix its service needs",
    "LC-AZ-INDEX": "Fn::Select index into Fn::GetAZs beyond the region's AZs",
    "LC-AZ-COUNT": "service that needs three AZs given fewer",
    "LC-RESERVED-CONCURRENCY": "reserved Lambda concurrency a default or new account rejects",
    "LC-CUSTOM-RESOURCE-DEPENDENCY": "custom resource not depending on what its VPC provider needs",
}

#: Contract kind a construct declares (``refarch.contracts.declare``) when its user asked for a
#: function's reserved concurrency: ``{"function": <Ref of the function>, "requested_by": "<prop>"}``.
RESERVED_CONCURRENCY_KIND = "reserved-concurrency"

#: Default quota of entries per network ACL and direction.
ACL_ENTRY_QUOTA = 20
#: Rule numbers EC2 accepts (32767 is the default rule's).
ACL_RULE_NUMBERS = range(1, 32767)
#: Unreserved concurrency Lambda always keeps, and the default account quota.
UNRESERVED_MINIMUM = 100
DEFAULT_CONCURRENCY_QUOTA = 1000
#: AZs the reference stacks need and most commercial regions give; pass ``available_zones=2`` for a
#: region that gives your account two (us-west-1 often does).
DEFAULT_AVAILABLE_ZONES = 3

_RETAINED = {"Retain", "RetainExceptOnCreate"}
_PSEUDO_UNIQUE = {"AWS::StackName", "AWS::StackId"}

#: Types whose service refuses to delete them while a cluster or instance uses them (the delete fails
#: with an "in use" / invalid-state fault), each with what uses it.
DELETE_BLOCKED_WHILE_IN_USE: dict[str, str] = {
    "AWS::ElastiCache::SubnetGroup": "an ElastiCache cluster or replication group",
    "AWS::ElastiCache::ParameterGroup": "an ElastiCache cluster or replication group",
    "AWS::RDS::DBSubnetGroup": "an RDS instance or cluster",
    "AWS::RDS::DBClusterParameterGroup": "an Aurora cluster",
    "AWS::RDS::DBParameterGroup": "an RDS instance",
    "AWS::RDS::OptionGroup": "an RDS instance",
    "AWS::Redshift::ClusterSubnetGroup": "a Redshift cluster",
    "AWS::Redshift::ClusterParameterGroup": "a Redshift cluster",
}

#: Physical-name property of each resource type this lint knows.
NAME_PROPERTIES: dict[str, str] = {
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::Redshift::Cluster": "ClusterIdentifier",
    "AWS::RedshiftServerless::Namespace": "NamespaceName",
    "AWS::RedshiftServerless::Workgroup": "WorkgroupName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::ECR::Repository": "RepositoryName",
}

#: Types that hold data: a fixed name on one blocks its replacement even when it is not retained.
DATA_STORES = {
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::Redshift::Cluster",
    "AWS::RedshiftServerless::Namespace",
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::Kinesis::Stream",
    "AWS::SecretsManager::Secret",
}


@dataclass(frozen=True)
class LifecycleFinding:
    """One thing CloudFormation or a service would refuse."""

    rule: str
    stack: str
    logical_id: str
    path: str | None
    """Construct path (``Metadata.aws:cdk:path``), when the template has it."""
    message: str

    def __str__(self) -> str:
        where = f"{self.stack}/{self.logical_id}" + (f" ({self.path})" if self.path else "")
        return f"{self.rule} {where}: {self.message}"


def check_lifecycle(
    template_or_templates: SynthesizedTemplate | Mapping[str, Any] | Iterable[SynthesizedTemplate | Mapping[str, Any]],
    *,
    available_zones: int | Sequence[str] | None = None,
    ignore: Mapping[str, str] | None = None,
) -> list[LifecycleFinding]:
    """Every lifecycle and limits finding of the given stacks (one app's stacks: reserved
    concurrency is summed over all of them).

    :param template_or_templates: A :class:`SynthesizedTemplate`, a template dict, or several.
    :param available_zones: AZs of the target region (a count or their names). Default: ``3``
    :param ignore: ``{"RULE": "reason"}`` or ``{"RULE[LogicalId]": "reason"}``: findings acknowledged.
    """
    stacks = [_Stack.of(t, i) for i, t in enumerate(_as_list(template_or_templates))]
    zones = DEFAULT_AVAILABLE_ZONES if available_zones is None else available_zones
    zone_count = zones if isinstance(zones, int) else len(zones)
    acknowledged = _check_ignore(ignore or {})
    findings: list[LifecycleFinding] = []
    for stack in stacks:
        findings += _acl_entries(stack)
        findings += _deletion_protection(stack)
        findings += _retained_uses_deleted(stack)
        findings += _fixed_names(stack)
        findings += _vended_logs(stack)
        findings += _az_use(stack, zone_count)
        findings += _custom_resource_dependencies(stack)
    findings += _reserved_concurrency(stacks)
    return [f for f in findings if f.rule not in acknowledged and f"{f.rule}[{f.logical_id}]" not in acknowledged]


def format_findings(findings: Sequence[LifecycleFinding]) -> str:
    """Findings one per line, for an assertion message."""
    return "\n".join(str(f) for f in findings)


# -- input -----------------------------------------------------------------------------------


def _as_list(value: Any) -> list[SynthesizedTemplate | Mapping[str, Any]]:
    if isinstance(value, SynthesizedTemplate | Mapping):
        return [value]
    return list(value)


def _check_ignore(ignore: Mapping[str, str]) -> set[str]:
    for key, reason in ignore.items():
        rule = key.split("[", 1)[0]
        if rule not in RULES:
            raise ValueError(f"check_lifecycle: unknown rule {rule!r} in ignore. Known rules: {', '.join(RULES)}.")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"check_lifecycle: ignore[{key!r}] needs a reason (why it is safe), got {reason!r}.")
    return set(ignore)


@dataclass
class _Stack:
    name: str
    resources: dict[str, dict[str, Any]]
    output: SynthesizedTemplate | None
    paths: dict[str, str]

    @classmethod
    def of(cls, value: SynthesizedTemplate | Mapping[str, Any], index: int) -> _Stack:
        if isinstance(value, SynthesizedTemplate):
            return cls(value.name, value.resources, value, _logical_id_paths(value))
        return cls(f"template{index}" if index else "template", dict(value.get("Resources", {})), None, {})

    def path(self, logical_id: str) -> str | None:
        metadata = self.resources.get(logical_id, {}).get("Metadata") or {}
        path = metadata.get("aws:cdk:path") or self.paths.get(logical_id)
        return str(path) if path else None

    def finding(self, rule: str, logical_id: str, message: str) -> LifecycleFinding:
        return LifecycleFinding(rule, self.name, logical_id, self.path(logical_id), message)

    def of_type(self, type_: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource.get("Type") == type_:
                yield logical_id, resource.get("Properties") or {}

    def retained(self, logical_id: str) -> bool:
        return self.resources[logical_id].get("DeletionPolicy") in _RETAINED

    def ref_target(self, value: Any) -> str | None:
        """The logical ID a ``Ref``/``Fn::GetAtt`` points to, when it is a resource of this stack."""
        if isinstance(value, dict) and len(value) == 1:
            if "Ref" in value and value["Ref"] in self.resources:
                return str(value["Ref"])
            if "Fn::GetAtt" in value:
                target = value["Fn::GetAtt"]
                name = target[0] if isinstance(target, list) else str(target).split(".", 1)[0]
                if name in self.resources:
                    return str(name)
        return None

    def dependencies(self, logical_id: str) -> set[str]:
        """Every resource ``logical_id`` depends on, directly or not (DependsOn and references)."""
        seen: set[str] = set()
        todo = [logical_id]
        while todo:
            current = todo.pop()
            for dep in self._direct_dependencies(current):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    def _direct_dependencies(self, logical_id: str) -> set[str]:
        resource = self.resources.get(logical_id, {})
        depends = resource.get("DependsOn", [])
        found = {depends} if isinstance(depends, str) else set(depends)
        found |= {name for name in _referenced_names(resource.get("Properties")) if name in self.resources}
        return found


def _logical_id_paths(output: SynthesizedTemplate) -> dict[str, str]:
    """Logical ID -> construct path, from the assembly's metadata (templates carry ``aws:cdk:path``
    only when path metadata is on, as under the CDK CLI)."""
    paths = {}
    for path, entries in output.metadata.items():
        for entry in entries:
            if entry.get("type") == "aws:cdk:logicalId":
                paths[str(entry.get("data"))] = path.lstrip("/")
    return paths


def _referenced_names(value: Any) -> Iterator[str]:
    """Names a value refers to through ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` (pseudo parameters too)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                yield inner[0] if isinstance(inner, list) else str(inner).split(".", 1)[0]
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                for part in str(text).split("${")[1:]:
                    name = part.split("}", 1)[0].split(".", 1)[0]
                    if not name.startswith("!"):
                        yield name
                if isinstance(inner, list) and len(inner) > 1:
                    yield from _referenced_names(inner[1])
            else:
                yield from _referenced_names(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _referenced_names(inner)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _literal_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- network ACL entries ---------------------------------------------------------------------


def _acl_entries(stack: _Stack) -> list[LifecycleFinding]:
    findings = []
    by_rule: dict[tuple[str, bool, int], list[str]] = defaultdict(list)
    by_direction: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for logical_id, props in stack.of_type("AWS::EC2::NetworkAclEntry"):
        acl = _key(props.get("NetworkAclId"))
        egress = str(props.get("Egress", False)).lower() == "true"
        by_direction[(acl, egress)].append(logical_id)
        number = _literal_int(props.get("RuleNumber"))
        if number is None:
            continue
        by_rule[(acl, egress, number)].append(logical_id)
        if number not in ACL_RULE_NUMBERS:
            findings.append(
                stack.finding(
                    "LC-ACL-RULE-NUMBER",
                    logical_id,
                    f"rule number {number} is outside 1-32766: EC2 rejects the entry. Number it within that range.",
                )
            )
    for (acl, egress, number), entries in by_rule.items():
        if len(entries) > 1:
            direction = "outbound" if egress else "inbound"
            for logical_id in entries[1:]:
                findings.append(
                    stack.finding(
                        "LC-ACL-DUPLICATE",
                        logical_id,
                        f"{direction} rule number {number} of network ACL {acl} is also used by {entries[0]}: "
                        "CloudFormation fails to create the second entry (the number already exists). Give each "
                        "entry of an ACL and direction its own number.",
                    )
                )
    for (acl, egress), entries in by_direction.items():
        if len(entries) > ACL_ENTRY_QUOTA:
            direction = "outbound" if egress else "inbound"
            findings.append(
                stack.finding(
                    "LC-ACL-QUOTA",
                    entries[ACL_ENTRY_QUOTA],
                    f"network ACL {acl} has {len(entries)} {direction} entries, over the default quota of "
                    f"{ACL_ENTRY_QUOTA} per ACL and direction: the entries past it fail to create. Merge entries "
                    "(wider CIDRs or port ranges), or raise the quota (up to 40) before deploying.",
                )
            )
    return findings


# -- deletion protection ---------------------------------------------------------------------

_TRUE = {"true", "active", "enabled"}


def _protection(props: Mapping[str, Any]) -> str | None:
    """The property that turns deletion protection on, if any does."""
    for name in ("DeletionProtection", "DeletionProtectionEnabled", "DisableApiTermination", "TerminationProtection"):
        if str(props.get(name, "")).lower() in _TRUE:
            return name
    for attribute in props.get("LoadBalancerAttributes") or []:
        if (
            isinstance(attribute, dict)
            and attribute.get("Key") == "deletion_protection.enabled"
            and str(attribute.get("Value")).lower() == "true"
        ):
            return "LoadBalancerAttributes deletion_protection.enabled"
    return None


def _deletion_protection(stack: _Stack) -> list[LifecycleFinding]:
    findings = []
    for logical_id, resource in stack.resources.items():
        protection = _protection(resource.get("Properties") or {})
        if protection is None or stack.retained(logical_id):
            continue
        policy = resource.get("DeletionPolicy", "Delete")
        findings.append(
            stack.finding(
                "LC-DELETION-PROTECTION",
                logical_id,
                f"{resource['Type']} has {protection} on, and DeletionPolicy {policy}: deleting the stack "
                "(or rolling back its creation) fails on this resource. Give it DeletionPolicy Retain "
                "(RemovalPolicy.RETAIN) or turn the protection off.",
            )
        )
    return findings


# -- retained resources that keep deleted ones in use ------------------------------------------


def retained_uses(template: SynthesizedTemplate | Mapping[str, Any], types: Iterable[str]) -> list[tuple[str, str]]:
    """``(retained, deleted)`` logical-ID pairs: a retained resource of ``template`` refers to a
    resource of one of ``types`` that the stack deletes (a ``Ref``, ``Fn::GetAtt`` or ``Fn::Sub``
    anywhere in its properties)."""
    return _retained_uses(_Stack.of(template, 0), set(types))


def _retained_uses(stack: _Stack, types: set[str]) -> list[tuple[str, str]]:
    pairs = []
    for logical_id, resource in stack.resources.items():
        if not stack.retained(logical_id):
            continue
        for used in sorted(set(_referenced_names(resource.get("Properties")))):
            target = stack.resources.get(used)
            if target is not None and target.get("Type") in types and not stack.retained(used):
                pairs.append((logical_id, used))
    return pairs


def _retained_uses_deleted(stack: _Stack) -> list[LifecycleFinding]:
    findings = []
    for retained, deleted in _retained_uses(stack, set(DELETE_BLOCKED_WHILE_IN_USE)):
        type_ = stack.resources[deleted]["Type"]
        policy = stack.resources[deleted].get("DeletionPolicy", "Delete")
        findings.append(
            stack.finding(
                "LC-RETAINED-USES-DELETED",
                deleted,
                f"{type_} has DeletionPolicy {policy}, but the retained {stack.resources[retained]['Type']} "
                f"{retained} uses it: the service refuses to delete it while {DELETE_BLOCKED_WHILE_IN_USE[type_]} "
                "uses it, so deleting the stack fails (DELETE_FAILED). Give it the removal policy of its user "
                "(RemovalPolicy.RETAIN).",
            )
        )
    return findings


# -- physical names --------------------------------------------------------------------------


def _is_fixed(stack: _Stack, value: Any) -> bool:
    """True when ``value`` is the same on every deploy: no stack-unique or generated part."""
    for name in _referenced_names(value):
        if name in _PSEUDO_UNIQUE or name in stack.resources:
            return False
    return not _has_import(value)


def _has_import(value: Any) -> bool:
    if isinstance(value, dict):
        return "Fn::ImportValue" in value or any(_has_import(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_import(v) for v in value)
    return False


def _fixed_names(stack: _Stack) -> list[LifecycleFinding]:
    findings = []
    for logical_id, resource in stack.resources.items():
        type_ = str(resource.get("Type"))
        prop = NAME_PROPERTIES.get(type_)
        props = resource.get("Properties") or {}
        if prop is None or prop not in props or not _is_fixed(stack, props[prop]):
            continue
        retained = stack.retained(logical_id)
        if not retained and type_ not in DATA_STORES:
            continue
        name = props[prop] if isinstance(props[prop], str) else _key(props[prop])
        why = (
            "it is retained when the stack is deleted, so creating the stack again fails (the name already exists)"
            if retained
            else "CloudFormation cannot replace a custom-named resource, so any update that replaces it fails"
        )
        extra = ""
        exports = props.get("EnableCloudwatchLogsExports")
        if type_.startswith("AWS::RDS::") and exports:
            kind = "instance" if type_ == "AWS::RDS::DBInstance" else "cluster"
            extra = (
                f" RDS also creates its log groups /aws/rds/{kind}/{name}/<log> itself, and they outlive the "
                "stack under that fixed name."
            )
        findings.append(
            stack.finding(
                "LC-FIXED-NAME",
                logical_id,
                f"{type_} has the fixed {prop} {name!r}: {why}.{extra} Let CloudFormation generate the name, or "
                "include something unique to the stack (AWS::StackName, AWS::StackId, a generated ID).",
            )
        )
    return findings


# -- vended logs -----------------------------------------------------------------------------


def _log_group_name(stack: _Stack, arn: Any) -> tuple[str | None, Any]:
    """The log group a destination ARN points to in this stack, and its name (None when generated)."""
    target = stack.ref_target(arn)
    if target is None and isinstance(arn, dict) and "Fn::Join" in arn:
        targets = [stack.ref_target(part) for part in arn["Fn::Join"][1] if isinstance(part, dict)]
        target = next((t for t in targets if t), None)
    if target is None or stack.resources[target].get("Type") != "AWS::Logs::LogGroup":
        return None, None
    return target, (stack.resources[target].get("Properties") or {}).get("LogGroupName")


def _starts_with(name: Any, prefix: str) -> bool:
    if isinstance(name, str):
        return name.startswith(prefix)
    if isinstance(name, dict) and "Fn::Join" in name:
        parts = name["Fn::Join"][1]
        return bool(parts) and isinstance(parts[0], str) and parts[0].startswith(prefix)
    return False


def _vended_log_destinations(stack: _Stack) -> Iterator[tuple[str, Any, str, str]]:
    """(who logs, destination ARN, prefix the group needs, what happens without it) of each vended-log source."""
    for logical_id, props in stack.of_type("AWS::StepFunctions::StateMachine"):
        for destination in (props.get("LoggingConfiguration") or {}).get("Destinations") or []:
            yield (
                f"state machine {logical_id}",
                (destination.get("CloudWatchLogsLogGroup") or {}).get("LogGroupArn"),
                "/aws/vendedlogs/",
                "Step Functions then adds the group to the account's CloudWatch Logs resource policy, whose size "
                "limit busy accounts reach, and logging setup fails. Name it /aws/vendedlogs/states/<unique name>.",
            )
    for logical_id, props in stack.of_type("AWS::WAFv2::LoggingConfiguration"):
        for arn in props.get("LogDestinationConfigs") or []:
            yield (
                f"WAF logging configuration {logical_id}",
                arn,
                "aws-waf-logs-",
                "WAF rejects the logging configuration. Name the group aws-waf-logs-<unique name>.",
            )


def _vended_logs(stack: _Stack) -> list[LifecycleFinding]:
    findings = []
    for source, arn, prefix, consequence in _vended_log_destinations(stack):
        group, name = _log_group_name(stack, arn)
        if group is not None and not _starts_with(name, prefix):
            shown = name if isinstance(name, str) else "generated by CloudFormation" if name is None else _key(name)
            findings.append(
                stack.finding(
                    "LC-VENDED-LOGS",
                    group,
                    f"this log group receives the logs of {source}, and its name ({shown}) does not start with "
                    f"{prefix}: {consequence}",
                )
            )
    return findings


# -- availability zones ----------------------------------------------------------------------


def _az_selects(value: Any) -> Iterator[int]:
    if isinstance(value, dict):
        select = value.get("Fn::Select")
        if isinstance(select, list) and len(select) == 2 and isinstance(select[1], dict) and "Fn::GetAZs" in select[1]:
            index = _literal_int(select[0])
            if index is not None:
                yield index
        for inner in value.values():
            yield from _az_selects(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _az_selects(inner)


def _az_use(stack: _Stack, zone_count: int) -> list[LifecycleFinding]:
    findings = []
    for logical_id, resource in stack.resources.items():
        beyond = sorted({i for i in _az_selects(resource.get("Properties")) if i >= zone_count})
        if beyond:
            findings.append(
                stack.finding(
                    "LC-AZ-INDEX",
                    logical_id,
                    f"selects AZ index {beyond[0]} from Fn::GetAZs, but the region gives {zone_count} AZs: the "
                    "stack fails to create (Fn::Select cannot select a nonexistent value). Use fewer AZs "
                    "(max_azs) or deploy to a region with more.",
                )
            )
    for logical_id, props in stack.of_type("AWS::RedshiftServerless::Workgroup"):
        subnets = props.get("SubnetIds")
        if not isinstance(subnets, list):
            continue
        zones = set()
        for subnet in subnets:
            target = stack.ref_target(subnet)
            if target is None:
                break  # a subnet from elsewhere: its AZ is not known here
            subnet_props = stack.resources[target].get("Properties") or {}
            zones.add(_key(subnet_props.get("AvailabilityZone") or subnet_props.get("AvailabilityZoneId")))
        else:
            if len(zones) < 3:
                findings.append(
                    stack.finding(
                        "LC-AZ-COUNT",
                        logical_id,
                        f"Redshift Serverless workgroup has subnets in {len(zones)} AZ(s): it needs subnets in at "
                        "least three AZs, and creating it fails. Give it subnets of a network with three AZs.",
                    )
                )
    return findings


# -- reserved concurrency --------------------------------------------------------------------


def _requested_reservations(stack: _Stack) -> dict[str, str]:
    """Function logical ID -> the prop its user set, from the constructs' declarations."""
    if stack.output is None:
        return {}
    requested = {}
    for declaration in stack.output.declarations(RESERVED_CONCURRENCY_KIND):
        target = stack.ref_target(declaration.data.get("function"))
        if target:
            requested[target] = str(declaration.data.get("requested_by", declaration.path))
    return requested


def _reserved_concurrency(stacks: Sequence[_Stack]) -> list[LifecycleFinding]:
    findings = []
    reservations = []
    for stack in stacks:
        requested = _requested_reservations(stack)
        for logical_id, props in stack.of_type("AWS::Lambda::Function"):
            reserved = _literal_int(props.get("ReservedConcurrentExecutions"))
            if not reserved:  # absent, a token, or 0 (a stopped function reserves nothing)
                continue
            reservations.append((stack, logical_id, reserved))
            if logical_id in requested:
                continue
            findings.append(
                stack.finding(
                    "LC-RESERVED-CONCURRENCY",
                    logical_id,
                    f"reserves {reserved} concurrent executions nobody asked for: Lambda keeps {UNRESERVED_MINIMUM} "
                    "unreserved, and new accounts may have a total quota of 10 or 50, so creating the function "
                    "fails there. Reserve only when the user asks for it (a construct prop), after checking the "
                    "account's quota.",
                )
            )
    total = sum(r for _, _, r in reservations)
    if total > DEFAULT_CONCURRENCY_QUOTA - UNRESERVED_MINIMUM:
        stack, logical_id, _ = reservations[-1]
        findings.append(
            stack.finding(
                "LC-RESERVED-CONCURRENCY",
                logical_id,
                f"the functions reserve {total} concurrent executions in all: more than the "
                f"{DEFAULT_CONCURRENCY_QUOTA - UNRESERVED_MINIMUM} a default account (quota "
                f"{DEFAULT_CONCURRENCY_QUOTA}) can reserve. Reserve less, or raise the quota first.",
            )
        )
    return findings


# -- custom resources ------------------------------------------------------------------------

_CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"


def _provider_functions(stack: _Stack, logical_id: str) -> list[str]:
    """The functions that serve a custom resource: its service token's function, and the functions
    that one names in its environment (CDK's provider framework calls the user's handler)."""
    token = (stack.resources[logical_id].get("Properties") or {}).get("ServiceToken")
    first = stack.ref_target(token)
    if first is None or stack.resources[first].get("Type") != "AWS::Lambda::Function":
        return []
    functions = [first]
    variables = (stack.resources[first].get("Properties") or {}).get("Environment", {}).get("Variables", {})
    for value in variables.values():
        target = stack.ref_target(value)
        if target and stack.resources[target].get("Type") == "AWS::Lambda::Function" and target not in functions:
            functions.append(target)
    return functions


def _needs_of_vpc_function(stack: _Stack, function: str) -> dict[str, str]:
    """What a function in a VPC needs to exist before it can work: logical ID -> why."""
    props = stack.resources[function].get("Properties") or {}
    vpc_config = props.get("VpcConfig")
    if not vpc_config:
        return {}
    needs: dict[str, str] = {}
    subnets = {_key(s) for s in vpc_config.get("SubnetIds") or []}
    groups = {_key(g) for g in vpc_config.get("SecurityGroupIds") or []}
    vpcs = {
        _key((stack.resources[t].get("Properties") or {}).get("VpcId"))
        for t in (stack.ref_target(s) for s in vpc_config.get("SubnetIds") or [])
        if t
    }
    role = stack.ref_target(props.get("Role"))
    acls = {
        _key(p.get("NetworkAclId"))
        for _, p in stack.of_type("AWS::EC2::SubnetNetworkAclAssociation")
        if _key(p.get("SubnetId")) in subnets
    }
    for logical_id, resource in stack.resources.items():
        type_ = resource.get("Type")
        p = resource.get("Properties") or {}
        interface_endpoint = type_ == "AWS::EC2::VPCEndpoint" and p.get("VpcEndpointType") == "Interface"
        if interface_endpoint and _key(p.get("VpcId")) in vpcs:
            needs[logical_id] = "an interface endpoint of its VPC"
        elif type_ == "AWS::EC2::NetworkAclEntry" and _key(p.get("NetworkAclId")) in acls:
            needs[logical_id] = "a network ACL entry of its subnets"
        elif type_ in ("AWS::EC2::SecurityGroupEgress", "AWS::EC2::SecurityGroupIngress") and (
            _key(p.get("GroupId")) in groups
            or _key(p.get("SourceSecurityGroupId")) in groups
            or _key(p.get("DestinationSecurityGroupId")) in groups
        ):
            needs[logical_id] = "a security group rule of its security groups"
        elif type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and role in {
            stack.ref_target(r) for r in p.get("Roles") or []
        }:
            needs[logical_id] = "a policy of its role"
    return needs


def _custom_resource_dependencies(stack: _Stack) -> list[LifecycleFinding]:
    findings = []
    for logical_id, resource in stack.resources.items():
        type_ = str(resource.get("Type"))
        if not (type_.startswith("Custom::") or type_ == _CUSTOM_RESOURCE):
            continue
        functions = _provider_functions(stack, logical_id)
        needs = {need: why for function in functions for need, why in _needs_of_vpc_function(stack, function).items()}
        if not needs:
            continue  # no provider in a VPC
        closure = stack.dependencies(logical_id)
        missing: dict[str, list[str]] = defaultdict(list)
        for need, why in needs.items():
            if need not in closure:
                missing[why].append(need)
        if not missing:
            continue
        listed = "; ".join(f"{why}: {', '.join(sorted(needs))}" for why, needs in sorted(missing.items()))
        findings.append(
            stack.finding(
                "LC-CUSTOM-RESOURCE-DEPENDENCY",
                logical_id,
                f"its provider ({', '.join(functions)}) runs in a VPC, and what it needs is not in the custom "
                f"resource's dependency chain ({listed}): CloudFormation may call the provider before these "
                "exist (or, on delete, after they are gone), and the call times out or is denied. Make the "
                "custom resource depend on them (custom_resource.node.add_dependency(...)).",
            )
        )
    return findings


__all__ = [
    "ACL_ENTRY_QUOTA",
    "DATA_STORES",
    "DELETE_BLOCKED_WHILE_IN_USE",
    "NAME_PROPERTIES",
    "RESERVED_CONCURRENCY_KIND",
    "RULES",
    "LifecycleFinding",
    "check_lifecycle",
    "format_findings",
    "retained_uses",
]
