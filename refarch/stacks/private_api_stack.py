"""Reference stack: a private API (API Gateway -> VPC Link -> NLB -> EC2 Auto Scaling -> RDS MySQL)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.constructs import PrivateApi, ThreeTierVpc
from refarch.constructs._builders import build_key
from refarch.constructs._defaults import DATA_REMOVAL_POLICY

APP_PORT = 8080
DB_PORT = 3306  # MySQL, PrivateApi's default engine


class PrivateApiStack(Stack):
    """A three-tier VPC with the private API in it, its alarms sent to an encrypted SNS topic."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, description="cdk-refarch reference: private API behind a VPC Link", **kwargs)
        self.network = ThreeTierVpc(self, "Network", app_port=APP_PORT, db_port=DB_PORT)
        self.alarm_topic = _alarm_topic(self)
        self.api = PrivateApi(
            self,
            "PrivateApi",
            vpc=self.network,
            app_port=APP_PORT,
            alarm_topic=self.alarm_topic,
            # This reference stack deploys into a fresh account, so it sets the account-wide API Gateway
            # CloudWatch role that execution logging needs. Leave it False where the account has one.
            cloud_watch_role=True,
        )


def _alarm_topic(scope: Construct) -> sns.Topic:
    """An SNS topic encrypted with a customer key that CloudWatch alarms and SNS callers may use.

    CloudWatch cannot publish to topics encrypted with the AWS managed ``aws/sns`` key, so the
    key admits the CloudWatch service (for this account) and, like ``aws/sns``, any principal of
    this account calling through SNS (Auto Scaling's notifications among them).
    """
    stack = Stack.of(scope)
    key = build_key(scope, "AlarmTopicKey", description="Encrypts the alarm topic", removal_policy=DATA_REMOVAL_POLICY)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarms",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        )
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowThisAccountThroughSns",
            principals=[iam.AnyPrincipal()],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={
                "StringEquals": {
                    "kms:CallerAccount": stack.account,
                    "kms:ViaService": f"sns.{stack.region}.amazonaws.com",
                }
            },
        )
    )
    return sns.Topic(scope, "AlarmTopic", master_key=key, enforce_ssl=True, display_name="cdk-refarch alarms")
