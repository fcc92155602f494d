"""The library's L3 constructs: one package each, re-exported here and from ``refarch``.

Each construct's package loads on first use (PEP 562, as ``refarch`` itself does): an app that uses one
construct imports that construct's aws-cdk-lib modules only (and those of the constructs it builds on):
about half a second less of every ``cdk synth`` than importing all of them (0.5-0.6 CPU-s, measured
with ThreeTierVpc alone against every construct).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from refarch.constructs.encrypted_data_store import EncryptedDataStore as EncryptedDataStore
    from refarch.constructs.encrypted_data_store import EncryptedDataStoreProps as EncryptedDataStoreProps
    from refarch.constructs.image_processor import ImageProcessor as ImageProcessor
    from refarch.constructs.image_processor import ImageProcessorProps as ImageProcessorProps
    from refarch.constructs.image_processor import ImageRendition as ImageRendition
    from refarch.constructs.private_api import ApiAuthorization as ApiAuthorization
    from refarch.constructs.private_api import PrivateApi as PrivateApi
    from refarch.constructs.private_api import PrivateApiProps as PrivateApiProps
    from refarch.constructs.resilient_web_app import Capacity as Capacity
    from refarch.constructs.resilient_web_app import DataLayer as DataLayer
    from refarch.constructs.resilient_web_app import ResilientWebApp as ResilientWebApp
    from refarch.constructs.resilient_web_app import ResilientWebAppProps as ResilientWebAppProps
    from refarch.constructs.streaming_pipeline import StreamingPipeline as StreamingPipeline
    from refarch.constructs.streaming_pipeline import StreamingPipelineProps as StreamingPipelineProps
    from refarch.constructs.three_tier_vpc import NatStrategy as NatStrategy
    from refarch.constructs.three_tier_vpc import ThreeTierVpc as ThreeTierVpc
    from refarch.constructs.three_tier_vpc import ThreeTierVpcProps as ThreeTierVpcProps
    from refarch.constructs.three_tier_vpc import Tier as Tier
    from refarch.constructs.web_acl import ProtectiveWebAcl as ProtectiveWebAcl
    from refarch.constructs.web_acl import ProtectiveWebAclProps as ProtectiveWebAclProps
    from refarch.constructs.web_acl import WafScope as WafScope
    from refarch.errors import PropValidationError as PropValidationError
    from refarch.iam import ManagedPolicyRole as ManagedPolicyRole

#: The module each public name comes from.
_HOMES = {
    **dict.fromkeys(("EncryptedDataStore", "EncryptedDataStoreProps"), "refarch.constructs.encrypted_data_store"),
    **dict.fromkeys(("ImageProcessor", "ImageProcessorProps", "ImageRendition"), "refarch.constructs.image_processor"),
    **dict.fromkeys(("ApiAuthorization", "PrivateApi", "PrivateApiProps"), "refarch.constructs.private_api"),
    **dict.fromkeys(
        ("Capacity", "DataLayer", "ResilientWebApp", "ResilientWebAppProps"), "refarch.constructs.resilient_web_app"
    ),
    **dict.fromkeys(("StreamingPipeline", "StreamingPipelineProps"), "refarch.constructs.streaming_pipeline"),
    **dict.fromkeys(("NatStrategy", "ThreeTierVpc", "ThreeTierVpcProps", "Tier"), "refarch.constructs.three_tier_vpc"),
    **dict.fromkeys(("ProtectiveWebAcl", "ProtectiveWebAclProps", "WafScope"), "refarch.constructs.web_acl"),
    "PropValidationError": "refarch.errors",
    "ManagedPolicyRole": "refarch.iam",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:  # a submodule such as _builders is then imported by the import system
        raise AttributeError(f"module 'refarch.constructs' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value  # found as a plain attribute from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
