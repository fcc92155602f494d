"""Image logic, pure Pillow: classify an upload, decode it small, resize, filter, encode.

No AWS calls here, so every function is tested on real images without mocks.

What phones and tools save is taken as it comes:

* MPO (a JPEG followed by more images: gain maps of Ultra HDR photos, depth maps) is a JPEG: its
  first image is the photo;
* HEIC/HEIF through pillow-heif (registered here), AVIF through Pillow's own decoder; both are
  accepted only when ``allowed_formats`` lists them;
* colours are converted from the embedded ICC profile (Adobe RGB, Display P3, CMYK) to sRGB with
  LittleCMS (``PIL.ImageCms``) before the profile is stripped, since outputs carry no metadata and
  untagged pixels are read as sRGB;
* transparency of every kind (an alpha channel, a palette's transparent entries, a PNG ``tRNS``
  colour key) becomes an alpha channel that every rendition and filter keeps; JPEG outputs are
  composited onto :data:`BACKGROUND`, WebP outputs keep the alpha.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageCms, ImageFile, ImageFilter, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

# Never decode a truncated file as if it were whole: a truncated upload is rejected.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# HEIC/HEIF (pillow-heif's libheif); AVIF is Pillow's own (its wheels bundle libavif).
register_heif_opener()

#: Format names as Pillow reports them after sniffing the bytes (the file name is ignored). MPO is
#: reported as JPEG.
KNOWN_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "HEIF", "AVIF")

#: WebP encoder effort (0 fastest .. 6 smallest).
WEBP_METHOD = 0

#: What transparent pixels become where the output format has no alpha (JPEG).
BACKGROUND = (255, 255, 255)

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

#: Filters the construct can configure, in the order they are applied when chained.
FILTERS: dict[str, Any] = {
    "grayscale": None,  # a mode change, see _apply_filter
    "autocontrast": None,
    "equalize": None,
    "sharpen": ImageFilter.SHARPEN,
    "blur": ImageFilter.GaussianBlur(2),
    "smooth": ImageFilter.SMOOTH_MORE,
    "detail": ImageFilter.DETAIL,
    "edge_enhance": ImageFilter.EDGE_ENHANCE,
    "contour": ImageFilter.CONTOUR,
}

# Reasons an upload is rejected. Stable strings: they land in DynamoDB and in notifications.
EMPTY = "EMPTY"
TOO_MANY_BYTES = "TOO_MANY_BYTES"
NOT_AN_IMAGE = "NOT_AN_IMAGE"
FORMAT_NOT_ALLOWED = "FORMAT_NOT_ALLOWED"
TOO_MANY_PIXELS = "TOO_MANY_PIXELS"
TRUNCATED = "TRUNCATED"
CORRUPT = "CORRUPT"


@dataclass(frozen=True)
class Rendition:
    """A named output that fits inside ``width`` x ``height``, aspect ratio kept, never upscaled."""

    name: str
    width: int
    height: int

    @classmethod
    def parse(cls, value: dict[str, Any]) -> Rendition:
        return cls(str(value["name"]), int(value["width"]), int(value["height"]))


@dataclass
class Inspection:
    """What validation found out about an upload."""

    valid: bool
    reason: str | None = None
    detail: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    mode: str | None = None
    frames: int = 1
    orientation: int = 1
    bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def inspect(data: bytes, *, allowed_formats: Iterable[str], max_bytes: int, max_pixels: int) -> Inspection:
    """Classify ``data``: a valid image of an allowed format within the limits, or why not.

    The format is sniffed from the bytes. The pixel limit is checked on the header, before
    any pixel is decoded (decompression-bomb guard). The image is then decoded (cheaply, at
    1/8 scale for JPEG) to catch truncated or corrupt files.
    """
    size = len(data)
    if size == 0:
        return Inspection(False, EMPTY, "The object is empty.")
    if size > max_bytes:
        return Inspection(False, TOO_MANY_BYTES, f"{size} bytes; the limit is {max_bytes}.", bytes=size)
    allowed = {f.upper() for f in allowed_formats}
    notes: list[str] = []
    fmt: str | None = None
    width = height = None
    try:
        # Pillow's own bomb check would raise at 2x its global limit; ours is the construct's.
        with Image.open(io.BytesIO(data)) as image:
            fmt, (width, height), mode = image.format, image.size, image.mode
            frames = getattr(image, "n_frames", 1)
            if fmt == "MPO":  # a JPEG with more images after it: the first one is the photo
                notes.append(f"MPO ({frames} images): the first is used")
                fmt, frames = "JPEG", 1
            profile = _profile(image)
            orientation = int(image.getexif().get(0x0112, 1) or 1)
            result = Inspection(
                True,
                format=fmt,
                width=width,
                height=height,
                mode=mode,
                frames=frames,
                orientation=orientation,
                bytes=size,
                notes=notes,
            )
            if fmt not in allowed:
                return _reject(result, FORMAT_NOT_ALLOWED, f"{fmt} is not one of {sorted(allowed)}.")
            if width * height * frames > max_pixels:
                return _reject(
                    result,
                    TOO_MANY_PIXELS,
                    f"{width}x{height}x{frames} frames = {width * height * frames} pixels; the limit is {max_pixels}.",
                )
            _decode_check(image, data)
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        if isinstance(exc, Image.DecompressionBombError):
            return Inspection(False, TOO_MANY_PIXELS, str(exc), bytes=size)
        return Inspection(False, NOT_AN_IMAGE, "The bytes are not an image format Pillow recognizes.", bytes=size)
    except OSError as exc:
        message = str(exc)
        reason = TRUNCATED if "truncated" in message.lower() else CORRUPT
        return Inspection(False, reason, message, format=fmt, width=width, height=height, bytes=size)
    except (ValueError, SyntaxError, EOFError) as exc:  # Pillow raises these on malformed headers
        return Inspection(False, CORRUPT, f"{type(exc).__name__}: {exc}", bytes=size)
    if profile is not None:
        result.notes.append(f"ICC profile {_describe(profile)!r} converted to sRGB")
    if mode == "CMYK":
        result.notes.append("CMYK converted to RGB")
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        result.notes.append("16-bit samples scaled to 8-bit")
    if frames > 1:
        result.notes.append(f"animated ({frames} frames): renditions use the first frame")
    if orientation != 1:
        result.notes.append(f"EXIF orientation {orientation} applied")
    return result


def _reject(result: Inspection, reason: str, detail: str) -> Inspection:
    result.valid, result.reason, result.detail = False, reason, detail
    return result


def _decode_check(image: Image.Image, data: bytes) -> None:
    """Read enough of ``image`` to prove it is whole. JPEG decodes at 1/8 scale (all the
    entropy-coded data is still read, so truncation shows); PNG checks every chunk's CRC through
    IEND without inflating the pixels; the others decode fully, which the pixel limit has bounded."""
    if image.format == "PNG":
        with Image.open(io.BytesIO(data)) as fresh:  # verify() must come straight after open
            fresh.verify()
        return
    if image.format in ("JPEG", "MPO"):
        image.draft(image.mode, (1, 1))
    image.load()


def open_for_box(data: bytes, box: tuple[int, int]) -> Image.Image:
    """Open ``data`` decoded just large enough to fill ``box`` (display orientation), with EXIF
    orientation applied, colours in sRGB and the pixels in a mode every encoder takes (RGB, RGBA
    or L; RGBA whenever the image has transparency of any kind).

    JPEG (and MPO) is decoded at a reduced DCT scale (1/2, 1/4, 1/8) when the box allows: that is
    the whole speed-up over a plain open and resize.
    """
    image = Image.open(io.BytesIO(data))
    orientation = int(image.getexif().get(0x0112, 1) or 1)
    if image.format in ("JPEG", "MPO"):
        raw_w, raw_h = image.size
        box_w, box_h = (box[1], box[0]) if orientation in (5, 6, 7, 8) else box
        # The largest reduction that still leaves at least the fitted size of the box.
        scale = min(1.0, box_w / raw_w, box_h / raw_h)
        image.draft(image.mode, (math.ceil(raw_w * scale), math.ceil(raw_h * scale)))
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    profile = _profile(image)
    # exif_transpose copies the whole image even when there is nothing to turn: call it only when needed.
    oriented: Image.Image = (ImageOps.exif_transpose(image) or image) if orientation != 1 else image
    return to_srgb(oriented, profile)


def _profile(image: Image.Image) -> ImageCms.ImageCmsProfile | None:
    """The embedded ICC profile when it is worth converting from: readable, RGB or CMYK, not sRGB."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None  # an unreadable profile: the pixels are taken as sRGB, as a browser would
    space = profile.profile.xcolor_space.strip()
    if space != ("CMYK" if image.mode == "CMYK" else "RGB"):
        return None  # a profile for other pixels than these (Lab, gray, CMYK on RGB): not applicable
    if space == "RGB" and _describe(profile).startswith("sRGB"):
        return None
    return profile


def _describe(profile: ImageCms.ImageCmsProfile) -> str:
    return str(ImageCms.getProfileDescription(profile)).strip()


def to_srgb(image: Image.Image, profile: ImageCms.ImageCmsProfile | None) -> Image.Image:
    """``image`` in a display mode (:func:`to_display_mode`), its colours converted from ``profile``
    to sRGB (perceptual intent), alpha kept."""
    if profile is None:
        return to_display_mode(image)
    try:
        if image.mode == "CMYK":  # straight from the CMYK profile to sRGB: better than Pillow's naive formula
            converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
        else:
            image = to_display_mode(image)
            converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode=image.mode)
    except ImageCms.PyCMSError:  # a profile LittleCMS reads but cannot transform with: taken as sRGB
        return to_display_mode(image)
    return converted if converted is not None else image


def to_display_mode(image: Image.Image) -> Image.Image:
    """RGB, RGBA or L with 8-bit samples: CMYK to RGB, 16-bit to 8-bit (scaled, not clipped),
    palette to RGB(A), and RGBA for any transparency (alpha, a palette's transparent entries, a
    ``tRNS`` colour key of an RGB or grayscale PNG)."""
    mode = image.mode
    if mode in ("RGB", "L") and "transparency" in image.info:
        return image.convert("RGBA")  # the colour key becomes alpha 0 instead of showing
    if mode in ("RGB", "RGBA", "L"):
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        # Scale 0..65535 to 0..255; a plain convert("L") would clip everything above 255 to white.
        return image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode in ("P", "PA", "LA", "RGBa", "La"):
        has_alpha = mode in ("PA", "LA", "RGBa", "La") or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    return image.convert("RGB")  # CMYK, YCbCr, LAB, 1, F ...


def fit_size(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """``size`` scaled to fit in ``box`` with its aspect ratio, never upscaled."""
    width, height = size
    scale = min(1.0, box[0] / width, box[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


#: How much larger than its target an integer box reduction (``Image.reduce``) may leave an image
#: before LANCZOS does the rest. Pillow's ``thumbnail`` uses 2.0; 1.5 is as sharp to the eye and, on
#: a 24-megapixel PNG (which has no reduced decoding), leaves LANCZOS a third of the pixels.
REDUCING_GAP = 1.5


def resize_to(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """Fit ``image`` into ``box``: an integer box reduction first, then LANCZOS for the rest."""
    return _resized(image, fit_size(image.size, box))


def _resized(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if size == image.size:
        return image.copy()
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)


def make_renditions(data: bytes, renditions: Sequence[Rendition]) -> list[tuple[Rendition, Image.Image]]:
    """Every rendition of ``data``, decoding once at the size the largest one needs.

    Largest first, each from the smallest rendition already made that still covers it (a 200 px
    thumbnail from the 800 px medium, not from 24 megapixels): the sizes are those fitted from the
    decoded image, the work shrinks with every step."""
    box = (max(r.width for r in renditions), max(r.height for r in renditions))
    source = open_for_box(data, box)
    made: list[Image.Image] = []  # largest first
    images: dict[int, Image.Image] = {}
    for index in sorted(range(len(renditions)), key=lambda i: renditions[i].width * renditions[i].height, reverse=True):
        rendition = renditions[index]
        size = fit_size(source.size, (rendition.width, rendition.height))
        base = next((m for m in reversed(made) if m.width >= size[0] and m.height >= size[1]), source)
        images[index] = _resized(base, size)
        made.append(images[index])
    return [(rendition, images[index]) for index, rendition in enumerate(renditions)]


def apply_filters(image: Image.Image, filters: Sequence[str]) -> Image.Image:
    """``filters`` applied in order. Unknown names raise ``ValueError``."""
    for name in filters:
        if name not in FILTERS:
            raise ValueError(f"unknown filter {name!r}; known: {sorted(FILTERS)}")
        image = _apply_filter(image, name)
    return image


def _apply_filter(image: Image.Image, name: str) -> Image.Image:
    """One filter; the alpha channel of RGBA and LA images is kept as it is."""
    kernel = FILTERS[name]
    if image.mode not in ("RGBA", "LA"):
        return _colour_filter(image, name, mask=None) if kernel is None else image.filter(kernel)
    if kernel is not None:
        # On premultiplied samples: the hidden colour of transparent pixels does not bleed into the edge.
        premultiplied = {"RGBA": "RGBa", "LA": "La"}[image.mode]
        return image.convert(premultiplied).filter(kernel).convert(image.mode)
    alpha = image.getchannel("A")
    colour = _colour_filter(image.convert("RGB" if image.mode == "RGBA" else "L"), name, mask=alpha)
    colour.putalpha(alpha)  # RGB -> RGBA, L -> LA
    return colour


def _colour_filter(image: Image.Image, name: str, *, mask: Image.Image | None) -> Image.Image:
    """grayscale, autocontrast, equalize on an RGB or L image; the histogram ones count only the
    pixels under ``mask`` (the visible ones)."""
    if name == "grayscale":
        return ImageOps.grayscale(image)
    if name == "autocontrast":
        return ImageOps.autocontrast(image, mask=mask)
    return ImageOps.equalize(image, mask=mask)


def encode(image: Image.Image, fmt: str, *, quality: int) -> bytes:
    """Encode ``image`` with no metadata at all (no EXIF, GPS, XMP, ICC, comments): progressive
    optimized JPEG, or WebP. Alpha is composited onto :data:`BACKGROUND` for JPEG, kept for WebP."""
    out = io.BytesIO()
    if fmt == "JPEG":
        clean = _clean(flatten(image))
        clean.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    elif fmt == "WEBP":
        clean = _clean(image.convert("RGBA") if image.mode == "LA" else image)
        # method 0: the encoder's fastest effort. At the same quality setting the pixels are as close
        # to the source as with the default 4 (PSNR within 0.1 dB, size within a few percent, see
        # bench/image_pipeline.py) at a quarter of the time.
        clean.save(out, "WEBP", quality=quality, method=WEBP_METHOD)
    elif fmt == "PNG":
        _clean(image).save(out, "PNG", compress_level=1)
    else:
        raise ValueError(f"unsupported output format {fmt!r}")
    return out.getvalue()


def _clean(image: Image.Image) -> Image.Image:
    """The pixels of ``image`` in a fresh image, which carries no info dict: nothing personal can
    leak into the output."""
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def flatten(image: Image.Image, background: tuple[int, int, int] = BACKGROUND) -> Image.Image:
    """RGBA and LA composited onto ``background`` (RGB and L); other modes unchanged."""
    if image.mode not in ("RGBA", "LA"):
        return image
    if image.mode == "LA":
        base = Image.new("L", image.size, round(sum(background) / 3))
        base.paste(image.getchannel("L"), mask=image.getchannel("A"))
        return base
    base = Image.new("RGB", image.size, background)
    base.paste(image, mask=image.getchannel("A"))
    return base
