"""PrivateApi: every link of API Gateway -> VPC Link -> NLB -> ASG -> RDS, the options, bad props, and the service."""

from __future__ import annotations

import json
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

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
from tests.harness import ReferenceStacks, SynthesizedStack, new_app, synth
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


def _one(stacked: SynthesizedStack, type_: str) -> tuple[str, dict[str, Any]]:
    (item,) = stacked.resources(type_).items()
    return item


def _id(stacked: SynthesizedStack, type_: str, contains: str = "") -> str:
    (logical_id,) = [k for k in stacked.resources(type_) if contains in k]
    return logical_id


# -- the chain, link by link (reference stack) ------------------------------------------------


def test_vpc_link_targets_the_internal_nlb(ref: SynthesizedStack) -> None:
    nlb_id, nlb = _one(ref, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    _, link = _one(ref, "AWS::ApiGateway::VpcLink")
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
    link_id = _id(ref, "AWS::ApiGateway::VpcLink")
    nlb_id = _id(ref, "AWS::ElasticLoadBalancingV2::LoadBalancer")
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
    nlb_id = _id(ref, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    tg_id, tg = _one(ref, "AWS::ElasticLoadBalancingV2::TargetGroup")
    _, listener = _one(ref, "AWS::ElasticLoadBalancingV2::Listener")
    assert listener["Properties"]["LoadBalancerArn"] == {"Ref": nlb_id}
    assert listener["Properties"]["Port"] == 80
    assert listener["Properties"]["Protocol"] == "TCP"
    assert listener["Properties"]["DefaultActions"] == [{"TargetGroupArn": {"Ref": tg_id}, "Type": "forward"}]
    assert tg["Properties"]["Port"] == 8080
    assert tg["Properties"]["Protocol"] == "TCP"
    assert tg["Properties"]["TargetType"] == "instance"
    assert tg["Properties"]["HealthCheckProtocol"] == "HTTP"
    assert tg["Properties"]["HealthCheckPath"] == "/health"
    _, asg = _one(ref, "AWS::AutoScaling::AutoScalingGroup")
    assert asg["Properties"]["TargetGroupARNs"] == [{"Ref": tg_id}]
    assert asg["Properties"]["VPCZoneIdentifier"] == [{"Ref": s} for s in APP_SUBNETS]
    assert asg["Properties"]["HealthCheckType"] == "ELB"
    assert (asg["Properties"]["MinSize"], asg["Properties"]["MaxSize"]) == ("2", "4")
    assert "DesiredCapacity" not in asg["Properties"]


def _sg_id(stacked: SynthesizedStack, contains: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [_id(stacked, "AWS::EC2::SecurityGroup", contains), "GroupId"]}


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
    key = {"Fn::GetAtt": [_id(ref, "AWS::KMS::Key", "PrivateApiKey"), "Arn"]}
    db_id, db = _one(ref, "AWS::RDS::DBInstance")
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
    _, subnet_group = _one(ref, "AWS::RDS::DBSubnetGroup")
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
    key = {"Fn::GetAtt": [_id(ref, "AWS::KMS::Key", "PrivateApiKey"), "Arn"]}
    _, secret = _one(ref, "AWS::SecretsManager::Secret")
    assert secret["Properties"]["KmsKeyId"] == key
    assert secret["Properties"]["GenerateSecretString"]["SecretStringTemplate"] == '{"username":"dbadmin"}'
    _, schedule = _one(ref, "AWS::SecretsManager::RotationSchedule")
    assert schedule["Properties"]["RotationRules"] == {"ScheduleExpression": "rate(30 days)"}
    _, app = _one(ref, "AWS::Serverless::Application")
    assert app["Properties"]["Parameters"]["kmsKeyArn"] == key
    assert app["Properties"]["Parameters"]["vpcSubnetIds"]  # runs in the VPC, next to the database


def test_instances_imdsv2_encrypted_no_ssh_ssm_and_iam_db_connect_only(ref: SynthesizedStack) -> None:
    _, template = _one(ref, "AWS::EC2::LaunchTemplate")
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
    log_group = _id(ref, "AWS::Logs::LogGroup", "PrivateApiAccessLogs")
    _, stage = _one(ref, "AWS::ApiGateway::Stage")
    props = stage["Properties"]
    assert props["StageName"] == "prod"
    assert props["TracingEnabled"] is True
    execution_logs = _id(ref, "AWS::Logs::LogGroup", "ExecutionLogs")
    assert execution_logs in stage["DependsOn"]
    name = ref.resources("AWS::Logs::LogGroup")[execution_logs]["Properties"]["LogGroupName"]["Fn::Join"][1]
    assert name == ["API-Gateway-Execution-Logs_", {"Ref": _id(ref, "AWS::ApiGateway::RestApi")}, "/prod"]
    assert props["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1][-1] == {"Ref": log_group}
    assert json.loads(props["AccessLogSetting"]["Format"])["status"] == "$context.status"
    (settings,) = props["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == 100
    assert settings["ThrottlingBurstLimit"] == 200
    assert settings["LoggingLevel"] == "INFO"
    assert settings["DataTraceEnabled"] is False
    _, api = _one(ref, "AWS::ApiGateway::RestApi")
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    # The reference stack opts into the account-wide role explicitly; the default does not (see variant).
    assert len(ref.resources("AWS::ApiGateway::Account")) == 1


def test_waf_protects_the_stage(ref: SynthesizedStack) -> None:
    stage_id = _id(ref, "AWS::ApiGateway::Stage")
    api_id = _id(ref, "AWS::ApiGateway::RestApi")
    acl_id = _id(ref, "AWS::WAFv2::WebACL")
    _, association = _one(ref, "AWS::WAFv2::WebACLAssociation")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    arn = association["Properties"]["ResourceArn"]["Fn::Join"][1]
    assert {"Ref": api_id} in arn and {"Ref": stage_id} in arn
    _, acl = _one(ref, "AWS::WAFv2::WebACL")
    names = {r["Name"] for r in acl["Properties"]["Rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet", "RateLimitPerIp"} <= names


def test_every_log_group_is_encrypted_with_finite_retention(ref: SynthesizedStack) -> None:
    groups = ref.resources("AWS::Logs::LogGroup")
    # Flow logs, access logs, execution logs, WAF and 4 database exports: API Gateway and RDS would create
    # the execution and export groups themselves (unencrypted, kept forever) if they did not exist first.
    assert len(groups) == 8
    assert all(g["Properties"]["RetentionInDays"] == 365 and "KmsKeyId" in g["Properties"] for g in groups.values())


def test_alarms_cover_api_nlb_asg_and_database_and_notify_the_topic(ref: SynthesizedStack) -> None:
    topic = {"Ref": _id(ref, "AWS::SNS::Topic")}
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
    _, asg = _one(ref, "AWS::AutoScaling::AutoScalingGroup")
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
    _, db = _one(variant, "AWS::RDS::DBInstance")
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
    _, listener = _one(variant, "AWS::ElasticLoadBalancingV2::Listener")
    _, tg = _one(variant, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert listener["Properties"]["Port"] == 8443
    assert (tg["Properties"]["Port"], tg["Properties"]["HealthCheckPath"]) == (9000, "/ready")
    _, template = _one(variant, "AWS::EC2::LaunchTemplate")
    image = json.dumps(template["Properties"]["LaunchTemplateData"]["ImageId"])
    assert "x8664" in image.replace("_", "").replace("-", "").lower()  # an x86 image for an x86 instance type
    assert template["Properties"]["LaunchTemplateData"]["InstanceType"] == "m7i.large"


def test_variant_cognito_api_keys_cache_and_lambda_route(variant: SynthesizedStack) -> None:
    authorizer_id, authorizer = _one(variant, "AWS::ApiGateway::Authorizer")
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
    _, plan = _one(variant, "AWS::ApiGateway::UsagePlan")
    assert plan["Properties"]["Quota"] == {"Limit": 10000, "Period": "DAY"}
    assert plan["Properties"]["Throttle"] == {"BurstLimit": 20, "RateLimit": 10}
    assert len(variant.resources("AWS::ApiGateway::ApiKey")) == 1
    assert len(variant.resources("AWS::ApiGateway::UsagePlanKey")) == 1
    _, stage = _one(variant, "AWS::ApiGateway::Stage")
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
    (topic_id, topic) = _one(variant, "AWS::SNS::Topic")
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": topic_id}] for a in alarms.values())
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [_id(variant, "AWS::KMS::Key", "ApiKey"), "Arn"]}
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
    _, template = _one(stacked, "AWS::EC2::LaunchTemplate")
    assert template["Properties"]["LaunchTemplateData"]["UserData"] == {
        "Fn::Base64": "#!/bin/bash\n/opt/orders/bin/start --port 8080"
    }
    assert stacked.resources("AWS::EC2::NetworkAclEntry") == {}
    _, nlb = _one(stacked, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert all("PrivateSubnet" in s["Ref"] for s in nlb["Properties"]["Subnets"])
    _, subnet_group = _one(stacked, "AWS::RDS::DBSubnetGroup")
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
    api_id = _id(edge, "AWS::ApiGateway::RestApi")
    cert_id, cert = _one(edge, "AWS::CertificateManager::Certificate")
    assert cert["Properties"]["DomainName"] == "api.example.com"
    assert cert["Properties"]["ValidationMethod"] == "DNS"
    dist_id, dist = _one(edge, "AWS::CloudFront::Distribution")
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
    _, dist = _one(stacked, "AWS::CloudFront::Distribution")
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


EDGE_BAD_PROPS: list[tuple[str, Callable[[cdk.Stack], dict[str, Any]]]] = [
    ("hosted_zone", lambda s: {**_edge_props(s), "hosted_zone": None}),
    ("hosted_zone", lambda s: {"hosted_zone": _zone(s)}),
    ("edge_web_acl_arn", lambda s: {"edge_web_acl_arn": "arn:aws:wafv2:us-east-1:1:global/webacl/x/1"}),
    ("domain_name", lambda s: _edge_props(s, domain_name="API.Example.com")),
    ("domain_name", lambda s: _edge_props(s, domain_name="api.example.org")),
    ("domain_name", lambda s: _edge_props(s, authorization=ApiAuthorization.IAM)),
]


@pytest.mark.parametrize(("prop", "props"), EDGE_BAD_PROPS, ids=[f"{p}-{i}" for i, (p, _) in enumerate(EDGE_BAD_PROPS)])
def test_bad_edge_props_fail_early(
    prop: str, props: Callable[[cdk.Stack], dict[str, Any]], make_stack: Callable[..., cdk.Stack]
) -> None:
    stack = make_stack(env=US_EAST_1)
    with pytest.raises(PropValidationError, match=rf"^PrivateApi: invalid {prop}="):
        PrivateApi(stack, "Api", **props(stack))


@pytest.mark.parametrize("env", [EU_WEST_1, None], ids=["eu-west-1", "env-agnostic"])
def test_edge_needs_a_us_east_1_certificate_elsewhere(
    env: cdk.Environment | None, make_stack: Callable[..., cdk.Stack]
) -> None:
    stack = make_stack(env=env)
    with pytest.raises(PropValidationError, match=r"invalid edge_certificate=None. CloudFront takes certificates"):
        PrivateApi(stack, "Api", **_edge_props(stack))


# -- bad props ---------------------------------------------------------------------------------


def _no_isolated(stack: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        ],
    )


def _no_private(stack: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="Db", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
    )


def _pool(stack: cdk.Stack) -> cognito.UserPool:
    return cognito.UserPool(stack, "Pool")


def _function(stack: cdk.Stack) -> lambda_.IFunction:
    return lambda_.Function.from_function_arn(stack, "Fn", FUNCTION_ARN)


BAD_PROPS: list[tuple[str, Callable[[cdk.Stack], dict[str, Any]]]] = [
    ("vpc", lambda s: {"vpc": _no_isolated(s)}),
    ("vpc", lambda s: {"vpc": _no_private(s)}),
    ("min_capacity", lambda s: {"min_capacity": 5, "max_capacity": 2}),
    ("min_capacity", lambda s: {"min_capacity": 0}),
    ("desired_capacity", lambda s: {"min_capacity": 2, "max_capacity": 4, "desired_capacity": 5}),
    ("throttling_rate_limit", lambda s: {"throttling_rate_limit": 0.5}),
    ("throttling_burst_limit", lambda s: {"throttling_burst_limit": 0}),
    ("app_port", lambda s: {"app_port": 70000}),
    ("listener_port", lambda s: {"listener_port": 0}),
    ("database_port", lambda s: {"database_port": 8080}),
    ("database_port", lambda s: {"vpc": ThreeTierVpc(s, "Net", db_port=3306), "engine": POSTGRES}),
    ("database_port", lambda s: {"vpc": ThreeTierVpc(s, "Net", db_port=5432).vpc}),
    ("user_pool", lambda s: {"authorization": ApiAuthorization.COGNITO}),
    ("user_pool", lambda s: {"user_pool": _pool(s)}),
    ("authorization", lambda s: {"authorization": "iam"}),
    ("lambda_path", lambda s: {"lambda_path": "jobs"}),
    ("lambda_path", lambda s: {"lambda_function": _function(s), "lambda_path": "a/b"}),
    ("usage_plan_quota_per_day", lambda s: {"usage_plan_quota_per_day": 100}),
    ("cache_cluster_size", lambda s: {"cache_cluster_size": "2"}),
    ("health_check_path", lambda s: {"health_check_path": "health"}),
    ("stage_name", lambda s: {"stage_name": "prod stage"}),
    ("cpu_target_percent", lambda s: {"cpu_target_percent": 150}),
    ("engine", lambda s: {"engine": rds.DatabaseInstanceEngine.maria_db(version=rds.MariaDbEngineVersion.VER_10_11)}),
    ("engine", lambda s: {"engine": rds.DatabaseInstanceEngine.MYSQL}),
    ("database_name", lambda s: {"database_name": "1app"}),
    ("max_allocated_storage_gib", lambda s: {"allocated_storage_gib": 200, "max_allocated_storage_gib": 100}),
    ("allocated_storage_gib", lambda s: {"allocated_storage_gib": 10}),
    ("backup_retention", lambda s: {"backup_retention": cdk.Duration.days(36)}),
    ("secret_rotation_interval", lambda s: {"secret_rotation_interval": cdk.Duration.hours(1)}),
    ("monitoring_interval", lambda s: {"monitoring_interval": cdk.Duration.seconds(20)}),
    ("alarm_api_5xx_rate", lambda s: {"alarm_api_5xx_rate": 5}),
    ("alarm_db_cpu_percent", lambda s: {"alarm_db_cpu_percent": 0}),
    ("root_volume_size_gib", lambda s: {"root_volume_size_gib": 4}),
]


@pytest.mark.parametrize(("prop", "props"), BAD_PROPS, ids=[f"{p}-{i}" for i, (p, _) in enumerate(BAD_PROPS)])
def test_bad_props_fail_early_naming_the_prop(
    prop: str, props: Callable[[cdk.Stack], dict[str, Any]], make_stack: Callable[..., cdk.Stack]
) -> None:
    stack = make_stack()
    with pytest.raises(PropValidationError, match=rf"^PrivateApi: invalid {prop}=") as info:
        PrivateApi(stack, "Api", **props(stack))
    assert info.value.prop == prop
    # Nothing of the construct was built before the check failed.
    assert not stack.node.find_child("Api").node.children


def test_tokens_pass_unchecked(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    rate = cdk.CfnParameter(stack, "Rate", type="Number").value_as_number
    PrivateApi(stack, "Api", throttling_rate_limit=rate)


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
    database.close()
    assert _get(f"{url}/db") == (503, {"database": "unreachable"})
    monkeypatch.delenv("DB_HOST")
    assert _get(f"{url}/db") == (503, {"database": "unreachable"})
