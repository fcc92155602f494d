"""Fixtures over tests/harness.py: every reference stack synthesized once per test session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk  # noqa: E402  (after the harness has pointed jsii at Node 24)
import pytest

from refarch.testing import SynthesizedTemplate
from tests.harness import (  # sets JSII_NODE before aws_cdk loads
    ROOT,
    ExampleRuns,
    ReferenceStacks,
    deploy_target_outputs,
    new_app,
)
from tests.latest_cdk import PackagingJob, summary

_PACKAGING_JOB = pytest.StashKey[PackagingJob]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "last: runs after every other test (it waits for a background job)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)  # stable: order kept otherwise


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the packaging job (wheel, newest-aws-cdk-lib smoke test) as soon as a selected test needs
    it: it runs in a background thread, its subprocesses on the second core, while the rest runs."""
    if any("packaging_job" in getattr(item, "fixturenames", ()) for item in session.items):
        session.config.stash[_PACKAGING_JOB] = PackagingJob().start()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    job = config.stash.get(_PACKAGING_JOB, None)
    if job is not None and job.report is not None:
        terminalreporter.write_line(f"newest-aws-cdk-lib smoke test ({job.seconds:.0f} s): {summary(job.report)}")


@pytest.fixture(scope="session")
def packaging_job(request: pytest.FixtureRequest) -> PackagingJob:
    """The background packaging job of tests/latest_cdk.py, started at collection."""
    return request.config.stash[_PACKAGING_JOB]


@pytest.fixture(scope="session")
def reference_stacks() -> ReferenceStacks:
    """``reference_stacks["ThreeTierVpcStack"]``: synthesized on first use, then shared."""
    return ReferenceStacks()


@pytest.fixture(scope="session")
def example_runs() -> ExampleRuns:
    """``example_runs["private_api"]``: each example app run once per session, as `cdk synth` runs it."""
    return ExampleRuns()


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
