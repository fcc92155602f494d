"""A private API: API Gateway -> VPC Link -> internal NLB -> EC2 Auto Scaling -> RDS.

Clients reach a regional REST API protected by a WAF web ACL; the API reaches a service that
lives only in private subnets through a VPC Link (PrivateLink) to an internal Network Load
Balancer; the service reaches a database in isolated subnets that nothing else can touch.
"""

from __future__ import annotations

import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct
from typing_extensions import Unpack

from refarch.constructs import _builders, _dashboards
from refarch.constructs._metrics import FIVE_MINUTES, MetricOptions
from refarch.constructs._props import document_props, read_props
from refarch.constructs.private_api import checks, network
from refarch.constructs.private_api.database import build_database_tier
from refarch.constructs.private_api.edge import Edge, build_edge
from refarch.constructs.private_api.gateway import build_gateway
from refarch.constructs.private_api.monitoring import build_operations
from refarch.constructs.private_api.props import ApiAuthorization, PrivateApiProps
from refarch.constructs.private_api.service import build_service_tier
from refarch.constructs.three_tier_vpc import ThreeTierVpc
from refarch.constructs.web_acl import ProtectiveWebAcl
from refarch.errors import PropValidationError

_OWNER = "PrivateApi"


@document_props(PrivateApiProps)
@jsii.implements(ec2.IConnectable)
class PrivateApi(Construct):
    """A REST API whose backend lives only in private subnets, with its database isolated behind it.

    Attributes: ``api`` (RestApi), ``vpc_link``, ``load_balancer``, ``listener``, ``target_group``,
    ``auto_scaling_group``, ``launch_template``, ``instance_role``, ``database``, ``database_secret``,
    ``secret_rotation``, ``web_acl`` (ProtectiveWebAcl), ``alarms`` (name -> Alarm), ``alarm_topic``,
    ``health_alarm`` (CompositeAlarm), ``dashboard`` (or None), ``edge`` (or None),
    ``encryption_key``, the log groups, the three security groups, and ``connections`` (the instances).

    Example::

        network = ThreeTierVpc(self, "Network", db_port=5432)
        api = PrivateApi(
            self, "Api", vpc=network,
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17_6),
        )
        api.grant_invoke(partner_role)
    """

    def __init__(self, scope: Construct, id: str, **props: Unpack[PrivateApiProps]) -> None:
        """Build the data path in order: network, database, service, API, WAF, edge, alarms."""
        p = read_props(_OWNER, PrivateApiProps, props)
        checked = checks.check_props(scope, p)
        super().__init__(scope, id)
        path = self.node.path
        self.authorization: ApiAuthorization = p["authorization"]
        self.stage_name, self.app_port, self.listener_port = p["stage_name"], p["app_port"], p["listener_port"]
        self.database_port = db_port = checked.database_port

        # -- key and alarm topic ---------------------------------------------------------------
        own_key: kms.Key | None = None
        key = p["encryption_key"]
        if key is None:
            key = own_key = _builders.build_logs_key(
                self,
                "Key",
                description=f"Encrypts the database, its secret and the logs of {path}",
                removal_policy=p["removal_policy"],
            )
        self.encryption_key: kms.IKey = key
        self.alarm_topic: sns.ITopic = p["alarm_topic"] or _dashboards.build_alarm_topic(
            self, "AlarmTopic", removal_policy=p["removal_policy"], description=f"alarms of {path}", own_key=own_key
        )

        # -- network: the given one (checked), else a ThreeTierVpc with this API's ports ---------
        placement = checked.placement or network.place(
            ThreeTierVpc(
                self,
                "Network",
                app_port=self.app_port,
                db_port=db_port,
                encryption_key=self.encryption_key,
                removal_policy=p["removal_policy"],
                alarm_topic=self.alarm_topic,
            ),
            None,
            None,
        )
        self.network, self.vpc = placement.network, placement.vpc
        groups = network.build_security_groups(self, placement, app_port=self.app_port, db_port=db_port)
        self.load_balancer_security_group, self.service_security_group = groups.load_balancer, groups.service
        self.database_security_group = groups.database
        if self.network is not None:
            network.open_service_tier(
                self.network.app,
                [s.ipv4_cidr_block for s in placement.service_subnets],
                app_port=self.app_port,
                listener_port=self.listener_port,
            )

        # -- database, then the service in front of it -----------------------------------------
        self.database, self.secret_rotation = build_database_tier(
            self,
            p,
            placement=placement,
            security_group=groups.database,
            port=db_port,
            encryption_key=self.encryption_key,
        )
        assert self.database.secret is not None  # generated credentials always have a secret
        self.database_secret: secretsmanager.ISecret = self.database.secret
        service = build_service_tier(
            self,
            p,
            placement=placement,
            service_security_group=groups.service,
            load_balancer_security_group=groups.load_balancer,
            database=self.database,
            database_port=db_port,
            notifications_topic=self.alarm_topic,
            description=f"PrivateApi service instances of {path}",
        )
        self.instance_role, self.user_data = service.instance_role, service.user_data
        self.launch_template, self.auto_scaling_group = service.launch_template, service.auto_scaling_group
        self.load_balancer, self.listener, self.target_group = (
            service.load_balancer,
            service.listener,
            service.target_group,
        )

        # -- API, through the VPC Link to the NLB; WAF on its stage ----------------------------
        gateway = build_gateway(
            self, p, path=path, load_balancer=self.load_balancer, encryption_key=self.encryption_key
        )
        self.api, self.vpc_link, self.authorizer = gateway.api, gateway.vpc_link, gateway.authorizer
        self.access_log_group, self.execution_log_group = gateway.access_log_group, gateway.execution_log_group
        self.request_validator, self.proxy_resource = gateway.request_validator, gateway.proxy_resource
        self.lambda_resource, self.usage_plan, self.api_key = (
            gateway.lambda_resource,
            gateway.usage_plan,
            gateway.api_key,
        )
        self.web_acl = ProtectiveWebAcl(
            self,
            "WebAcl",
            rate_limit=p["waf_rate_limit"],
            encryption_key=self.encryption_key,
            log_retention=p["log_retention"],
            removal_policy=p["removal_policy"],
        )
        self.web_acl_association = self.web_acl.associate(self.api.deployment_stage.stage_arn)

        # -- edge (with a domain_name) ---------------------------------------------------------
        self.edge: Edge | None = None
        if p["domain_name"] is not None and p["hosted_zone"] is not None:
            self.edge = build_edge(
                self,
                api=self.api,
                domain_name=p["domain_name"],
                hosted_zone=p["hosted_zone"],
                certificate=p["edge_certificate"],
                web_acl_arn=p["edge_web_acl_arn"],
                removal_policy=p["removal_policy"],
            )

        network.declare_flows(
            self,
            placement,
            network.DataPath(self.load_balancer, self.auto_scaling_group, self.database, self.secret_rotation),
            listener_port=self.listener_port,
            app_port=self.app_port,
            db_port=db_port,
        )

        # -- alarms and dashboard --------------------------------------------------------------
        self.alarms, self.dashboard, self.health_alarm = build_operations(
            self,
            p,
            path=path,
            api=self.api,
            web_acl=self.web_acl,
            service=service,
            database=self.database,
            topic=self.alarm_topic,
        )

    # -- attributes and grants -----------------------------------------------------------------

    @property
    def connections(self) -> ec2.Connections:
        """The service instances' security group: allow them to reach more, or more to reach them."""
        return self.service_security_group.connections

    @property
    def url(self) -> str:
        """The URL of the API stage."""
        return self.api.url

    def grant_invoke(self, grantee: iam.IGrantable, *, method: str = "*", path: str = "/*") -> iam.Grant:
        """Let ``grantee`` call ``method`` on ``path`` of the stage; needs IAM authorization.

        :param method: HTTP method, or ``"*"`` for every method. Default: ``"*"``
        :param path: Resource path; end it with ``/*`` to include everything below. Default: ``"/*"`` (all)

        Wildcards are reported by AwsSolutions-IAM5 on the grantee's policy: grant exact methods and
        paths where you can (``grant_invoke(role, method="GET", path="/orders")``).
        """
        if self.authorization is not ApiAuthorization.IAM:
            raise PropValidationError(
                _OWNER,
                "authorization",
                self.authorization,
                "grant_invoke needs ApiAuthorization.IAM: with other authorization, IAM grants are not checked.",
            )
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["execute-api:Invoke"],
            resource_arns=[self.api.arn_for_execute_api(method, path, self.stage_name)],
        )

    def metric_server_error_rate(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Fraction of API requests answered 5XX (the average of 0 or 1 per request, over 5 minutes unless
        ``period`` says otherwise); the options are ``cloudwatch.MetricOptions`` and win over these defaults."""
        options.setdefault("statistic", "Average")
        options.setdefault("period", FIVE_MINUTES)
        return self.api.metric_server_error(**options)


__all__ = ["ApiAuthorization", "PrivateApi"]
