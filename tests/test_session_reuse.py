"""What a test session reuses from an earlier one (tests/harness.py): app runs stamped with the digest
of their inputs, and cfn-lint's findings per template content. Each must be reused only for the very
same inputs, and a failure must never be kept."""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests import assembly_stamp, harness
from tests.harness import ROOT
from tests.run_suite import HANDLER_TESTS, combined_status, commands, names_tests

#: A stand-in for an app: writes an assembly, counts its runs, prints the CDK_VALIDATION it got, fails on
#: context "fail", edits its own folder (as a developer might during a run) on context "edit".
FAKE_APP = """
import json, os, pathlib, sys
out = pathlib.Path(os.environ["CDK_OUTDIR"])
out.mkdir(parents=True, exist_ok=True)
context = json.loads(os.environ["CDK_CONTEXT_JSON"])
with open(pathlib.Path(__file__).parent.parent / "runs.log", "a") as log:  # outside the app's folder
    log.write(json.dumps(context) + "\\n")
if context.get("edit"):
    (pathlib.Path(__file__).parent / "edited.txt").write_text(str(os.getpid()))
(out / "manifest.json").write_text(json.dumps({"version": "1", "artifacts": {}}))
print("synthesized", context.get("region"), "validation", os.environ.get("CDK_VALIDATION", "on"))
sys.exit(1 if context.get("fail") else 0)
"""


@pytest.fixture
def fake_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(harness, "APP_RUNS", tmp_path / "runs")
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.py").write_text(FAKE_APP)
    (folder / "cdk.json").write_text('{"app": "python3 app.py"}')
    return folder


def _runs(folder: Path) -> int:
    log = folder.parent / "runs.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_an_app_run_is_reused_for_the_same_inputs_only(fake_app: Path) -> None:
    first = harness.run_app_once(fake_app, "fake", {"region": "eu-west-1"})
    assert first.result.returncode == 0 and _runs(fake_app) == 1

    again = harness.run_app_once(fake_app, "fake", {"region": "eu-west-1"})
    assert _runs(fake_app) == 1, "the same configuration ran twice"
    assert (again.outdir, again.result.stdout, again.result.returncode) == (first.outdir, first.result.stdout, 0)

    harness.run_app_once(fake_app, "fake", {"region": "us-east-1"})
    assert _runs(fake_app) == 2, "another context must run the app"
    (fake_app / "cdk.json").write_text('{"app": "python3 app.py", "context": {"flag": true}}')
    harness.run_app_once(fake_app, "fake", {"region": "us-east-1"})
    assert _runs(fake_app) == 3, "an edited file of the app's folder must run it again"
    harness.run_app_once(fake_app, "fake", {"region": "us-east-1"}, validation=True)
    assert _runs(fake_app) == 4, "another way of running it must run it again"
    (fake_app / "cdk.json").write_text('{"app": "python3 app.py"}')
    harness.run_app_once(fake_app, "fake", {"region": "us-east-1"})
    assert _runs(fake_app) == 4, "an edit undone must find the run of before"
    kept = sorted(p.name for p in (harness.APP_RUNS / "fake").iterdir())
    assert len(kept) == harness.KEPT_RUNS == 3, kept


def test_a_failed_app_run_is_never_reused(fake_app: Path) -> None:
    for _ in range(2):
        run = harness.run_app_once(fake_app, "fake", {"fail": True})
        assert run.result.returncode == 1
    assert _runs(fake_app) == 2
    assert not [p for p in (harness.APP_RUNS / "fake").iterdir() if not p.name.endswith(".running")]


def test_an_edit_of_the_library_runs_the_app_again(fake_app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    harness.run_app_once(fake_app, "fake", {})
    monkeypatch.setattr(harness.assembly_stamp, "inputs_digest", lambda: "an edited checkout")
    harness.run_app_once(fake_app, "fake", {})
    assert _runs(fake_app) == 2


def test_a_run_rewritten_since_it_was_kept_is_not_reused(fake_app: Path) -> None:
    """A manual `cdk synth -c account=...` into the same folder rewrites the assembly, not the stamp."""
    first = harness.run_app_once(fake_app, "fake", {})
    (first.outdir / "manifest.json").write_text('{"version": "1", "artifacts": {"Other": {}}}')
    harness.run_app_once(fake_app, "fake", {})
    assert _runs(fake_app) == 2


def test_a_run_during_which_an_input_changed_is_not_kept(fake_app: Path) -> None:
    assert harness.run_app_once(fake_app, "fake", {"edit": True}).result.returncode == 0
    (fake_app / "edited.txt").unlink()  # the folder as it was when the run started
    harness.run_app_once(fake_app, "fake", {"edit": True})
    assert _runs(fake_app) == 2, "a run made while its inputs changed was kept as the run of either state"


def test_validation_is_the_callers_choice_not_the_shells(fake_app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDK_VALIDATION", "false")
    assert "validation on" in harness.run_app_once(fake_app, "fake", {}, validation=True).result.stdout
    assert "validation false" in harness.run_app_once(fake_app, "fake", {}).result.stdout


def test_make_synth_stamps_only_what_the_inputs_still_match(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{}")
    assert assembly_stamp.main(["write", str(tmp_path), "an older digest"]) == 0
    assert not (tmp_path / assembly_stamp.STAMP_NAME).exists(), "stamped though the inputs changed during the synth"
    assert assembly_stamp.main(["write", str(tmp_path), assembly_stamp.inputs_digest()]) == 0
    assert assembly_stamp.is_current(tmp_path)
    (tmp_path / "manifest.json").write_text('{"rewritten": true}')
    assert not assembly_stamp.is_current(tmp_path), "a rewritten assembly still counts as stamped"


class FakeLinter:
    """Stands in for cfn-lint's process: one finding per template that contains ``"Bad"``."""

    def __init__(self) -> None:
        self.linted: list[str] = []

    def __call__(self, files: Sequence[Path]) -> dict[Path, list[dict[str, Any]]]:
        self.linted += [f.name for f in files]
        return {
            f: [{"Rule": {"Id": "E3001"}, "Location": {"Path": ["Resources", "Bad"]}, "Message": "bad resource"}]
            * ("Bad" in f.read_text())
            for f in files
        }


def test_cfn_lint_findings_are_reused_for_the_same_template_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness, "LINT_CACHE", tmp_path / "lint")
    linter = FakeLinter()
    monkeypatch.setattr(harness, "_run_cfn_lint", linter)
    good, bad = tmp_path / "Good.template.json", tmp_path / "Bad.template.json"
    good.write_text(json.dumps({"Resources": {"Good": {}}}))
    bad.write_text(json.dumps({"Resources": {"Bad": {}}}))

    expected = {good: [], bad: ["E3001 ['Resources', 'Bad']: bad resource"]}
    assert harness.cfn_lint([good, bad]) == expected
    assert harness.cfn_lint([good, bad]) == expected, "a kept finding must be reported again"
    assert linter.linted == ["Good.template.json", "Bad.template.json"]
    assert harness.cfn_lint([bad], ignore=["E3001"]) == {bad: []}

    good.write_text(json.dumps({"Resources": {"Good": {}, "Bad": {}}}))
    assert harness.cfn_lint([good, bad])[good], "an edited template must be linted again"
    assert linter.linted[2:] == ["Good.template.json"]

    monkeypatch.setattr(harness, "_linter_digest", lambda: b"another cfn-lint release")
    harness.cfn_lint([good])
    assert linter.linted[3:] == ["Good.template.json"], "another cfn-lint or setting must lint again"


#: The construct session's shared fixtures and background-job declarations.
CONSTRUCT_SESSION_NAMES = {
    "reference_stacks",
    "example_runs",
    "deploy_outputs",
    "background",
    "BACKGROUND",
    "BACKGROUND_JOBS",
    "LONG_BACKGROUND_JOBS",
}


def construct_session_names(source: str) -> set[str]:
    """The names of :data:`CONSTRUCT_SESSION_NAMES` a test module uses: as a parameter of any function
    (typed or not), in ``usefixtures(...)``, or as a name it reads or assigns."""
    used = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.arg):
            used.add(node.arg)
        elif isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            used.add(node.value)  # usefixtures("background")
    return used & CONSTRUCT_SESSION_NAMES


def test_the_handler_session_shares_nothing_with_the_construct_session() -> None:
    """`make test` runs tests/run_suite.py's HANDLER_TESTS as a session of their own: a module there that
    read the session fixtures of the construct tests would synthesize or run again what they share."""
    assert all(ROOT.joinpath(path).exists() for path in HANDLER_TESTS), HANDLER_TESTS
    modules = [
        module
        for path in map(ROOT.joinpath, HANDLER_TESTS)
        for module in (sorted(path.rglob("test_*.py")) if path.is_dir() else [path])
    ]
    assert len(modules) >= len(HANDLER_TESTS), modules
    readers = {m.name: names for m in modules if (names := construct_session_names(m.read_text()))}
    assert not readers, readers
    constructs, handlers = commands(["-q"])
    assert [a for a in constructs if a.startswith("--ignore=")] == [f"--ignore={p}" for p in HANDLER_TESTS]
    assert handlers[-len(HANDLER_TESTS) :] == list(HANDLER_TESTS)


def test_the_session_names_are_found_however_a_module_uses_them() -> None:
    source = """
pytestmark = pytest.mark.usefixtures("background")
LONG_BACKGROUND_JOBS = {}
def test_x(tmp_path, example_runs):
    pass
def test_y(reference_stacks: Any) -> None:
    pass
"""
    assert construct_session_names(source) == {"background", "LONG_BACKGROUND_JOBS", "example_runs", "reference_stacks"}
    assert not construct_session_names("def test_background_colour(aws):\n    assert 'the background'\n")


def test_a_session_that_selects_no_test_fails_only_with_the_other() -> None:
    assert [combined_status(*pair) for pair in ((0, 0), (1, 0), (0, 2), (5, 0), (0, 5), (5, 1), (5, 5))] == [
        0,
        1,
        2,
        0,
        0,
        1,
        5,
    ]


def test_arguments_that_name_tests_run_them_once() -> None:
    assert names_tests(["tests/test_docs.py"]) and names_tests(["-q", "tests/e2e", "-x"])
    assert names_tests(["tests/test_docs.py::test_readme_examples_run"])
    assert not names_tests(["-k", "poison", "-x", "--durations=10"])
