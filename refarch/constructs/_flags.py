"""Feature flags whose behaviour the constructs depend on, pinned on the constructs' own subtree.

A bare ``cdk.App()`` (users' test apps, projects older than the flag) has none of the flags a new
project's ``cdk.json`` sets, and aws-cdk-lib then falls back to legacy behaviour. Where the
constructs cannot build on that behaviour, they set the flag as context on themselves, first thing
in their constructor (context can only be set before a construct has children): the flag then
holds for everything they create, whatever the app says, and nothing outside them changes.
"""

from __future__ import annotations

from constructs import Construct

from refarch.feature_flags import REQUIRED_FLAGS


def pin_required_flags(scope: Construct) -> None:
    """Set every flag of :data:`REQUIRED_FLAGS` on ``scope``: call it before ``scope`` has children."""
    for flag, (value, _why) in REQUIRED_FLAGS.items():
        scope.node.set_context(flag, value)
