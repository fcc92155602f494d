"""Checks across constructs: does a database, a workgroup or a service fit the network it is put on?

A construct that places a database in a VPC calls these before it builds anything, so a conflict
with the network (a port its ACLs do not open, too few AZs) is a :class:`PropValidationError`
naming the construct and prop, not a failed deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from aws_cdk import Stack, Token
from aws_cdk import aws_ec2 as ec2
from constructs import IConstruct

from refarch.constructs._validation import PropValidationError
from refarch.constructs.three_tier_vpc import ThreeTierVpc

#: RDS and Aurora reject a DB subnet group whose subnets are not in at least two AZs.
DATABASE_MIN_AZS = 2


def network_of(vpc: ec2.IVpc | ThreeTierVpc | None) -> ThreeTierVpc | None:
    """The ``ThreeTierVpc`` that ``vpc`` is (or whose ``.vpc`` it is), else ``None``."""
    if isinstance(vpc, ThreeTierVpc):
        return vpc
    if vpc is not None and isinstance(vpc.node.scope, ThreeTierVpc) and vpc.node.scope.vpc is vpc:
        return vpc.node.scope
    return None


def ivpc_of(vpc: ec2.IVpc | ThreeTierVpc) -> ec2.IVpc:
    """The ``ec2.IVpc`` of ``vpc``: a ``ThreeTierVpc``'s own ``vpc``, or ``vpc`` itself."""
    return vpc.vpc if isinstance(vpc, ThreeTierVpc) else vpc


def selection_kwargs(selection: ec2.SubnetSelection | None) -> dict[str, Any]:
    """``selection`` as keyword arguments of ``IVpc.select_subnets``; ``None`` is the isolated subnets."""
    if selection is None:
        return {"subnet_type": ec2.SubnetType.PRIVATE_ISOLATED}
    return {
        key: value
        for key, value in {
            "subnet_type": selection.subnet_type,
            "subnet_group_name": selection.subnet_group_name,
            "subnets": selection.subnets,
            "availability_zones": selection.availability_zones,
            "one_per_az": selection.one_per_az,
            "subnet_filters": selection.subnet_filters,
        }.items()
        if value is not None
    }


def selected(vpc: ec2.IVpc, selection: ec2.SubnetSelection | None) -> list[ec2.ISubnet]:
    """The subnets ``selection`` picks in ``vpc`` (``None``: its isolated subnets)."""
    return list(vpc.select_subnets(**selection_kwargs(selection)).subnets)


#: A tier of a ThreeTierVpc: ``app`` (compute) or ``db`` (databases).
TierName = Literal["app", "db"]

#: Where each tier is in a VPC that is not a ThreeTierVpc, and how errors say it.
_PLAIN_VPC_TIERS: dict[str, tuple[ec2.SubnetType, str]] = {
    "app": (ec2.SubnetType.PRIVATE_WITH_EGRESS, "private subnets with egress (a NAT gateway)"),
    "db": (ec2.SubnetType.PRIVATE_ISOLATED, "isolated subnets"),
}


@dataclass(frozen=True)
class TierSubnets:
    """The subnets of one tier, as :func:`tier_subnets` picked them."""

    #: The selection the user gave, else the tier's default.
    selection: ec2.SubnetSelection
    subnets: list[ec2.ISubnet]
    #: The prop an error about these subnets names: the subnet prop the user gave, else ``vpc``.
    prop: str


def default_tier_selection(vpc: ec2.IVpc | ThreeTierVpc | None, tier: TierName) -> ec2.SubnetSelection:
    """A ThreeTierVpc's (or its ``vpc``'s) App or Db tier; in any other VPC the private subnets with
    egress or the isolated subnets."""
    network = network_of(vpc)
    if network is not None:
        return (network.app if tier == "app" else network.db).subnet_selection
    return ec2.SubnetSelection(subnet_type=_PLAIN_VPC_TIERS[tier][0])


def tier_subnets(
    owner: str,
    vpc: ec2.IVpc | ThreeTierVpc,
    tier: TierName,
    *,
    prop: str,
    given: ec2.SubnetSelection | None,
) -> TierSubnets:
    """The subnets of ``tier`` in ``vpc``: ``given`` (the value of the subnet prop ``prop``), else the
    tier's default (:func:`default_tier_selection`).

    Raises PropValidationError when the selection picks no subnet, naming ``prop`` when the user gave
    it and ``vpc`` when the default found nothing in the VPC they gave.
    """
    ivpc = ivpc_of(vpc)
    selection = given or default_tier_selection(vpc, tier)
    blamed, shown = (prop, selection_kwargs(given)) if given is not None else ("vpc", ivpc.node.path)
    kind = _PLAIN_VPC_TIERS[tier][1]
    hint = f"give {prop} that selects subnets of this VPC."
    try:
        subnets = selected(ivpc, selection)
    except RuntimeError as error:  # jsii: "There are no 'Isolated' subnet groups in this VPC"
        reason = str(error).split(": ", 1)[-1]
        raise PropValidationError(
            owner, blamed, shown, f"It picks no {kind} for {prop} in {ivpc.node.path!r} ({reason}): {hint}"
        ) from None
    if not subnets:
        raise PropValidationError(owner, blamed, shown, f"It picks no {kind} for {prop} in {ivpc.node.path!r}: {hint}")
    return TierSubnets(selection, subnets, blamed)


def placeholder_az_hint(scope: IConstruct) -> str:
    """Why a stack may have fewer AZs than asked for, and what to do: empty when that is not the case.

    With a region but no account, CDK cannot look the region's AZs up and gives the stack two
    placeholder AZs, whatever ``max_azs`` says.
    """
    stack = Stack.of(scope)
    if Token.is_unresolved(stack.region) or not Token.is_unresolved(stack.account):
        return ""
    return (
        f" Stack {stack.stack_name!r} has a region ({stack.region}) but no account, so CDK gives it only "
        "2 placeholder AZs: pass an account too (env=Environment(account=..., region=...), or "
        "cdk synth -c account=... -c region=...; the CLI looks the region's AZs up), or list the AZs "
        "(ThreeTierVpc(availability_zones=[...]))."
    )


def check_network_port(owner: str, prop: str, port: int, network: ThreeTierVpc | None) -> None:
    """A database on ``network``'s db tier must listen on a port the tier's network ACL admits:
    its ``db_port``, or one opened on the tier's ACL by hand before the database is built."""
    if network is None or network.db_port == port or db_tier_admits(network, port):
        return
    raise PropValidationError(
        owner,
        prop,
        port,
        f"The ThreeTierVpc {network.node.path!r} opens db_port={network.db_port} to its Db tier (network ACLs "
        f"and security groups), not {port}: build it with the database's port, give the database that port, "
        f"or open it first with {network.node.id}.allow_app_tier_to_db_port({port}).",
    )


def db_tier_admits(network: ThreeTierVpc, port: int) -> bool:
    """Whether an inbound ALLOW entry of the db tier's network ACL covers TCP ``port``, wherever in
    the app the entry was added (entries are matched by the ACL's ID token, so other stacks count)."""
    acl_id = network.db.network_acl.network_acl_id
    for construct in network.node.root.node.find_all():
        if (
            isinstance(construct, ec2.CfnNetworkAclEntry)
            and construct.network_acl_id == acl_id
            and not construct.egress
            and construct.rule_action == "allow"
        ):
            if construct.protocol == -1:
                return True
            ports = construct.port_range
            if (
                construct.protocol == 6
                and isinstance(ports, ec2.CfnNetworkAclEntry.PortRangeProperty)
                and (ports.from_ or 0) <= port <= (ports.to or 65535)
            ):
                return True
    return False


def check_database_network(
    owner: str,
    *,
    vpc: ec2.IVpc | ThreeTierVpc,
    subnets: ec2.SubnetSelection | None,
    subnets_prop: str,
    port: int,
    port_prop: str,
    multi_az: bool,
) -> None:
    """An RDS or Aurora database in ``subnets`` of ``vpc``: its port is the one a ThreeTierVpc's db
    tier opens, and its subnets span at least two AZs (RDS requires it of every DB subnet group;
    Multi-AZ puts the standby in the second one)."""
    network = network_of(vpc)
    ivpc = ivpc_of(vpc)
    chosen = selected(ivpc, subnets)
    if network is not None:
        db_tier = {s.node.path for s in network.db.subnets}
        if chosen and all(s.node.path in db_tier for s in chosen):
            check_network_port(owner, port_prop, port, network)
    check_database_azs(owner, subnets_prop, chosen, multi_az=multi_az)


def check_database_azs(owner: str, prop: str, subnets: list[ec2.ISubnet], *, multi_az: bool) -> None:
    """An RDS or Aurora database's ``subnets`` span at least two AZs: RDS rejects any DB subnet group
    in one AZ, and Multi-AZ puts the standby in the second one."""
    azs = {s.availability_zone for s in subnets}
    if len(azs) < DATABASE_MIN_AZS:
        standby = " A Multi-AZ database also needs a second AZ for its standby." if multi_az else ""
        hint = placeholder_az_hint(subnets[0]) if subnets else ""
        raise PropValidationError(
            owner,
            prop,
            sorted(s.node.path for s in subnets),
            f"They span {len(azs)} AZ(s); RDS needs a DB subnet group in at least {DATABASE_MIN_AZS} AZs.{standby} "
            f"Build the network across 2 or more AZs.{hint}",
        )


def check_min_azs(owner: str, prop: str, subnets: list[ec2.ISubnet], minimum: int, service: str) -> None:
    """``subnets`` lie in at least ``minimum`` distinct AZs (AZ tokens of agnostic stacks count as distinct)."""
    azs = {s.availability_zone for s in subnets}
    if len(subnets) < minimum or len(azs) < minimum:
        hint = placeholder_az_hint(subnets[0]) if subnets else ""
        raise PropValidationError(
            owner,
            prop,
            sorted(s.node.path for s in subnets),
            f"{service} needs at least {minimum} subnets in {minimum} distinct AZs; these are in {len(azs)}.{hint}",
        )
