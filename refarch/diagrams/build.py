"""Build an :class:`~refarch.diagrams.model.Architecture` from synthesized templates."""

from __future__ import annotations

from collections.abc import Sequence

from refarch.diagrams.edges import CLIENT, add_edges
from refarch.diagrams.model import NODE_TYPES, Architecture, Group, Node, Source, display_name, is_plumbing, node_id
from refarch.diagrams.workflow import add_workflows
from refarch.testing.assembly import SynthesizedTemplate
from refarch.testing.network_model import ResourceKey, Subnet

#: Subnet types from the outside in: the order tiers are drawn in.
_SUBNET_TYPES = ("Public", "Private", "Isolated")


def build_architecture(templates: Sequence[SynthesizedTemplate], name: str) -> Architecture:
    """Nodes, groups and data-path edges of ``templates`` (one diagram for all of them)."""
    source = Source.read(templates)
    arch = Architecture(name)
    arch.nodes[CLIENT] = Node(CLIENT, "client", "Client", "callers and uploads")
    several = len(templates) > 1
    tiers = _add_network(arch, source, several)
    node_ids = _add_resources(arch, source, tiers, several)
    _add_tier_security_groups(arch, source, tiers, node_ids, several)
    add_edges(arch, source, node_ids)
    add_workflows(arch, source, node_ids)
    if not arch.successors(CLIENT):
        del arch.nodes[CLIENT]
    return arch


def _add_network(arch: Architecture, source: Source, several: bool) -> dict[ResourceKey, str]:
    """A group per VPC, a group per tier inside it, a node per subnet (its AZ and CIDR) inside the
    tier. Returns subnet -> tier group ID."""
    tier_of: dict[ResourceKey, str] = {}
    ranked = ranked_subnets(source)
    for subnet in ranked:
        vpc = subnet.vpc or ("", "vpc")
        vpc_group = f"group_{node_id(vpc, several)}"
        if vpc_group not in arch.groups:
            arch.groups[vpc_group] = Group(vpc_group, f"VPC {display_name(vpc, source.paths.get(vpc))}")
        tier = subnet.group or "subnets"
        tier_group = f"{vpc_group}_{node_id(('', tier), False)}"
        if tier_group not in arch.groups:
            kind = _subnet_type(source, subnet.key).lower() or "?"
            arch.groups[tier_group] = Group(tier_group, f"{tier} tier ({kind} subnets)", vpc_group)
        tier_of[subnet.key] = tier_group
    for subnet in sorted(ranked, key=lambda s: (tier_of[s.key], s.az)):
        shown = node_id(subnet.key, several)
        arch.nodes[shown] = Node(shown, "subnet", _az_label(subnet.az), str(subnet.cidr or "?"), tier_of[subnet.key])
    return tier_of


def _add_resources(
    arch: Architecture, source: Source, tier_of: dict[ResourceKey, str], several: bool
) -> dict[ResourceKey, str]:
    """A node per shown resource, in its tier (or VPC) group. Returns resource -> node ID, aliases
    included (an API's stage, a cluster's instance, a workgroup's namespace)."""
    hidden = _log_buckets(source)
    node_ids: dict[ResourceKey, str] = {}
    for key, resource in source.resources():
        type_ = str(resource.get("Type", ""))
        if type_ not in NODE_TYPES or key in hidden or is_plumbing(source.paths.get(key)):
            continue
        if type_ == "AWS::RDS::DBInstance" and source.props(key).get("DBClusterIdentifier"):
            continue  # drawn as its cluster
        kind, title = NODE_TYPES[type_]
        props = source.props(key)
        if type_ == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            title = {"network": "Network Load Balancer", "gateway": "Gateway Load Balancer"}.get(
                str(props.get("Type")), "Application Load Balancer"
            )
        name = display_name(key, source.paths.get(key))
        if type_ == "AWS::EC2::VPCEndpoint":
            name = source.network.endpoint_services.get(key) or name
            title = f"{props.get('VpcEndpointType', 'Gateway')} endpoint"
        shown = node_id(key, several)
        arch.nodes[shown] = Node(shown, kind, title, name, _group_of(arch, source, key, tier_of, several), key)
        node_ids[key] = shown
    _add_aliases(source, node_ids)
    _disambiguate(arch, source)
    return node_ids


def _disambiguate(arch: Architecture, source: Source) -> None:
    """Two nodes of one kind with one name (``Customers/Bucket``, ``Contracts/Bucket``) get their
    parent construct's ID too."""
    seen: dict[tuple[str, str], list[Node]] = {}
    for node in arch.nodes.values():
        if node.key is not None:
            seen.setdefault((node.title, node.name), []).append(node)
    for twins in seen.values():
        for node in twins if len(twins) > 1 else ():
            assert node.key is not None
            longer = display_name(node.key, source.paths.get(node.key), segments=2)
            arch.nodes[node.id] = Node(node.id, node.kind, node.title, longer, node.group, node.key)


def _add_tier_security_groups(
    arch: Architecture,
    source: Source,
    tier_of: dict[ResourceKey, str],
    node_ids: dict[ResourceKey, str],
    several: bool,
) -> None:
    """The security group of a tier's hosts, where a flow contract names it with the tier's subnets
    (``flows.hosts("web tier", subnets, [group])``): drawn in that tier, so the chain web -> app -> db
    shows even before any host is added."""
    groups = source.network.security_groups
    used = {g for p in source.network.placements.values() for g in p.security_groups or ()}
    used |= {g for key in node_ids for g in source.referenced(key[0], source.props(key)) if g in groups}
    for template in source.templates:
        for declaration in template.declarations("flow"):
            for end in (declaration.data.get("source"), declaration.data.get("destination")):
                if not isinstance(end, dict) or not end.get("security_groups"):
                    continue
                subnets = [source.key(template.name, ref) for ref in end.get("subnets", [])]
                tier = next((tier_of[s] for s in subnets if s in tier_of), None)
                for ref in end["security_groups"]:
                    key = source.key(template.name, ref)
                    if key is None or key in node_ids or key in used or tier is None:
                        continue
                    shown = node_id(key, several)
                    name = display_name(key, source.paths.get(key))
                    arch.nodes[shown] = Node(shown, "sg", "Security group", name, tier, key)
                    node_ids[key] = shown


def _group_of(
    arch: Architecture, source: Source, key: ResourceKey, tier_of: dict[ResourceKey, str], several: bool
) -> str | None:
    """The tier of the resource's first subnet; a VPC-wide resource (gateway endpoint, internet
    gateway) sits in its VPC's group; anything else is outside the VPC."""
    placement = source.network.placements.get(key)
    props = source.props(key)
    # A resource placed by its properties (a function, a load balancer), else by the subnets it names
    # anywhere (a nested application's parameters).
    subnets = placement.subnets if placement else source.referenced(key[0], props)
    for subnet in subnets:
        if subnet in tier_of:
            return tier_of[subnet]
    vpc = source.key(key[0], props.get("VpcId"))
    if vpc is None and source.type_of(key) == "AWS::EC2::InternetGateway":
        vpc = next(
            (
                source.key(k[0], source.props(k).get("VpcId"))
                for k, r in source.resources()
                if r.get("Type") == "AWS::EC2::VPCGatewayAttachment"
                and source.key(k[0], source.props(k).get("InternetGatewayId")) == key
            ),
            None,
        )
    group = f"group_{node_id(vpc, several)}" if vpc else None
    return group if group in arch.groups else None


def _add_aliases(source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """Resources that stand for a shown one: what refers to them reaches the shown node."""
    for key, resource in source.resources():
        props = resource.get("Properties") or {}
        owner_prop = {
            "AWS::ApiGateway::Stage": "RestApiId",
            "AWS::ApiGateway::Deployment": "RestApiId",
            "AWS::ApiGatewayV2::Stage": "ApiId",
            "AWS::RDS::DBInstance": "DBClusterIdentifier",
        }.get(str(resource.get("Type")))
        owner = source.key(key[0], props.get(owner_prop)) if owner_prop else None
        if owner is not None and owner in node_ids and key not in node_ids:
            node_ids[key] = node_ids[owner]
        if resource.get("Type") == "AWS::RedshiftServerless::Workgroup" and key in node_ids:
            namespace = source.key(key[0], props.get("NamespaceName"))
            if namespace is not None:
                node_ids.setdefault(namespace, node_ids[key])


def _log_buckets(source: Source) -> set[ResourceKey]:
    """Buckets that only receive logs (access logs of other buckets, flow logs): plumbing."""
    found: set[ResourceKey] = set()
    for key, resource in source.resources():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::S3::Bucket":
            logging = props.get("LoggingConfiguration") or {}
            target = source.key(key[0], logging.get("DestinationBucketName"))
        elif resource.get("Type") == "AWS::EC2::FlowLog":
            target = next(iter(source.referenced(key[0], props.get("LogDestination"))), None)
        else:
            continue
        if target is not None and target != key:
            found.add(target)
    return found


def ranked_subnets(source: Source) -> list[Subnet]:
    """The subnets from the outside in (public, private, isolated), in template order within each."""
    order = {t: i for i, t in enumerate(_SUBNET_TYPES)}
    return sorted(source.network.subnets.values(), key=lambda s: order.get(_subnet_type(source, s.key), len(order)))


def _subnet_type(source: Source, key: ResourceKey) -> str:
    tags = source.props(key).get("Tags") or []
    return next((str(t.get("Value")) for t in tags if t.get("Key") == "aws-cdk:subnet-type"), "")


def _az_label(az: str) -> str:
    """``AZ #0`` (an ``Fn::GetAZs`` index) -> ``AZ 1``; a concrete AZ name stays as it is."""
    return f"AZ {int(az.removeprefix('AZ #')) + 1}" if az.startswith("AZ #") and az[4:].isdigit() else az


__all__ = ["build_architecture", "ranked_subnets"]
