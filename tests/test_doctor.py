"""``python -m refarch doctor``: each check on a faked broken machine or app, and the real set-up passing."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from refarch import doctor
from tests.background import Background
from tests.harness import ROOT

NODE_24 = ROOT / "node_modules" / ".bin" / "node"
FLAG = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


def fake_program(folder: Path, name: str, script: str) -> Path:
    """An executable ``folder/name`` running the shell ``script``."""
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / name
    program.write_text(f"#!/bin/sh\n{script}\n")
    program.chmod(0o755)
    return program


def real_environment() -> dict[str, str]:
    """This repository's set-up, as the Makefile gives it: Node 24 and the pinned CDK CLI."""
    return {
        **os.environ,
        "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
        "JSII_NODE": str(NODE_24),
    }


# --- node ---------------------------------------------------------------------------------------


def test_node_20_on_path_is_a_finding_with_the_fix(tmp_path: Path) -> None:
    fake_program(tmp_path, "node", "echo v20.20.2")
    result = doctor.check_node({"PATH": str(tmp_path)})
    assert not result.ok
    assert "Node v20.20.2" in result.detail and "end-of-life" in result.detail
    assert "npm install node@24" in result.fix and "export JSII_NODE=" in result.fix


def test_jsii_node_wins_over_path(tmp_path: Path) -> None:
    fake_program(tmp_path / "path", "node", "echo v24.21.0")
    old = fake_program(tmp_path / "jsii", "node", "echo v18.20.0")
    result = doctor.check_node({"PATH": str(tmp_path / "path"), "JSII_NODE": str(old)})
    assert not result.ok and f"at {old} (JSII_NODE)" in result.detail


def test_jsii_node_that_does_not_exist(tmp_path: Path) -> None:
    result = doctor.check_node({"PATH": "", "JSII_NODE": str(tmp_path / "nothing")})
    assert not result.ok and "is not an executable file" in result.detail


def test_no_node_at_all(tmp_path: Path) -> None:
    result = doctor.check_node({"PATH": str(tmp_path)})
    assert not result.ok and "no Node.js" in result.detail


def test_a_supported_line_passes_until_its_end_of_life(tmp_path: Path) -> None:
    fake_program(tmp_path, "node", "echo v22.3.0")
    env = {"PATH": str(tmp_path)}
    assert doctor.check_node(env, today=datetime.date(2027, 4, 30)).ok
    late = doctor.check_node(env, today=datetime.date(2027, 5, 1))
    assert not late.ok and "end-of-life since 2027-04-30" in late.detail


def test_the_pinned_node_passes() -> None:
    result = doctor.check_node({"PATH": "", "JSII_NODE": str(NODE_24)})
    assert result.ok, result.detail


# --- CDK CLI ------------------------------------------------------------------------------------


def test_a_cli_that_rejects_the_schema_is_a_finding(tmp_path: Path) -> None:
    """What CLI 3.0.0 answers for this aws-cdk-lib's schema (measured, /work/shared/FINDINGS.md)."""
    fake_program(
        tmp_path / "bin",
        "cdk",
        'case "$1" in --version) echo "3.0.0 (build 1a2b3c4)";; '
        '*) echo "Maximum schema version supported is 43.x.x, but found 55.0.0" >&2; exit 1;; esac',
    )
    result = doctor.check_cdk_cli(tmp_path, {"PATH": str(tmp_path / "bin")})
    assert not result.ok
    assert "CDK CLI 3.0.0" in result.detail and "schema 55" in result.detail
    assert "Maximum schema version supported is 43.x.x" in result.detail
    assert "npm install aws-cdk@2" in result.fix


def test_the_app_local_cli_is_preferred(tmp_path: Path) -> None:
    local = fake_program(tmp_path / "node_modules" / ".bin", "cdk", "echo 2.1148.1")
    fake_program(tmp_path / "global", "cdk", "exit 1")
    assert doctor.find_cdk_cli(tmp_path, {"PATH": str(tmp_path / "global")}) == str(local)


def test_no_cli_is_a_finding(tmp_path: Path) -> None:
    result = doctor.check_cdk_cli(tmp_path, {"PATH": str(tmp_path)})
    assert not result.ok and "no CDK CLI" in result.detail


def test_the_probe_assembly_carries_the_schema_version() -> None:
    """The CLI reads the manifest's version first; the probe writes the one aws-cdk-lib writes."""
    schema = doctor.cloud_assembly_schema_major()
    assert schema is not None and schema >= 55
    manifest = doctor._probe_manifest(schema)
    assert manifest["version"] == f"{schema}.0.0"


# --- feature flags ------------------------------------------------------------------------------


def test_cdk_json_without_the_flags_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "python3 app.py", "context": {}}))
    result = doctor.check_feature_flags(tmp_path)
    assert not result.ok
    assert f"{FLAG} is unset, needs true" in result.detail
    assert f'"{FLAG}": true' in result.fix


def test_a_flag_set_to_the_wrong_value_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {FLAG: False}}))
    result = doctor.check_feature_flags(tmp_path)
    assert not result.ok and f"{FLAG} is false, needs true" in result.detail


def test_no_cdk_json_is_a_finding(tmp_path: Path) -> None:
    result = doctor.check_feature_flags(tmp_path)
    assert not result.ok and "no cdk.json" in result.detail


@pytest.mark.parametrize("app_dir", [ROOT, *sorted(p.parent for p in (ROOT / "examples").glob("*/cdk.json"))])
def test_the_reference_app_and_every_example_set_the_flags(app_dir: Path) -> None:
    result = doctor.check_feature_flags(app_dir)
    assert result.ok, result.detail


def test_the_flag_list_is_the_one_the_constructs_need() -> None:
    assert FLAG in doctor.REQUIRED_FEATURE_FLAGS
    assert all(value is True or value is False for value, _ in doctor.REQUIRED_FEATURE_FLAGS.values())


# --- bundling -----------------------------------------------------------------------------------


def test_pip_that_cannot_reach_an_index_is_a_finding() -> None:
    def offline(command: Sequence[str], env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(list(command), 1, "", "ERROR: Could not find a version that satisfies")

    result = doctor.check_bundling({}, run=offline)
    assert not result.ok and "Could not find a version" in result.detail
    assert "PIP_INDEX_URL" in result.fix


def test_the_bundling_probe_asks_for_lambda_platform_wheels_only() -> None:
    seen: list[list[str]] = []

    def record(command: Sequence[str], env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
        seen.append(list(command))
        return subprocess.CompletedProcess(list(command), 0, "", "")

    result = doctor.check_bundling({}, run=record)
    (command,) = seen
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    assert "--only-binary=:all:" in command and command[command.index("--platform") + 1] == "manylinux2014_x86_64"
    assert not result.ok, "a pip run that fetched no wheel must not pass"


# --- the command, end to end --------------------------------------------------------------------


def run_doctor(app_dir: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refarch", "doctor", "--app-dir", str(app_dir)],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def doctor_on_a_machine_with_node_20_and_an_app_without_the_flags() -> subprocess.CompletedProcess[str]:
    folder = Path(tempfile.mkdtemp(prefix="refarch-doctor-test-"))
    fake_program(folder / "bin", "node", "echo v20.20.2")
    (folder / "app").mkdir()
    (folder / "app" / "cdk.json").write_text(json.dumps({"app": "python3 app.py"}))
    env = {k: v for k, v in real_environment().items() if k != "JSII_NODE"}
    env["PATH"] = f"{folder / 'bin'}{os.pathsep}{env['PATH']}"
    env["PIP_NO_INDEX"] = "1"  # and no package index: bundling fails too, fast
    try:
        return run_doctor(folder / "app", env)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_a_machine_with_node_20_and_an_app_without_the_flags(background: Background) -> None:
    result = background.result("doctor on a bad set-up", BACKGROUND_JOBS["doctor on a bad set-up"])
    assert result.returncode == 1, result.stdout + result.stderr
    for name in ("node", "feature-flags", "bundling"):
        assert f"FAIL  {name}:" in result.stdout, result.stdout
    assert "npm install node@24" in result.stdout and FLAG in result.stdout


#: The real set-up's check waits on the network (pip): it runs in the background (tests/background.py).
BACKGROUND_JOBS = {
    "doctor on the real set-up": lambda: run_doctor(ROOT, real_environment()),
    "doctor on a bad set-up": doctor_on_a_machine_with_node_20_and_an_app_without_the_flags,
}


@pytest.mark.slow
def test_the_real_set_up_passes(background: Background) -> None:
    result = background.result("doctor on the real set-up", BACKGROUND_JOBS["doctor on the real set-up"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok    ") == 4 and "No findings" in result.stdout


def test_the_doctor_does_not_import_aws_cdk_lib() -> None:
    """It must run where jsii cannot start (no Node, a broken one): `python -m refarch` stays light."""
    code = "import sys, refarch.__main__, refarch.doctor; print('aws_cdk' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_an_unknown_command_prints_the_usage() -> None:
    result = subprocess.run([sys.executable, "-m", "refarch"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "python -m refarch doctor" in result.stderr
