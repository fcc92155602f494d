"""Reference stack: the image-processing workflow with a filter branch and batch manifests."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from refarch.constructs import ImageProcessor


class ImageProcessorStack(Stack):
    """Uploads -> validated, resized, sharpened renditions as progressive JPEG and WebP, with status
    in DynamoDB and notifications on SNS."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, description="cdk-refarch reference: image processor", **kwargs)
        # Originals are personal data when they show people: kept a year, then deleted (the renditions
        # and the status record stay).
        self.images = ImageProcessor(self, "Images", filters=["sharpen"], original_retention=Duration.days(365))
