"""ResilientWebApp: Route 53 -> CloudFront/WAF -> public ALB -> front group -> internal ALB -> back group ->
Multi-AZ Aurora (or DynamoDB), on a ThreeTierVpc, with no single point of failure from DNS to data.

Modules by concern: ``props`` (enums, checks), ``edge`` (CloudFront, origin header, records), ``front``
(public ALB), ``back`` (internal ALB), ``fleet`` (launch template and Auto Scaling group), ``data``
(Aurora or DynamoDB), ``alarms``.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_shield as shield
from aws_cdk import aws_sns as sns
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders, _dashboards, _defaults
from refarch.constructs._network_checks import check_database_azs
from refarch.constructs._validation import PropValidationError
from refarch.constructs.private_api_tiers import default_user_data, pin_rotation_port
from refarch.constructs.resilient_web_app import alarms, back, data, edge, front
from refarch.constructs.resilient_web_app import props as checks
from refarch.constructs.resilient_web_app.cache import Cache, build_cache, cache_alarms, open_cache_port
from refarch.constructs.resilient_web_app.fleet import Fleet, build_fleet, scale_on_requests
from refarch.constructs.resilient_web_app.props import OWNER, Capacity, DataLayer
from refarch.constructs.resilient_web_app.work_queue import WorkQueue, build_work_queue, dead_letter_alarm
from refarch.constructs.three_tier_vpc import ThreeTierVpc
from refarch.constructs.web_acl import ProtectiveWebAcl
from refarch.contracts import flows


class ResilientWebApp(Construct):
    """A two-layer web application on a :class:`ThreeTierVpc`, Multi-AZ at every layer.

    Example::

        network = ThreeTierVpc(self, "Network", max_azs=2, app_port=8080, db_port=5432)
        app = ResilientWebApp(self, "App", network=network)
        app.grant_data(my_role)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        network: ThreeTierVpc,
        front_port: int | None = None,
        internal_port: int = 80,
        back_port: int = 8081,
        front_capacity: Capacity | None = None,
        back_capacity: Capacity | None = None,
        instance_type: ec2.InstanceType | None = None,
        machine_image: ec2.IMachineImage | None = None,
        front_user_data: ec2.UserData | None = None,
        back_user_data: ec2.UserData | None = None,
        health_check_path: str = "/health",
        health_check_grace: Duration | None = None,
        cpu_target_percent: float = 70,
        requests_per_target: int = 1000,
        data_layer: DataLayer = DataLayer.AURORA_POSTGRESQL,
        database_port: int | None = None,
        database_instance_type: ec2.InstanceType | None = None,
        reader_count: int = 1,
        backup_retention: Duration | None = None,
        secret_rotation_interval: Duration | None = None,
        deletion_protection: bool = True,
        cache: bool = False,
        cache_port: int | None = None,
        cache_node_type: str | None = None,
        work_queue: bool = False,
        work_queue_max_receive_count: int | None = None,
        cloudfront: bool = True,
        domain_name: str | None = None,
        hosted_zone: route53.IHostedZone | None = None,
        edge_certificate: acm.ICertificate | None = None,
        edge_web_acl_arn: str | None = None,
        failover: route53.Failover | None = None,
        waf_rate_limit: int = 2000,
        shield_advanced: bool = False,
        alarm_topic: sns.ITopic | None = None,
        dashboard: bool | str = True,
        alarm_cpu_percent: float = 80,
        alarm_error_rate: float = 0.01,
        alarm_response_time: Duration | None = None,
        encryption_key: kms.IKey | None = None,
        log_retention: logs.RetentionDays | None = None,
        removal_policy: RemovalPolicy = _defaults.DATA_REMOVAL_POLICY,
    ) -> None:
        """
        :param network: The ThreeTierVpc: public ALB in its web tier, groups and internal ALB in its app
            tier, Aurora in its db tier. At least 2 AZs.
        :param front_port: Port of the front instances. Default: - the network's ``app_port``
        :param internal_port: Port of the internal ALB's listener. Default: ``80``
        :param back_port: Port of the back instances. Default: ``8081``
        :param front_capacity: / :param back_capacity: Instances of each group. Default: ``Capacity(2, 6)``
        :param health_check_path: Path the ALBs and Route 53 check. Default: ``"/health"``
        :param health_check_grace: Time an instance has to start before ELB checks count. Default: 5 minutes
        :param cpu_target_percent: CPU target of both groups' target tracking. Default: ``70``
        :param requests_per_target: Requests per minute per instance both groups track. Default: ``1000``
        :param data_layer: Aurora PostgreSQL, Aurora MySQL or DynamoDB. Default: ``DataLayer.AURORA_POSTGRESQL``
        :param database_port: Aurora's port; the network's db tier must open it. Default: - the engine's
        :param reader_count: Aurora readers, each in the next AZ after the writer's. Default: ``1``
        :param backup_retention: Days of automated backups (1-35). Default: 7 days
        :param secret_rotation_interval: Rotation of the database secret. Default: 30 days
        :param deletion_protection: Protect the database or table from deletion. Default: ``True``
        :param cache: An ElastiCache Valkey cache in the db tier for the back instances (TLS, AUTH token,
            customer key, a replica in another AZ with automatic failover). Default: ``False``
        :param cache_port: The cache's port (not Valkey's default 6379). Default: ``6380``
        :param cache_node_type: The cache's node type. Default: ``"cache.t4g.small"``
        :param work_queue: An SQS queue (and dead-letter queue) from the front instances to the back
            instances, for work that can wait. Default: ``False``
        :param work_queue_max_receive_count: Receives before a message goes to the dead-letter queue. Default: ``5``
        :param cloudfront: Put CloudFront in front of the public ALB. Default: ``True``
        :param domain_name: Domain the application answers on (alias records, HTTPS to the origin).
        :param hosted_zone: The zone of ``domain_name``.
        :param edge_certificate: us-east-1 certificate of ``domain_name`` for CloudFront. Default: - made
            here when the stack is in us-east-1
        :param edge_web_acl_arn: A CloudFront-scope web ACL (us-east-1). Default: - the regional one on the ALB only
        :param failover: Make ``origin.<domain>`` a failover record of this region (two-region apps).
        :param shield_advanced: Protect the public ALB (and, in us-east-1, the distribution) with Shield
            Advanced. The account must subscribe first: 3,000 USD a month per organization, a one-year
            commitment, plus data transfer. Default: ``False``
        :param alarm_topic: Topic every alarm and scaling event notifies (pass the network's, for one topic
            per application). Default: - a new encrypted topic
        :param dashboard: ``False`` for no CloudWatch dashboard, or a name for it. Default: - a dashboard
            with a generated name
        :param alarm_cpu_percent: / :param alarm_error_rate: / :param alarm_response_time: thresholds of
            the composite alarm. Default: 80 %, 1 %, 500 ms
        """
        super().__init__(scope, id)
        stack = Stack.of(self)
        if not isinstance(network, ThreeTierVpc):
            raise PropValidationError(
                OWNER, "network", network.node.path, "Allowed: a ThreeTierVpc (its tiers carry the layers)."
            )
        _dashboards.check_alarm_topic_prop(OWNER, alarm_topic)
        _dashboards.check_dashboard_prop(OWNER, dashboard)
        front_port = network.app_port if front_port is None else front_port
        front_capacity = front_capacity or Capacity()
        back_capacity = back_capacity or Capacity()
        health_check_grace = health_check_grace or Duration.minutes(5)
        backup_retention = backup_retention or Duration.days(7)
        secret_rotation_interval = secret_rotation_interval or Duration.days(30)
        alarm_response_time = alarm_response_time or Duration.millis(500)
        checks.check_data(
            data_layer=data_layer,
            reader_count=reader_count,
            backup_retention=backup_retention,
            secret_rotation_interval=secret_rotation_interval,
        )
        if data_layer is DataLayer.DYNAMODB and database_port is not None:
            raise PropValidationError(OWNER, "database_port", database_port, "DynamoDB has no port: leave it unset.")
        database_port = database_port if database_port is not None else data_layer.default_port
        checks.check_optional_parts(
            cache=cache,
            cache_port=cache_port,
            cache_node_type=cache_node_type,
            work_queue=work_queue,
            work_queue_max_receive_count=work_queue_max_receive_count,
        )
        cache_port = cache_port if cache_port is not None else checks.CACHE_PORT
        checks.check_ports(
            network,
            front_port=front_port,
            internal_port=internal_port,
            back_port=back_port,
            database_port=database_port,
            cache_port=cache_port if cache else None,
        )
        checks.check_network_azs(network)
        if data_layer is not DataLayer.DYNAMODB:
            check_database_azs(OWNER, "network", list(network.db.subnets), multi_az=True)
        checks.check_capacity("front_capacity", front_capacity)
        checks.check_capacity("back_capacity", back_capacity)
        checks.check_scaling(
            cpu_target_percent=cpu_target_percent,
            requests_per_target=requests_per_target,
            health_check_grace=health_check_grace,
        )
        checks.check_health_check_path(health_check_path)
        checks.check_edge(
            stack,
            cloudfront=cloudfront,
            domain_name=domain_name,
            hosted_zone=hosted_zone,
            edge_certificate=edge_certificate,
            failover=failover,
            alarm_cpu_percent=alarm_cpu_percent,
            alarm_error_rate=alarm_error_rate,
            alarm_response_time=alarm_response_time,
        )
        self.network = network
        self.front_port, self.internal_port, self.back_port = front_port, internal_port, back_port
        self.database_port = database_port
        vpc = network.vpc
        log_retention = log_retention or _defaults.LOG_RETENTION
        instance_type = instance_type or ec2.InstanceType.of(
            ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.SMALL
        )

        # -- shared: key, topic, log bucket ------------------------------------------------------
        if encryption_key is None:
            key = _builders.build_logs_key(
                self,
                "Key",
                description=f"Encrypts the data and logs of {self.node.path}",
                removal_policy=removal_policy,
            )
            encryption_key = key
        self.encryption_key: kms.IKey = encryption_key
        self.alarm_topic: sns.ITopic = alarm_topic or _dashboards.build_alarm_topic(
            self, "AlarmTopic", removal_policy=removal_policy, description="cdk-refarch alarms", key_id="AlarmTopicKey"
        )
        self.log_bucket = _builders.build_access_log_bucket(self, "LoadBalancerLogs", removal_policy=removal_policy)

        def add_layer(
            scope: Construct,
            name: str,
            *,
            listener: elbv2.ApplicationListener,
            port: int,
            user_data: ec2.UserData,
            capacity: Capacity,
            conditions: list[elbv2.ListenerCondition] | None,
        ) -> tuple[Fleet, elbv2.ApplicationTargetGroup]:
            """One layer's group behind ``listener`` (only for requests meeting ``conditions``)."""
            fleet = build_fleet(
                scope,
                vpc=vpc,
                subnets=network.app.subnet_selection,
                description=f"{name} instances of {self.node.path}",
                instance_type=instance_type,
                machine_image=machine_image,
                user_data=user_data,
                capacity=capacity,
                cpu_target_percent=cpu_target_percent,
                health_check_grace=health_check_grace,
                notifications_topic=self.alarm_topic,
                encryption_key=self.encryption_key,
                log_retention=log_retention,
                removal_policy=removal_policy,
            )
            target_group = listener.add_targets(
                name,
                port=port,
                protocol=elbv2.ApplicationProtocol.HTTP,
                targets=[fleet.auto_scaling_group],
                conditions=conditions,
                priority=10 if conditions else None,
                deregistration_delay=Duration.seconds(30),
                health_check=_health_check(health_check_path),
            )
            scale_on_requests(fleet, requests_per_target)
            return fleet, target_group

        # -- front: public ALB -> front group ---------------------------------------------------
        front_scope = Construct(self, "Front")
        self.load_balancer, self.load_balancer_security_group = front.build_public_alb(
            front_scope, vpc=vpc, subnets=network.web.subnet_selection, log_bucket=self.log_bucket
        )
        self.origin_secret = (
            edge.build_origin_secret(self, encryption_key=encryption_key, removal_policy=removal_policy)
            if cloudfront
            else None
        )
        origin_value = self.origin_secret.secret_value.unsafe_unwrap() if self.origin_secret is not None else None
        origin_domain = f"origin.{domain_name}" if domain_name is not None else None
        self.origin_certificate: acm.ICertificate | None = None
        if domain_name is not None and hosted_zone is not None:
            self.origin_certificate = acm.Certificate(
                front_scope,
                "Certificate",
                domain_name=f"origin.{domain_name}" if cloudfront else domain_name,
                validation=acm.CertificateValidation.from_dns(hosted_zone),
            )
        self.listener = front.add_public_listeners(
            front_scope, self.load_balancer, certificate=self.origin_certificate, origin_secret=origin_value
        )
        # The default instances run PrivateApi's small HTTP service (GET /health answers 200) on the
        # layer's port, so each group is healthy before the user brings their own user data.
        self.front, self.front_target_group = add_layer(
            front_scope,
            "Front",
            listener=self.listener,
            port=front_port,
            user_data=front_user_data
            or default_user_data(app_port=front_port, db_host="localhost", db_port=front_port),
            capacity=front_capacity,
            conditions=front.front_target_conditions(origin_value),
        )

        # -- data --------------------------------------------------------------------------------
        self.database: rds.DatabaseCluster | None = None
        self.table: dynamodb.Table | None = None
        self.database_security_group: ec2.SecurityGroup | None = None
        data_scope = Construct(self, "Data")
        if data_layer is DataLayer.DYNAMODB:
            self.table = data.build_table(
                data_scope,
                encryption_key=encryption_key,
                deletion_protection=deletion_protection,
                removal_policy=removal_policy,
            )
        else:
            assert database_port is not None
            self._build_database(
                data_scope,
                layer=data_layer,
                port=database_port,
                instance_type=database_instance_type,
                reader_count=reader_count,
                backup_retention=backup_retention,
                secret_rotation_interval=secret_rotation_interval,
                deletion_protection=deletion_protection,
                log_retention=log_retention,
                removal_policy=removal_policy,
            )

        # -- back: internal ALB -> back group ----------------------------------------------------
        back_scope = Construct(self, "Back")
        self.internal_load_balancer, self.internal_security_group, self.internal_listener = back.build_internal_alb(
            back_scope, vpc=vpc, subnets=network.app.subnet_selection, log_bucket=self.log_bucket, port=internal_port
        )
        self.back, self.back_target_group = add_layer(
            back_scope,
            "Back",
            listener=self.internal_listener,
            port=back_port,
            user_data=back_user_data or default_user_data(app_port=back_port, **self._data_endpoint()),
            capacity=back_capacity,
            conditions=None,
        )
        self.grant_data(self.back.role)
        if self.table is not None:
            acknowledge(
                self.back.role.policy,
                "Table.grant_read_write_data on a table with a customer key: DynamoDB calls KMS for the caller with "
                "kms:GenerateDataKey* and kms:ReEncrypt*, on this one key only (the statement names its ARN).",
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
            )
        if self.database_security_group is not None:
            self.back.security_group.connections.allow_to(
                self.database_security_group, ec2.Port.tcp(database_port), "Back instances to the database"
            )
        self._connect_layers()
        self._build_optional_parts(
            cache=cache,
            cache_port=cache_port,
            cache_node_type=cache_node_type or checks.CACHE_NODE_TYPE,
            work_queue=work_queue,
            max_receive_count=work_queue_max_receive_count or checks.MAX_RECEIVE_COUNT,
            removal_policy=removal_policy,
        )

        # -- WAF on the ALB, and the edge --------------------------------------------------------
        self.web_acl = ProtectiveWebAcl(
            self,
            "WebAcl",
            rate_limit=waf_rate_limit,
            encryption_key=encryption_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.web_acl.associate(self.load_balancer.load_balancer_arn)
        self._build_edge(
            cloudfront=cloudfront,
            origin_value=origin_value,
            origin_domain=origin_domain,
            domain_name=domain_name,
            hosted_zone=hosted_zone,
            edge_certificate=edge_certificate,
            edge_web_acl_arn=edge_web_acl_arn,
            health_check_path=health_check_path,
            removal_policy=removal_policy,
        )

        self.shield_protections = self._protect(shield_advanced)
        self._declare_flows()
        self._build_alarms(
            dashboard=dashboard,
            front_capacity=front_capacity,
            back_capacity=back_capacity,
            cpu_percent=alarm_cpu_percent,
            error_rate_threshold=alarm_error_rate,
            response_time=alarm_response_time,
        )
        self._build_failover_record(failover=failover, hosted_zone=hosted_zone, origin_domain=origin_domain)

    # -- wiring ------------------------------------------------------------------------------

    def _connect_layers(self) -> None:
        """Security groups along the chain (each ALB may send only to its group), and the app tier's ACL."""
        self.load_balancer.connections.allow_to(
            self.front.security_group, ec2.Port.tcp(self.front_port), "Public ALB to the front instances"
        )
        self.front.security_group.connections.allow_to(
            self.internal_security_group, ec2.Port.tcp(self.internal_port), "Front instances to the internal ALB"
        )
        self.internal_load_balancer.connections.allow_to(
            self.back.security_group, ec2.Port.tcp(self.back_port), "Internal ALB to the back instances"
        )
        back.open_app_tier(self.network.app, internal_port=self.internal_port, back_port=self.back_port)

    def _build_optional_parts(
        self,
        *,
        cache: bool,
        cache_port: int,
        cache_node_type: str,
        work_queue: bool,
        max_receive_count: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        """The cache for the back instances, and the work queue from the front to the back."""
        self.cache: Cache | None = None
        if cache:
            self.cache = build_cache(
                Construct(self, "Cache"),
                network=self.network,
                port=cache_port,
                node_type=cache_node_type,
                encryption_key=self.encryption_key,
                removal_policy=removal_policy,
            )
            open_cache_port(self.network, self.cache, self.back.security_group)
            self.cache.auth_secret.grant_read(self.back.role)
        self.work: WorkQueue | None = None
        if work_queue:
            self.work = build_work_queue(
                Construct(self, "Work"),
                encryption_key=self.encryption_key,
                max_receive_count=max_receive_count,
                removal_policy=removal_policy,
            )
            self.grant_send_work(self.front.role)
            self.grant_consume_work(self.back.role)

    def _build_database(
        self,
        scope: Construct,
        *,
        layer: DataLayer,
        port: int,
        instance_type: ec2.InstanceType | None,
        reader_count: int,
        backup_retention: Duration,
        secret_rotation_interval: Duration,
        deletion_protection: bool,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        network = self.network
        self.database_security_group = ec2.SecurityGroup(
            scope,
            "SecurityGroup",
            vpc=network.vpc,
            allow_all_outbound=False,
            description="Aurora: its port from the back instances (and the rotation function) only",
        )
        self.database = data.build_aurora(
            scope,
            layer=layer,
            vpc=network.vpc,
            subnets=network.db.subnet_selection,
            availability_zones=[s.availability_zone for s in network.db.subnets],
            security_group=self.database_security_group,
            port=port,
            instance_type=instance_type
            or ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MEDIUM),
            reader_count=reader_count,
            backup_retention=backup_retention,
            deletion_protection=deletion_protection,
            encryption_key=self.encryption_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.secret_rotation = self.database.add_rotation_single_user(
            automatically_after=secret_rotation_interval, vpc_subnets=network.app.subnet_selection
        )
        pin_rotation_port(self.database_security_group, port)

    def _build_edge(
        self,
        *,
        cloudfront: bool,
        origin_value: str | None,
        origin_domain: str | None,
        domain_name: str | None,
        hosted_zone: route53.IHostedZone | None,
        edge_certificate: acm.ICertificate | None,
        edge_web_acl_arn: str | None,
        health_check_path: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        self.distribution = None
        self.records = None
        self.health_check: route53.HealthCheck | None = None
        if cloudfront:
            assert origin_value is not None
            if domain_name is not None and edge_certificate is None:
                assert hosted_zone is not None  # checked; the stack is in us-east-1 (checked too)
                edge_certificate = acm.Certificate(
                    self,
                    "EdgeCertificate",
                    domain_name=domain_name,
                    validation=acm.CertificateValidation.from_dns(hosted_zone),
                )
            self.distribution = edge.build_distribution(
                self,
                load_balancer=self.load_balancer,
                origin_domain_name=origin_domain,
                origin_secret=origin_value,
                domain_name=domain_name,
                certificate=edge_certificate,
                web_acl_arn=edge_web_acl_arn,
                removal_policy=removal_policy,
            )
        if domain_name is not None and hosted_zone is not None and self.distribution is not None:
            self.records, self.health_check = edge.build_records(
                self,
                zone=hosted_zone,
                domain_name=domain_name,
                distribution=self.distribution,
                health_check_path=health_check_path,
            )

    def _build_failover_record(
        self, *, failover: route53.Failover | None, hosted_zone: route53.IHostedZone | None, origin_domain: str | None
    ) -> None:
        """``origin.<domain>`` -> this region's ALB; a failover record with a health check that follows this
        region's front layer (healthy hosts of its target group, through a CloudWatch alarm), since Route 53's
        own checkers cannot send the origin header the ALB requires."""
        self.origin_record: route53.ARecord | None = None
        self.origin_health_check: route53.HealthCheck | None = None
        if hosted_zone is None or origin_domain is None:
            return
        if failover is not None:
            no_healthy_hosts = cloudwatch.Alarm(
                self.alarms_scope,
                "FrontNoHealthyHosts",
                metric=self.front_target_group.metrics.healthy_host_count(
                    statistic="Minimum", period=Duration.minutes(1)
                ),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=2,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
                alarm_description="No healthy front instance behind the public ALB: this region fails over",
            )
            no_healthy_hosts.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
            self.origin_health_check = route53.HealthCheck(
                self,
                "OriginHealthCheck",
                type=route53.HealthCheckType.CLOUDWATCH_METRIC,
                alarm_identifier=route53.AlarmIdentifier(
                    name=no_healthy_hosts.alarm_name, region=Stack.of(self).region
                ),
                insufficient_data_health_status=route53.InsufficientDataHealthStatusEnum.LAST_KNOWN_STATUS,
                inverted=False,
            )
        self.origin_record = edge.build_origin_records(
            self,
            zone=hosted_zone,
            origin_domain_name=origin_domain,
            load_balancer=self.load_balancer,
            failover=failover,
            health_check=self.origin_health_check,
            set_identifier=f"{origin_domain}-{failover.value.lower() if failover is not None else 'single'}",
        )

    def _protect(self, shield_advanced: bool) -> list[shield.CfnProtection]:
        """Shield Advanced protections: the ALB always; CloudFront is a global resource whose protection
        must be created in us-east-1, so the distribution is protected only by a stack there."""
        if not shield_advanced:
            return []
        targets = [("LoadBalancer", self.load_balancer.load_balancer_arn)]
        if self.distribution is not None and Stack.of(self).region == "us-east-1":
            targets.append(("Distribution", self.distribution.distribution_arn))
        return [
            shield.CfnProtection(self, f"Shield{name}", name=f"{self.node.path}/{name}"[:128], resource_arn=arn)
            for name, arn in targets
        ]

    def _declare_flows(self) -> None:
        """internet -> public ALB -> front group -> internal ALB -> back group -> database; every shortcut closed."""
        listener_ports = [443, 80] if self.origin_certificate is not None else [80]
        required: list[tuple[flows.FlowEnd, flows.FlowEnd, int, str]] = [
            *(
                ("0.0.0.0/0", self.load_balancer, port, "viewers (CloudFront) to the public ALB")
                for port in listener_ports
            ),
            (self.load_balancer, self.front.auto_scaling_group, self.front_port, "public ALB to the front group"),
            (
                self.front.auto_scaling_group,
                self.internal_load_balancer,
                self.internal_port,
                "front group to the internal ALB",
            ),
            (
                self.internal_load_balancer,
                self.back.auto_scaling_group,
                self.back_port,
                "internal ALB to the back group",
            ),
        ]
        forbidden: list[tuple[flows.FlowEnd, flows.FlowEnd, int, str]] = [
            ("0.0.0.0/0", self.front.auto_scaling_group, self.front_port, "the front group is reached through its ALB"),
            ("0.0.0.0/0", self.back.auto_scaling_group, self.back_port, "the back group is reached through its ALB"),
            ("0.0.0.0/0", self.internal_load_balancer, self.internal_port, "the internal ALB is not on the internet"),
            (self.load_balancer, self.internal_load_balancer, self.internal_port, "the public ALB skips no layer"),
            (self.load_balancer, self.back.auto_scaling_group, self.back_port, "the public ALB skips no layer"),
            (self.back.auto_scaling_group, self.internal_load_balancer, self.internal_port, "the back calls no front"),
            (
                self.front.auto_scaling_group,
                self.back.auto_scaling_group,
                self.back_port,
                "front goes through the internal ALB",
            ),
        ]
        web = flows.hosts("any host in the web tier", self.network.web.subnets)
        forbidden.append(
            (web, self.internal_load_balancer, self.internal_port, "the web tier must not reach the internal ALB")
        )
        if self.database is not None:
            assert self.database_port is not None
            rotation_group = self.secret_rotation.node.find_child("SecurityGroup")
            assert isinstance(rotation_group, ec2.SecurityGroup)
            rotation = flows.hosts("secret rotation function", self.network.app.subnets, [rotation_group])
            required += [
                (self.back.auto_scaling_group, self.database, self.database_port, "back group to the database"),
                (rotation, self.database, self.database_port, "secret rotation to the database"),
            ]
            forbidden += [
                ("0.0.0.0/0", self.database, self.database_port, "the database is never on the internet"),
                (
                    self.front.auto_scaling_group,
                    self.database,
                    self.database_port,
                    "the front reaches data through the back",
                ),
                (self.load_balancer, self.database, self.database_port, "the public ALB never reaches the database"),
                (web, self.database, self.database_port, "the web tier must not reach the database"),
            ]
        if self.cache is not None:
            cache = flows.hosts("Valkey cache", self.network.db.subnets, [self.cache.security_group])
            port = self.cache.port
            required.append((self.back.auto_scaling_group, cache, port, "back group to the cache"))
            forbidden += [
                ("0.0.0.0/0", cache, port, "the cache is never on the internet"),
                (self.front.auto_scaling_group, cache, port, "the front reaches the cache through the back"),
                (self.load_balancer, cache, port, "the public ALB never reaches the cache"),
                (web, cache, port, "the web tier must not reach the cache"),
            ]
        for source, destination, port, reason in required:
            flows.require_flow(self, source=source, destination=destination, port=port, reason=reason)
        for source, destination, port, reason in forbidden:
            flows.forbid_flow(self, source=source, destination=destination, port=port, reason=reason)

    def _build_alarms(
        self,
        *,
        dashboard: bool | str,
        front_capacity: Capacity,
        back_capacity: Capacity,
        cpu_percent: float,
        error_rate_threshold: float,
        response_time: Duration,
    ) -> None:
        self.alarms_scope = Construct(self, "Alarms")
        scope = self.alarms_scope
        self.alarms: dict[str, cloudwatch.AlarmBase] = {
            **alarms.layer_alarms(
                scope,
                "Front",
                load_balancer=self.load_balancer,
                target_group=self.front_target_group,
                group=self.front.auto_scaling_group,
                min_capacity=front_capacity.minimum,
                error_rate_threshold=error_rate_threshold,
                response_time=response_time,
            ),
            **alarms.layer_alarms(
                scope,
                "Back",
                load_balancer=self.internal_load_balancer,
                target_group=self.back_target_group,
                group=self.back.auto_scaling_group,
                min_capacity=back_capacity.minimum,
                error_rate_threshold=error_rate_threshold,
                response_time=response_time,
            ),
        }
        if self.database is not None:
            self.alarms.update(alarms.database_alarms(scope, self.database))
        if self.cache is not None:
            self.alarms.update(cache_alarms(scope, self.cache))
        if self.work is not None:
            self.alarms["WorkDeadLetters"] = dead_letter_alarm(scope, self.work)
        self.composite_alarm, degraded_conditions = alarms.composite_alarm(
            scope,
            load_balancer=self.load_balancer,
            group=self.front.auto_scaling_group,
            cpu_percent=cpu_percent,
            error_rate_threshold=error_rate_threshold,
            response_time=response_time,
        )
        self.request_anomaly_alarm = alarms.request_anomaly_alarm(scope, self.load_balancer)
        # The health alarm (any of these) and the dashboard, as every construct has them; the
        # composite's conditions notify only through it, and are shown on the dashboard of their own.
        watched = {**self.alarms, "Degraded": self.composite_alarm, "RequestAnomaly": self.request_anomaly_alarm}
        panels = [
            _dashboards.Panel(
                "Requests and 5XX rate", left=[self.metric_request_count()], right=[self.metric_error_rate()]
            ),
            _dashboards.Panel("Response time (p99)", left=[self.metric_response_time()]),
        ]
        self.dashboard, self.health_alarm = _dashboards.build_operations_view(
            self, dashboard=dashboard, title=self.node.path, panels=panels, alarms=watched, topic=self.alarm_topic
        )
        if self.dashboard is not None:
            self.dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(alarms=degraded_conditions, title="Conditions of Degraded", width=24)
            )
        action = cw_actions.SnsAction(self.alarm_topic)
        for alarm in watched.values():
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)

    def _data_endpoint(self) -> dict[str, Any]:
        """Where the back instances find their data (the default service reports whether it answers)."""
        if self.database is not None:
            return {"db_host": self.database.cluster_endpoint.hostname, "db_port": self.database_port}
        return {"db_host": f"dynamodb.{Stack.of(self).region}.amazonaws.com", "db_port": 443}

    # -- attributes, grants, metrics ------------------------------------------------------------

    @property
    def connections(self) -> ec2.Connections:
        """The back instances' security group: let them reach more (a cache, a service), or more reach them."""
        return self.back.security_group.connections

    @property
    def url(self) -> str:
        """Where viewers reach the application."""
        if self.distribution is not None:
            return f"https://{self.distribution.distribution_domain_name}"
        return f"http://{self.load_balancer.load_balancer_dns_name}"

    def grant_data(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` use the data layer: IAM database auth as user ``app``, or the table's data."""
        if self.database is not None:
            return self.database.grant_connect(grantee, "app")
        assert self.table is not None
        return self.table.grant_read_write_data(grantee)

    def grant_send_work(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` send to the work queue (the key's data key included). Needs ``work_queue=True``."""
        return self._work_queue("grant_send_work").grant_send(grantee)

    def grant_consume_work(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` receive and delete the work queue's messages (decrypt included)."""
        return self._work_queue("grant_consume_work").grant_consume(grantee)

    def _work_queue(self, method: str) -> WorkQueue:
        if self.work is None:
            raise PropValidationError(OWNER, "work_queue", False, f"{method} needs the work queue: work_queue=True.")
        return self.work

    def metric_request_count(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Requests the public ALB received."""
        return self.load_balancer.metrics.request_count(period=period or Duration.minutes(5), statistic="Sum")

    def metric_error_rate(self, *, period: Duration | None = None) -> cloudwatch.MathExpression:
        """Fraction of the public ALB's requests answered 5XX."""
        return alarms.error_rate(self.load_balancer, period or Duration.minutes(5))

    def metric_response_time(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """p99 response time of the front instances, seen by the public ALB."""
        return self.load_balancer.metrics.target_response_time(statistic="p99", period=period or Duration.minutes(5))


def _health_check(path: str) -> elbv2.HealthCheck:
    return elbv2.HealthCheck(
        path=path,
        interval=front.HEALTH_CHECK_INTERVAL,
        healthy_threshold_count=3,
        unhealthy_threshold_count=3,
        healthy_http_codes="200",
    )


__all__ = ["Capacity", "DataLayer", "ResilientWebApp"]
