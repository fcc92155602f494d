"""The structured option of :class:`~refarch.constructs.EncryptedDataStore`: a DynamoDB table under the
data key, point-in-time recovery, deletion protection, items expiring through a TTL attribute."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge


def build_table(
    scope: Construct,
    *,
    partition_key: dynamodb.Attribute,
    sort_key: dynamodb.Attribute | None,
    ttl_attribute: str | None,
    key: kms.IKey,
    removal_policy: RemovalPolicy,
) -> dynamodb.Table:
    table = dynamodb.Table(
        scope,
        "Table",
        partition_key=partition_key,
        sort_key=sort_key,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=True,
        time_to_live_attribute=ttl_attribute,
        removal_policy=removal_policy,
    )
    acknowledge(
        table,
        "Point-in-time recovery keeps continuous backups for 35 days under the customer key; an "
        "AWS Backup plan on top is an account-wide choice (vaults, cross-account copies) left to the owner.",
        "HIPAA.Security-DynamoDBInBackupPlan",
        "NIST.800.53.R5-DynamoDBInBackupPlan",
        "PCI.DSS.321-DynamoDBInBackupPlan",
    )
    return table
