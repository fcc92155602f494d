"""The image processor's handlers on real images: every input class the issue lists, each with
its expected classification, renditions and metadata checked, originals untouched (moto S3).

Images are generated here (no binary fixtures in the repository); the decompression bomb is a
real PNG whose header claims 40000 x 40000 pixels in a file of a few hundred bytes.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from PIL import Image, ImageSequence

from tests.harness import ROOT

sys.path.insert(0, str(ROOT / "refarch" / "runtime"))
from image_processor import handlers, imaging, manifest  # noqa: E402

ALLOWED = ("JPEG", "PNG", "WEBP", "GIF")
LIMITS = {"allowed_formats": ALLOWED, "max_bytes": 10 * 1024 * 1024, "max_pixels": 30_000_000}
RENDITIONS = [imaging.Rendition("thumb", 100, 100), imaging.Rendition("medium", 800, 600)]


# -- real images --------------------------------------------------------------------------------


def _scene(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste((220, 40, 40), (size[0] // 5, size[1] // 5, size[0] // 2, size[1] // 2))
    return image.convert(mode)


def _save(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}  # GPS: a home address
    return exif


def jpeg(size: tuple[int, int] = (1600, 1200), orientation: int = 1) -> bytes:
    return _save(_scene(size), "JPEG", quality=90, exif=_exif(orientation))


def decompression_bomb() -> bytes:
    """A valid PNG header and a tiny IDAT claiming 40000 x 40000 (1.6 gigapixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 40_001 * 4)  # a few rows; the rest would inflate from nothing
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (300, 200), (i * 100, 50, 200 - i * 60)) for i in range(3)]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def png16() -> bytes:
    """16-bit grayscale, mid-gray (32768 of 65535)."""
    return _save(Image.new("I;16", (640, 480), 32768), "PNG")


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _flip(data: bytes) -> bytes:
    """One byte of the compressed pixels changed: the chunk CRC no longer matches."""
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0xFF
    return bytes(damaged)


CASES: dict[str, tuple[bytes, bool, str | None]] = {
    # name: (bytes, valid, reason)
    "jpeg": (jpeg(), True, None),
    "png": (_save(_scene((1000, 750), "RGBA"), "PNG"), True, None),
    "webp": (_save(_scene((1000, 750)), "WEBP", quality=80), True, None),
    "gif": (_save(_scene((400, 300)).convert("P"), "GIF"), True, None),
    "zero bytes": (b"", False, imaging.EMPTY),
    "truncated jpeg": (jpeg()[:4000], False, imaging.TRUNCATED),
    "text named .jpg": (b"Dear diary, today I uploaded a text file as photo.jpg\n", False, imaging.NOT_AN_IMAGE),
    "decompression bomb": (decompression_bomb(), False, imaging.TOO_MANY_PIXELS),
    "cmyk jpeg": (_save(_scene((800, 600), "CMYK"), "JPEG"), True, None),
    "16-bit png": (png16(), True, None),
    "animated gif": (animated_gif(), True, None),
    "exif-rotated photo": (jpeg((1200, 900), orientation=6), True, None),
    "truncated png": (_half(_save(_scene((600, 400)), "PNG")), False, imaging.TRUNCATED),
    "bit-flipped png": (_flip(_save(_scene((600, 400)), "PNG")), False, imaging.CORRUPT),
    "tiff (not allowed)": (_save(_scene((200, 100)), "TIFF"), False, imaging.FORMAT_NOT_ALLOWED),
}


# -- classification (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_inspect_classifies(name: str) -> None:
    data, valid, reason = CASES[name]
    result = imaging.inspect(data, **LIMITS)  # type: ignore[arg-type]
    assert (result.valid, result.reason) == (valid, reason), result.detail
    assert result.bytes == len(data)


def test_bomb_is_refused_from_its_header_alone() -> None:
    data = decompression_bomb()
    assert len(data) < 1000
    result = imaging.inspect(data, **LIMITS)  # type: ignore[arg-type]
    assert result.reason == imaging.TOO_MANY_PIXELS
    assert "1600000000 pixels" in (result.detail or "")


def test_byte_limit_before_any_decoding() -> None:
    result = imaging.inspect(jpeg(), allowed_formats=ALLOWED, max_bytes=1000, max_pixels=10**8)
    assert (result.valid, result.reason) == (False, imaging.TOO_MANY_BYTES)


def test_format_is_sniffed_not_taken_from_the_name() -> None:
    """A PNG is a PNG whatever the key says; a JPEG-only allow-list refuses it."""
    png = CASES["png"][0]
    result = imaging.inspect(png, allowed_formats=("JPEG",), max_bytes=10**7, max_pixels=10**8)
    assert (result.format, result.reason) == ("PNG", imaging.FORMAT_NOT_ALLOWED)


def test_notes_describe_conversions() -> None:
    assert "CMYK converted to RGB" in imaging.inspect(CASES["cmyk jpeg"][0], **LIMITS).notes  # type: ignore[arg-type]
    assert any("16-bit" in n for n in imaging.inspect(png16(), **LIMITS).notes)  # type: ignore[arg-type]
    gif = imaging.inspect(animated_gif(), **LIMITS)  # type: ignore[arg-type]
    assert gif.frames == 3 and any("animated" in n for n in gif.notes)
    rotated = imaging.inspect(CASES["exif-rotated photo"][0], **LIMITS)  # type: ignore[arg-type]
    assert rotated.orientation == 6


# -- renditions (pure) -----------------------------------------------------------------------------


def test_renditions_keep_aspect_ratio_and_never_upscale() -> None:
    out = dict((r.name, im.size) for r, im in imaging.make_renditions(jpeg((1600, 1200)), RENDITIONS))
    assert out == {"thumb": (100, 75), "medium": (800, 600)}
    small = dict((r.name, im.size) for r, im in imaging.make_renditions(jpeg((300, 200)), RENDITIONS))
    assert small == {"thumb": (100, 67), "medium": (300, 200)}


def test_jpeg_is_decoded_reduced() -> None:
    """A 4000x3000 JPEG for an 800x600 box decodes at 1/4 scale (1000x750), not 12 megapixels."""
    image = imaging.open_for_box(jpeg((4000, 3000)), (800, 600))
    assert image.size == (1000, 750)


def test_exif_orientation_is_applied() -> None:
    ((rendition, image),) = imaging.make_renditions(jpeg((1200, 900), orientation=6), [RENDITIONS[1]])
    assert image.size == (450, 600)  # portrait after rotation


def test_cmyk_and_16_bit_become_displayable() -> None:
    ((_, cmyk),) = imaging.make_renditions(CASES["cmyk jpeg"][0], [RENDITIONS[1]])
    assert cmyk.mode == "RGB"
    ((_, gray),) = imaging.make_renditions(png16(), [RENDITIONS[1]])
    assert gray.mode == "L" and 126 <= gray.getpixel((10, 10)) <= 129  # scaled, not clipped to 255


def test_animated_gif_uses_the_first_frame() -> None:
    data = animated_gif()
    first = Image.open(io.BytesIO(data)).convert("RGB").getpixel((5, 5))
    ((_, image),) = imaging.make_renditions(data, [RENDITIONS[1]])
    assert image.convert("RGB").getpixel((5, 5)) == first
    assert len(list(ImageSequence.Iterator(Image.open(io.BytesIO(data))))) == 3


@pytest.mark.parametrize("name", sorted(imaging.FILTERS))
def test_every_filter_runs(name: str) -> None:
    image = _scene((200, 150))
    out = imaging.apply_filters(image, [name])
    assert out.size == image.size
    assert (out.mode == "L") == (name == "grayscale")


def test_unknown_filter_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown filter 'sepia'"):
        imaging.apply_filters(_scene((10, 10)), ["sepia"])


def test_construct_and_runtime_agree_on_filters() -> None:
    from refarch.constructs.image_processor import FILTERS

    assert set(FILTERS) == set(imaging.FILTERS)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_encode_strips_all_metadata(fmt: str) -> None:
    source = Image.open(io.BytesIO(jpeg()))
    assert source.getexif().get_ifd(0x8825), "the source carries GPS"
    encoded = imaging.encode(source, fmt, quality=80)
    out = Image.open(io.BytesIO(encoded))
    assert out.format == fmt
    assert not out.getexif() and "exif" not in out.info and "xmp" not in out.info
    if fmt == "JPEG":
        assert out.info.get("progressive") == 1


def test_jpeg_flattens_alpha() -> None:
    out = Image.open(io.BytesIO(imaging.encode(Image.new("RGBA", (4, 4), (0, 0, 0, 0)), "JPEG", quality=90)))
    assert out.mode == "RGB" and out.getpixel((1, 1)) == (255, 255, 255)


# -- the handlers, on moto S3 and DynamoDB -------------------------------------------------------


class Ctx:
    function_name = "test-handlers"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-handlers"
    memory_limit_in_mb = 1769
    aws_request_id = "req"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    env = {
        "RENDITIONS": json.dumps([{"name": r.name, "width": r.width, "height": r.height} for r in RENDITIONS]),
        "FILTERS": json.dumps(["grayscale"]),
        "ALLOWED_FORMATS": ",".join(ALLOWED),
        "MAX_BYTES": str(LIMITS["max_bytes"]),
        "MAX_PIXELS": str(LIMITS["max_pixels"]),
        "OUTPUT_BUCKET": "out-bucket",
        "STATUS_TABLE": "status",
        "MAX_MANIFEST_ITEMS": "3",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        s3 = boto3.client("s3")
        for bucket in ("in-bucket", "out-bucket"):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        boto3.client("dynamodb").create_table(
            TableName="status",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )
        handlers.reset()
        yield s3
        handlers.reset()


def _upload(s3: Any, key: str, body: bytes) -> dict[str, str]:
    return {
        "bucket": "in-bucket",
        "key": key,
        "versionId": s3.put_object(Bucket="in-bucket", Key=key, Body=body)["VersionId"],
    }


def _untouched(s3: Any, item: dict[str, str], body: bytes) -> None:
    versions = s3.list_object_versions(Bucket="in-bucket", Prefix=item["key"])["Versions"]
    assert [v["VersionId"] for v in versions] == [item["versionId"]]
    assert s3.get_object(Bucket="in-bucket", Key=item["key"])["Body"].read() == body


@pytest.mark.parametrize("name", list(CASES))
def test_validate_handler_classifies_and_leaves_the_original(aws: Any, name: str) -> None:
    data, valid, reason = CASES[name]
    item = _upload(aws, f"uploads/{name.replace(' ', '-')}.jpg", data)
    result = handlers.validate(item, Ctx())
    assert (result["valid"], result["reason"]) == (valid, reason)
    json.dumps(result)  # the state machine needs JSON
    _untouched(aws, item, data)


def test_validate_reports_a_vanished_version(aws: Any) -> None:
    item = _upload(aws, "uploads/gone.jpg", jpeg())
    aws.delete_object(Bucket="in-bucket", Key=item["key"], VersionId=item["versionId"])
    assert handlers.validate(item, Ctx())["reason"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "name", ["jpeg", "png", "webp", "gif", "cmyk jpeg", "16-bit png", "animated gif", "exif-rotated photo"]
)
def test_resize_filter_optimize_handlers(aws: Any, name: str) -> None:
    data = CASES[name][0]
    item = _upload(aws, f"uploads/{name.replace(' ', '-')}", data)
    resized = handlers.resize(item, Ctx())
    filtered = handlers.apply_filters(item, Ctx())
    assert [r["name"] for r in resized["renditions"]] == ["thumb", "medium"]
    optimized = handlers.optimize({**item, "processed": [resized, filtered]}, Ctx())
    names = {(o["name"], o["format"]) for o in optimized["outputs"]}
    assert names == {(n, f) for n in ("thumb", "medium", "filtered") for f in ("JPEG", "WEBP")}
    for output in optimized["outputs"]:
        body = aws.get_object(Bucket="out-bucket", Key=output["key"])["Body"].read()
        image = Image.open(io.BytesIO(body))
        assert image.size == (output["width"], output["height"]) and len(body) == output["bytes"]
        assert not image.getexif(), f"{output['key']} carries metadata"
        assert max(image.size) <= 800
    assert not aws.list_objects_v2(Bucket="out-bucket", Prefix="work/").get("Contents"), "work files are cleaned up"
    _untouched(aws, item, data)


def test_resize_is_idempotent_per_object_version(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    item = _upload(aws, "uploads/once.jpg", jpeg())
    first = handlers.resize(item, Ctx())
    calls: list[int] = []
    real = imaging.make_renditions
    monkeypatch.setattr(imaging, "make_renditions", lambda *a: calls.append(1) or real(*a))
    assert handlers.resize(item, Ctx()) == first
    assert calls == [], "a repeated call for the same version must not redo the work"
    newer = _upload(aws, "uploads/once.jpg", jpeg((800, 600)))
    handlers.resize(newer, Ctx())
    assert calls == [1], "a new version is new work"


def test_url_encoded_keys_from_notifications_are_found(aws: Any) -> None:
    item = _upload(aws, "uploads/red flower (1).jpg", jpeg((400, 300)))
    encoded = {**item, "key": "uploads/red+flower+%281%29.jpg"}
    assert handlers.validate(encoded, Ctx())["valid"] is True


def test_throttling_is_transient_and_access_denied_is_not(aws: Any) -> None:
    from botocore.exceptions import ClientError

    def err(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")

    assert isinstance(handlers._classify(err("SlowDown", 503)), handlers.TransientError)
    assert isinstance(handlers._classify(err("InternalError", 500)), handlers.TransientError)
    assert isinstance(handlers._classify(err("AccessDenied", 403)), ClientError)


def test_manifest_pins_versions_and_reports_missing_keys(aws: Any) -> None:
    a = _upload(aws, "uploads/a.jpg", jpeg((300, 200)))
    b = _upload(aws, "uploads/b.png", CASES["png"][0])
    m = _upload(aws, "uploads/x.manifest.json", json.dumps([a["key"], b["key"], "uploads/nope.jpg"]).encode())
    result = manifest.load(m, Ctx())
    assert result["items"] == [a, b]
    assert result["missing"] == ["uploads/nope.jpg"]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{}", b"[]", b'["a", "a"]', b'["a", 1]', b'["a", "b", "c", "d"]', b'[""]'],
)
def test_bad_manifests_are_refused(body: bytes) -> None:
    with pytest.raises(manifest.InvalidManifest):
        manifest.parse(body, max_items=3)
