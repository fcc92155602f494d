"""The test harness: Apps with the project's flags, and each reference stack synthesized once.

Import from here in tests (``from tests.harness import new_app, synth``); the fixtures that
wrap it are in conftest.py.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# jsii starts its Node process on the first aws_cdk import: point it at the pinned Node 24
# (package.json) before that, unless the caller chose one (the Makefile does the same).
_PINNED_NODE = ROOT / "node_modules" / ".bin" / "node"
if "JSII_NODE" not in os.environ and _PINNED_NODE.exists():
    os.environ["JSII_NODE"] = str(_PINNED_NODE)

import aws_cdk as cdk  # noqa: E402
import pytest  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from refarch.errors import PropValidationError  # noqa: E402
from refarch.stacks import REFERENCE_STACKS  # noqa: E402
from refarch.testing.assembly import SynthesizedTemplate, from_assembly, from_stack  # noqa: E402
from tests import assembly_stamp  # noqa: E402
from tests.background import BACKGROUND, Background  # noqa: E402

#: The feature flags of cdk.json, so tests synthesize exactly what `cdk synth` does.
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]

#: Unit-test synths skip asset bundling (pip installs for Lambda layers): assets are still
#: referenced in the templates, with the hash of their source. tests/test_full_synth.py
#: bundles for real, once.
UNIT_TEST_CONTEXT = {**CDK_CONTEXT, "aws:cdk:bundling-stacks": []}


def new_app(**context: Any) -> cdk.App:
    """An App for unit tests: the project's feature flags, no bundling, and no built-in
    CloudFormation validation (3.5 s per synth; tests/test_full_synth.py runs it once)."""
    return cdk.App(context={**UNIT_TEST_CONTEXT, **context}, builtin_cloud_formation_validation=False)


@dataclass
class SynthesizedStack:
    stack: cdk.Stack
    template: Template

    @functools.cached_property
    def json(self) -> dict[str, Any]:
        """The template, read from the jsii side once (each ``to_json()`` copies the whole template
        across the process boundary: 25 ms for a reference stack). Shared by every test of the stack:
        a test that edits it edits a ``copy.deepcopy``."""
        return self.template.to_json()  # type: ignore[no-any-return]

    @property
    def output(self) -> SynthesizedTemplate:
        """The template and contract declarations as the cloud assembly holds them (the deploy
        checks read this). Reuses the assembly the template came from: no second synth."""
        return from_stack(self.stack)

    def resources(self, type_: str) -> dict[str, Any]:
        """Logical ID -> resource, of every resource of CloudFormation type ``type_``."""
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == type_}

    def one(self, type_: str, contains: str = "") -> tuple[str, dict[str, Any]]:
        """The one resource of type ``type_`` whose logical ID contains ``contains``: fails on none or several."""
        found = {k: v for k, v in self.resources(type_).items() if contains in k}
        assert len(found) == 1, f"expected one {type_} with {contains!r} in its ID, found {sorted(found)}"
        return next(iter(found.items()))

    def logical_id(self, type_: str, contains: str = "") -> str:
        """The logical ID of :meth:`one`."""
        return self.one(type_, contains)[0]


class ReferenceStacks:
    """Synthesizes each reference stack on first use, each in its own App, and keeps it."""

    def __init__(self) -> None:
        self._cache: dict[str, SynthesizedStack] = {}

    def __getitem__(self, name: str) -> SynthesizedStack:
        if name not in self._cache:
            stack = REFERENCE_STACKS[name](new_app(), name)
            self._cache[name] = SynthesizedStack(stack, Template.from_stack(stack))
        return self._cache[name]


@dataclass(frozen=True)
class BadProp:
    """One bad-prop case: the prop the error must name, and the props that are wrong (a function of the
    stack when they need constructs of their own, such as a network)."""

    prop: str
    props: Mapping[str, Any] | Callable[[cdk.Stack], Mapping[str, Any]]
    #: Text the error message must contain (what the user is told is allowed), if the case cares.
    says: str = ""


def bad_prop_params(cases: Sequence[BadProp]) -> list[Any]:
    """``cases`` as pytest params with stable IDs (``prop-1``, ``prop-2``, ...)."""
    seen: dict[str, int] = {}
    params = []
    for case in cases:
        seen[case.prop] = seen.get(case.prop, 0) + 1
        params.append(pytest.param(case, id=f"{case.prop}-{seen[case.prop]}"))
    return params


def assert_fails_early(
    construct: Callable[..., Any], case: BadProp, stack: cdk.Stack | None = None, *, construct_id: str = "Subject"
) -> PropValidationError:
    """Build ``construct`` with the case's props and check that it raises :class:`PropValidationError`
    naming its class and ``case.prop``, before anything is added to the construct tree."""
    stack = stack or cdk.Stack(new_app(), "BadProps")
    props = case.props(stack) if callable(case.props) else case.props
    app = stack.node.root
    before = app.node.find_all()
    with pytest.raises(PropValidationError) as info:
        construct(stack, construct_id, **props)
    error = info.value
    owner = getattr(construct, "__name__", "")
    assert (error.owner, error.prop) == (owner, case.prop), f"{error}"
    assert str(error).startswith(f"{owner}: invalid {case.prop}="), f"{error}"
    assert case.says in str(error), f"{error!s} does not say {case.says!r}"
    # Anywhere in the app (the construct's stack, the network's, another): a construct tree only
    # grows, so the same count means nothing was added. Paths cost a jsii call per construct each,
    # so they are read only to name what was built.
    after = app.node.find_all()
    assert len(after) == len(before), f"{owner} built {_added_paths(before, after)} before it rejected {case.prop}"
    return error


def _added_paths(before: Sequence[Any], after: Sequence[Any]) -> list[str]:
    return sorted({c.node.path for c in after} - {c.node.path for c in before})


def synth(stack: cdk.Stack) -> SynthesizedStack:
    """Synthesize a stack a test built."""
    return SynthesizedStack(stack, Template.from_stack(stack))


#: Every standalone example app (examples/<name>/app.py).
EXAMPLES: list[Path] = sorted(p.parent for p in (ROOT / "examples").glob("*/app.py"))


@dataclass
class ExampleRun:
    """One example app run as `cdk synth` runs it: its process result and its cloud assembly."""

    example: Path
    outdir: Path
    result: subprocess.CompletedProcess[str]

    @property
    def stacks(self) -> list[SynthesizedTemplate]:
        return from_assembly(self.outdir)


def run_app(folder: Path, outdir: Path, context: dict[str, Any], *, validation: bool = False) -> ExampleRun:
    """Run ``folder/app.py`` as `cdk synth` runs it: ``context`` and an output directory, in a process
    of its own (the app reads them when its jsii runtime starts). ``validation``: aws-cdk-lib's
    built-in CloudFormation validation (3.5 s per synth; tests/test_full_synth.py runs it once)."""
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(outdir)}
    env.pop("CDK_VALIDATION", None)  # the caller's choice, never the shell's
    if not validation:
        env["CDK_VALIDATION"] = "false"
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=folder, env=env, capture_output=True, text=True, check=False
    )
    return ExampleRun(folder, outdir, result)


def pack_errors(run: ExampleRun, stack: str | None = None) -> list[str]:
    """The error findings the compliance packs (registered by the app as validation plugins) wrote to the
    run's validation report, of every stack or only of construct ID ``stack``. The report lists only the
    plugins with findings, and exists whenever the app registered plugins: a missing report fails."""
    report_file = run.outdir / "validation-report.json"
    assert report_file.exists(), f"{run.example.name} wrote no validation report (does it apply the packs?)"
    report = json.loads(report_file.read_text())
    return [
        f"{p['pluginName']}: {v['ruleName']} at {paths}"
        for p in report.get("pluginReports", [])
        for v in p.get("violations", [])
        if v.get("severity") == "error"
        and (paths := [c["constructPath"] for c in v["violatingConstructs"]])
        and (stack is None or any(path == stack or path.startswith(f"{stack}/") for path in paths))
    ]


#: Where test sessions keep the app runs they made, one folder per app configuration, each stamped
#: with the digest of its inputs (tests/assembly_stamp.py): a later session on the same checkout reads
#: the run instead of making it again. `make clean` removes them.
APP_RUNS = ROOT / ".make" / "app-runs"
_RESULT_FILE = "refarch-run.json"
#: Successful runs kept per configuration (of different inputs: the checkout as it is and as it was).
KEPT_RUNS = 3


def run_app_once(folder: Path, name: str, context: dict[str, Any], *, validation: bool = False) -> ExampleRun:
    """:func:`run_app`, once per configuration: a run stamped for the same inputs (the library, the
    locks, ``folder``'s files, ``context`` and ``validation``) is read instead, whichever session made
    it. Each configuration is synthesized once, as the reference app's cdk.out from `make synth` is
    read: any edit of an input runs the app again. ``name`` names the configuration (its folder in
    :data:`APP_RUNS`, which keeps its :data:`KEPT_RUNS` newest successful runs). A failed run is never
    kept, so a failing app runs again every session."""
    configuration = {"context": context, "validation": validation}
    digest = assembly_stamp.run_digest(folder, configuration)
    home = APP_RUNS / name
    kept = home / digest[:24]
    if assembly_stamp.is_current(kept, digest):
        saved = json.loads((kept / _RESULT_FILE).read_text())
        _mark_read(kept)  # read now: among the newest
        return ExampleRun(folder, kept, subprocess.CompletedProcess(**saved))
    home.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{digest[:24]}.", suffix=".running", dir=home))
    atexit.register(shutil.rmtree, scratch, True)  # gone after the session unless kept below
    run = run_app(folder, scratch, context, validation=validation)
    if run.result.returncode != 0 or assembly_stamp.run_digest(folder, configuration) != digest:
        return run  # failed, or an input was edited during the run: made from neither state for sure
    result = run.result
    (scratch / _RESULT_FILE).write_text(
        json.dumps({"args": result.args, "returncode": 0, "stdout": result.stdout, "stderr": result.stderr})
    )
    assembly_stamp.write(scratch, digest)
    _forget_old_runs(home, keep=scratch)
    try:
        scratch.rename(kept)
    except OSError:  # another session kept the same run meanwhile: read that one
        return ExampleRun(folder, kept, result) if assembly_stamp.is_current(kept, digest) else run
    return ExampleRun(folder, kept, result)


def _forget_old_runs(home: Path, keep: Path) -> None:
    """Keep ``keep`` and the newest runs of ``home`` up to :data:`KEPT_RUNS` (an edit undone, or a switch
    back to a branch, finds its runs still there); a concurrent session's scratch folder stays, one
    abandoned for an hour (a session killed mid-run) goes."""
    ages = {p: _modified(p) for p in home.iterdir() if p != keep}  # (gone meanwhile: -1)
    runs = sorted((p for p in ages if not p.name.endswith(".running")), key=ages.__getitem__, reverse=True)
    abandoned = [p for p in ages if p.name.endswith(".running") and 0 <= ages[p] < time.time() - 3600]
    for old in [*runs[KEPT_RUNS - 1 :], *abandoned]:
        shutil.rmtree(old, ignore_errors=True)


def _modified(path: Path) -> float:
    """``path``'s modification time; -1 when a concurrent session removed it since it was listed."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return -1


def _mark_read(path: Path) -> None:
    """Set ``path``'s modification time to now, if it still exists (``Path.touch`` would create an empty
    file where a concurrent session just removed a folder or an entry)."""
    with contextlib.suppress(FileNotFoundError):
        os.utime(path)


def synthesize_reference_app() -> ExampleRun:
    """The reference app.py as `cdk synth` runs it, in a process of its own: asset metadata on (the CLI
    asks for it), assets bundled for real, the built-in CloudFormation validation on. In the
    background: ``BACKGROUND.result(REFERENCE_APP, synthesize_reference_app)``.

    cdk.out is read instead when `make synth` stamped it for the checkout as it is
    (tests/assembly_stamp.py): the same configuration, from the same inputs, synthesized once."""
    made = ROOT / "cdk.out"
    if assembly_stamp.is_current(made):
        return ExampleRun(ROOT, made, subprocess.CompletedProcess(["(stamped)", str(made)], 0, "", ""))
    context = {**CDK_CONTEXT, "aws:cdk:enable-asset-metadata": True}
    return run_app_once(ROOT, "reference-app", context, validation=True)


#: The background job name of :func:`synthesize_reference_app`.
REFERENCE_APP = "reference app"


class ExampleRuns:
    """Runs each example app once, in a process of its own, and keeps the result.

    ``context`` is added to each example's cdk.json context, as ``cdk synth -c key=value`` adds it;
    ``examples`` names the examples this instance runs (default: every one of :data:`EXAMPLES`).
    The runs go through the session's :data:`~tests.background.BACKGROUND` worker: :meth:`jobs` are
    queued when the session starts (tests/conftest.py) or when the first run is asked for, so they run
    on the second core meanwhile; one asked for before it started runs in the asking thread.
    """

    def __init__(
        self, background: Background | None = BACKGROUND, *, examples: Sequence[str] | None = None, **context: Any
    ) -> None:
        self._context = context
        self._names = list(examples) if examples is not None else [p.name for p in EXAMPLES]
        self._cache: dict[str, ExampleRun] = {}
        self._background = background

    def jobs(self) -> dict[str, Callable[[], ExampleRun]]:
        """Background job name -> the run, of every example of this instance."""
        return {self._job(name): functools.partial(self._run, name) for name in self._names}

    def __getitem__(self, name: str) -> ExampleRun:
        assert name in self._names, f"{name} is not one of the examples {self._names} of this ExampleRuns"
        if name not in self._cache:
            if self._background is None:
                self._cache[name] = self._run(name)
            else:
                for job, work in self.jobs().items():  # the others meanwhile, on the second core
                    self._background.submit(job, work)
                self._cache[name] = self._background.result(self._job(name), lambda: self._run(name))
        return self._cache[name]

    def _job(self, name: str) -> str:
        return f"example:{name}" + (f" with {json.dumps(self._context, sort_keys=True)}" if self._context else "")

    def _run(self, name: str) -> ExampleRun:
        example = ROOT / "examples" / name
        config = json.loads((example / "cdk.json").read_text())
        # Its cdk.json context, as `cdk synth` gives it. Bundling is skipped (tests/test_full_synth.py
        # bundles the reference app once), so is the built-in template validation (same reason).
        context = {**config.get("context", {}), "aws:cdk:bundling-stacks": [], **self._context}
        return run_app_once(example, f"example-{name}" + _slug(self._context), context)


def _slug(context: Mapping[str, Any]) -> str:
    """A short name for ``context`` in folder names ("" for none)."""
    return "-" + hashlib.sha256(json.dumps(context, sort_keys=True).encode()).hexdigest()[:12] if context else ""


#: cfn-lint's findings of each template it linted, kept between sessions by the digest of the template
#: and of the linter (:func:`_lint_digest`): an unchanged template is not linted twice. `make clean`
#: removes them; entries not read for :data:`LINT_KEEP_DAYS` go when a new one is written.
LINT_CACHE = ROOT / ".make" / "cfn-lint"
LINT_KEEP_DAYS = 14
_CFN_LINT = Path(sys.executable).parent / "cfn-lint"
_CFN_LINT_CONFIG = ROOT / ".cfnlintrc.yaml"


@functools.cache
def _linter_digest() -> bytes:
    """What cfn-lint's verdict depends on besides the template: its version (rules and schemas ship
    with it) and the project's settings."""
    version = subprocess.run([str(_CFN_LINT), "--version"], capture_output=True, text=True, check=True).stdout
    return hashlib.sha256(version.encode() + b"\0" + _CFN_LINT_CONFIG.read_bytes()).digest()


def _lint_digest(template: Path) -> str:
    return hashlib.sha256(_linter_digest() + template.read_bytes()).hexdigest()


def cfn_lint(files: Sequence[Path], *, ignore: Sequence[str] = ()) -> dict[Path, list[str]]:
    """cfn-lint's findings (errors and warnings) of each template in ``files``, with the project's
    .cfnlintrc.yaml and the rules ``ignore`` names besides. Templates whose content was linted before
    (:data:`LINT_CACHE`) are not linted again; the others in one call (its start-up costs ~2 s)."""
    assert files, "no template to lint"
    digests = {Path(f): _lint_digest(Path(f)) for f in files}
    found: dict[Path, list[dict[str, Any]]] = {}
    for path, digest in digests.items():
        kept = LINT_CACHE / f"{digest}.json"
        try:
            found[path] = json.loads(kept.read_text())
        except FileNotFoundError:
            continue
        _mark_read(kept)  # read now: kept for LINT_KEEP_DAYS more
    if missing := [path for path in digests if path not in found]:
        found.update(_run_cfn_lint(missing))
        _keep_lint_findings({digests[path]: found[path] for path in missing})
    return {
        path: [
            f"{f['Rule']['Id']} {f['Location']['Path']}: {f['Message']}"
            for f in found[path]
            if f["Rule"]["Id"] not in ignore  # (--ignore-checks would replace the file's list, not add to it)
        ]
        for path in digests
    }


def _run_cfn_lint(files: Sequence[Path]) -> dict[Path, list[dict[str, Any]]]:
    command = [str(_CFN_LINT), "--config-file", str(_CFN_LINT_CONFIG), "--format", "json", *map(str, files)]
    result = subprocess.run(command, capture_output=True, text=True)
    try:
        reported = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        raise AssertionError(f"cfn-lint did not run (exit {result.returncode}): {result.stderr[-2000:]}") from None
    findings: dict[Path, list[dict[str, Any]]] = {f: [] for f in files}
    for finding in reported:
        findings[Path(finding["Filename"])].append(finding)
    return findings


def _keep_lint_findings(findings: Mapping[str, list[dict[str, Any]]]) -> None:
    LINT_CACHE.mkdir(parents=True, exist_ok=True)
    stale = time.time() - LINT_KEEP_DAYS * 86400
    for old in LINT_CACHE.glob("*.json"):
        if 0 <= _modified(old) < stale:
            old.unlink(missing_ok=True)
    for digest, found in findings.items():
        scratch = LINT_CACHE / f"{digest}.{os.getpid()}.tmp"
        scratch.write_text(json.dumps(found))
        scratch.replace(LINT_CACHE / f"{digest}.json")  # whole or not at all, for a concurrent session


#: What the deploy checks run on: every reference stack and every example app.
DEPLOY_TARGETS: list[str] = [f"stack:{name}" for name in REFERENCE_STACKS] + [f"example:{p.name}" for p in EXAMPLES]


def deploy_target_outputs(target: str, stacks: ReferenceStacks, examples: ExampleRuns) -> list[SynthesizedTemplate]:
    """The synthesized stacks of one of :data:`DEPLOY_TARGETS` (``stack:<name>`` or ``example:<name>``)."""
    kind, name = target.split(":", 1)
    if kind == "stack":
        return [stacks[name].output]
    run = examples[name]
    assert run.result.returncode == 0, f"{name} failed to synthesize:\n{run.result.stdout}\n{run.result.stderr}"
    outputs = run.stacks
    assert outputs, f"example {name} produced no stack"
    return outputs


def docs_sources(stacks: ReferenceStacks, examples: ExampleRuns) -> dict[str, list[SynthesizedTemplate]]:
    """What `make docs` draws, by origin: every reference stack, then every example app's stacks."""
    sources = {"reference stacks": [stacks[name].output for name in REFERENCE_STACKS]}
    for example in EXAMPLES:
        sources[f"example `{example.name}`"] = deploy_target_outputs(f"example:{example.name}", stacks, examples)
    return sources
