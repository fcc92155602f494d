"""What phones and image tools really save: MPO (a JPEG carrying a second image: gain maps, depth),
transparency of every kind (alpha, palette, a tRNS colour key), an ICC profile that is not sRGB
(Adobe RGB), HEIC and AVIF. Every sample is a real file made here with Pillow and pillow-heif, and
goes through the pure functions and through the handlers (moto S3 and DynamoDB).
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat, features

from tests.harness import ROOT
from tests.test_image_handlers import LIMITS, Ctx, _save, _scene, _upload, aws  # noqa: F401

sys.path.insert(0, str(ROOT / "refarch" / "runtime"))
from image_processor import handlers, imaging  # noqa: E402

RED, BLUE, GREEN, MAGENTA, WHITE = (200, 30, 30), (30, 30, 200), (20, 160, 60), (255, 0, 255), (255, 255, 255)

# -- samples ---------------------------------------------------------------------------------------


def mpo() -> bytes:
    """A two-image MPO as phones write it: the photo (red), then a second image (blue)."""
    first, second = Image.new("RGB", (640, 480), RED), Image.new("RGB", (320, 240), BLUE)
    return _save(first, "MPO", save_all=True, append_images=[second], quality=90)


def _half_transparent(size: tuple[int, int] = (400, 300)) -> Image.Image:
    """Left half green and opaque; right half fully transparent, its hidden colour black."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste((*GREEN, 255), (0, 0, size[0] // 2, size[1]))
    return image


def rgba_png() -> bytes:
    return _save(_half_transparent(), "PNG")


def palette_png() -> bytes:
    return _save(_half_transparent().convert("P"), "PNG")  # Pillow keeps the transparent index as tRNS


def trns_png() -> bytes:
    """An RGB PNG whose magenta pixels are transparent through a tRNS colour key (what optimizers write)."""
    image = Image.new("RGB", (400, 300), MAGENTA)
    image.paste(GREEN, (0, 0, 200, 300))
    return _save(image, "PNG", transparency=MAGENTA)


def adobe_rgb_profile() -> bytes:
    """An ICC v2 display profile of Adobe RGB (1998): its D50-adapted primaries, D50 white, gamma 563/256.
    Pillow ships no Adobe RGB profile, so it is written here, tag by tag, as the ICC spec lays it out."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 563) + b"\0\0"
    name = b"Adobe RGB (1998) test profile\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(name)) + name + b"\0" * 8 + b"\0\0\0" + b"\0" * 67
    tags = [
        (b"desc", desc),
        (b"cprt", b"text\0\0\0\0No copyright, test data\0"),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.60974, 0.31111, 0.01947)),
        (b"gXYZ", xyz(0.20528, 0.62567, 0.06087)),
        (b"bXYZ", xyz(0.14919, 0.06322, 0.74457)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    start = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        data += b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", start + len(data), len(body))
        data += body
    data += b"\0" * (-len(data) % 4)
    header = (
        struct.pack(">I", start + len(data))
        + b"none"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


SRGB_COLOUR = (40, 170, 90)


def adobe_rgb_jpeg() -> tuple[bytes, tuple[int, int, int]]:
    """A flat sRGB colour converted into Adobe RGB and saved with that profile; and the Adobe RGB
    pixel values a converter-less pipeline would show."""
    profile = adobe_rgb_profile()
    srgb = ImageCms.createProfile("sRGB")
    adobe = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    image = ImageCms.profileToProfile(Image.new("RGB", (600, 400), SRGB_COLOUR), srgb, adobe)
    assert image is not None
    raw = image.getpixel((10, 10))
    assert isinstance(raw, tuple)
    return _save(image, "JPEG", quality=95, icc_profile=profile), (raw[0], raw[1], raw[2])


def heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return _save(_scene((640, 480)), "HEIF", quality=90)


def avif() -> bytes:
    return _save(_scene((640, 480)), "AVIF", quality=90)


PHONE = {**LIMITS, "allowed_formats": ("JPEG", "PNG", "WEBP", "GIF", "HEIF", "AVIF")}
BOX = [imaging.Rendition("medium", 200, 150)]


def _close(a: Any, b: Any, tolerance: int = 6) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


# -- MPO -----------------------------------------------------------------------------------------


def test_mpo_is_accepted_as_jpeg_using_its_first_image() -> None:
    data = mpo()
    assert Image.open(io.BytesIO(data)).format == "MPO", "the sample is a real MPO"
    result = imaging.inspect(data, **LIMITS)  # type: ignore[arg-type]
    assert (result.valid, result.format, result.frames) == (True, "JPEG", 1), result.detail
    assert any("MPO" in note for note in result.notes)
    ((_, image),) = imaging.make_renditions(data, BOX)
    assert _close(image.getpixel((5, 5)), RED)


def test_mpo_is_refused_when_jpeg_is_not_allowed() -> None:
    result = imaging.inspect(mpo(), **{**LIMITS, "allowed_formats": ("PNG",)})  # type: ignore[arg-type]
    assert (result.valid, result.reason, result.format) == (False, imaging.FORMAT_NOT_ALLOWED, "JPEG")


# -- transparency ------------------------------------------------------------------------------------

TRANSPARENT = {"rgba png": rgba_png, "palette png": palette_png, "trns png": trns_png}


@pytest.mark.parametrize("name", list(TRANSPARENT))
@pytest.mark.parametrize("filters", [[], ["grayscale"], ["autocontrast"], ["equalize"], ["blur", "sharpen"]])
def test_transparency_is_kept_through_renditions_and_filters(name: str, filters: list[str]) -> None:
    ((_, image),) = imaging.make_renditions(TRANSPARENT[name](), BOX)
    image = imaging.apply_filters(image, filters)
    assert image.mode in ("RGBA", "LA"), f"{name} lost its transparency: {image.mode}"
    assert image.getchannel("A").getpixel((190, 75)) == 0, "the transparent half stays transparent"
    assert image.getchannel("A").getpixel((10, 75)) == 255


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("name", list(TRANSPARENT))
def test_every_rendition_shows_the_background_or_keeps_alpha(name: str, aws: Any) -> None:  # noqa: F811
    item = _upload(aws, f"uploads/{name.replace(' ', '-')}.png", TRANSPARENT[name]())
    resized = handlers.resize(item, Ctx())
    filtered = handlers.apply_filters(item, Ctx())  # grayscale
    outputs = handlers.optimize({**item, "processed": [resized, filtered]}, Ctx())["outputs"]
    assert len(outputs) == 6
    for output in outputs:
        image = Image.open(io.BytesIO(aws.get_object(Bucket="out-bucket", Key=output["key"])["Body"].read()))
        right = (image.width * 9 // 10, image.height // 2)
        left = (image.width // 10, image.height // 2)
        label = f"{output['name']}.{output['format']}"
        if output["format"] == "JPEG":
            rgb = image.convert("RGB")
            assert _close(rgb.getpixel(right), WHITE), f"{label}: transparent area is {rgb.getpixel(right)}"
            assert not _close(rgb.getpixel(left), WHITE, 40), f"{label}: the opaque half is kept"
        else:
            assert image.mode == "RGBA", f"{label} lost alpha"
            assert image.getchannel("A").getpixel(right) == 0 and image.getchannel("A").getpixel(left) == 255


# -- colour ---------------------------------------------------------------------------------------------


def test_adobe_rgb_is_converted_to_srgb_before_the_profile_is_stripped() -> None:
    data, adobe_values = adobe_rgb_jpeg()
    assert not _close(adobe_values, SRGB_COLOUR, 12), "the sample's pixel values differ from sRGB"
    ((_, image),) = imaging.make_renditions(data, BOX)
    assert _close(image.getpixel((50, 50)), SRGB_COLOUR), image.getpixel((50, 50))
    for fmt in ("JPEG", "WEBP"):
        encoded = Image.open(io.BytesIO(imaging.encode(image, fmt, quality=95)))
        assert "icc_profile" not in encoded.info, "outputs are untagged sRGB"
        assert _close(encoded.convert("RGB").getpixel((50, 50)), SRGB_COLOUR), fmt


def test_inspection_notes_the_colour_conversion() -> None:
    data, _ = adobe_rgb_jpeg()
    notes = imaging.inspect(data, **LIMITS).notes  # type: ignore[arg-type]
    assert "ICC profile 'Adobe RGB (1998) test profile' converted to sRGB" in notes


@pytest.mark.parametrize(
    ("mode", "icc"),
    [
        ("RGB", b"\x00" * 40 + b"not an ICC profile"),
        ("RGB", ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()),
        ("CMYK", adobe_rgb_profile()),  # an RGB profile on CMYK pixels
    ],
    ids=["garbage", "lab profile on rgb", "rgb profile on cmyk"],
)
def test_an_unusable_profile_leaves_the_pixels_as_they_are(mode: str, icc: bytes) -> None:
    source = Image.new("RGB", (400, 300), SRGB_COLOUR).convert(mode)
    data = _save(source, "JPEG", quality=95, icc_profile=icc)
    assert imaging.inspect(data, **LIMITS).valid  # type: ignore[arg-type]
    ((_, image),) = imaging.make_renditions(data, BOX)
    assert image.mode == "RGB"
    assert _close(image.getpixel((50, 50)), source.convert("RGB").getpixel((50, 50)))


# -- HEIC and AVIF ---------------------------------------------------------------------------------------

PHONE_FORMATS = {"HEIF": heic, "AVIF": avif}


@pytest.mark.parametrize("fmt", list(PHONE_FORMATS))
def test_heic_and_avif_are_decoded_when_allowed(fmt: str) -> None:
    data = PHONE_FORMATS[fmt]()
    result = imaging.inspect(data, **PHONE)  # type: ignore[arg-type]
    assert (result.valid, result.format, result.width, result.height) == (True, fmt, 640, 480), result.detail
    ((_, image),) = imaging.make_renditions(data, BOX)
    assert image.size == (200, 150)
    refused = imaging.inspect(data, **LIMITS)  # type: ignore[arg-type]
    assert (refused.valid, refused.reason) == (False, imaging.FORMAT_NOT_ALLOWED)


def test_importing_the_handlers_registers_the_heic_decoder(tmp_path: Any) -> None:
    """In a fresh interpreter (this one registered pillow-heif to write the sample): the handlers'
    module alone makes Pillow open HEIC."""
    sample = tmp_path / "photo.heic"
    sample.write_bytes(heic())
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'refarch' / 'runtime')!r})\n"
        "from image_processor import imaging\n"
        "from PIL import Image\n"
        f"print(Image.open({str(sample)!r}).format)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "HEIF", out.stderr[-2000:]


@pytest.mark.parametrize("fmt", list(PHONE_FORMATS))
def test_heic_and_avif_through_the_handlers(fmt: str, aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("ALLOWED_FORMATS", ",".join(PHONE["allowed_formats"]))
    handlers.reset()
    item = _upload(aws, f"uploads/photo.{fmt.lower()}", PHONE_FORMATS[fmt]())
    assert handlers.validate(item, Ctx())["valid"] is True
    resized = handlers.resize(item, Ctx())
    outputs = handlers.optimize({**item, "processed": [resized]}, Ctx())["outputs"]
    assert {(o["name"], o["format"]) for o in outputs} == {
        (n, f) for n in ("thumb", "medium") for f in ("JPEG", "WEBP")
    }
    json.dumps(outputs)


def test_pillow_decodes_avif_itself() -> None:
    """Pillow 13's wheels bundle libavif: AVIF needs no plugin (HEIC does: pillow-heif)."""
    assert features.check("avif")


def test_construct_and_runtime_agree_on_input_formats() -> None:
    from refarch.constructs.image_processor.props import INPUT_FORMATS

    assert set(INPUT_FORMATS) == set(imaging.KNOWN_FORMATS)
    assert {"HEIF", "AVIF"} <= set(INPUT_FORMATS)


def test_the_image_layer_and_the_runtime_extra_pin_pillow_heif() -> None:
    layer = (ROOT / "refarch" / "runtime" / "layers" / "image_processor.txt").read_text().split()
    pyproject = (ROOT / "pyproject.toml").read_text()
    (pin,) = [line for line in layer if line.startswith("pillow-heif==")]
    assert f'"{pin}"' in pyproject


# -- speed without loss -------------------------------------------------------------------------------


def test_renditions_made_from_larger_renditions_match_those_made_from_the_source() -> None:
    """Each rendition is resized from the next larger one (the speed-up): same sizes, same pixels
    to the eye as resizing each from the decoded image."""
    data = _save(_scene((4000, 3000)), "JPEG", quality=92)
    renditions = [imaging.Rendition("thumb", 200, 200), imaging.Rendition("large", 1600, 1200),
                  imaging.Rendition("medium", 800, 600)]  # fmt: skip
    made = imaging.make_renditions(data, renditions)
    assert [r.name for r, _ in made] == ["thumb", "large", "medium"], "in the order asked for"
    source = imaging.open_for_box(data, (1600, 1200))
    for rendition, image in made:
        direct = imaging.resize_to(source, (rendition.width, rendition.height))
        assert image.size == direct.size
        difference = ImageStat.Stat(ImageChops.difference(image, direct)).mean
        assert max(difference) < 1.5, (rendition.name, difference)
