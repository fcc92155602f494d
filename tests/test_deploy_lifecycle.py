"""The lifecycle and limits lint (refarch.testing.lifecycle): every reference stack and example
passes it, each rule fires on a small template that breaks it (naming the resource), and the
defects it found stay fixed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from refarch.testing import SynthesizedTemplate, check_lifecycle
from refarch.testing.lifecycle import RULES, LifecycleFinding, format_findings
from tests.harness import DEPLOY_TARGETS, ReferenceStacks
from tests.names import STACK_SUFFIX, render

Outputs = Callable[[str], list[SynthesizedTemplate]]


@pytest.mark.parametrize("target", DEPLOY_TARGETS)
def test_no_lifecycle_findings(target: str, deploy_outputs: Outputs) -> None:
    outputs = deploy_outputs(target)
    assert outputs, f"{target} produced no stack"
    findings = check_lifecycle(outputs)
    assert not findings, f"{len(findings)} lifecycle findings:\n{format_findings(findings)}"


# -- each rule on a small template -------------------------------------------------------------


def _template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def _acl_entry(number: int, *, egress: bool = False, acl: str = "Acl") -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::NetworkAclEntry",
        "Properties": {
            "NetworkAclId": {"Ref": acl},
            "Egress": egress,
            "RuleNumber": number,
            "Protocol": 6,
            "RuleAction": "allow",
            "CidrBlock": "10.0.0.0/16",
        },
    }


def _rules(findings: list[LifecycleFinding]) -> list[tuple[str, str]]:
    return [(f.rule, f.logical_id) for f in findings]


ACL = {"Type": "AWS::EC2::NetworkAcl", "Properties": {"VpcId": "vpc-1"}}


def test_duplicate_acl_rule_number() -> None:
    template = _template(
        Acl=ACL, First=_acl_entry(5000), Second=_acl_entry(5000), Outbound=_acl_entry(5000, egress=True)
    )
    findings = check_lifecycle(template)
    assert _rules(findings) == [("LC-ACL-DUPLICATE", "Second")]
    assert "First" in findings[0].message and "5000" in findings[0].message


def test_acl_quota_per_direction() -> None:
    entries = {f"In{n}": _acl_entry(100 + n) for n in range(21)}
    entries |= {f"Out{n}": _acl_entry(100 + n, egress=True) for n in range(20)}
    findings = check_lifecycle(_template(Acl=ACL, **entries))
    assert _rules(findings) == [("LC-ACL-QUOTA", "In20")]
    assert "21 inbound entries" in findings[0].message


def test_acl_rule_number_range() -> None:
    findings = check_lifecycle(_template(Acl=ACL, Zero=_acl_entry(0), Top=_acl_entry(32767), Ok=_acl_entry(32766)))
    assert sorted(_rules(findings)) == [("LC-ACL-RULE-NUMBER", "Top"), ("LC-ACL-RULE-NUMBER", "Zero")]


def test_deletion_protection_on_deleted_resources() -> None:
    template = _template(
        Nlb={
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"LoadBalancerAttributes": [{"Key": "deletion_protection.enabled", "Value": "true"}]},
        },
        Db={"Type": "AWS::RDS::DBInstance", "Properties": {"DeletionProtection": True}, "DeletionPolicy": "Snapshot"},
        Table={"Type": "AWS::DynamoDB::Table", "Properties": {"DeletionProtectionEnabled": True}},
        Kept={"Type": "AWS::RDS::DBCluster", "Properties": {"DeletionProtection": True}, "DeletionPolicy": "Retain"},
    )
    findings = check_lifecycle(template)
    assert sorted(_rules(findings)) == [
        ("LC-DELETION-PROTECTION", "Db"),
        ("LC-DELETION-PROTECTION", "Nlb"),
        ("LC-DELETION-PROTECTION", "Table"),
    ]
    assert "deletion_protection.enabled" in next(f for f in findings if f.logical_id == "Nlb").message


def test_retained_resource_keeps_a_deleted_group_in_use() -> None:
    """A retained cluster keeps using its subnet and parameter groups after a stack delete: the service
    refuses to delete them, and the stack ends DELETE_FAILED."""
    template = _template(
        Subnets={"Type": "AWS::ElastiCache::SubnetGroup", "Properties": {"SubnetIds": ["subnet-1"]}},
        Cache={
            "Type": "AWS::ElastiCache::ReplicationGroup",
            "Properties": {"CacheSubnetGroupName": {"Ref": "Subnets"}},
            "DeletionPolicy": "Retain",
        },
        DbSubnets={"Type": "AWS::RDS::DBSubnetGroup", "Properties": {}},
        ClusterParameters={"Type": "AWS::RDS::DBClusterParameterGroup", "Properties": {}},
        InstanceParameters={"Type": "AWS::RDS::DBParameterGroup", "Properties": {}},
        Cluster={
            "Type": "AWS::RDS::DBCluster",
            "Properties": {
                "DBSubnetGroupName": {"Ref": "DbSubnets"},
                "DBClusterParameterGroupName": {"Ref": "ClusterParameters"},
            },
            "DeletionPolicy": "RetainExceptOnCreate",
        },
        Instance={  # deleted: its parameter group goes with it
            "Type": "AWS::RDS::DBInstance",
            "Properties": {"DBParameterGroupName": {"Ref": "InstanceParameters"}},
        },
        RedshiftSubnets={"Type": "AWS::Redshift::ClusterSubnetGroup", "Properties": {}, "DeletionPolicy": "Retain"},
        CacheParameters={"Type": "AWS::ElastiCache::ParameterGroup", "Properties": {}},
        Warehouse={
            "Type": "AWS::Redshift::Cluster",
            "Properties": {"ClusterSubnetGroupName": {"Ref": "RedshiftSubnets"}},  # retained too: fine
            "DeletionPolicy": "Retain",
        },
        OldCache={
            "Type": "AWS::ElastiCache::CacheCluster",
            "Properties": {"Tags": [{"Key": "group", "Value": {"Fn::GetAtt": ["CacheParameters", "Name"]}}]},
            "DeletionPolicy": "Retain",
        },
    )
    findings = check_lifecycle(template)
    assert sorted(_rules(findings)) == [
        ("LC-RETAINED-USES-DELETED", "CacheParameters"),
        ("LC-RETAINED-USES-DELETED", "ClusterParameters"),
        ("LC-RETAINED-USES-DELETED", "DbSubnets"),
        ("LC-RETAINED-USES-DELETED", "Subnets"),
    ]
    subnets = next(f for f in findings if f.logical_id == "Subnets")
    assert "Cache" in subnets.message and "DELETE_FAILED" in subnets.message


def test_resilient_web_app_cache_subnets_outlive_the_cache(reference_stacks: ReferenceStacks) -> None:
    """The Valkey replication group was retained and its subnet group deleted: cdk destroy failed."""
    assert _findings(reference_stacks, "ResilientWebAppStack", "LC-RETAINED-USES-DELETED") == []
    (subnets,) = reference_stacks["ResilientWebAppStack"].resources("AWS::ElastiCache::SubnetGroup").values()
    (group,) = reference_stacks["ResilientWebAppStack"].resources("AWS::ElastiCache::ReplicationGroup").values()
    assert subnets["DeletionPolicy"] == group["DeletionPolicy"] == "Retain"


def test_fixed_names() -> None:
    unique = {"Fn::Join": ["-", ["db", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]]}
    template = _template(
        Db={
            "Type": "AWS::RDS::DBInstance",
            "Properties": {"DBInstanceIdentifier": "orders-db", "EnableCloudwatchLogsExports": ["error"]},
            "DeletionPolicy": "Retain",
        },
        UniqueDb={"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceIdentifier": unique}},
        Bucket={"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "my-bucket"}},  # a data store: replacement
        Logs={"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "app"}, "DeletionPolicy": "Retain"},
        DeletedLogs={"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "tmp"}},
        Named={
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": "/app/${AWS::StackName}"}},
            "DeletionPolicy": "Retain",
        },
    )
    findings = check_lifecycle(template)
    assert sorted(_rules(findings)) == [
        ("LC-FIXED-NAME", "Bucket"),
        ("LC-FIXED-NAME", "Db"),
        ("LC-FIXED-NAME", "Logs"),
    ]
    database = next(f for f in findings if f.logical_id == "Db")
    assert "'orders-db'" in database.message and "/aws/rds/instance/orders-db/" in database.message


def test_vended_log_groups() -> None:
    template = _template(
        Logs={"Type": "AWS::Logs::LogGroup", "Properties": {}},
        Machine={
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "LoggingConfiguration": {
                    "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": ["Logs", "Arn"]}}}]
                }
            },
        },
        WafLogs={"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/waf/logs"}},
        WafLogging={
            "Type": "AWS::WAFv2::LoggingConfiguration",
            "Properties": {"LogDestinationConfigs": [{"Fn::GetAtt": ["WafLogs", "Arn"]}]},
        },
    )
    findings = check_lifecycle(template)
    assert sorted(_rules(findings)) == [("LC-VENDED-LOGS", "Logs"), ("LC-VENDED-LOGS", "WafLogs")]
    assert "Machine" in next(f for f in findings if f.logical_id == "Logs").message


def _subnet(index: int) -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::Subnet",
        "Properties": {"AvailabilityZone": {"Fn::Select": [index, {"Fn::GetAZs": ""}]}, "VpcId": "vpc-1"},
    }


def test_az_index_beyond_region() -> None:
    template = _template(A=_subnet(0), B=_subnet(1), C=_subnet(2))
    assert check_lifecycle(template) == []
    findings = check_lifecycle(template, available_zones=["us-west-1a", "us-west-1c"])
    assert _rules(findings) == [("LC-AZ-INDEX", "C")]
    assert "index 2" in findings[0].message


def test_redshift_serverless_needs_three_azs() -> None:
    template = _template(
        A=_subnet(0),
        B=_subnet(1),
        B2=_subnet(1),
        Workgroup={
            "Type": "AWS::RedshiftServerless::Workgroup",
            "Properties": {"SubnetIds": [{"Ref": "A"}, {"Ref": "B"}, {"Ref": "B2"}]},
        },
    )
    findings = check_lifecycle(template)
    assert _rules(findings) == [("LC-AZ-COUNT", "Workgroup")]
    assert "2 AZ(s)" in findings[0].message


def test_reserved_concurrency() -> None:
    function = {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": 10}}
    stopped = {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": 0}}
    findings = check_lifecycle(_template(Fn=function, Stopped=stopped))
    assert _rules(findings) == [("LC-RESERVED-CONCURRENCY", "Fn")]


def _asked(reserved: int) -> SynthesizedTemplate:
    function = {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": reserved}}
    declaration = {
        "type": "refarch:contract:reserved-concurrency",
        "data": {"function": {"Ref": "Fn"}, "requested_by": f"reserved_concurrent_executions={reserved}"},
    }
    return SynthesizedTemplate("S", _template(Fn=function), {"/S/Fn": [declaration]})


def test_reserved_concurrency_the_user_asked_for() -> None:
    assert check_lifecycle(_asked(10)) == []
    findings = check_lifecycle(_asked(901))  # asked for, but more than a default account can reserve
    assert _rules(findings) == [("LC-RESERVED-CONCURRENCY", "Fn")]
    assert "901" in findings[0].message and "900" in findings[0].message


def _vpc_custom_resource(depends_on: list[str]) -> dict[str, Any]:
    return _template(
        Subnet={"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        Vpc={"Type": "AWS::EC2::VPC", "Properties": {}},
        Acl={"Type": "AWS::EC2::NetworkAcl", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        AclAssociation={
            "Type": "AWS::EC2::SubnetNetworkAclAssociation",
            "Properties": {"SubnetId": {"Ref": "Subnet"}, "NetworkAclId": {"Ref": "Acl"}},
        },
        HttpsOut=_acl_entry(100, egress=True),
        Endpoint={
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {"VpcId": {"Ref": "Vpc"}, "VpcEndpointType": "Interface"},
        },
        Gateway={"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        Sg={"Type": "AWS::EC2::SecurityGroup", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        SgEgress={
            "Type": "AWS::EC2::SecurityGroupEgress",
            "Properties": {"GroupId": {"Fn::GetAtt": ["Sg", "GroupId"]}},
        },
        Role={"Type": "AWS::IAM::Role", "Properties": {}},
        Policy={"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}]}},
        Handler={
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "VpcConfig": {
                    "SubnetIds": [{"Ref": "Subnet"}],
                    "SecurityGroupIds": [{"Fn::GetAtt": ["Sg", "GroupId"]}],
                },
            },
        },
        Framework={
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Environment": {"Variables": {"USER_ON_EVENT_FUNCTION_ARN": {"Fn::GetAtt": ["Handler", "Arn"]}}}
            },
        },
        Sql={
            "Type": "Custom::Sql",
            "Properties": {"ServiceToken": {"Fn::GetAtt": ["Framework", "Arn"]}},
            "DependsOn": depends_on,
        },
    )


def test_custom_resource_missing_dependencies() -> None:
    findings = check_lifecycle(_vpc_custom_resource([]))
    assert _rules(findings) == [("LC-CUSTOM-RESOURCE-DEPENDENCY", "Sql")]
    message = findings[0].message
    for need in ("Endpoint", "HttpsOut", "SgEgress", "Policy", "Handler"):
        assert need in message, need
    assert "Gateway" not in message  # gateway endpoints are routes, not a network path the function waits on
    assert check_lifecycle(_vpc_custom_resource(["Endpoint", "HttpsOut", "SgEgress", "Policy"])) == []


# -- acknowledging ----------------------------------------------------------------------------


def test_ignore_needs_a_known_rule_and_a_reason() -> None:
    template = _template(Bucket={"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "fixed"}})
    assert check_lifecycle(template, ignore={"LC-FIXED-NAME[Bucket]": "imported by name elsewhere"}) == []
    assert check_lifecycle(template, ignore={"LC-FIXED-NAME[Other]": "another one"}) != []
    with pytest.raises(ValueError, match="unknown rule 'LC-NOPE'"):
        check_lifecycle(template, ignore={"LC-NOPE": "typo"})
    with pytest.raises(ValueError, match="needs a reason"):
        check_lifecycle(template, ignore={"LC-FIXED-NAME": " "})


def test_every_rule_is_documented() -> None:
    from refarch.testing import lifecycle

    assert RULES
    for rule in RULES:
        assert f"``{rule}``" in (lifecycle.__doc__ or ""), rule


# -- cost -------------------------------------------------------------------------------------


def test_lint_costs_under_a_tenth_of_synth(reference_stacks: ReferenceStacks) -> None:
    """The lint reads the synthesized template only: milliseconds, where a synth of this stack takes
    over a second (best of five runs, so a busy machine does not decide)."""
    output = reference_stacks["StreamingPipelineStack"].output
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        check_lifecycle(output)
        runs.append(time.perf_counter() - start)
    assert min(runs) < 0.1, f"check_lifecycle took {min(runs) * 1000:.1f} ms"


# -- the defects the lint found stay fixed ------------------------------------------------------


def _findings(reference_stacks: ReferenceStacks, stack: str, rule: str) -> list[LifecycleFinding]:
    return [f for f in check_lifecycle(reference_stacks[stack].output) if f.rule == rule]


def test_private_api_stack_can_be_deleted(reference_stacks: ReferenceStacks) -> None:
    """The NLB had deletion protection and no Retain: every stack delete failed on it."""
    assert _findings(reference_stacks, "PrivateApiStack", "LC-DELETION-PROTECTION") == []
    (nlb,) = reference_stacks["PrivateApiStack"].resources("AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    assert {"Key": "deletion_protection.enabled", "Value": "false"} in nlb["Properties"]["LoadBalancerAttributes"]


@pytest.mark.parametrize(
    ("stack", "types"),
    [
        ("PrivateApiStack", {"AWS::RDS::DBInstance", "AWS::Logs::LogGroup"}),  # identifier, its logs, WAF logs
        ("EncryptedDataStoreStack", {"AWS::RDS::DBCluster", "AWS::Logs::LogGroup"}),
        ("StreamingPipelineStack", {"AWS::RedshiftServerless::Namespace", "AWS::RedshiftServerless::Workgroup"}),
        ("ImageProcessorStack", {"AWS::Logs::LogGroup"}),
    ],
)
def test_retained_names_are_unique_to_the_stack(stack: str, types: set[str], reference_stacks: ReferenceStacks) -> None:
    """Retained resources had fixed names: deleting the stack and creating it again failed."""
    assert _findings(reference_stacks, stack, "LC-FIXED-NAME") == []
    resources = reference_stacks[stack].json["Resources"]
    suffixed = {r["Type"] for r in resources.values() if r["Type"] in types and _has_stack_suffix(r)}
    assert suffixed == types


_NAME_PROPERTIES = ("DBInstanceIdentifier", "DBClusterIdentifier", "LogGroupName", "NamespaceName", "WorkgroupName")


def _has_stack_suffix(resource: dict[str, Any]) -> bool:
    props = resource.get("Properties", {})
    names = [props[key] for key in _NAME_PROPERTIES if isinstance(props.get(key), dict)]
    return any(STACK_SUFFIX in name.get("Fn::Join", ["", []])[1] for name in names)


def test_image_processor_reserves_no_concurrency_unless_asked(
    reference_stacks: ReferenceStacks, make_stack: Callable[..., Any]
) -> None:
    """Five functions reserved 10 each: accounts with a quota of 10 or 50 rejected the stack."""
    from refarch.constructs import ImageProcessor
    from refarch.testing import from_stack

    assert _findings(reference_stacks, "ImageProcessorStack", "LC-RESERVED-CONCURRENCY") == []
    stack = make_stack()
    ImageProcessor(stack, "Images", reserved_concurrent_executions=5)
    output = from_stack(stack)
    functions = [r for r in output.resources.values() if r["Type"] == "AWS::Lambda::Function"]
    assert functions and all(f["Properties"]["ReservedConcurrentExecutions"] == 5 for f in functions)
    assert check_lifecycle(output) == []  # asked for, so declared: not flagged


def test_step_functions_logs_under_vendedlogs(reference_stacks: ReferenceStacks) -> None:
    assert _findings(reference_stacks, "ImageProcessorStack", "LC-VENDED-LOGS") == []
    (machine,) = reference_stacks["ImageProcessorStack"].resources("AWS::StepFunctions::StateMachine").values()
    destination = machine["Properties"]["LoggingConfiguration"]["Destinations"][0]
    group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    group = reference_stacks["ImageProcessorStack"].json["Resources"][group_id]
    assert render(group["Properties"]["LogGroupName"]).startswith("/aws/vendedlogs/states/")


def test_ingestion_sql_needs_no_session_setting(reference_stacks: ReferenceStacks) -> None:
    """The auto-refreshed view named a mixed-case stream, case kept only by a session SET that its
    refresh sessions never saw: the workgroup now sets it, and the SQL quotes the stream name."""
    ref = reference_stacks["StreamingPipelineStack"]
    (workgroup,) = ref.resources("AWS::RedshiftServerless::Workgroup").values()
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in workgroup["Properties"]["ConfigParameters"]}
    assert parameters["enable_case_sensitive_identifier"] == "true"
    (sql,) = ref.resources("Custom::RedshiftStreamingIngestionSql").values()
    statements = sql["Properties"]["Sqls"]
    assert statements and not any("SET " in json.dumps(s) for s in statements)
    (stream_id,) = ref.resources("AWS::Kinesis::Stream")
    view = statements[-1]["Fn::Join"][1]
    position = view.index({"Ref": stream_id})
    assert view[position - 1].endswith('FROM kinesis_source."') and view[position + 1].startswith('"')


def test_ingestion_sql_waits_for_its_network(reference_stacks: ReferenceStacks) -> None:
    """The SQL custom resource did not depend on the endpoint and ACL entries its VPC provider uses."""
    assert _findings(reference_stacks, "StreamingPipelineStack", "LC-CUSTOM-RESOURCE-DEPENDENCY") == []
    ref = reference_stacks["StreamingPipelineStack"]
    (sql,) = ref.resources("Custom::RedshiftStreamingIngestionSql").values()
    endpoints = [k for k, v in ref.resources("AWS::EC2::VPCEndpoint").items() if "Kinesis" in k]
    assert endpoints and set(endpoints) <= set(sql["DependsOn"])


def test_ingestion_sql_waits_for_acl_entries_other_constructs_add(make_stack: Callable[..., Any]) -> None:
    """On a shared network, other constructs add entries to the app tier's ACL under themselves."""
    from aws_cdk import aws_ec2 as ec2

    from refarch.constructs import StreamingPipeline, ThreeTierVpc
    from refarch.testing import from_stack

    stack = make_stack()
    network = ThreeTierVpc(stack, "Network", db_port=5439)
    ec2.NetworkAclEntry(
        stack,
        "OtherConstructEntry",
        network_acl=network.app.network_acl,
        cidr=ec2.AclCidr.ipv4("10.0.0.0/16"),
        rule_number=7000,
        traffic=ec2.AclTraffic.tcp_port(8443),
        direction=ec2.TrafficDirection.EGRESS,
    )
    StreamingPipeline(
        stack,
        "Pipeline",
        vpc=network.vpc,
        vpc_subnets=network.app.subnet_selection,
        database_subnets=network.db.subnet_selection,
        redshift_security_groups=[network.db.security_group],
    )
    output = from_stack(stack)
    assert [f for f in check_lifecycle(output) if f.rule == "LC-CUSTOM-RESOURCE-DEPENDENCY"] == []
    (sql,) = [r for r in output.resources.values() if r["Type"] == "Custom::RedshiftStreamingIngestionSql"]
    assert any(d.startswith("OtherConstructEntry") for d in sql["DependsOn"])


def test_redshift_may_list_streams(reference_stacks: ReferenceStacks) -> None:
    """kinesis:ListStreams takes no resource: granted on the stream's ARN (as grant_read writes it) it
    allowed nothing, and Redshift lists the streams of its external schema."""
    ref = reference_stacks["StreamingPipelineStack"]
    (policy,) = [p for k, p in ref.resources("AWS::IAM::ManagedPolicy").items() if "RedshiftStreamingRole" in k]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {"Action": "kinesis:ListStreams", "Effect": "Allow", "Resource": "*"} in statements
