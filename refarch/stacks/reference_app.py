"""The reference app as ``app.py`` builds it, importable so tests build exactly the same App.

``cdk synth -c account=123456789012 -c region=eu-west-1`` and the test suite both go through
:func:`build_reference_app`: what the tests synthesize for an environment is what the CLI does.
"""

from __future__ import annotations

from aws_cdk import App, Stack

from refarch.compliance import apply_packs
from refarch.compliance.residency import regions_from_context
from refarch.environment import environment_from_context
from refarch.stacks import build_reference_stacks


def build_reference_app(app: App) -> dict[str, Stack]:
    """Add every reference stack to ``app`` for the environment of its context (see
    :func:`refarch.environment.environment_from_context`), and register every compliance pack on it
    (``-c allowed_regions=...`` also turns on the GDPR pack's residency rule).

    :returns: construct ID -> stack
    """
    stacks = build_reference_stacks(app, env=environment_from_context(app))
    apply_packs(app, allowed_regions=regions_from_context(app))
    return stacks
