"""The library's L3 constructs: one module each, re-exported here and from ``refarch``."""

from refarch.constructs._validation import PropValidationError
from refarch.constructs.three_tier_vpc import NatStrategy, ThreeTierVpc, Tier

__all__ = [
    "NatStrategy",
    "PropValidationError",
    "ThreeTierVpc",
    "Tier",
]
