"""The stamp `make synth` leaves in cdk.out: a digest of everything the reference app's assembly
is made from, so the test session can read that assembly instead of synthesizing it again.
The test sessions stamp the app runs they make the same way (tests/harness.py ``run_app_once``),
with the app's own folder and its configuration added to the digest.

`make synth` synthesizes the reference app exactly as tests/test_full_synth.py needs it (the CLI:
assets bundled, asset metadata, the built-in validation, the packs as plugins). The stamp holds the
digest of the inputs: the library (refarch/, handlers and layer requirements included), app.py,
cdk.json and the two lock files (aws-cdk-lib, cdk-nag, Node and the CLI). The tests reuse cdk.out
only when the digest of the checkout still matches; any edit makes them synthesize on their own, and
they stamp what they synthesized the same way (tests/harness.py ``run_app_once``), so the next
session on an unchanged checkout reads that.

Imports nothing of aws-cdk-lib: ``python -m tests.assembly_stamp write cdk.out`` stays instant.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAMP_NAME = "refarch-inputs.sha256"
_INPUT_FILES = ("app.py", "cdk.json", "requirements-dev.lock", "package-lock.json")


def _inputs() -> list[Path]:
    library = [
        p for p in (ROOT / "refarch").rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]
    return sorted([*library, *(ROOT / name for name in _INPUT_FILES)])


def inputs_digest() -> str:
    """SHA-256 over the path and content of every input of the reference app's assembly."""
    digest = hashlib.sha256()
    for path in _inputs():
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def run_digest(app_folder: Path, configuration: Mapping[str, Any]) -> str:
    """The digest of one app run's inputs: :func:`inputs_digest`, every file of ``app_folder`` (an
    example's app.py and cdk.json; the reference app's are inputs already), the Python that runs it, and
    ``configuration`` (its context and how it is run), so a run is reused only for the very same."""
    digest = hashlib.sha256(inputs_digest().encode() + b"\0" + sys.version.encode() + b"\0")
    digest.update(json.dumps(configuration, sort_keys=True).encode() + b"\0")
    if app_folder.resolve() != ROOT:
        for path in sorted(p for p in app_folder.rglob("*") if p.is_file() and not _generated(p, app_folder)):
            digest.update(path.relative_to(app_folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _generated(path: Path, app_folder: Path) -> bool:
    parts = path.relative_to(app_folder).parts
    return "__pycache__" in parts or parts[0] == "cdk.out" or path.suffix == ".pyc"


def is_current(outdir: Path, digest: str | None = None) -> bool:
    """True when ``outdir`` holds an assembly stamped with ``digest`` (default: the reference app's, as
    `make synth` stamps it) for the checkout as it is now."""
    stamp = outdir / STAMP_NAME
    expected = digest if digest is not None else inputs_digest()
    return (outdir / "manifest.json").is_file() and stamp.is_file() and stamp.read_text().strip() == expected


def write(outdir: Path, digest: str | None = None) -> None:
    (outdir / STAMP_NAME).write_text((digest if digest is not None else inputs_digest()) + "\n")


if __name__ == "__main__":
    command, folder = sys.argv[1:3]
    if command == "write":
        write(Path(folder))
    elif command == "remove":
        (Path(folder) / STAMP_NAME).unlink(missing_ok=True)
    else:
        sys.exit(f"usage: python -m tests.assembly_stamp write|remove <cdk.out>; not {command!r}")
