"""Reference stacks: each composes the library's constructs into a deployable architecture.

``REFERENCE_STACKS`` is the single list that ``app.py``, the test harness (snapshots,
compliance packs, cfn-lint, the stateful-resource lock) and ``bench/`` iterate over: a stack
added here is synthesized, tested and benchmarked everywhere without further wiring.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Environment, Stack
from constructs import Construct

from refarch.stacks.encrypted_data_store_stack import EncryptedDataStoreStack
from refarch.stacks.image_processor_stack import ImageProcessorStack
from refarch.stacks.private_api_stack import PrivateApiStack
from refarch.stacks.resilient_web_app_stack import ResilientWebAppStack
from refarch.stacks.streaming_pipeline_stack import StreamingPipelineStack
from refarch.stacks.three_tier_vpc_stack import ThreeTierVpcStack

#: Construct ID -> stack class, in synthesis order.
REFERENCE_STACKS: dict[str, type[Stack]] = {
    "ThreeTierVpcStack": ThreeTierVpcStack,
    "EncryptedDataStoreStack": EncryptedDataStoreStack,
    "StreamingPipelineStack": StreamingPipelineStack,
    "PrivateApiStack": PrivateApiStack,
    "ImageProcessorStack": ImageProcessorStack,
    "ResilientWebAppStack": ResilientWebAppStack,
}


def build_reference_stacks(scope: Construct, *, env: Environment | None = None, **kwargs: Any) -> dict[str, Stack]:
    """Add every reference stack to ``scope`` (an App or Stage)."""
    return {name: cls(scope, name, env=env, **kwargs) for name, cls in REFERENCE_STACKS.items()}


__all__ = [
    "REFERENCE_STACKS",
    "EncryptedDataStoreStack",
    "ImageProcessorStack",
    "PrivateApiStack",
    "ResilientWebAppStack",
    "StreamingPipelineStack",
    "ThreeTierVpcStack",
    "build_reference_stacks",
]
