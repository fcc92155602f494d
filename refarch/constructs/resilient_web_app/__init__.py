"""ResilientWebApp: Route 53 -> CloudFront/WAF -> public ALB -> front group -> internal ALB -> back group ->
Multi-AZ Aurora (or DynamoDB), with an optional Valkey cache and work queue, on a ThreeTierVpc, with no
single point of failure from DNS to data.

Modules by concern: ``props`` (props, enums, cross-prop checks), ``two_regions`` (the checks of a
two-region pair), ``edge`` (CloudFront, origin header, records), ``front`` (public ALB), ``back``
(internal ALB), ``fleet`` (launch template and Auto Scaling group), ``data`` (Aurora or DynamoDB),
``cache`` (Valkey), ``work_queue`` (SQS), ``alarms``.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import Duration, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_shield as shield
from aws_cdk import aws_sns as sns
from constructs import Construct
from typing_extensions import Unpack

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders, _dashboards
from refarch.constructs._fleet import default_user_data
from refarch.constructs._metrics import FIVE_MINUTES, MetricOptions
from refarch.constructs._props import document_props, read_props
from refarch.constructs._rds import pin_rotation_port
from refarch.constructs.resilient_web_app import alarms, back, data, edge, front
from refarch.constructs.resilient_web_app.cache import Cache, build_cache, cache_alarms, open_cache_port
from refarch.constructs.resilient_web_app.fleet import Fleet, build_fleet, scale_on_requests
from refarch.constructs.resilient_web_app.props import (
    OWNER,
    Capacity,
    DataLayer,
    ResilientWebAppProps,
    check_props,
    database_port_of,
    front_port_of,
)
from refarch.constructs.resilient_web_app.two_regions import check_two_regions
from refarch.constructs.resilient_web_app.work_queue import WorkQueue, build_work_queue, dead_letter_alarm
from refarch.constructs.web_acl import ProtectiveWebAcl
from refarch.contracts import flows
from refarch.errors import PropValidationError


@document_props(ResilientWebAppProps)
@jsii.implements(ec2.IConnectable)
class ResilientWebApp(Construct):
    """A two-layer web application on a :class:`ThreeTierVpc`, Multi-AZ at every layer.

    Example::

        network = ThreeTierVpc(self, "Network", max_azs=2, app_port=8080, db_port=5432)
        app = ResilientWebApp(self, "App", vpc=network, alarm_topic=network.alarm_topic, work_queue=True)
        app.grant_data(my_role)
    """

    def __init__(self, scope: Construct, id: str, **props: Unpack[ResilientWebAppProps]) -> None:
        """The application in one region (its props below; every one is checked before anything is built)."""
        p = read_props(OWNER, ResilientWebAppProps, props)
        check_two_regions(Stack.of(scope), p)  # first: with failover, CloudFront itself is the mistake
        network = check_props(Stack.of(scope), p)
        super().__init__(scope, id)
        self.network = network
        self.front_port, self.internal_port, self.back_port = (
            front_port_of(network, p),
            p["internal_port"],
            p["back_port"],
        )
        self.database_port = database_port_of(p)
        self._props = p
        # What a SECONDARY's checks compare with its primary's (and what a user may read).
        self.failover, self.data_layer = p["failover"], p["data_layer"]
        self.domain_name, self.hosted_zone = p["domain_name"], p["hosted_zone"]
        #: The SECONDARY app that stands by for this one (set when it is built).
        self.standby: ResilientWebApp | None = None
        removal_policy = p["removal_policy"]

        # -- shared: key, topic, log bucket ------------------------------------------------------
        self.encryption_key: kms.IKey = p["encryption_key"] or _builders.build_logs_key(
            self, "Key", description=f"Encrypts the data and logs of {self.node.path}", removal_policy=removal_policy
        )
        self.alarm_topic: sns.ITopic = p["alarm_topic"] or _dashboards.build_alarm_topic(
            self, "AlarmTopic", removal_policy=removal_policy, description="cdk-refarch alarms", key_id="AlarmTopicKey"
        )
        self.log_bucket = _builders.build_access_log_bucket(self, "LoadBalancerLogs", removal_policy=removal_policy)

        # -- front: public ALB -> front group ---------------------------------------------------
        front_scope = Construct(self, "Front")
        self.load_balancer, self.load_balancer_security_group = front.build_public_alb(
            front_scope,
            vpc=network.vpc,
            subnets=network.web.subnet_selection,
            log_bucket=self.log_bucket,
            cloudfront=p["cloudfront"],
        )
        self.origin_secret = (
            edge.build_origin_secret(self, encryption_key=self.encryption_key, removal_policy=removal_policy)
            if p["cloudfront"]
            else None
        )
        origin_value = self.origin_secret.secret_value.unsafe_unwrap() if self.origin_secret is not None else None
        self.origin_certificate = self._origin_certificate(front_scope)
        self.listener = front.add_public_listeners(
            front_scope, self.load_balancer, certificate=self.origin_certificate, origin_secret=origin_value
        )
        # The default instances run PrivateApi's small HTTP service (GET /health answers 200) on the
        # layer's port, so each group is healthy before the user brings their own user data.
        self.front, self.front_target_group = self._add_layer(
            front_scope,
            "Front",
            listener=self.listener,
            port=self.front_port,
            user_data=p["front_user_data"]
            or default_user_data(app_port=self.front_port, db_host="localhost", db_port=self.front_port),
            capacity=p["front_capacity"],
            conditions=front.front_target_conditions(origin_value),
        )

        # -- data, then back: internal ALB -> back group -> data -----------------------------------
        self._build_data(Construct(self, "Data"))
        back_scope = Construct(self, "Back")
        self.internal_load_balancer, self.internal_security_group, self.internal_listener = back.build_internal_alb(
            back_scope,
            vpc=network.vpc,
            subnets=network.app.subnet_selection,
            log_bucket=self.log_bucket,
            port=self.internal_port,
        )
        self.back, self.back_target_group = self._add_layer(
            back_scope,
            "Back",
            listener=self.internal_listener,
            port=self.back_port,
            user_data=p["back_user_data"] or default_user_data(app_port=self.back_port, **self._data_endpoint()),
            capacity=p["back_capacity"],
            conditions=None,
        )
        self._connect_data()
        self._connect_layers()
        self._build_optional_parts()

        # -- WAF on the ALB, and the edge --------------------------------------------------------
        self.web_acl = ProtectiveWebAcl(
            self,
            "WebAcl",
            rate_limit=p["waf_rate_limit"],
            encryption_key=self.encryption_key,
            log_retention=p["log_retention"],
            removal_policy=removal_policy,
        )
        self.web_acl.associate(self.load_balancer.load_balancer_arn)
        self._build_edge(origin_value)
        self.shield_protections = self._protect(p["shield_advanced"])
        self._declare_flows()
        self._build_alarms()
        self._build_records()
        if p["standby_for"] is not None:
            self._primary.standby = self

    # -- wiring ------------------------------------------------------------------------------

    @property
    def _origin_domain(self) -> str | None:
        """``origin.<domain>``: the name CloudFront reaches the public ALB by (None without a domain)."""
        domain_name = self._props["domain_name"]
        return _origin_domain_of(domain_name) if domain_name is not None else None

    def _origin_certificate(self, scope: Construct) -> acm.ICertificate | None:
        p = self._props
        domain_name = p["domain_name"]
        if domain_name is None or p["hosted_zone"] is None:
            return None
        return acm.Certificate(
            scope,
            "Certificate",
            domain_name=_origin_domain_of(domain_name) if p["cloudfront"] else domain_name,
            validation=acm.CertificateValidation.from_dns(p["hosted_zone"]),
        )

    def _add_layer(
        self,
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
        p = self._props
        fleet = build_fleet(
            scope,
            vpc=self.network.vpc,
            subnets=self.network.app.subnet_selection,
            description=f"{name} instances of {self.node.path}",
            instance_type=p["instance_type"]
            or ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.SMALL),
            machine_image=p["machine_image"],
            user_data=user_data,
            capacity=capacity,
            cpu_target_percent=p["cpu_target_percent"],
            health_check_grace=p["health_check_grace"],
            notifications_topic=self.alarm_topic,
            encryption_key=self.encryption_key,
            log_retention=p["log_retention"],
            removal_policy=p["removal_policy"],
        )
        target_group = listener.add_targets(
            name,
            port=port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[fleet.auto_scaling_group],
            conditions=conditions,
            priority=10 if conditions else None,
            deregistration_delay=Duration.seconds(30),
            health_check=_health_check(p["health_check_path"]),
        )
        scale_on_requests(fleet, p["requests_per_target"])
        return fleet, target_group

    def _build_data(self, scope: Construct) -> None:
        p = self._props
        self.database: rds.DatabaseCluster | None = None
        self.global_cluster: rds.CfnGlobalCluster | None = None
        self.secret_rotation: secretsmanager.SecretRotation | None = None
        self.table: dynamodb.Table | None = None
        self.database_security_group: ec2.SecurityGroup | None = None
        if p["data_layer"] is DataLayer.DYNAMODB:
            self.table = data.build_table(
                scope,
                encryption_key=self.encryption_key,
                deletion_protection=p["deletion_protection"],
                removal_policy=p["removal_policy"],
            )
        else:
            self._build_database(scope)

    def _connect_data(self) -> None:
        """The back instances use the data layer: IAM auth or table grants, and the database port."""
        self.grant_data(self.back.role)
        if self.table is not None:
            acknowledge(
                self.back.role.policy,
                "Table.grant_read_write_data on a table with a customer key: DynamoDB calls KMS for the caller with "
                "kms:GenerateDataKey* and kms:ReEncrypt*, on this one key only (the statement names its ARN).",
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
            )
        if self.database_security_group is not None and self.database_port is not None:
            self.back.security_group.connections.allow_to(
                self.database_security_group, ec2.Port.tcp(self.database_port), "Back instances to the database"
            )

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

    def _build_optional_parts(self) -> None:
        """The cache for the back instances, and the work queue from the front to the back."""
        p = self._props
        self.cache: Cache | None = None
        if p["cache"]:
            self.cache = build_cache(
                Construct(self, "Cache"),
                network=self.network,
                port=p["cache_port"],
                node_type=p["cache_node_type"],
                encryption_key=self.encryption_key,
                removal_policy=p["removal_policy"],
            )
            open_cache_port(self.network, self.cache, self.back.security_group)
            self.cache.auth_secret.grant_read(self.back.role)
        self.work: WorkQueue | None = None
        if p["work_queue"]:
            self.work = build_work_queue(
                Construct(self, "Work"),
                encryption_key=self.encryption_key,
                max_receive_count=p["work_queue_max_receive_count"],
                removal_policy=p["removal_policy"],
            )
            self.grant_send_work(self.front.role)
            self.grant_consume_work(self.back.role)

    @property
    def _primary(self) -> ResilientWebApp:
        """The app a SECONDARY stands by for (checked to be a ResilientWebApp)."""
        primary = self._props["standby_for"]
        assert isinstance(primary, ResilientWebApp)
        return primary

    def _build_database(self, scope: Construct) -> None:
        p, network, port = self._props, self.network, self.database_port
        assert port is not None  # Aurora has a port
        failover = p["failover"]
        secondary_of = None
        if failover is route53.Failover.SECONDARY:
            primary_global_cluster = self._primary.global_cluster
            assert primary_global_cluster is not None  # a PRIMARY with Aurora (checked) has one
            # A cross-region reference, resolved by aws-cdk-lib: with the weak cross-stack references of
            # the recommended flags, Fn::GetStackOutput reads the primary stack's output at deploy time.
            secondary_of = primary_global_cluster.ref
        self.database_security_group = ec2.SecurityGroup(
            scope,
            "SecurityGroup",
            vpc=network.vpc,
            allow_all_outbound=False,
            description="Aurora: its port from the back instances (and the rotation function) only",
        )
        self.database = data.build_aurora(
            scope,
            layer=p["data_layer"],
            vpc=network.vpc,
            subnets=network.db.subnet_selection,
            availability_zones=[s.availability_zone for s in network.db.subnets],
            security_group=self.database_security_group,
            port=port,
            instance_type=p["database_instance_type"] or _default_database_instance_type(failover),
            reader_count=p["reader_count"],
            backup_retention=p["backup_retention"],
            deletion_protection=p["deletion_protection"],
            encryption_key=self.encryption_key,
            log_retention=p["log_retention"],
            removal_policy=p["removal_policy"],
            global_database=failover is not None,
            secondary_of=secondary_of,
        )
        self.global_cluster = (
            data.build_global_cluster(
                scope,
                self.database,
                deletion_protection=p["deletion_protection"],
                removal_policy=p["removal_policy"],
            )
            if failover is route53.Failover.PRIMARY
            else None
        )
        if secondary_of is not None:
            return  # the user, its secret and their rotation belong to the primary
        self.secret_rotation = self.database.add_rotation_single_user(
            automatically_after=p["secret_rotation_interval"], vpc_subnets=network.app.subnet_selection
        )
        pin_rotation_port(self.database_security_group, port)

    def _build_edge(self, origin_value: str | None) -> None:
        p = self._props
        domain_name, hosted_zone, edge_certificate = p["domain_name"], p["hosted_zone"], p["edge_certificate"]
        self.distribution = None
        self.records = None
        self.health_check: route53.HealthCheck | None = None
        if p["cloudfront"]:
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
                origin_domain_name=self._origin_domain,
                origin_secret=origin_value,
                domain_name=domain_name,
                certificate=edge_certificate,
                web_acl_arn=p["edge_web_acl_arn"],
                removal_policy=p["removal_policy"],
            )
        if domain_name is not None and hosted_zone is not None and self.distribution is not None:
            self.records, self.health_check = edge.build_records(
                self,
                zone=hosted_zone,
                domain_name=domain_name,
                distribution=self.distribution,
                health_check_path=p["health_check_path"],
            )

    def _build_records(self) -> None:
        """With CloudFront, ``origin.<domain>`` -> this region's ALB (the name CloudFront reaches it by).
        Without, the record of ``domain_name`` itself -> this region's ALB: a simple record in one region;
        in two, a failover record (PRIMARY or SECONDARY) that follows an HTTPS health check on the ALB."""
        p = self._props
        hosted_zone, domain_name, failover = p["hosted_zone"], p["domain_name"], p["failover"]
        self.origin_record: route53.ARecord | None = None
        self.record: route53.ARecord | None = None
        #: With ``failover``: the HTTPS check of this region's ALB its failover record follows; else None.
        self.load_balancer_health_check: route53.HealthCheck | None = None
        if hosted_zone is None or domain_name is None:
            return
        if p["cloudfront"]:
            self.origin_record = edge.build_load_balancer_record(
                self,
                "OriginRecord",
                zone=hosted_zone,
                record_name=_origin_domain_of(domain_name),
                load_balancer=self.load_balancer,
                failover=None,
                health_check=None,
            )
            return
        if failover is not None:
            self.load_balancer_health_check = edge.build_load_balancer_health_check(
                self, load_balancer=self.load_balancer, health_check_path=p["health_check_path"]
            )
        self.record = edge.build_load_balancer_record(
            self,
            "Record",
            zone=hosted_zone,
            record_name=domain_name,
            load_balancer=self.load_balancer,
            failover=failover,
            health_check=self.load_balancer_health_check,
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
        viewers = "CloudFront" if self.distribution is not None else "viewers"
        required: list[tuple[flows.FlowEnd, flows.FlowEnd, int, str]] = [
            *(("0.0.0.0/0", self.load_balancer, port, f"{viewers} to the public ALB") for port in listener_ports),
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
            required.append(
                (self.back.auto_scaling_group, self.database, self.database_port, "back group to the database")
            )
            if self.secret_rotation is not None:
                rotation_group = self.secret_rotation.node.find_child("SecurityGroup")
                assert isinstance(rotation_group, ec2.SecurityGroup)
                rotation = flows.hosts("secret rotation function", self.network.app.subnets, [rotation_group])
                required.append((rotation, self.database, self.database_port, "secret rotation to the database"))
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

    def _build_alarms(self) -> None:
        p = self._props
        error_rate_threshold, response_time = p["alarm_error_rate"], p["alarm_response_time"]
        self.alarms_scope = Construct(self, "Alarms")
        scope = self.alarms_scope
        self.alarms: dict[str, cloudwatch.AlarmBase] = {
            **alarms.layer_alarms(
                scope,
                "Front",
                load_balancer=self.load_balancer,
                target_group=self.front_target_group,
                group=self.front.auto_scaling_group,
                min_capacity=p["front_capacity"].minimum,
                error_rate_threshold=error_rate_threshold,
                response_time=response_time,
            ),
            **alarms.layer_alarms(
                scope,
                "Back",
                load_balancer=self.internal_load_balancer,
                target_group=self.back_target_group,
                group=self.back.auto_scaling_group,
                min_capacity=p["back_capacity"].minimum,
                error_rate_threshold=error_rate_threshold,
                response_time=response_time,
            ),
        }
        if self.database is not None:
            self.alarms.update(alarms.database_alarms(scope, self.database))
        if self.database is not None and p["failover"] is route53.Failover.SECONDARY:
            self.alarms["DatabaseGlobalReplicationLag"] = alarms.global_replication_lag_alarm(scope, self.database)
        if self.cache is not None:
            self.alarms.update(cache_alarms(scope, self.cache))
        if self.work is not None:
            self.alarms["WorkDeadLetters"] = dead_letter_alarm(scope, self.work)
        self.composite_alarm, degraded_conditions = alarms.composite_alarm(
            scope,
            load_balancer=self.load_balancer,
            group=self.front.auto_scaling_group,
            cpu_percent=p["alarm_cpu_percent"],
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
            self, dashboard=p["dashboard"], title=self.node.path, panels=panels, alarms=watched, topic=self.alarm_topic
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
        if self.database is not None and self.failover is route53.Failover.SECONDARY:
            # A secondary's instances are all readers: read locally (writes are forwarded to the primary).
            return {"db_host": self.database.cluster_read_endpoint.hostname, "db_port": self.database_port}
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
        if self.domain_name is not None:
            return f"https://{self.domain_name}"
        return f"http://{self.load_balancer.load_balancer_dns_name}"

    def grant_data(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` use the data layer: IAM database auth as user ``app``, or the table's data."""
        if self.database is not None:
            return self.database.grant_connect(grantee, "app")
        assert self.table is not None
        # Table.grant_read_write_data grants the key too but returns only the table's part: name it here
        # (the same statement, made once) so the Grant returned covers everything granted.
        key = self.encryption_key.grant(grantee, *data.TABLE_KEY_ACTIONS)
        return self.table.grant_read_write_data(grantee).combine(key)

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

    def metric_request_count(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Requests the public ALB received (Sum over 5 minutes unless ``options`` say otherwise)."""
        options.setdefault("statistic", "Sum")
        options.setdefault("period", FIVE_MINUTES)
        return self.load_balancer.metrics.request_count(**options)

    def metric_error_rate(self, **options: Unpack[MetricOptions]) -> cloudwatch.MathExpression:
        """Fraction of the public ALB's requests answered 5XX (Sums over 5 minutes unless ``options`` say
        otherwise); ``options`` apply to the counts it divides."""
        options.setdefault("statistic", "Sum")
        options.setdefault("period", FIVE_MINUTES)
        return alarms.error_rate(self.load_balancer, **options)

    def metric_response_time(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """p99 response time of the front instances, seen by the public ALB (over 5 minutes unless
        ``options`` say otherwise)."""
        options.setdefault("statistic", "p99")
        options.setdefault("period", FIVE_MINUTES)
        return self.load_balancer.metrics.target_response_time(**options)


def _origin_domain_of(domain_name: str) -> str:
    return f"origin.{domain_name}"


def _default_database_instance_type(failover: route53.Failover | None) -> ec2.InstanceType:
    """db.t4g.medium in one region; Aurora Global Database needs a memory-optimized class: db.r6g.large."""
    if failover is not None:
        return ec2.InstanceType.of(ec2.InstanceClass.MEMORY6_GRAVITON, ec2.InstanceSize.LARGE)
    return ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MEDIUM)


def _health_check(path: str) -> elbv2.HealthCheck:
    return elbv2.HealthCheck(
        path=path,
        interval=front.HEALTH_CHECK_INTERVAL,
        healthy_threshold_count=3,
        unhealthy_threshold_count=3,
        healthy_http_codes="200",
    )


__all__ = ["Capacity", "DataLayer", "ResilientWebApp", "ResilientWebAppProps"]
