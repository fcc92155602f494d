"""A three-tier VPC: web (public), app (private, egress through NAT) and db (isolated) tiers.

Security groups are the room locks (stateful, allow-only, chained web -> app -> db); network
ACLs are the gates of each floor (stateless, ordered, allow and deny, so every allowed flow
needs a rule for its return traffic too). Both are derived from the subnets the VPC actually
gets, never from hand-copied CIDRs.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import Annotations, Fn, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

if TYPE_CHECKING:
    from refarch.testing import Network

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders, _dashboards, _defaults
from refarch.constructs._validation import (
    PropValidationError,
    check_exclusive,
    check_not_empty,
    check_port,
    check_unique,
    check_whole_range,
    parse_ipv4_network,
)
from refarch.constructs.three_tier_vpc_monitoring import build_nat_alarms, vpc_panels
from refarch.contracts.flows import forbid_flow, hosts, require_flow

_OWNER = "ThreeTierVpc"

#: Ports the stateless ACLs open for return traffic. 1024-65535 covers the ephemeral ranges
#: of Linux, Windows, NAT gateways and load balancers (AWS's recommendation for NACLs).
EPHEMERAL_PORTS = (1024, 65535)

#: Ports the app tier may use to reach the internet through the NAT gateways, and AWS
#: services through the gateway and interface endpoints.
APP_EGRESS_PORTS = (443,)

#: Rule numbering. Denies come first (100, 110, ...), allows from 1000 in steps of 100, so a
#: user can insert rules of their own between any two.
_DENY_FIRST, _DENY_STEP = 100, 10
_ALLOW_FIRST, _ALLOW_STEP = 1000, 100
_MAX_DENIES = (_ALLOW_FIRST - _DENY_FIRST) // _DENY_STEP
_MAX_RULE = 32_767

#: Entries per ACL and direction that AWS allows by default (the quota can be raised to 40).
_NACL_ENTRY_QUOTA = 20

_ANYWHERE = "0.0.0.0/0"


class NatStrategy(enum.Enum):
    """How the app tier reaches the internet."""

    #: One NAT gateway per AZ: an AZ outage does not cut the others off. Highest cost.
    ONE_PER_AZ = "one-per-az"
    #: One NAT gateway shared by every AZ: cheaper, but egress fails with its AZ.
    SINGLE = "single"
    #: No NAT gateway: the app tier is isolated too and reaches AWS only through endpoints.
    NONE = "none"


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
        first, step, limit = (
            (_ALLOW_FIRST, _ALLOW_STEP, _MAX_RULE) if allow else (_DENY_FIRST, _DENY_STEP, _ALLOW_FIRST)
        )
        rule = self._next.get((direction, allow), first)
        if rule >= limit:
            raise PropValidationError(
                _OWNER, "network ACL entries", self.network_acl.node.path, f"No rule number left below {limit}."
            )
        self._next[(direction, allow)] = rule + step
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
        if self._count[direction] == _NACL_ENTRY_QUOTA + 1:
            Annotations.of(self.network_acl).add_warning_v2(
                "refarch:ThreeTierVpc:NaclQuota",
                f"{self.network_acl.node.path} has more than {_NACL_ENTRY_QUOTA} entries in one direction; the "
                f"default quota is {_NACL_ENTRY_QUOTA} (raise it to at most 40 through Service Quotas, or block "
                "fewer CIDRs).",
            )
        return entry


class ThreeTierVpc(Construct):
    """A VPC with web, app and db tiers across AZs, secured in depth.

    Example::

        network = ThreeTierVpc(self, "Network", max_azs=3, app_port=8080, db_port=5432)
        my_service.connections.allow_to(network.db.connections, ec2.Port.tcp(5432))
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cidr: str = "10.0.0.0/16",
        max_azs: int | None = None,
        availability_zones: Sequence[str] | None = None,
        availability_zone_ids: Sequence[str] | None = None,
        web_subnet_mask: int = 24,
        app_subnet_mask: int = 20,
        db_subnet_mask: int = 24,
        nat_strategy: NatStrategy | None = None,
        nat_gateway_count: int | None = None,
        web_ingress_cidrs: Sequence[str] = (_ANYWHERE,),
        web_ports: Sequence[int] = (80, 443),
        app_port: int = 8080,
        db_port: int = 3306,
        blocked_cidrs: Sequence[str] = (),
        flow_logs: bool = True,
        flow_log_retention: logs.RetentionDays | None = None,
        encryption_key: kms.IKey | None = None,
        gateway_endpoints: bool = True,
        interface_endpoints: Sequence[ec2.InterfaceVpcEndpointAwsService] = (),
        removal_policy: RemovalPolicy = _defaults.DATA_REMOVAL_POLICY,
        vpc_name: str | None = None,
        alarm_topic: sns.ITopic | None = None,
        dashboard: bool | str = True,
    ) -> None:
        """
        :param cidr: IPv4 range of the VPC, /16 to /28. Default: ``"10.0.0.0/16"``
        :param max_azs: Number of AZs to span. Default: - 3, or the number of explicit AZs
        :param availability_zones: AZ names to use, for example ``["eu-west-1a", "eu-west-1b"]``.
            Needs a stack with a concrete region. Default: - the first ``max_azs`` AZs of the region
        :param availability_zone_ids: AZ IDs to use, for example ``["use1-az1", "use1-az2"]``. AZ names
            map to different physical zones in each account; IDs are the same everywhere, so VPCs of
            several accounts pinned to the same IDs share physical zones. Subnets are created with
            ``AvailabilityZoneId``; ``subnet.availability_zone`` then returns a placeholder, not the name.
            Default: - AZs chosen by name
        :param web_subnet_mask: Prefix length of each web (public) subnet. Default: ``24``
        :param app_subnet_mask: Prefix length of each app (private) subnet. Default: ``20``
        :param db_subnet_mask: Prefix length of each db (isolated) subnet. Default: ``24``
        :param nat_strategy: How many NAT gateways the app tier gets. Default: ``NatStrategy.ONE_PER_AZ``
        :param nat_gateway_count: An exact number of NAT gateways (1 to the number of AZs), instead of
            ``nat_strategy``. Default: - from ``nat_strategy``
        :param web_ingress_cidrs: Networks allowed to reach the web tier on ``web_ports``.
            Default: ``("0.0.0.0/0",)`` (a public web tier)
        :param web_ports: TCP ports the web tier serves. Default: ``(80, 443)``
        :param app_port: TCP port the app tier listens on, reachable only from the web tier. Default: ``8080``
        :param db_port: TCP port of the database, reachable only from the app tier. Default: ``3306``
        :param blocked_cidrs: Networks denied everywhere (for example known malicious ranges). They become
            DENY entries of every network ACL, numbered before every ALLOW. Default: - none
        :param flow_logs: Log all VPC traffic to CloudWatch Logs. Default: ``True``
        :param flow_log_retention: Retention of the flow log group. Default: ``RetentionDays.ONE_YEAR``
        :param encryption_key: Key that encrypts the flow log group; it must admit CloudWatch Logs.
            Default: - a new customer-managed key with rotation
        :param gateway_endpoints: Add S3 and DynamoDB gateway endpoints to every subnet (free, and keeps
            that traffic off the NAT gateways). Default: ``True``
        :param interface_endpoints: AWS services to reach through interface endpoints in the app tier
            (for example ``InterfaceVpcEndpointAwsService.SSM``). Default: - none
        :param removal_policy: What happens to the flow log group and its key when removed from the stack.
            Default: ``RemovalPolicy.RETAIN``
        :param vpc_name: Name tag of the VPC. Default: - the construct path
        :param alarm_topic: SNS topic the alarms (one per NAT gateway) and the health alarm notify.
            Default: - a new encrypted topic when there is a NAT gateway (under the flow-log key this
            construct made, else a new key)
        :param dashboard: ``False`` for no CloudWatch dashboard, or a name for it. Default: - a dashboard
            with a generated name
        """
        super().__init__(scope, id)
        _dashboards.check_alarm_topic_prop(_OWNER, alarm_topic)
        _dashboards.check_dashboard_prop(_OWNER, dashboard)
        check_exclusive(_OWNER, availability_zones=availability_zones, availability_zone_ids=availability_zone_ids)
        check_exclusive(_OWNER, nat_strategy=nat_strategy, nat_gateway_count=nat_gateway_count)
        check_not_empty(_OWNER, "availability_zones", availability_zones)
        check_not_empty(_OWNER, "availability_zone_ids", availability_zone_ids)
        explicit_azs = availability_zones or availability_zone_ids
        if explicit_azs is not None:
            check_unique(_OWNER, "availability_zones" if availability_zones else "availability_zone_ids", explicit_azs)
            if max_azs is not None and max_azs != len(explicit_azs):
                raise PropValidationError(
                    _OWNER,
                    "max_azs",
                    max_azs,
                    f"It must match the {len(explicit_azs)} explicit AZs given, or be left unset.",
                )
        az_count = len(explicit_azs) if explicit_azs is not None else (3 if max_azs is None else max_azs)
        check_whole_range(_OWNER, "max_azs", az_count, minimum=1, maximum=6)
        if az_count < 2:
            Annotations.of(self).add_warning_v2(
                "refarch:ThreeTierVpc:SingleAz",
                "ThreeTierVpc spans one AZ: an AZ outage takes every tier down. Use at least 2 AZs in production.",
            )

        network = parse_ipv4_network(_OWNER, "cidr", cidr)
        if not 16 <= network.prefixlen <= 28:
            raise PropValidationError(
                _OWNER, "cidr", cidr, "Allowed: a prefix length from /16 to /28 (the VPC limits)."
            )
        masks = {
            "web_subnet_mask": web_subnet_mask,
            "app_subnet_mask": app_subnet_mask,
            "db_subnet_mask": db_subnet_mask,
        }
        for prop, mask in masks.items():
            check_whole_range(_OWNER, prop, mask, minimum=max(16, network.prefixlen), maximum=28)
        _check_subnets_fit(network, list(masks.items()), az_count)

        strategy = nat_strategy or NatStrategy.ONE_PER_AZ
        if nat_gateway_count is not None:
            check_whole_range(_OWNER, "nat_gateway_count", nat_gateway_count, minimum=0, maximum=az_count)
        nat_count = nat_gateway_count if nat_gateway_count is not None else _nat_count(strategy, az_count)

        check_not_empty(_OWNER, "web_ingress_cidrs", web_ingress_cidrs)
        web_networks = [parse_ipv4_network(_OWNER, "web_ingress_cidrs", c) for c in web_ingress_cidrs]
        check_unique(_OWNER, "web_ingress_cidrs", [str(n) for n in web_networks])
        check_not_empty(_OWNER, "web_ports", web_ports)
        for port in web_ports:
            check_port(_OWNER, "web_ports", port)
        check_unique(_OWNER, "web_ports", web_ports)
        check_port(_OWNER, "app_port", app_port)
        check_port(_OWNER, "db_port", db_port)
        if app_port == db_port:
            raise PropValidationError(_OWNER, "db_port", db_port, f"It must differ from app_port ({app_port}).")
        if app_port in web_ports:
            raise PropValidationError(
                _OWNER, "app_port", app_port, f"It must differ from the web ports {list(web_ports)}."
            )
        blocked_networks = _check_blocked(network, web_networks, blocked_cidrs)

        self.az_count = az_count
        self.cidr = str(network)
        self.app_port = app_port
        self.db_port = db_port
        self.web_ports = tuple(web_ports)
        self.blocked_cidrs = tuple(str(n) for n in blocked_networks)

        app_subnet_type = ec2.SubnetType.PRIVATE_WITH_EGRESS if nat_count > 0 else ec2.SubnetType.PRIVATE_ISOLATED
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=vpc_name,
            ip_addresses=ec2.IpAddresses.cidr(str(network)),
            availability_zones=_availability_zones(self, availability_zones, availability_zone_ids, az_count),
            nat_gateways=nat_count,
            subnet_configuration=[
                # No public IPs on launch: the web tier is for load balancers and NAT gateways,
                # which get their own addresses; an instance placed here should not be exposed.
                ec2.SubnetConfiguration(
                    name="Web",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=web_subnet_mask,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(name="App", subnet_type=app_subnet_type, cidr_mask=app_subnet_mask),
                ec2.SubnetConfiguration(
                    name="Db", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=db_subnet_mask
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            }
            if gateway_endpoints
            else None,
            restrict_default_security_group=True,
        )
        if availability_zone_ids:
            _pin_subnets_to_az_ids(self.vpc, availability_zone_ids)
        for subnet in self.vpc.public_subnets:
            # On the public subnet: the finding is about its DefaultRoute, the only route it has.
            acknowledge(
                subnet,
                "The web tier is the VPC's public tier: its route to the internet gateway is what lets "
                "internet-facing load balancers and the NAT gateways work. No other tier has one.",
                "HIPAA.Security-VPCNoUnrestrictedRouteToIGW",
                "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
                "PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
            )

        web_sg, app_sg, db_sg = self._chain_security_groups(web_networks)
        subnets = {name: self.vpc.select_subnets(subnet_group_name=name).subnets for name in ("Web", "App", "Db")}
        self.web, self.app, self.db = (
            Tier(name, ec2.SubnetSelection(subnet_group_name=name), subnets[name], group, self._network_acl(name))
            for name, group in (("Web", web_sg), ("App", app_sg), ("Db", db_sg))
        )
        self._open_network_acls(web_networks, blocked_networks)

        self.encryption_key: kms.IKey | None = None
        self._own_key: kms.Key | None = None  # the flow-log key, when this construct made it
        self.flow_log_group: logs.LogGroup | None = None
        self.flow_log: ec2.FlowLog | None = None
        if flow_logs:
            self._add_flow_logs(encryption_key, flow_log_retention, removal_policy)

        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        if interface_endpoints:
            self._add_interface_endpoints(interface_endpoints)
        self._declare_flows(web_networks)
        self._add_operations_view(alarm_topic, dashboard, interface_endpoints, removal_policy)

    # -- security groups -------------------------------------------------------------------

    def _chain_security_groups(
        self, web_networks: Sequence[ipaddress.IPv4Network]
    ) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup, ec2.SecurityGroup]:
        """web <- allowed CIDRs; app <- web on the app port; db <- app on the db port."""
        web = ec2.SecurityGroup(
            self,
            "WebSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Web tier: web ports from the allowed networks",
        )
        app = ec2.SecurityGroup(
            self,
            "AppSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="App tier: app port from the web tier only",
        )
        db = ec2.SecurityGroup(
            self,
            "DbSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Db tier: db port from the app tier only",
        )
        for network in web_networks:
            for port in self.web_ports:
                web.add_ingress_rule(ec2.Peer.ipv4(str(network)), ec2.Port.tcp(port), f"Web port {port} from {network}")
        web.connections.allow_to(app, ec2.Port.tcp(self.app_port), "Web tier to the app port")
        app.connections.allow_to(db, ec2.Port.tcp(self.db_port), "App tier to the db port")
        for port in APP_EGRESS_PORTS:
            app.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(port), "HTTPS to AWS APIs through NAT and endpoints")
        if any(n.prefixlen == 0 for n in web_networks):
            acknowledge(
                web,
                "The web tier is public by design (web_ingress_cidrs defaults to 0.0.0.0/0) and admits only "
                "the web ports; pass web_ingress_cidrs to narrow it.",
                "AwsSolutions-EC23",
            )
        return web, app, db

    # -- network ACLs ----------------------------------------------------------------------

    def _network_acl(self, group: str) -> ec2.NetworkAcl:
        acl = ec2.NetworkAcl(
            self, f"{group}Nacl", vpc=self.vpc, subnet_selection=ec2.SubnetSelection(subnet_group_name=group)
        )
        acknowledge(
            acl,
            "Network ACLs are deliberate here: a stateless second layer under the security groups, "
            "with deny entries for blocked networks that security groups cannot express.",
            "AwsSolutions-VPC3",
        )
        return acl

    def _open_network_acls(
        self, web_networks: Sequence[ipaddress.IPv4Network], blocked: Sequence[ipaddress.IPv4Network]
    ) -> None:
        web, app, db = self.web, self.app, self.db
        ephemeral = ec2.AclTraffic.tcp_port_range(*EPHEMERAL_PORTS)
        for tier in (web, app, db):
            for network in blocked:
                tier.deny_inbound(str(network))
                tier.deny_outbound(str(network))

        for network in web_networks:
            for port in self.web_ports:
                web.allow_inbound(str(network), ec2.AclTraffic.tcp_port(port))
        # The NAT gateways live here: they receive the app tier's outbound HTTPS.
        for cidr in app.cidrs:
            for port in APP_EGRESS_PORTS:
                web.allow_inbound(cidr, ec2.AclTraffic.tcp_port(port))
        # Return traffic: internet servers answering the NAT gateways, app tier answering the web tier.
        web.allow_inbound(_ANYWHERE, ephemeral)
        for cidr in app.cidrs:
            web.allow_outbound(cidr, ec2.AclTraffic.tcp_port(self.app_port))
        for port in APP_EGRESS_PORTS:
            web.allow_outbound(_ANYWHERE, ec2.AclTraffic.tcp_port(port))
        # Return traffic to web clients, and to the app tier for connections it made through NAT.
        web.allow_outbound(_ANYWHERE, ephemeral)

        for cidr in web.cidrs:
            app.allow_inbound(cidr, ec2.AclTraffic.tcp_port(self.app_port))
        # Return traffic of the app tier's own outbound connections: HTTPS through NAT or to the S3 and
        # DynamoDB gateway endpoints (public service addresses, hence 0.0.0.0/0), and db answers.
        app.allow_inbound(_ANYWHERE, ephemeral)
        for cidr in web.cidrs:
            app.allow_outbound(cidr, ephemeral)
        for cidr in db.cidrs:
            app.allow_outbound(cidr, ec2.AclTraffic.tcp_port(self.db_port))
        for port in APP_EGRESS_PORTS:
            app.allow_outbound(_ANYWHERE, ec2.AclTraffic.tcp_port(port))

        for cidr in app.cidrs:
            db.allow_inbound(cidr, ec2.AclTraffic.tcp_port(self.db_port))
            db.allow_outbound(cidr, ephemeral)

    def _declare_flows(self, web_networks: Sequence[ipaddress.IPv4Network]) -> None:
        """What the tiers promise: the chain web -> app -> db is open, every shortcut around it closed."""
        web, app, db = (hosts(f"{t.name.lower()} tier", t.subnets, [t.security_group]) for t in self.tiers)
        anywhere_in = {t.name: hosts(f"any host in the {t.name.lower()} tier", t.subnets) for t in self.tiers}
        for network in web_networks:
            for port in self.web_ports:
                require_flow(self, source=str(network), destination=web, port=port, reason="clients to the web tier")
        require_flow(self, source=web, destination=app, port=self.app_port, reason="web tier to the app port")
        require_flow(self, source=app, destination=db, port=self.db_port, reason="app tier to the db port")
        for name, endpoint in self.interface_endpoints.items():
            require_flow(self, source=app, destination=endpoint, port=443, reason=f"app tier to the {name} endpoint")
        closed = (
            (_ANYWHERE, "App", self.app_port, "the internet must not reach the app port"),
            (_ANYWHERE, "Db", self.db_port, "the internet must not reach the database port"),
            ("Web", "Db", self.db_port, "the web tier must not reach the database port"),
        )
        # The db tier's hosts answer the app tier on ephemeral ports, and may call the endpoints there: the
        # stateless ACLs cannot close the app port to them without closing those replies, so the security
        # groups do (defence in depth ends at one layer here).
        forbid_flow(self, source=db, destination=app, port=self.app_port, reason="the db tier must not call the app")
        for source, target, port, reason in closed:
            forbid_flow(
                self,
                source=anywhere_in.get(source, source),
                destination=anywhere_in[target],
                port=port,
                reason=reason,
            )

    # -- flow logs and endpoints -----------------------------------------------------------

    def _add_flow_logs(
        self,
        encryption_key: kms.IKey | None,
        retention: logs.RetentionDays | None,
        removal_policy: RemovalPolicy,
    ) -> None:
        path = self.node.path
        if encryption_key is None:
            key = _builders.build_logs_key(
                self,
                "FlowLogKey",
                description=f"Encrypts the VPC flow logs of {path}",
                removal_policy=removal_policy,
            )
            encryption_key = self._own_key = key
        self.encryption_key = encryption_key
        self.flow_log_group = _builders.build_log_group(
            self, "FlowLogGroup", encryption_key=encryption_key, retention=retention, removal_policy=removal_policy
        )
        role = _builders.ManagedPolicyRole(
            self,
            "FlowLogRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description=f"VPC flow logs of {path}",
        )
        self.flow_log = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group, role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

    def _add_interface_endpoints(self, services: Sequence[ec2.InterfaceVpcEndpointAwsService]) -> None:
        endpoint_sg = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Interface endpoints: HTTPS from the app tier",
        )
        # From the VPC's own (concrete) CIDR, so any in-VPC client can reach AWS APIs privately;
        # the network ACLs still decide which tiers may (the db tier may not).
        endpoint_sg.add_ingress_rule(ec2.Peer.ipv4(self.cidr), ec2.Port.tcp(443), "HTTPS from inside the VPC")
        for service in services:
            name = _endpoint_id(service)
            self.interface_endpoints[service.short_name] = self.vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=self.app.subnet_selection,
                security_groups=[endpoint_sg],
                private_dns_enabled=True,
                open=False,
            )
        # The endpoint's regional DNS name resolves to its network interfaces in every AZ, so an app-tier
        # client also calls the interfaces in the other app subnets: that crosses the app ACL both ways.
        for cidr in self.app.cidrs:
            self.app.allow_inbound(cidr, ec2.AclTraffic.tcp_port(443))
            self.app.allow_outbound(cidr, ec2.AclTraffic.tcp_port_range(*EPHEMERAL_PORTS))

    # -- alarms and dashboard --------------------------------------------------------------

    def _add_operations_view(
        self,
        alarm_topic: sns.ITopic | None,
        dashboard: bool | str,
        interface_endpoints: Sequence[ec2.InterfaceVpcEndpointAwsService],
        removal_policy: RemovalPolicy,
    ) -> None:
        self.alarms = build_nat_alarms(self, self.vpc)
        # Without a NAT gateway nothing here alarms, and no topic is made for nothing.
        self.alarm_topic: sns.ITopic | None = alarm_topic
        if self.alarms:
            topic = alarm_topic or _dashboards.build_alarm_topic(
                self,
                "AlarmTopic",
                removal_policy=removal_policy,
                description=f"alarms of {self.node.path}",
                own_key=self._own_key,
            )
            action = cw_actions.SnsAction(topic)
            for alarm in self.alarms.values():
                alarm.add_alarm_action(action)
            self.alarm_topic = topic
        panels = vpc_panels(
            self.vpc,
            self.flow_log_group,
            self.interface_endpoints,
            {service.short_name: service.name for service in interface_endpoints},
        )
        self.dashboard, self.health_alarm = _dashboards.build_operations_view(
            self, dashboard=dashboard, title=self.node.path, panels=panels, alarms=self.alarms, topic=self.alarm_topic
        )

    # -- wiring more flows -----------------------------------------------------------------

    def allow_db_tier_to_endpoints(self) -> None:
        """Let the db tier reach the interface endpoints (in the app tier) over HTTPS.

        For databases that call AWS services themselves, such as Redshift with enhanced VPC routing
        reading Kinesis through its endpoint. Opens exactly that flow and its return traffic: in the
        db tier's security group, and in the db and app tiers' network ACLs (numbered by the tiers).
        """
        self.db.security_group.add_egress_rule(
            ec2.Peer.ipv4(self.cidr), ec2.Port.tcp(443), "HTTPS to interface endpoints"
        )
        ephemeral = ec2.AclTraffic.tcp_port_range(*EPHEMERAL_PORTS)
        https = ec2.AclTraffic.tcp_port(443)
        # db tier: HTTPS out, answers in; app tier: HTTPS in, answers out.
        for cidr in self.app.cidrs:
            self.db.allow_outbound(cidr, https)
            self.db.allow_inbound(cidr, ephemeral)
        for cidr in self.db.cidrs:
            self.app.allow_inbound(cidr, https)
            self.app.allow_outbound(cidr, ephemeral)
        for name, endpoint in self.interface_endpoints.items():
            require_flow(
                self,
                source=hosts("db tier", self.db.subnets, [self.db.security_group]),
                destination=endpoint,
                port=443,
                reason=f"the db tier (Redshift with enhanced VPC routing) calls {name} through its endpoint",
            )

    def allow_app_tier_to_db_port(self, port: int) -> None:
        """Open one more database port from the app tier to the db tier, like ``db_port``.

        For a db tier that holds databases on different ports (say MySQL on ``db_port`` and a
        Redshift workgroup on 5439): call it before building the second database, which checks
        that its port is open. Opens the app tier's security group to the db tier's, the app ACL's
        outbound and the db ACL's inbound entries (the replies are already open for ``db_port``),
        and declares the flow for the network check.
        """
        check_port(_OWNER, "port", port)
        if port == self.db_port:
            return
        self.app.security_group.connections.allow_to(
            self.db.security_group, ec2.Port.tcp(port), f"App tier to the db port {port}"
        )
        for cidr in self.db.cidrs:
            self.app.allow_outbound(cidr, ec2.AclTraffic.tcp_port(port))
        for cidr in self.app.cidrs:
            self.db.allow_inbound(cidr, ec2.AclTraffic.tcp_port(port))
        app, db = (hosts(f"{t.name.lower()} tier", t.subnets, [t.security_group]) for t in (self.app, self.db))
        require_flow(self, source=app, destination=db, port=port, reason=f"app tier to the db port {port}")

    # -- attributes ------------------------------------------------------------------------

    def reachability(self) -> Network:
        """The synthesized network of this VPC's stack, to ask what can reach what.

        Synthesizes the stack's app (or reuses its assembly) and reads the template back::

            network.reachability().can_reach("tier:Web", "tier:Db", 3306).closed   # True
            network.reachability().can_reach("0.0.0.0/0", "tier:Web", 443).open     # True

        For a network used by other stacks, pass all their outputs to
        ``refarch.testing.Network.from_templates``. ``refarch.testing.check_flows`` holds every flow the
        constructs declared (``require_flow``/``forbid_flow``) to it.
        """
        from refarch.testing import Network, from_stack  # the evaluator is test-time code: load it on demand

        return Network.from_templates([from_stack(Stack.of(self))])

    @property
    def vpc_id(self) -> str:
        """The ID of the VPC."""
        return self.vpc.vpc_id

    @property
    def tiers(self) -> tuple[Tier, Tier, Tier]:
        """The web, app and db tiers, in that order."""
        return (self.web, self.app, self.db)


def _nat_count(strategy: NatStrategy, az_count: int) -> int:
    return {NatStrategy.ONE_PER_AZ: az_count, NatStrategy.SINGLE: 1, NatStrategy.NONE: 0}[strategy]


def _check_subnets_fit(network: ipaddress.IPv4Network, masks: list[tuple[str, int]], az_count: int) -> None:
    """Replay the allocation ec2.Vpc makes (tier by tier, AZ by AZ, each block aligned to its size)."""
    cursor = int(network.network_address)
    end = int(network.broadcast_address) + 1
    for prop, mask in masks:
        size = 2 ** (32 - mask)
        for _ in range(az_count):
            cursor = -(-cursor // size) * size  # align up
            cursor += size
            if cursor > end:
                raise PropValidationError(
                    _OWNER,
                    prop,
                    mask,
                    f"{az_count} AZs x 3 tiers of subnets with masks "
                    f"{', '.join(f'{p}=/{m}' for p, m in masks)} do not fit in {network}: "
                    "use larger masks (smaller subnets), fewer AZs or a larger cidr.",
                )


def _check_blocked(
    vpc_network: ipaddress.IPv4Network,
    web_networks: Sequence[ipaddress.IPv4Network],
    blocked_cidrs: Sequence[str],
) -> list[ipaddress.IPv4Network]:
    networks = [parse_ipv4_network(_OWNER, "blocked_cidrs", c) for c in blocked_cidrs]
    if len(networks) > _MAX_DENIES:
        raise PropValidationError(
            _OWNER, "blocked_cidrs", list(blocked_cidrs), f"Allowed: at most {_MAX_DENIES} networks."
        )
    for i, network in enumerate(networks):
        if network.prefixlen == 0:
            raise PropValidationError(
                _OWNER, "blocked_cidrs", str(network), "Blocking 0.0.0.0/0 would cut off all traffic."
            )
        if network.overlaps(vpc_network):
            raise PropValidationError(
                _OWNER, "blocked_cidrs", str(network), f"It overlaps the VPC's own cidr {vpc_network}."
            )
        for other in networks[:i]:
            if network.overlaps(other):
                raise PropValidationError(
                    _OWNER, "blocked_cidrs", str(network), f"It overlaps {other}, also blocked: list each range once."
                )
        for web in web_networks:
            if web.subnet_of(network):
                raise PropValidationError(
                    _OWNER,
                    "blocked_cidrs",
                    str(network),
                    f"It blocks all of web_ingress_cidrs entry {web}; remove one of the two.",
                )
    return networks


def _availability_zones(
    scope: Construct, names: Sequence[str] | None, ids: Sequence[str] | None, count: int
) -> list[str] | None:
    if names:
        return list(names)
    if ids or Token.is_unresolved(Stack.of(scope).region):
        # An environment-agnostic stack only knows AZs as tokens, and the ec2.Vpc default caps it
        # at 2 of them; select the count asked for instead. With AZ IDs these are placeholders that
        # _pin_subnets_to_az_ids replaces.
        return [Fn.select(i, Fn.get_azs()) for i in range(count)]
    return list(Stack.of(scope).availability_zones[:count])


def _pin_subnets_to_az_ids(vpc: ec2.Vpc, az_ids: Sequence[str]) -> None:
    subnets = [*vpc.public_subnets, *vpc.private_subnets, *vpc.isolated_subnets]
    for subnet in subnets:
        index = vpc.availability_zones.index(subnet.availability_zone)
        cfn = subnet.node.default_child
        assert isinstance(cfn, ec2.CfnSubnet)
        cfn.add_property_deletion_override("AvailabilityZone")
        cfn.availability_zone_id = az_ids[index]


def _endpoint_id(service: ec2.InterfaceVpcEndpointAwsService) -> str:
    return "".join(part.capitalize() for part in service.short_name.replace("-", ".").split(".")) + "Endpoint"
