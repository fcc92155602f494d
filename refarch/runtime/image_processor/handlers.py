"""Lambda entry points of the image-processing state machine.

Each handler gets the state of one image, ``{"bucket", "key", "versionId", ...}``, and returns
JSON for the next state. Configuration comes from the environment the construct sets
(``RENDITIONS``, ``FILTERS``, ``ALLOWED_FORMATS``, ``MAX_BYTES``, ``MAX_PIXELS``,
``JPEG_QUALITY``, ``WEBP_QUALITY``, ``OUTPUT_FORMATS``, ``OUTPUT_BUCKET``, ``OUTPUT_PREFIX``,
``WORK_PREFIX``, ``STATUS_TABLE``). Originals are only ever read, by version.

Error contract with the state machine: throttling and 5xx errors of S3 raise
:class:`TransientError` (retried with backoff); anything else raises and is caught, recorded
and notified. An invalid upload is not an error: ``validate`` returns ``valid: false`` with a
reason.
"""

from __future__ import annotations

import io
import json
import os
import time
import urllib.parse
from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from image_processor import imaging
from PIL import Image

logger = Logger(service="image-processor")

_TRANSIENT_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "ServiceUnavailable",
    "503",
    "500",
}
_MISSING = ("NoSuchKey", "NoSuchVersion", "404")
_EXTENSIONS = {"JPEG": "jpg", "WEBP": "webp", "PNG": "png"}


class TransientError(Exception):
    """A failure worth retrying (throttling, a 5xx of S3). The state machine retries it."""


class Config:
    """The handler configuration, read from the environment once per container."""

    def __init__(self, env: dict[str, str]) -> None:
        self.renditions = [imaging.Rendition.parse(r) for r in json.loads(env.get("RENDITIONS", "[]"))]
        self.filters: list[str] = json.loads(env.get("FILTERS", "[]"))
        self.allowed_formats = [f for f in env.get("ALLOWED_FORMATS", "JPEG,PNG,WEBP,GIF").split(",") if f]
        self.max_bytes = int(env.get("MAX_BYTES", str(50 * 1024 * 1024)))
        self.max_pixels = int(env.get("MAX_PIXELS", str(50_000_000)))
        self.jpeg_quality = int(env.get("JPEG_QUALITY", "82"))
        self.webp_quality = int(env.get("WEBP_QUALITY", "80"))
        self.output_formats = [f for f in env.get("OUTPUT_FORMATS", "JPEG,WEBP").split(",") if f]
        self.output_bucket = env.get("OUTPUT_BUCKET", "")
        self.output_prefix = env.get("OUTPUT_PREFIX", "renditions/")
        self.work_prefix = env.get("WORK_PREFIX", "work/")
        self.status_table = env.get("STATUS_TABLE", "")
        self.idempotency_seconds = int(env.get("IDEMPOTENCY_SECONDS", str(24 * 3600)))
        self.max_manifest_items = int(env.get("MAX_MANIFEST_ITEMS", "1000"))
        self.max_manifest_bytes = int(env.get("MAX_MANIFEST_BYTES", str(1024 * 1024)))


@cache
def config() -> Config:
    cfg = Config(dict(os.environ))
    # Pillow's own bomb guard follows the construct's limit (it raises at twice this value).
    Image.MAX_IMAGE_PIXELS = cfg.max_pixels
    return cfg


@cache
def s3() -> Any:
    return boto3.client("s3")


@cache
def _persistence(step: str) -> DynamoDBPersistenceLayer:
    """One persistence layer per step: Powertools fixes a layer's key prefix (the function name)
    the first time it is used, so steps sharing a process must not share a layer."""
    return DynamoDBPersistenceLayer(table_name=config().status_table, key_attr="pk")


def reset() -> None:
    """Forget cached configuration and clients (tests change the environment between runs)."""
    for cached in (config, s3, _persistence):
        getattr(cached, "cache_clear", lambda: None)()


def _idempotent(step: Callable[[dict[str, Any]], dict[str, Any]], event: dict[str, Any], context: Any) -> Any:
    """Run ``step`` at most once per object version (Powertools idempotency, in the status
    table): a retried or re-run execution gets the stored result instead of redoing the work."""
    idempotency = IdempotencyConfig(
        event_key_jmespath="[bucket, key, versionId]",
        expires_after_seconds=config().idempotency_seconds,
        raise_on_no_idempotency_key=True,
    )
    if context is not None:
        idempotency.register_lambda_context(context)
    wrapped = idempotent_function(
        data_keyword_argument="request", persistence_store=_persistence(step.__name__), config=idempotency
    )(step)
    return wrapped(request=event)


def _read_original(event: dict[str, Any], *, limit: int | None = None) -> tuple[bytes, int]:
    """The original's bytes, by version; ``(b"", size)`` without reading when over ``limit``."""
    key = event["key"]
    try:
        try:
            response = s3().get_object(Bucket=event["bucket"], Key=key, VersionId=event["versionId"])
        except ClientError as exc:
            # S3 notifications URL-encode keys ("red flower.jpg" -> "red+flower.jpg"); an event
            # source that does so hands us a key that does not exist as such: try it decoded.
            decoded = urllib.parse.unquote_plus(key)
            if decoded == key or exc.response.get("Error", {}).get("Code") not in _MISSING:
                raise
            response = s3().get_object(Bucket=event["bucket"], Key=decoded, VersionId=event["versionId"])
    except ClientError as exc:
        raise _classify(exc) from exc
    size = int(response["ContentLength"])
    if limit is not None and size > limit:
        response["Body"].close()
        return b"", size
    return response["Body"].read(), size


def _put(key: str, body: bytes, content_type: str) -> None:
    try:
        s3().put_object(Bucket=config().output_bucket, Key=key, Body=body, ContentType=content_type)
    except ClientError as exc:
        raise _classify(exc) from exc


def _classify(exc: ClientError) -> Exception:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _TRANSIENT_CODES or status >= 500:
        return TransientError(f"S3 {code or status}: {exc}")
    error: Exception = exc
    return error


def _work_key(event: dict[str, Any], name: str) -> str:
    return f"{config().work_prefix}{event['key']}/{event['versionId']}/{name}.png"


@logger.inject_lambda_context(clear_state=True)
def validate(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """Sniff the format, check bytes and pixels, prove the image decodes. Never raises for a bad image."""
    cfg = config()
    logger.append_keys(bucket=event["bucket"], key=event["key"], version=event["versionId"])
    started = time.perf_counter()
    try:
        data, size = _read_original(event, limit=cfg.max_bytes)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _MISSING:
            return {"valid": False, "reason": "NOT_FOUND", "detail": "The object version no longer exists."}
        raise
    if size > cfg.max_bytes:
        result = imaging.Inspection(False, imaging.TOO_MANY_BYTES, f"{size} bytes; the limit is {cfg.max_bytes}.")
        result.bytes = size
    else:
        result = imaging.inspect(
            data, allowed_formats=cfg.allowed_formats, max_bytes=cfg.max_bytes, max_pixels=cfg.max_pixels
        )
    out: dict[str, Any] = result.to_dict()
    out["ms"] = round((time.perf_counter() - started) * 1000)
    logger.info("validated", extra={"valid": result.valid, "reason": result.reason, "format": result.format})
    return out


def _resize(request: dict[str, Any]) -> dict[str, Any]:
    event = request
    cfg = config()
    started = time.perf_counter()
    data, _ = _read_original(event)
    outputs = []
    for rendition, image in imaging.make_renditions(data, cfg.renditions):
        key = _work_key(event, rendition.name)
        _put(key, imaging.encode(image, "PNG", quality=100), "image/png")
        outputs.append({"name": rendition.name, "key": key, "width": image.width, "height": image.height})
    return {"renditions": outputs, "ms": round((time.perf_counter() - started) * 1000)}


@logger.inject_lambda_context(clear_state=True)
def resize(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """Every configured rendition, aspect ratio kept, decoded once at the size the largest needs."""
    logger.append_keys(bucket=event["bucket"], key=event["key"], version=event["versionId"])
    result: dict[str, Any] = _idempotent(_resize, event, context)
    logger.info("resized", extra={"renditions": [r["name"] for r in result["renditions"]]})
    return result


def _filter(request: dict[str, Any]) -> dict[str, Any]:
    event = request
    cfg = config()
    started = time.perf_counter()
    data, _ = _read_original(event)
    largest = max(cfg.renditions, key=lambda r: r.width * r.height)
    image = imaging.resize_to(
        imaging.open_for_box(data, (largest.width, largest.height)), (largest.width, largest.height)
    )
    image = imaging.apply_filters(image, cfg.filters)
    key = _work_key(event, "filtered")
    _put(key, imaging.encode(image, "PNG", quality=100), "image/png")
    return {
        "renditions": [{"name": "filtered", "key": key, "width": image.width, "height": image.height}],
        "ms": round((time.perf_counter() - started) * 1000),
    }


@logger.inject_lambda_context(clear_state=True)
def apply_filters(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """The configured filters, chained, on a copy the size of the largest rendition."""
    logger.append_keys(bucket=event["bucket"], key=event["key"], version=event["versionId"])
    result: dict[str, Any] = _idempotent(_filter, event, context)
    logger.info("filtered", extra={"filters": config().filters})
    return result


def _optimize(request: dict[str, Any]) -> dict[str, Any]:
    event = request
    cfg = config()
    started = time.perf_counter()
    pending = [r for branch in event.get("processed", []) for r in branch.get("renditions", [])]
    outputs = []
    for item in pending:
        try:
            body = s3().get_object(Bucket=cfg.output_bucket, Key=item["key"])["Body"].read()
        except ClientError as exc:
            raise _classify(exc) from exc
        image = imaging.to_display_mode(Image.open(io.BytesIO(body)))
        for fmt in cfg.output_formats:
            encoded = imaging.encode(image, fmt, quality=cfg.jpeg_quality if fmt == "JPEG" else cfg.webp_quality)
            key = f"{cfg.output_prefix}{event['key']}/{item['name']}.{_EXTENSIONS[fmt]}"
            _put(key, encoded, f"image/{'jpeg' if fmt == 'JPEG' else fmt.lower()}")
            outputs.append(
                {
                    "name": item["name"],
                    "format": fmt,
                    "key": key,
                    "width": image.width,
                    "height": image.height,
                    "bytes": len(encoded),
                }
            )
    # The intermediates are ours (never the original): remove them now; a lifecycle rule
    # expires any that a failed execution leaves behind.
    if pending:
        s3().delete_objects(
            Bucket=cfg.output_bucket, Delete={"Objects": [{"Key": i["key"]} for i in pending], "Quiet": True}
        )
    return {
        "outputs": outputs,
        "bytes": sum(o["bytes"] for o in outputs),
        # The Parallel's branches run side by side: the slowest one is the processing time.
        "processMs": max((int(b.get("ms", 0)) for b in event.get("processed", [])), default=0),
        "ms": round((time.perf_counter() - started) * 1000),
    }


@logger.inject_lambda_context(clear_state=True)
def optimize(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """Progressive JPEG and WebP of every rendition, metadata stripped (no EXIF, no GPS)."""
    logger.append_keys(bucket=event["bucket"], key=event["key"], version=event["versionId"])
    result: dict[str, Any] = _idempotent(_optimize, event, context)
    logger.info("optimized", extra={"outputs": len(result["outputs"]), "bytes": result["bytes"]})
    return result
