"""The ImageProcessor's Lambda functions: one layer (Pillow, Powertools), one environment, and for
each function the narrowest permissions its handler needs (reading uploads by version, writing work
files and renditions, its idempotency records, the key for all of them)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge, wildcard_resource_finding
from refarch.constructs import _builders
from refarch.constructs._bundling import dependencies_layer, handler_code
from refarch.constructs.image_processor.props import WORK_PREFIX, ImageProcessorProps, Placement
from refarch.constructs.image_processor.storage import Storage
from refarch.contracts import flows
from refarch.contracts.permissions import require_permission
from refarch.iam import ManagedPolicyRole

_DLQ_REASON = (
    "Step Functions invokes this function synchronously and handles its errors with Retry and Catch "
    "(recorded in DynamoDB, published to the error topic): there is no async event to dead-letter."
)
_OUTSIDE_VPC_REASON = (
    " It runs outside a VPC because it reaches only S3, DynamoDB and CloudWatch over TLS with "
    "IAM-signed calls and no private resources; pass vpc= to run it in private subnets."
)
_CONCURRENCY_REASON = (
    "Reserved concurrency is opt-in (reserved_concurrent_executions): a reservation fails to "
    "deploy in accounts with a low concurrency quota (new accounts may have 10 or 50), and Step "
    "Functions retries throttled invocations (Lambda.TooManyRequestsException) with backoff, so "
    "a burst of uploads is delayed, not lost."
)


@dataclass(frozen=True)
class ImageFunctions:
    """The functions of the workflow's Lambda tasks (filters and manifest only when configured)."""

    layer: lambda_.LayerVersion
    security_group: ec2.SecurityGroup | None
    validate: lambda_.Function
    resize: lambda_.Function
    optimize: lambda_.Function
    filters: lambda_.Function | None
    manifest: lambda_.Function | None

    def by_state(self) -> dict[str, lambda_.Function]:
        """Each Lambda task state of the workflow, by state name, and the function it runs."""
        states = {
            "ValidateImage": self.validate,
            "ResizeImage": self.resize,
            "ApplyFilters": self.filters,
            "OptimizeImage": self.optimize,
            "LoadManifest": self.manifest,
        }
        return {state: function for state, function in states.items() if function is not None}


@dataclass(frozen=True)
class _Access:
    """What one function's handler does with the objects: read uploads, write work files and renditions,
    list the upload prefix (HeadObject answers 404 rather than 403 for a missing key only with ListBucket)."""

    read: bool
    write: bool
    list_uploads: bool = False


def build_functions(
    scope: Construct, p: ImageProcessorProps, storage: Storage, placement: Placement | None
) -> ImageFunctions:
    factory = _FunctionFactory(scope, p, storage, placement)
    memory = p["memory_size"]
    return ImageFunctions(
        layer=factory.layer,
        security_group=factory.security_group,
        validate=factory.function(
            "ValidateFunction",
            "handlers.validate",
            "Validates an uploaded image",
            memory,
            _Access(read=True, write=False),
        ),
        resize=factory.function(
            "ResizeFunction",
            "handlers.resize",
            "Resizes an image into renditions",
            memory,
            _Access(read=True, write=True),
        ),
        optimize=factory.function(
            "OptimizeFunction",
            "handlers.optimize",
            "Encodes renditions as progressive JPEG and WebP",
            memory,
            _Access(read=False, write=True),
        ),
        filters=factory.function(
            "FilterFunction",
            "handlers.apply_filters",
            "Applies the configured filters",
            memory,
            _Access(read=True, write=True),
        )
        if p["filters"]
        else None,
        manifest=factory.function(
            "ManifestFunction",
            "manifest.load",
            "Reads a batch manifest of image keys",
            512,
            _Access(read=True, write=False, list_uploads=True),
        )
        if p["manifest_suffix"] is not None
        else None,
    )


class _FunctionFactory:
    """Builds each function with the shared layer, code, environment and placement."""

    def __init__(self, scope: Construct, p: ImageProcessorProps, storage: Storage, placement: Placement | None) -> None:
        self.scope = scope
        self.p = p
        self.storage = storage
        self.placement = placement
        self.layer = dependencies_layer(
            scope,
            "Dependencies",
            requirements="image_processor",
            architecture=p["architecture"],
            description="Pillow, AWS Lambda Powertools and fastjsonschema for the image processor",
        )
        # One security group for every function: what `ImageProcessor.connections` stands for.
        self.security_group = (
            ec2.SecurityGroup(
                scope,
                "FunctionsSecurityGroup",
                vpc=placement.vpc,
                description=f"{scope.node.path} image functions",
                allow_all_outbound=True,
            )
            if placement is not None
            else None
        )
        self.code = handler_code("image_processor")
        self.environment = _environment(p, storage)

    def function(self, id: str, handler: str, description: str, memory: int, access: _Access) -> lambda_.Function:
        p = self.p
        fn = _builders.build_python_function(
            self.scope,
            id,
            description=description,
            code=self.code,
            handler=f"image_processor.{handler}",
            encryption_key=self.storage.key,
            removal_policy=p["removal_policy"],
            architecture=p["architecture"],
            layers=[self.layer],
            environment=self.environment,
            timeout=p["function_timeout"],
            memory_size=memory,
            reserved_concurrent_executions=p["reserved_concurrent_executions"],
            vpc=self.placement.vpc if self.placement else None,
            vpc_subnets=self.placement.subnets if self.placement else None,
            security_groups=[self.security_group] if self.security_group else None,
            log_retention=p["log_retention"],
        )
        _grant_objects_to_function(self.scope, fn, p, self.storage, access)
        if self.placement is not None:
            flows.require_flow(
                self.scope, source=fn, destination=flows.aws_service("s3"), port=443, reason=f"{id} reads and writes S3"
            )
        self._acknowledge(fn)
        return fn

    def _acknowledge(self, fn: lambda_.Function) -> None:
        rules = ["HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "PCI.DSS.321-LambdaDLQ"]
        if self.placement is None:
            rules += ["HIPAA.Security-LambdaInsideVPC", "NIST.800.53.R5-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC"]
        acknowledge(fn, _DLQ_REASON + ("" if self.placement else _OUTSIDE_VPC_REASON), *rules)
        if self.p["reserved_concurrent_executions"] is None:
            acknowledge(fn, _CONCURRENCY_REASON, "HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaConcurrency")


def _environment(p: ImageProcessorProps, storage: Storage) -> dict[str, str]:
    """The handlers' configuration (refarch/runtime/image_processor reads it)."""
    return {
        "POWERTOOLS_SERVICE_NAME": "image-processor",
        "RENDITIONS": json.dumps([{"name": r.name, "width": r.width, "height": r.height} for r in p["renditions"]]),
        "FILTERS": json.dumps(list(p["filters"])),
        "ALLOWED_FORMATS": ",".join(p["allowed_formats"]),
        "OUTPUT_FORMATS": ",".join(p["output_formats"]),
        "JPEG_QUALITY": str(p["jpeg_quality"]),
        "WEBP_QUALITY": str(p["webp_quality"]),
        "MAX_BYTES": str(p["max_bytes"]),
        "MAX_PIXELS": str(p["max_pixels"]),
        "OUTPUT_BUCKET": storage.output_bucket.bucket_name,
        "OUTPUT_PREFIX": p["output_prefix"],
        "WORK_PREFIX": WORK_PREFIX,
        "STATUS_TABLE": storage.table.table_name,
        "MAX_MANIFEST_ITEMS": str(p["max_manifest_items"]),
    }


def _grant_objects_to_function(
    scope: Construct, fn: lambda_.Function, p: ImageProcessorProps, storage: Storage, access: _Access
) -> None:
    """One function's permissions, added to its managed policy in one go."""
    role = fn.role
    assert isinstance(role, ManagedPolicyRole)  # build_python_function gives every function one
    uploads = storage.upload_bucket.arn_for_objects(f"{p['upload_prefix']}*")
    outputs = [storage.output_bucket.arn_for_objects(f"{prefix}*") for prefix in (WORK_PREFIX, p["output_prefix"])]
    statements: list[iam.PolicyStatement] = []
    key_actions = {"kms:Decrypt"}
    key_arns = [storage.key.key_arn]
    #: The object ARN patterns granted: each an AwsSolutions-IAM5 finding to acknowledge.
    object_arns: list[str] = []
    if access.read:
        statements.append(iam.PolicyStatement(actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[uploads]))
        object_arns.append(uploads)
        require_permission(
            scope,
            principal=role,
            actions=["s3:GetObject", "s3:GetObjectVersion"],
            resources=[uploads],
            reason="the handler reads the uploaded object version the event names",
        )
    if access.list_uploads:
        statements.append(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[storage.upload_bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{p['upload_prefix']}*"]}},
            )
        )
    if access.write:
        statements.append(
            iam.PolicyStatement(actions=["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], resources=outputs)
        )
        object_arns += outputs
        require_permission(
            scope,
            principal=role,
            actions=["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
            resources=outputs,
            reason="the handler writes, reads back and cleans up work files and renditions",
        )
        # A bucket the user brought may be encrypted with a key of its own.
        if p["output_bucket"] is not None and p["output_bucket"].encryption_key is not None:
            key_arns.append(p["output_bucket"].encryption_key.key_arn)
        # Powertools idempotency records live in the status table (key ``pk``, TTL ``expiration``).
        statements.append(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                resources=[storage.table.table_arn],
            )
        )
        key_actions |= {"kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"}
    statements.append(iam.PolicyStatement(actions=sorted(key_actions), resources=key_arns))
    role.policy.add_statements(*statements)
    if object_arns:
        acknowledge(
            role,
            "S3 object permissions name objects by ARN pattern: the grant is limited to this construct's "
            "key prefixes, which is as narrow as object-level IAM gets.",
            *(wildcard_resource_finding(role, arn) for arn in object_arns),
        )
