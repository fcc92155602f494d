"""Fixtures over tests/harness.py: every reference stack synthesized once per test session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk  # noqa: E402  (after the harness has pointed jsii at Node 24)
import pytest

from refarch.testing import SynthesizedTemplate
from tests.background import BACKGROUND, Background
from tests.botocore_cache import share_parsed_json_files
from tests.harness import (  # sets JSII_NODE before aws_cdk loads
    ROOT,
    ExampleRuns,
    ReferenceStacks,
    deploy_target_outputs,
    new_app,
)
from tests.latest_cdk import SUMMARY_LINES

share_parsed_json_files()  # moto and boto3 clients are created per test: parse botocore's models once

_BACKGROUND = pytest.StashKey[Background]()
_EXAMPLE_RUNS = pytest.StashKey[ExampleRuns]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "last: runs after every other test (it waits for a background job)")
    config.stash[_BACKGROUND] = BACKGROUND
    config.stash[_EXAMPLE_RUNS] = ExampleRuns()


def _reads_background(item: pytest.Item) -> bool:
    return "background" in getattr(item, "fixturenames", ())


def _reads_long_jobs(item: pytest.Item) -> bool:
    return _reads_background(item) and bool(getattr(getattr(item, "module", None), "LONG_BACKGROUND_JOBS", None))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that read background results run after the others, so they mostly find them done, and
    those of modules with long jobs (mypy, the full synth, packaging) after those, so the main thread
    runs the example apps the others read rather than wait; the ``last`` marker at the very end (the
    order is otherwise kept)."""
    items.sort(
        key=lambda item: (
            _reads_background(item),
            _reads_long_jobs(item),
            item.get_closest_marker("last") is not None,
        )
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    """Queue the background work the selected tests read (tests/background.py): first every selected
    test module's ``LONG_BACKGROUND_JOBS`` (so no long job is left to start at the end), then their
    ``BACKGROUND_JOBS``, then the example apps when a test reads ``example_runs``. Short jobs at the end
    of the queue are what the main thread takes over when it asks for them before they started."""
    background = session.config.stash[_BACKGROUND]
    readers = [item for item in session.items if _reads_background(item)]
    modules = {id(module): module for item in readers if (module := getattr(item, "module", None)) is not None}
    for jobs in ("LONG_BACKGROUND_JOBS", "BACKGROUND_JOBS"):
        for module in modules.values():
            for key, work in getattr(module, jobs, {}).items():
                background.submit(key, work)
    if any("example_runs" in getattr(item, "fixturenames", ()) for item in readers):
        for key, work in session.config.stash[_EXAMPLE_RUNS].jobs().items():
            background.submit(key, work)


def pytest_unconfigure(config: pytest.Config) -> None:
    config.stash[_BACKGROUND].shutdown()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    for line in SUMMARY_LINES:
        terminalreporter.write_line(line)
    timings = config.stash[_BACKGROUND].report()
    if timings:
        terminalreporter.write_sep("-", "background jobs (tests/background.py)")
        for line in timings:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def background(request: pytest.FixtureRequest) -> Background:
    """Results of subprocess work queued at the start of the session (tests/background.py)."""
    return request.config.stash[_BACKGROUND]


@pytest.fixture(scope="session")
def reference_stacks() -> ReferenceStacks:
    """``reference_stacks["ThreeTierVpcStack"]``: synthesized on first use, then shared."""
    return ReferenceStacks()


@pytest.fixture(scope="session")
def example_runs(request: pytest.FixtureRequest, background: Background) -> ExampleRuns:
    """``example_runs["private_api"]``: each example app run as `cdk synth` runs it, once per inputs
    (``tests.harness.run_app_once``; in the background, queued when the session starts)."""
    return request.config.stash[_EXAMPLE_RUNS]


@pytest.fixture(scope="session")
def deploy_outputs(
    reference_stacks: ReferenceStacks, example_runs: ExampleRuns
) -> Callable[[str], list[SynthesizedTemplate]]:
    """``deploy_outputs("stack:PrivateApiStack")`` or ``deploy_outputs("example:private_api")``: the
    synthesized stacks the deploy checks read; parametrize over ``tests.harness.DEPLOY_TARGETS``."""
    return lambda target: deploy_target_outputs(target, reference_stacks, example_runs)


@pytest.fixture
def make_stack() -> Callable[..., cdk.Stack]:
    """A fresh Stack in a fresh unit-test App, for tests that build their own."""

    def factory(name: str = "TestStack", **stack_props: Any) -> cdk.Stack:
        return cdk.Stack(new_app(), name, **stack_props)

    return factory


@pytest.fixture(scope="session")
def project_root() -> Any:
    return ROOT
