"""Network flows a construct needs open, and flows that must stay closed.

A construct knows which of its parts must talk (the NLB to the service port, from every AZ) and
which must never be reachable (the database port from the web tier). It says so with
:func:`require_flow` and :func:`forbid_flow`; ``refarch.testing.check_flows`` then holds the
synthesized route tables, network ACLs and security groups to every declaration.

An end of a flow is one of:

- a resource in a VPC (an L2 construct or its ``CfnResource``: function, database, Auto Scaling
  group, load balancer, interface endpoint, Redshift workgroup),
- :func:`hosts` in some subnets, optionally behind given security groups (a tier, or a function
  that lives in a nested application, such as the secret rotation function),
- a CIDR string (``"0.0.0.0/0"`` is the internet),
- :func:`aws_service`: an AWS service, through its interface endpoint if the VPC has one,
- :func:`vpc_link` of a Network Load Balancer: what a VPC Link (PrivateLink) delivers to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnResource, Stack, Token
from aws_cdk import aws_ec2 as ec2
from constructs import IConstruct

from refarch.contracts import declare

#: The declaration kind (metadata type ``refarch:contract:flow``).
FLOW_KIND = "flow"

#: One end of a flow (see the module docstring).
FlowEnd = IConstruct | str | dict[str, Any]


def require_flow(scope: IConstruct, *, source: FlowEnd, destination: FlowEnd, port: int, reason: str) -> None:
    """Declare that TCP ``port`` of ``destination`` must be reachable from ``source``, from every AZ."""
    _declare(scope, "open", source, destination, port, reason)


def forbid_flow(scope: IConstruct, *, source: FlowEnd, destination: FlowEnd, port: int, reason: str) -> None:
    """Declare that TCP ``port`` of ``destination`` must not be reachable from ``source`` on any path."""
    _declare(scope, "closed", source, destination, port, reason)


def hosts(
    name: str, subnets: Sequence[ec2.ISubnet], security_groups: Sequence[ec2.ISecurityGroup] | None = None
) -> dict[str, Any]:
    """Any host in ``subnets``: behind ``security_groups``, or, when None, with a group that lets anything
    out and in (so only the network ACLs and the other end's groups decide)."""
    return {
        "name": name,
        "subnets": [subnet.subnet_id for subnet in subnets],
        "security_groups": None if security_groups is None else [group.security_group_id for group in security_groups],
    }


def aws_service(name: str) -> dict[str, Any]:
    """An AWS service by its endpoint short name (``kinesis-streams``, ``secretsmanager``, ``s3``): its
    interface endpoint when the network has one, else its public addresses through the routes."""
    return {"service": name}


def vpc_link(load_balancer: IConstruct) -> dict[str, Any]:
    """What a VPC Link (PrivateLink) delivers to ``load_balancer``."""
    return {"vpc_link": _logical_id(load_balancer)}


def _declare(scope: IConstruct, expect: str, source: FlowEnd, destination: FlowEnd, port: int, reason: str) -> None:
    if Token.is_unresolved(port) or not 0 < port < 65536:
        raise ValueError(f"flow port must be a concrete TCP port (1-65535), got {port!r}")
    declare(
        scope,
        FLOW_KIND,
        {"expect": expect, "source": _end(source), "destination": _end(destination), "port": port, "reason": reason},
    )


def _end(end: FlowEnd) -> dict[str, Any]:
    if isinstance(end, dict):
        return end
    if isinstance(end, str):
        return {"cidr": end}
    return {"resource": _logical_id(end)}


def _logical_id(construct: IConstruct) -> str:
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} is not a CloudFormation resource (nor an L2 with one)")
    return Stack.of(resource).get_logical_id(resource)


__all__ = ["FLOW_KIND", "FlowEnd", "aws_service", "forbid_flow", "hosts", "require_flow", "vpc_link"]
