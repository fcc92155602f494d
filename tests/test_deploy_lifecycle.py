"""The lifecycle and limits lint (refarch.testing.lifecycle): every reference stack and example
passes it, each rule fires on a small template that breaks it (naming the resource), and the
defects it found stay fixed."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import pytest

from refarch.testing import SynthesizedTemplate, check_lifecycle
from refarch.testing.lifecycle import RULES, LifecycleFinding, format_findings
from tests.harness import DEPLOY_TARGETS, ReferenceStacks

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
    """The lint reads the synthesized template only: a few milliseconds next to a synth of seconds."""
    output = reference_stacks["StreamingPipelineStack"].output
    start = time.perf_counter()
    for _ in range(10):
        check_lifecycle(copy.deepcopy(output))
    per_run = (time.perf_counter() - start) / 10
    assert per_run < 0.05, f"check_lifecycle took {per_run * 1000:.1f} ms"
