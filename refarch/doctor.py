"""``python -m refarch doctor``: can this machine and this app synthesize cdk-refarch's constructs?

Each check says what it found and, when something is wrong, exactly how to fix it:

- **node**: the Node.js that jsii runs aws-cdk-lib on (``JSII_NODE``, else ``node`` on ``PATH``).
  An end-of-life Node prints a warning banner on every synth and is slower; jsii may drop it.
- **cdk-cli**: the CDK CLI (``node_modules/.bin/cdk`` of the app, else ``cdk`` on ``PATH``) can
  read the cloud-assembly schema this aws-cdk-lib writes. The CLI's 3.x line and old 2.x
  releases reject newer schemas ("Maximum schema version supported is ...").
- **feature-flags**: the app's ``cdk.json`` sets the feature flags the constructs rely on
  (:data:`REQUIRED_FEATURE_FLAGS`). A bare ``cdk.App()`` has none of them.
- **bundling**: the Lambda layers' dependencies can be fetched as Lambda-platform wheels by
  ``pip``, with no Docker engine (what ``refarch.constructs._bundling`` does at synth).

None of the checks imports aws-cdk-lib, so the doctor also runs where jsii cannot start.
The exit code is 1 when a check has a finding, 0 otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from refarch.feature_flags import REQUIRED_FLAGS

#: Feature flags the app's cdk.json should set (the one table, shared with the constructs).
REQUIRED_FEATURE_FLAGS: dict[str, tuple[object, str]] = REQUIRED_FLAGS

#: The oldest Node major release the doctor accepts; older ones are end-of-life for jsii.
MINIMUM_NODE_MAJOR = 22

#: End of life of Node.js release lines (nodejs.org release schedule). A line past its date is
#: a finding; lines not listed are newer than this table and accepted.
NODE_END_OF_LIFE: dict[int, datetime.date] = {
    22: datetime.date(2027, 4, 30),
    23: datetime.date(2025, 6, 1),
    24: datetime.date(2028, 4, 30),
    25: datetime.date(2026, 6, 1),
    26: datetime.date(2029, 4, 30),
}

NODE_FIX = (
    "install Node 24 beside your app and point jsii at it:\n"
    "    npm install node@24\n"
    '    export JSII_NODE="$PWD/node_modules/.bin/node"'
)
CLI_FIX = (
    "install a CDK CLI of the 2.x line in your app (the newest 2.x reads every schema an aws-cdk-lib 2.x writes; "
    "the 3.x line does not):\n"
    "    npm install aws-cdk@2\n"
    "    npx cdk --version"
)
BUNDLING_FIX = (
    "let pip reach your package index (PyPI, or set PIP_INDEX_URL to your mirror): the Lambda layers are "
    "built with `pip install --platform manylinux... --only-binary=:all:`; without it, CDK falls back to Docker"
)

#: Where the Lambda layers' requirement files live (inside the installed package).
LAYERS_DIR = Path(__file__).resolve().parent / "runtime" / "layers"

#: The wheel platform the bundling probe asks pip for (the Lambda x86_64 platform).
PROBE_PLATFORM = "manylinux2014_x86_64"

_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: what it found and, for a finding, how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


Runner = Callable[[Sequence[str], Mapping[str, str], Path], "subprocess.CompletedProcess[str]"]


def run_command(command: Sequence[str], env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``command`` and capture its output; a missing or hanging program is a failed run."""
    try:
        return subprocess.run(
            list(command),
            env=dict(env),
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return subprocess.CompletedProcess(list(command), 127, "", str(error))


def check_node(env: Mapping[str, str], *, today: datetime.date | None = None) -> CheckResult:
    """The Node.js jsii will run: ``JSII_NODE`` if set, else ``node`` on ``PATH``."""
    jsii_node = env.get("JSII_NODE")
    if jsii_node:
        node, source = jsii_node, "JSII_NODE"
        if not (os.path.isfile(node) and os.access(node, os.X_OK)):
            return CheckResult("node", False, f"JSII_NODE={node} is not an executable file", NODE_FIX)
    else:
        found = shutil.which("node", path=env.get("PATH", ""))
        if found is None:
            return CheckResult("node", False, "no Node.js: JSII_NODE is unset and no `node` on PATH", NODE_FIX)
        node, source = found, "PATH, JSII_NODE unset"
    result = run_command([node, "--version"], env, Path.cwd())
    version = result.stdout.strip()
    match = re.fullmatch(r"v(\d+)\.\d+\.\d+", version)
    if result.returncode != 0 or match is None:
        return CheckResult("node", False, f"`{node} --version` failed: {result.stderr.strip() or version!r}", NODE_FIX)
    major = int(match.group(1))
    found_at = f"Node {version} at {node} ({source})"
    end_of_life = NODE_END_OF_LIFE.get(major)
    if major < MINIMUM_NODE_MAJOR:
        return CheckResult("node", False, f"{found_at}: older than Node {MINIMUM_NODE_MAJOR}, end-of-life", NODE_FIX)
    if end_of_life is not None and (today or datetime.date.today()) > end_of_life:
        return CheckResult("node", False, f"{found_at}: end-of-life since {end_of_life}", NODE_FIX)
    return CheckResult("node", True, found_at)


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def cloud_assembly_schema_major() -> int | None:
    """The major version of the cloud-assembly schema the installed aws-cdk-lib writes.

    aws-cdk-lib depends on the ``aws-cdk.cloud-assembly-schema`` package, whose major version is
    the schema's (55.x writes manifests of version 55.0.0); read without importing aws-cdk-lib.
    """
    version = installed_version("aws-cdk.cloud-assembly-schema")
    return int(version.split(".")[0]) if version else None


def find_cdk_cli(app_dir: Path, env: Mapping[str, str]) -> str | None:
    """The CDK CLI ``npx cdk`` would run: the app's ``node_modules/.bin/cdk``, else ``cdk`` on PATH."""
    local = app_dir / "node_modules" / ".bin" / "cdk"
    if local.is_file():
        return str(local)
    return shutil.which("cdk", path=env.get("PATH", ""))


def _probe_manifest(schema: int) -> dict[str, object]:
    stack = {
        "type": "aws:cloudformation:stack",
        "environment": "aws://unknown-account/unknown-region",
        "properties": {"templateFile": "DoctorProbe.template.json"},
    }
    return {"version": f"{schema}.0.0", "artifacts": {"DoctorProbe": stack}}


def check_cdk_cli(app_dir: Path, env: Mapping[str, str], *, run: Runner = run_command) -> CheckResult:
    """The CDK CLI reads the schema this aws-cdk-lib writes: ``cdk ls`` on an empty assembly of it."""
    schema = cloud_assembly_schema_major()
    if schema is None:
        return CheckResult("cdk-cli", False, "aws-cdk-lib is not installed", "pip install cdk-refarch")
    cli = find_cdk_cli(app_dir, env)
    if cli is None:
        return CheckResult("cdk-cli", False, "no CDK CLI: neither node_modules/.bin/cdk nor `cdk` on PATH", CLI_FIX)
    version_run = run([cli, "--version"], env, app_dir)
    version = version_run.stdout.strip().split(" ")[0] or "(unknown version)"
    if version_run.returncode != 0:
        detail = f"`{cli} --version` failed: {version_run.stderr.strip()[-300:]}"
        return CheckResult("cdk-cli", False, detail, CLI_FIX)
    with tempfile.TemporaryDirectory(prefix="refarch-doctor-") as work:
        # A one-stack cloud assembly of the schema version aws-cdk-lib writes: the CLI checks the
        # manifest's version before anything else, exactly as on a real `cdk deploy`.
        assembly = Path(work) / "cdk.out"
        assembly.mkdir()
        (assembly / "manifest.json").write_text(json.dumps(_probe_manifest(schema)))
        (assembly / "DoctorProbe.template.json").write_text('{"Resources": {}}')
        probe_env = {**env, "CDK_DISABLE_CLI_TELEMETRY": "true"}
        probe = run([cli, "ls", "--app", str(assembly), "--no-notices"], probe_env, Path(work))
    found = f"CDK CLI {version} at {cli}; aws-cdk-lib writes cloud-assembly schema {schema}"
    if probe.returncode != 0:
        said = (probe.stderr or probe.stdout).strip().splitlines()
        return CheckResult("cdk-cli", False, f"{found}, which the CLI rejects: {said[-1] if said else ''}", CLI_FIX)
    return CheckResult("cdk-cli", True, f"{found}, which the CLI reads")


def check_feature_flags(app_dir: Path, flags: Mapping[str, tuple[object, str]] = REQUIRED_FEATURE_FLAGS) -> CheckResult:
    """The app's ``cdk.json`` sets every flag of ``flags`` to the value the constructs need."""
    config_file = app_dir / "cdk.json"
    add = ",\n".join(f"        {json.dumps(flag)}: {json.dumps(value)}" for flag, (value, _) in flags.items())
    fix = f'add to the "context" object of {config_file}:\n{add}'
    if not config_file.is_file():
        detail = f"no cdk.json in {app_dir} (run the doctor in your app's folder, or pass --app-dir)"
        return CheckResult("feature-flags", False, detail, fix)
    try:
        context = json.loads(config_file.read_text()).get("context", {})
    except (json.JSONDecodeError, AttributeError) as error:
        return CheckResult("feature-flags", False, f"{config_file} is not a JSON object: {error}", fix)
    wrong = [
        f"{flag} is {json.dumps(context[flag]) if flag in context else 'unset'}, needs {json.dumps(value)}: {why}"
        for flag, (value, why) in flags.items()
        if context.get(flag) != value
    ]
    if wrong:
        return CheckResult("feature-flags", False, f"{config_file}:\n" + "\n".join(wrong), fix)
    return CheckResult("feature-flags", True, f"{config_file} sets the {len(flags)} flag(s) the constructs need")


def check_bundling(env: Mapping[str, str], *, run: Runner = run_command) -> CheckResult:
    """pip can fetch a layer's requirements as Lambda-platform wheels (no Docker needed)."""
    requirements = sorted(LAYERS_DIR.glob("*.txt"), key=lambda p: p.stat().st_size)
    if not requirements:
        return CheckResult("bundling", False, f"no layer requirements in {LAYERS_DIR}", "reinstall cdk-refarch")
    with tempfile.TemporaryDirectory(prefix="refarch-doctor-") as work:
        command = [
            sys.executable,
            *("-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps"),
            *("--only-binary=:all:", "--platform", PROBE_PLATFORM, "--dest", work),
            *("-r", str(requirements[0])),
        ]
        result = run(command, env, Path(work))
        fetched = sorted(p.name for p in Path(work).glob("*.whl"))
    if result.returncode != 0 or not fetched:
        said = (result.stderr or result.stdout).strip().splitlines()
        detail = f"`pip download --platform {PROBE_PLATFORM}` of {requirements[0].name} failed: "
        return CheckResult("bundling", False, detail + (said[-1] if said else "no wheel"), BUNDLING_FIX)
    return CheckResult("bundling", True, f"pip fetched {PROBE_PLATFORM} wheels without Docker: {', '.join(fetched)}")


def run_checks(app_dir: Path, env: Mapping[str, str]) -> list[CheckResult]:
    """Every check, in the order a user fixes them."""
    return [check_node(env), check_cdk_cli(app_dir, env), check_feature_flags(app_dir), check_bundling(env)]


def versions_line() -> str:
    names = ("cdk-refarch", "aws-cdk-lib", "constructs", "cdk-nag")
    found = ", ".join(f"{name} {installed_version(name) or 'not installed'}" for name in names)
    return f"{found}, Python {sys.version.split()[0]}"


def report(results: Sequence[CheckResult]) -> str:
    """The human-readable report: one line per check, each finding followed by its fix."""
    lines = []
    for result in results:
        detail_lines = result.detail.splitlines()
        lines.append(f"{'ok  ' if result.ok else 'FAIL'}  {result.name}: {detail_lines[0]}")
        lines += [f"        {line}" for line in detail_lines[1:]]
        if not result.ok:
            first, *rest = result.fix.splitlines()
            lines += [f"      fix: {first}", *(f"      {line}" for line in rest)]
    findings = sum(not r.ok for r in results)
    lines.append(f"{findings} finding(s)." if findings else "No findings: this set-up synthesizes cdk-refarch.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m refarch doctor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-dir", type=Path, default=Path.cwd(), help="your CDK app's folder (default: here)")
    args = parser.parse_args(argv)
    results = run_checks(args.app_dir.resolve(), os.environ)
    print(f"cdk-refarch doctor ({versions_line()})")
    print(report(results))
    return 0 if all(r.ok for r in results) else 1
