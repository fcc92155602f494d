"""ThreeTierVpc's checks across props and against the stack, and the layout they come to.

Run right after ``read_props``, before the construct adds anything to the tree: a layout that
cannot be built (subnets that do not fit, an AZ of another region, a blocked range that swallows
the web clients) is a :class:`PropValidationError` naming the prop, not a failed synth or deploy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack, Token
from constructs import Construct

from refarch.constructs._validation import check_exclusive, is_token, parse_ipv4_network
from refarch.constructs.three_tier_vpc.props import OWNER, VPC_PREFIXES, NatStrategy, ThreeTierVpcProps
from refarch.errors import PropValidationError

#: AZs of an environment-agnostic stack when neither max_azs nor explicit AZs are given.
DEFAULT_AZS = 3


@dataclass(frozen=True)
class Layout:
    """What the props come to: the numbers the construct builds from."""

    network: ipaddress.IPv4Network
    az_count: int
    nat_count: int
    web_networks: tuple[ipaddress.IPv4Network, ...]
    blocked_networks: tuple[ipaddress.IPv4Network, ...]


def check_props(scope: Construct, p: ThreeTierVpcProps) -> Layout:
    """Every check that needs more than one prop (or the stack ``scope`` is in); the layout they allow."""
    az_count = _az_count(p)
    _check_azs_in_region(scope, p)
    network = _vpc_network(p["cidr"])
    _check_subnets_fit(network, p, az_count)
    _check_ports(p)
    web_networks = tuple(parse_ipv4_network(OWNER, "web_ingress_cidrs", c) for c in p["web_ingress_cidrs"])
    return Layout(
        network=network,
        az_count=az_count,
        nat_count=_nat_count(p, az_count),
        web_networks=web_networks,
        blocked_networks=_blocked_networks(network, web_networks, p["blocked_cidrs"]),
    )


def _az_count(p: ThreeTierVpcProps) -> int:
    check_exclusive(OWNER, availability_zones=p["availability_zones"], availability_zone_ids=p["availability_zone_ids"])
    explicit = p["availability_zones"] or p["availability_zone_ids"]
    max_azs = p["max_azs"]
    if explicit is None:
        return DEFAULT_AZS if max_azs is None else max_azs
    if max_azs is not None and max_azs != len(explicit):
        raise PropValidationError(
            OWNER, "max_azs", max_azs, f"It must match the {len(explicit)} explicit AZs given, or be left unset."
        )
    return len(explicit)


def _check_azs_in_region(scope: Construct, p: ThreeTierVpcProps) -> None:
    """AZ names of another region make the subnets fail at deploy time."""
    region = Stack.of(scope).region
    if Token.is_unresolved(region):
        return
    for name in p["availability_zones"] or ():
        if not is_token(name) and not name.startswith(region):
            raise PropValidationError(
                OWNER,
                "availability_zones",
                list(p["availability_zones"] or ()),
                f"{name!r} is not an AZ of {region}, the stack's region.",
            )


def _vpc_network(cidr: str) -> ipaddress.IPv4Network:
    if is_token(cidr):
        # The subnets, security groups and ACL entries are all derived from the range at synth time.
        raise PropValidationError(OWNER, "cidr", cidr, "It must be a literal CIDR, not a deploy-time token.")
    return parse_ipv4_network(OWNER, "cidr", cidr)


def _check_subnets_fit(network: ipaddress.IPv4Network, p: ThreeTierVpcProps, az_count: int) -> None:
    """Replay the allocation ec2.Vpc makes (tier by tier, AZ by AZ, each block aligned to its size)."""
    masks = [(prop, p[prop]) for prop in ("web_subnet_mask", "app_subnet_mask", "db_subnet_mask")]
    for prop, mask in masks:
        if mask < network.prefixlen:
            raise PropValidationError(
                OWNER,
                prop,
                mask,
                f"Allowed: a whole number from {network.prefixlen} to {VPC_PREFIXES[1]} "
                f"(a subnet cannot be larger than the VPC's {network}).",
            )
    cursor = int(network.network_address)
    end = int(network.broadcast_address) + 1
    for prop, mask in masks:
        size = 2 ** (32 - mask)
        for _ in range(az_count):
            cursor = -(-cursor // size) * size  # align up
            cursor += size
            if cursor > end:
                raise PropValidationError(
                    OWNER,
                    prop,
                    mask,
                    f"{az_count} AZs x 3 tiers of subnets with masks "
                    f"{', '.join(f'{p}=/{m}' for p, m in masks)} do not fit in {network}: "
                    "use larger masks (smaller subnets), fewer AZs or a larger cidr.",
                )


def _nat_count(p: ThreeTierVpcProps, az_count: int) -> int:
    check_exclusive(OWNER, nat_strategy=p["nat_strategy"], nat_gateway_count=p["nat_gateway_count"])
    count = p["nat_gateway_count"]
    if count is not None:
        if count > az_count:
            raise PropValidationError(
                OWNER, "nat_gateway_count", count, f"Allowed: a whole number from 0 to {az_count} (one per AZ at most)."
            )
        return count
    strategy = p["nat_strategy"] or NatStrategy.ONE_PER_AZ
    return {NatStrategy.ONE_PER_AZ: az_count, NatStrategy.SINGLE: 1, NatStrategy.NONE: 0}[strategy]


def _check_ports(p: ThreeTierVpcProps) -> None:
    app_port, db_port, web_ports = p["app_port"], p["db_port"], p["web_ports"]
    if app_port == db_port:
        raise PropValidationError(OWNER, "db_port", db_port, f"It must differ from app_port ({app_port}).")
    check_app_port(OWNER, app_port, web_ports)


def check_app_port(owner: str, app_port: int, web_ports: Sequence[int]) -> None:
    """``app_port`` is none of the web tier's ports: the tiers' ACLs and groups tell them apart by port.

    Also run by constructs that build their own ThreeTierVpc from their ``app_port`` (with
    ``DEFAULT_WEB_PORTS``), so the error names them, before they build anything."""
    if app_port in web_ports:
        raise PropValidationError(owner, "app_port", app_port, f"It must differ from the web ports {list(web_ports)}.")


def _blocked_networks(
    vpc_network: ipaddress.IPv4Network,
    web_networks: Sequence[ipaddress.IPv4Network],
    blocked_cidrs: Sequence[str],
) -> tuple[ipaddress.IPv4Network, ...]:
    networks = tuple(parse_ipv4_network(OWNER, "blocked_cidrs", c) for c in blocked_cidrs)
    for i, network in enumerate(networks):
        if network.overlaps(vpc_network):
            raise PropValidationError(
                OWNER, "blocked_cidrs", str(network), f"It overlaps the VPC's own cidr {vpc_network}."
            )
        for other in networks[:i]:
            if network.overlaps(other):
                raise PropValidationError(
                    OWNER, "blocked_cidrs", str(network), f"It overlaps {other}, also blocked: list each range once."
                )
        for web in web_networks:
            if web.subnet_of(network):
                raise PropValidationError(
                    OWNER,
                    "blocked_cidrs",
                    str(network),
                    f"It blocks all of web_ingress_cidrs entry {web}; remove one of the two.",
                )
    return networks
