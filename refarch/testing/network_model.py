"""The network of one or more synthesized templates, read into plain data for :mod:`refarch.testing.network`.

What is read: subnets (CIDR, AZ, subnet-group tag), route tables and their routes (internet
gateway, NAT gateway, gateway endpoints), network ACLs and their entries, security groups with
their inline and separate rules, and where each networked resource sits (its subnets and
security groups). References between resources (``Ref``, ``Fn::GetAtt``, and ``Fn::ImportValue`` or
``Fn::GetStackOutput`` of another template's output) become resource keys; anything else that is not a literal stays
unresolved, and the evaluator reports it instead of guessing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from refarch.testing.assembly import SynthesizedTemplate

#: A resource across templates: (stack name, logical ID).
ResourceKey = tuple[str, str]

IPv4 = ipaddress.IPv4Network

#: Every TCP port, and the ephemeral range AWS recommends for replies through network ACLs.
ALL_PORTS = (0, 65535)
EPHEMERAL_PORTS = (1024, 65535)

_TCP = {"tcp", "6", "-1", "all"}


def label(key: ResourceKey) -> str:
    """``Stack/LogicalId``, the way findings name a resource."""
    return f"{key[0]}/{key[1]}"


@dataclass(frozen=True)
class Subnet:
    key: ResourceKey
    cidr: IPv4 | None
    """None when the CIDR is not a literal (for example ``Fn::Cidr``)."""
    az: str
    """The AZ name, an ``AZ #i`` placeholder for ``Fn::Select`` of ``Fn::GetAZs``, or the AZ ID."""
    group: str | None
    """The ``aws-cdk:subnet-name`` tag: the tier or subnet group the subnet belongs to."""
    vpc: ResourceKey | None


@dataclass(frozen=True)
class AclEntry:
    key: ResourceKey
    acl: ResourceKey
    rule_number: int
    egress: bool
    allow: bool
    protocol: str
    cidr: IPv4
    ports: tuple[int, int]

    @property
    def matches_tcp(self) -> bool:
        return self.protocol in _TCP

    def describe(self) -> str:
        direction = "outbound" if self.egress else "inbound"
        action = "allow" if self.allow else "deny"
        ports = "all ports" if self.ports == ALL_PORTS else f"ports {self.ports[0]}-{self.ports[1]}"
        return f"{label(self.key)} (rule {self.rule_number} {direction} {action} {self.cidr} {ports})"


@dataclass(frozen=True)
class SgRule:
    """One security group rule; exactly one of ``cidr``, ``group`` and ``prefix_list`` is set."""

    key: ResourceKey
    """The security group (inline rules) or the separate rule resource."""
    group_of: ResourceKey
    """The security group the rule belongs to."""
    egress: bool
    protocol: str
    ports: tuple[int, int]
    cidr: IPv4 | None = None
    group: ResourceKey | None = None
    prefix_list: str | None = None
    unresolved: str | None = None

    @property
    def matches_tcp(self) -> bool:
        return self.protocol in _TCP

    def describe(self) -> str:
        direction, preposition = ("egress", "to") if self.egress else ("ingress", "from")
        ports = "all ports" if self.ports == ALL_PORTS else _port_text(self.ports)
        peer = label(self.group) if self.group else self.prefix_list or str(self.cidr)
        return f"security group {label(self.group_of)} ({direction} TCP {ports} {preposition} {peer})"


def _port_text(ports: tuple[int, int]) -> str:
    return f"port {ports[0]}" if ports[0] == ports[1] else f"ports {ports[0]}-{ports[1]}"


@dataclass
class SecurityGroup:
    key: ResourceKey
    ingress: list[SgRule] = field(default_factory=list)
    egress: list[SgRule] = field(default_factory=list)
    inline_egress: bool = True
    """Whether the group's resource lists ``SecurityGroupEgress`` (CDK's disallow marker included)."""

    @property
    def default_egress(self) -> bool:
        """EC2's allow-all egress rule: added when a group is created without egress rules, and removed by
        CloudFormation when a separate ``AWS::EC2::SecurityGroupEgress`` is added (CDK relies on this)."""
        return not self.inline_egress and all(rule.key == self.key for rule in self.egress)


@dataclass(frozen=True)
class Placement:
    """Where a networked resource sits: its subnets and security groups."""

    key: ResourceKey
    type: str
    subnets: tuple[ResourceKey, ...]
    security_groups: tuple[ResourceKey, ...] | None
    """None for resources that have none (an NLB created without, a NAT gateway)."""
    unresolved: tuple[str, ...] = ()
    privatelink_enforces_sg: bool = True
    """NLBs: ``EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic`` (on unless ``"off"``)."""


@dataclass(frozen=True)
class Route:
    destination: IPv4
    target_type: str
    """``gateway`` (internet gateway), ``nat``, ``endpoint`` or ``other``."""
    target: ResourceKey | None


@dataclass
class NetworkModel:
    subnets: dict[ResourceKey, Subnet] = field(default_factory=dict)
    subnet_acl: dict[ResourceKey, ResourceKey] = field(default_factory=dict)
    acl_entries: dict[ResourceKey, list[AclEntry]] = field(default_factory=dict)
    subnet_routes: dict[ResourceKey, list[Route]] = field(default_factory=dict)
    security_groups: dict[ResourceKey, SecurityGroup] = field(default_factory=dict)
    placements: dict[ResourceKey, Placement] = field(default_factory=dict)
    vpc_cidrs: dict[ResourceKey, IPv4] = field(default_factory=dict)
    types: dict[ResourceKey, str] = field(default_factory=dict)
    endpoint_services: dict[ResourceKey, str] = field(default_factory=dict)
    """VPC endpoint -> the service it serves, by its short name (``kinesis-streams``, ``s3``)."""
    problems: list[str] = field(default_factory=list)
    references: Any = None
    """``references(stack, value)``: the resource a ``Ref``, ``Fn::GetAtt`` or cross-stack value names."""

    def entries(self, acl: ResourceKey, *, egress: bool) -> list[AclEntry]:
        return sorted((e for e in self.acl_entries.get(acl, []) if e.egress == egress), key=lambda e: e.rule_number)


class _Resolver:
    """Turns template values into resource keys or literals, across templates."""

    def __init__(self, templates: Sequence[SynthesizedTemplate]) -> None:
        self.templates = {t.name: t for t in templates}
        self.exports: dict[str, tuple[str, Any]] = {}
        for t in templates:
            for output in t.template.get("Outputs", {}).values():
                name = output.get("Export", {}).get("Name")
                if isinstance(name, str):
                    self.exports[name] = (t.name, output.get("Value"))

    def key(self, stack: str, value: Any) -> ResourceKey | None:
        """The resource a ``Ref``/``Fn::GetAtt``/``Fn::ImportValue`` names, or None."""
        if isinstance(value, dict) and len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref" and isinstance(arg, str):
                return self.find(stack, arg)
            if fn == "Fn::GetAtt" and isinstance(arg, list) and arg and isinstance(arg[0], str):
                return self.find(stack, arg[0])
            if fn == "Fn::ImportValue" and isinstance(arg, str) and arg in self.exports:
                other, exported = self.exports[arg]
                return self.key(other, exported)
            if fn == "Fn::GetStackOutput" and isinstance(arg, dict):
                return self._stack_output(arg.get("StackName"), arg.get("OutputName"))
        return None

    def _stack_output(self, stack_name: Any, output_name: Any) -> ResourceKey | None:
        """What another template's output holds (the cross-stack reference newer CDK versions write)."""
        owners = [t for t in self.templates.values() if output_name in t.template.get("Outputs", {})]
        # The artifact ID is the stack name unless the stack was given another one: then the output decides.
        preferred = [t for t in owners if t.name == stack_name] or owners
        if len(preferred) != 1:
            return None
        return self.key(preferred[0].name, preferred[0].template["Outputs"][output_name].get("Value"))

    def find(self, stack: str, logical_id: str) -> ResourceKey | None:
        """``logical_id`` in ``stack``; else in the one other template that has it (a declaration in
        one stack may name a resource of the network's stack, since CDK writes such tokens as-is)."""
        if logical_id in self.templates.get(stack, _EMPTY).resources:
            return (stack, logical_id)
        owners = [name for name, t in self.templates.items() if logical_id in t.resources]
        return (owners[0], logical_id) if len(owners) == 1 else None

    def keys(self, stack: str, values: Any) -> tuple[list[ResourceKey], list[str]]:
        """Resolve a list of references; returns what resolved and a description of what did not."""
        found, missing = [], []
        for value in values if isinstance(values, list) else [values]:
            key = self.key(stack, value)
            if key is None:
                missing.append(repr(value))
            else:
                found.append(key)
        return found, missing


_EMPTY = SynthesizedTemplate("", {})


def read_network(templates: Sequence[SynthesizedTemplate]) -> NetworkModel:
    """Read every network-relevant resource of ``templates`` into one model."""
    resolver = _Resolver(templates)
    model = NetworkModel(references=resolver.key)
    route_tables: dict[ResourceKey, list[Route]] = {}
    table_of_subnet: dict[ResourceKey, ResourceKey] = {}
    for t in templates:
        for logical_id, resource in t.resources.items():
            model.types[(t.name, logical_id)] = str(resource.get("Type", ""))
    for t in templates:
        for logical_id, resource in t.resources.items():
            key = (t.name, logical_id)
            props = resource.get("Properties", {}) or {}
            reader = _READERS.get(model.types[key])
            if reader is not None:
                reader(model, resolver, key, props)
            if model.types[key] == "AWS::EC2::VPCEndpoint":
                model.endpoint_services[key] = _service_name(props.get("ServiceName"))
            if model.types[key] == "AWS::EC2::SubnetRouteTableAssociation":
                subnet, table = (
                    resolver.key(t.name, props.get("SubnetId")),
                    resolver.key(t.name, props.get("RouteTableId")),
                )
                if subnet and table:
                    table_of_subnet[subnet] = table
            elif model.types[key] == "AWS::EC2::Route":
                _read_route(route_tables, resolver, model, key, props)
            elif model.types[key] == "AWS::EC2::VPCEndpoint" and props.get("VpcEndpointType") == "Gateway":
                for table in resolver.keys(t.name, props.get("RouteTableIds", []))[0]:
                    # The route's destination is the service's prefix list: never 0.0.0.0/0 traffic.
                    route_tables.setdefault(table, []).append(Route(IPv4("255.255.255.255/32"), "endpoint", key))
    for subnet, table in table_of_subnet.items():
        model.subnet_routes[subnet] = route_tables.get(table, [])
    return model


def _read_vpc(model: NetworkModel, resolver: _Resolver, key: ResourceKey, props: dict[str, Any]) -> None:
    cidr = _network(props.get("CidrBlock"))
    if cidr is not None:
        model.vpc_cidrs[key] = cidr


def _read_subnet(model: NetworkModel, resolver: _Resolver, key: ResourceKey, props: dict[str, Any]) -> None:
    tags = {tag.get("Key"): tag.get("Value") for tag in props.get("Tags", []) if isinstance(tag, dict)}
    model.subnets[key] = Subnet(
        key=key,
        cidr=_network(props.get("CidrBlock")),
        az=_az(props),
        group=tags.get("aws-cdk:subnet-name"),
        vpc=resolver.key(key[0], props.get("VpcId")),
    )


def _read_acl_association(model: NetworkModel, resolver: _Resolver, key: ResourceKey, props: dict[str, Any]) -> None:
    subnet, acl = resolver.key(key[0], props.get("SubnetId")), resolver.key(key[0], props.get("NetworkAclId"))
    if subnet and acl:
        model.subnet_acl[subnet] = acl
    else:
        model.problems.append(f"{label(key)}: cannot resolve its subnet or network ACL")


def _read_acl_entry(model: NetworkModel, resolver: _Resolver, key: ResourceKey, props: dict[str, Any]) -> None:
    acl = resolver.key(key[0], props.get("NetworkAclId"))
    cidr = _network(props.get("CidrBlock"))
    if acl is None or cidr is None:
        model.problems.append(f"{label(key)}: network ACL or CIDR is not a literal the evaluator can read")
        return
    protocol = str(props.get("Protocol", "-1"))
    port_range = props.get("PortRange") or {}
    ports = ALL_PORTS if protocol == "-1" else (int(port_range.get("From", 0)), int(port_range.get("To", 65535)))
    model.acl_entries.setdefault(acl, []).append(
        AclEntry(
            key=key,
            acl=acl,
            rule_number=int(props.get("RuleNumber", 0)),
            egress=bool(props.get("Egress", False)),
            allow=str(props.get("RuleAction", "allow")).lower() == "allow",
            protocol=protocol.lower(),
            cidr=cidr,
            ports=ports,
        )
    )


def _read_security_group(model: NetworkModel, resolver: _Resolver, key: ResourceKey, props: dict[str, Any]) -> None:
    group = model.security_groups.setdefault(key, SecurityGroup(key))
    group.inline_egress = "SecurityGroupEgress" in props
    for rule in props.get("SecurityGroupIngress", []) or []:
        group.ingress.append(_sg_rule(resolver, key, key, rule, egress=False))
    for rule in props.get("SecurityGroupEgress", []) or []:
        group.egress.append(_sg_rule(resolver, key, key, rule, egress=True))


def _read_separate_rule(model: NetworkModel, resolver: _Resolver, key: ResourceKey, props: dict[str, Any]) -> None:
    owner = resolver.key(key[0], props.get("GroupId"))
    if owner is None:
        model.problems.append(f"{label(key)}: cannot resolve the security group it belongs to")
        return
    egress = model.types[key] == "AWS::EC2::SecurityGroupEgress"
    group = model.security_groups.setdefault(owner, SecurityGroup(owner))
    rule = _sg_rule(resolver, key, owner, props, egress=egress)
    (group.egress if egress else group.ingress).append(rule)


def _sg_rule(
    resolver: _Resolver, key: ResourceKey, owner: ResourceKey, rule: dict[str, Any], *, egress: bool
) -> SgRule:
    protocol = str(rule.get("IpProtocol", "-1")).lower()
    ports = ALL_PORTS if protocol in ("-1", "all") else (int(rule.get("FromPort", 0)), int(rule.get("ToPort", 65535)))
    peer_group = rule.get("DestinationSecurityGroupId" if egress else "SourceSecurityGroupId")
    prefix_list = rule.get("DestinationPrefixListId" if egress else "SourcePrefixListId")
    common = {"key": key, "group_of": owner, "egress": egress, "protocol": protocol, "ports": ports}
    if peer_group is not None:
        group = resolver.key(key[0], peer_group)
        return SgRule(**common, group=group, unresolved=None if group else f"security group {peer_group!r}")  # type: ignore[arg-type]
    if prefix_list is not None:
        return SgRule(**common, prefix_list=str(prefix_list))  # type: ignore[arg-type]
    cidr = _network(rule.get("CidrIp"))
    if cidr is None and "CidrIpv6" in rule:
        return SgRule(**common, unresolved="IPv6 rule")  # type: ignore[arg-type]
    return SgRule(**common, cidr=cidr, unresolved=None if cidr else f"CIDR {rule.get('CidrIp')!r}")  # type: ignore[arg-type]


def _read_route(
    tables: dict[ResourceKey, list[Route]],
    resolver: _Resolver,
    model: NetworkModel,
    key: ResourceKey,
    props: dict[str, Any],
) -> None:
    table = resolver.key(key[0], props.get("RouteTableId"))
    destination = _network(props.get("DestinationCidrBlock"))
    if table is None or destination is None:
        if "DestinationIpv6CidrBlock" not in props:
            model.problems.append(f"{label(key)}: route table or destination is not a literal")
        return
    for prop, kind in (("GatewayId", "gateway"), ("NatGatewayId", "nat"), ("VpcEndpointId", "endpoint")):
        if prop in props:
            tables.setdefault(table, []).append(Route(destination, kind, resolver.key(key[0], props[prop])))
            return
    tables.setdefault(table, []).append(Route(destination, "other", None))


def _placement_reader(subnets_path: Sequence[str], groups_path: Sequence[str] | None) -> Any:
    """A reader for a resource whose subnets and security groups sit at fixed property paths."""

    def read(model: NetworkModel, resolver: _Resolver, key: ResourceKey, props: dict[str, Any]) -> None:
        subnets_value = _dig(props, subnets_path)
        if subnets_value is None:
            return  # not in a VPC (a Lambda function without VpcConfig)
        subnets, missing = resolver.keys(key[0], subnets_value)
        groups: list[ResourceKey] | None = None
        if groups_path is not None:
            groups_value = _dig(props, groups_path)
            if groups_value is not None:
                groups, missing_groups = resolver.keys(key[0], groups_value)
                missing += missing_groups
        _place(model, key, subnets, groups, missing, props)

    return read


def _read_subnet_group_user(subnet_group_prop: str, groups_prop: str) -> Any:
    """RDS and Redshift: the subnets come from a subnet group resource."""

    def read(model: NetworkModel, resolver: _Resolver, key: ResourceKey, props: dict[str, Any]) -> None:
        subnet_group = resolver.key(key[0], props.get(subnet_group_prop))
        missing: list[str] = []
        subnets: list[ResourceKey] = []
        if subnet_group is None:
            missing.append(f"{subnet_group_prop}={props.get(subnet_group_prop)!r}")
        else:
            group_props = resolver.templates[subnet_group[0]].resources[subnet_group[1]].get("Properties", {})
            subnets, missing = resolver.keys(subnet_group[0], group_props.get("SubnetIds", []))
        groups, missing_groups = resolver.keys(key[0], props.get(groups_prop, []))
        _place(model, key, subnets, groups, missing + missing_groups, props)

    return read


def _read_auto_scaling_group(model: NetworkModel, resolver: _Resolver, key: ResourceKey, props: dict[str, Any]) -> None:
    subnets, missing = resolver.keys(key[0], props.get("VPCZoneIdentifier", []))
    template_key = resolver.key(key[0], (props.get("LaunchTemplate") or {}).get("LaunchTemplateId"))
    groups: list[ResourceKey] = []
    if template_key is None:
        missing.append("its launch template")
    else:
        data = (
            resolver.templates[template_key[0]].resources[template_key[1]]["Properties"].get("LaunchTemplateData", {})
        )
        values = data.get("SecurityGroupIds") or [
            g for ni in data.get("NetworkInterfaces", []) for g in ni.get("Groups", [])
        ]
        groups, missing_groups = resolver.keys(template_key[0], values)
        missing += missing_groups
    _place(model, key, subnets, groups, missing, props)


def _read_load_balancer(model: NetworkModel, resolver: _Resolver, key: ResourceKey, props: dict[str, Any]) -> None:
    values = props.get("Subnets") or [m.get("SubnetId") for m in props.get("SubnetMappings", [])]
    subnets, missing = resolver.keys(key[0], values)
    groups: list[ResourceKey] | None = None
    if "SecurityGroups" in props:
        groups, missing_groups = resolver.keys(key[0], props["SecurityGroups"])
        missing += missing_groups
    elif props.get("Type", "application") == "application":
        missing.append("an ALB without SecurityGroups gets the VPC's default group")
    _place(model, key, subnets, groups, missing, props)


def _place(
    model: NetworkModel,
    key: ResourceKey,
    subnets: Iterable[ResourceKey],
    groups: Iterable[ResourceKey] | None,
    missing: list[str],
    props: dict[str, Any],
) -> None:
    model.placements[key] = Placement(
        key=key,
        type=model.types[key],
        subnets=tuple(subnets),
        security_groups=tuple(groups) if groups is not None else None,
        unresolved=tuple(missing),
        privatelink_enforces_sg=str(props.get("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic", "on")) != "off",
    )


def _dig(props: dict[str, Any], path: Sequence[str]) -> Any:
    value: Any = props
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _network(value: Any) -> IPv4 | None:
    if not isinstance(value, str):
        return None
    try:
        return IPv4(value, strict=False)
    except ValueError:
        return None


def _service_name(value: Any) -> str:
    """``com.amazonaws.<region>.kinesis-streams`` (literal or joined with the region) -> ``kinesis-streams``."""
    if isinstance(value, dict) and "Fn::Join" in value:
        parts = value["Fn::Join"][1]
        value = parts[-1] if parts and isinstance(parts[-1], str) else ""
    text = str(value) if isinstance(value, str) else ""
    if text.startswith("com.amazonaws."):
        text = text.split(".", 3)[-1] if text.count(".") >= 3 else ""
    return text.lstrip(".")


def _az(props: dict[str, Any]) -> str:
    value = props.get("AvailabilityZone", props.get("AvailabilityZoneId"))
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Select" in value:
        index = value["Fn::Select"][0]
        return f"AZ #{index}"
    return "AZ ?"


_READERS: dict[str, Any] = {
    "AWS::EC2::VPC": _read_vpc,
    "AWS::EC2::Subnet": _read_subnet,
    "AWS::EC2::SubnetNetworkAclAssociation": _read_acl_association,
    "AWS::EC2::NetworkAclEntry": _read_acl_entry,
    "AWS::EC2::SecurityGroup": _read_security_group,
    "AWS::EC2::SecurityGroupIngress": _read_separate_rule,
    "AWS::EC2::SecurityGroupEgress": _read_separate_rule,
    "AWS::Lambda::Function": _placement_reader(("VpcConfig", "SubnetIds"), ("VpcConfig", "SecurityGroupIds")),
    "AWS::EC2::VPCEndpoint": _placement_reader(("SubnetIds",), ("SecurityGroupIds",)),
    "AWS::EC2::Instance": _placement_reader(("SubnetId",), ("SecurityGroupIds",)),
    "AWS::EC2::NatGateway": _placement_reader(("SubnetId",), None),
    "AWS::RedshiftServerless::Workgroup": _placement_reader(("SubnetIds",), ("SecurityGroupIds",)),
    "AWS::RDS::DBInstance": _read_subnet_group_user("DBSubnetGroupName", "VPCSecurityGroups"),
    "AWS::RDS::DBCluster": _read_subnet_group_user("DBSubnetGroupName", "VpcSecurityGroupIds"),
    "AWS::Redshift::Cluster": _read_subnet_group_user("ClusterSubnetGroupName", "VpcSecurityGroupIds"),
    "AWS::AutoScaling::AutoScalingGroup": _read_auto_scaling_group,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _read_load_balancer,
}
