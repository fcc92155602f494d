"""What the tiers promise the network check (``refarch.testing.check_flows``): which flows are open, which closed."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from refarch.constructs.three_tier_vpc.props import ANYWHERE
from refarch.constructs.three_tier_vpc.tiers import Tier
from refarch.contracts.flows import forbid_flow, hosts, require_flow

if TYPE_CHECKING:
    from refarch.constructs.three_tier_vpc.vpc import ThreeTierVpc


def _tier_hosts(tier: Tier) -> dict[str, Any]:
    return hosts(f"{tier.name.lower()} tier", tier.subnets, [tier.security_group])


def declare_flows(network: ThreeTierVpc, web_networks: Sequence[ipaddress.IPv4Network]) -> None:
    """The chain web -> app -> db is open, every shortcut around it closed."""
    web, app, db = (_tier_hosts(t) for t in network.tiers)
    anywhere_in = {t.name: hosts(f"any host in the {t.name.lower()} tier", t.subnets) for t in network.tiers}
    for source in web_networks:
        for port in network.web_ports:
            require_flow(network, source=str(source), destination=web, port=port, reason="clients to the web tier")
    require_flow(network, source=web, destination=app, port=network.app_port, reason="web tier to the app port")
    require_flow(network, source=app, destination=db, port=network.db_port, reason="app tier to the db port")
    for name, endpoint in network.interface_endpoints.items():
        require_flow(network, source=app, destination=endpoint, port=443, reason=f"app tier to the {name} endpoint")
    closed = (
        (ANYWHERE, "App", network.app_port, "the internet must not reach the app port"),
        (ANYWHERE, "Db", network.db_port, "the internet must not reach the database port"),
        ("Web", "Db", network.db_port, "the web tier must not reach the database port"),
    )
    # The db tier's hosts answer the app tier on ephemeral ports, and may call the endpoints there: the
    # stateless ACLs cannot close the app port to them without closing those replies, so the security
    # groups do (defence in depth ends at one layer here).
    forbid_flow(network, source=db, destination=app, port=network.app_port, reason="the db tier must not call the app")
    for source_name, target, port, reason in closed:
        forbid_flow(
            network,
            source=anywhere_in.get(source_name, source_name),
            destination=anywhere_in[target],
            port=port,
            reason=reason,
        )


def declare_db_port(network: ThreeTierVpc, port: int) -> None:
    """The app tier reaches one more database port in the db tier."""
    require_flow(
        network,
        source=_tier_hosts(network.app),
        destination=_tier_hosts(network.db),
        port=port,
        reason=f"app tier to the db port {port}",
    )


def declare_db_tier_to_endpoints(network: ThreeTierVpc) -> None:
    """The db tier calls every interface endpoint (databases that call AWS themselves)."""
    for name, endpoint in network.interface_endpoints.items():
        require_flow(
            network,
            source=_tier_hosts(network.db),
            destination=endpoint,
            port=443,
            reason=f"the db tier (Redshift with enhanced VPC routing) calls {name} through its endpoint",
        )
