"""Deploy contracts: what a construct declares it needs from AWS, so it can be checked offline.

A construct knows things its synthesized template cannot say on its own: that its function's
code calls ``s3:PutObject`` on the lake bucket, that its NLB must reach the service port from
every AZ, that a database must stay closed to the web tier. It writes each such need into the
construct tree with :func:`declare`; CDK resolves the tokens in it (a role becomes
``{"Fn::GetAtt": [<logical ID>, "Arn"]}``) and writes it to the cloud assembly beside the
template (``<stack>.metadata.json``). The checks in :mod:`refarch.testing` read it back from a
synthesized stack or from a ``cdk.out`` folder and hold the template to it.

This module never imports the checks: constructs depend on it, the checks depend on it, and
neither depends on the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from constructs import IConstruct

#: Every contract metadata type starts with this; the rest is its kind (``permission``, ``flow``, ...).
METADATA_PREFIX = "refarch:contract:"


def declare(scope: IConstruct, kind: str, data: Mapping[str, Any]) -> None:
    """Record one need of ``scope`` of the given kind (its metadata type is ``refarch:contract:<kind>``).

    ``data`` may hold tokens (ARNs, IDs, security group IDs): they are resolved in the scope's
    stack when it is synthesized.
    """
    scope.node.add_metadata(METADATA_PREFIX + kind, dict(data))


__all__ = ["METADATA_PREFIX", "declare"]
