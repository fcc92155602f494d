"""ThreeTierVpc's props, each written once: type, default, documentation and the checks of its value alone.

Checks that need several props, or the stack, are in :mod:`.checks`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Annotated, Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from typing_extensions import TypedDict

from refarch.constructs import _defaults
from refarch.constructs._dashboards import DashboardProp
from refarch.constructs._props import Check, Prop, described, each, matches, port, unique_items, whole_range
from refarch.constructs._validation import parse_ipv4_network
from refarch.constructs.three_tier_vpc.tiers import MAX_DENIES
from refarch.errors import PropValidationError

OWNER = "ThreeTierVpc"

#: The largest number of AZs a region offers (us-east-1 has 6).
MAX_AZS = 6

#: Prefix lengths AWS allows for a VPC and for its subnets.
VPC_PREFIXES = (16, 28)

ANYWHERE = "0.0.0.0/0"

#: The web tier's ports unless ``web_ports`` says otherwise: HTTP and HTTPS.
DEFAULT_WEB_PORTS = (80, 443)


class NatStrategy(enum.Enum):
    """How the app tier reaches the internet."""

    #: One NAT gateway per AZ: an AZ outage does not cut the others off. Highest cost.
    ONE_PER_AZ = "one-per-az"
    #: One NAT gateway shared by every AZ: cheaper, but egress fails with its AZ.
    SINGLE = "single"
    #: No NAT gateway: the app tier is isolated too and reaches AWS only through endpoints.
    NONE = "none"


def ipv4_cidr(minimum: int = 0, maximum: int = 32) -> Check:
    """An IPv4 network in CIDR notation, no host bits set, with a prefix length from ``minimum`` to ``maximum``."""

    def check(owner: str, prop: str, value: Any) -> None:
        network = parse_ipv4_network(owner, prop, value)
        if not minimum <= network.prefixlen <= maximum:
            raise PropValidationError(owner, prop, value, f"Allowed: a prefix length from /{minimum} to /{maximum}.")

    prefixes = f" from /{minimum} to /{maximum}" if (minimum, maximum) != (0, 32) else ""
    return described(check, f"an IPv4 CIDR{prefixes}")


def _not_everything(owner: str, prop: str, value: Any) -> None:
    if parse_ipv4_network(owner, prop, value).prefixlen == 0:
        raise PropValidationError(owner, prop, value, "Blocking 0.0.0.0/0 would cut off all traffic.")


def _at_most(count: int, items: str) -> Check:
    def check(owner: str, prop: str, value: Any) -> None:
        if len(value) > count:
            raise PropValidationError(owner, prop, list(value), f"Allowed: at most {count} {items}.")

    return described(check, f"at most {count} {items}")


def _one_endpoint_per_service(owner: str, prop: str, value: Any) -> None:
    names = [service.short_name for service in value]
    for name in names:
        if names.count(name) > 1:
            raise PropValidationError(owner, prop, names, f"Each service may appear once; {name!r} repeats.")


_AZ_NAME = matches(r"[a-z]{2}(-[a-z]+)+-\d+([a-z0-9-]*[a-z0-9])?[a-z]", "an AZ name such as 'eu-west-1a'")
_AZ_ID = matches(r"[a-z]{3,5}\d+(-[a-z0-9]+)*-[a-z]+\d+", "an AZ ID such as 'use1-az1'")
_MASK = whole_range(*VPC_PREFIXES)


class ThreeTierVpcProps(TypedDict, total=False):
    """The props of :class:`~refarch.constructs.three_tier_vpc.ThreeTierVpc`."""

    cidr: Annotated[
        str,
        Prop("IPv4 range of the VPC.", default="10.0.0.0/16", checks=(ipv4_cidr(*VPC_PREFIXES),)),
    ]
    max_azs: Annotated[
        int | None,
        Prop(
            "Number of AZs to span.",
            default=None,
            default_doc="3, or the number of explicit AZs",
            checks=(whole_range(1, MAX_AZS),),
        ),
    ]
    availability_zones: Annotated[
        Sequence[str] | None,
        Prop(
            "AZ names to use, for example ``['eu-west-1a', 'eu-west-1b']``; in a stack with a concrete region "
            "they must be that region's.",
            default=None,
            default_doc="the first ``max_azs`` AZs of the region",
            checks=(each(_AZ_NAME), unique_items, _at_most(MAX_AZS, "AZs")),
        ),
    ]
    availability_zone_ids: Annotated[
        Sequence[str] | None,
        Prop(
            "AZ IDs to use, for example ``['use1-az1', 'use1-az2']``. AZ names map to different physical zones "
            "in each account; IDs are the same everywhere, so VPCs of several accounts pinned to the same IDs "
            "share physical zones. Subnets are created with ``AvailabilityZoneId``; ``subnet.availability_zone`` "
            "then returns a placeholder, not the name.",
            default=None,
            default_doc="AZs chosen by name",
            checks=(each(_AZ_ID), unique_items, _at_most(MAX_AZS, "AZs")),
        ),
    ]
    web_subnet_mask: Annotated[int, Prop("Prefix length of each web (public) subnet.", default=24, checks=(_MASK,))]
    app_subnet_mask: Annotated[int, Prop("Prefix length of each app (private) subnet.", default=20, checks=(_MASK,))]
    db_subnet_mask: Annotated[int, Prop("Prefix length of each db (isolated) subnet.", default=24, checks=(_MASK,))]
    nat_strategy: Annotated[
        NatStrategy | None,
        Prop(
            "How many NAT gateways the app tier gets.",
            default=None,
            default_doc="``NatStrategy.ONE_PER_AZ``",
        ),
    ]
    nat_gateway_count: Annotated[
        int | None,
        Prop(
            "An exact number of NAT gateways (0 to the number of AZs), instead of ``nat_strategy``.",
            default=None,
            default_doc="from ``nat_strategy``",
            checks=(whole_range(0, MAX_AZS),),
        ),
    ]
    web_ingress_cidrs: Annotated[
        Sequence[str],
        Prop(
            "Networks allowed to reach the web tier on ``web_ports``.",
            default=(ANYWHERE,),
            default_doc="``('0.0.0.0/0',)`` (a public web tier)",
            checks=(each(ipv4_cidr()), unique_items),
        ),
    ]
    web_ports: Annotated[
        Sequence[int],
        Prop("TCP ports the web tier serves.", default=DEFAULT_WEB_PORTS, checks=(each(port), unique_items)),
    ]
    app_port: Annotated[
        int, Prop("TCP port the app tier listens on, reachable only from the web tier.", default=8080, checks=(port,))
    ]
    db_port: Annotated[
        int, Prop("TCP port of the database, reachable only from the app tier.", default=3306, checks=(port,))
    ]
    blocked_cidrs: Annotated[
        Sequence[str],
        Prop(
            "Networks denied everywhere (for example known malicious ranges). They become DENY entries of "
            "every network ACL, numbered before every ALLOW.",
            default=(),
            default_doc="none",
            checks=(each(ipv4_cidr()), each(_not_everything), _at_most(MAX_DENIES, "networks")),
            allow_empty=True,
        ),
    ]
    flow_logs: Annotated[bool, Prop("Log all VPC traffic to CloudWatch Logs.", default=True)]
    log_retention: Annotated[
        logs.RetentionDays,
        Prop("Retention of the flow log group.", default=_defaults.LOG_RETENTION, needs="flow_logs"),
    ]
    encryption_key: Annotated[
        kms.IKey | None,
        Prop(
            "Key that encrypts the flow log group; it must admit CloudWatch Logs.",
            default=None,
            default_doc="a new customer-managed key with rotation",
            needs="flow_logs",
        ),
    ]
    gateway_endpoints: Annotated[
        bool,
        Prop(
            "Add S3 and DynamoDB gateway endpoints to every subnet (free, and keeps that traffic off the NAT "
            "gateways).",
            default=True,
        ),
    ]
    interface_endpoints: Annotated[
        Sequence[ec2.InterfaceVpcEndpointAwsService],
        Prop(
            "AWS services to reach through interface endpoints in the app tier (for example "
            "``InterfaceVpcEndpointAwsService.SSM``).",
            default=(),
            default_doc="none",
            checks=(_one_endpoint_per_service,),
            allow_empty=True,
        ),
    ]
    removal_policy: Annotated[
        RemovalPolicy,
        Prop(
            "What happens to the flow log group, its key and the alarm topic when removed from the stack.",
            default=_defaults.DATA_REMOVAL_POLICY,
        ),
    ]
    vpc_name: Annotated[str | None, Prop("Name tag of the VPC.", default=None, default_doc="the construct path")]
    alarm_topic: Annotated[
        sns.ITopic | None,
        Prop(
            "SNS topic the alarms (one per NAT gateway) and the health alarm notify.",
            default=None,
            default_doc="a new encrypted topic when there is a NAT gateway (under the flow-log key this "
            "construct made, else a new key)",
        ),
    ]
    dashboard: DashboardProp
