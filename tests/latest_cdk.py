"""The packaging job: build the wheel once, install it beside the newest aws-cdk-lib, synthesize.

It proves two promises of pyproject.toml: the built wheel carries everything a user needs, and
the library works on the newest aws-cdk-lib, constructs and cdk-nag within the declared ranges, so
a new aws-cdk-lib release that breaks it is seen the day it appears. Steps:

1. ``uv build`` of this checkout (the same wheel tests/test_packaging.py inspects);
2. ``.venv-latest``: a venv of its own, cached; once a day (or with ``REFARCH_REFRESH_LATEST=1``)
   the wheel is installed there with ``--upgrade --upgrade-strategy eager``, which takes the newest
   releases of its dependencies the registry offers; otherwise only the wheel is reinstalled;
3. tests/latest_cdk_app.py in that venv: every reference stack, every compliance pack;
4. the same in ``.venv-floor``: the wheel beside the oldest aws-cdk-lib pyproject.toml admits (its
   lower bound, pinned as a user's app would pin it; constructs and cdk-nag resolved within their
   ranges), installed once per floor, so the range's lower end is proven as well as its upper end.

The test session runs it in the background (tests/background.py), so its subprocesses use the
second core while pytest runs the in-process tests.
``make smoke-latest`` runs it alone: ``python -m tests.latest_cdk [--refresh]``.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

ROOT = Path(__file__).resolve().parent.parent
LATEST_VENV = ROOT / ".venv-latest"
#: Written after each refresh; its age decides the next one.
REFRESH_STAMP = LATEST_VENV / "refreshed-at"
REFRESH_AFTER_SECONDS = 24 * 3600
APP = Path(__file__).resolve().parent / "latest_cdk_app.py"
FLOOR_VENV = ROOT / ".venv-floor"
#: The pin ``.venv-floor`` was installed with; a new floor in pyproject.toml installs again.
FLOOR_STAMP = FLOOR_VENV / "installed-pin"
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


def needs_refresh(*, force: bool) -> bool:
    """True when ``.venv-latest`` is missing, older than a day, or a refresh is asked for."""
    if force or not REFRESH_STAMP.exists():
        return True
    return time.time() - REFRESH_STAMP.stat().st_mtime > REFRESH_AFTER_SECONDS


def install_latest(wheel: Path, *, force_refresh: bool) -> Path:
    """Install ``wheel`` into ``.venv-latest`` (with the newest dependencies when refreshing); its python."""
    python = LATEST_VENV / "bin" / "python"
    LATEST_VENV.mkdir(exist_ok=True)
    install = [UV, "pip", "install", "--quiet", "--python", str(python)]
    # Two test sessions at once (two terminals): one installs, the other waits.
    with open(LATEST_VENV / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if needs_refresh(force=force_refresh):
            if not python.exists():
                venv.create(LATEST_VENV, with_pip=False)
            # --upgrade: the newest release of every dependency within the wheel's declared ranges.
            _run([*install, "--upgrade", "--refresh", str(wheel)])
            REFRESH_STAMP.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))
        else:
            _run([*install, "--no-deps", "--reinstall-package", "cdk-refarch", str(wheel)])
    return python


def declared_floor(package: str = "aws-cdk-lib") -> str:
    """``package==<lower bound>`` of the range pyproject.toml declares for ``package``."""
    from packaging.requirements import Requirement  # the dev venv's (tests only)

    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (requirement,) = [r for r in map(Requirement, dependencies) if r.name == package]
    (floor,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    return f"{package}=={floor}"


def install_floor(wheel: Path) -> Path:
    """Install ``wheel`` into ``.venv-floor`` beside the declared floor of aws-cdk-lib; its python."""
    python = FLOOR_VENV / "bin" / "python"
    pin = declared_floor()
    FLOOR_VENV.mkdir(exist_ok=True)
    install = [UV, "pip", "install", "--quiet", "--python", str(python)]
    with open(FLOOR_VENV / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not python.exists() or not FLOOR_STAMP.exists() or FLOOR_STAMP.read_text().strip() != pin:
            if not python.exists():
                venv.create(FLOOR_VENV, with_pip=False)
            _run([*install, str(wheel), pin])
            FLOOR_STAMP.write_text(pin + "\n")
        else:
            _run([*install, "--no-deps", "--reinstall-package", "cdk-refarch", str(wheel)])
    return python


def synthesize(python: Path, workdir: Path) -> dict[str, Any]:
    """tests/latest_cdk_app.py in ``.venv-latest``: its JSON report."""
    outdir = workdir / "cdk.out"
    # cwd outside the checkout, so `import refarch` can only find the installed wheel.
    stdout = _run([str(python), str(APP), str(ROOT / "cdk.json"), str(outdir)], cwd=workdir)
    report: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return report


@dataclass
class PackagingJob:
    """The three steps, run by :meth:`run` (tests/conftest.py runs it in the background)."""

    force_refresh: bool = field(default_factory=lambda: os.environ.get("REFARCH_REFRESH_LATEST") == "1")
    workdir: Path = field(default_factory=lambda: _temporary_folder("refarch-packaging-"))
    wheel: Path | None = None
    report: dict[str, Any] | None = None
    floor_report: dict[str, Any] | None = None
    error: str | None = None
    seconds: float = 0.0

    def run(self) -> PackagingJob:
        """Build, install, synthesize; a failed step is recorded in :attr:`error`, not raised."""
        start = time.perf_counter()
        try:
            self.wheel = build_wheel(self.workdir / "dist")
            python = install_latest(self.wheel, force_refresh=self.force_refresh)
            self.report = synthesize(python, self.workdir)
            SUMMARY_LINES.append(f"newest-aws-cdk-lib smoke test: {summary(self.report)}")
            floor = self.workdir / "floor"
            floor.mkdir(exist_ok=True)
            self.floor_report = synthesize(install_floor(self.wheel), floor)
            SUMMARY_LINES.append(f"oldest-aws-cdk-lib smoke test: {summary(self.floor_report)}")
        except StepFailed as error:
            self.error = str(error)
        finally:
            self.seconds = time.perf_counter() - start
        return self

    def built_wheel(self) -> Path:
        if self.wheel is None:
            raise StepFailed(f"the wheel was not built: {self.error}")
        return self.wheel

    def result(self) -> dict[str, Any]:
        if self.report is None:
            raise StepFailed(f"the newest-aws-cdk-lib smoke test did not run to the end: {self.error}")
        return self.report

    def floor_result(self) -> dict[str, Any]:
        if self.floor_report is None:
            raise StepFailed(f"the oldest-aws-cdk-lib smoke test did not run to the end: {self.error}")
        return self.floor_report


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
    for label, read in (("newest", job.result), ("oldest", job.floor_result)):
        try:
            report = read()
        except StepFailed as error:
            print(error, file=sys.stderr)
            return 1
        print(f"{label}-aws-cdk-lib smoke test: {summary(report)}")
        problems += report["violations"] + [f"not built: {name}" for name in report["constructs_missing"]]
    print(f"({job.seconds:.0f} s)", "\n".join(problems) if problems else "synthesized clean under every pack")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
