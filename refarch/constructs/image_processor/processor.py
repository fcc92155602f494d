"""An image-processing workflow: S3 upload -> EventBridge -> Step Functions -> Lambda (Pillow)
-> DynamoDB status -> SNS.

Uploads land in an encrypted, versioned bucket whose EventBridge notifications start a state
machine (see :mod:`refarch.constructs.image_processor_workflow`). Real handlers
(``refarch/runtime/image_processor``) validate the bytes (format sniffed, byte and pixel
limits, truncation), resize into the configured renditions with reduced JPEG decoding, apply
filters and write progressive JPEG and WebP with every piece of metadata stripped. Originals
are only read, by version; renditions go to a separate output bucket.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders, _dashboards, _defaults
from refarch.constructs._bundling import dependencies_layer, handler_code
from refarch.constructs._flags import pin_required_flags
from refarch.constructs._validation import PropValidationError, check_duration_range
from refarch.constructs.image_processor_monitoring import build_rejected_images_metric, image_panels
from refarch.constructs.image_processor_props import (
    DEFAULT_RENDITIONS,
    FILTERS,
    INPUT_FORMATS,
    OUTPUT_FORMATS,
    ImageRendition,
    check_props,
)
from refarch.constructs.image_processor_workflow import WorkflowParts, build_definition
from refarch.contracts import flows
from refarch.contracts.permissions import require_permission

_OWNER = "ImageProcessor"
_WORK_PREFIX = "work/"

__all__ = [
    "DEFAULT_RENDITIONS",
    "FILTERS",
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "ImageProcessor",
    "ImageRendition",
]


class ImageProcessor(Construct):
    """Uploads in, validated renditions out, every outcome recorded and notified.

    Example::

        images = ImageProcessor(self, "Images", filters=["sharpen"], review=True)
        images.success_topic.add_subscription(subs.EmailSubscription("ops@example.com"))
        images.grant_read_renditions(my_site_role)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        renditions: Sequence[ImageRendition] = DEFAULT_RENDITIONS,
        filters: Sequence[str] = (),
        allowed_formats: Sequence[str] = ("JPEG", "PNG", "WEBP", "GIF"),
        output_formats: Sequence[str] = OUTPUT_FORMATS,
        jpeg_quality: int = 82,
        webp_quality: int = 80,
        max_bytes: int = 50 * 1024 * 1024,
        max_pixels: int = 50_000_000,
        upload_prefix: str = "uploads/",
        original_retention: Duration | None = None,
        upload_suffixes: Sequence[str] = (".jpg", ".jpeg", ".png", ".webp", ".gif"),
        manifest_suffix: str | None = ".manifest.json",
        max_manifest_items: int = 1000,
        max_concurrency: int = 4,
        output_bucket: s3.IBucket | None = None,
        output_prefix: str = "renditions/",
        state_machine_type: sfn.StateMachineType = sfn.StateMachineType.STANDARD,
        timeout: Duration | None = None,
        review: bool = False,
        review_timeout: Duration | None = None,
        log_execution_data: bool = False,
        encryption_key: kms.IKey | None = None,
        architecture: lambda_.Architecture = lambda_.Architecture.ARM_64,
        memory_size: int = 1769,
        function_timeout: Duration | None = None,
        reserved_concurrent_executions: int | None = None,
        retry_interval: Duration | None = None,
        retry_attempts: int = 4,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        log_retention: logs.RetentionDays | None = None,
        removal_policy: RemovalPolicy = _defaults.DATA_REMOVAL_POLICY,
        alarm_topic: sns.ITopic | None = None,
        dashboard: bool | str = True,
    ) -> None:
        """
        :param renditions: Sizes to produce, each fitted inside its box with the aspect ratio kept.
            Default: - thumbnail 200x200, medium 800x600, large 1600x1200
        :param filters: Filters chained on a copy the size of the largest rendition, written as the
            ``filtered`` rendition; one of ``FILTERS`` each. Default: - none (no ApplyFilters branch)
        :param allowed_formats: Input formats accepted, sniffed from the bytes (never the file name), from
            ``INPUT_FORMATS`` (an MPO counts as JPEG; ``"HEIF"`` covers HEIC).
            Default: ``("JPEG", "PNG", "WEBP", "GIF")``
        :param output_formats: Encodings written for each rendition. Default: ``("JPEG", "WEBP")``
        :param jpeg_quality: JPEG quality, 1-100 (progressive, optimized). Default: ``82``
        :param webp_quality: WebP quality, 1-100. Default: ``80``
        :param max_bytes: Largest upload accepted, in bytes. Default: ``50 MiB``
        :param max_pixels: Largest pixel count accepted (width x height x frames), checked on the
            header before decoding: the decompression-bomb guard. Default: ``50_000_000``
        :param upload_prefix: Key prefix of uploads that start the workflow. Default: ``"uploads/"``
        :param original_retention: Age at which originals under ``upload_prefix`` are deleted (old versions
            30 days later). Photos of people are personal data: GDPR's storage limitation (art. 5(1)(e))
            asks for a limit, and the GDPR pack warns without one. Default: - originals are kept
        :param upload_suffixes: Key suffixes that start the workflow (lower and upper case both
            match). Default: ``(".jpg", ".jpeg", ".png", ".webp", ".gif")``
        :param manifest_suffix: Key suffix of batch manifests (a JSON list of keys in the upload
            bucket) under ``upload_prefix``; ``None`` turns batches off. Default: ``".manifest.json"``
        :param max_manifest_items: Most keys a manifest may list, 1-1000 (the item list travels in the
            execution state, capped at 256 KB); split bigger batches. Default: ``1000``
        :param max_concurrency: Images of a batch processed at once (the Map state). Default: ``4``
        :param output_bucket: Bucket for renditions. Default: - a new encrypted bucket
        :param output_prefix: Key prefix of renditions in the output bucket. Default: ``"renditions/"``
        :param state_machine_type: Standard or Express. Express cannot wait for a review.
            Default: ``StateMachineType.STANDARD``
        :param timeout: Longest execution. Default: - 1 hour, plus ``review_timeout`` with review;
            5 minutes for Express
        :param review: Wait for a human decision (a task token published to ``review_topic``)
            before recording success. Default: ``False``
        :param review_timeout: How long a review may take; only with ``review``. Default: - 1 day
        :param log_execution_data: Include states' input and output (object keys, sizes) in the
            execution log. Default: ``False`` (keys may be personal data)
        :param encryption_key: Key for the buckets, table, topics, logs and function environments;
            it must admit CloudWatch Logs and CloudWatch alarms. Default: - a new key with rotation
        :param architecture: Lambda architecture; the layer is built for it. Default: ``ARM_64``
        :param memory_size: Memory of the image functions, MB (1769 MB is one full vCPU). Default: ``1769``
        :param function_timeout: Timeout of each image function. Default: ``Duration.minutes(1)``
        :param reserved_concurrent_executions: Reserved concurrency of each function, so a flood of
            uploads cannot starve the account's other functions. Check the account's quota first: Lambda
            keeps 100 unreserved, and new accounts may have a total of 10 or 50.
            Default: - none (the functions share the account's unreserved pool)
        :param retry_interval: First retry delay of every task (then doubled, with full jitter).
            Default: ``Duration.seconds(2)``
        :param retry_attempts: Retries of every task on transient errors. Default: ``4``
        :param vpc: Run the functions in this VPC (they need S3, DynamoDB and CloudWatch Logs
            endpoints or NAT). Default: - no VPC
        :param vpc_subnets: Subnets for the functions, with ``vpc``. Default: - private subnets
        :param log_retention: Retention of every log group. Default: ``RetentionDays.ONE_YEAR``
        :param removal_policy: What happens to buckets, table, key and logs when removed.
            Default: ``RemovalPolicy.RETAIN``
        :param alarm_topic: SNS topic the alarms and the health alarm notify. Default: - ``error_topic``, a new
            topic encrypted with the construct's key
        :param dashboard: ``False`` for no CloudWatch dashboard, or a name for it. Default: - a dashboard
            with a generated name
        """
        super().__init__(scope, id)
        _dashboards.check_alarm_topic_prop(_OWNER, alarm_topic)
        _dashboards.check_dashboard_prop(_OWNER, dashboard)
        pin_required_flags(self)  # before any child: its buckets need bucket-policy log delivery
        check_props(
            renditions=renditions,
            filters=filters,
            allowed_formats=allowed_formats,
            output_formats=output_formats,
            jpeg_quality=jpeg_quality,
            webp_quality=webp_quality,
            memory_size=memory_size,
            max_bytes=max_bytes,
            max_pixels=max_pixels,
            upload_prefix=upload_prefix,
            output_prefix=output_prefix,
            upload_suffixes=upload_suffixes,
            manifest_suffix=manifest_suffix,
            max_manifest_items=max_manifest_items,
            max_concurrency=max_concurrency,
            reserved_concurrent_executions=reserved_concurrent_executions,
            retry_attempts=retry_attempts,
            retry_interval=retry_interval,
            function_timeout=function_timeout,
            state_machine_type=state_machine_type,
            review=review,
            review_timeout=review_timeout,
            timeout=timeout,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
        )
        check_duration_range(
            "ImageProcessor",
            "original_retention",
            original_retention,
            minimum=Duration.days(1),
            maximum=Duration.days(36_500),
        )
        express = state_machine_type == sfn.StateMachineType.EXPRESS
        self.renditions = tuple(renditions)
        self.filters = tuple(filters)
        self.upload_prefix = upload_prefix
        self.output_prefix = output_prefix
        self.review_enabled = review

        # -- encryption, storage ---------------------------------------------------------
        if encryption_key is None:
            key = _builders.build_logs_key(
                self,
                "Key",
                description=f"{self.node.path}: images, status, topics, logs",
                removal_policy=removal_policy,
            )
            # CloudWatch alarms (and the health alarm) publish to the encrypted error topic.
            _dashboards.allow_alarms(key, self)
            encryption_key = key
        self.encryption_key = encryption_key

        access_logs = _builders.build_access_log_bucket(self, "AccessLogs", removal_policy=removal_policy)
        self.upload_bucket = _builders.build_data_bucket(
            self,
            "Uploads",
            encryption_key=encryption_key,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="uploads/",
            removal_policy=removal_policy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireOriginals",
                    prefix=upload_prefix,
                    expiration=original_retention,
                    noncurrent_version_expiration=Duration.days(30),
                )
            ]
            if original_retention is not None
            else None,
        )
        # EventBridge delivery set on the bucket resource itself: the L2's event_bridge_enabled goes
        # through a custom-resource Lambda (inline policy, AWS managed policy) that is not needed.
        cfn_upload = self.upload_bucket.node.default_child
        cfn_upload.add_property_override(  # type: ignore[union-attr]
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        self.output_bucket: s3.IBucket = output_bucket or _builders.build_data_bucket(
            self,
            "Renditions",
            encryption_key=encryption_key,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="renditions/",
            removal_policy=removal_policy,
            lifecycle_rules=[
                # Intermediates a failed execution leaves behind; a successful one deletes them.
                s3.LifecycleRule(
                    id="ExpireWorkFiles",
                    prefix=_WORK_PREFIX,
                    expiration=Duration.days(1),
                    noncurrent_version_expiration=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="ExpireReplacedRenditions", prefix=output_prefix, noncurrent_version_expiration=Duration.days(30)
                ),
                s3.LifecycleRule(id="AbortUploads", abort_incomplete_multipart_upload_after=Duration.days(7)),
            ],
        )

        self.table = dynamodb.Table(
            self,
            "Status",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=encryption_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Only the handlers' idempotency records carry this attribute; status items never expire.
            time_to_live_attribute="expiration",
            deletion_protection=removal_policy == RemovalPolicy.RETAIN,
            removal_policy=removal_policy,
        )
        acknowledge(
            self.table,
            "Point-in-time recovery keeps 35 days of continuous backups under the customer key; an AWS Backup "
            "plan on top is an account-wide choice (vaults, cross-account copies) left to the owner.",
            "HIPAA.Security-DynamoDBInBackupPlan",
            "NIST.800.53.R5-DynamoDBInBackupPlan",
            "PCI.DSS.321-DynamoDBInBackupPlan",
        )

        self.success_topic = sns.Topic(
            self, "Succeeded", master_key=encryption_key, enforce_ssl=True, display_name="Image processed"
        )
        self.error_topic = sns.Topic(
            self, "Failed", master_key=encryption_key, enforce_ssl=True, display_name="Image rejected or failed"
        )
        self.review_topic: sns.Topic | None = (
            sns.Topic(self, "Review", master_key=encryption_key, enforce_ssl=True, display_name="Image review")
            if review
            else None
        )

        # -- functions -------------------------------------------------------------------
        self.layer = dependencies_layer(
            self,
            "Dependencies",
            requirements="image_processor",
            architecture=architecture,
            description="Pillow, AWS Lambda Powertools and fastjsonschema for the image processor",
        )
        environment = {
            "POWERTOOLS_SERVICE_NAME": "image-processor",
            "RENDITIONS": json.dumps([{"name": r.name, "width": r.width, "height": r.height} for r in renditions]),
            "FILTERS": json.dumps(list(filters)),
            "ALLOWED_FORMATS": ",".join(allowed_formats),
            "OUTPUT_FORMATS": ",".join(output_formats),
            "JPEG_QUALITY": str(jpeg_quality),
            "WEBP_QUALITY": str(webp_quality),
            "MAX_BYTES": str(max_bytes),
            "MAX_PIXELS": str(max_pixels),
            "OUTPUT_BUCKET": self.output_bucket.bucket_name,
            "OUTPUT_PREFIX": output_prefix,
            "WORK_PREFIX": _WORK_PREFIX,
            "STATUS_TABLE": self.table.table_name,
            "MAX_MANIFEST_ITEMS": str(max_manifest_items),
        }
        code = handler_code("image_processor")
        subnets = (vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)) if vpc else None

        def function(
            id: str, handler: str, description: str, memory: int, *, read: bool, write: bool, list_uploads: bool = False
        ) -> lambda_.Function:
            fn = _builders.build_python_function(
                self,
                id,
                description=description,
                code=code,
                handler=f"image_processor.{handler}",
                encryption_key=encryption_key,
                removal_policy=removal_policy,
                architecture=architecture,
                layers=[self.layer],
                environment=environment,
                timeout=function_timeout or Duration.minutes(1),
                memory_size=memory,
                reserved_concurrent_executions=reserved_concurrent_executions,
                vpc=vpc,
                vpc_subnets=subnets,
                log_retention=log_retention,
            )
            self._grant(fn, read=read, write=write, list_uploads=list_uploads)
            if vpc is not None:
                flows.require_flow(
                    self, source=fn, destination=flows.aws_service("s3"), port=443, reason=f"{id} reads and writes S3"
                )
            dlq = (
                "Step Functions invokes this function synchronously and handles its errors with Retry and Catch "
                "(recorded in DynamoDB, published to the error topic): there is no async event to dead-letter."
            )
            rules = ["HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "PCI.DSS.321-LambdaDLQ"]
            if vpc is None:
                dlq += (
                    " It runs outside a VPC because it reaches only S3, DynamoDB and CloudWatch over TLS with "
                    "IAM-signed calls and no private resources; pass vpc= to run it in private subnets."
                )
                rules += [
                    "HIPAA.Security-LambdaInsideVPC",
                    "NIST.800.53.R5-LambdaInsideVPC",
                    "PCI.DSS.321-LambdaInsideVPC",
                ]
            acknowledge(fn, dlq, *rules)
            if reserved_concurrent_executions is None:
                acknowledge(
                    fn,
                    "Reserved concurrency is opt-in (reserved_concurrent_executions): a reservation fails to "
                    "deploy in accounts with a low concurrency quota (new accounts may have 10 or 50), and Step "
                    "Functions retries throttled invocations (Lambda.TooManyRequestsException) with backoff, so "
                    "a burst of uploads is delayed, not lost.",
                    "HIPAA.Security-LambdaConcurrency",
                    "NIST.800.53.R5-LambdaConcurrency",
                )
            return fn

        # Tokens read once: every property read is a round-trip to the jsii runtime.
        self._arns = {
            "key": self.encryption_key.key_arn,
            "uploads": self.upload_bucket.arn_for_objects(f"{upload_prefix}*"),
            "upload_bucket": self.upload_bucket.bucket_arn,
            "work": self.output_bucket.arn_for_objects(f"{_WORK_PREFIX}*"),
            "renditions": self.output_bucket.arn_for_objects(f"{output_prefix}*"),
            "table": self.table.table_arn,
        }
        output_key = self.output_bucket.encryption_key
        self._output_key_arn = (
            output_key.key_arn if output_key is not None and output_key is not encryption_key else None
        )
        self._object_arn_ids = {
            "upload": Stack.of(self).get_logical_id(self.upload_bucket.node.default_child),  # type: ignore[arg-type]
            "output": (
                Stack.of(self).get_logical_id(self.output_bucket.node.default_child)  # type: ignore[arg-type]
                if self.output_bucket.node.default_child is not None
                else None
            ),
        }
        self.validate_function = function(
            "ValidateFunction", "handlers.validate", "Validates an uploaded image", memory_size, read=True, write=False
        )
        self.resize_function = function(
            "ResizeFunction", "handlers.resize", "Resizes an image into renditions", memory_size, read=True, write=True
        )
        self.optimize_function = function(
            "OptimizeFunction",
            "handlers.optimize",
            "Encodes renditions as progressive JPEG and WebP",
            memory_size,
            read=False,
            write=True,
        )
        self.filter_function = (
            function(
                "FilterFunction",
                "handlers.apply_filters",
                "Applies the configured filters",
                memory_size,
                read=True,
                write=True,
            )
            if filters
            else None
        )
        self.manifest_function = (
            function(
                "ManifestFunction",
                "manifest.load",
                "Reads a batch manifest of image keys",
                512,
                read=True,
                write=False,
                list_uploads=True,
            )
            if manifest_suffix is not None
            else None
        )
        image_functions = [f for f in (self.validate_function, self.resize_function, self.filter_function) if f]

        # -- state machine ---------------------------------------------------------------
        # Step Functions logs to groups under /aws/vendedlogs/ without adding each one to the account's
        # CloudWatch Logs resource policy (which has a size limit); the suffix unique to the stack's
        # creation keeps the retained group from colliding with the next create of the stack.
        self.log_group = _builders.build_log_group(
            self,
            "ExecutionLogs",
            log_group_name=f"/aws/vendedlogs/states/{Names.unique_resource_name(self, max_length=200)}-"
            f"{_builders.stack_unique_suffix(self)}",
            encryption_key=encryption_key,
            retention=log_retention,
            removal_policy=removal_policy,
        )
        role = _builders.ManagedPolicyRole(
            self,
            "StateMachineRole",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"{self.node.path} state machine",
        )
        definition = build_definition(
            self,
            WorkflowParts(
                validate=self.validate_function,
                resize=self.resize_function,
                optimize=self.optimize_function,
                filters=self.filter_function,
                manifest=self.manifest_function,
                table=self.table,
                success_topic=self.success_topic,
                error_topic=self.error_topic,
                review_topic=self.review_topic,
                review_timeout=review_timeout,
                manifest_suffix=manifest_suffix,
                max_concurrency=max_concurrency,
                retry_interval=retry_interval or Duration.seconds(2),
                retry_attempts=retry_attempts,
            ),
        )
        default_timeout = Duration.minutes(5) if express else Duration.hours(1)
        if review:
            default_timeout = Duration.minutes(60 + (review_timeout or Duration.days(1)).to_minutes())
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=state_machine_type,
            role=role,
            timeout=timeout or default_timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=log_execution_data
            ),
        )
        # The topics and the table are encrypted with the key: the role needs it to publish and write.
        role.add_to_policy(
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[encryption_key.key_arn])
        )
        acknowledge(
            role,
            "Step Functions' log delivery (logs:CreateLogDelivery and related) and X-Ray's PutTraceSegments "
            "support no resource-level permissions: AWS documents Resource '*' as the only form.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        acknowledge(
            role,
            "lambda:InvokeFunction on '<function ARN>:*' lets the state machine call the function's versions "
            "and aliases; it is limited to this construct's own functions.",
            *{
                f"AwsSolutions-IAM5[Resource::<{Stack.of(self).get_logical_id(fn.node.default_child)}.Arn>:*]"  # type: ignore[arg-type]
                for fn in (*image_functions, self.optimize_function, self.manifest_function)
                if fn
            },
        )

        # -- trigger ---------------------------------------------------------------------
        suffixes = sorted({s.lower() for s in upload_suffixes} | {s.upper() for s in upload_suffixes})
        if manifest_suffix is not None:
            suffixes.append(manifest_suffix)
        trigger_role = _builders.ManagedPolicyRole(
            self,
            "TriggerRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description=f"{self.node.path} upload trigger",
        )
        self.rule = events.Rule(
            self,
            "OnUpload",
            description=f"Starts {self.node.path} for images uploaded under {upload_prefix!r}",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.upload_bucket.bucket_name]},
                    "object": {"key": [{"wildcard": f"{upload_prefix}*{s}"} for s in suffixes]},
                },
            ),
        )
        self.rule.add_target(
            targets.SfnStateMachine(
                self.state_machine,
                role=trigger_role,
                input=events.RuleTargetInput.from_object(
                    {
                        "bucket": events.EventField.from_path("$.detail.bucket.name"),
                        "key": events.EventField.from_path("$.detail.object.key"),
                        "versionId": events.EventField.from_path("$.detail.object.version-id"),
                    }
                ),
                retry_attempts=10,
                max_event_age=Duration.hours(24),
            )
        )

        # -- alarms ----------------------------------------------------------------------
        period = Duration.minutes(5)
        self.alarms = {
            name: cloudwatch.Alarm(
                self,
                f"Executions{name}Alarm",
                alarm_description=f"{self.node.path}: executions {name.lower()}",
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for name, metric in (
                ("Failed", self.state_machine.metric_failed(period=period, statistic="Sum")),
                ("TimedOut", self.state_machine.metric_timed_out(period=period, statistic="Sum")),
                ("Throttled", self.state_machine.metric_throttled(period=period, statistic="Sum")),
            )
        }
        self.alarm_topic: sns.ITopic = alarm_topic or self.error_topic
        for alarm in self.alarms.values():
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))
        # Each Lambda task state of the workflow, by state name, and the function it runs.
        functions: dict[str, lambda_.IFunction] = {
            "ValidateImage": self.validate_function,
            "ResizeImage": self.resize_function,
            **({"ApplyFilters": self.filter_function} if self.filter_function is not None else {}),
            "OptimizeImage": self.optimize_function,
            **({"LoadManifest": self.manifest_function} if self.manifest_function is not None else {}),
        }
        self.dashboard, self.health_alarm = _dashboards.build_operations_view(
            self,
            dashboard=dashboard,
            title=self.node.path,
            panels=image_panels(
                rule=self.rule,
                state_machine=self.state_machine,
                functions=functions,
                rejected=build_rejected_images_metric(self, self.validate_function),
            ),
            alarms=self.alarms,
            topic=self.alarm_topic,
        )

    # -- grants ---------------------------------------------------------------------------

    def _grant(self, fn: lambda_.Function, *, read: bool, write: bool, list_uploads: bool) -> None:
        """One function's permissions, narrow and added in one go: reading uploads (by version),
        writing work files and renditions, its idempotency records, and the key for all of them."""
        statements: list[iam.PolicyStatement] = []
        key_actions = {"kms:Decrypt"}
        key_arns = [self._arns["key"]]
        object_arns: list[str] = []
        if read:
            statements.append(
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[self._arns["uploads"]],
                )
            )
            object_arns.append(f"<{self._object_arn_ids['upload']}.Arn>/{self.upload_prefix}*")
        if list_uploads:  # HeadObject answers 404 (not 403) for a missing key only with ListBucket
            statements.append(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[self._arns["upload_bucket"]],
                    conditions={"StringLike": {"s3:prefix": [f"{self.upload_prefix}*"]}},
                )
            )
        if write:
            statements.append(
                iam.PolicyStatement(
                    actions=["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                    resources=[self._arns["work"], self._arns["renditions"]],
                )
            )
            output_id = self._object_arn_ids["output"]
            if output_id is not None:
                object_arns += [f"<{output_id}.Arn>/{p}*" for p in (_WORK_PREFIX, self.output_prefix)]
            if self._output_key_arn is not None:
                key_arns.append(self._output_key_arn)
            # Powertools idempotency records live in the status table (key ``pk``, TTL ``expiration``).
            statements.append(
                iam.PolicyStatement(
                    actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                    resources=[self._arns["table"]],
                )
            )
            key_actions |= {"kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"}
        statements.append(iam.PolicyStatement(actions=sorted(key_actions), resources=key_arns))
        role = fn.role
        self._declare_object_access(fn, read=read, write=write)
        if isinstance(role, _builders.ManagedPolicyRole):
            role.policy.add_statements(*statements)
        else:  # pragma: no cover - build_python_function always gives a ManagedPolicyRole
            for statement in statements:
                fn.add_to_role_policy(statement)
        if object_arns and role is not None:
            acknowledge(
                role,
                "S3 object permissions name objects by ARN pattern: the grant is limited to this construct's "
                "key prefixes, which is as narrow as object-level IAM gets.",
                *(f"AwsSolutions-IAM5[Resource::{arn}]" for arn in object_arns),
            )

    def _declare_object_access(self, fn: lambda_.Function, *, read: bool, write: bool) -> None:
        """Where the handlers' S3 calls go, for the permission check: the uploaded object comes in the
        event (the code cannot name its bucket), and writes go under the work and rendition prefixes."""
        role = fn.role
        assert role is not None
        if read:
            require_permission(
                self,
                principal=role,
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[self._arns["uploads"]],
                reason="the handler reads the uploaded object version the event names",
            )
        if write:
            require_permission(
                self,
                principal=role,
                actions=["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                resources=[self._arns["work"], self._arns["renditions"]],
                reason="the handler writes, reads back and cleans up work files and renditions",
            )

    # -- public API -----------------------------------------------------------------------

    def grant_upload(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put objects under the upload prefix, encrypted with the key (nothing else:
        no reads, no deletes, no other prefix)."""
        return self._grant_objects(
            "grant_upload",
            grantee,
            ["s3:PutObject", "s3:AbortMultipartUpload"],
            self.upload_bucket,
            self.upload_prefix,
            ["kms:GenerateDataKey", "kms:Decrypt"],
        )

    def grant_read_renditions(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read renditions, any version, and decrypt them."""
        return self._grant_objects(
            "grant_read_renditions",
            grantee,
            ["s3:GetObject", "s3:GetObjectVersion"],
            self.output_bucket,
            self.output_prefix,
            ["kms:Decrypt"],
        )

    def _grant_objects(
        self,
        method: str,
        grantee: iam.IGrantable,
        actions: list[str],
        bucket: s3.IBucket,
        prefix: str,
        key_actions: list[str],
    ) -> iam.Grant:
        key = bucket.encryption_key or self.encryption_key
        iam.Grant.add_to_principal(grantee=grantee, actions=key_actions, resource_arns=[key.key_arn])
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=actions, resource_arns=[bucket.arn_for_objects(f"{prefix}*")]
        )
        # The finding lands on the grantee's policy: name it there, narrowly, when the grantee is
        # a construct of the same app (a role the user created).
        default_child = bucket.node.default_child
        if isinstance(grantee, Construct) and default_child is not None:
            bucket_id = Stack.of(self).get_logical_id(default_child)  # type: ignore[arg-type]
            acknowledge(
                grantee,
                f"Granted by ImageProcessor.{method}: object-level S3 permissions name objects by ARN pattern, "
                "here limited to one key prefix.",
                f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
            )
        return grant

    def grant_read_status(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the status table."""
        return self.table.grant_read_data(grantee)

    def grant_review(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` answer reviews (SendTaskSuccess/SendTaskFailure) and read the renditions."""
        if self.review_topic is None:
            raise PropValidationError(_OWNER, "review", False, "grant_review needs review=True.")
        self.grant_read_renditions(grantee)
        return self.state_machine.grant_task_response(grantee)

    def metric_failed(self, **kwargs: object) -> cloudwatch.Metric:
        """Failed executions."""
        return self.state_machine.metric_failed(**kwargs)  # type: ignore[arg-type]

    def metric_succeeded(self, **kwargs: object) -> cloudwatch.Metric:
        """Succeeded executions."""
        return self.state_machine.metric_succeeded(**kwargs)  # type: ignore[arg-type]
