"""Acknowledging compliance findings: one place, one rule for what an acknowledgment needs."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

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
