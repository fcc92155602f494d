"""Defaults every construct shares, in one place so the library stays consistent.

Change one here and every construct (and every snapshot) moves with it.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

#: Retention of every log group the library creates. One year is the floor that the HIPAA,
#: NIST 800-53 R5 and PCI DSS packs accept (``CloudWatchLogGroupRetentionPeriod``), and it is
#: finite, so logs do not grow forever.
LOG_RETENTION = logs.RetentionDays.ONE_YEAR

#: Data stores keep their data when removed from a stack. Reference stacks may opt into
#: DESTROY explicitly; constructs never hard-code it.
DATA_REMOVAL_POLICY = RemovalPolicy.RETAIN

#: KMS key rotation period when a construct creates its own key (KMS allows 90 to 2560 days).
KEY_ROTATION_PERIOD = Duration.days(365)

#: The Python runtime of every Lambda function the library ships. The handlers' dependencies
#: are bundled for this version (see ``_bundling``); keep the two in step.
LAMBDA_PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14
LAMBDA_PYTHON_VERSION = "3.14"

#: Days S3 server access logs are kept before they expire.
ACCESS_LOG_DAYS = 365
