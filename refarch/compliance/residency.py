"""Data residency (GDPR art. 44): where personal data may rest, and a guard that enforces it.

``EU_REGIONS`` are the AWS regions inside the European Union; ``EUROPE_REGIONS`` adds the
European regions of countries with an EU adequacy decision (United Kingdom, Switzerland), to
which personal data may be transferred without further safeguards.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from aws_cdk import Annotations, Stack, Token
from aws_cdk.region_info import RegionInfo
from constructs import Construct

from refarch.constructs._validation import PropValidationError

#: AWS regions located in EU member states.
EU_REGIONS: tuple[str, ...] = (
    "eu-central-1",  # Frankfurt
    "eu-west-1",  # Ireland
    "eu-west-3",  # Paris
    "eu-south-1",  # Milan
    "eu-south-2",  # Spain
    "eu-north-1",  # Stockholm
)

#: EU regions plus the European regions covered by an adequacy decision (art. 45).
EUROPE_REGIONS: tuple[str, ...] = (*EU_REGIONS, "eu-west-2", "eu-central-2")  # London, Zurich


@cache
def known_regions() -> frozenset[str]:
    """Every region aws-cdk-lib's region database knows (commercial, China, GovCloud, ...)."""
    return frozenset(region.name for region in RegionInfo.regions)


def check_regions(owner: str, prop: str, regions: Sequence[str] | None) -> tuple[str, ...] | None:
    """A non-empty list of known AWS region names, each once; ``None`` passes."""
    if regions is None:
        return None
    if isinstance(regions, str):
        raise PropValidationError(owner, prop, regions, "Allowed: a list of region names, such as ['eu-west-1'].")
    if len(regions) == 0:
        raise PropValidationError(owner, prop, list(regions), "Allowed: at least one region, or leave it unset.")
    known = known_regions()
    for region in regions:
        if not isinstance(region, str) or region not in known:
            raise PropValidationError(
                owner, prop, region, "Unknown AWS region: use region names such as 'eu-west-1' (see EU_REGIONS)."
            )
    if len(set(regions)) != len(regions):
        raise PropValidationError(owner, prop, list(regions), "Each region may appear once.")
    return tuple(regions)


def guard_region(scope: Construct, owner: str, allowed_regions: Sequence[str]) -> None:
    """Fail now when the stack of ``scope`` targets a region outside ``allowed_regions``.

    An environment-agnostic stack (region unresolved until deployment) cannot be checked at
    synth time: it gets a warning that says so, and the deployment region is the user's to pin.
    """
    region = Stack.of(scope).region
    if Token.is_unresolved(region):
        Annotations.of(scope).add_warning_v2(
            "refarch:Residency:UnresolvedRegion",
            f"{owner} restricts personal data to {list(allowed_regions)}, but this stack is environment-agnostic "
            "(its region is only known at deployment), so the region cannot be checked at synth time. "
            "Give the stack env=Environment(region=...) to enforce data residency.",
        )
        return
    if region not in allowed_regions:
        raise PropValidationError(
            owner,
            "allowed_regions",
            list(allowed_regions),
            f"The stack's region {region!r} is not one of them (GDPR art. 44: personal data stays in allowed "
            "regions). Deploy the stack to an allowed region, or add the region if a transfer to it is lawful.",
        )


#: Context key of the regions where an app's personal data may rest (``cdk synth -c allowed_regions=...``).
ALLOWED_REGIONS_CONTEXT = "allowed_regions"


def regions_from_context(scope: Construct) -> tuple[str, ...] | None:
    """The regions of the context key ``allowed_regions`` seen from ``scope``, or ``None`` when unset.

    The CLI gives ``-c allowed_regions=eu-west-1,eu-central-1`` as one comma-separated string;
    an App's ``context=`` may give a list. Each name is checked like any ``allowed_regions`` prop.
    """
    value = scope.node.try_get_context(ALLOWED_REGIONS_CONTEXT)
    if value is None:
        return None
    regions = [r.strip() for r in value.split(",") if r.strip()] if isinstance(value, str) else value
    return check_regions(f"context {ALLOWED_REGIONS_CONTEXT!r}", ALLOWED_REGIONS_CONTEXT, regions)
