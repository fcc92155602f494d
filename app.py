#!/usr/bin/env python3
"""The reference app: every reference stack of cdk-refarch, checked by the compliance packs.

Environment-agnostic unless an account/region is given through context
(``cdk synth -c account=123456789012 -c region=eu-west-1``) or the usual CDK variables
(``CDK_DEFAULT_ACCOUNT``/``CDK_DEFAULT_REGION``, set by ``cdk`` from your AWS profile when
``-c use_default_env=true`` is passed). ``-c allowed_regions=eu-west-1,eu-central-1`` makes the
GDPR pack fail any data store that would rest elsewhere.
"""

import os

import aws_cdk as cdk

from refarch.compliance import apply_packs
from refarch.stacks import build_reference_stacks


def environment(app: cdk.App) -> cdk.Environment | None:
    account = app.node.try_get_context("account")
    region = app.node.try_get_context("region")
    if app.node.try_get_context("use_default_env") in (True, "true"):
        account = account or os.environ.get("CDK_DEFAULT_ACCOUNT")
        region = region or os.environ.get("CDK_DEFAULT_REGION")
    if account is None and region is None:
        return None
    return cdk.Environment(account=account, region=region)


app = cdk.App()
build_reference_stacks(app, env=environment(app))
allowed_regions = app.node.try_get_context("allowed_regions")
apply_packs(app, allowed_regions=allowed_regions.split(",") if allowed_regions else None)
app.synth()
