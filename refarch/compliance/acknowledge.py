"""Acknowledging compliance findings: one place, one rule for what an acknowledgment needs."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
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
