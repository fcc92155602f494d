"""Compliance: the rule packs every reference stack must pass, and how to apply them.

``packs()`` is the one list of packs; ``make synth`` applies it to the reference app and the
test suite runs the same list in-process over each stack.
"""

from __future__ import annotations

from aws_cdk import Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct

from refarch.compliance.gdpr import GdprChecks


def packs() -> list[NagPack]:
    """Fresh instances of every pack the library's stacks are held to."""
    return [AwsSolutionsChecks(), HIPAASecurityChecks(), NIST80053R5Checks(), PCIDSS321Checks()]


def apply_packs(scope: IConstruct) -> None:
    """Register every pack as a policy-validation plugin on ``scope`` (usually the App)."""
    Validations.of(scope).add_plugins(*packs())


__all__ = ["GdprChecks", "apply_packs", "packs"]
