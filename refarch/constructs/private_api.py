"""A private API: API Gateway -> VPC Link -> internal NLB -> EC2 Auto Scaling -> RDS.

Clients reach a regional REST API protected by a WAF web ACL; the API reaches a service that
lives only in private subnets through a VPC Link (PrivateLink) to an internal Network Load
Balancer; the service reaches a database in isolated subnets that nothing else can touch.
"""

from __future__ import annotations

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders, _dashboards, _defaults
from refarch.constructs import private_api_checks as checks
from refarch.constructs import private_api_gateway as gateway
from refarch.constructs import private_api_tiers as tiers
from refarch.constructs._network_checks import check_database_azs, selected
from refarch.constructs._validation import (
    PropValidationError,
    check_one_of,
)
from refarch.constructs.private_api_checks import ApiAuthorization
from refarch.constructs.private_api_edge import Edge, build_edge
from refarch.constructs.private_api_monitoring import api_panels
from refarch.constructs.three_tier_vpc import ThreeTierVpc
from refarch.constructs.web_acl import ProtectiveWebAcl
from refarch.contracts import flows

_OWNER = "PrivateApi"

#: The engine when none is given: MySQL 8.4 (the LTS line), pinned to a full version.
DEFAULT_ENGINE_VERSION = rds.MysqlEngineVersion.VER_8_4_7

_AlarmSpec = tuple[str, cloudwatch.IMetric, float, cloudwatch.ComparisonOperator, str, cloudwatch.TreatMissingData]


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

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc | ThreeTierVpc | None = None,
        service_subnets: ec2.SubnetSelection | None = None,
        database_subnets: ec2.SubnetSelection | None = None,
        # -- API
        stage_name: str = "prod",
        authorization: ApiAuthorization = ApiAuthorization.IAM,
        user_pool: cognito.IUserPool | None = None,
        throttling_rate_limit: float = 100,
        throttling_burst_limit: int = 200,
        execution_log_level: apigw.MethodLoggingLevel = apigw.MethodLoggingLevel.INFO,
        cloud_watch_role: bool = False,
        cache_cluster_size: str | None = None,
        usage_plan: bool = False,
        usage_plan_quota_per_day: int | None = None,
        lambda_function: lambda_.IFunction | None = None,
        lambda_path: str | None = None,
        waf_rate_limit: int = 2000,
        domain_name: str | None = None,
        hosted_zone: route53.IHostedZone | None = None,
        edge_certificate: acm.ICertificate | None = None,
        edge_web_acl_arn: str | None = None,
        # -- service tier
        listener_port: int = 80,
        app_port: int = 8080,
        health_check_path: str = "/health",
        instance_type: ec2.InstanceType | None = None,
        machine_image: ec2.IMachineImage | None = None,
        user_data: ec2.UserData | None = None,
        root_volume_size_gib: int = 20,
        min_capacity: int = 2,
        max_capacity: int = 4,
        desired_capacity: int | None = None,
        cpu_target_percent: float = 70,
        # -- database tier
        engine: rds.IInstanceEngine | None = None,
        database_instance_type: ec2.InstanceType | None = None,
        database_port: int | None = None,
        database_name: str = "app",
        database_iam_user: str = "app",
        allocated_storage_gib: int = 20,
        max_allocated_storage_gib: int = 100,
        multi_az: bool = True,
        backup_retention: Duration | None = None,
        deletion_protection: bool = True,
        secret_rotation_interval: Duration | None = None,
        monitoring_interval: Duration | None = None,
        # -- shared
        encryption_key: kms.IKey | None = None,
        log_retention: logs.RetentionDays | None = None,
        removal_policy: RemovalPolicy = _defaults.DATA_REMOVAL_POLICY,
        # -- alarms
        alarm_topic: sns.ITopic | None = None,
        alarm_api_5xx_rate: float = 0.05,
        alarm_api_p99_latency: Duration | None = None,
        alarm_db_cpu_percent: float = 80,
        alarm_db_free_storage_gib: float = 2,
        alarm_db_connections: int = 100,
        dashboard: bool | str = True,
    ) -> None:
        """
        :param vpc: The network. A ``ThreeTierVpc`` (or its ``vpc``) is used tier by tier: service in App,
            database in Db, its app-tier network ACL opened to load balancer traffic. Any other ``ec2.IVpc``
            needs private subnets with egress and isolated subnets. The database subnets must span 2 AZs.
            Default: - a new ``ThreeTierVpc`` with this construct's app and database ports
        :param service_subnets: Subnets of the NLB and the instances. Default: - the App tier of a
            ThreeTierVpc, else the private subnets with egress
        :param database_subnets: Subnets of the database. Default: - the Db tier of a ThreeTierVpc, else
            the isolated subnets
        :param stage_name: Name of the API stage. Default: ``"prod"``
        :param authorization: Who may call the API. ``ApiAuthorization.NONE`` leaves it open (WAF and
            throttling still apply) and the compliance packs report it (AwsSolutions-APIG4, -COG4): it is
            the user's decision, not acknowledged here. Default: ``ApiAuthorization.IAM``
        :param user_pool: The Cognito user pool whose tokens are accepted; required with, and only with,
            ``ApiAuthorization.COGNITO``. Default: - none
        :param throttling_rate_limit: Steady-state requests per second of the stage, at least 1. Default: ``100``
        :param throttling_burst_limit: Burst of requests of the stage, at least 1. Default: ``200``
        :param execution_log_level: Execution logging level of every method (request and response bodies are
            never logged). Execution logs need the account's API Gateway CloudWatch role: see
            ``cloud_watch_role``. Default: ``MethodLoggingLevel.INFO``
        :param cloud_watch_role: Create the API Gateway CloudWatch role and set it in the account's API
            Gateway settings. That setting is ACCOUNT-WIDE, one per region: set this on one API of the
            account (or run ``aws apigateway update-account``) before any stage with execution logging is
            deployed. The role is retained when the stack is deleted. Default: ``False``
        :param cache_cluster_size: Size in GB of an encrypted response cache (``"0.5"`` to ``"237"``); it is
            billed per hour. Default: - no cache
        :param usage_plan: Require an API key on every method and create a usage plan with one key, throttled
            like the stage. Default: ``False``
        :param usage_plan_quota_per_day: Requests per day each key of the usage plan may make; needs
            ``usage_plan``. Default: - no quota
        :param lambda_function: A function to serve under ``/{lambda_path}`` (and everything below it), beside
            the service behind the VPC Link. Default: - no Lambda route
        :param lambda_path: Path segment of the Lambda route; needs ``lambda_function``. Default: ``"lambda"``
        :param waf_rate_limit: Requests per 5 minutes one client IP may send before WAF blocks it.
            Default: ``2000``
        :param domain_name: A custom domain for the API: CloudFront in front of it (HTTPS only, TLS 1.2+,
            security headers, no caching), an ACM certificate and Route 53 alias records. Needs
            ``hosted_zone`` and Cognito or no authorization (SigV4 signatures name the host CloudFront
            replaces). Default: - no edge resources
        :param hosted_zone: The public hosted zone ``domain_name`` belongs to. Default: - none
        :param edge_certificate: A certificate for ``domain_name`` in us-east-1, as CloudFront requires.
            Default: - a new DNS-validated certificate, when the stack is in us-east-1 (required otherwise)
        :param edge_web_acl_arn: ARN of a CloudFront-scoped web ACL for the distribution (for example a
            ``ProtectiveWebAcl`` with ``WafScope.CLOUDFRONT`` in a us-east-1 stack).
            Default: - none at the edge; the stage's regional web ACL still applies
        :param listener_port: TCP port of the NLB listener. Default: ``80``
        :param app_port: TCP port the service listens on. Default: ``8080``
        :param health_check_path: HTTP path of the NLB health check on the app port. Default: ``"/health"``
        :param instance_type: Instance type of the service. Default: ``t4g.small``
        :param machine_image: Machine image of the service (its root device must be ``/dev/xvda``).
            Default: - the latest Amazon Linux 2023 for the instance type's architecture
        :param user_data: Commands the instances run at launch to start the service on ``app_port``.
            Default: - a small HTTP service (``refarch/runtime/private_api/service.py``) answering
            ``/health``, ``/db`` (a TCP check of the database) and every other path
        :param root_volume_size_gib: Size of the encrypted gp3 root volume. Default: ``20``
        :param min_capacity: Minimum number of instances, at least 1. Default: ``2``
        :param max_capacity: Maximum number of instances. Default: ``4``
        :param desired_capacity: Initial number of instances (every deploy resets it). Default: - ``min_capacity``
        :param cpu_target_percent: Average CPU the target-tracking policy keeps the group at. Default: ``70``
        :param engine: Database engine, MySQL or PostgreSQL with a full version.
            Default: - MySQL ``8.4.7``
        :param database_instance_type: Instance class of the database (Performance Insights needs at least a
            medium class). Default: ``t4g.medium``
        :param database_port: TCP port of the database. Default: - the engine's default port
        :param database_name: Name of the database created in the instance. Default: ``"app"``
        :param database_iam_user: Database user the instance role may connect as with IAM authentication
            (create it in the database: see the README). Default: ``"app"``
        :param allocated_storage_gib: Initial storage, 20 to 65536 GiB. Default: ``20``
        :param max_allocated_storage_gib: Storage autoscaling ceiling. Default: ``100``
        :param multi_az: A standby in a second AZ with automatic failover (doubles the instance cost). With
            ``False`` the packs report AwsSolutions-RDS3 and RDSMultiAZSupport, by design. Default: ``True``
        :param backup_retention: How long automated backups are kept, 1 to 35 days. Default: ``Duration.days(7)``
        :param deletion_protection: Protect the database from deletion (it is also retained with the
            default ``removal_policy``). The NLB is never protected: it holds no data, the stack deletes it,
            and a protected NLB makes the stack delete fail. Default: ``True``
        :param secret_rotation_interval: How often the master password rotates, 1 to 365 days.
            Default: ``Duration.days(30)``
        :param monitoring_interval: Enhanced monitoring interval (0, 1, 5, 10, 15, 30 or 60 seconds; 0 is off).
            Default: ``Duration.seconds(60)``
        :param encryption_key: Key of the database storage, Performance Insights, the secret and every log
            group; it must admit CloudWatch Logs. Default: - a new customer-managed key with rotation
        :param log_retention: Retention of every log group. Default: ``RetentionDays.ONE_YEAR``
        :param removal_policy: What happens to the database, its key and the log groups when removed from the
            stack. Default: ``RemovalPolicy.RETAIN``
        :param alarm_topic: SNS topic for alarm (and recovery) notifications, the health alarm and Auto Scaling
            events. Default: - a new topic encrypted with the construct's key (a new key when ``encryption_key``
            is given)
        :param alarm_api_5xx_rate: Fraction of requests answered 5XX (over 3 x 5 minutes) that alarms, above 0
            and at most 1. Default: ``0.05``
        :param alarm_api_p99_latency: p99 latency of the API that alarms. Default: ``Duration.seconds(2)``
        :param alarm_db_cpu_percent: Database CPU that alarms. Default: ``80``
        :param alarm_db_free_storage_gib: Free database storage below which the alarm fires. Default: ``2``
        :param alarm_db_connections: Database connections that alarm. Default: ``100``
        :param dashboard: ``False`` for no CloudWatch dashboard, or a name for it. Default: - a dashboard
            with a generated name
        """
        super().__init__(scope, id)
        path = self.node.path
        _dashboards.check_alarm_topic_prop(_OWNER, alarm_topic)
        _dashboards.check_dashboard_prop(_OWNER, dashboard)
        check_one_of(_OWNER, "authorization", authorization, list(ApiAuthorization))
        if engine is None:
            engine, engine_family = rds.DatabaseInstanceEngine.mysql(version=DEFAULT_ENGINE_VERSION), "mysql"
        else:
            engine_family = checks.engine_family(engine)
        if vpc is not None and not isinstance(vpc, ThreeTierVpc) and isinstance(vpc.node.scope, ThreeTierVpc):
            vpc = vpc.node.scope  # network.vpc was passed: its tiers and network ACLs still apply
        db_port = database_port if database_port is not None else (3306 if engine_family == "mysql" else 5432)
        checks.validate(
            vpc=vpc,
            stage_name=stage_name,
            authorization=authorization,
            user_pool=user_pool,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            cache_cluster_size=cache_cluster_size,
            usage_plan=usage_plan,
            usage_plan_quota_per_day=usage_plan_quota_per_day,
            lambda_function=lambda_function,
            lambda_path=lambda_path,
            listener_port=listener_port,
            app_port=app_port,
            db_port=db_port,
            health_check_path=health_check_path,
            root_volume_size_gib=root_volume_size_gib,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            desired_capacity=desired_capacity,
            cpu_target_percent=cpu_target_percent,
            database_name=database_name,
            allocated_storage_gib=allocated_storage_gib,
            max_allocated_storage_gib=max_allocated_storage_gib,
            backup_retention=backup_retention,
            secret_rotation_interval=secret_rotation_interval,
            monitoring_interval=monitoring_interval,
            alarm_api_5xx_rate=alarm_api_5xx_rate,
            alarm_db_cpu_percent=alarm_db_cpu_percent,
            alarm_db_free_storage_gib=alarm_db_free_storage_gib,
            alarm_db_connections=alarm_db_connections,
        )
        checks.check_edge(
            self,
            domain_name=domain_name,
            hosted_zone=hosted_zone,
            certificate=edge_certificate,
            web_acl_arn=edge_web_acl_arn,
            authorization=authorization,
        )
        self.authorization = authorization
        self.app_port = app_port
        self.listener_port = listener_port
        self.database_port = db_port
        self.stage_name = stage_name
        log_retention = log_retention or _defaults.LOG_RETENTION

        # -- network: a given one is checked before anything is built ---------------------------
        if vpc is not None:
            database_prop = "database_subnets" if database_subnets is not None else "vpc"
            service_subnets, database_subnets = self._use_network(vpc, service_subnets, database_subnets)
            check_database_azs(_OWNER, database_prop, selected(self.vpc, database_subnets), multi_az=multi_az)

        # -- key -------------------------------------------------------------------------------
        own_key: kms.Key | None = None
        if encryption_key is None:
            key = own_key = _builders.build_logs_key(
                self,
                "Key",
                description=f"Encrypts the database, its secret and the logs of {path}",
                removal_policy=removal_policy,
            )
            encryption_key = key
        self.encryption_key: kms.IKey = encryption_key
        self.alarm_topic: sns.ITopic = alarm_topic or _dashboards.build_alarm_topic(
            self, "AlarmTopic", removal_policy=removal_policy, description=f"alarms of {path}", own_key=own_key
        )
        if vpc is None:
            vpc = ThreeTierVpc(
                self,
                "Network",
                app_port=app_port,
                db_port=db_port,
                encryption_key=encryption_key,
                removal_policy=removal_policy,
                alarm_topic=self.alarm_topic,
            )
            service_subnets, database_subnets = self._use_network(vpc, service_subnets, database_subnets)
        assert service_subnets is not None and database_subnets is not None  # set by _use_network

        # -- security groups: VPC Link -> NLB -> service -> database ---------------------------
        self.load_balancer_security_group = ec2.SecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Internal NLB: reached only through the VPC Link; forwards to the service port",
        )
        self.service_security_group = ec2.SecurityGroup(
            self,
            "ServiceSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Service instances: app port from the NLB; HTTPS out; database port to the database",
        )
        self.database_security_group = ec2.SecurityGroup(
            self,
            "DatabaseSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Database: its port from the service instances (and the rotation function) only",
        )
        self.service_security_group.connections.allow_from(
            self.load_balancer_security_group, ec2.Port.tcp(app_port), "NLB traffic and health checks"
        )
        self.service_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs (SSM) and package repositories"
        )
        self.database_security_group.connections.allow_from(
            self.service_security_group, ec2.Port.tcp(db_port), "Service instances to the database"
        )
        if self.network is not None:
            tiers.open_service_tier(
                self.network.app,
                [s.ipv4_cidr_block for s in self._service_subnet_list],
                app_port=app_port,
                listener_port=listener_port,
            )

        # -- database --------------------------------------------------------------------------
        self.database = tiers.build_database(
            self,
            vpc=self.vpc,
            subnets=database_subnets,
            security_group=self.database_security_group,
            engine=engine,
            engine_family=engine_family,
            instance_type=database_instance_type
            or ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MEDIUM),
            port=db_port,
            database_name=database_name,
            allocated_storage_gib=allocated_storage_gib,
            max_allocated_storage_gib=max_allocated_storage_gib,
            multi_az=multi_az,
            backup_retention=backup_retention or Duration.days(7),
            deletion_protection=deletion_protection,
            monitoring_interval=monitoring_interval if monitoring_interval is not None else Duration.seconds(60),
            encryption_key=encryption_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        assert self.database.secret is not None
        self.database_secret: secretsmanager.ISecret = self.database.secret
        self.secret_rotation = self.database.add_rotation_single_user(
            automatically_after=secret_rotation_interval or Duration.days(30), vpc_subnets=service_subnets
        )
        tiers.pin_rotation_port(self.database_security_group, db_port)
        acknowledge(
            self.database,
            "The database keeps its engine's standard port: only the service security group (and the secret "
            "rotation function) can reach it, from the app subnets; pass database_port to change it.",
            "AwsSolutions-RDS11",
        )
        acknowledge(
            self.database,
            "Automated backups with point-in-time recovery are on (backup_retention); an AWS Backup plan is an "
            "account-level policy (vaults, copies, retention across services) the account owner defines.",
            "HIPAA.Security-RDSInBackupPlan",
            "NIST.800.53.R5-RDSInBackupPlan",
            "PCI.DSS.321-RDSInBackupPlan",
        )

        # -- service tier ----------------------------------------------------------------------
        self.instance_role = tiers.build_service_role(self, f"PrivateApi service instances of {path}")
        self.database.grant_connect(self.instance_role, database_iam_user)
        instance_type = instance_type or ec2.InstanceType.of(
            ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.SMALL
        )
        cpu = (
            ec2.AmazonLinuxCpuType.ARM_64
            if instance_type.architecture == ec2.InstanceArchitecture.ARM_64
            else ec2.AmazonLinuxCpuType.X86_64
        )
        self.user_data = user_data or tiers.default_user_data(
            app_port=app_port, db_host=self.database.db_instance_endpoint_address, db_port=db_port
        )
        self.launch_template, self.auto_scaling_group = tiers.build_auto_scaling_group(
            self,
            vpc=self.vpc,
            subnets=service_subnets,
            security_group=self.service_security_group,
            role=self.instance_role,
            instance_type=instance_type,
            machine_image=machine_image or ec2.MachineImage.latest_amazon_linux2023(cpu_type=cpu),
            user_data=self.user_data,
            root_volume_size_gib=root_volume_size_gib,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            desired_capacity=desired_capacity,
            cpu_target_percent=cpu_target_percent,
            notifications_topic=self.alarm_topic,
        )

        # -- NLB -------------------------------------------------------------------------------
        self.load_balancer = elbv2.NetworkLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.vpc,
            vpc_subnets=service_subnets,
            internet_facing=False,
            cross_zone_enabled=True,
            security_groups=[self.load_balancer_security_group],
            # VPC Link traffic arrives over PrivateLink: admit it without opening any inbound rule.
            enforce_security_group_inbound_rules_on_private_link_traffic=False,
            # Not protected: the stack deletes the NLB (it holds no data and is rebuilt from the template),
            # and deletion protection would make every stack delete fail on it.
            deletion_protection=False,
        )
        acknowledge(
            self.load_balancer,
            "NLB access logs are written only for TLS listeners; this listener carries TCP from the VPC Link, "
            "and each request is logged in the API stage's access log and the VPC flow logs instead.",
            "AwsSolutions-ELB2",
            "HIPAA.Security-ELBLoggingEnabled",
            "NIST.800.53.R5-ELBLoggingEnabled",
            "PCI.DSS.321-ELBLoggingEnabled",
        )
        acknowledge(
            self.load_balancer,
            "The NLB holds no data: the stack deletes it and a redeploy rebuilds it from the template. Deletion "
            "protection on it would make every stack delete and creation rollback fail; the database behind it "
            "is the resource that is protected and retained.",
            "HIPAA.Security-ELBDeletionProtectionEnabled",
            "NIST.800.53.R5-ELBDeletionProtectionEnabled",
        )
        self.listener = self.load_balancer.add_listener("Listener", port=listener_port, protocol=elbv2.Protocol.TCP)
        acknowledge(
            self.listener,
            "Client TLS terminates at API Gateway; this internal listener receives only VPC Link traffic, "
            "carried over AWS PrivateLink and never the internet. A TLS listener needs a certificate for a "
            "domain the user owns.",
            "HIPAA.Security-ELBv2ACMCertificateRequired",
            "NIST.800.53.R5-ELBv2ACMCertificateRequired",
            "PCI.DSS.321-ELBv2ACMCertificateRequired",
        )
        self.target_group = self.listener.add_targets(
            "Service",
            port=app_port,
            protocol=elbv2.Protocol.TCP,
            targets=[self.auto_scaling_group],
            deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                protocol=elbv2.Protocol.HTTP,
                path=health_check_path,
                interval=Duration.seconds(10),
                healthy_threshold_count=3,
                unhealthy_threshold_count=3,
            ),
        )

        # -- API -------------------------------------------------------------------------------
        self.api, self.access_log_group, self.execution_log_group = gateway.build_rest_api(
            self,
            path=path,
            stage_name=stage_name,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            execution_log_level=execution_log_level,
            cloud_watch_role=cloud_watch_role,
            cache_cluster_size=cache_cluster_size,
            encryption_key=encryption_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        stage = self.api.deployment_stage
        self.vpc_link = apigw.VpcLink(
            self, "VpcLink", targets=[self.load_balancer], description=f"To the internal NLB of {path}"
        )
        self.request_validator = self.api.add_request_validator(
            "RequestValidator", validate_request_parameters=True, validate_request_body=True
        )
        self.authorizer: apigw.IAuthorizer | None = None
        if authorization is ApiAuthorization.COGNITO:
            assert user_pool is not None
            self.authorizer = apigw.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[user_pool])
        self._api_key_required = usage_plan
        base = f"http://{self.load_balancer.load_balancer_dns_name}:{listener_port}"
        self._add_method(
            self.api.root, gateway.vpc_link_integration(f"{base}/", self.vpc_link, proxy=False), proxy=False
        )
        self.proxy_resource = self.api.root.add_resource("{proxy+}")
        self._add_method(
            self.proxy_resource,
            gateway.vpc_link_integration(f"{base}/{{proxy}}", self.vpc_link, proxy=True),
            proxy=True,
        )

        self.lambda_resource: apigw.Resource | None = None
        if lambda_function is not None:
            self.lambda_resource = self.api.root.add_resource(lambda_path or "lambda")
            integration = apigw.LambdaIntegration(lambda_function)
            self._add_method(self.lambda_resource, integration, proxy=False)
            self._add_method(self.lambda_resource.add_resource("{proxy+}"), integration, proxy=True)

        self.usage_plan: apigw.UsagePlan | None = None
        self.api_key: apigw.IApiKey | None = None
        if usage_plan:
            self.usage_plan = self.api.add_usage_plan(
                "UsagePlan",
                description=f"Keys of {path}",
                throttle=apigw.ThrottleSettings(rate_limit=throttling_rate_limit, burst_limit=throttling_burst_limit),
                quota=apigw.QuotaSettings(limit=usage_plan_quota_per_day, period=apigw.Period.DAY)
                if usage_plan_quota_per_day is not None
                else None,
            )
            self.usage_plan.add_api_stage(stage=stage)
            self.api_key = self.api.add_api_key("ApiKey", description=f"Key of {path}")
            self.usage_plan.add_api_key(self.api_key)

        # -- WAF -------------------------------------------------------------------------------
        self.web_acl = ProtectiveWebAcl(
            self,
            "WebAcl",
            rate_limit=waf_rate_limit,
            encryption_key=encryption_key,
            log_retention=log_retention or _defaults.LOG_RETENTION,
            removal_policy=removal_policy,
        )
        self.web_acl_association = self.web_acl.associate(stage.stage_arn)

        # -- edge ------------------------------------------------------------------------------
        self.edge: Edge | None = None
        if domain_name is not None and hosted_zone is not None:
            self.edge = build_edge(
                self,
                api=self.api,
                domain_name=domain_name,
                hosted_zone=hosted_zone,
                certificate=edge_certificate,
                web_acl_arn=edge_web_acl_arn,
                removal_policy=removal_policy,
            )

        self._declare_flows(listener_port=listener_port, app_port=app_port, db_port=db_port)

        # -- alarms ----------------------------------------------------------------------------
        alarms_scope = Construct(self, "Alarms")
        self.alarms = tiers.build_alarms(
            alarms_scope,
            owner_path=path,
            api=self.api,
            target_group=self.target_group,
            auto_scaling_group=self.auto_scaling_group,
            database=self.database,
            min_capacity=min_capacity,
            api_5xx_rate=alarm_api_5xx_rate,
            api_p99_latency=alarm_api_p99_latency or Duration.seconds(2),
            db_cpu_percent=alarm_db_cpu_percent,
            db_free_storage_gib=alarm_db_free_storage_gib,
            db_connections=alarm_db_connections,
        )
        action = cw_actions.SnsAction(self.alarm_topic)
        for alarm in self.alarms.values():
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        self.dashboard, self.health_alarm = _dashboards.build_operations_view(
            self,
            dashboard=dashboard,
            title=path,
            panels=api_panels(
                api=self.api,
                web_acl=self.web_acl,
                target_group=self.target_group,
                auto_scaling_group=self.auto_scaling_group,
                database=self.database,
            ),
            alarms=self.alarms,
            topic=self.alarm_topic,
        )

    def _use_network(
        self,
        vpc: ec2.IVpc | ThreeTierVpc,
        service_subnets: ec2.SubnetSelection | None,
        database_subnets: ec2.SubnetSelection | None,
    ) -> tuple[ec2.SubnetSelection, ec2.SubnetSelection]:
        self.network: ThreeTierVpc | None = vpc if isinstance(vpc, ThreeTierVpc) else None
        self.vpc: ec2.IVpc = vpc.vpc if isinstance(vpc, ThreeTierVpc) else vpc
        if self.network is not None and service_subnets is None and database_subnets is None:
            # A ThreeTierVpc always has its App and Db tiers: nothing to look up or check.
            self._service_subnet_list: list[ec2.ISubnet] = list(self.network.app.subnets)
            return self.network.app.subnet_selection, self.network.db.subnet_selection
        if self.network is not None:
            service_subnets = service_subnets or self.network.app.subnet_selection
            database_subnets = database_subnets or self.network.db.subnet_selection
        service_subnets = service_subnets or checks.PRIVATE_WITH_EGRESS
        database_subnets = database_subnets or checks.PRIVATE_ISOLATED
        self._service_subnet_list = checks.check_subnets(
            self.vpc, "service_subnets", service_subnets, "private subnets with egress (a NAT gateway)"
        )
        checks.check_subnets(self.vpc, "database_subnets", database_subnets, "isolated subnets")
        return service_subnets, database_subnets

    def _declare_flows(self, *, listener_port: int, app_port: int, db_port: int) -> None:
        """The data path VPC Link -> NLB -> service -> database, and what must stay closed around it."""
        # The rotation function lives in a nested (SAR) application; its security group is in this stack.
        rotation_group = self.secret_rotation.node.find_child("SecurityGroup")
        assert isinstance(rotation_group, ec2.SecurityGroup)
        rotation = flows.hosts("secret rotation function", self._service_subnet_list, [rotation_group])
        required: list[tuple[flows.FlowEnd, flows.FlowEnd, int, str]] = [
            (flows.vpc_link(self.load_balancer), self.load_balancer, listener_port, "VPC Link to the NLB listener"),
            (self.load_balancer, self.auto_scaling_group, app_port, "NLB traffic and health checks to the service"),
            (self.auto_scaling_group, self.database, db_port, "service to the database"),
            (self.auto_scaling_group, "0.0.0.0/0", 443, "service to Session Manager and AWS APIs over HTTPS"),
            (rotation, self.database, db_port, "secret rotation to the database"),
            (rotation, flows.aws_service("secretsmanager"), 443, "secret rotation to Secrets Manager"),
        ]
        for source, destination, port, reason in required:
            flows.require_flow(self, source=source, destination=destination, port=port, reason=reason)
        forbidden: list[tuple[flows.FlowEnd, flows.FlowEnd, int, str]] = [
            ("0.0.0.0/0", self.auto_scaling_group, app_port, "the service is reached only through the NLB"),
            ("0.0.0.0/0", self.database, db_port, "the database is never reachable from the internet"),
        ]
        if self.network is not None:
            web = flows.hosts("any host in the web tier", self.network.web.subnets)
            forbidden.append((web, self.database, db_port, "the web tier must not reach the database"))
        for source, destination, port, reason in forbidden:
            flows.forbid_flow(self, source=source, destination=destination, port=port, reason=reason)

    def _add_method(self, resource: apigw.IResource, integration: apigw.Integration, *, proxy: bool) -> apigw.Method:
        return gateway.add_method(
            resource,
            integration,
            authorization=self.authorization,
            authorizer=self.authorizer,
            api_key_required=self._api_key_required,
            request_validator=self.request_validator,
            proxy=proxy,
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

    def metric_server_error_rate(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Fraction of API requests answered 5XX."""
        return self.api.metric_server_error(statistic="Average", period=period or Duration.minutes(5))


__all__ = ["ApiAuthorization", "PrivateApi"]
