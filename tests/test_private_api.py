"""PrivateApi: every link of API Gateway -> VPC Link -> NLB -> ASG -> RDS, the options, bad props, and the service."""

from __future__ import annotations

import json
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from aws_cdk.assertions import Match

from refarch.compliance import packs
from refarch.constructs import ApiAuthorization, PrivateApi, PropValidationError, ThreeTierVpc
from refarch.runtime.private_api import service
from tests.harness import (
    BadProp,
    ReferenceStacks,
    SynthesizedStack,
    assert_fails_early,
    bad_prop_params,
    new_app,
    synth,
)
from tests.names import PLACEHOLDER, render

APP_SUBNETS = [
    "NetworkVpcAppSubnet1SubnetFA2393E9",
    "NetworkVpcAppSubnet2SubnetF926DC8B",
    "NetworkVpcAppSubnet3Subnet047AE581",
]
POSTGRES = rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17_6)
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:111111111111:function:jobs"


@pytest.fixture(scope="module")
def ref(reference_stacks: ReferenceStacks) -> SynthesizedStack:
    return reference_stacks["PrivateApiStack"]


@pytest.fixture(scope="module")
def variant() -> SynthesizedStack:
    """Every option the reference stack leaves at its default: own VPC, PostgreSQL, Cognito, keys, Lambda."""
    stack = cdk.Stack(new_app(), "Variant")
    pool = cognito.UserPool(stack, "Users")
    function = lambda_.Function.from_function_arn(stack, "Jobs", FUNCTION_ARN)
    api = PrivateApi(
        stack,
        "Api",
        engine=POSTGRES,
        authorization=ApiAuthorization.COGNITO,
        user_pool=pool,
        usage_plan=True,
        usage_plan_quota_per_day=10_000,
        lambda_function=function,
        lambda_path="jobs",
        multi_az=False,
        instance_type=ec2.InstanceType("m7i.large"),
        min_capacity=1,
        max_capacity=3,
        listener_port=8443,
        app_port=9000,
        health_check_path="/ready",
        throttling_rate_limit=10,
        throttling_burst_limit=20,
        cache_cluster_size="0.5",
    )
    stack.api = api  # type: ignore[attr-defined]
    return synth(stack)


# -- the chain, link by link (reference stack) ------------------------------------------------


def test_vpc_link_targets_the_internal_nlb(ref: SynthesizedStack) -> None:
    nlb_id, nlb = ref.one("AWS::ElasticLoadBalancingV2::LoadBalancer")
    _, link = ref.one("AWS::ApiGateway::VpcLink")
    assert link["Properties"]["TargetArns"] == [{"Ref": nlb_id}]
    props = nlb["Properties"]
    assert props["Scheme"] == "internal"
    assert props["Type"] == "network"
    assert props["Subnets"] == [{"Ref": s} for s in APP_SUBNETS]
    assert {"Key": "load_balancing.cross_zone.enabled", "Value": "true"} in props["LoadBalancerAttributes"]
    # Never protected: the stack deletes the NLB, and a protected one makes the stack delete fail.
    assert {"Key": "deletion_protection.enabled", "Value": "false"} in props["LoadBalancerAttributes"]
    assert props["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "off"


def test_every_backend_method_integrates_through_the_link(ref: SynthesizedStack) -> None:
    link_id = ref.logical_id("AWS::ApiGateway::VpcLink")
    nlb_id = ref.logical_id("AWS::ElasticLoadBalancingV2::LoadBalancer")
    methods = ref.resources("AWS::ApiGateway::Method")
    assert len(methods) == 2  # / and /{proxy+}
    uris = []
    for method in methods.values():
        props = method["Properties"]
        integration = props["Integration"]
        assert integration["ConnectionType"] == "VPC_LINK"
        assert integration["ConnectionId"] == {"Ref": link_id}
        assert integration["Type"] == "HTTP_PROXY"
        assert props["AuthorizationType"] == "AWS_IAM"
        assert props["HttpMethod"] == "ANY"
        parts = integration["Uri"]["Fn::Join"][1]
        assert parts[1] == {"Fn::GetAtt": [nlb_id, "DNSName"]}
        uris.append(parts[2])
    assert sorted(uris) == [":80/", ":80/{proxy}"]
    ref.template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "RequestParameters": {"method.request.path.proxy": True},
            "Integration": {"RequestParameters": {"integration.request.path.proxy": "method.request.path.proxy"}},
        },
    )


def test_listener_and_target_group_point_at_the_asg_on_the_app_port(ref: SynthesizedStack) -> None:
    nlb_id = ref.logical_id("AWS::ElasticLoadBalancingV2::LoadBalancer")
    tg_id, tg = ref.one("AWS::ElasticLoadBalancingV2::TargetGroup")
    _, listener = ref.one("AWS::ElasticLoadBalancingV2::Listener")
    assert listener["Properties"]["LoadBalancerArn"] == {"Ref": nlb_id}
    assert listener["Properties"]["Port"] == 80
    assert listener["Properties"]["Protocol"] == "TCP"
    assert listener["Properties"]["DefaultActions"] == [{"TargetGroupArn": {"Ref": tg_id}, "Type": "forward"}]
    assert tg["Properties"]["Port"] == 8080
    assert tg["Properties"]["Protocol"] == "TCP"
    assert tg["Properties"]["TargetType"] == "instance"
    assert tg["Properties"]["HealthCheckProtocol"] == "HTTP"
    assert tg["Properties"]["HealthCheckPath"] == "/health"
    _, asg = ref.one("AWS::AutoScaling::AutoScalingGroup")
    assert asg["Properties"]["TargetGroupARNs"] == [{"Ref": tg_id}]
    assert asg["Properties"]["VPCZoneIdentifier"] == [{"Ref": s} for s in APP_SUBNETS]
    assert asg["Properties"]["HealthCheckType"] == "ELB"
    assert (asg["Properties"]["MinSize"], asg["Properties"]["MaxSize"]) == ("2", "4")
    assert "DesiredCapacity" not in asg["Properties"]


def _sg_id(stacked: SynthesizedStack, contains: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [stacked.logical_id("AWS::EC2::SecurityGroup", contains), "GroupId"]}


def _rules(stacked: SynthesizedStack, type_: str, group: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in stacked.resources(type_).values() if r["Properties"]["GroupId"] == group]


def test_security_groups_chain_nlb_to_service_to_database_only(ref: SynthesizedStack) -> None:
    nlb_sg = _sg_id(ref, "PrivateApiLoadBalancerSecurityGroup")
    service_sg = _sg_id(ref, "PrivateApiServiceSecurityGroup")
    db_sg = _sg_id(ref, "PrivateApiDatabaseSecurityGroup")
    rotation_sg = _sg_id(ref, "RotationSingleUserSecurityGroup")
    ingress = "AWS::EC2::SecurityGroupIngress"
    # The NLB admits nothing: VPC Link traffic arrives over PrivateLink, exempt from inbound rules.
    assert _rules(ref, ingress, nlb_sg) == []
    (nlb_sg_resource,) = [r for k, r in ref.resources("AWS::EC2::SecurityGroup").items() if "LoadBalancerSecurity" in k]
    assert "SecurityGroupIngress" not in nlb_sg_resource["Properties"]
    (service_in,) = _rules(ref, ingress, service_sg)
    assert (service_in["SourceSecurityGroupId"], service_in["FromPort"], service_in["ToPort"]) == (nlb_sg, 8080, 8080)
    db_in = _rules(ref, ingress, db_sg)
    assert sorted((json.dumps(r["SourceSecurityGroupId"]), r["FromPort"], r["ToPort"]) for r in db_in) == sorted(
        [(json.dumps(service_sg), 3306, 3306), (json.dumps(rotation_sg), 3306, 3306)]
    )
    assert all("CidrIp" not in r for r in db_in)
    service_out = _rules(ref, "AWS::EC2::SecurityGroupEgress", service_sg)
    assert sorted(r["FromPort"] for r in service_out) == [3306]
    assert [r.get("DestinationSecurityGroupId") for r in service_out] == [db_sg]
    (service_group,) = [r for k, r in ref.resources("AWS::EC2::SecurityGroup").items() if "ServiceSecurity" in k]
    (https_out,) = service_group["Properties"]["SecurityGroupEgress"]
    assert (https_out["CidrIp"], https_out["FromPort"], https_out["ToPort"]) == ("0.0.0.0/0", 443, 443)
    (db_group,) = [r for k, r in ref.resources("AWS::EC2::SecurityGroup").items() if "DatabaseSecurityGroup" in k]
    assert db_group["Properties"]["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"  # no egress


def test_app_tier_acl_opens_nlb_to_instance_traffic_across_its_subnets(ref: SynthesizedStack) -> None:
    entries = [
        e["Properties"] for k, e in ref.resources("AWS::EC2::NetworkAclEntry").items() if k.startswith("NetworkAppNacl")
    ]
    web_cidrs = {"10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"}
    app_cidrs = {"10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20"}

    def rows(egress: bool, ports: tuple[int, int]) -> set[str]:
        return {
            e["CidrBlock"]
            for e in entries
            if e.get("Egress", False) == egress and (e["PortRange"]["From"], e["PortRange"]["To"]) == ports
        }

    assert rows(False, (8080, 8080)) == web_cidrs | app_cidrs  # the web tier's, and the NLB's
    assert rows(True, (8080, 8080)) == app_cidrs
    assert rows(True, (1024, 65535)) == web_cidrs | app_cidrs
    # VPC Link traffic reaches the listener over PrivateLink, from the NLB's own addresses.
    assert rows(False, (80, 80)) == app_cidrs
    assert all(e["RuleAction"] == "allow" and e["RuleNumber"] % 100 == 0 for e in entries)
    assert len({(e["RuleNumber"], e.get("Egress", False)) for e in entries}) == len(entries)


def test_database_is_encrypted_with_the_customer_key_and_locked_down(ref: SynthesizedStack) -> None:
    key = {"Fn::GetAtt": [ref.logical_id("AWS::KMS::Key", "PrivateApiKey"), "Arn"]}
    db_id, db = ref.one("AWS::RDS::DBInstance")
    props = db["Properties"]
    assert db["DeletionPolicy"] == "Retain"
    assert props["StorageEncrypted"] is True
    assert props["KmsKeyId"] == key
    assert props["PerformanceInsightsKMSKeyId"] == key
    assert props["EnablePerformanceInsights"] is True
    assert props["EnableIAMDatabaseAuthentication"] is True
    assert props["DeletionProtection"] is True
    assert props["MultiAZ"] is True
    assert props["BackupRetentionPeriod"] == 7
    assert props["PubliclyAccessible"] is False
    assert (props["Engine"], props["EngineVersion"]) == ("mysql", "8.4.7")
    assert props["Port"] == "3306"
    assert props["EnableCloudwatchLogsExports"] == ["audit", "error", "general", "slowquery"]
    assert props["MonitoringInterval"] == 60
    ref.template.has_resource_properties(
        "AWS::RDS::DBParameterGroup", {"Parameters": {"require_secure_transport": "ON"}}
    )
    ref.template.has_resource_properties(
        "AWS::RDS::OptionGroup", {"OptionConfigurations": [{"OptionName": "MARIADB_AUDIT_PLUGIN"}]}
    )
    _, subnet_group = ref.one("AWS::RDS::DBSubnetGroup")
    assert all("DbSubnet" in s["Ref"] for s in subnet_group["Properties"]["SubnetIds"])
    # The exported logs land in groups that exist first, encrypted, with retention.
    identifier = render(props["DBInstanceIdentifier"])
    assert identifier.endswith(f"-{PLACEHOLDER}-db")  # unique to the stack's creation: it is retained
    log_groups = {
        render(lg["Properties"]["LogGroupName"]): lg
        for k, lg in ref.resources("AWS::Logs::LogGroup").items()
        if "DatabaseLog" in k
    }
    assert set(log_groups) == {
        f"/aws/rds/instance/{identifier}/{t}" for t in ("audit", "error", "general", "slowquery")
    }
    assert all(lg["Properties"]["KmsKeyId"] == key for lg in log_groups.values())
    assert all(lg["Properties"]["RetentionInDays"] == 365 for lg in log_groups.values())
    assert {k for k in ref.resources("AWS::Logs::LogGroup") if "DatabaseLog" in k} <= set(db["DependsOn"])
    assert db_id in {r["Properties"]["Dimensions"][0]["Value"].get("Ref") for r in _db_alarms(ref)}


def _db_alarms(stacked: SynthesizedStack) -> list[dict[str, Any]]:
    return [
        a for a in stacked.resources("AWS::CloudWatch::Alarm").values() if a["Properties"]["Namespace"] == "AWS/RDS"
    ]


def test_secret_is_encrypted_generated_and_rotated(ref: SynthesizedStack) -> None:
    key = {"Fn::GetAtt": [ref.logical_id("AWS::KMS::Key", "PrivateApiKey"), "Arn"]}
    _, secret = ref.one("AWS::SecretsManager::Secret")
    assert secret["Properties"]["KmsKeyId"] == key
    assert secret["Properties"]["GenerateSecretString"]["SecretStringTemplate"] == '{"username":"dbadmin"}'
    _, schedule = ref.one("AWS::SecretsManager::RotationSchedule")
    assert schedule["Properties"]["RotationRules"] == {"ScheduleExpression": "rate(30 days)"}
    _, app = ref.one("AWS::Serverless::Application")
    assert app["Properties"]["Parameters"]["kmsKeyArn"] == key
    assert app["Properties"]["Parameters"]["vpcSubnetIds"]  # runs in the VPC, next to the database


def test_instances_imdsv2_encrypted_no_ssh_ssm_and_iam_db_connect_only(ref: SynthesizedStack) -> None:
    _, template = ref.one("AWS::EC2::LaunchTemplate")
    data = template["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"] == {"HttpPutResponseHopLimit": 1, "HttpTokens": "required"}
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    assert "KeyName" not in data
    assert data["Monitoring"] == {"Enabled": True}
    assert data["SecurityGroupIds"] == [_sg_id(ref, "PrivateApiServiceSecurityGroup")]
    user_data = json.dumps(data["UserData"])
    assert "Environment=PORT=8080" in user_data
    assert "def serve(port" in user_data  # the runtime service, verbatim
    ref.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [Match.object_like({"Principal": {"Service": "ec2.amazonaws.com"}})]
            },
            "ManagedPolicyArns": Match.array_with(
                [
                    {
                        "Fn::Join": [
                            "",
                            ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonSSMManagedInstanceCore"],
                        ]
                    }
                ]
            ),
        },
    )
    (policy,) = [
        p for k, p in ref.resources("AWS::IAM::ManagedPolicy").items() if k.startswith("PrivateApiInstanceRole")
    ]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "rds-db:connect"
    assert statement["Resource"]["Fn::Join"][1][-1] == "/app"
    ref.template.has_resource_properties(
        "AWS::AutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
                "TargetValue": 70,
            },
        },
    )


def test_stage_throttles_logs_json_traces_and_never_logs_bodies(ref: SynthesizedStack) -> None:
    log_group = ref.logical_id("AWS::Logs::LogGroup", "PrivateApiAccessLogs")
    _, stage = ref.one("AWS::ApiGateway::Stage")
    props = stage["Properties"]
    assert props["StageName"] == "prod"
    assert props["TracingEnabled"] is True
    execution_logs = ref.logical_id("AWS::Logs::LogGroup", "ExecutionLogs")
    assert execution_logs in stage["DependsOn"]
    name = ref.resources("AWS::Logs::LogGroup")[execution_logs]["Properties"]["LogGroupName"]["Fn::Join"][1]
    assert name == ["API-Gateway-Execution-Logs_", {"Ref": ref.logical_id("AWS::ApiGateway::RestApi")}, "/prod"]
    assert props["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1][-1] == {"Ref": log_group}
    assert json.loads(props["AccessLogSetting"]["Format"])["status"] == "$context.status"
    (settings,) = props["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == 100
    assert settings["ThrottlingBurstLimit"] == 200
    assert settings["LoggingLevel"] == "INFO"
    assert settings["DataTraceEnabled"] is False
    _, api = ref.one("AWS::ApiGateway::RestApi")
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    # The reference stack opts into the account-wide role explicitly; the default does not (see variant).
    assert len(ref.resources("AWS::ApiGateway::Account")) == 1


def test_waf_protects_the_stage(ref: SynthesizedStack) -> None:
    stage_id = ref.logical_id("AWS::ApiGateway::Stage")
    api_id = ref.logical_id("AWS::ApiGateway::RestApi")
    acl_id = ref.logical_id("AWS::WAFv2::WebACL")
    _, association = ref.one("AWS::WAFv2::WebACLAssociation")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    arn = association["Properties"]["ResourceArn"]["Fn::Join"][1]
    assert {"Ref": api_id} in arn and {"Ref": stage_id} in arn
    _, acl = ref.one("AWS::WAFv2::WebACL")
    names = {r["Name"] for r in acl["Properties"]["Rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet", "RateLimitPerIp"} <= names


def test_every_log_group_is_encrypted_with_finite_retention(ref: SynthesizedStack) -> None:
    groups = ref.resources("AWS::Logs::LogGroup")
    # Flow logs, access logs, execution logs, WAF and 4 database exports: API Gateway and RDS would create
    # the execution and export groups themselves (unencrypted, kept forever) if they did not exist first.
    assert len(groups) == 8
    assert all(g["Properties"]["RetentionInDays"] == 365 and "KmsKeyId" in g["Properties"] for g in groups.values())


def test_alarms_cover_api_nlb_asg_and_database_and_notify_the_topic(ref: SynthesizedStack) -> None:
    topic = {"Ref": ref.logical_id("AWS::SNS::Topic")}
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for logical_id, a in ref.resources("AWS::CloudWatch::Alarm").items()
        if logical_id.startswith("PrivateApi")  # not the network's NAT gateway alarms
    }
    assert set(alarms) == {
        "5XXError",
        "Latency",
        "UnHealthyHostCount",
        "GroupInServiceInstances",
        "CPUUtilization",
        "FreeStorageSpace",
        "DatabaseConnections",
    }
    assert alarms["5XXError"]["Statistic"] == "Average" and alarms["5XXError"]["Threshold"] == 0.05
    assert alarms["Latency"]["ExtendedStatistic"] == "p99" and alarms["Latency"]["Threshold"] == 2000
    assert alarms["GroupInServiceInstances"]["ComparisonOperator"] == "LessThanThreshold"
    assert alarms["GroupInServiceInstances"]["Threshold"] == 2
    assert alarms["CPUUtilization"]["Threshold"] == 80
    assert alarms["FreeStorageSpace"]["Threshold"] == 2 * 1024**3
    assert all(a["AlarmActions"] == [topic] and a["OKActions"] == [topic] for a in alarms.values())
    _, asg = ref.one("AWS::AutoScaling::AutoScalingGroup")
    assert asg["Properties"]["NotificationConfigurations"][0]["TopicARN"] == topic
    api: PrivateApi = ref.stack.api  # type: ignore[attr-defined]
    assert set(api.alarms) == {
        "Api5xxRate",
        "ApiLatencyP99",
        "UnhealthyHosts",
        "InServiceBelowMinimum",
        "DatabaseCpu",
        "DatabaseFreeStorage",
        "DatabaseConnections",
    }


def test_attributes_and_grant_invoke(ref: SynthesizedStack) -> None:
    api: PrivateApi = ref.stack.api  # type: ignore[attr-defined]
    assert api.database.secret is not None
    assert api.database_secret.secret_arn == api.database.secret.secret_arn
    assert api.connections.security_groups == [api.service_security_group]
    assert api.network is ref.stack.network  # type: ignore[attr-defined]
    stack = cdk.Stack(new_app(), "Grant")
    own = PrivateApi(stack, "Api")
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    own.grant_invoke(role, method="GET", path="/orders/*")
    stacked = synth(stack)
    (policy,) = stacked.resources("AWS::IAM::Policy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "execute-api:Invoke"
    assert statement["Resource"]["Fn::Join"][1][-1] == "/prod/GET/orders/*"
    # The default: no account-wide API Gateway role, and the default VPC gets the MySQL port.
    assert stacked.resources("AWS::ApiGateway::Account") == {}
    stacked.template.has_resource_properties(
        "AWS::EC2::NetworkAclEntry", {"PortRange": {"From": 3306, "To": 3306}, "Egress": False}
    )


def test_open_api_only_when_asked_and_then_the_packs_say_so(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    PrivateApi(stack, "Api", authorization=ApiAuthorization.NONE)
    stacked = synth(stack)
    methods = stacked.resources("AWS::ApiGateway::Method").values()
    assert {m["Properties"]["AuthorizationType"] for m in methods} == {"NONE"}
    rules = {v.rule_name for pack in packs() for v in pack.validate_scope(stack).violations if v.severity == "error"}
    assert rules == {"AwsSolutions-APIG4", "AwsSolutions-COG4"}


def test_the_vpc_of_a_three_tier_vpc_is_used_as_the_three_tier_vpc(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    network = ThreeTierVpc(stack, "Network", max_azs=2)
    api = PrivateApi(stack, "Api", vpc=network.vpc)
    assert api.network is network
    entries = [
        e["Properties"]
        for k, e in synth(stack).resources("AWS::EC2::NetworkAclEntry").items()
        if k.startswith("NetworkAppNacl") and e["Properties"].get("Egress")
    ]
    # The app tier's ACL still opens to NLB traffic: app port out to both app subnets.
    assert len([e for e in entries if e["PortRange"]["From"] == 8080]) == 2


# -- options (variant stack) -----------------------------------------------------------------


def test_variant_builds_its_own_vpc_with_the_postgres_port_and_one_key(variant: SynthesizedStack) -> None:
    assert len(variant.resources("AWS::EC2::VPC")) == 1
    assert len(variant.resources("AWS::KMS::Key")) == 1  # flow logs share the construct's key
    variant.template.has_resource_properties(
        "AWS::EC2::NetworkAclEntry", {"PortRange": {"From": 5432, "To": 5432}, "Egress": False}
    )
    _, db = variant.one("AWS::RDS::DBInstance")
    props = db["Properties"]
    assert (props["Engine"], props["EngineVersion"], props["Port"]) == ("postgres", "17.6", "5432")
    assert props["MultiAZ"] is False
    # The suffix is 8 lowercase hex digits: "deadbeef" stands in for it.
    identifier = render(props["DBInstanceIdentifier"]).replace(PLACEHOLDER, "deadbeef")
    assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", identifier)
    assert len(identifier) <= 63
    assert props["EnableCloudwatchLogsExports"] == ["postgresql", "upgrade", "iam-db-auth-error"]
    variant.template.has_resource_properties("AWS::RDS::DBParameterGroup", {"Parameters": {"rds.force_ssl": "1"}})
    assert variant.resources("AWS::RDS::OptionGroup") == {}
    assert variant.resources("AWS::ApiGateway::Account") == {}


def test_variant_service_ports_image_and_capacity(variant: SynthesizedStack) -> None:
    _, listener = variant.one("AWS::ElasticLoadBalancingV2::Listener")
    _, tg = variant.one("AWS::ElasticLoadBalancingV2::TargetGroup")
    assert listener["Properties"]["Port"] == 8443
    assert (tg["Properties"]["Port"], tg["Properties"]["HealthCheckPath"]) == (9000, "/ready")
    _, template = variant.one("AWS::EC2::LaunchTemplate")
    image = json.dumps(template["Properties"]["LaunchTemplateData"]["ImageId"])
    assert "x8664" in image.replace("_", "").replace("-", "").lower()  # an x86 image for an x86 instance type
    assert template["Properties"]["LaunchTemplateData"]["InstanceType"] == "m7i.large"


def test_variant_cognito_api_keys_cache_and_lambda_route(variant: SynthesizedStack) -> None:
    authorizer_id, authorizer = variant.one("AWS::ApiGateway::Authorizer")
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    methods = variant.resources("AWS::ApiGateway::Method")
    assert len(methods) == 4  # /, /{proxy+}, /jobs, /jobs/{proxy+}
    for method in methods.values():
        assert method["Properties"]["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert method["Properties"]["AuthorizerId"] == {"Ref": authorizer_id}
        assert method["Properties"]["ApiKeyRequired"] is True
    lambda_methods = [m for m in methods.values() if m["Properties"]["Integration"]["Type"] == "AWS_PROXY"]
    assert len(lambda_methods) == 2
    assert FUNCTION_ARN in json.dumps(lambda_methods[0]["Properties"]["Integration"]["Uri"])
    assert {r["Properties"]["PathPart"] for r in variant.resources("AWS::ApiGateway::Resource").values()} == {
        "{proxy+}",
        "jobs",
    }
    _, plan = variant.one("AWS::ApiGateway::UsagePlan")
    assert plan["Properties"]["Quota"] == {"Limit": 10000, "Period": "DAY"}
    assert plan["Properties"]["Throttle"] == {"BurstLimit": 20, "RateLimit": 10}
    assert len(variant.resources("AWS::ApiGateway::ApiKey")) == 1
    assert len(variant.resources("AWS::ApiGateway::UsagePlanKey")) == 1
    _, stage = variant.one("AWS::ApiGateway::Stage")
    assert stage["Properties"]["CacheClusterEnabled"] is True
    assert stage["Properties"]["CacheClusterSize"] == "0.5"
    assert stage["Properties"]["MethodSettings"][0]["CacheDataEncrypted"] is True
    api: PrivateApi = variant.stack.api  # type: ignore[attr-defined]
    with pytest.raises(PropValidationError, match="grant_invoke needs ApiAuthorization.IAM"):
        api.grant_invoke(iam.AccountRootPrincipal())


def test_variant_alarms_notify_a_topic_of_its_own_and_packs_report_only_the_users_choice(
    variant: SynthesizedStack,
) -> None:
    """Without alarm_topic, the API and the VPC it built notify one new topic, under the construct's key."""
    alarms = variant.resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 7 + 3  # the API's seven and one per NAT gateway of its own VPC
    (topic_id, topic) = variant.one("AWS::SNS::Topic")
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": topic_id}] for a in alarms.values())
    assert topic["Properties"]["KmsMasterKeyId"] == {
        "Fn::GetAtt": [variant.logical_id("AWS::KMS::Key", "ApiKey"), "Arn"]
    }
    errors = [
        f"{v.rule_name}: {path}"
        for pack in packs()
        for v in pack.validate_scope(variant.stack).violations
        if v.severity == "error"
        for path in {str(r.construct_path) for r in v.violating_resources}
        if path.startswith("Variant/Api/")  # the test's own user pool is not the construct's
    ]
    # multi_az=False is a weaker choice the user made: the construct lets the packs report it.
    assert sorted(errors) == [
        "AwsSolutions-RDS3: Variant/Api/Database/Resource",
        "HIPAA.Security-RDSMultiAZSupport: Variant/Api/Database/Resource",
        "NIST.800.53.R5-RDSMultiAZSupport: Variant/Api/Database/Resource",
    ]


def test_plain_vpc_uses_private_and_isolated_subnets_and_adds_no_acl_entries(
    make_stack: Callable[..., cdk.Stack],
) -> None:
    stack = make_stack()
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
    )
    user_data = ec2.UserData.custom("#!/bin/bash\n/opt/orders/bin/start --port 8080")
    PrivateApi(
        stack,
        "Api",
        vpc=vpc,
        engine=POSTGRES,
        user_data=user_data,
        machine_image=ec2.MachineImage.latest_amazon_linux2023(cpu_type=ec2.AmazonLinuxCpuType.ARM_64),
    )
    stacked = synth(stack)
    _, template = stacked.one("AWS::EC2::LaunchTemplate")
    assert template["Properties"]["LaunchTemplateData"]["UserData"] == {
        "Fn::Base64": "#!/bin/bash\n/opt/orders/bin/start --port 8080"
    }
    assert stacked.resources("AWS::EC2::NetworkAclEntry") == {}
    _, nlb = stacked.one("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert all("PrivateSubnet" in s["Ref"] for s in nlb["Properties"]["Subnets"])
    _, subnet_group = stacked.one("AWS::RDS::DBSubnetGroup")
    assert all("IsolatedSubnet" in s["Ref"] for s in subnet_group["Properties"]["SubnetIds"])


# -- the optional edge ------------------------------------------------------------------------


def _zone(stack: cdk.Stack) -> route53.IHostedZone:
    return route53.HostedZone.from_hosted_zone_attributes(
        stack, "Zone", hosted_zone_id="Z0123456789", zone_name="example.com"
    )


US_EAST_1 = cdk.Environment(account="111111111111", region="us-east-1")
EU_WEST_1 = cdk.Environment(account="111111111111", region="eu-west-1")


@pytest.fixture(scope="module")
def edge() -> SynthesizedStack:
    stack = cdk.Stack(new_app(), "Edge", env=US_EAST_1)
    pool = cognito.UserPool(stack, "Users")
    PrivateApi(
        stack,
        "Api",
        domain_name="api.example.com",
        hosted_zone=_zone(stack),
        authorization=ApiAuthorization.COGNITO,
        user_pool=pool,
    )
    return synth(stack)


def test_edge_serves_the_domain_over_https_with_security_headers(edge: SynthesizedStack) -> None:
    api_id = edge.logical_id("AWS::ApiGateway::RestApi")
    cert_id, cert = edge.one("AWS::CertificateManager::Certificate")
    assert cert["Properties"]["DomainName"] == "api.example.com"
    assert cert["Properties"]["ValidationMethod"] == "DNS"
    dist_id, dist = edge.one("AWS::CloudFront::Distribution")
    config = dist["Properties"]["DistributionConfig"]
    assert config["Aliases"] == ["api.example.com"]
    assert config["ViewerCertificate"]["AcmCertificateArn"] == {"Ref": cert_id}
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["ResponseHeadersPolicyId"] == "67f7725c-6f97-4210-82d7-5512b31e9d03"  # SECURITY_HEADERS
    assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CACHING_DISABLED
    (origin,) = config["Origins"]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert json.dumps({"Ref": api_id}) in json.dumps(origin["DomainName"])
    assert "OriginPath" in origin  # the stage, taken from the API URL
    assert "Logging" in config
    records = edge.resources("AWS::Route53::RecordSet").values()
    assert sorted(r["Properties"]["Type"] for r in records) == ["A", "AAAA"]
    assert all(r["Properties"]["AliasTarget"]["DNSName"] == {"Fn::GetAtt": [dist_id, "DomainName"]} for r in records)


def test_edge_passes_every_pack(edge: SynthesizedStack) -> None:
    errors = [
        f"{v.rule_name}: {path}"
        for pack in packs()
        for v in pack.validate_scope(edge.stack).violations
        if v.severity == "error"
        for path in {str(r.construct_path) for r in v.violating_resources}
        if path.startswith("Edge/Api/")
    ]
    assert not errors


def test_no_edge_resources_without_a_domain(ref: SynthesizedStack) -> None:
    for type_ in ("AWS::CloudFront::Distribution", "AWS::CertificateManager::Certificate", "AWS::Route53::RecordSet"):
        assert ref.resources(type_) == {}


def test_edge_in_another_region_takes_a_certificate_and_an_edge_web_acl(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack(env=EU_WEST_1)
    certificate = acm.Certificate.from_certificate_arn(
        stack, "Cert", "arn:aws:acm:us-east-1:111111111111:certificate/abc"
    )
    acl_arn = "arn:aws:wafv2:us-east-1:111111111111:global/webacl/edge/1"
    PrivateApi(
        stack,
        "Api",
        domain_name="api.example.com",
        hosted_zone=_zone(stack),
        authorization=ApiAuthorization.NONE,
        edge_certificate=certificate,
        edge_web_acl_arn=acl_arn,
    )
    stacked = synth(stack)
    assert stacked.resources("AWS::CertificateManager::Certificate") == {}
    _, dist = stacked.one("AWS::CloudFront::Distribution")
    assert dist["Properties"]["DistributionConfig"]["WebACLId"] == acl_arn
    assert (
        dist["Properties"]["DistributionConfig"]["ViewerCertificate"]["AcmCertificateArn"]
        == certificate.certificate_arn
    )


def _edge_props(stack: cdk.Stack, **extra: Any) -> dict[str, Any]:
    return {
        "domain_name": "api.example.com",
        "hosted_zone": _zone(stack),
        "authorization": ApiAuthorization.NONE,
        **extra,
    }


@pytest.mark.parametrize("env", [EU_WEST_1, None], ids=["eu-west-1", "env-agnostic"])
def test_edge_needs_a_us_east_1_certificate_elsewhere(env: cdk.Environment | None) -> None:
    stack = cdk.Stack(new_app(), "Elsewhere", env=env)
    case = BadProp("edge_certificate", _edge_props, says="CloudFront takes certificates from us-east-1")
    assert_fails_early(PrivateApi, case, stack)


# -- bad props ---------------------------------------------------------------------------------


def _vpc(stack: cdk.Stack, *types: ec2.SubnetType, max_azs: int = 2) -> ec2.Vpc:
    """A plain VPC with a public subnet group and one group of each of ``types``."""
    return ec2.Vpc(
        stack,
        "Vpc",
        max_azs=max_azs,
        subnet_configuration=[ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC)]
        + [ec2.SubnetConfiguration(name=t.name.title().replace("_", ""), subnet_type=t) for t in types],
    )


PRIVATE, ISOLATED = ec2.SubnetType.PRIVATE_WITH_EGRESS, ec2.SubnetType.PRIVATE_ISOLATED


def _pool(stack: cdk.Stack) -> cognito.UserPool:
    return cognito.UserPool(stack, "Pool")


def _function(stack: cdk.Stack) -> lambda_.IFunction:
    return lambda_.Function.from_function_arn(stack, "Fn", FUNCTION_ARN)


def _one_az_database(stack: cdk.Stack) -> dict[str, Any]:
    network = ThreeTierVpc(stack, "Net", max_azs=2)
    return {"vpc": network, "database_subnets": ec2.SubnetSelection(subnets=[network.db.subnets[0]])}


_TOPIC_ARN = "arn:aws:sns:eu-west-1:111111111111:ops"
_ACL_ARN = "arn:aws:wafv2:us-east-1:111111111111:global/webacl/edge/1"

#: Every prop a user can get wrong, each failing before anything is built with an error naming it.
BAD_PROPS: list[BadProp] = [
    # -- network
    BadProp("vpc", {"vpc": "vpc-0123456789abcdef0"}, says="Allowed: an IVpc or a ThreeTierVpc or None"),
    BadProp("vpc", lambda s: {"vpc": _vpc(s, PRIVATE)}, says="picks no isolated subnets for database_subnets"),
    BadProp("vpc", lambda s: {"vpc": _vpc(s, ISOLATED)}, says="picks no private subnets with egress"),
    BadProp("vpc", lambda s: {"vpc": ThreeTierVpc(s, "Net", max_azs=1)}, says="span 1 AZ"),
    BadProp(
        "vpc_subnets", {"vpc_subnets": ec2.SubnetSelection(subnet_type=PRIVATE)}, says="only takes effect with vpc"
    ),
    BadProp(
        "vpc_subnets",
        lambda s: {"vpc": _vpc(s, PRIVATE, ISOLATED), "vpc_subnets": ec2.SubnetSelection(subnet_group_name="Nope")},
        says="picks no private subnets with egress",
    ),
    BadProp(
        "vpc_subnets", lambda s: {"vpc": _vpc(s, PRIVATE, ISOLATED), "vpc_subnets": "Private"}, says="a SubnetSelection"
    ),
    BadProp("database_subnets", {"database_subnets": ec2.SubnetSelection(subnet_type=ISOLATED)}, says="with vpc"),
    BadProp("database_subnets", _one_az_database, says="RDS needs a DB subnet group in at least 2 AZs"),
    BadProp("service_subnets", {"service_subnets": ec2.SubnetSelection(subnet_type=PRIVATE)}, says="no such prop"),
    # -- API
    BadProp("stage_name", {"stage_name": "prod stage"}, says="1 to 128 letters"),
    BadProp("stage_name", {"stage_name": ""}, says="must not be empty"),
    BadProp("authorization", {"authorization": "iam"}, says="ApiAuthorization.IAM"),
    BadProp("user_pool", {"authorization": ApiAuthorization.COGNITO}, says="needs the user pool"),
    BadProp("user_pool", lambda s: {"user_pool": _pool(s)}, says="only used with ApiAuthorization.COGNITO"),
    BadProp(
        "user_pool", {"authorization": ApiAuthorization.COGNITO, "user_pool": "eu-west-1_abc"}, says="an IUserPool"
    ),
    BadProp("throttling_rate_limit", {"throttling_rate_limit": 0.5}, says="from 1 to 1000000"),
    BadProp("throttling_rate_limit", {"throttling_rate_limit": "100"}, says="Allowed: a number"),
    BadProp("throttling_burst_limit", {"throttling_burst_limit": 0}, says="from 1 to 1000000"),
    BadProp("throttling_burst_limit", {"throttling_burst_limit": 200.0}, says="a whole number (int)"),
    BadProp("execution_log_level", {"execution_log_level": "INFO"}, says="MethodLoggingLevel"),
    BadProp("cloud_watch_role", {"cloud_watch_role": 1}, says="a bool"),
    BadProp("cache_cluster_size", {"cache_cluster_size": "2"}, says="'0.5'"),
    BadProp("cache_cluster_size", {"cache_cluster_size": 0.5}, says="a str or None"),
    BadProp("usage_plan_quota_per_day", {"usage_plan_quota_per_day": 100}, says="only takes effect with usage_plan"),
    BadProp("usage_plan_quota_per_day", {"usage_plan": True, "usage_plan_quota_per_day": 0}, says="from 1 to"),
    BadProp("lambda_path", {"lambda_path": "jobs"}, says="only takes effect with lambda_function"),
    BadProp("lambda_path", lambda s: {"lambda_function": _function(s), "lambda_path": "a/b"}, says="one path segment"),
    BadProp("lambda_path", lambda s: {"lambda_function": _function(s), "lambda_path": ""}, says="must not be empty"),
    BadProp("lambda_function", {"lambda_function": FUNCTION_ARN}, says="an IFunction or None"),
    BadProp("waf_rate_limit", {"waf_rate_limit": 5}, says="from 10 to"),
    # -- service tier
    BadProp("listener_port", {"listener_port": 0}, says="from 1 to 65535"),
    BadProp("app_port", {"app_port": 70000}, says="from 1 to 65535"),
    BadProp("app_port", {"app_port": "8080"}, says="a whole number (int)"),
    # Without a vpc the API builds a ThreeTierVpc whose web tier serves 80 and 443.
    BadProp("app_port", {"app_port": 443}, says="must differ from the web ports [80, 443]"),
    BadProp("health_check_path", {"health_check_path": "health"}, says="starting with '/'"),
    BadProp("health_check_path", {"health_check_path": "/he alth"}, says="without spaces"),
    BadProp("instance_type", {"instance_type": "t4g.small"}, says="an InstanceType"),
    BadProp("machine_image", {"machine_image": "ami-0123456789abcdef0"}, says="an IMachineImage or None"),
    BadProp("user_data", {"user_data": "#!/bin/bash"}, says="UserData or None"),
    BadProp("root_volume_size_gib", {"root_volume_size_gib": 4}, says="from 8 to 16384"),
    BadProp("min_capacity", {"min_capacity": 5, "max_capacity": 2}, says="must not exceed max_capacity (2)"),
    BadProp("min_capacity", {"min_capacity": 0}, says="from 1 to 1000"),
    BadProp("min_capacity", {"min_capacity": 2.5}, says="a whole number (int)"),
    BadProp("min_capacity", {"min_capacity": True}, says="a whole number (int)"),
    BadProp("max_capacity", {"max_capacity": 1001}, says="from 1 to 1000"),
    BadProp(
        "desired_capacity", {"min_capacity": 2, "max_capacity": 4, "desired_capacity": 5}, says="from min_capacity"
    ),
    BadProp("desired_capacity", {"desired_capacity": 1}, says="from min_capacity (2) to max_capacity (4)"),
    BadProp("cpu_target_percent", {"cpu_target_percent": 150}, says="from 1 to 100"),
    # -- database tier
    BadProp(
        "engine",
        {"engine": rds.DatabaseInstanceEngine.maria_db(version=rds.MariaDbEngineVersion.VER_10_11)},
        says="MySQL or PostgreSQL",
    ),
    BadProp("engine", {"engine": rds.DatabaseInstanceEngine.MYSQL}, says="Pin a full engine version"),
    BadProp("engine", {"engine": "mysql"}, says="an IInstanceEngine"),
    BadProp("database_instance_type", {"database_instance_type": "db.t4g.medium"}, says="an InstanceType"),
    BadProp("database_port", {"database_port": 8080}, says="must differ from app_port (8080)"),
    BadProp("database_port", {"database_port": 0}, says="from 1 to 65535"),
    BadProp(
        "database_port", lambda s: {"vpc": ThreeTierVpc(s, "Net", db_port=3306), "engine": POSTGRES}, says="not 5432"
    ),
    BadProp("database_port", lambda s: {"vpc": ThreeTierVpc(s, "Net", db_port=5432).vpc}, says="db_port=5432"),
    BadProp("database_name", {"database_name": "1app"}, says="a letter, then"),
    # An empty user would fall back to nothing; a wildcard would let the instances connect as any user.
    BadProp("database_iam_user", {"database_iam_user": ""}, says="must not be empty"),
    BadProp("database_iam_user", {"database_iam_user": "*"}, says="no wildcard"),
    BadProp("allocated_storage_gib", {"allocated_storage_gib": 10}, says="from 20 to 65536"),
    BadProp(
        "max_allocated_storage_gib",
        {"allocated_storage_gib": 200, "max_allocated_storage_gib": 100},
        says="at least allocated_storage_gib (200)",
    ),
    BadProp("multi_az", {"multi_az": "yes"}, says="a bool"),
    BadProp("backup_retention", {"backup_retention": cdk.Duration.days(36)}, says="from 1 day to 35 days"),
    BadProp("backup_retention", {"backup_retention": cdk.Duration.hours(36)}, says="a whole number of days"),
    BadProp("backup_retention", {"backup_retention": 7}, says="a Duration"),
    BadProp(
        "secret_rotation_interval", {"secret_rotation_interval": cdk.Duration.hours(1)}, says="whole number of days"
    ),
    BadProp("secret_rotation_interval", {"secret_rotation_interval": cdk.Duration.days(400)}, says="to 365 days"),
    BadProp("monitoring_interval", {"monitoring_interval": cdk.Duration.seconds(20)}, says="0, 1, 5, 10, 15, 30 or 60"),
    BadProp(
        "monitoring_interval", {"monitoring_interval": cdk.Duration.millis(1500)}, says="0, 1, 5, 10, 15, 30 or 60"
    ),
    # -- shared
    BadProp("encryption_key", {"encryption_key": "alias/aws/rds"}, says="an IKey or None"),
    BadProp("log_retention", {"log_retention": 365}, says="a RetentionDays"),
    BadProp("removal_policy", {"removal_policy": "retain"}, says="a RemovalPolicy"),
    # -- alarms
    BadProp("alarm_topic", {"alarm_topic": _TOPIC_ARN}, says="an ITopic or None"),
    BadProp("alarm_api_5xx_rate", {"alarm_api_5xx_rate": 5}, says="a fraction above 0 and at most 1"),
    BadProp("alarm_api_5xx_rate", {"alarm_api_5xx_rate": 0}, says="a fraction above 0"),
    BadProp("alarm_api_p99_latency", {"alarm_api_p99_latency": cdk.Duration.minutes(10)}, says="to 5 minutes"),
    BadProp("alarm_db_cpu_percent", {"alarm_db_cpu_percent": 0}, says="from 1 to 100"),
    BadProp("alarm_db_free_storage_gib", {"alarm_db_free_storage_gib": 0}, says="from 0.1 to 65536"),
    BadProp("alarm_db_connections", {"alarm_db_connections": 0}, says="from 1 to 100000"),
    BadProp("dashboard", {"dashboard": 3}, says="a bool or a str"),
    BadProp("dashboard", {"dashboard": "ops dashboard!"}, says="each a letter, a digit, '-' or '_'"),
    BadProp("dashboard", {"dashboard": ""}, says="1 to 255 characters"),
    BadProp("dashboard", {"dashboard": "x" * 256}, says="1 to 255 characters"),
    # -- edge (without a domain_name, its props would be ignored)
    BadProp("hosted_zone", lambda s: {"hosted_zone": _zone(s)}, says="only takes effect with domain_name"),
    BadProp("edge_certificate", lambda s: {"edge_certificate": _certificate(s)}, says="only takes effect with"),
    BadProp("edge_web_acl_arn", {"edge_web_acl_arn": _ACL_ARN}, says="only takes effect with domain_name"),
]

#: Bad edge props, in a us-east-1 stack (where a certificate can be made for the domain).
EDGE_BAD_PROPS: list[BadProp] = [
    BadProp("hosted_zone", lambda s: _edge_props(s, hosted_zone=None), says="needs the hosted zone"),
    BadProp("hosted_zone", lambda s: _edge_props(s, hosted_zone="Z0123456789"), says="an IHostedZone or None"),
    BadProp("domain_name", lambda s: _edge_props(s, domain_name="API.Example.com"), says="a lower-case DNS name"),
    BadProp("domain_name", lambda s: _edge_props(s, domain_name="api.example.org"), says="not in the hosted zone"),
    BadProp("domain_name", lambda s: _edge_props(s, authorization=ApiAuthorization.IAM), says="SigV4"),
    BadProp("edge_web_acl_arn", lambda s: _edge_props(s, edge_web_acl_arn="edge-acl"), says="CloudFront-scoped"),
    BadProp(
        "edge_web_acl_arn",
        lambda s: _edge_props(s, edge_web_acl_arn=_ACL_ARN.replace("us-east-1", "eu-west-1")),
        says="us-east-1",
    ),
]


def _certificate(stack: cdk.Stack) -> acm.ICertificate:
    return acm.Certificate.from_certificate_arn(stack, "Cert", "arn:aws:acm:us-east-1:111111111111:certificate/abc")


@pytest.mark.parametrize("case", bad_prop_params(BAD_PROPS))
def test_bad_props_fail_early_naming_the_prop(case: BadProp) -> None:
    assert_fails_early(PrivateApi, case)


@pytest.mark.parametrize("case", bad_prop_params(EDGE_BAD_PROPS))
def test_bad_edge_props_fail_early(case: BadProp) -> None:
    assert_fails_early(PrivateApi, case, cdk.Stack(new_app(), "Edge", env=US_EAST_1))


def test_tokens_pass_unchecked_and_reach_the_template(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    rate = cdk.CfnParameter(stack, "Rate", type="Number").value_as_number
    burst = cdk.CfnParameter(stack, "Burst", type="Number").value_as_number
    PrivateApi(stack, "Api", throttling_rate_limit=rate, throttling_burst_limit=cast(int, burst))
    (settings,) = synth(stack).one("AWS::ApiGateway::Stage")[1]["Properties"]["MethodSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == ({"Ref": "Rate"}, {"Ref": "Burst"})


def test_metric_server_error_rate_takes_metric_options(ref: SynthesizedStack) -> None:
    api: PrivateApi = ref.stack.api  # type: ignore[attr-defined]
    default = api.metric_server_error_rate()
    assert (default.statistic, default.period.to_minutes()) == ("Average", 5)
    custom = api.metric_server_error_rate(period=cdk.Duration.minutes(1), statistic="Maximum", label="5XX")
    assert (custom.statistic, custom.period.to_minutes(), custom.label) == ("Maximum", 1, "5XX")


# -- the default service (runtime code, on a real socket) --------------------------------------


@pytest.fixture
def running(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, socket.socket]]:
    database = socket.socket()
    database.bind(("127.0.0.1", 0))
    database.listen()
    monkeypatch.setenv("DB_HOST", "127.0.0.1")
    monkeypatch.setenv("DB_PORT", str(database.getsockname()[1]))
    server = service.serve(0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", database
    finally:
        server.shutdown()
        server.server_close()
        database.close()


def _get(url: str, method: str = "GET") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_service_answers_health_paths_and_rejects_writes(running: tuple[str, socket.socket]) -> None:
    url, _ = running
    assert _get(f"{url}/health") == (200, {"status": "ok"})
    status, body = _get(f"{url}/orders/42?x=1")
    assert status == 200
    assert body["path"] == "/orders/42" and body["service"] == service.SERVICE_NAME
    assert _get(f"{url}/health", method="POST")[0] == 405


def test_service_reports_whether_the_database_port_answers(
    running: tuple[str, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, database = running
    assert _get(f"{url}/db") == (200, {"database": "reachable"})
    # A database that stopped: its port bound but not listening, so connects are refused. (Closing the
    # listener would free the port for any process on the machine to take, and then answer.)
    stopped = socket.socket()
    stopped.bind(("127.0.0.1", 0))
    monkeypatch.setenv("DB_PORT", str(stopped.getsockname()[1]))
    try:
        assert _get(f"{url}/db") == (503, {"database": "unreachable"})
    finally:
        stopped.close()
    monkeypatch.delenv("DB_HOST")
    assert _get(f"{url}/db") == (503, {"database": "unreachable"})
