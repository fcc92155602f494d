#!/usr/bin/env python3
"""A user's app: one web application in two regions, the second standing by for the first.

Each region has its own ThreeTierVpc and ResilientWebApp: a public ALB serving the domain with the
region's certificate and WAF, front and back Auto Scaling groups, and an Aurora PostgreSQL cluster.
The primary region's cluster is the source of an Aurora Global Database, which the secondary region's
cluster joins (its instances are readers; writes sent to them are forwarded to the primary). Route 53
answers the domain with the primary region's ALB while its health check passes, and with the
secondary's when it fails. README "ResilientWebApp in two regions" has the failover drill.

    pip install cdk-refarch
    cdk synth -c account=111122223333 -c hosted_zone_id=Z... -c zone_name=example.com \\
        -c domain_name=app.example.com
    cdk deploy --all    # the primary first: the secondary reads its global database's identifier

Without context the app synthesizes for the placeholders below (account 123456789012, eu-west-1 and
eu-central-1, a made-up zone). With your account, `cdk synth` looks each region's AZs up once and
writes them to cdk.context.json.
"""

import aws_cdk as cdk
from aws_cdk import aws_route53 as route53
from constructs import Construct

from refarch.compliance import apply_packs
from refarch.constructs import ResilientWebApp, ThreeTierVpc

POSTGRES_PORT = 5432
PLACEHOLDERS = {
    "account": "123456789012",
    "primary_region": "eu-west-1",
    "secondary_region": "eu-central-1",
    "hosted_zone_id": "Z0000000000EXAMPLE000",
    "zone_name": "example.com",
    "domain_name": "app.example.com",
}


class RegionalAppStack(cdk.Stack):
    """One region of the application: its network, its alarm topic and its ResilientWebApp."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: dict[str, str],
        failover: route53.Failover,
        standby_for: ResilientWebApp | None = None,
        **kwargs: object,
    ) -> None:
        # Both regions' stacks allow cross-region references: the secondary reads the primary's
        # global database identifier. cdk.json's "@aws-cdk/core:defaultCrossStackReferences": "weak"
        # makes aws-cdk-lib resolve it at deploy time with Fn::GetStackOutput (without it: a strong
        # reference through ExportWriter/ExportReader custom resources and SSM parameters).
        super().__init__(scope, id, cross_region_references=True, **kwargs)
        network = ThreeTierVpc(self, "Network", max_azs=2, app_port=8080, db_port=POSTGRES_PORT)
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=settings["hosted_zone_id"], zone_name=settings["zone_name"]
        )
        self.app = ResilientWebApp(
            self,
            "App",
            vpc=network,
            domain_name=settings["domain_name"],
            hosted_zone=zone,
            # Two regions: each ALB serves the domain itself, behind Route 53 failover records.
            cloudfront=False,
            failover=failover,
            standby_for=standby_for,
            # One topic per region (alarms notify a topic of their own region): the network's.
            alarm_topic=network.alarm_topic,
        )
        cdk.CfnOutput(self, "Url", value=self.app.url)
        cdk.CfnOutput(self, "LoadBalancer", value=self.app.load_balancer.load_balancer_dns_name)
        assert self.app.database is not None  # Aurora: the data layer of two-region apps
        cdk.CfnOutput(self, "DatabaseClusterIdentifier", value=self.app.database.cluster_identifier)
        if self.app.global_cluster is not None:
            cdk.CfnOutput(self, "GlobalClusterIdentifier", value=self.app.global_cluster.ref)


app = cdk.App()
settings = {key: str(app.node.try_get_context(key) or default) for key, default in PLACEHOLDERS.items()}
primary = RegionalAppStack(
    app,
    "ResilientWebAppPrimary",
    settings=settings,
    failover=route53.Failover.PRIMARY,
    env=cdk.Environment(account=settings["account"], region=settings["primary_region"]),
)
RegionalAppStack(
    app,
    "ResilientWebAppSecondary",
    settings=settings,
    failover=route53.Failover.SECONDARY,
    standby_for=primary.app,
    env=cdk.Environment(account=settings["account"], region=settings["secondary_region"]),
)
apply_packs(app)
app.synth()
