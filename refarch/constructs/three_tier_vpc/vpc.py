"""A three-tier VPC: web (public), app (private, egress through NAT) and db (isolated) tiers.

Security groups are the room locks (stateful, allow-only, chained web -> app -> db); network
ACLs are the gates of each floor (stateless, ordered, allow and deny, so every allowed flow
needs a rule for its return traffic too). Both are derived from the subnets the VPC actually
gets, never from hand-copied CIDRs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Annotations, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct
from typing_extensions import Unpack

from refarch.constructs._props import document_props, read_props
from refarch.constructs._validation import check_port
from refarch.constructs.three_tier_vpc import acls, flows
from refarch.constructs.three_tier_vpc.checks import check_props
from refarch.constructs.three_tier_vpc.endpoints import build_interface_endpoints
from refarch.constructs.three_tier_vpc.flow_logs import build_flow_logs
from refarch.constructs.three_tier_vpc.monitoring import build_vpc_operations_view
from refarch.constructs.three_tier_vpc.props import OWNER, ThreeTierVpcProps
from refarch.constructs.three_tier_vpc.security_groups import chain_security_groups
from refarch.constructs.three_tier_vpc.subnets import build_vpc
from refarch.constructs.three_tier_vpc.tiers import Tier

if TYPE_CHECKING:
    from refarch.testing import Network


@document_props(ThreeTierVpcProps)
class ThreeTierVpc(Construct):
    """A VPC with web, app and db tiers across AZs, secured in depth.

    Example::

        network = ThreeTierVpc(self, "Network", max_azs=3, app_port=8080, db_port=5432)
        my_service.connections.allow_to(network.db.connections, ec2.Port.tcp(5432))
    """

    def __init__(self, scope: Construct, id: str, **props: Unpack[ThreeTierVpcProps]) -> None:
        """Build the VPC, its tiers, flow logs, endpoints, alarms and dashboard (props checked first)."""
        p = read_props(OWNER, ThreeTierVpcProps, props)
        layout = check_props(scope, p)
        super().__init__(scope, id)
        if layout.az_count < 2:
            Annotations.of(self).add_warning_v2(
                "refarch:ThreeTierVpc:SingleAz",
                "ThreeTierVpc spans one AZ: an AZ outage takes every tier down. Use at least 2 AZs in production.",
            )
        #: Number of AZs the tiers span.
        self.az_count = layout.az_count
        #: The VPC's IPv4 range, as a literal.
        self.cidr = str(layout.network)
        self.app_port = p["app_port"]
        self.db_port = p["db_port"]
        self.web_ports = tuple(p["web_ports"])
        self.blocked_cidrs = tuple(str(n) for n in layout.blocked_networks)

        self.vpc = build_vpc(self, p, layout)
        groups = chain_security_groups(
            self,
            self.vpc,
            web_networks=layout.web_networks,
            web_ports=self.web_ports,
            app_port=self.app_port,
            db_port=self.db_port,
        )
        self.web, self.app, self.db = acls.build_tiers(self, self.vpc, groups)
        acls.open_network_acls(
            self.web,
            self.app,
            self.db,
            web_networks=layout.web_networks,
            blocked=layout.blocked_networks,
            web_ports=self.web_ports,
            app_port=self.app_port,
            db_port=self.db_port,
        )

        self.encryption_key: kms.IKey | None = None
        self.flow_log_group: logs.LogGroup | None = None
        self.flow_log: ec2.FlowLog | None = None
        own_key = None  # the flow-log key, when this construct made it: the alarm topic may use it too
        if p["flow_logs"]:
            flow_logs = build_flow_logs(
                self,
                self.vpc,
                encryption_key=p["encryption_key"],
                log_retention=p["log_retention"],
                removal_policy=p["removal_policy"],
            )
            self.encryption_key, own_key = flow_logs.encryption_key, flow_logs.own_key
            self.flow_log_group, self.flow_log = flow_logs.log_group, flow_logs.flow_log

        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        if p["interface_endpoints"]:
            self.interface_endpoints = build_interface_endpoints(
                self, self.vpc, cidr=self.cidr, app=self.app, services=p["interface_endpoints"]
            )
        flows.declare_flows(self, layout.web_networks)

        view = build_vpc_operations_view(
            self,
            self.vpc,
            alarm_topic=p["alarm_topic"],
            dashboard=p["dashboard"],
            flow_log_group=self.flow_log_group,
            interface_endpoints=self.interface_endpoints,
            endpoint_services=p["interface_endpoints"],
            removal_policy=p["removal_policy"],
            own_key=own_key,
        )
        self.alarms: dict[str, cloudwatch.Alarm] = view.alarms
        self.alarm_topic: sns.ITopic | None = view.alarm_topic
        self.dashboard, self.health_alarm = view.dashboard, view.health_alarm

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
        acls.open_db_tier_to_app_tier(self.app, self.db, 443)
        flows.declare_db_tier_to_endpoints(self)

    def allow_app_tier_to_db_port(self, port: int) -> None:
        """Open one more database port from the app tier to the db tier, like ``db_port``.

        For a db tier that holds databases on different ports (say MySQL on ``db_port`` and a
        Redshift workgroup on 5439): call it before building the second database, which checks
        that its port is open. Opens the app tier's security group to the db tier's, the app ACL's
        outbound and the db ACL's inbound entries (the replies are already open for ``db_port``),
        and declares the flow for the network check.
        """
        check_port(OWNER, "port", port)
        if port == self.db_port:
            return
        self.app.security_group.connections.allow_to(
            self.db.security_group, ec2.Port.tcp(port), f"App tier to the db port {port}"
        )
        acls.open_app_tier_to_db_tier(self.app, self.db, port)
        flows.declare_db_port(self, port)

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
