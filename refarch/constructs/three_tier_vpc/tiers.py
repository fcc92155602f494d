"""A tier (web, app or db): its subnets, security group and network ACL, whose rule numbers it allocates."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Annotations
from aws_cdk import aws_ec2 as ec2

from refarch.errors import PropValidationError

#: Ports the stateless ACLs open for return traffic. 1024-65535 covers the ephemeral ranges
#: of Linux, Windows, NAT gateways and load balancers (AWS's recommendation for NACLs).
EPHEMERAL_PORTS = (1024, 65535)

#: Ports the app tier may use to reach the internet through the NAT gateways, and AWS
#: services through the gateway and interface endpoints.
APP_EGRESS_PORTS = (443,)

#: Rule numbering. Denies come first (100, 110, ...), allows from 1000 in steps of 100, so a
#: user can insert rules of their own between any two.
DENY_FIRST, DENY_STEP = 100, 10
ALLOW_FIRST, ALLOW_STEP = 1000, 100
#: Deny entries that fit below the first allow entry.
MAX_DENIES = (ALLOW_FIRST - DENY_FIRST) // DENY_STEP
_MAX_RULE = 32_767

#: Entries per ACL and direction that AWS allows by default (the quota can be raised to 40).
NACL_ENTRY_QUOTA = 20


class Tier:
    """The pieces of one tier, for wiring more resources into it.

    The tier owns its network ACL's rule numbers: entries are added through :meth:`allow_inbound`,
    :meth:`allow_outbound` (and the deny twins), each direction with its own allocator (denies from
    100 in steps of 10, allows from 1000 in steps of 100). Any number of constructs can therefore
    open flows in one tier without choosing numbers, and an entry asked for twice is made once.
    """

    def __init__(
        self,
        name: str,
        subnet_selection: ec2.SubnetSelection,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.SecurityGroup,
        network_acl: ec2.NetworkAcl,
    ) -> None:
        #: Name of the tier's subnet group ("Web", "App" or "Db").
        self.name = name
        #: Selects this tier's subnets, for any construct that takes ``vpc_subnets``.
        self.subnet_selection = subnet_selection
        #: The tier's subnets, one per AZ.
        self.subnets: Sequence[ec2.ISubnet] = subnets
        #: The tier's security group, already chained to its neighbours.
        self.security_group = security_group
        #: The tier's network ACL; add entries through the tier, not to it directly.
        self.network_acl = network_acl
        self._next: dict[tuple[ec2.TrafficDirection, bool], int] = {}
        self._entries: dict[tuple[object, ...], ec2.NetworkAclEntry] = {}
        self._count = {ec2.TrafficDirection.INGRESS: 0, ec2.TrafficDirection.EGRESS: 0}

    @property
    def connections(self) -> ec2.Connections:
        """The security group's connections, to allow more traffic in or out."""
        return self.security_group.connections

    @property
    def cidrs(self) -> list[str]:
        """The IPv4 CIDR of each subnet of the tier."""
        return [subnet.ipv4_cidr_block for subnet in self.subnets]

    def allow_inbound(self, cidr: str, traffic: ec2.AclTraffic) -> ec2.NetworkAclEntry:
        """Admit ``traffic`` from ``cidr`` into the tier's subnets (remember the replies: ACLs are stateless)."""
        return self._add(ec2.TrafficDirection.INGRESS, cidr, traffic, allow=True)

    def allow_outbound(self, cidr: str, traffic: ec2.AclTraffic) -> ec2.NetworkAclEntry:
        """Let ``traffic`` leave the tier's subnets for ``cidr``."""
        return self._add(ec2.TrafficDirection.EGRESS, cidr, traffic, allow=True)

    def deny_inbound(self, cidr: str, traffic: ec2.AclTraffic | None = None) -> ec2.NetworkAclEntry:
        """Deny ``traffic`` (default: all) from ``cidr``, before every allow entry."""
        return self._add(ec2.TrafficDirection.INGRESS, cidr, traffic or ec2.AclTraffic.all_traffic(), allow=False)

    def deny_outbound(self, cidr: str, traffic: ec2.AclTraffic | None = None) -> ec2.NetworkAclEntry:
        """Deny ``traffic`` (default: all) to ``cidr``, before every allow entry."""
        return self._add(ec2.TrafficDirection.EGRESS, cidr, traffic or ec2.AclTraffic.all_traffic(), allow=False)

    def _add(
        self, direction: ec2.TrafficDirection, cidr: str, traffic: ec2.AclTraffic, *, allow: bool
    ) -> ec2.NetworkAclEntry:
        config = traffic.to_traffic_config()
        ports = config.port_range
        identity = (
            direction,
            allow,
            cidr,
            config.protocol,
            ports.from_ if ports else None,
            ports.to if ports else None,
        )
        if identity in self._entries:
            return self._entries[identity]
        rule = self._next_rule(direction, allow)
        verb = "Allow" if allow else "Deny"
        way = "In" if direction == ec2.TrafficDirection.INGRESS else "Out"
        entry = self.network_acl.add_entry(
            f"{verb}{way}{rule}",
            cidr=ec2.AclCidr.ipv4(cidr),
            rule_number=rule,
            traffic=traffic,
            direction=direction,
            rule_action=ec2.Action.ALLOW if allow else ec2.Action.DENY,
        )
        self._entries[identity] = entry
        self._count[direction] += 1
        if self._count[direction] == NACL_ENTRY_QUOTA + 1:
            Annotations.of(self.network_acl).add_warning_v2(
                "refarch:ThreeTierVpc:NaclQuota",
                f"{self.network_acl.node.path} has more than {NACL_ENTRY_QUOTA} entries in one direction; the "
                f"default quota is {NACL_ENTRY_QUOTA} (raise it to at most 40 through Service Quotas, or block "
                "fewer CIDRs).",
            )
        return entry

    def _next_rule(self, direction: ec2.TrafficDirection, allow: bool) -> int:
        """The next free rule number of the allow or deny block in ``direction``."""
        first, step, limit = (ALLOW_FIRST, ALLOW_STEP, _MAX_RULE) if allow else (DENY_FIRST, DENY_STEP, ALLOW_FIRST)
        rule = self._next.get((direction, allow), first)
        if rule >= limit:
            raise PropValidationError(
                "ThreeTierVpc", "network ACL entries", self.network_acl.node.path, f"No rule number left below {limit}."
            )
        self._next[(direction, allow)] = rule + step
        return rule
