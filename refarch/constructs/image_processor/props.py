"""ImageProcessor's props, each written once (type, default, documentation, checks), and the checks
that need several props or the network. Every check fails with :class:`PropValidationError` naming
the prop, showing the value and saying what is allowed, before anything is built."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from typing_extensions import TypedDict

from refarch.constructs import _defaults
from refarch.constructs._dashboards import DashboardProp
from refarch.constructs._network_checks import ivpc_of, selection_kwargs, tier_subnets
from refarch.constructs._props import Check, Prop, described, duration_range, each, whole_range
from refarch.constructs._validation import check_one_of
from refarch.constructs.three_tier_vpc import ThreeTierVpc
from refarch.errors import PropValidationError

OWNER = "ImageProcessor"

#: Filters the handlers know (refarch/runtime/image_processor/imaging.py FILTERS).
FILTERS = ("grayscale", "autocontrast", "equalize", "sharpen", "blur", "smooth", "detail", "edge_enhance", "contour")
#: Input formats the handlers can decode, as Pillow names them after sniffing the bytes (an MPO is a
#: JPEG; HEIF covers HEIC, through pillow-heif).
INPUT_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "HEIF", "AVIF")
#: Output encodings of OptimizeImage.
OUTPUT_FORMATS = ("JPEG", "WEBP")
#: Where the functions keep intermediates in the output bucket; a successful execution deletes them,
#: a lifecycle rule expires what a failed one leaves.
WORK_PREFIX = "work/"

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_KEY_PART = re.compile(r"^[A-Za-z0-9!_.'()/-]*$")  # S3 safe characters; no EventBridge wildcard '*'
_LAMBDA_MAX_MEMORY_MB = 10240
#: Step Functions' longest Express execution.
_EXPRESS_MAX_TIMEOUT = Duration.minutes(5)


@dataclass(frozen=True)
class ImageRendition:
    """An output that fits inside ``width`` x ``height`` pixels, aspect ratio kept, never upscaled.

    :param name: Lower-case name, used in output keys (``<prefix><key>/<name>.jpg``).
    :param width: Maximum width in pixels.
    :param height: Maximum height in pixels.
    """

    name: str
    width: int
    height: int


#: Default renditions: a square-ish thumbnail, a medium web size and a large one.
DEFAULT_RENDITIONS = (
    ImageRendition("thumbnail", 200, 200),
    ImageRendition("medium", 800, 600),
    ImageRendition("large", 1600, 1200),
)


# -- value checks of one prop ----------------------------------------------------------------------


def _one_of(allowed: Sequence[str]) -> Check:
    def check(owner: str, prop: str, value: Any) -> None:
        check_one_of(owner, prop, value, allowed)

    return described(check, "one of " + ", ".join(allowed))


def _unique_ignoring_case(owner: str, prop: str, value: Sequence[str]) -> None:
    """No item twice, whatever its case (the trigger matches each suffix in lower and upper case)."""
    seen: list[str] = []
    for item in value:
        if item.lower() in seen:
            raise PropValidationError(
                owner, prop, list(value), f"Each item may appear once (case ignored); {item!r} repeats."
            )
        seen.append(item.lower())


def _check_renditions(owner: str, prop: str, value: Sequence[ImageRendition]) -> None:
    names: list[str] = []
    for index, rendition in enumerate(value):
        if not isinstance(rendition.name, str) or not _NAME.match(rendition.name) or rendition.name == "filtered":
            raise PropValidationError(
                owner,
                f"{prop}[{index}].name",
                rendition.name,
                "Allowed: 1-32 of a-z, 0-9, '-' and '_', starting with a letter or digit; 'filtered' is reserved.",
            )
        if rendition.name in names:
            raise PropValidationError(
                owner,
                prop,
                [r.name for r in value],
                f"Each rendition name may appear once; {rendition.name!r} repeats.",
            )
        names.append(rendition.name)
        for side in ("width", "height"):
            size = getattr(rendition, side)
            if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 10_000:
                raise PropValidationError(
                    owner, f"{prop}[{index}].{side}", size, "Allowed: a whole number of pixels from 1 to 10000."
                )


def _check_key_prefix(owner: str, prop: str, value: str) -> None:
    if not _KEY_PART.match(value) or value.startswith("/"):
        raise PropValidationError(
            owner, prop, value, "Allowed: S3-safe characters (letters, digits, ! _ . ' ( ) / -), no leading '/'."
        )


def _check_suffix(owner: str, prop: str, value: str) -> None:
    if not value.startswith(".") or len(value) < 2 or not _KEY_PART.match(value):
        raise PropValidationError(owner, prop, value, "Allowed: a file suffix such as '.jpg' (S3-safe characters).")


class ImageProcessorProps(TypedDict, total=False):
    """The props of :class:`~refarch.constructs.ImageProcessor`."""

    renditions: Annotated[
        Sequence[ImageRendition],
        Prop(
            "Sizes to produce, each fitted inside its box with the aspect ratio kept.",
            default=DEFAULT_RENDITIONS,
            default_doc="thumbnail 200x200, medium 800x600, large 1600x1200",
            checks=(_check_renditions,),
        ),
    ]
    filters: Annotated[
        Sequence[str],
        Prop(
            "Filters chained on a copy the size of the largest rendition, written as the `filtered` rendition.",
            default=(),
            default_doc="none (no ApplyFilters branch)",
            checks=(each(_one_of(FILTERS)), _unique_ignoring_case),
            allow_empty=True,
        ),
    ]
    allowed_formats: Annotated[
        Sequence[str],
        Prop(
            "Input formats accepted, sniffed from the bytes (never the file name); an MPO counts as JPEG, "
            "`HEIF` covers HEIC.",
            default=("JPEG", "PNG", "WEBP", "GIF"),
            checks=(each(_one_of(INPUT_FORMATS)), _unique_ignoring_case),
        ),
    ]
    output_formats: Annotated[
        Sequence[str],
        Prop(
            "Encodings written for each rendition.",
            default=OUTPUT_FORMATS,
            checks=(each(_one_of(OUTPUT_FORMATS)), _unique_ignoring_case),
        ),
    ]
    jpeg_quality: Annotated[
        int, Prop("JPEG quality (progressive, optimized).", default=82, checks=(whole_range(1, 100),))
    ]
    webp_quality: Annotated[int, Prop("WebP quality.", default=80, checks=(whole_range(1, 100),))]
    max_bytes: Annotated[
        int,
        Prop(
            "Largest upload accepted, in bytes; at most a quarter of `memory_size` (the upload is held in memory "
            "with its decoded pixels).",
            default=50 * 1024 * 1024,
            default_doc="50 MiB",
            checks=(whole_range(1, _LAMBDA_MAX_MEMORY_MB * 1024 * 1024 // 4),),
        ),
    ]
    max_pixels: Annotated[
        int,
        Prop(
            "Largest pixel count accepted (width x height x frames), checked on the header before decoding: the "
            "decompression-bomb guard. At least the largest rendition.",
            default=50_000_000,
            checks=(whole_range(1, 500_000_000),),
        ),
    ]
    upload_prefix: Annotated[
        str, Prop("Key prefix of uploads that start the workflow.", default="uploads/", checks=(_check_key_prefix,))
    ]
    original_retention: Annotated[
        Duration | None,
        Prop(
            "Age at which originals under `upload_prefix` are deleted (old versions 30 days later). "
            "Photos of people are personal data: GDPR's storage limitation (art. 5(1)(e)) asks for a limit, and "
            "the GDPR pack warns without one.",
            default=None,
            default_doc="- originals are kept",
            checks=(duration_range(Duration.days(1), Duration.days(36_500), unit="days"),),
        ),
    ]
    upload_suffixes: Annotated[
        Sequence[str],
        Prop(
            "Key suffixes that start the workflow (lower and upper case both match).",
            default=(".jpg", ".jpeg", ".png", ".webp", ".gif"),
            checks=(each(_check_suffix), _unique_ignoring_case),
        ),
    ]
    manifest_suffix: Annotated[
        str | None,
        Prop(
            "Key suffix of batch manifests (a JSON list of keys in the upload bucket) under `upload_prefix`; "
            "`None` turns batches off.",
            default=".manifest.json",
            checks=(_check_suffix,),
        ),
    ]
    max_manifest_items: Annotated[
        int,
        Prop(
            "Most keys a manifest may list (the item list travels in the execution state, capped at "
            "256 KB); split bigger batches.",
            default=1000,
            checks=(whole_range(1, 1000),),
            needs="manifest_suffix",
        ),
    ]
    max_concurrency: Annotated[
        int, Prop("Images of a batch processed at once (the Map state).", default=4, checks=(whole_range(1, 40),))
    ]
    output_bucket: Annotated[
        s3.IBucket | None, Prop("Bucket for renditions.", default=None, default_doc="- a new encrypted bucket")
    ]
    output_prefix: Annotated[
        str,
        Prop(
            f"Key prefix of renditions in the output bucket (outside `{WORK_PREFIX}`, where work files expire).",
            default="renditions/",
            checks=(_check_key_prefix,),
        ),
    ]
    state_machine_type: Annotated[
        sfn.StateMachineType,
        Prop("Standard or Express. Express cannot wait for a review.", default=sfn.StateMachineType.STANDARD),
    ]
    timeout: Annotated[
        Duration | None,
        Prop(
            "Longest execution, in whole seconds (at most 5 minutes for Express; longer than `review_timeout` "
            "with review).",
            default=None,
            default_doc="- 1 hour, plus `review_timeout` with review; 5 minutes for Express",
            checks=(duration_range(Duration.minutes(1), Duration.days(365), unit="seconds"),),
        ),
    ]
    review: Annotated[
        bool,
        Prop(
            "Wait for a human decision (a task token published to `review_topic`) before recording success.",
            default=False,
        ),
    ]
    review_timeout: Annotated[
        Duration,
        Prop(
            "How long a review may take, in whole seconds.",
            default=Duration.days(1),
            checks=(duration_range(Duration.minutes(1), Duration.days(364), unit="seconds"),),
            needs="review",
        ),
    ]
    log_execution_data: Annotated[
        bool,
        Prop(
            "Include states' input and output (object keys, sizes) in the execution log; keys may be personal data.",
            default=False,
        ),
    ]
    encryption_key: Annotated[
        kms.IKey | None,
        Prop(
            "Key for the buckets, table, topics, logs and function environments; it must admit CloudWatch Logs "
            "and CloudWatch alarms.",
            default=None,
            default_doc="- a new key with rotation",
        ),
    ]
    architecture: Annotated[
        lambda_.Architecture,
        Prop(
            "Lambda architecture; the layer is built for it.",
            default=lambda_.Architecture.ARM_64,
            default_doc="`Architecture.ARM_64`",
        ),
    ]
    memory_size: Annotated[
        int,
        Prop(
            "Memory of the image functions, MB (1769 MB is one full vCPU).",
            default=1769,
            checks=(whole_range(512, _LAMBDA_MAX_MEMORY_MB),),
        ),
    ]
    function_timeout: Annotated[
        Duration,
        Prop(
            "Timeout of each image function, in whole seconds.",
            default=Duration.minutes(1),
            checks=(duration_range(Duration.seconds(10), Duration.minutes(15), unit="seconds"),),
        ),
    ]
    reserved_concurrent_executions: Annotated[
        int | None,
        Prop(
            "Reserved concurrency of each function, so a flood of uploads cannot starve the account's other "
            "functions. Check the account's quota first: Lambda keeps 100 unreserved, and new accounts may have "
            "a total of 10 or 50.",
            default=None,
            default_doc="- none (the functions share the account's unreserved pool)",
            checks=(whole_range(1, 1000),),
        ),
    ]
    retry_interval: Annotated[
        Duration,
        Prop(
            "First retry delay of every task (then doubled, with full jitter), in whole seconds.",
            default=Duration.seconds(2),
            checks=(duration_range(Duration.seconds(1), Duration.minutes(5), unit="seconds"),),
        ),
    ]
    retry_attempts: Annotated[
        int, Prop("Retries of every task on transient errors.", default=4, checks=(whole_range(0, 10),))
    ]
    vpc: Annotated[
        ec2.IVpc | ThreeTierVpc | None,
        Prop(
            "Run the functions in this network (a ThreeTierVpc or any IVpc); they need S3 and DynamoDB endpoints "
            "or NAT.",
            default=None,
            default_doc="- no VPC",
        ),
    ]
    vpc_subnets: Annotated[
        ec2.SubnetSelection | None,
        Prop(
            "Subnets of the functions, with `vpc`; not public ones (a function gets no public IP).",
            default=None,
            default_doc="- the App tier of a ThreeTierVpc, else the private subnets with egress",
            needs="vpc",
        ),
    ]
    log_retention: Annotated[logs.RetentionDays, Prop("Retention of every log group.", default=_defaults.LOG_RETENTION)]
    removal_policy: Annotated[
        RemovalPolicy,
        Prop(
            "What happens to the buckets, table, key and logs when removed from the stack.",
            default=_defaults.DATA_REMOVAL_POLICY,
        ),
    ]
    alarm_topic: Annotated[
        sns.ITopic | None,
        Prop(
            "SNS topic the alarms and the health alarm notify.",
            default=None,
            default_doc="- `error_topic`, a new topic encrypted with the construct's key",
        ),
    ]
    dashboard: DashboardProp


# -- checks across props and the network ----------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where the functions run: the IVpc and the subnets picked in it."""

    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection


def check_props(p: ImageProcessorProps) -> Placement | None:
    """The checks that need several props or the network, in the order of the props; the functions'
    placement (``None`` outside a VPC)."""
    _check_limits(p)
    _check_keys(p)
    _check_workflow(p)
    return _placement(p)


def _check_limits(p: ImageProcessorProps) -> None:
    # The handlers hold the upload in memory along with its decoded pixels.
    most_bytes = p["memory_size"] * 1024 * 1024 // 4
    if p["max_bytes"] > most_bytes:
        raise PropValidationError(
            OWNER,
            "max_bytes",
            p["max_bytes"],
            f"Allowed: at most a quarter of memory_size={p['memory_size']} MB ({most_bytes} bytes); "
            "raise memory_size for bigger uploads.",
        )
    largest = max(r.width * r.height for r in p["renditions"])
    if p["max_pixels"] < largest:
        raise PropValidationError(
            OWNER,
            "max_pixels",
            p["max_pixels"],
            f"Allowed: at least the largest rendition's {largest} pixels (no rendition could ever be made).",
        )


def _check_keys(p: ImageProcessorProps) -> None:
    output_prefix = p["output_prefix"]
    if output_prefix.startswith(WORK_PREFIX) or WORK_PREFIX.startswith(output_prefix):
        raise PropValidationError(
            OWNER,
            "output_prefix",
            output_prefix,
            f"It overlaps {WORK_PREFIX!r}, where work files live and expire after a day: choose another prefix.",
        )
    manifest_suffix = p["manifest_suffix"]
    if manifest_suffix is not None and manifest_suffix.lower() in {s.lower() for s in p["upload_suffixes"]}:
        raise PropValidationError(OWNER, "manifest_suffix", manifest_suffix, "It must differ from every upload suffix.")


def _check_workflow(p: ImageProcessorProps) -> None:
    express = p["state_machine_type"] == sfn.StateMachineType.EXPRESS
    if p["review"] and express:
        raise PropValidationError(
            OWNER, "review", True, "Express state machines cannot wait for a task token: use STANDARD."
        )
    timeout = p["timeout"]
    if timeout is None:
        return
    if express and timeout.to_seconds() > _EXPRESS_MAX_TIMEOUT.to_seconds():
        raise PropValidationError(
            OWNER, "timeout", timeout.to_human_string(), "Allowed: at most 5 minutes for an Express state machine."
        )
    if p["review"] and timeout.to_seconds() <= p["review_timeout"].to_seconds():
        raise PropValidationError(
            OWNER,
            "timeout",
            timeout.to_human_string(),
            f"It must be longer than review_timeout ({p['review_timeout'].to_human_string()}): the execution "
            "would time out before the review does.",
        )


def _placement(p: ImageProcessorProps) -> Placement | None:
    """The functions' subnets: the App tier of a ThreeTierVpc, else the private subnets with egress,
    unless ``vpc_subnets`` says otherwise; they must exist and not be public."""
    given = p["vpc"]
    if given is None:
        return None
    picked = tier_subnets(OWNER, given, "app", prop="vpc_subnets", given=p["vpc_subnets"])
    public = {subnet.subnet_id for subnet in ivpc_of(given).public_subnets}
    if any(subnet.subnet_id in public for subnet in picked.subnets):
        raise PropValidationError(
            OWNER,
            picked.prop,
            selection_kwargs(picked.selection),
            "It selects public subnets: a Lambda function there gets no public IP and reaches nothing. "
            "Select private subnets (with NAT or endpoints).",
        )
    return Placement(ivpc_of(given), picked.selection)
