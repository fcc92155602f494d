"""The library's L3 constructs: one module each, re-exported here and from ``refarch``."""

from refarch.constructs.encrypted_data_store import EncryptedDataStore
from refarch.constructs.image_processor import ImageProcessor, ImageRendition
from refarch.constructs.private_api import ApiAuthorization, PrivateApi
from refarch.constructs.resilient_web_app import Capacity, DataLayer, ResilientWebApp, ResilientWebAppProps
from refarch.constructs.streaming_pipeline import StreamingPipeline
from refarch.constructs.three_tier_vpc import NatStrategy, ThreeTierVpc, Tier
from refarch.constructs.web_acl import ProtectiveWebAcl, ProtectiveWebAclProps, WafScope
from refarch.errors import PropValidationError
from refarch.iam import ManagedPolicyRole

__all__ = [
    "ApiAuthorization",
    "Capacity",
    "DataLayer",
    "EncryptedDataStore",
    "ImageProcessor",
    "ImageRendition",
    "ManagedPolicyRole",
    "NatStrategy",
    "PrivateApi",
    "PropValidationError",
    "ProtectiveWebAcl",
    "ProtectiveWebAclProps",
    "ResilientWebApp",
    "ResilientWebAppProps",
    "StreamingPipeline",
    "ThreeTierVpc",
    "Tier",
    "WafScope",
]
