"""Compliance: the rule packs every reference stack must pass, and how to apply them.

``packs()`` is the one list of packs; ``make synth`` applies it to the reference app and the
test suite runs the same list in-process over each stack: cdk-nag's AwsSolutions, HIPAA,
NIST 800-53 R5 and PCI DSS 3.2.1 packs, and the library's own GDPR pack.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct

# The constructs first: their modules import refarch.compliance.residency, which imports the
# constructs' prop checks. Entering the cycle from this side would leave residency half-loaded.
import refarch.constructs  # noqa: F401
from refarch.compliance.gdpr import GdprChecks


def packs(*, allowed_regions: Sequence[str] | None = None) -> list[NagPack]:
    """Fresh instances of every pack the library's stacks are held to.

    :param allowed_regions: Regions where the GDPR pack lets data rest (its ``GDPR-Residency``
        rule). Default: - not checked (the reference stacks are deployable anywhere; set it for
        an app whose personal data must stay in, say, ``refarch.compliance.residency.EU_REGIONS``)
    """
    return [
        AwsSolutionsChecks(),
        HIPAASecurityChecks(),
        NIST80053R5Checks(),
        PCIDSS321Checks(),
        GdprChecks(allowed_regions=allowed_regions),
    ]


def apply_packs(scope: IConstruct, *, allowed_regions: Sequence[str] | None = None) -> None:
    """Register every pack of :func:`packs` as a policy-validation plugin on ``scope`` (usually the App)."""
    Validations.of(scope).add_plugins(*packs(allowed_regions=allowed_regions))


__all__ = ["GdprChecks", "apply_packs", "packs"]
