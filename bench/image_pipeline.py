#!/usr/bin/env python3
"""Handler benchmark of the ImageProcessor: the seed's resize code against ours, same images, same run.

The seed (the article's handler): ``Image.open``, ``resize((800, 600), LANCZOS)``, ``save`` in the
input's format. Ours (``refarch/runtime/image_processor/imaging.py``): reduced JPEG decoding
(``draft``), EXIF orientation, an integer box reduction then LANCZOS, aspect ratio kept, encoded
in the same format by our encoder (PNG at zlib level 1, as the resize handler writes it; progressive
JPEG at the seed's default quality 75). Both produce 800x600 from the 4:3 test images.

Printed per image, all measured side by side in one run (median of warm runs, alternating):
``decode`` (open and decode every pixel, nothing else: the floor for formats with no reduced
decoding, such as PNG), the seed, ours, the speed-up, the peak memory of seed and ours
(resident-set growth in a fresh process, which counts Pillow's C buffers that tracemalloc cannot
see), and ``full``: our whole per-image work in the Lambda functions (validation + 3 renditions +
progressive JPEG and WebP of each). Then the two targets, and the WebP encoder effort's effect on
size and PSNR.

    .venv/bin/python bench/image_pipeline.py              # --runs 7 by default
"""

from __future__ import annotations

import argparse
import io
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "refarch" / "runtime"
sys.path.insert(0, str(RUNTIME))

from image_processor import imaging  # noqa: E402
from PIL import Image, ImageChops, ImageStat  # noqa: E402

TARGET = (800, 600)
DEFAULT_RENDITIONS = [
    imaging.Rendition("thumbnail", 200, 200),
    imaging.Rendition("medium", 800, 600),
    imaging.Rendition("large", 1600, 1200),
]


# -- the two implementations -------------------------------------------------------------------


def seed(data: bytes) -> tuple[int, int]:
    """The seed's handler, minus S3: open, LANCZOS to 800x600, save in the same format."""
    image = Image.open(io.BytesIO(data))
    fmt = image.format
    image = image.resize(TARGET, Image.LANCZOS)
    out = io.BytesIO()
    image.save(out, fmt)
    return image.size


def decode(data: bytes) -> tuple[int, int]:
    """Open and decode every pixel: what any full-size resize must at least do."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return TARGET


def ours(data: bytes) -> tuple[int, int]:
    """Ours, for the same output: reduced decoding, fit into 800x600, our encoder in the same format."""
    fmt = Image.open(io.BytesIO(data)).format or "PNG"
    ((_, image),) = imaging.make_renditions(data, [imaging.Rendition("medium", *TARGET)])
    imaging.encode(image, fmt, quality=75)
    return image.size


def ours_full(data: bytes) -> tuple[int, int]:
    """Everything our functions do to one upload, minus S3: validate, 3 renditions, JPEG + WebP each."""
    imaging.inspect(data, allowed_formats=("JPEG", "PNG"), max_bytes=10**9, max_pixels=10**9)
    renditions = imaging.make_renditions(data, DEFAULT_RENDITIONS)
    for _, image in renditions:
        imaging.encode(image, "JPEG", quality=82)
        imaging.encode(image, "WEBP", quality=80)
    return renditions[1][1].size


IMPLEMENTATIONS: dict[str, Callable[[bytes], tuple[int, int]]] = {
    "decode": decode,
    "seed": seed,
    "ours": ours,
    "ours_full": ours_full,
}


# -- test images -------------------------------------------------------------------------------


def photo_like(size: tuple[int, int]) -> Image.Image:
    """Smooth noise, a gradient and a fractal: compresses like a photo, not like a flat colour."""
    w, h = size
    noise = Image.effect_noise((w // 8, h // 8), 64).resize(size, Image.BILINEAR)
    gradient = Image.linear_gradient("L").resize(size)
    fractal = Image.effect_mandelbrot((w // 4, h // 4), (-2.0, -1.5, 1.0, 1.5), 100).resize(size)
    return Image.merge("RGB", (noise, gradient, fractal))


def make_images(folder: Path) -> dict[str, Path]:
    big = photo_like((5664, 4248))  # 24.06 megapixels, 4:3
    images = {
        "JPEG 5664x4248 (24 MP)": ("jpg", big, {"quality": 90}),
        "JPEG 4032x3024 (12 MP)": ("jpg", big.resize((4032, 3024)), {"quality": 90}),
        "PNG 5664x4248 (24 MP)": ("png", big, {}),
        "PNG 2400x1800 (4.3 MP)": ("png", big.resize((2400, 1800)), {}),
    }
    paths = {}
    for i, (name, (ext, image, params)) in enumerate(images.items()):
        path = folder / f"{i}.{ext}"
        image.save(path, **params)
        paths[name] = path
    return paths


# -- measurement -------------------------------------------------------------------------------


def webp_effort(path: Path) -> str:
    """Size and PSNR of the large rendition as WebP at our effort and at libwebp's default (4)."""
    ((_, image),) = imaging.make_renditions(path.read_bytes(), [imaging.Rendition("large", 1600, 1200)])
    parts = []
    for method in (imaging.WEBP_METHOD, 4):
        out = io.BytesIO()
        image.save(out, "WEBP", quality=80, method=method)
        decoded = Image.open(io.BytesIO(out.getvalue())).convert("RGB")
        squares = ImageStat.Stat(ImageChops.difference(image, decoded).point(lambda v: v * v)).mean
        psnr = 10 * math.log10(255**2 / max(sum(squares) / 3, 1e-9))
        parts.append(f"method {method}: {len(out.getvalue()) / 1000:.0f} kB, PSNR {psnr:.2f} dB")
    return "WebP quality 80, 1600x1200: " + "; ".join(parts)


_PEAK = """
import sys
sys.path.insert(0, sys.argv[3])
sys.path.insert(0, sys.argv[4])
from bench.image_pipeline import IMPLEMENTATIONS

def hwm_kb():  # this process's own peak RSS (ru_maxrss would carry the parent's over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

data = open(sys.argv[2], "rb").read()
before = hwm_kb()
IMPLEMENTATIONS[sys.argv[1]](data)
print((hwm_kb() - before) / 1024)
"""


def peak_mb(name: str, path: Path) -> float:
    """Growth of the peak resident set while one call runs, in a fresh process (MB)."""
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, name, str(path), str(ROOT), str(RUNTIME)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(out.strip())


def median_ms(fn: Callable[[bytes], object], data: bytes, samples: list[float]) -> None:
    start = time.perf_counter()
    fn(data)
    samples.append((time.perf_counter() - start) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        paths = make_images(Path(tmp))
        print(
            f"Pillow {Image.__version__}, Python {sys.version.split()[0]}, median of {args.runs} warm runs, "
            "alternating; peak = RSS growth in a fresh process"
        )
        header = ("image", "MB", "decode", "seed ms", "ours ms", "speed-up", "seed peak", "ours peak", "full ms")
        print(
            f"{header[0]:<24} {header[1]:>5} {header[2]:>7} {header[3]:>8} {header[4]:>8} {header[5]:>9} "
            f"{header[6]:>10} {header[7]:>10} {header[8]:>8}"
        )
        figures = []
        for name, path in paths.items():
            data = path.read_bytes()
            sizes = {impl: fn(data) for impl, fn in IMPLEMENTATIONS.items()}  # warm-up, and the output size
            assert sizes["seed"] == sizes["ours"] == TARGET, sizes
            samples: dict[str, list[float]] = {impl: [] for impl in IMPLEMENTATIONS}
            for _ in range(args.runs):
                for impl, fn in IMPLEMENTATIONS.items():
                    median_ms(fn, data, samples[impl])
            ms = {impl: statistics.median(s) for impl, s in samples.items()}
            peaks = {impl: peak_mb(impl, path) for impl in ("seed", "ours")}
            figure = {
                "image": name,
                "bytes": len(data),
                "decode_ms": ms["decode"],
                "seed_ms": ms["seed"],
                "ours_ms": ms["ours"],
                "speedup": ms["seed"] / ms["ours"],
                "ours_over_decode": ms["ours"] / ms["decode"],
                "seed_peak_mb": peaks["seed"],
                "ours_peak_mb": peaks["ours"],
                "ours_full_ms": ms["ours_full"],
                "full_over_seed": ms["ours_full"] / ms["seed"],
            }
            figures.append(figure)
            print(
                f"{name:<24} {len(data) / 1e6:>5.1f} {ms['decode']:>7.0f} {ms['seed']:>8.0f} {ms['ours']:>8.0f} "
                f"{figure['speedup']:>8.1f}x {peaks['seed']:>10.0f} {peaks['ours']:>10.0f} {ms['ours_full']:>8.0f}"
            )
        png = next(f for f in figures if f["image"].startswith("PNG 5664"))
        jpeg = next(f for f in figures if f["image"].startswith("JPEG 5664"))
        print(
            f"targets: 24 MP PNG ours / decode = {png['ours_over_decode']:.2f} (<= 1.25); "
            f"24 MP JPEG full / seed = {jpeg['full_over_seed']:.2f} (<= 1.00)"
        )
        print(webp_effort(paths["JPEG 5664x4248 (24 MP)"]))
        if args.json:
            print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
