#!/usr/bin/env python3
"""The reference app: every reference stack of cdk-refarch, checked by the compliance packs.

Environment-agnostic unless an account/region is given through context
(``cdk synth -c account=123456789012 -c region=eu-west-1``) or the usual CDK variables
(``CDK_DEFAULT_ACCOUNT``/``CDK_DEFAULT_REGION``, set by ``cdk`` from your AWS profile when
``-c use_default_env=true`` is passed). ``-c allowed_regions=eu-west-1,eu-central-1`` restricts
the reference data store to those regions and makes the GDPR pack fail any data store that
would rest elsewhere. The building is in ``refarch.stacks.reference_app``, shared with the tests.
"""

import aws_cdk as cdk

from refarch.stacks.reference_app import build_reference_app

app = cdk.App()
build_reference_app(app)
app.synth()
