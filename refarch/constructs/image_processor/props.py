"""ImageProcessor's prop types, defaults and checks: every check fails early with
:class:`PropValidationError` naming the prop, showing the value and saying what is allowed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_stepfunctions as sfn

from refarch.constructs._validation import (
    PropValidationError,
    check_duration_range,
    check_not_empty,
    check_one_of,
    check_unique,
    check_whole_range,
)

_OWNER = "ImageProcessor"

#: Filters the handlers know (refarch/runtime/image_processor/imaging.py FILTERS).
FILTERS = ("grayscale", "autocontrast", "equalize", "sharpen", "blur", "smooth", "detail", "edge_enhance", "contour")
#: Input formats the handlers can decode, as Pillow names them after sniffing the bytes (an MPO is a
#: JPEG; HEIF covers HEIC, through pillow-heif).
INPUT_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "HEIF", "AVIF")
#: Output encodings of OptimizeImage.
OUTPUT_FORMATS = ("JPEG", "WEBP")

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_KEY_PART = re.compile(r"^[A-Za-z0-9!_.'()/-]*$")  # S3 safe characters; no EventBridge wildcard '*'
_LAMBDA_MAX_MEMORY_MB = 10240


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


def check_props(
    *,
    renditions: Sequence[ImageRendition],
    filters: Sequence[str],
    allowed_formats: Sequence[str],
    output_formats: Sequence[str],
    jpeg_quality: int,
    webp_quality: int,
    memory_size: int,
    max_bytes: int,
    max_pixels: int,
    upload_prefix: str,
    output_prefix: str,
    upload_suffixes: Sequence[str],
    manifest_suffix: str | None,
    max_manifest_items: int,
    max_concurrency: int,
    reserved_concurrent_executions: int | None,
    retry_attempts: int,
    retry_interval: Duration | None,
    function_timeout: Duration | None,
    state_machine_type: sfn.StateMachineType,
    review: bool,
    review_timeout: Duration | None,
    timeout: Duration | None,
    vpc: ec2.IVpc | None,
    vpc_subnets: ec2.SubnetSelection | None,
) -> None:
    """Every ImageProcessor prop check, in the order of the props."""
    _check_renditions(renditions)
    check_unique(_OWNER, "filters", list(filters))
    for name in filters:
        check_one_of(_OWNER, "filters", name, FILTERS)
    check_not_empty(_OWNER, "allowed_formats", list(allowed_formats))
    for fmt in allowed_formats:
        check_one_of(_OWNER, "allowed_formats", fmt, INPUT_FORMATS)
    check_unique(_OWNER, "allowed_formats", list(allowed_formats))
    check_not_empty(_OWNER, "output_formats", list(output_formats))
    for fmt in output_formats:
        check_one_of(_OWNER, "output_formats", fmt, OUTPUT_FORMATS)
    check_unique(_OWNER, "output_formats", list(output_formats))
    check_whole_range(_OWNER, "jpeg_quality", jpeg_quality, minimum=1, maximum=100)
    check_whole_range(_OWNER, "webp_quality", webp_quality, minimum=1, maximum=100)
    check_whole_range(_OWNER, "memory_size", memory_size, minimum=512, maximum=_LAMBDA_MAX_MEMORY_MB)
    # The handlers hold the upload in memory along with its decoded pixels.
    check_whole_range(_OWNER, "max_bytes", max_bytes, minimum=1, maximum=memory_size * 1024 * 1024 // 4)
    largest = max(r.width * r.height for r in renditions)
    check_whole_range(_OWNER, "max_pixels", max_pixels, minimum=largest, maximum=500_000_000)
    _check_key_part("upload_prefix", upload_prefix)
    _check_key_part("output_prefix", output_prefix)
    check_not_empty(_OWNER, "upload_suffixes", list(upload_suffixes))
    for suffix in upload_suffixes:
        _check_suffix("upload_suffixes", suffix)
    check_unique(_OWNER, "upload_suffixes", [s.lower() for s in upload_suffixes])
    if manifest_suffix is not None:
        _check_suffix("manifest_suffix", manifest_suffix)
        if manifest_suffix.lower() in {s.lower() for s in upload_suffixes}:
            raise PropValidationError(
                _OWNER, "manifest_suffix", manifest_suffix, "It must differ from every upload suffix."
            )
    # The pinned item list travels in the execution state, which Step Functions caps at 256 KB:
    # 1000 items of bucket, key (up to ~100 characters) and version ID stay well inside it.
    check_whole_range(_OWNER, "max_manifest_items", max_manifest_items, minimum=1, maximum=1000)
    check_whole_range(_OWNER, "max_concurrency", max_concurrency, minimum=1, maximum=40)
    if reserved_concurrent_executions is not None:
        check_whole_range(
            _OWNER, "reserved_concurrent_executions", reserved_concurrent_executions, minimum=1, maximum=1000
        )
    check_whole_range(_OWNER, "retry_attempts", retry_attempts, minimum=0, maximum=10)
    check_duration_range(
        _OWNER, "retry_interval", retry_interval, minimum=Duration.seconds(1), maximum=Duration.minutes(5)
    )
    check_duration_range(
        _OWNER, "function_timeout", function_timeout, minimum=Duration.seconds(10), maximum=Duration.minutes(15)
    )
    express = state_machine_type == sfn.StateMachineType.EXPRESS
    if review_timeout is not None and not review:
        raise PropValidationError(_OWNER, "review_timeout", review_timeout.to_human_string(), "It needs review=True.")
    if review and express:
        raise PropValidationError(
            _OWNER, "review", review, "Express state machines cannot wait for a task token: use STANDARD."
        )
    check_duration_range(
        _OWNER, "review_timeout", review_timeout, minimum=Duration.minutes(1), maximum=Duration.days(364)
    )
    max_timeout = Duration.minutes(5) if express else Duration.days(365)
    check_duration_range(_OWNER, "timeout", timeout, minimum=Duration.minutes(1), maximum=max_timeout)
    if vpc_subnets is not None and vpc is None:
        raise PropValidationError(_OWNER, "vpc_subnets", vpc_subnets, "It needs vpc.")


def _check_renditions(renditions: Sequence[ImageRendition]) -> None:
    if not renditions:
        raise PropValidationError(_OWNER, "renditions", list(renditions), "Allowed: at least one rendition.")
    for r in renditions:
        if not _NAME.match(r.name) or r.name == "filtered":
            raise PropValidationError(
                _OWNER,
                "renditions",
                r.name,
                "Names are 1-32 of a-z, 0-9, '-' and '_', starting with a letter or digit; 'filtered' is reserved.",
            )
        for side in ("width", "height"):
            check_whole_range(_OWNER, f"renditions[{r.name}].{side}", getattr(r, side), minimum=1, maximum=10_000)
    check_unique(_OWNER, "renditions", [r.name for r in renditions])


def _check_key_part(prop: str, value: str) -> None:
    if not isinstance(value, str) or not _KEY_PART.match(value) or value.startswith("/"):
        raise PropValidationError(
            _OWNER, prop, value, "Allowed: S3-safe characters (letters, digits, ! _ . ' ( ) / -), no leading '/'."
        )


def _check_suffix(prop: str, value: str) -> None:
    if not isinstance(value, str) or not value.startswith(".") or len(value) < 2 or not _KEY_PART.match(value):
        raise PropValidationError(_OWNER, prop, value, "Allowed: a file suffix such as '.jpg' (S3-safe characters).")
