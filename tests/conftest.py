"""Fixtures over tests/harness.py: every reference stack synthesized once per test session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk  # noqa: E402  (after the harness has pointed jsii at Node 24)
import pytest

from tests.harness import ROOT, ReferenceStacks, new_app  # sets JSII_NODE before aws_cdk loads


@pytest.fixture(scope="session")
def reference_stacks() -> ReferenceStacks:
    """``reference_stacks["ThreeTierVpcStack"]``: synthesized on first use, then shared."""
    return ReferenceStacks()


@pytest.fixture
def make_stack() -> Callable[..., cdk.Stack]:
    """A fresh Stack in a fresh unit-test App, for tests that build their own."""

    def factory(name: str = "TestStack", **stack_props: Any) -> cdk.Stack:
        return cdk.Stack(new_app(), name, **stack_props)

    return factory


@pytest.fixture(scope="session")
def project_root() -> Any:
    return ROOT
