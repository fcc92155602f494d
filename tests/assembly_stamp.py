"""The stamp `make synth` leaves in cdk.out: a digest of everything the reference app's assembly
is made from, so the test session can read that assembly instead of synthesizing it again.
The test sessions stamp the app runs they make the same way (tests/harness.py ``run_app_once``),
with the app's own folder and its configuration added to the digest.

`make synth` synthesizes the reference app exactly as tests/test_full_synth.py needs it (the CLI:
assets bundled, asset metadata, the built-in validation, the packs as plugins). The stamp holds the
digest of the inputs (the library, refarch/, handlers and layer requirements included; app.py,
cdk.json, cdk.context.json; the two lock files and the aws-cdk-lib, constructs, cdk-nag and jsii
releases installed) and the digest of the assembly's manifest as written: a later `cdk synth` with
other context (an account and region) that rewrites cdk.out leaves a stamp that no longer matches.
The tests reuse cdk.out only when both still match; any edit makes them synthesize on their own.

Imports nothing of aws-cdk-lib: ``python -m tests.assembly_stamp write cdk.out`` stays instant.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAMP_NAME = "refarch-inputs.sha256"
_INPUT_FILES = ("app.py", "cdk.json", "cdk.context.json", "requirements-dev.lock", "package-lock.json")
#: What the assembly is made with as installed: a lock changed without `make setup` is not what runs.
_PACKAGES = ("aws-cdk-lib", "constructs", "cdk-nag", "jsii")


def _inputs() -> list[Path]:
    library = [
        p for p in (ROOT / "refarch").rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]
    return sorted([*library, *(path for name in _INPUT_FILES if (path := ROOT / name).is_file())])


def inputs_digest() -> str:
    """SHA-256 over the path and content of every input of the reference app's assembly, and the
    releases of the packages it is made with."""
    digest = hashlib.sha256()
    for path in _inputs():
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    for package in _PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}".encode() + b"\0")
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


def _assembly_digest(outdir: Path) -> str:
    """The digest of the assembly's manifest (its stacks, environments, artifacts) as written."""
    return hashlib.sha256((outdir / "manifest.json").read_bytes()).hexdigest()


def is_current(outdir: Path, digest: str | None = None) -> bool:
    """True when ``outdir`` holds the assembly stamped with ``digest`` (default: the reference app's, as
    `make synth` stamps it) for the checkout as it is now, and nothing rewrote it since."""
    stamp = outdir / STAMP_NAME
    if not ((outdir / "manifest.json").is_file() and stamp.is_file()):
        return False
    expected = digest if digest is not None else inputs_digest()
    return stamp.read_text().split() == [expected, _assembly_digest(outdir)]


def write(outdir: Path, digest: str | None = None) -> None:
    """Stamp ``outdir`` with ``digest`` (default: the reference app's inputs now) and its manifest's."""
    (outdir / STAMP_NAME).write_text(
        f"{digest if digest is not None else inputs_digest()}\n{_assembly_digest(outdir)}\n"
    )


def main(argv: list[str]) -> int:
    """``digest``: print the inputs' digest; ``write <cdk.out> <digest>``: stamp, unless an input changed
    since ``digest`` was taken (an edit during the synth); ``remove <cdk.out>``."""
    match argv:
        case ["digest"]:
            print(inputs_digest())
        case ["write", folder, taken]:
            if taken != inputs_digest():
                print(f"{folder} not stamped: an input changed during the synth (make test synthesizes again)")
            else:
                write(Path(folder), taken)
        case ["remove", folder]:
            (Path(folder) / STAMP_NAME).unlink(missing_ok=True)
        case _:
            print("usage: python -m tests.assembly_stamp digest | write <cdk.out> <digest> | remove <cdk.out>")
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
