"""Reference stack: the resilient web application in one region (CloudFront -> public ALB -> front group ->
internal ALB -> back group -> Multi-AZ Aurora PostgreSQL, a Valkey cache and a work queue), on a two-AZ
three-tier VPC."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from refarch.constructs import ThreeTierVpc
from refarch.constructs.resilient_web_app import ResilientWebApp

FRONT_PORT = 8080
DB_PORT = 5432  # Aurora PostgreSQL, the construct's default data layer


class ResilientWebAppStack(Stack):
    """No domain: viewers use the distribution's ``*.cloudfront.net`` name (HTTPS), and the public ALB
    answers only CloudFront (secret origin header). Give the construct a domain_name and hosted_zone for
    your own name, HTTPS to the origin and Route 53 health checks."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, description="cdk-refarch reference: resilient web application", **kwargs)
        self.network = ThreeTierVpc(self, "Network", max_azs=2, app_port=FRONT_PORT, db_port=DB_PORT)
        # One alarm topic for the whole application: the network's alarms and the app's notify the same one.
        # The optional parts on, so the packs, the flow contract and the deploy checks cover them: a Valkey cache
        # for the back instances and a work queue from the front to the back.
        self.app = ResilientWebApp(
            self, "App", vpc=self.network, alarm_topic=self.network.alarm_topic, cache=True, work_queue=True
        )
