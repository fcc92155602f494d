"""PrivateApi's checks that need several props, the stack or the network.

``check_props`` runs right after ``read_props`` (which checked each prop on its own) and before the
construct adds anything to the tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from constructs import Construct

from refarch.constructs._network_checks import check_database_azs, check_network_port, network_of
from refarch.constructs._validation import is_token
from refarch.constructs.private_api.network import Placement, place
from refarch.constructs.private_api.props import ENGINE_PORTS, ApiAuthorization, PrivateApiProps
from refarch.constructs.three_tier_vpc.checks import check_app_port
from refarch.constructs.three_tier_vpc.props import DEFAULT_WEB_PORTS
from refarch.errors import PropValidationError

_OWNER = "PrivateApi"


@dataclass(frozen=True)
class Checked:
    """What the checks worked out on the way."""

    #: ``database_port``, or the engine's default port.
    database_port: int
    #: Where the tiers go in the given ``vpc``; None when the construct builds its own network.
    placement: Placement | None


def check_props(scope: Construct, p: PrivateApiProps) -> Checked:
    """Raise PropValidationError for the first combination of props that cannot work."""
    _check_authorization(p)
    _check_capacity(p)
    _check_storage(p)
    database_port = _check_database_port(p)
    _check_edge(scope, p)
    vpc = p["vpc"]
    if vpc is None:
        # The ThreeTierVpc built for this API serves the default web ports: app_port must not be one.
        check_app_port(_OWNER, p["app_port"], DEFAULT_WEB_PORTS)
        return Checked(database_port=database_port, placement=None)
    placement = place(vpc, p["vpc_subnets"], p["database_subnets"])
    database_prop = "database_subnets" if p["database_subnets"] is not None else "vpc"
    check_database_azs(_OWNER, database_prop, list(placement.db_subnets), multi_az=p["multi_az"])
    return Checked(database_port=database_port, placement=placement)


def _check_authorization(p: PrivateApiProps) -> None:
    authorization, user_pool = p["authorization"], p["user_pool"]
    if authorization is ApiAuthorization.COGNITO and user_pool is None:
        raise PropValidationError(
            _OWNER, "user_pool", None, "ApiAuthorization.COGNITO needs the user pool whose tokens it accepts."
        )
    if authorization is not ApiAuthorization.COGNITO and user_pool is not None:
        raise PropValidationError(
            _OWNER,
            "user_pool",
            user_pool.node.path,
            f"It is only used with ApiAuthorization.COGNITO, not {authorization}.",
        )


def _check_capacity(p: PrivateApiProps) -> None:
    minimum, maximum, desired = p["min_capacity"], p["max_capacity"], p["desired_capacity"]
    if is_token(minimum) or is_token(maximum):
        return
    if minimum > maximum:
        raise PropValidationError(_OWNER, "min_capacity", minimum, f"It must not exceed max_capacity ({maximum}).")
    if desired is not None and not is_token(desired) and not minimum <= desired <= maximum:
        raise PropValidationError(
            _OWNER, "desired_capacity", desired, f"Allowed: from min_capacity ({minimum}) to max_capacity ({maximum})."
        )


def _check_storage(p: PrivateApiProps) -> None:
    allocated, ceiling = p["allocated_storage_gib"], p["max_allocated_storage_gib"]
    if not is_token(allocated) and not is_token(ceiling) and ceiling < allocated:
        raise PropValidationError(
            _OWNER, "max_allocated_storage_gib", ceiling, f"It must be at least allocated_storage_gib ({allocated})."
        )


def _check_database_port(p: PrivateApiProps) -> int:
    """``database_port`` or the engine's; it differs from the app port, and a ThreeTierVpc's db tier admits it."""
    given = p["database_port"]
    port = given if given is not None else ENGINE_PORTS[p["engine"].engine_type]
    if port == p["app_port"]:
        raise PropValidationError(_OWNER, "database_port", port, f"It must differ from app_port ({p['app_port']}).")
    check_network_port(_OWNER, "database_port", port, network_of(p["vpc"]))
    return port


def _check_edge(scope: Construct, p: PrivateApiProps) -> None:
    """The custom domain: in its hosted zone, reachable without SigV4, with a certificate CloudFront can use."""
    domain_name, hosted_zone = p["domain_name"], p["hosted_zone"]
    if domain_name is None:
        return  # hosted_zone and the edge_* props need domain_name: read_props checked that
    if hosted_zone is None:
        raise PropValidationError(
            _OWNER, "hosted_zone", None, f"domain_name={domain_name!r} needs the hosted zone it belongs to."
        )
    zone_name = hosted_zone.zone_name
    if not is_token(domain_name) and not is_token(zone_name):
        zone = zone_name.rstrip(".")
        if domain_name != zone and not domain_name.endswith("." + zone):
            raise PropValidationError(_OWNER, "domain_name", domain_name, f"It is not in the hosted zone {zone!r}.")
    if p["authorization"] is ApiAuthorization.IAM:
        raise PropValidationError(
            _OWNER,
            "domain_name",
            domain_name,
            "The edge needs ApiAuthorization.COGNITO or NONE: SigV4 (IAM) signatures name the host, which "
            "CloudFront replaces with the API's own. Call the API's URL directly with IAM authorization.",
        )
    region = Stack.of(scope).region
    where = "an unresolved region" if is_token(region) else region
    if p["edge_certificate"] is None and (is_token(region) or region != "us-east-1"):
        raise PropValidationError(
            _OWNER,
            "edge_certificate",
            None,
            f"CloudFront takes certificates from us-east-1 and this stack is in {where}: "
            "pass a us-east-1 certificate for domain_name, or deploy the stack to us-east-1.",
        )
