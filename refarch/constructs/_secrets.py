"""Secrets the library generates for values that resources read at deployment (a CloudFront origin header,
a cache's AUTH token), which therefore no rotation function can change alone.

Its own module, not in ``_builders``: every construct imports ``_builders``, and only the constructs that
hold such a secret should load aws_secretsmanager (refarch.constructs loads each construct's modules only).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge


def build_deploy_time_secret(
    scope: Construct,
    id: str,
    *,
    description: str,
    length: int,
    encryption_key: kms.IKey,
    removal_policy: RemovalPolicy,
    not_rotated_because: str,
    also_acknowledged: tuple[str, ...] = (),
) -> secretsmanager.Secret:
    """A generated secret (letters and digits) that resources read at deployment through a dynamic
    reference, so no rotation function can change it alone: its rotation findings are acknowledged."""
    secret = secretsmanager.Secret(
        scope,
        id,
        description=description,
        encryption_key=encryption_key,
        generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=length),
        removal_policy=removal_policy,
    )
    acknowledge(
        secret,
        not_rotated_because,
        "AwsSolutions-SMG4",
        "HIPAA.Security-SecretsManagerRotationEnabled",
        "NIST.800.53.R5-SecretsManagerRotationEnabled",
        "PCI.DSS.321-SecretsManagerRotationEnabled",
        *also_acknowledged,
    )
    return secret
