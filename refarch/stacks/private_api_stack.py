"""Reference stack: a private API (API Gateway -> VPC Link -> NLB -> EC2 Auto Scaling -> RDS MySQL)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from refarch.constructs import PrivateApi, ThreeTierVpc
from refarch.constructs._builders import build_alarm_topic

APP_PORT = 8080
DB_PORT = 3306  # MySQL, PrivateApi's default engine


class PrivateApiStack(Stack):
    """A three-tier VPC with the private API in it, its alarms sent to an encrypted SNS topic."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, description="cdk-refarch reference: private API behind a VPC Link", **kwargs)
        self.network = ThreeTierVpc(self, "Network", app_port=APP_PORT, db_port=DB_PORT)
        self.alarm_topic = build_alarm_topic(self)
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
