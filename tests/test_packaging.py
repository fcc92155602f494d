"""cdk-refarch as a user installs it: the built wheel, the declared ranges, the lock, and the newest
aws-cdk-lib (tests/latest_cdk.py builds the wheel and runs the smoke test in the background)."""

from __future__ import annotations

import email
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests import latest_cdk
from tests.background import Background
from tests.harness import ROOT
from tests.latest_cdk import PackagingJob, floor_pin, summary

#: Built and run in the background (tests/background.py) when the session starts, among the first.
PACKAGING = PackagingJob()
LONG_BACKGROUND_JOBS = {"packaging": PACKAGING.run}
BACKGROUND_JOBS: dict[str, Callable[[], Any]] = {}

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
LOCK_FILE = ROOT / "requirements-dev.lock"


def locked_versions(lock_text: str) -> dict[str, str]:
    """Package name -> exact version of a lock file written by `make lock-deps`."""
    pins = {}
    for line in lock_text.splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split(" ")[0].split(";")[0].split("==")
            pins[canonicalize_name(name)] = version
    return pins


def declared_requirements() -> list[Requirement]:
    """Every requirement of pyproject.toml: the dependencies and every extra's (the project's own extras aside)."""
    lines = [*PYPROJECT["dependencies"], *(r for extra in PYPROJECT["optional-dependencies"].values() for r in extra)]
    return [r for r in map(Requirement, lines) if canonicalize_name(r.name) != canonicalize_name(PYPROJECT["name"])]


def test_lock_pins_every_declared_requirement_within_its_range() -> None:
    """Fails when pyproject.toml changed without `make lock-deps` (a new dependency, a moved pin)."""
    pins = locked_versions(LOCK_FILE.read_text())
    requirements = declared_requirements()
    assert len(requirements) >= 3 and len(pins) >= len(requirements)
    stale = [
        f"{r}: locked {pins.get(canonicalize_name(r.name), 'nothing')}"
        for r in requirements
        if canonicalize_name(r.name) not in pins or not r.specifier.contains(pins[canonicalize_name(r.name)])
    ]
    assert not stale, "requirements-dev.lock is out of date with pyproject.toml; run `make lock-deps`:\n" + "\n".join(
        stale
    )


def unhashed_pins(lock_text: str) -> list[str]:
    """Pins of a lock file not followed by a ``--hash`` line."""
    lines = lock_text.splitlines()
    return [
        line
        for line, following in zip(lines, [*lines[1:], ""], strict=True)
        if "==" in line and not line.startswith((" ", "#")) and not following.strip().startswith("--hash=sha256:")
    ]


def test_lock_has_a_hash_for_every_pin() -> None:
    """`pip install --require-hashes` (make setup) refuses a pin without one."""
    assert locked_versions(LOCK_FILE.read_text())
    assert not unhashed_pins(LOCK_FILE.read_text())


@pytest.mark.slow
def test_wheel_carries_every_runtime_asset_and_the_license(background: Background) -> None:
    wheel = background.result("packaging", PACKAGING.run).built_wheel()
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    runtime = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "refarch").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc" and p.name != ".keep"
    ]
    assert runtime
    missing = sorted(set(runtime) - names)
    assert not missing, f"files of refarch/ missing from the wheel: {missing}"
    assert "refarch/py.typed" in names
    dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    assert f"{dist_info}/licenses/LICENSE" in names


@pytest.mark.slow
def test_wheel_declares_ranges_not_pins(background: Background) -> None:
    """A user's app on another aws-cdk-lib 2.x release can install the wheel."""
    wheel = background.result("packaging", PACKAGING.run).built_wheel()
    archive = zipfile.ZipFile(wheel)
    metadata_file = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = email.message_from_bytes(archive.read(metadata_file))
    requires = {
        canonicalize_name(r.name): r
        for r in map(Requirement, metadata.get_all("Requires-Dist") or [])
        if r.marker is None
    }
    assert requires["aws-cdk-lib"].specifier.contains(floor_pin(wheel).split("==")[1])
    assert requires["aws-cdk-lib"].specifier.contains("2.999.0"), "aws-cdk-lib is pinned, not a range"
    assert not requires["aws-cdk-lib"].specifier.contains("3.0.0")
    for name in ("constructs", "cdk-nag"):
        assert not any(s.operator == "==" for s in requires[name].specifier), f"{name} is pinned"
    assert metadata["License-Expression"] == "Apache-2.0"
    assert any(c.startswith("Framework :: AWS CDK :: 2") for c in metadata.get_all("Classifier") or [])


@pytest.mark.slow
@pytest.mark.last
def test_newest_aws_cdk_lib_synthesizes_every_reference_stack(background: Background) -> None:
    """The wheel, installed beside the newest aws-cdk-lib/constructs/cdk-nag: every stack, every pack."""
    report = background.result("packaging", PACKAGING.run).result()
    print(f"newest-aws-cdk-lib smoke test: {summary(report)}")
    assert ".venv-latest" in report["refarch_file"], f"refarch came from {report['refarch_file']}, not the wheel"
    assert report["stacks"], "no reference stack was synthesized"
    assert not report["constructs_missing"], f"constructs no reference stack builds: {report['constructs_missing']}"
    assert not report["violations"], "compliance errors on the newest versions:\n" + "\n".join(report["violations"])


@pytest.mark.slow
@pytest.mark.last
def test_oldest_aws_cdk_lib_in_the_range_synthesizes_every_reference_stack(background: Background) -> None:
    """The wheel in an app that pins the oldest aws-cdk-lib pyproject.toml admits (not the locked one):
    it installs, and every reference stack and construct synthesizes clean under every pack."""
    job = background.result("packaging", PACKAGING.run)
    report = job.result("oldest")
    assert ".venv-floor" in report["refarch_file"], f"refarch came from {report['refarch_file']}, not the wheel"
    floor = floor_pin(job.built_wheel()).split("==")[1]
    assert report["versions"]["aws-cdk-lib"] == floor
    assert floor != locked_versions(LOCK_FILE.read_text())["aws-cdk-lib"], "the floor is the locked release"
    assert report["stacks"], "no reference stack was synthesized"
    assert not report["constructs_missing"], f"constructs no reference stack builds: {report['constructs_missing']}"
    assert not report["violations"], f"compliance errors on aws-cdk-lib {floor}:\n" + "\n".join(report["violations"])


def test_the_lock_readers() -> None:
    text = "# header\naws-cdk-lib==2.275.0 \\\n    --hash=sha256:00\ncolorama==0.4.6 ; sys_platform == 'win32' \\\n"
    assert locked_versions(text) == {"aws-cdk-lib": "2.275.0", "colorama": "0.4.6"}
    assert unhashed_pins(text) == ["colorama==0.4.6 ; sys_platform == 'win32' \\"]


def test_declared_requirements_cover_dependencies_and_extras() -> None:
    names = {canonicalize_name(r.name) for r in declared_requirements()}
    assert {"aws-cdk-lib", "constructs", "cdk-nag", "pillow", "pytest"} <= names
    assert "cdk-refarch" not in names


def test_one_install_instruction_everywhere() -> None:
    """README and every example's docstring tell a user the same thing."""
    documents = [ROOT / "README.md", *sorted((ROOT / "examples").glob("*/app.py"))]
    instructions = {
        (doc.relative_to(ROOT).as_posix(), line.strip())
        for doc in documents
        for line in doc.read_text().splitlines()
        if "pip install" in line and "cdk-refarch" in line
    }
    assert len({doc for doc, _ in instructions}) == len(documents), f"a document gives no instruction: {instructions}"
    assert {line.removeprefix("$ ").split("#")[0].strip() for _, line in instructions} == {"pip install cdk-refarch"}


def import_first(module: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True)


BACKGROUND_JOBS["import refarch.stacks first"] = lambda: import_first("refarch.stacks")


@pytest.mark.slow
def test_any_module_can_be_imported_first(background: Background) -> None:
    """refarch loads its constructs lazily; entering the compliance <-> constructs import cycle from
    the compliance side once failed ("cannot import name 'guard_region'")."""
    result = background.result("import refarch.stacks first", BACKGROUND_JOBS["import refarch.stacks first"])
    assert result.returncode == 0, result.stderr[-2000:]


def _fake_wheel(folder: Path, *requires: str) -> Path:
    wheel = folder / "cdk_refarch-0.1.0-py3-none-any.whl"
    metadata = "Metadata-Version: 2.4\nName: cdk-refarch\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("cdk_refarch-0.1.0.dist-info/METADATA", metadata)
    return wheel


def test_a_venv_is_installed_in_full_when_its_purpose_or_the_declared_dependencies_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []
    monkeypatch.setattr(latest_cdk, "_run", lambda command, **_: commands.append(command) or "")

    def create(folder: Path, **_: Any) -> None:
        (folder / "bin").mkdir(parents=True)
        (folder / "bin" / "python").touch()

    monkeypatch.setattr(latest_cdk.venv, "create", create)
    wheel = _fake_wheel(tmp_path, "aws-cdk-lib>=2.274.0,<3", "constructs>=10.4.2,<11")
    venv_folder = tmp_path / "venv"

    def full() -> bool:
        return "--no-deps" not in commands[-1]

    assert latest_cdk.floor_pin(wheel) == "aws-cdk-lib==2.274.0"
    latest_cdk.install(venv_folder, wheel, purpose="aws-cdk-lib==2.274.0", arguments=["aws-cdk-lib==2.274.0"])
    assert full() and commands[-1][-2:] == ["aws-cdk-lib==2.274.0", str(wheel)]
    latest_cdk.install(venv_folder, wheel, purpose="aws-cdk-lib==2.274.0", arguments=["aws-cdk-lib==2.274.0"])
    assert not full(), "the same purpose and dependencies: the wheel alone"
    latest_cdk.install(venv_folder, wheel, purpose="aws-cdk-lib==2.280.0", arguments=["aws-cdk-lib==2.280.0"])
    assert full(), "a new floor"
    wheel = _fake_wheel(tmp_path, "aws-cdk-lib>=2.274.0,<3", "constructs>=10.4.2,<11", "pyyaml>=6")
    latest_cdk.install(venv_folder, wheel, purpose="aws-cdk-lib==2.280.0", arguments=["aws-cdk-lib==2.280.0"])
    assert full(), "a new dependency must reach the venv"
    latest_cdk.install(venv_folder, wheel, purpose=None, arguments=["--upgrade"])
    assert full(), "a refresh asked for"


def test_a_failed_smoke_test_does_not_hide_the_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(wheel: Path, **_: Any) -> Path:
        raise latest_cdk.StepFailed("the registry is not reachable")

    monkeypatch.setattr(latest_cdk, "build_wheel", lambda outdir: tmp_path / "refarch.whl")
    monkeypatch.setattr(latest_cdk, "install_latest", offline)
    monkeypatch.setattr(latest_cdk, "install_floor", lambda wheel: tmp_path / "python")
    report = {"versions": {"aws-cdk-lib": "2.274.0"}, "stacks": ["S"], "constructs_built": ["C"]}
    monkeypatch.setattr(latest_cdk, "synthesize", lambda python, workdir: {**report, "python": str(python)})
    monkeypatch.setattr(latest_cdk, "SUMMARY_LINES", [])  # not the session's
    job = PackagingJob(workdir=tmp_path).run()
    assert job.result("oldest")["python"] == str(tmp_path / "python")
    assert latest_cdk.SUMMARY_LINES == [
        "oldest-aws-cdk-lib smoke test: aws-cdk-lib 2.274.0: 1 reference stacks, constructs C"
    ]
    with pytest.raises(latest_cdk.StepFailed, match="registry is not reachable"):
        job.result("newest")
