"""Acknowledging compliance findings: one place, one rule for what an acknowledgment needs."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct, Dependable, IConstruct

#: An acknowledgment must say why the finding does not apply; a few words do not.
MIN_REASON_LENGTH = 40


def acknowledge(scope: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge findings ``rule_ids`` on ``scope`` and its children, for ``reason``.

    Put it on the narrowest construct the finding is about (the resource, not its stack).
    Findings with several instances are acknowledged one by one, as
    ``"AwsSolutions-IAM5[Action::s3:*]"``.
    """
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(
            f"acknowledge: reason={reason!r} is too short; say why {', '.join(rule_ids)} does not apply "
            f"(at least {MIN_REASON_LENGTH} characters)."
        )
    if not rule_ids:
        raise ValueError("acknowledge: name at least one rule id.")
    Validations.of(scope).acknowledge(*(Acknowledgment(id=rule_id, reason=reason) for rule_id in rule_ids))


def nag_text(value: Any) -> str:
    """``value`` (a resolved CloudFormation value) written the way cdk-nag writes it in finding IDs.

    cdk-nag flattens intrinsics into text: ``{"Ref": "X"}`` -> ``<X>``, ``{"Fn::GetAtt": ["X", "Arn"]}``
    -> ``<X.Arn>``, ``Fn::Join`` joins its parts, ``${X}`` in ``Fn::Sub`` -> ``<X>``; anything else is
    shown as JSON.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, parts = value["Fn::Join"]
            return str(delimiter).join(nag_text(part) for part in parts)
        if "Fn::Sub" in value:
            return nag_text(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{nag_text(resource)}.{nag_text(attribute)}>"
        if "Fn::ImportValue" in value:
            return nag_text(value["Fn::ImportValue"])
        if "Ref" in value:
            return f"<{nag_text(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))


def wildcard_resource_finding(scope: IConstruct, resource: str) -> str:
    """The ``AwsSolutions-IAM5`` finding ID of the wildcard ``resource`` in a policy of ``scope``'s stack.

    Build the acknowledgment from the very value the policy uses: the ID then holds in every
    environment. An ARN built from ``stack.partition``, ``stack.region`` and ``stack.account`` reads
    ``arn:<AWS::Partition>:...:<AWS::Region>:<AWS::AccountId>:...`` in an environment-agnostic
    stack, but ``arn:aws:...:eu-west-1:123456789012:...`` once the stack has an account and region.
    """
    return f"AwsSolutions-IAM5[Resource::{nag_text(Stack.of(scope).resolve(resource))}]"


def acknowledge_wildcard_grant(grant: iam.Grant, grantee: iam.IGrantable, reason: str, *resources: str) -> None:
    """Acknowledge, on the policies ``grant`` wrote to, the ``AwsSolutions-IAM5`` finding of each wildcard
    ARN in ``resources`` (object ARNs such as ``bucket.arn_for_objects("reports/*")``).

    A construct's ``grant_*`` method calls it, so its users never name the finding themselves. The IDs
    come from the ARNs the policy holds, so they are right for a bucket of this app (``<Bucket.Arn>/...``)
    and an imported one (``arn:<AWS::Partition>:s3:::name/...``) alike.
    """
    for policy in grantee_policies(grant, grantee):
        acknowledge(policy, reason, *(wildcard_resource_finding(policy, resource) for resource in resources))


def grantee_policies(grant: iam.Grant, grantee: iam.IGrantable) -> list[IConstruct]:
    """The policies the grant wrote to (a ManagedPolicyRole's managed policy, a role's DefaultPolicy),
    else the grantee's principal itself (its policies are its children)."""
    roots = Dependable.of(grant).dependency_roots
    policies: list[IConstruct] = [c for c in roots if isinstance(c, (iam.Policy, iam.ManagedPolicy))]
    if policies:
        return policies
    principal = grantee.grant_principal
    owner = principal if isinstance(principal, Construct) else grantee
    if not isinstance(owner, Construct):
        return []  # a principal outside the app: its policies are not ours to acknowledge on
    default_policy = owner.node.try_find_child("DefaultPolicy")
    return [default_policy if default_policy is not None else owner]
