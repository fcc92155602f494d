"""Can this principal do its job? An offline IAM evaluator over a synthesized template.

:class:`PermissionChecker` reads every policy of a template (identity policies of roles, the
AWS-managed policies they attach, bucket, queue, topic and secret policies, KMS key policies and
Lambda permissions) and answers ``can(principal, action, resource, context)`` the way IAM's
policy evaluation logic does for a request inside one account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):

- an explicit ``Deny`` in any applicable policy wins;
- otherwise the request is allowed when an identity policy or the resource policy allows it;
- a KMS key is the exception: its key policy must allow the principal, either directly or by
  delegating to the account (``arn:...:root``), and only in the second case do IAM policies count
  (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html);
- a service principal (``logs.<region>.amazonaws.com``, ``cloudtrail.amazonaws.com``, ...) has no
  identity policy: only resource and key policies can allow it.

Conditions are evaluated against the request context; a condition the checker cannot evaluate (an
operator it does not know, a key the context does not give) makes the answer ``UNKNOWN``, never
``ALLOWED``. :func:`check_permissions` derives what every principal of a template must be able
to do (:mod:`refarch.testing.permission_needs`) and returns a :class:`PermissionFinding` per need it
cannot prove::

    from refarch.testing import check_permissions, from_stack

    findings = check_permissions(from_stack(stack))
    assert not findings, "\\n".join(str(f) for f in findings)
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from refarch.contracts.permissions import LAMBDA_VPC_ACTIONS, RESOURCELESS_ACTIONS
from refarch.testing.assembly import SynthesizedTemplate
from refarch.testing.cfn_symbols import Resolver, infer_environment

#: What every request the checks ask about carries: the SDKs call AWS over TLS 1.2 or newer.
DEFAULT_CONTEXT: dict[str, str] = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.2"}

#: Statements of the AWS-managed policies the library's roles attach (from each policy's
#: page in the AWS Managed Policy Reference Guide, trimmed to the actions that matter here).
#: A role with a managed policy not in this table gets UNKNOWN instead of DENIED.
AWS_MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "service-role/AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    # the Lambda developer guide's VPC permissions are this policy's (plus the log actions)
    "service-role/AWSLambdaVPCAccessExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", *LAMBDA_VPC_ACTIONS],
            "Resource": "*",
        }
    ],
    "AmazonSSMManagedInstanceCore": [
        {"Effect": "Allow", "Action": ["ssm:*", "ssmmessages:*", "ec2messages:*"], "Resource": "*"}
    ],
    "service-role/AmazonRDSEnhancedMonitoringRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
            "Resource": "arn:*:logs:*:*:log-group:RDS*",
        },
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents"],
            "Resource": "arn:*:logs:*:*:log-group:RDS*:log-stream:*",
        },
    ],
    "service-role/AmazonAPIGatewayPushToCloudWatchLogs": [
        {
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
                "logs:GetLogEvents",
                "logs:FilterLogEvents",
            ],
            "Resource": "*",
        }
    ],
}

_MANAGED_POLICY_ARN = re.compile(r"^arn:(\$\{AWS::Partition\}|[^:]+):iam::aws:policy/(.+)$")


class Outcome(enum.Enum):
    ALLOWED = "allowed"
    DENIED = "denied"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Statement:
    """One policy statement, its expressions resolved (see :mod:`refarch.testing.cfn_symbols`)."""

    origin: str
    """Where it is written, e.g. ``ConsumerRolePolicy1234 (AWS::IAM::ManagedPolicy)``."""
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()
    """For resource policies: ``*``, ARNs, account IDs and service names."""
    condition: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)
    sid: str = ""

    def __str__(self) -> str:
        return f"{self.origin}{' ' + self.sid if self.sid else ''}"


@dataclass(frozen=True)
class Decision:
    """The answer to one request, with the statements that decided it and what could not be evaluated."""

    outcome: Outcome
    statements: tuple[Statement, ...] = ()
    unknowns: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOWED

    def explain(self) -> str:
        decided = ", ".join(str(s) for s in self.statements) or "no statement allows it"
        unknown = f"; cannot evaluate: {'; '.join(self.unknowns)}" if self.unknowns else ""
        return f"{self.outcome.value} ({decided}{unknown})"


# A three-valued truth: True, False, or None for "cannot tell".
Truth = bool | None


def _all(values: Iterable[Truth]) -> Truth:
    results = list(values)
    if False in results:
        return False
    return None if None in results else True


def _any(values: Iterable[Truth]) -> Truth:
    result: Truth = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


class PermissionChecker:
    """Answers whether a principal may perform an action on a resource, from one template's policies.

    ``principal`` is the logical ID of an ``AWS::IAM::Role`` of the template, or a service principal
    (``logs.${AWS::Region}.amazonaws.com`` in an environment-agnostic stack). ``resource`` is an ARN as
    :class:`~refarch.testing.cfn_symbols.Resolver` writes it (``resolver.arn(logical_id)``), or ``*``
    for actions that take no resource.
    """

    def __init__(
        self, template: SynthesizedTemplate | dict[str, Any], *, region: str | None = None, account: str | None = None
    ) -> None:
        body = template.template if isinstance(template, SynthesizedTemplate) else template
        # The manifest's environment first (a stack that reads another region's output names two regions),
        # then what the template's literals tell.
        if isinstance(template, SynthesizedTemplate):
            region, account = region or template.region, account or template.account
        inferred_region, inferred_account = infer_environment(body)
        self.resolver = Resolver(body, region=region or inferred_region, account=account or inferred_account)
        self.identity: dict[str, list[Statement]] = {}
        self.unknown_managed_policies: dict[str, list[str]] = {}
        self.resource_policies: list[tuple[str, Statement]] = []
        """(ARN the policy is attached to, statement)."""
        self._read_identity_policies()
        self._read_resource_policies()

    # -- the question -----------------------------------------------------------------------

    def can(self, principal: str, action: str, resource: str, context: Mapping[str, str] | None = None) -> Decision:
        """May ``principal`` perform ``action`` on ``resource``, in a request carrying ``context``
        (condition keys, added to :data:`DEFAULT_CONTEXT`)? The decision names the statements that decided."""
        request = _Request(principal, action, resource, _context(context))
        is_role = self.resolver.type_of(principal) == "AWS::IAM::Role"
        principal_arn = self.resolver.arn(principal) if is_role else principal
        identity = self.identity.get(principal, []) if is_role else []
        attached = [s for target, s in self.resource_policies if _attached(target, resource)]
        direct = [s for s in attached if _names(s, principal_arn)]
        delegated = [s for s in attached if is_role and _names_account(s, self.resolver.account)]
        unknowns: list[str] = []

        denies = [(s, request.matches(s, unknowns)) for s in [*identity, *direct, *delegated] if s.effect == "Deny"]
        for statement, truth in denies:
            if truth is True:
                return Decision(Outcome.DENIED, (statement,), tuple(unknowns))

        def allowing(statements: list[Statement]) -> tuple[Truth, list[Statement]]:
            results = [(s, request.matches(s, unknowns)) for s in statements if s.effect == "Allow"]
            return _any(t for _, t in results), [s for s, t in results if t is True]

        by_identity, identity_statements = allowing(identity)
        by_resource, resource_statements = allowing(direct)
        if is_role and principal in self.unknown_managed_policies and by_identity is False:
            unknowns.append(f"managed policies not modelled: {', '.join(self.unknown_managed_policies[principal])}")
            by_identity = None
        if _is_kms_key(resource) and any(_attached(t, resource) for t, _ in self.resource_policies):
            # The key policy decides; IAM policies count only where it delegates to the account.
            by_account, account_statements = allowing(delegated)
            allowed = _any([by_resource, _all([by_account, by_identity])])
            deciding = resource_statements if by_resource else account_statements + identity_statements
        else:
            allowed = _any([by_identity, by_resource])
            deciding = identity_statements + resource_statements
        if any(truth is None for _, truth in denies) and allowed is not False:
            return Decision(Outcome.UNKNOWN, tuple(s for s, t in denies if t is None), tuple(unknowns))
        if allowed is True:
            return Decision(Outcome.ALLOWED, tuple(deciding), tuple(unknowns))
        if allowed is None:
            return Decision(Outcome.UNKNOWN, (), tuple(unknowns))
        return Decision(Outcome.DENIED, (), tuple(unknowns))

    # -- reading the template --------------------------------------------------------------

    def _read_identity_policies(self) -> None:
        r = self.resolver
        for logical_id, resource in r.resources.items():
            type_, props = resource.get("Type"), resource.get("Properties", {})
            if type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                statements = self._statements(props.get("PolicyDocument", {}), f"{logical_id} ({type_})")
                for role in props.get("Roles", []):
                    role_id = r.logical_id(role)
                    if role_id:
                        self.identity.setdefault(role_id, []).extend(statements)
            elif type_ == "AWS::IAM::Role":
                for policy in props.get("Policies", []):
                    origin = f"{logical_id} inline policy {policy.get('PolicyName', '')}"
                    self.identity.setdefault(logical_id, []).extend(self._statements(policy["PolicyDocument"], origin))
                for arn in props.get("ManagedPolicyArns", []):
                    self._attach_managed(logical_id, arn)

    def _attach_managed(self, role_id: str, arn: Any) -> None:
        policy_id = self.resolver.logical_id(arn)
        if policy_id and self.resolver.type_of(policy_id) == "AWS::IAM::ManagedPolicy":
            if role_id in [self.resolver.logical_id(x) for x in self.resolver.props(policy_id).get("Roles", [])]:
                return  # already read through the policy's own Roles
            document = self.resolver.props(policy_id).get("PolicyDocument", {})
            self.identity.setdefault(role_id, []).extend(
                self._statements(document, f"{policy_id} (AWS::IAM::ManagedPolicy)")
            )
            return
        text = self.resolver.text(arn)
        match = _MANAGED_POLICY_ARN.match(text)
        name = match.group(2) if match else text
        if name in AWS_MANAGED_POLICIES:
            document = {"Statement": AWS_MANAGED_POLICIES[name]}
            self.identity.setdefault(role_id, []).extend(self._statements(document, f"AWS managed policy {name}"))
        else:
            self.unknown_managed_policies.setdefault(role_id, []).append(name)

    def _read_resource_policies(self) -> None:
        r = self.resolver
        for logical_id, resource in r.resources.items():
            type_, props = resource.get("Type"), resource.get("Properties", {})
            origin = f"{logical_id} ({type_})"
            if type_ == "AWS::S3::BucketPolicy":
                self._add_resource_policy([props.get("Bucket")], props.get("PolicyDocument"), origin)
            elif type_ == "AWS::SQS::QueuePolicy":
                self._add_resource_policy(props.get("Queues", []), props.get("PolicyDocument"), origin)
            elif type_ == "AWS::SNS::TopicPolicy":
                self._add_resource_policy(props.get("Topics", []), props.get("PolicyDocument"), origin)
            elif type_ == "AWS::SecretsManager::ResourcePolicy":
                self._add_resource_policy([props.get("SecretId")], props.get("ResourcePolicy"), origin)
            elif type_ == "AWS::KMS::Key":
                arn = r.arn(logical_id)
                for statement in self._statements(props.get("KeyPolicy", {}), f"key policy of {logical_id}"):
                    self.resource_policies.append((arn, statement))
            elif type_ == "AWS::Lambda::Permission":
                self._add_lambda_permission(logical_id, props)

    def _add_resource_policy(self, targets: list[Any], document: Any, origin: str) -> None:
        for target in targets:
            target_id = self.resolver.logical_id(target)
            arn = self.resolver.arn(target_id) if target_id else self.resolver.text(target)
            for statement in self._statements(document or {}, origin):
                self.resource_policies.append((arn, statement))

    def _add_lambda_permission(self, logical_id: str, props: dict[str, Any]) -> None:
        r = self.resolver
        function_id = r.logical_id(props.get("FunctionName"))
        function_arn = r.arn(function_id) if function_id else r.text(props.get("FunctionName"))
        condition: dict[str, dict[str, list[str]]] = {}
        if "SourceArn" in props:
            condition["ArnLike"] = {"aws:SourceArn": [r.text(props["SourceArn"])]}
        if "SourceAccount" in props:
            condition["StringEquals"] = {"aws:SourceAccount": [r.text(props["SourceAccount"])]}
        statement = Statement(
            origin=f"{logical_id} (AWS::Lambda::Permission)",
            effect="Allow",
            actions=(r.text(props.get("Action")),),
            resources=(function_arn, f"{function_arn}:*"),
            principals=(r.text(props.get("Principal")),),
            condition=condition,
        )
        self.resource_policies.append((function_arn, statement))

    def _statements(self, document: dict[str, Any], origin: str) -> list[Statement]:
        r = self.resolver
        found = []
        statements = document.get("Statement", [])
        for raw in statements if isinstance(statements, list) else [statements]:
            principals = _principals(r, raw.get("Principal"))
            resources = r.texts(raw.get("Resource"))  # in a key policy, "*" is the key itself
            found.append(
                Statement(
                    origin=origin,
                    effect=str(raw.get("Effect", "Allow")),
                    actions=tuple(r.texts(raw.get("Action"))),
                    not_actions=tuple(r.texts(raw.get("NotAction"))),
                    resources=tuple(resources),
                    not_resources=tuple(r.texts(raw.get("NotResource"))),
                    principals=principals,
                    condition={
                        op: {k: r.texts(v) for k, v in keys.items()}
                        for op, keys in (raw.get("Condition") or {}).items()
                    },
                    sid=str(raw.get("Sid", "")),
                )
            )
        return found


def _principals(r: Resolver, principal: Any) -> tuple[str, ...]:
    if principal is None:
        return ()
    if principal == "*":
        return ("*",)
    if isinstance(principal, dict):
        values: list[str] = []
        for value in principal.values():
            values.extend(r.texts(value))
        return tuple(values)
    return tuple(r.texts(principal))


def _names(statement: Statement, principal_arn: str) -> bool:
    """Does this resource-policy statement name the principal itself (or everyone)?"""
    return any(named in ("*", principal_arn) for named in statement.principals)


def _names_account(statement: Statement, account: str) -> bool:
    """Does this resource-policy statement name the account (which delegates to its IAM policies)?"""
    root = re.compile(rf"arn:(\$\{{AWS::Partition\}}|[^:]+):iam::{re.escape(account)}:root")
    return any(named == account or root.fullmatch(named) for named in statement.principals)


def _attached(target: str, resource: str) -> bool:
    """Does a policy attached to ``target`` govern ``resource`` (the target itself, or an object in a bucket)?"""
    return resource == target or (":s3:::" in target and resource.startswith(target + "/"))


def _is_kms_key(resource: str) -> bool:
    return ":kms:" in resource and ":key/" in resource


def _context(context: Mapping[str, str] | None) -> dict[str, str]:
    merged = {**DEFAULT_CONTEXT, **(context or {})}
    return {k.lower(): v for k, v in merged.items()}


@lru_cache(maxsize=4096)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(glob: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcard matching: ``*`` any run of characters, ``?`` one character."""
    return _pattern(glob, ignore_case).fullmatch(value) is not None


@dataclass(frozen=True)
class _Request:
    principal: str
    action: str
    resource: str
    context: dict[str, str]

    def matches(self, statement: Statement, unknowns: list[str]) -> Truth:
        if statement.actions and not any(matches(a, self.action, ignore_case=True) for a in statement.actions):
            return False
        if statement.not_actions and any(matches(a, self.action, ignore_case=True) for a in statement.not_actions):
            return False
        if statement.resources and not any(self._resource_matches(p) for p in statement.resources):
            return False
        if statement.not_resources and any(self._resource_matches(p) for p in statement.not_resources):
            return False
        truth = evaluate_condition(statement.condition, self.context)
        if truth is None:
            unknowns.append(f"{statement}: condition {dict(statement.condition)}")
        return truth

    def _resource_matches(self, pattern: str) -> bool:
        return matches(pattern, self.resource)


# -- conditions ------------------------------------------------------------------------------

_STRING_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda p, v: p == v,
    "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringLike": lambda p, v: matches(p, v),
    "ArnEquals": lambda p, v: p == v,
    "ArnLike": lambda p, v: matches(p, v),
    "Bool": lambda p, v: p.lower() == v.lower(),
    "NumericEquals": lambda p, v: float(v) == float(p),
    "NumericLessThan": lambda p, v: float(v) < float(p),
    "NumericLessThanEquals": lambda p, v: float(v) <= float(p),
    "NumericGreaterThan": lambda p, v: float(v) > float(p),
    "NumericGreaterThanEquals": lambda p, v: float(v) >= float(p),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}


def evaluate_condition(condition: Mapping[str, Mapping[str, Sequence[str]]], context: Mapping[str, str]) -> Truth:
    """Every operator and key of an IAM ``Condition`` block against a request context (keys lower-case).

    A key missing from the context is unknown (the checker does not guess what the caller sends),
    except under ``...IfExists`` (true) and ``Null``; an operator it does not model is unknown.
    """
    return _all(
        _evaluate_one(operator, key.lower(), list(values), context)
        for operator, keys in condition.items()
        for key, values in keys.items()
    )


def _evaluate_one(operator: str, key: str, values: list[str], context: Mapping[str, str]) -> Truth:
    if operator == "Null":
        present = key in context
        return any((v.lower() == "true") != present for v in values)
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base.startswith(("ForAnyValue:", "ForAllValues:")):
        return None
    if key not in context:
        return True if if_exists else None
    actual = context[key]
    negated = base in _NEGATED
    compare = _STRING_OPERATORS.get(_NEGATED.get(base, base))
    if compare is None:
        return None
    try:
        hit = any(compare(v, actual) for v in values)
    except ValueError:
        return None
    return not hit if negated else hit


# -- the check over a whole template ---------------------------------------------------------


@dataclass(frozen=True)
class PermissionFinding:
    """A need (:class:`~refarch.testing.permission_needs.Need`) the template's policies do not grant."""

    stack: str
    principal: str
    action: str
    resource: str
    reason: str
    decision: Decision

    def __str__(self) -> str:
        return (
            f"{self.stack}: {self.principal} cannot {self.action} on {self.resource} "
            f"[{self.decision.explain()}] (needed because {self.reason})"
        )


def check_permissions(
    template: SynthesizedTemplate,
    *,
    code_roots: Sequence[Path] | None = None,
    region: str | None = None,
    account: str | None = None,
) -> list[PermissionFinding]:
    """Every permission a principal of ``template`` needs and does not have (ALLOWED needs are not listed).

    Needs come from the template itself (platform needs of functions, state machines, log
    groups, alarms, rules, trails), from the AWS calls of the functions' handler code (found under
    ``code_roots``, by default the library's ``refarch/runtime``), and from what constructs declared
    with :func:`refarch.contracts.permissions.require_permission`.
    """
    from refarch.testing.permission_needs import derive_needs  # the needs use this module's matching

    checker = PermissionChecker(template, region=region, account=account)
    findings = []
    for need in derive_needs(template, checker.resolver, code_roots=code_roots):
        for action in need.actions:
            decision = checker.can(need.principal, action, need.resource, need.context)
            if not decision.allowed:
                findings.append(
                    PermissionFinding(template.name, need.principal, action, need.resource, need.reason, decision)
                )
    return findings + ineffective_grants(checker, template.name)


def ineffective_grants(checker: PermissionChecker, stack: str = "") -> list[PermissionFinding]:
    """Grants that look like permissions and are none: an action that takes no resource scoped to an
    ARN, an unconditional identity grant that a resource policy's explicit Deny cancels for any
    request (e.g. a ``...IfExists`` Deny on a header the request does not send), and a grant on an
    encrypted bucket, queue, topic or stream without the use of its key."""
    from refarch.testing.permission_needs import key_needs

    findings = []
    for role, statements in checker.identity.items():
        for statement in statements:
            if statement.effect != "Allow" or statement.not_actions or statement.not_resources:
                continue
            scoped = [r for r in statement.resources if r != "*"]
            for action in statement.actions:
                if scoped and action.lower() in {a.lower() for a in RESOURCELESS_ACTIONS}:
                    decision = Decision(Outcome.DENIED, (statement,))
                    reason = f"{statement} grants it on {scoped[0]}, but the action takes no resource: it never applies"
                    findings.append(PermissionFinding(stack, role, action, scoped[0], reason, decision))
                if "*" in action or "?" in action or statement.condition:
                    continue
                for resource in scoped:
                    decision = checker.can(role, action, resource)
                    if decision.outcome is Outcome.DENIED and decision.statements:
                        deny = decision.statements[0]
                        reason = f"{statement} grants it, but {deny} denies every such request"
                        findings.append(PermissionFinding(stack, role, action, resource, reason, decision))
                    # a grant on an encrypted resource is void without its key
                    why = f"{statement} grants {action} on {resource}"
                    for need in key_needs(checker.resolver, role, [action], resource, why):
                        for key_action in need.actions:
                            decision = checker.can(role, key_action, need.resource, need.context)
                            if not decision.allowed:
                                findings.append(
                                    PermissionFinding(stack, role, key_action, need.resource, need.reason, decision)
                                )
    return findings


__all__ = [
    "AWS_MANAGED_POLICIES",
    "DEFAULT_CONTEXT",
    "RESOURCELESS_ACTIONS",
    "Decision",
    "PermissionFinding",
    "Outcome",
    "PermissionChecker",
    "Statement",
    "check_permissions",
    "evaluate_condition",
    "ineffective_grants",
    "matches",
]
