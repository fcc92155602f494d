"""PrivateApi with its defaults (in a given VPC) vs the same resources written in plain aws-cdk-lib L2 code.

Both functions first build the same plain VPC (public, private with egress, isolated subnets), so
the comparison is the API -> VPC Link -> NLB -> ASG -> RDS chain, its WAF and its alarms.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_wafv2 as wafv2

RETAIN = RemovalPolicy.RETAIN
YEAR = logs.RetentionDays.ONE_YEAR


def _vpc(stack: Stack) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Vpc",
        max_azs=3,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
    )


def with_construct(stack: Stack) -> None:
    from refarch.constructs import PrivateApi

    PrivateApi(stack, "Api", vpc=_vpc(stack))


def with_plain_l2(stack: Stack) -> None:
    vpc = _vpc(stack)
    private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
    isolated = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    key = kms.Key(stack, "Key", enable_key_rotation=True, rotation_period=Duration.days(365), removal_policy=RETAIN)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
        )
    )

    nlb_sg = ec2.SecurityGroup(stack, "NlbSg", vpc=vpc, allow_all_outbound=False)
    service_sg = ec2.SecurityGroup(stack, "ServiceSg", vpc=vpc, allow_all_outbound=False)
    db_sg = ec2.SecurityGroup(stack, "DbSg", vpc=vpc, allow_all_outbound=False)
    service_sg.connections.allow_from(nlb_sg, ec2.Port.tcp(8080))
    service_sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443))
    db_sg.connections.allow_from(service_sg, ec2.Port.tcp(3306))

    engine = rds.DatabaseInstanceEngine.mysql(version=rds.MysqlEngineVersion.VER_8_4_7)
    log_groups = [
        logs.LogGroup(
            stack,
            f"DbLog{kind}",
            log_group_name=f"/aws/rds/instance/bench-api-db/{kind}",
            encryption_key=key,
            retention=YEAR,
            removal_policy=RETAIN,
        )
        for kind in ("audit", "error", "general", "slowquery")
    ]
    database = rds.DatabaseInstance(
        stack,
        "Database",
        engine=engine,
        instance_type=ec2.InstanceType("t4g.medium"),
        instance_identifier="bench-api-db",
        vpc=vpc,
        vpc_subnets=isolated,
        security_groups=[db_sg],
        port=3306,
        database_name="app",
        credentials=rds.Credentials.from_generated_secret("dbadmin", encryption_key=key),
        storage_encryption_key=key,
        storage_type=rds.StorageType.GP3,
        allocated_storage=20,
        max_allocated_storage=100,
        multi_az=True,
        iam_authentication=True,
        deletion_protection=True,
        publicly_accessible=False,
        delete_automated_backups=False,
        copy_tags_to_snapshot=True,
        auto_minor_version_upgrade=True,
        backup_retention=Duration.days(7),
        enable_performance_insights=True,
        performance_insight_encryption_key=key,
        monitoring_interval=Duration.seconds(60),
        cloudwatch_logs_exports=["audit", "error", "general", "slowquery"],
        parameter_group=rds.ParameterGroup(
            stack, "DbParams", engine=engine, parameters={"require_secure_transport": "ON"}
        ),
        option_group=rds.OptionGroup(
            stack,
            "DbOptions",
            engine=engine,
            configurations=[rds.OptionConfiguration(name="MARIADB_AUDIT_PLUGIN")],
        ),
        removal_policy=RETAIN,
    )
    for log_group in log_groups:
        database.node.add_dependency(log_group)
    database.add_rotation_single_user(automatically_after=Duration.days(30), vpc_subnets=private)

    role = iam.Role(stack, "InstanceRole", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore"))
    database.grant_connect(role, "app")
    user_data = ec2.UserData.for_linux()
    user_data.add_commands("python3 -m http.server 8080 &")
    template = ec2.LaunchTemplate(
        stack,
        "LaunchTemplate",
        instance_type=ec2.InstanceType("t4g.small"),
        machine_image=ec2.MachineImage.latest_amazon_linux2023(cpu_type=ec2.AmazonLinuxCpuType.ARM_64),
        user_data=user_data,
        role=role,
        security_group=service_sg,
        require_imdsv2=True,
        http_put_response_hop_limit=1,
        detailed_monitoring=True,
        ebs_optimized=True,
        block_devices=[
            ec2.BlockDevice(
                device_name="/dev/xvda",
                volume=ec2.BlockDeviceVolume.ebs(
                    20, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3, delete_on_termination=True
                ),
            )
        ],
    )
    group = autoscaling.AutoScalingGroup(
        stack,
        "Asg",
        vpc=vpc,
        vpc_subnets=private,
        launch_template=template,
        min_capacity=2,
        max_capacity=4,
        health_checks=autoscaling.HealthChecks.with_additional_checks(
            additional_types=[autoscaling.AdditionalHealthCheckType.ELB], grace_period=Duration.minutes(5)
        ),
        group_metrics=[autoscaling.GroupMetrics.all()],
        cooldown=Duration.minutes(5),
        default_instance_warmup=Duration.minutes(3),
        update_policy=autoscaling.UpdatePolicy.rolling_update(),
    )
    group.scale_on_cpu_utilization("Cpu", target_utilization_percent=70)

    nlb = elbv2.NetworkLoadBalancer(
        stack,
        "Nlb",
        vpc=vpc,
        vpc_subnets=private,
        cross_zone_enabled=True,
        security_groups=[nlb_sg],
        enforce_security_group_inbound_rules_on_private_link_traffic=False,
        deletion_protection=True,
    )
    target_group = nlb.add_listener("Listener", port=80).add_targets(
        "Service",
        port=8080,
        targets=[group],
        deregistration_delay=Duration.seconds(30),
        health_check=elbv2.HealthCheck(
            protocol=elbv2.Protocol.HTTP,
            path="/health",
            interval=Duration.seconds(10),
            healthy_threshold_count=3,
            unhealthy_threshold_count=3,
        ),
    )

    access_logs = logs.LogGroup(stack, "AccessLogs", encryption_key=key, retention=YEAR, removal_policy=RETAIN)
    api = apigw.RestApi(
        stack,
        "Api",
        endpoint_types=[apigw.EndpointType.REGIONAL],
        cloud_watch_role=False,
        deploy_options=apigw.StageOptions(
            stage_name="prod",
            throttling_rate_limit=100,
            throttling_burst_limit=200,
            access_log_destination=apigw.LogGroupLogDestination(access_logs),
            access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                caller=True,
                http_method=True,
                ip=True,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=True,
            ),
            tracing_enabled=True,
            logging_level=apigw.MethodLoggingLevel.INFO,
            data_trace_enabled=False,
            metrics_enabled=True,
        ),
    )
    execution_logs = logs.LogGroup(
        stack,
        "ExecutionLogs",
        log_group_name=f"API-Gateway-Execution-Logs_{api.rest_api_id}/prod",
        encryption_key=key,
        retention=YEAR,
        removal_policy=RETAIN,
    )
    api.deployment_stage.node.add_dependency(execution_logs)
    link = apigw.VpcLink(stack, "Link", targets=[nlb])
    validator = api.add_request_validator("Validator", validate_request_parameters=True, validate_request_body=True)
    base = f"http://{nlb.load_balancer_dns_name}:80"
    for resource, uri, proxy in (
        (api.root, f"{base}/", False),
        (api.root.add_resource("{proxy+}"), f"{base}/{{proxy}}", True),
    ):
        resource.add_method(
            "ANY",
            apigw.Integration(
                type=apigw.IntegrationType.HTTP_PROXY,
                integration_http_method="ANY",
                uri=uri,
                options=apigw.IntegrationOptions(
                    connection_type=apigw.ConnectionType.VPC_LINK,
                    vpc_link=link,
                    request_parameters={"integration.request.path.proxy": "method.request.path.proxy"}
                    if proxy
                    else None,
                ),
            ),
            authorization_type=apigw.AuthorizationType.IAM,
            request_validator=validator,
            request_parameters={"method.request.path.proxy": True} if proxy else None,
        )

    waf_logs = logs.LogGroup(
        stack,
        "WafLogs",
        log_group_name="aws-waf-logs-bench",
        encryption_key=key,
        retention=YEAR,
        removal_policy=RETAIN,
    )

    def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
        return wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=name
        )

    groups = [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
    ]
    rules = [
        wafv2.CfnWebACL.RuleProperty(
            name=name,
            priority=i,
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=name
                )
            ),
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            visibility_config=visibility(name),
        )
        for i, name in enumerate(groups)
    ]
    rules.append(
        wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=len(groups),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    aggregate_key_type="IP", limit=2000, evaluation_window_sec=300
                )
            ),
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            visibility_config=visibility("RateLimitPerIp"),
        )
    )
    acl = wafv2.CfnWebACL(
        stack,
        "WebAcl",
        scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=visibility("bench"),
        rules=rules,
    )
    wafv2.CfnLoggingConfiguration(
        stack,
        "WafLogging",
        resource_arn=acl.attr_arn,
        log_destination_configs=[f"arn:aws:logs:{stack.region}:{stack.account}:log-group:{waf_logs.log_group_name}"],
    )
    wafv2.CfnWebACLAssociation(
        stack, "WafAssociation", resource_arn=api.deployment_stage.stage_arn, web_acl_arn=acl.attr_arn
    )

    gt = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
    lt = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
    in_service = cloudwatch.Metric(
        namespace="AWS/AutoScaling",
        metric_name="GroupInServiceInstances",
        dimensions_map={"AutoScalingGroupName": group.auto_scaling_group_name},
        statistic="Minimum",
        period=Duration.minutes(1),
    )
    five = Duration.minutes(5)
    minute = Duration.minutes(1)
    quiet = cloudwatch.TreatMissingData.NOT_BREACHING
    missing = cloudwatch.TreatMissingData.MISSING
    alarms: list[tuple[str, cloudwatch.IMetric, float, cloudwatch.ComparisonOperator, cloudwatch.TreatMissingData]] = [
        ("Api5xx", api.metric_server_error(statistic="Average", period=five), 0.05, gt, quiet),
        ("ApiP99", api.metric_latency(statistic="p99", period=five), 2000, gt, quiet),
        ("Unhealthy", target_group.metrics.un_healthy_host_count(statistic="Maximum", period=minute), 0, gt, missing),
        ("InService", in_service, 2, lt, cloudwatch.TreatMissingData.BREACHING),
        ("DbCpu", database.metric_cpu_utilization(period=five), 80, gt, missing),
        ("DbStorage", database.metric_free_storage_space(statistic="Minimum", period=five), 2 * 1024**3, lt, missing),
        ("DbConnections", database.metric_database_connections(statistic="Maximum", period=five), 100, gt, missing),
    ]
    for name, metric, threshold, comparison, treat in alarms:
        cloudwatch.Alarm(
            stack,
            name,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            alarm_description=f"{name} of the private API",
            treat_missing_data=treat,
        )
