"""The batch manifest: a JSON list of object keys in the upload bucket, read and pinned to versions."""

from __future__ import annotations

import json
from typing import Any

import fastjsonschema
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from image_processor.handlers import config, s3

logger = Logger(service="image-processor")

_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "uniqueItems": True,
    "items": {"type": "string", "minLength": 1, "maxLength": 1024},
}
_validate_keys = fastjsonschema.compile(_SCHEMA)


class InvalidManifest(Exception):
    """The manifest is not a JSON list of 1..MAX_MANIFEST_ITEMS distinct keys. Not retried."""


def parse(body: bytes, *, max_items: int) -> list[str]:
    try:
        keys = json.loads(body)
        _validate_keys(keys)
    except (ValueError, fastjsonschema.JsonSchemaException) as exc:
        raise InvalidManifest(f"not a JSON list of distinct object keys: {exc}") from exc
    if len(keys) > max_items:
        raise InvalidManifest(f"{len(keys)} keys; the limit is {max_items}")
    return list(keys)


@logger.inject_lambda_context(clear_state=True)
def load(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """``{"items": [{"bucket", "key", "versionId"}], "missing": [...]}``: each listed key pinned to
    its current version, so the batch processes exactly what existed when it started."""
    cfg = config()
    bucket = event["bucket"]
    response = s3().get_object(Bucket=bucket, Key=event["key"], VersionId=event["versionId"])
    if int(response["ContentLength"]) > cfg.max_manifest_bytes:
        raise InvalidManifest(f"{response['ContentLength']} bytes; the limit is {cfg.max_manifest_bytes}")
    keys = parse(response["Body"].read(), max_items=cfg.max_manifest_items)
    items, missing = [], []
    for key in keys:
        try:
            head = s3().head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                missing.append(key)
                continue
            raise
        items.append({"bucket": bucket, "key": key, "versionId": head.get("VersionId") or "null"})
    logger.info("manifest loaded", extra={"items": len(items), "missing": len(missing)})
    return {"items": items, "missing": missing}
