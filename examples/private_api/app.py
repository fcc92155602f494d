#!/usr/bin/env python3
"""A user's app: a private API in front of a PostgreSQL-backed service.

Clients call a regional REST API (IAM-signed requests, WAF, throttling); the API reaches the
service's instances in private subnets only through a VPC Link and an internal NLB; the
instances reach PostgreSQL in isolated subnets with IAM database authentication.

    pip install cdk-refarch
    cdk synth          # or: cdk deploy PrivateApiExample

After the deploy, create the IAM-authenticated database user once (as the generated admin, whose
password is in the secret the stack outputs):

    CREATE USER app; GRANT rds_iam TO app;
"""

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from constructs import Construct

from refarch.compliance import apply_packs
from refarch.constructs import ManagedPolicyRole, PrivateApi, ThreeTierVpc
from refarch.environment import environment_from_context

POSTGRES_PORT = 5432


class PrivateApiExampleStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)
        # The VPC's network ACLs open the database port to the db tier: give it PostgreSQL's.
        network = ThreeTierVpc(self, "Network", app_port=8080, db_port=POSTGRES_PORT)
        api = PrivateApi(
            self,
            "Orders",
            vpc=network,
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17_6),
            min_capacity=2,
            max_capacity=6,
            throttling_rate_limit=50,
            throttling_burst_limit=100,
            backup_retention=cdk.Duration.days(14),
            alarm_db_connections=150,
            # Execution logging needs the account's API Gateway CloudWatch role. Leave this False if the
            # account already has one; it is an account-wide setting.
            cloud_watch_role=False,
        )
        # A partner service in this account may call GET /orders, nothing else.
        partner = ManagedPolicyRole(
            self, "PartnerRole", assumed_by=iam.AccountRootPrincipal(), description="Orders API partner"
        )
        api.grant_invoke(partner, method="GET", path="/orders")

        cdk.CfnOutput(self, "ApiUrl", value=api.url)
        cdk.CfnOutput(self, "DatabaseSecretArn", value=api.database_secret.secret_arn)


app = cdk.App()
# Environment-agnostic, or for the account and region of `cdk synth -c account=... -c region=...`.
PrivateApiExampleStack(app, "PrivateApiExample", env=environment_from_context(app))
apply_packs(app)
app.synth()
