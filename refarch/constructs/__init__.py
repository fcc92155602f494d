"""The library's L3 constructs: one module each, re-exported here and from ``refarch``."""

from refarch.constructs.encrypted_data_store import EncryptedDataStore, EncryptedDataStoreProps
from refarch.constructs.image_processor import ImageProcessor, ImageProcessorProps, ImageRendition
from refarch.constructs.private_api import ApiAuthorization, PrivateApi, PrivateApiProps
from refarch.constructs.resilient_web_app import Capacity, DataLayer, ResilientWebApp, ResilientWebAppProps
from refarch.constructs.streaming_pipeline import StreamingPipeline, StreamingPipelineProps
from refarch.constructs.three_tier_vpc import NatStrategy, ThreeTierVpc, ThreeTierVpcProps, Tier
from refarch.constructs.web_acl import ProtectiveWebAcl, ProtectiveWebAclProps, WafScope
from refarch.errors import PropValidationError
from refarch.iam import ManagedPolicyRole

__all__ = [
    "ApiAuthorization",
    "Capacity",
    "DataLayer",
    "EncryptedDataStore",
    "EncryptedDataStoreProps",
    "ImageProcessor",
    "ImageProcessorProps",
    "ImageRendition",
    "ManagedPolicyRole",
    "NatStrategy",
    "PrivateApi",
    "PrivateApiProps",
    "PropValidationError",
    "ProtectiveWebAcl",
    "ProtectiveWebAclProps",
    "ResilientWebApp",
    "ResilientWebAppProps",
    "StreamingPipeline",
    "StreamingPipelineProps",
    "ThreeTierVpc",
    "ThreeTierVpcProps",
    "Tier",
    "WafScope",
]
