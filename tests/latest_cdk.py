"""The packaging job: build the wheel once, install it as a user would, synthesize: twice.

It proves three promises of pyproject.toml: the built wheel carries everything a user needs; the
library works on the newest aws-cdk-lib, constructs and cdk-nag within the declared ranges (so a new
aws-cdk-lib release that breaks it is seen the day it appears); and it works on the oldest aws-cdk-lib
the range admits. Steps:

1. ``uv build`` of this checkout (the same wheel tests/test_packaging.py inspects);
2. two venvs of their own, each installed in full when what it is meant to hold changes, otherwise only
   the wheel is reinstalled:
   - ``.venv-latest``: the wheel with ``--upgrade --refresh``, which takes the newest releases of its
     dependencies the registry offers; again each day (or with ``REFARCH_REFRESH_LATEST=1``);
   - ``.venv-floor``: the wheel beside the lower bound of its aws-cdk-lib range, pinned as a user's app
     would pin it (constructs and cdk-nag resolved within their ranges);
   both again when the wheel's declared dependencies change;
3. tests/latest_cdk_app.py in each venv: every reference stack, every compliance pack.

The test session runs it in the background (tests/background.py).
``make smoke-latest`` runs it alone: ``python -m tests.latest_cdk [--refresh]``.
"""

from __future__ import annotations

import atexit
import email
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement  # the dev venv's (this module runs there)

ROOT = Path(__file__).resolve().parent.parent
LATEST_VENV = ROOT / ".venv-latest"
FLOOR_VENV = ROOT / ".venv-floor"
#: In each venv: what it was last installed in full for (see :func:`install`).
INSTALLED_FOR = "installed-for"
APP = Path(__file__).resolve().parent / "latest_cdk_app.py"
#: uv (installed by `make setup`): it builds and installs in a second where pip takes ten.
UV = str(Path(sys.executable).parent / "uv")


def _temporary_folder(prefix: str) -> Path:
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, True)
    return Path(folder)


class StepFailed(RuntimeError):
    """A step of the packaging job failed; the message holds its command and output."""


def _run(command: list[str], *, cwd: Path = ROOT) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StepFailed(
            f"`{' '.join(command)}` exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result.stdout


def build_wheel(outdir: Path) -> Path:
    """The wheel of this checkout, built into ``outdir`` as a release would be."""
    _run([UV, "build", "--quiet", "--wheel", "--out-dir", str(outdir), "--python", sys.executable, str(ROOT)])
    (wheel,) = outdir.glob("cdk_refarch-*.whl")
    return wheel


def requirements(wheel: Path) -> list[Requirement]:
    """The dependencies ``wheel`` declares (its ``Requires-Dist``), extras' aside."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(archive.read(name))
    return [r for r in map(Requirement, metadata.get_all("Requires-Dist") or []) if r.marker is None]


def floor_pin(wheel: Path, package: str = "aws-cdk-lib") -> str:
    """``package==<lower bound>`` of the range ``wheel`` declares for ``package``."""
    (requirement,) = [r for r in requirements(wheel) if r.name == package]
    (floor,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    return f"{package}=={floor}"


def install(folder: Path, wheel: Path, *, purpose: str | None, arguments: Sequence[str]) -> Path:
    """Install ``wheel`` into the venv ``folder``; its python. In full (uv ``arguments`` besides the
    wheel) when the venv was last installed for another ``purpose``, with other declared dependencies,
    or when ``purpose`` is None (a refresh asked for); otherwise the wheel alone."""
    python = folder / "bin" / "python"
    folder.mkdir(exist_ok=True)
    wanted = "\n".join([purpose or "(refresh)", *sorted(map(str, requirements(wheel)))])
    uv = [UV, "pip", "install", "--quiet", "--python", str(python)]
    # Two test sessions at once (two terminals): one installs, the other waits.
    with open(folder / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = folder / INSTALLED_FOR
        if purpose is None or not python.exists() or not stamp.exists() or stamp.read_text() != wanted:
            if not python.exists():
                venv.create(folder, with_pip=False)
            _run([*uv, *arguments, str(wheel)])
            stamp.write_text(wanted)
        else:
            _run([*uv, "--no-deps", "--reinstall-package", "cdk-refarch", str(wheel)])
    return python


def install_latest(wheel: Path, *, force_refresh: bool) -> Path:
    """``.venv-latest``: the newest dependencies the registry offers, looked for once a day."""
    today = time.strftime("newest releases on %Y-%m-%d", time.gmtime())
    return install(LATEST_VENV, wheel, purpose=None if force_refresh else today, arguments=["--upgrade", "--refresh"])


def install_floor(wheel: Path) -> Path:
    """``.venv-floor``: the lower bound of the wheel's aws-cdk-lib range, pinned."""
    pin = floor_pin(wheel)
    return install(FLOOR_VENV, wheel, purpose=pin, arguments=[pin])


def synthesize(python: Path, workdir: Path) -> dict[str, Any]:
    """tests/latest_cdk_app.py run by ``python`` (of ``.venv-latest`` or ``.venv-floor``): its JSON report."""
    outdir = workdir / "cdk.out"
    # cwd outside the checkout, so `import refarch` can only find the installed wheel.
    stdout = _run([str(python), str(APP), str(ROOT / "cdk.json"), str(outdir)], cwd=workdir)
    report: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return report


@dataclass
class PackagingJob:
    """The steps, run by :meth:`run` (tests/conftest.py runs it in the background). A failed step is
    recorded, not raised: each smoke test's own, so one that fails does not hide the other."""

    force_refresh: bool = field(default_factory=lambda: os.environ.get("REFARCH_REFRESH_LATEST") == "1")
    workdir: Path = field(default_factory=lambda: _temporary_folder("refarch-packaging-"))
    wheel: Path | None = None
    #: "newest" and "oldest" -> the smoke test's report, or the error that stopped it.
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def run(self) -> PackagingJob:
        start = time.perf_counter()
        try:
            self.wheel = build_wheel(self.workdir / "dist")
        except StepFailed as error:
            self.errors = {label: f"the wheel was not built: {error}" for label in ("wheel", "newest", "oldest")}
        else:
            wheel = self.wheel
            self._smoke("newest", lambda: install_latest(wheel, force_refresh=self.force_refresh))
            self._smoke("oldest", lambda: install_floor(wheel))
        self.seconds = time.perf_counter() - start
        return self

    def _smoke(self, label: str, installed: Callable[[], Path]) -> None:
        workdir = self.workdir / label
        workdir.mkdir()
        try:
            self.reports[label] = report = synthesize(installed(), workdir)
        except StepFailed as error:
            self.errors[label] = str(error)
        else:
            SUMMARY_LINES.append(f"{label}-aws-cdk-lib smoke test: {summary(report)}")

    def built_wheel(self) -> Path:
        if self.wheel is None:
            raise StepFailed(self.errors["wheel"])
        return self.wheel

    def result(self, label: str = "newest") -> dict[str, Any]:
        """The report of the ``"newest"`` or ``"oldest"`` aws-cdk-lib smoke test."""
        if label not in self.reports:
            raise StepFailed(f"the {label}-aws-cdk-lib smoke test did not run to the end: {self.errors[label]}")
        return self.reports[label]


#: Lines for the end of the test session's output (tests/conftest.py prints them).
SUMMARY_LINES: list[str] = []


def summary(report: dict[str, Any]) -> str:
    """One line: the versions the smoke test ran and what it synthesized."""
    versions = ", ".join(f"{name} {version}" for name, version in report["versions"].items())
    return f"{versions}: {len(report['stacks'])} reference stacks, constructs {', '.join(report['constructs_built'])}"


def main(argv: list[str]) -> int:
    job = PackagingJob()
    job.force_refresh = job.force_refresh or "--refresh" in argv
    job.run()
    problems = []
    for label in ("newest", "oldest"):
        try:
            report = job.result(label)
        except StepFailed as error:
            problems.append(str(error))
            continue
        print(f"{label}-aws-cdk-lib smoke test: {summary(report)}")
        problems += report["violations"] + [f"not built: {name}" for name in report["constructs_missing"]]
    print(f"({job.seconds:.0f} s)", "\n".join(problems) if problems else "synthesized clean under every pack")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
