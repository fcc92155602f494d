#!/usr/bin/env python3
"""A user's app: a photo-sharing back end. Uploads under ``photos/`` become three web sizes plus a
sharpened copy as progressive JPEG and WebP; a moderator approves each image (task token) before it
is published; the web tier's role may read renditions only; failures page the on-call address.

    pip install cdk-refarch
    cdk synth          # or: cdk deploy ImageProcessorExample
"""

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from refarch.compliance import apply_packs
from refarch.constructs import ImageProcessor, ImageRendition, ManagedPolicyRole
from refarch.environment import environment_from_context


class PhotoStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)
        self.images = ImageProcessor(
            self,
            "Photos",
            renditions=[
                ImageRendition("square", 320, 320),
                ImageRendition("feed", 1080, 1350),
                ImageRendition("full", 2048, 2048),
            ],
            filters=["autocontrast", "sharpen"],
            upload_prefix="photos/",
            upload_suffixes=[".jpg", ".jpeg", ".png", ".heic.jpg"],
            max_pixels=40_000_000,  # phones top out near 50 MP; refuse anything bigger
            jpeg_quality=80,
            review=True,
            review_timeout=cdk.Duration.hours(12),
            max_concurrency=8,
        )
        # The web tier reads renditions; the moderation tool answers reviews. ManagedPolicyRole keeps
        # the grants in a customer-managed policy (HIPAA/NIST/PCI reject inline policies).
        web = ManagedPolicyRole(
            self, "WebRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"), description="web tier"
        )
        self.images.grant_read_renditions(web)
        moderation = ManagedPolicyRole(
            self, "ModerationRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description="moderation"
        )
        self.images.grant_review(moderation)
        self.images.error_topic.add_subscription(subscriptions.EmailSubscription("oncall@example.com"))
        cdk.CfnOutput(self, "UploadBucket", value=self.images.upload_bucket.bucket_name)
        cdk.CfnOutput(self, "StatusTable", value=self.images.table.table_name)


app = cdk.App()
# Environment-agnostic, or for the account and region of `cdk synth -c account=... -c region=...`.
PhotoStack(app, "ImageProcessorExample", env=environment_from_context(app))
apply_packs(app)
app.synth()
