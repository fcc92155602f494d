"""The network-flow contract: the evaluator on small templates, every reference stack and example
against the flows its constructs declare, and several constructs sharing one ThreeTierVpc."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from refarch.compliance import packs
from refarch.constructs import (
    EncryptedDataStore,
    ImageProcessor,
    PrivateApi,
    ResilientWebApp,
    StreamingPipeline,
    ThreeTierVpc,
)
from refarch.testing import Network, SynthesizedTemplate, check_flows, from_stack
from tests.harness import DEPLOY_TARGETS, ReferenceStacks, new_app

# -- every reference stack and example -------------------------------------------------------


@pytest.mark.parametrize("target", DEPLOY_TARGETS)
def test_declared_flows_hold(target: str, deploy_outputs: Callable[[str], list[SynthesizedTemplate]]) -> None:
    outputs = deploy_outputs(target)
    has_subnets = any(r["Type"] == "AWS::EC2::Subnet" for t in outputs for r in t.resources.values())
    declared = [d for t in outputs for d in t.declarations("flow")]
    # A stack with a network must declare what flows through it; one without has nothing to check.
    assert bool(declared) == has_subnets, f"{target}: {len(declared)} flows declared, subnets: {has_subnets}"
    findings = check_flows(outputs)
    assert not findings, "\n".join(str(f) for f in findings)


def test_three_tier_vpc_exposes_the_evaluator(reference_stacks: ReferenceStacks) -> None:
    network = reference_stacks["ThreeTierVpcStack"].stack.network  # type: ignore[attr-defined]
    reachability = network.reachability()
    assert reachability.can_reach("0.0.0.0/0", "tier:Web", 443).open
    closed = reachability.can_reach("tier:Web", "tier:Db", 3306)
    assert closed.closed and "NetworkDbNacl" in closed.explain()


# -- the evaluator on small templates --------------------------------------------------------


def _template(name: str = "T", **resources: dict[str, Any]) -> SynthesizedTemplate:
    return SynthesizedTemplate(name, {"Resources": resources})


def _res(type_: str, **props: Any) -> dict[str, Any]:
    return {"Type": type_, "Properties": props}


def _ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def _group_id(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "GroupId"]}


def _entry(acl: str, rule: int, *, egress: bool, cidr: str, ports: tuple[int, int], allow: bool = True) -> Any:
    return _res(
        "AWS::EC2::NetworkAclEntry",
        NetworkAclId=_ref(acl),
        RuleNumber=rule,
        Egress=egress,
        RuleAction="allow" if allow else "deny",
        Protocol=6,
        CidrBlock=cidr,
        PortRange={"From": ports[0], "To": ports[1]},
    )


def _group_rule(group: str, peer: str, port: int, *, egress: bool = False) -> Any:
    """A separate rule of ``group`` admitting TCP ``port`` from (or, ``egress``, to) group ``peer``."""
    return _res(
        "AWS::EC2::SecurityGroupEgress" if egress else "AWS::EC2::SecurityGroupIngress",
        GroupId=_group_id(group),
        IpProtocol="tcp",
        FromPort=port,
        ToPort=port,
        **{"DestinationSecurityGroupId" if egress else "SourceSecurityGroupId": _group_id(peer)},
    )


def _two_subnets(**extra: dict[str, Any]) -> SynthesizedTemplate:
    """A (10.0.1.0/24, ACL A, SG Sa) -> B (10.0.2.0/24, ACL B, SG Sb) on 5432, open both ways unless
    ``extra`` overrides an entry or rule."""
    base: dict[str, dict[str, Any]] = {
        "Vpc": _res("AWS::EC2::VPC", CidrBlock="10.0.0.0/16"),
        "SubnetA": _res("AWS::EC2::Subnet", CidrBlock="10.0.1.0/24", AvailabilityZone="eu-west-1a", VpcId=_ref("Vpc")),
        "SubnetB": _res("AWS::EC2::Subnet", CidrBlock="10.0.2.0/24", AvailabilityZone="eu-west-1b", VpcId=_ref("Vpc")),
        "AclA": _res("AWS::EC2::NetworkAcl", VpcId=_ref("Vpc")),
        "AclB": _res("AWS::EC2::NetworkAcl", VpcId=_ref("Vpc")),
        "AssocA": _res("AWS::EC2::SubnetNetworkAclAssociation", SubnetId=_ref("SubnetA"), NetworkAclId=_ref("AclA")),
        "AssocB": _res("AWS::EC2::SubnetNetworkAclAssociation", SubnetId=_ref("SubnetB"), NetworkAclId=_ref("AclB")),
        "AOut": _entry("AclA", 100, egress=True, cidr="10.0.2.0/24", ports=(5432, 5432)),
        "AIn": _entry("AclA", 100, egress=False, cidr="10.0.2.0/24", ports=(1024, 65535)),
        "BIn": _entry("AclB", 100, egress=False, cidr="10.0.1.0/24", ports=(5432, 5432)),
        "BOut": _entry("AclB", 100, egress=True, cidr="10.0.1.0/24", ports=(1024, 65535)),
        "Sa": _res("AWS::EC2::SecurityGroup", GroupDescription="a", VpcId=_ref("Vpc")),  # default egress
        "Sb": _res("AWS::EC2::SecurityGroup", GroupDescription="b", VpcId=_ref("Vpc")),
        "SbFromSa": _group_rule("Sb", "Sa", 5432),
        "A": _res("AWS::EC2::Instance", SubnetId=_ref("SubnetA"), SecurityGroupIds=[_group_id("Sa")]),
        "B": _res("AWS::EC2::Instance", SubnetId=_ref("SubnetB"), SecurityGroupIds=[_group_id("Sb")]),
    }
    base.update(extra)
    return _template(**{k: v for k, v in base.items() if v})


def _reach(template: SynthesizedTemplate, source: str = "A", destination: str = "B", port: int = 5432) -> Any:
    return Network.from_templates([template]).can_reach(source, destination, port)


def test_open_flow_crosses_both_acls_both_ways() -> None:
    reach = _reach(_two_subnets())
    assert reach.open, reach.explain()
    assert [(p.source, p.destination) for p in reach.paths] == [("SubnetA (eu-west-1a)", "SubnetB (eu-west-1b)")]


def test_first_match_wins_deny_before_allow() -> None:
    deny = _entry("AclB", 50, egress=False, cidr="10.0.0.0/16", ports=(0, 65535), allow=False)
    reach = _reach(_two_subnets(BDeny=deny))
    assert reach.closed
    assert "T/BDeny (rule 50 inbound deny 10.0.0.0/16" in reach.explain()
    # The same deny after the allow changes nothing.
    later = _entry("AclB", 200, egress=False, cidr="10.0.0.0/16", ports=(0, 65535), allow=False)
    assert _reach(_two_subnets(BDeny=later)).open


def test_missing_ephemeral_return_is_reported() -> None:
    reach = _reach(_two_subnets(BOut={}))
    assert reach.closed
    assert "no entry of network ACL T/AclB allows outbound TCP 1024-65535 to 10.0.1.0/24" in reach.explain()
    # Half the ephemeral range is still a closed flow: name what is missing.
    half = _entry("AclB", 100, egress=True, cidr="10.0.1.0/24", ports=(1024, 32767))
    assert "allows outbound TCP 32768-65535" in _reach(_two_subnets(BOut=half)).explain()


def test_a_rule_for_part_of_the_peer_range_does_not_open_it() -> None:
    narrow = _entry("AclB", 100, egress=False, cidr="10.0.1.0/25", ports=(5432, 5432))
    assert _reach(_two_subnets(BIn=narrow)).closed


def test_security_group_to_security_group() -> None:
    assert _reach(_two_subnets()).open
    other = _res("AWS::EC2::SecurityGroup", GroupDescription="other", VpcId=_ref("Vpc"))
    rule = _group_rule("Sb", "Other", 5432)
    reach = _reach(_two_subnets(Other=other, SbFromSa=rule))
    assert reach.closed
    assert "no ingress rule of security group(s) T/Sb allows TCP 5432 from T/A" in reach.explain()


def test_default_egress_versus_the_cdk_disallow_marker() -> None:
    marker = [{"CidrIp": "255.255.255.255/32", "IpProtocol": "icmp", "FromPort": 252, "ToPort": 86}]
    locked = _res("AWS::EC2::SecurityGroup", GroupDescription="a", VpcId=_ref("Vpc"), SecurityGroupEgress=marker)
    reach = _reach(_two_subnets(Sa=locked))
    assert reach.closed and "no egress rule of security group(s) T/Sa" in reach.explain()
    # A separate egress rule to B's group opens it again.
    egress = _group_rule("Sa", "Sb", 5432, egress=True)
    assert _reach(_two_subnets(Sa=locked, SaToSb=egress)).open
    # Without inline egress, a separate egress rule makes CloudFormation drop EC2's allow-all rule.
    to_other_port = _group_rule("Sa", "Sb", 5433, egress=True)
    assert _reach(_two_subnets(SaToSb=to_other_port)).closed
    assert _reach(_two_subnets()).open  # no egress rule at all: allow-all


def test_same_subnet_traffic_does_not_cross_acls() -> None:
    same = _res("AWS::EC2::Instance", SubnetId=_ref("SubnetB"), SecurityGroupIds=[_group_id("Sa")])
    reach = _reach(_two_subnets(A=same, BIn={}, BOut={}))
    assert reach.open, reach.explain()


def test_what_cannot_be_read_is_unknown_not_guessed() -> None:
    token = _res(
        "AWS::EC2::Subnet",
        CidrBlock={"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}]},
        VpcId=_ref("Vpc"),
    )
    reach = _reach(_two_subnets(SubnetB=token))
    assert not reach.open and not reach.closed
    assert "not a literal" in reach.explain()
    assert _reach(_two_subnets(), destination="NoSuchThing").unknown


def test_internet_through_a_nat_gateway_crosses_the_nat_subnet_acl() -> None:
    public = {
        "Igw": _res("AWS::EC2::InternetGateway"),
        "RtA": _res("AWS::EC2::RouteTable", VpcId=_ref("Vpc")),
        "RtB": _res("AWS::EC2::RouteTable", VpcId=_ref("Vpc")),
        "RtaA": _res("AWS::EC2::SubnetRouteTableAssociation", SubnetId=_ref("SubnetA"), RouteTableId=_ref("RtA")),
        "RtaB": _res("AWS::EC2::SubnetRouteTableAssociation", SubnetId=_ref("SubnetB"), RouteTableId=_ref("RtB")),
        "Nat": _res("AWS::EC2::NatGateway", SubnetId=_ref("SubnetB")),
        "ToNat": _res(
            "AWS::EC2::Route", RouteTableId=_ref("RtA"), DestinationCidrBlock="0.0.0.0/0", NatGatewayId=_ref("Nat")
        ),
        "ToIgw": _res(
            "AWS::EC2::Route", RouteTableId=_ref("RtB"), DestinationCidrBlock="0.0.0.0/0", GatewayId=_ref("Igw")
        ),
        "AOut": _entry("AclA", 100, egress=True, cidr="0.0.0.0/0", ports=(443, 443)),
        "AIn": _entry("AclA", 100, egress=False, cidr="0.0.0.0/0", ports=(1024, 65535)),
        "BIn": _entry("AclB", 100, egress=False, cidr="0.0.0.0/0", ports=(1024, 65535)),
        "BOut": _entry("AclB", 100, egress=True, cidr="0.0.0.0/0", ports=(443, 443)),
        "BOutReply": _entry("AclB", 110, egress=True, cidr="10.0.1.0/24", ports=(1024, 65535)),
    }
    reach = _reach(_two_subnets(**public), destination="0.0.0.0/0", port=443)
    assert reach.closed
    assert "no entry of network ACL T/AclB allows inbound TCP 443 from 10.0.1.0/24 in T/SubnetB" in reach.explain()
    nat_in = _entry("AclB", 110, egress=False, cidr="10.0.1.0/24", ports=(443, 443))
    assert _reach(_two_subnets(**public, BInFromA=nat_in), destination="0.0.0.0/0", port=443).open


def test_a_network_in_one_stack_used_by_another() -> None:
    network = _two_subnets()
    network.template["Outputs"] = {
        "SubnetBId": {"Value": _ref("SubnetB"), "Export": {"Name": "Net:SubnetB"}},
        "SbId": {"Value": _group_id("Sb"), "Export": {"Name": "Net:Sb"}},
    }
    consumer = _template(
        "App",
        Db=_res(
            "AWS::EC2::Instance",
            SubnetId={"Fn::ImportValue": "Net:SubnetB"},
            SecurityGroupIds=[{"Fn::ImportValue": "Net:Sb"}],
        ),
    )
    reach = Network.from_templates([network, consumer]).can_reach("T/A", "App/Db", 5432)
    assert reach.open, reach.explain()


# -- breaking a synthesized stack -----------------------------------------------------------


def _without(output: SynthesizedTemplate, logical_id: str) -> SynthesizedTemplate:
    template = copy.deepcopy(output.template)
    del template["Resources"][logical_id]
    return SynthesizedTemplate(output.name, template, output.metadata)


def test_removing_an_acl_entry_closes_the_vpc_link_flow_and_names_it(reference_stacks: ReferenceStacks) -> None:
    stack = reference_stacks["PrivateApiStack"]
    output = stack.output
    assert check_flows([output]) == []
    # The app tier ACL entry the VPC Link flow crosses: inbound TCP 80 (the NLB listener) from 10.0.32.0/20.
    entry, resource = stack.one("AWS::EC2::NetworkAclEntry", "AppNaclAllowIn1800")
    assert (resource["Properties"]["CidrBlock"], resource["Properties"]["PortRange"]) == (
        "10.0.32.0/20",
        {"From": 80, "To": 80},
    )
    (finding,) = check_flows([_without(output, entry)])
    assert finding.path == "/PrivateApiStack/PrivateApi"
    assert "VPC Link to the NLB listener" in finding.message
    assert "allows inbound TCP 80 from 10.0.32.0/20" in finding.message


def test_removing_a_security_group_rule_closes_the_database_flow(reference_stacks: ReferenceStacks) -> None:
    output = reference_stacks["PrivateApiStack"].output
    rule = next(
        k
        for k, r in output.resources.items()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
        and r["Properties"]["Description"] == "Service instances to the database"
    )
    messages = [f.message for f in check_flows([_without(output, rule)])]
    assert len(messages) == 1 and "service to the database" in messages[0]
    assert "no ingress rule of security group(s) PrivateApiStack/PrivateApiDatabaseSecurityGroup" in messages[0]


# -- several constructs on one ThreeTierVpc ---------------------------------------------------


def _duplicate_rule_numbers(output: SynthesizedTemplate) -> list[tuple[Any, ...]]:
    keys = Counter(
        (str(r["Properties"]["NetworkAclId"]), r["Properties"].get("Egress", False), r["Properties"]["RuleNumber"])
        for r in output.resources.values()
        if r["Type"] == "AWS::EC2::NetworkAclEntry"
    )
    return [k for k, n in keys.items() if n > 1]


def _two_private_apis() -> cdk.Stack:
    stack = cdk.Stack(new_app(), "TwoApis")
    network = ThreeTierVpc(stack, "Network", app_port=8080, db_port=3306)
    PrivateApi(stack, "Orders", vpc=network)
    PrivateApi(stack, "Billing", vpc=network, listener_port=8081, app_port=8080)
    return stack


def _api_pipeline_and_store() -> cdk.Stack:
    stack = cdk.Stack(new_app(), "Platform")
    network = ThreeTierVpc(
        stack, "Network", db_port=3306, interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS]
    )
    network.allow_db_tier_to_endpoints()
    # MySQL (the API's database) on db_port, Redshift and Aurora on theirs: one db tier, three ports.
    network.allow_app_tier_to_db_port(5439)
    network.allow_app_tier_to_db_port(5432)
    PrivateApi(stack, "Api", vpc=network)
    StreamingPipeline(
        stack,
        "Pipeline",
        vpc=network.vpc,
        vpc_subnets=network.app.subnet_selection,
        database_subnets=network.db.subnet_selection,
        redshift_security_groups=[network.db.security_group],
    )
    EncryptedDataStore(
        stack,
        "Store",
        data_retention=cdk.Duration.days(365),
        vpc=network,
        database_subnets=network.db.subnet_selection,
        database_security_groups=[network.db.security_group],
    )
    return stack


def _web_app_store_and_images() -> cdk.Stack:
    """A ResilientWebApp with its cache and work queue, an Aurora data store and the image workflow, all on
    one network: the web app's Aurora and the store's on the db tier's one port."""
    stack = cdk.Stack(new_app(), "WebPlatform")
    network = ThreeTierVpc(stack, "Network", max_azs=2, app_port=8080, db_port=5432)
    ResilientWebApp(stack, "Web", vpc=network, alarm_topic=network.alarm_topic, cache=True, work_queue=True)
    EncryptedDataStore(stack, "Store", data_retention=cdk.Duration.days(365), vpc=network)
    ImageProcessor(stack, "Images", vpc=network)
    return stack


COMBINATIONS: dict[str, Callable[[], cdk.Stack]] = {
    "two PrivateApis": _two_private_apis,
    "PrivateApi + StreamingPipeline + EncryptedDataStore": _api_pipeline_and_store,
    "ResilientWebApp + EncryptedDataStore + ImageProcessor": _web_app_store_and_images,
}


@pytest.fixture(scope="module")
def combinations() -> dict[str, tuple[cdk.Stack, SynthesizedTemplate]]:
    """Each combination synthesized once for this module."""
    built = {}
    for name, build in COMBINATIONS.items():
        stack = build()
        built[name] = (stack, from_stack(stack))
    return built


@pytest.mark.parametrize("name", COMBINATIONS)
def test_combination_has_unique_acl_rule_numbers(name: str, combinations: dict[str, Any]) -> None:
    _, output = combinations[name]
    entries = [r for r in output.resources.values() if r["Type"] == "AWS::EC2::NetworkAclEntry"]
    assert entries and _duplicate_rule_numbers(output) == []


@pytest.mark.parametrize("name", COMBINATIONS)
def test_combination_flows_hold(name: str, combinations: dict[str, Any]) -> None:
    _, output = combinations[name]
    assert output.declarations("flow")
    findings = check_flows([output])
    assert not findings, "\n".join(str(f) for f in findings)


@pytest.mark.parametrize("name", COMBINATIONS)
def test_combination_passes_the_packs(name: str, combinations: dict[str, Any]) -> None:
    stack, _ = combinations[name]
    errors = [
        f"{v.rule_name}: {sorted({r.construct_path for r in v.violating_resources})}"
        for pack in packs()
        for v in pack.validate_scope(stack).violations
        if v.severity == "error"
    ]
    assert not errors, "\n".join(errors)


def test_tier_numbers_its_own_entries(make_stack: Callable[..., cdk.Stack]) -> None:
    """Entries go through the tier: next free number per direction, denies before allows, no repeats."""
    stack = make_stack("Numbering")
    network = ThreeTierVpc(stack, "Network", max_azs=2, flow_logs=False)
    https = ec2.AclTraffic.tcp_port(443)
    first = network.db.allow_inbound("192.0.2.0/24", https)
    assert network.db.allow_inbound("192.0.2.0/24", https) is first
    second = network.db.allow_inbound("198.51.100.0/24", https)
    deny = network.db.deny_inbound("203.0.113.0/24")
    numbers = {
        name: stack.resolve((entry.node.default_child or entry).rule_number)  # type: ignore[union-attr]
        for name, entry in (("first", first), ("second", second), ("deny", deny))
    }
    # The db tier's own inbound allows are 1000 and 1100 (db port from the two app subnets).
    assert numbers == {"first": 1200, "second": 1300, "deny": 100}


@pytest.fixture(scope="module")
def network_and_api_stacks() -> list[SynthesizedTemplate]:
    """A ThreeTierVpc in one stack, a PrivateApi using it from another (CDK exports and imports)."""
    app = new_app()
    network_stack = cdk.Stack(app, "Network")
    network = ThreeTierVpc(network_stack, "Network", app_port=8080, db_port=3306)
    api_stack = cdk.Stack(app, "Api")
    PrivateApi(api_stack, "Api", vpc=network)
    return [from_stack(network_stack), from_stack(api_stack)]


def test_flows_hold_across_stacks(network_and_api_stacks: list[SynthesizedTemplate]) -> None:
    network_output, api_output = network_and_api_stacks
    # aws-cdk-lib 2.275 writes cross-stack references as Fn::GetStackOutput (older ones: Fn::ImportValue).
    assert any("Fn::GetStackOutput" in str(r) for r in api_output.resources.values())
    assert api_output.declarations("flow") and network_output.declarations("flow")
    findings = check_flows(network_and_api_stacks)
    assert not findings, "\n".join(str(f) for f in findings)
    # The API's stack alone cannot say where its subnets are: undecided, not open.
    assert any("cannot be decided" in f.message for f in check_flows([api_output]))


def test_functions_in_a_vpc_declare_what_they_call(make_stack: Callable[..., cdk.Stack]) -> None:
    """ImageProcessor's functions in the app tier reach S3 through the gateway endpoint, from every AZ."""
    stack = make_stack("Images")
    network = ThreeTierVpc(stack, "Network", max_azs=2, flow_logs=False)
    ImageProcessor(stack, "Images", vpc=network.vpc, vpc_subnets=network.app.subnet_selection)
    output = from_stack(stack)
    to_s3 = [d for d in output.declarations("flow") if d.data["destination"] == {"service": "s3"}]
    assert to_s3 and all(d.path == "/Images/Images" for d in to_s3)
    assert check_flows([output]) == []
    # Without the S3 gateway endpoint's route and without NAT, the same functions would be cut off.
    isolated = ThreeTierVpc(make_stack("Isolated"), "Network", max_azs=2, flow_logs=False, gateway_endpoints=False)
    ImageProcessor(isolated, "Images", vpc=isolated.vpc, vpc_subnets=isolated.db.subnet_selection)
    messages = [f.message for f in check_flows([from_stack(cdk.Stack.of(isolated))])]
    assert messages and all("has no route to 0.0.0.0/0" in m for m in messages)
