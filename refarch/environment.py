"""Which AWS environment an app synthesizes for, from the CLI's context.

``cdk synth -c account=123456789012 -c region=eu-west-1`` targets that account and region;
``-c use_default_env=true`` fills what is missing from ``CDK_DEFAULT_ACCOUNT`` and
``CDK_DEFAULT_REGION`` (the CLI sets them from your AWS profile). Neither: the stacks stay
environment-agnostic. The reference app and the examples all read their environment this way.

Give an account with the region: with a region alone, CDK cannot look the region's AZs up and
gives every stack two placeholder AZs (too few for Redshift Serverless).
"""

from __future__ import annotations

import os

from aws_cdk import Environment
from constructs import Construct


def environment_from_context(scope: Construct) -> Environment | None:
    """The environment of the context keys ``account`` and ``region`` seen from ``scope`` (usually the App)."""
    account = scope.node.try_get_context("account")
    region = scope.node.try_get_context("region")
    if scope.node.try_get_context("use_default_env") in (True, "true"):
        account = account or os.environ.get("CDK_DEFAULT_ACCOUNT")
        region = region or os.environ.get("CDK_DEFAULT_REGION")
    if account is None and region is None:
        return None
    return Environment(account=account, region=region)
