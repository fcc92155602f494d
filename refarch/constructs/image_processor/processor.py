"""An image-processing workflow: S3 upload -> EventBridge -> Step Functions -> Lambda (Pillow)
-> DynamoDB status -> SNS.

Uploads land in an encrypted, versioned bucket whose EventBridge notifications start a state
machine (see :mod:`.workflow`). Real handlers (``refarch/runtime/image_processor``) validate the bytes
(format sniffed, byte and pixel limits, truncation), resize into the configured renditions with
reduced JPEG decoding, apply filters and write progressive JPEG and WebP with every piece of metadata
stripped. Originals are only read, by version; renditions go to a separate output bucket.
"""

from __future__ import annotations

import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct
from typing_extensions import Unpack

from refarch.constructs._flags import pin_required_flags
from refarch.constructs._metrics import MetricOptions
from refarch.constructs._props import document_props, read_props
from refarch.constructs.image_processor import grants
from refarch.constructs.image_processor.functions import build_functions
from refarch.constructs.image_processor.monitoring import build_monitoring
from refarch.constructs.image_processor.props import OWNER, ImageProcessorProps, check_props
from refarch.constructs.image_processor.state_machine import build_state_machine, build_trigger
from refarch.constructs.image_processor.storage import build_storage
from refarch.errors import PropValidationError


@jsii.implements(ec2.IConnectable)
@document_props(ImageProcessorProps)
class ImageProcessor(Construct):
    """Uploads in, validated renditions out, every outcome recorded and notified.

    Example::

        images = ImageProcessor(self, "Images", filters=["sharpen"], review=True)
        images.success_topic.add_subscription(subs.EmailSubscription("ops@example.com"))
        images.grant_read_renditions(my_site_role)
    """

    def __init__(self, scope: Construct, id: str, **props: Unpack[ImageProcessorProps]) -> None:
        """Build the workflow; every prop is checked first."""
        p = read_props(OWNER, ImageProcessorProps, props)
        placement = check_props(p)
        super().__init__(scope, id)
        pin_required_flags(self)  # before any child: its buckets need bucket-policy log delivery
        self.renditions = tuple(p["renditions"])
        self.filters = tuple(p["filters"])
        self.upload_prefix = p["upload_prefix"]
        self.output_prefix = p["output_prefix"]
        self.review_enabled = p["review"]

        storage = build_storage(self, p)
        self.encryption_key = storage.key
        self.upload_bucket = storage.upload_bucket
        self.output_bucket = storage.output_bucket
        self.table = storage.table
        self.success_topic = storage.success_topic
        self.error_topic = storage.error_topic
        self.review_topic = storage.review_topic

        functions = build_functions(self, p, storage, placement)
        self.layer = functions.layer
        self.validate_function = functions.validate
        self.resize_function = functions.resize
        self.optimize_function = functions.optimize
        self.filter_function = functions.filters
        self.manifest_function = functions.manifest
        self._connections = ec2.Connections(
            security_groups=[functions.security_group] if functions.security_group else None
        )

        self.state_machine, self.log_group = build_state_machine(self, p, storage, functions)
        self.rule = build_trigger(self, p, storage, self.state_machine)

        self.alarm_topic: sns.ITopic = p["alarm_topic"] or self.error_topic
        self.alarms, self.dashboard, self.health_alarm = build_monitoring(
            self,
            state_machine=self.state_machine,
            rule=self.rule,
            functions=functions.by_state(),
            topic=self.alarm_topic,
            dashboard=p["dashboard"],
        )

    @property
    def connections(self) -> ec2.Connections:
        """The functions' security group (in a VPC); empty outside one. Allow it to reach a database,
        for example: ``db.connections.allow_default_port_from(images)``."""
        return self._connections

    # -- grants ---------------------------------------------------------------------------

    def grant_upload(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put objects under the upload prefix, encrypted with the key (nothing else:
        no reads, no deletes, no other prefix)."""
        return grants.grant_objects(
            "grant_upload",
            grantee,
            bucket=self.upload_bucket,
            prefix=self.upload_prefix,
            actions=["s3:PutObject", "s3:AbortMultipartUpload"],
            key_actions=["kms:GenerateDataKey", "kms:Decrypt"],
        )

    def grant_read_renditions(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read renditions, any version, and decrypt them."""
        return grants.grant_objects(
            "grant_read_renditions",
            grantee,
            bucket=self.output_bucket,
            prefix=self.output_prefix,
            actions=["s3:GetObject", "s3:GetObjectVersion"],
            key_actions=["kms:Decrypt"],
        )

    def grant_read_status(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the status table and decrypt it."""
        return grants.combine(
            [
                grants.with_key(grantee, self.encryption_key, ["kms:Decrypt", "kms:DescribeKey"]),
                iam.Grant.add_to_principal(
                    grantee=grantee, actions=list(grants.STATUS_READ_ACTIONS), resource_arns=[self.table.table_arn]
                ),
            ]
        )

    def grant_review(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` answer reviews (SendTaskSuccess/SendTaskFailure) and read the renditions it
        reviews."""
        if not self.review_enabled:
            raise PropValidationError(OWNER, "review", False, "grant_review needs review=True.")
        return grants.combine([self.state_machine.grant_task_response(grantee), self.grant_read_renditions(grantee)])

    # -- metrics --------------------------------------------------------------------------

    def metric_failed(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Failed executions (Sum over 5 minutes unless ``options`` say otherwise)."""
        return self.state_machine.metric_failed(**options)

    def metric_succeeded(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Succeeded executions (Sum over 5 minutes unless ``options`` say otherwise)."""
        return self.state_machine.metric_succeeded(**options)
