"""ThreeTierVpc: the security-group chain, every network ACL entry, flow logs, endpoints, AZs, and bad props."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match

from refarch.constructs import NatStrategy, PropValidationError, ThreeTierVpc
from tests.harness import (
    BadProp,
    ReferenceStacks,
    SynthesizedStack,
    assert_fails_early,
    bad_prop_params,
    new_app,
    synth,
)

PUBLIC = [f"10.0.{i}.0/24" for i in range(3)]
APP = ["10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20"]
DB = [f"10.0.{64 + i}.0/24" for i in range(3)]


@pytest.fixture(scope="module")
def vpc_stack(reference_stacks: ReferenceStacks) -> SynthesizedStack:
    return reference_stacks["ThreeTierVpcStack"]


@pytest.fixture(scope="module")
def blocked_stack() -> SynthesizedStack:
    """A VPC with blocked networks, restricted web clients, PostgreSQL and a single NAT."""
    stack = cdk.Stack(new_app(), "Blocked")
    ThreeTierVpc(
        stack,
        "Network",
        blocked_cidrs=["203.0.113.0/24", "198.51.100.7/32"],
        web_ingress_cidrs=["192.0.2.0/24"],
        db_port=5432,
        nat_strategy=NatStrategy.SINGLE,
        max_azs=2,
    )
    return synth(stack)


def _entries(stacked: SynthesizedStack, acl: str) -> list[dict[str, Any]]:
    """The entries of one network ACL, as (rule number, egress, action, cidr, ports, protocol) dicts."""
    acl_id = _acl_ids(stacked)[acl.removesuffix("Nacl")]
    rows = []
    for entry in stacked.resources("AWS::EC2::NetworkAclEntry").values():
        props = entry["Properties"]
        if props["NetworkAclId"] == {"Ref": acl_id}:
            ports = props.get("PortRange")
            rows.append(
                {
                    "rule": props["RuleNumber"],
                    "egress": props.get("Egress", False),
                    "action": props["RuleAction"],
                    "cidr": props["CidrBlock"],
                    "ports": (ports["From"], ports["To"]) if ports else None,
                    "protocol": props["Protocol"],
                }
            )
    return sorted(rows, key=lambda r: (r["egress"], r["rule"]))


def _allow(rule: int, egress: bool, cidr: str, ports: tuple[int, int]) -> dict[str, Any]:
    return {"rule": rule, "egress": egress, "action": "allow", "cidr": cidr, "ports": ports, "protocol": 6}


# -- subnets ---------------------------------------------------------------------------------


def test_three_tiers_across_three_azs_with_derived_cidrs(vpc_stack: SynthesizedStack) -> None:
    subnets = vpc_stack.resources("AWS::EC2::Subnet").values()
    by_tier: dict[str, list[str]] = {}
    for subnet in subnets:
        tier = next(t["Value"] for t in subnet["Properties"]["Tags"] if t["Key"] == "aws-cdk:subnet-name")
        by_tier.setdefault(tier, []).append(subnet["Properties"]["CidrBlock"])
    assert {k: sorted(v) for k, v in by_tier.items()} == {"Web": PUBLIC, "App": APP, "Db": DB}
    azs = [s["Properties"]["AvailabilityZone"] for s in subnets]
    # Environment-agnostic: three distinct AZs selected from Fn::GetAZs, not the two the L2 default gives.
    assert sorted({az["Fn::Select"][0] for az in azs}) == [0, 1, 2]
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets)
    vpc_stack.template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.0.0.0/16"})


def test_one_nat_gateway_per_az_by_default_and_no_egress_from_db(vpc_stack: SynthesizedStack) -> None:
    vpc_stack.template.resource_count_is("AWS::EC2::NatGateway", 3)
    routes = vpc_stack.resources("AWS::EC2::Route").values()
    nat_routes = [r for r in routes if "NatGatewayId" in r["Properties"]]
    assert len(nat_routes) == 3  # one per app subnet
    db_tables = {
        a["Properties"]["RouteTableId"]["Ref"]
        for k, a in vpc_stack.resources("AWS::EC2::SubnetRouteTableAssociation").items()
        if "DbSubnet" in k
    }
    assert not [r for r in routes if r["Properties"]["RouteTableId"]["Ref"] in db_tables]


def test_nat_strategies(make_stack: Callable[..., cdk.Stack]) -> None:
    single = make_stack("Single")
    ThreeTierVpc(single, "Network", nat_strategy=NatStrategy.SINGLE)
    synth(single).template.resource_count_is("AWS::EC2::NatGateway", 1)

    none = make_stack("NoNat")
    network = ThreeTierVpc(none, "Network", nat_strategy=NatStrategy.NONE)
    synth(none).template.resource_count_is("AWS::EC2::NatGateway", 0)
    assert network.vpc.private_subnets == []  # the app tier is isolated too
    assert len(network.app.subnets) == 3

    counted = make_stack("Counted")
    ThreeTierVpc(counted, "Network", nat_gateway_count=2)
    synth(counted).template.resource_count_is("AWS::EC2::NatGateway", 2)


def test_availability_zone_ids_pin_subnets(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack("Ids")
    ThreeTierVpc(stack, "Network", availability_zone_ids=["use1-az1", "use1-az4"])
    subnets = synth(stack).resources("AWS::EC2::Subnet").values()
    assert len(subnets) == 6
    assert sorted(s["Properties"]["AvailabilityZoneId"] for s in subnets) == ["use1-az1"] * 3 + ["use1-az4"] * 3
    assert not [s for s in subnets if "AvailabilityZone" in s["Properties"]]


def test_explicit_az_names_in_a_concrete_region(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack("Names", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    ThreeTierVpc(stack, "Network", availability_zones=["eu-west-1a", "eu-west-1c"])
    azs = {s["Properties"]["AvailabilityZone"] for s in synth(stack).resources("AWS::EC2::Subnet").values()}
    assert azs == {"eu-west-1a", "eu-west-1c"}


def test_single_az_warns(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack("OneAz")
    ThreeTierVpc(stack, "Network", max_azs=1)
    cdk.assertions.Annotations.from_stack(stack).has_warning("/OneAz/Network", Match.string_like_regexp("one AZ"))


# -- security groups -------------------------------------------------------------------------


def test_security_groups_are_chained_web_app_db(vpc_stack: SynthesizedStack) -> None:
    groups = vpc_stack.resources("AWS::EC2::SecurityGroup")
    web = next(k for k in groups if k.startswith("NetworkWebSecurityGroup"))
    app = next(k for k in groups if k.startswith("NetworkAppSecurityGroup"))
    db = next(k for k in groups if k.startswith("NetworkDbSecurityGroup"))
    web_in = groups[web]["Properties"]["SecurityGroupIngress"]
    assert sorted((r["CidrIp"], r["FromPort"]) for r in web_in) == [("0.0.0.0/0", 80), ("0.0.0.0/0", 443)]
    ingress = vpc_stack.resources("AWS::EC2::SecurityGroupIngress").values()
    chain = {
        (
            r["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0],
            r["Properties"]["GroupId"]["Fn::GetAtt"][0],
            r["Properties"]["FromPort"],
            r["Properties"]["ToPort"],
        )
        for r in ingress
    }
    assert chain == {(web, app, 8080, 8080), (app, db, 3306, 3306)}
    # Nothing reaches the db tier but the app tier, and the db tier opens nothing outwards.
    assert "SecurityGroupIngress" not in groups[db]["Properties"]
    db_egress = groups[db]["Properties"]["SecurityGroupEgress"]
    assert [r["CidrIp"] for r in db_egress] == ["255.255.255.255/32"]  # CDK's "no egress" placeholder
    egress = {
        (
            r["Properties"]["GroupId"]["Fn::GetAtt"][0],
            r["Properties"]["DestinationSecurityGroupId"]["Fn::GetAtt"][0],
            r["Properties"]["FromPort"],
        )
        for r in vpc_stack.resources("AWS::EC2::SecurityGroupEgress").values()
    }
    assert egress == {(web, app, 8080), (app, db, 3306)}
    app_out = groups[app]["Properties"]["SecurityGroupEgress"]
    assert [(r["CidrIp"], r["FromPort"]) for r in app_out] == [("0.0.0.0/0", 443)]


def test_tiers_expose_connections_for_more_wiring(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack("Wiring")
    network = ThreeTierVpc(stack, "Network", flow_logs=False)
    admin = ec2.SecurityGroup(stack, "Admin", vpc=network.vpc)
    network.db.connections.allow_from(admin, ec2.Port.tcp(3306), "admin")
    synth(stack).template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"FromPort": 3306, "SourceSecurityGroupId": {"Fn::GetAtt": [Match.string_like_regexp("^Admin"), "GroupId"]}},
    )
    assert [t.name for t in network.tiers] == ["Web", "App", "Db"]
    assert network.db.cidrs == [s.ipv4_cidr_block for s in network.vpc.isolated_subnets]


# -- network ACLs ----------------------------------------------------------------------------


def test_web_nacl_entries(vpc_stack: SynthesizedStack) -> None:
    ephemeral = (1024, 65535)
    expected = [
        _allow(1000, False, "0.0.0.0/0", (80, 80)),
        _allow(1100, False, "0.0.0.0/0", (443, 443)),
        *[_allow(1200 + 100 * i, False, cidr, (443, 443)) for i, cidr in enumerate(APP)],  # NAT egress
        _allow(1500, False, "0.0.0.0/0", ephemeral),
        *[_allow(1000 + 100 * i, True, cidr, (8080, 8080)) for i, cidr in enumerate(APP)],
        _allow(1300, True, "0.0.0.0/0", (443, 443)),
        _allow(1400, True, "0.0.0.0/0", ephemeral),
    ]
    assert _entries(vpc_stack, "WebNacl") == sorted(expected, key=lambda r: (r["egress"], r["rule"]))


def test_app_nacl_entries(vpc_stack: SynthesizedStack) -> None:
    ephemeral = (1024, 65535)
    expected = [
        *[_allow(1000 + 100 * i, False, cidr, (8080, 8080)) for i, cidr in enumerate(PUBLIC)],
        # Return traffic of the app tier's HTTPS through NAT and the gateway endpoints, and db answers.
        _allow(1300, False, "0.0.0.0/0", ephemeral),
        *[_allow(1000 + 100 * i, True, cidr, ephemeral) for i, cidr in enumerate(PUBLIC)],
        *[_allow(1300 + 100 * i, True, cidr, (3306, 3306)) for i, cidr in enumerate(DB)],
        _allow(1600, True, "0.0.0.0/0", (443, 443)),
        # The SSM endpoints' interfaces sit in every app subnet: app clients call them across AZs.
        *[_allow(1400 + 100 * i, False, cidr, (443, 443)) for i, cidr in enumerate(APP)],
        *[_allow(1700 + 100 * i, True, cidr, ephemeral) for i, cidr in enumerate(APP)],
    ]
    assert _entries(vpc_stack, "AppNacl") == sorted(expected, key=lambda r: (r["egress"], r["rule"]))


def test_db_nacl_entries(vpc_stack: SynthesizedStack) -> None:
    expected = [
        *[_allow(1000 + 100 * i, False, cidr, (3306, 3306)) for i, cidr in enumerate(APP)],
        *[_allow(1000 + 100 * i, True, cidr, (1024, 65535)) for i, cidr in enumerate(APP)],
    ]
    assert _entries(vpc_stack, "DbNacl") == sorted(expected, key=lambda r: (r["egress"], r["rule"]))


def test_each_tier_has_its_own_nacl_on_its_own_subnets(vpc_stack: SynthesizedStack) -> None:
    acls = {v: k for k, v in _acl_ids(vpc_stack).items()}
    tiers_of_acl: dict[str, set[str]] = {}
    for association in vpc_stack.resources("AWS::EC2::SubnetNetworkAclAssociation").values():
        acl = acls[association["Properties"]["NetworkAclId"]["Ref"]]
        subnet = association["Properties"]["SubnetId"]["Ref"]  # e.g. NetworkVpcAppSubnet2Subnet...
        tiers_of_acl.setdefault(acl, set()).add(subnet.removeprefix("NetworkVpc").split("Subnet")[0] + f":{subnet}")
    assert {acl: len(s) for acl, s in tiers_of_acl.items()} == {"Web": 3, "App": 3, "Db": 3}
    for acl, subnets in tiers_of_acl.items():
        assert {s.split(":")[0] for s in subnets} == {acl}


def _acl_ids(stacked: SynthesizedStack) -> dict[str, str]:
    """Tier name -> logical ID of its network ACL."""
    return {
        tier: next(k for k in stacked.resources("AWS::EC2::NetworkAcl") if k.startswith(f"Network{tier}Nacl"))
        for tier in ("Web", "App", "Db")
    }


def test_blocked_cidrs_are_denied_first_in_every_nacl(blocked_stack: SynthesizedStack) -> None:
    for acl in ("WebNacl", "AppNacl", "DbNacl"):
        entries = _entries(blocked_stack, acl)
        for egress in (False, True):
            direction = [e for e in entries if e["egress"] == egress]
            denies = [e for e in direction if e["action"] == "deny"]
            assert [(d["rule"], d["cidr"], d["protocol"]) for d in denies] == [
                (100, "203.0.113.0/24", -1),
                (110, "198.51.100.7/32", -1),
            ]
            # Every deny is evaluated before every allow.
            assert max(d["rule"] for d in denies) < min(e["rule"] for e in direction if e["action"] == "allow")


def test_restricted_web_clients_and_custom_db_port(blocked_stack: SynthesizedStack) -> None:
    web = _entries(blocked_stack, "WebNacl")
    assert [e["cidr"] for e in web if not e["egress"] and e["ports"] in ((80, 80), (443, 443))][:2] == [
        "192.0.2.0/24",
        "192.0.2.0/24",
    ]
    db_in = [e for e in _entries(blocked_stack, "DbNacl") if not e["egress"] and e["action"] == "allow"]
    assert {e["ports"] for e in db_in} == {(5432, 5432)}
    blocked_stack.template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "SecurityGroupIngress": [
                Match.object_like({"CidrIp": "192.0.2.0/24", "FromPort": 80}),
                Match.object_like({"CidrIp": "192.0.2.0/24", "FromPort": 443}),
            ]
        },
    )


def test_nacl_quota_warning(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack("Quota")
    blocked = [f"198.51.{i}.0/24" for i in range(20)]
    ThreeTierVpc(stack, "Network", blocked_cidrs=blocked, flow_logs=False)
    cdk.assertions.Annotations.from_stack(stack).has_warning("*", Match.string_like_regexp("default quota is 20"))


# -- flow logs and endpoints -----------------------------------------------------------------


def test_flow_logs_to_an_encrypted_log_group_with_finite_retention(vpc_stack: SynthesizedStack) -> None:
    template = vpc_stack.template
    template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {
            "ResourceType": "VPC",
            "TrafficType": "ALL",
            "LogDestinationType": "cloud-watch-logs",
            "LogGroupName": {"Ref": Match.string_like_regexp("^NetworkFlowLogGroup")},
        },
    )
    template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "RetentionInDays": 365,
                "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^NetworkFlowLogKey"), "Arn"]},
            },
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True, "RotationPeriodInDays": 365})
    # The key admits CloudWatch Logs of this account and region only.
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "AllowCloudWatchLogsOfThisAccount",
                                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": Match.any_value()}},
                            }
                        )
                    ]
                )
            }
        },
    )
    # The flow-log role's grants are in a managed policy, not inline.
    template.resource_count_is("AWS::IAM::ManagedPolicy", 1)
    template.resource_count_is("AWS::IAM::Policy", 0)


def test_gateway_and_interface_endpoints(vpc_stack: SynthesizedStack) -> None:
    endpoints = vpc_stack.resources("AWS::EC2::VPCEndpoint").values()
    gateway = [e for e in endpoints if e["Properties"].get("VpcEndpointType") == "Gateway"]
    assert len(gateway) == 2
    for endpoint in gateway:
        assert len(endpoint["Properties"]["RouteTableIds"]) == 9  # every subnet of every tier
    interface = [e for e in endpoints if e["Properties"].get("VpcEndpointType") == "Interface"]
    assert len(interface) == 2
    assert all(e["Properties"]["PrivateDnsEnabled"] for e in interface)
    vpc_stack.template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": Match.string_like_regexp("Interface endpoints"),
            "SecurityGroupIngress": [Match.object_like({"CidrIp": "10.0.0.0/16", "FromPort": 443, "ToPort": 443})],
        },
    )


def test_optional_parts_can_be_turned_off_and_keys_brought(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack("Lean")
    key = kms.Key(stack, "MyKey", enable_key_rotation=True)
    topic = sns.Topic.from_topic_arn(stack, "Ops", "arn:aws:sns:eu-west-1:123456789012:ops")
    network = ThreeTierVpc(stack, "Network", gateway_endpoints=False, encryption_key=key, alarm_topic=topic)
    template = synth(stack).template
    template.resource_count_is("AWS::EC2::VPCEndpoint", 0)
    template.resource_count_is("AWS::KMS::Key", 1)  # the user's key, no second one
    template.resource_count_is("AWS::SNS::Topic", 0)  # the user's topic
    assert network.encryption_key is key and network.alarm_topic is topic

    bare = make_stack("Bare")
    network = ThreeTierVpc(bare, "Network", flow_logs=False)
    synth(bare).template.resource_count_is("AWS::EC2::FlowLog", 0)
    assert network.flow_log is None and network.flow_log_group is None


def test_log_retention_sets_the_flow_log_group_retention(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack("Month")
    ThreeTierVpc(stack, "Network", log_retention=logs.RetentionDays.ONE_MONTH, max_azs=2)
    synth(stack).template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


def test_removal_policy_is_retain_by_default_and_configurable(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack("Destroy")
    ThreeTierVpc(stack, "Network", removal_policy=cdk.RemovalPolicy.DESTROY)
    template = synth(stack).template
    template.has_resource("AWS::Logs::LogGroup", {"DeletionPolicy": "Delete"})
    template.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Delete"})


# -- bad props -------------------------------------------------------------------------------

SSM = ec2.InterfaceVpcEndpointAwsService.SSM
SEVEN_AZS = [f"us-east-1{letter}" for letter in "abcdefg"]

BAD_PROPS = [
    # cidr: format, host bits, size, and a deploy-time token (the tiers are derived from it at synth)
    BadProp("cidr", {"cidr": "10.0.0.0"}, says="prefix length"),
    BadProp("cidr", {"cidr": "10.0.0.1/16"}, says="did you mean '10.0.0.0/16'"),
    BadProp("cidr", {"cidr": "10.0.0.0/33"}, says="IPv4 CIDR"),
    BadProp("cidr", {"cidr": "not-a-cidr/16"}, says="IPv4 CIDR"),
    BadProp("cidr", {"cidr": "10.0.0.0/8"}, says="/16 to /28"),
    BadProp("cidr", {"cidr": ["10.0.0.0/16"]}, says="Allowed: a str"),
    BadProp("cidr", {"cidr": ""}, says="must not be empty"),
    BadProp("cidr", lambda s: {"cidr": cdk.CfnParameter(s, "Cidr").value_as_string}, says="literal CIDR"),
    # AZs: count, names, IDs, and how they combine
    BadProp("max_azs", {"max_azs": 0}, says="from 1 to 6"),
    BadProp("max_azs", {"max_azs": 7}, says="from 1 to 6"),
    BadProp("max_azs", {"max_azs": 2.0}, says="a whole number (int)"),
    BadProp("max_azs", {"max_azs": True}, says="a whole number (int)"),
    BadProp("availability_zones", {"availability_zones": []}, says="must not be empty"),
    BadProp("availability_zones", {"availability_zones": "eu-west-1a"}, says="a list of str"),
    BadProp("availability_zones", {"availability_zones": ["eu-west-1a", "eu-west-1a"]}, says="repeats"),
    BadProp("availability_zones", {"availability_zones": SEVEN_AZS}, says="at most 6 AZs"),
    BadProp("availability_zones[1]", {"availability_zones": ["eu-west-1a", "euw1-az2"]}, says="an AZ name"),
    BadProp(
        "availability_zone_ids",
        {"availability_zones": ["eu-west-1a", "eu-west-1b"], "availability_zone_ids": ["euw1-az1", "euw1-az2"]},
        says="cannot be used together",
    ),
    BadProp("availability_zone_ids", {"availability_zone_ids": ["use1-az1", "use1-az1"]}, says="repeats"),
    BadProp("availability_zone_ids[0]", {"availability_zone_ids": ["us-east-1a"]}, says="an AZ ID"),
    BadProp("max_azs", {"availability_zones": ["eu-west-1a", "eu-west-1b"], "max_azs": 3}, says="the 2 explicit AZs"),
    BadProp("max_azs", {"availability_zone_ids": ["use1-az1"], "max_azs": 2}, says="the 1 explicit AZs"),
    # subnet masks: range, unit, and whether the three tiers fit the way ec2.Vpc allocates them
    BadProp("app_subnet_mask", {"app_subnet_mask": 30}, says="from 16 to 28"),
    BadProp("web_subnet_mask", {"web_subnet_mask": 24.0}, says="a whole number (int)"),
    BadProp("web_subnet_mask", {"cidr": "10.0.0.0/24", "web_subnet_mask": 20}, says="from 24 to 28"),
    BadProp("db_subnet_mask", {"cidr": "10.0.0.0/20", "app_subnet_mask": 22}, says="do not fit in 10.0.0.0/20"),
    BadProp("app_subnet_mask", {"max_azs": 6, "app_subnet_mask": 18}, says="6 AZs x 3 tiers"),
    # NAT gateways
    BadProp("nat_strategy", {"nat_strategy": "single"}, says="NatStrategy.SINGLE"),
    BadProp(
        "nat_gateway_count",
        {"nat_strategy": NatStrategy.SINGLE, "nat_gateway_count": 2},
        says="cannot be used together",
    ),
    BadProp("nat_gateway_count", {"nat_gateway_count": 4}, says="from 0 to 3"),
    BadProp("nat_gateway_count", {"nat_gateway_count": -1}, says="from 0 to 6"),
    # ports
    BadProp("app_port", {"app_port": 0}, says="from 1 to 65535"),
    BadProp("app_port", {"app_port": "8080"}, says="a whole number (int)"),
    BadProp("db_port", {"db_port": 70000}, says="from 1 to 65535"),
    BadProp("db_port", {"db_port": 5432.0}, says="a whole number (int)"),
    BadProp("db_port", {"app_port": 3306}, says="must differ from app_port"),
    BadProp("app_port", {"app_port": 443}, says="must differ from the web ports"),
    BadProp("web_ports", {"web_ports": [80, 80]}, says="repeats"),
    BadProp("web_ports", {"web_ports": []}, says="must not be empty"),
    BadProp("web_ports", {"web_ports": 443}, says="a list of whole number"),
    BadProp("web_ports[0]", {"web_ports": [0]}, says="from 1 to 65535"),
    # who may reach the web tier, and who may reach nothing
    BadProp("web_ingress_cidrs", {"web_ingress_cidrs": []}, says="must not be empty"),
    BadProp("web_ingress_cidrs", {"web_ingress_cidrs": "192.0.2.0/24"}, says="a list of str"),
    BadProp("web_ingress_cidrs", {"web_ingress_cidrs": ["192.0.2.0/24", "192.0.2.0/24"]}, says="repeats"),
    BadProp("web_ingress_cidrs[0]", {"web_ingress_cidrs": ["192.0.2.1/24"]}, says="Host bits"),
    BadProp("blocked_cidrs", {"blocked_cidrs": "2"}, says="a list of str"),
    BadProp("blocked_cidrs", {"blocked_cidrs": "203.0.113.0/24"}, says="a list of str"),
    BadProp("blocked_cidrs[0]", {"blocked_cidrs": ["203.0.113.0"]}, says="prefix length"),
    BadProp("blocked_cidrs", {"blocked_cidrs": ["10.0.5.0/24"]}, says="overlaps the VPC"),
    BadProp("blocked_cidrs", {"blocked_cidrs": ["203.0.113.0/24", "203.0.113.128/25"]}, says="overlaps 203.0.113.0/24"),
    BadProp("blocked_cidrs[0]", {"blocked_cidrs": ["0.0.0.0/0"]}, says="cut off all traffic"),
    BadProp(
        "blocked_cidrs",
        {"blocked_cidrs": ["192.0.0.0/8"], "web_ingress_cidrs": ["192.0.2.0/24"]},
        says="blocks all of",
    ),
    BadProp("blocked_cidrs", {"blocked_cidrs": [f"198.51.{i}.0/24" for i in range(91)]}, says="at most 90"),
    # flow logs: types, and the props that only matter with flow logs on
    BadProp("flow_logs", {"flow_logs": "yes"}, says="a bool"),
    BadProp("log_retention", {"log_retention": cdk.Duration.days(30)}, says="a RetentionDays"),
    BadProp("log_retention", {"log_retention": 365}, says="a RetentionDays"),
    BadProp("log_retention", {"flow_logs": False, "log_retention": logs.RetentionDays.ONE_MONTH}, says="flow_logs"),
    BadProp("flow_log_retention", {"flow_log_retention": logs.RetentionDays.ONE_MONTH}, says="'log_retention'"),
    BadProp("encryption_key", {"encryption_key": "alias/flow-logs"}, says="an IKey"),
    BadProp(
        "encryption_key",
        lambda s: {"flow_logs": False, "encryption_key": kms.Key(s, "Key")},
        says="only takes effect with flow_logs",
    ),
    # endpoints, removal, names, operations
    BadProp("gateway_endpoints", {"gateway_endpoints": 1}, says="a bool"),
    BadProp("interface_endpoints", {"interface_endpoints": SSM}, says="a list of InterfaceVpcEndpointAwsService"),
    BadProp("interface_endpoints", {"interface_endpoints": ["ssm"]}, says="a list of InterfaceVpcEndpointAwsService"),
    BadProp("interface_endpoints", {"interface_endpoints": [SSM, SSM]}, says="'ssm' repeats"),
    BadProp("removal_policy", {"removal_policy": "retain"}, says="a RemovalPolicy"),
    BadProp("vpc_name", {"vpc_name": ""}, says="must not be empty"),
    BadProp("alarm_topic", {"alarm_topic": "arn:aws:sns:eu-west-1:123456789012:ops"}, says="an ITopic"),
    BadProp("dashboard", {"dashboard": ""}, says="1 to 255 characters"),
    BadProp("dashboard", {"dashboard": "network ops"}, says="1 to 255 characters"),
    BadProp("dashboard", {"dashboard": 1}, says="a bool or a str"),
]

#: Cases that clash with the stack's region (eu-west-1).
BAD_PROPS_IN_EU_WEST_1 = [
    BadProp("availability_zones", {"availability_zones": ["us-east-1a", "us-east-1b"]}, says="not an AZ of eu-west-1"),
    BadProp("availability_zones", {"availability_zones": ["eu-west-1a", "eu-central-1b"]}, says="'eu-central-1b'"),
]


@pytest.mark.parametrize("case", bad_prop_params(BAD_PROPS))
def test_bad_props_fail_early_naming_the_prop(case: BadProp) -> None:
    assert_fails_early(ThreeTierVpc, case)


@pytest.mark.parametrize("case", bad_prop_params(BAD_PROPS_IN_EU_WEST_1))
def test_props_that_clash_with_the_stack_fail_early(case: BadProp) -> None:
    stack = cdk.Stack(new_app(), "Regional", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    assert_fails_early(ThreeTierVpc, case, stack)


def test_allow_app_tier_to_db_port_checks_the_port(make_stack: Callable[..., cdk.Stack]) -> None:
    network = ThreeTierVpc(make_stack("ExtraPort"), "Network", flow_logs=False)
    with pytest.raises(PropValidationError, match="invalid port=70000"):
        network.allow_app_tier_to_db_port(70000)


def test_subnet_fit_check_matches_what_the_vpc_allocates(make_stack: Callable[..., cdk.Stack]) -> None:
    """The tightest layout the check accepts is one ec2.Vpc can really build."""
    stack = make_stack("Tight")
    network = ThreeTierVpc(
        stack,
        "Network",
        cidr="10.1.0.0/22",
        web_subnet_mask=26,
        app_subnet_mask=24,
        db_subnet_mask=26,
        max_azs=2,
        flow_logs=False,
    )
    cidrs = [ipaddress.ip_network(c) for tier in network.tiers for c in tier.cidrs]
    assert all(c.subnet_of(ipaddress.ip_network("10.1.0.0/22")) for c in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])


def test_db_tier_can_be_opened_to_the_interface_endpoints(make_stack: Callable[..., cdk.Stack]) -> None:
    """For databases that call AWS themselves (Redshift reading Kinesis): HTTPS db -> app tier, and back."""
    stack = make_stack("Endpoints")
    network = ThreeTierVpc(
        stack, "Network", flow_logs=False, interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS]
    )
    network.allow_db_tier_to_endpoints()
    stacked = synth(stack)
    ephemeral = (1024, 65535)
    # The tiers number what is added after their own entries, in their own steps (no fixed 5000).
    db = _entries(stacked, "DbNacl")
    assert [e for e in db if e["rule"] >= 1300] == sorted(
        [
            *[_allow(1300 + 100 * i, True, cidr, (443, 443)) for i, cidr in enumerate(APP)],
            *[_allow(1300 + 100 * i, False, cidr, ephemeral) for i, cidr in enumerate(APP)],
        ],
        key=lambda r: (r["egress"], r["rule"]),
    )
    app = _entries(stacked, "AppNacl")
    assert [e for e in app if e["cidr"] in DB and e["ports"] != (3306, 3306)] == sorted(
        [
            *[_allow(1700 + 100 * i, False, cidr, (443, 443)) for i, cidr in enumerate(DB)],
            *[_allow(2000 + 100 * i, True, cidr, ephemeral) for i, cidr in enumerate(DB)],
        ],
        key=lambda r: (r["egress"], r["rule"]),
    )
    db_group = next(v for k, v in stacked.resources("AWS::EC2::SecurityGroup").items() if k.startswith("NetworkDb"))
    assert [(r["CidrIp"], r["FromPort"]) for r in db_group["Properties"]["SecurityGroupEgress"]] == [
        ("10.0.0.0/16", 443)
    ]
