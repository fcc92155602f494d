"""The checks of a two-region app (``failover``, ``standby_for``): every one runs before anything is built.

Two regions here means: no CloudFront (one distribution cannot front two regions whose ALBs each require
the secret origin header, and two distributions cannot share one alternate domain name), the records of
``domain_name`` as Route 53 failover records to each region's public ALB, and Aurora Global Database
across the two (a DynamoDB global table on customer keys would make the two regional stacks depend on
each other: each replica's key lives in the other stack).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_route53 as route53

from refarch.constructs.resilient_web_app.props import OWNER, DataLayer, ResilientWebAppProps
from refarch.errors import PropValidationError

if TYPE_CHECKING:
    from refarch.constructs.resilient_web_app import ResilientWebApp

#: Aurora Global Database needs memory-optimized instance classes (Aurora User Guide, "Configuration
#: requirements of an Amazon Aurora global database"): the db.r* and db.x* families.
GLOBAL_DATABASE_CLASS_FAMILIES = ("r", "x")


def check_two_regions(stack: Stack, p: ResilientWebAppProps) -> None:
    """``failover`` and ``standby_for`` against each other, the edge, the data layer and the primary app."""
    failover, standby_for = p["failover"], p["standby_for"]
    if standby_for is not None and failover is not route53.Failover.SECONDARY:
        raise PropValidationError(
            OWNER,
            "failover",
            failover,
            "standby_for makes this app the SECONDARY of a two-region pair: set failover=Failover.SECONDARY.",
        )
    if failover is None:
        return
    if p["cloudfront"]:
        raise PropValidationError(
            OWNER,
            "cloudfront",
            True,
            "A two-region app (failover) serves domain_name from each region's ALB behind Route 53 failover "
            "records: one CloudFront distribution cannot front both regions. Set cloudfront=False.",
        )
    if Token.is_unresolved(stack.region):
        raise PropValidationError(
            OWNER,
            "failover",
            failover,
            "Two-region apps are region-bound, and this stack's region is unresolved: give the stack "
            "env=Environment(account=..., region=...).",
        )
    if p["data_layer"] is DataLayer.DYNAMODB:
        raise PropValidationError(
            OWNER,
            "data_layer",
            p["data_layer"],
            "A two-region app keeps its data in Aurora Global Database; a DynamoDB global table on customer "
            "keys would make the two regional stacks depend on each other. Use DataLayer.AURORA_POSTGRESQL or "
            "AURORA_MYSQL.",
        )
    check_global_database_class(p["database_instance_type"])
    if failover is route53.Failover.SECONDARY:
        if standby_for is None:
            raise PropValidationError(
                OWNER,
                "standby_for",
                None,
                "A SECONDARY needs the primary region's ResilientWebApp (failover=PRIMARY) whose global database "
                "it joins: pass it as standby_for.",
            )
        check_primary(stack, p, standby_for)


def check_global_database_class(instance_type: ec2.InstanceType | None) -> None:
    if instance_type is None:
        return
    family = instance_type.to_string().split(".")[0]
    if not family.startswith(GLOBAL_DATABASE_CLASS_FAMILIES):
        raise PropValidationError(
            OWNER,
            "database_instance_type",
            instance_type.to_string(),
            "Aurora Global Database needs a memory-optimized instance class (db.r* or db.x*), such as r6g.large.",
        )


def check_primary(stack: Stack, p: ResilientWebAppProps, standby_for: Any) -> None:
    """The primary app of a SECONDARY: a PRIMARY, in another region of the same account, the same data
    layer, domain and zone, and no standby yet (Route 53 answers one SECONDARY per name)."""
    # Imported here: the package imports this module, so the class exists once the package has loaded.
    from refarch.constructs.resilient_web_app import ResilientWebApp

    if not isinstance(standby_for, ResilientWebApp):
        raise PropValidationError(
            OWNER,
            "standby_for",
            standby_for.node.path,
            "Allowed: the primary region's ResilientWebApp.",
        )
    primary: ResilientWebApp = standby_for
    primary_stack = Stack.of(primary)
    if primary.failover is not route53.Failover.PRIMARY:
        raise PropValidationError(
            OWNER,
            "standby_for",
            primary.node.path,
            f"It has failover={primary.failover!r}: the app a SECONDARY stands by for must have "
            "failover=Failover.PRIMARY.",
        )
    if primary_stack.region == stack.region:
        raise PropValidationError(
            OWNER,
            "standby_for",
            primary.node.path,
            f"It is in {stack.region}, this stack's region too: a second region equal to the first survives no "
            "regional outage. Put this stack in another region.",
        )
    accounts = (primary_stack.account, stack.account)
    if not any(Token.is_unresolved(a) for a in accounts) and accounts[0] != accounts[1]:
        raise PropValidationError(
            OWNER,
            "standby_for",
            primary.node.path,
            f"It is in account {accounts[0]}, this stack in {accounts[1]}: aws-cdk-lib's cross-region references "
            "work within one account.",
        )
    _check_same(primary, p)
    if primary.standby is not None:
        raise PropValidationError(
            OWNER,
            "standby_for",
            primary.node.path,
            f"It already has a standby ({primary.standby.node.path}); Route 53 answers one SECONDARY record per name.",
        )


def _check_same(primary: ResilientWebApp, p: ResilientWebAppProps) -> None:
    if primary.data_layer is not p["data_layer"]:
        raise PropValidationError(
            OWNER,
            "data_layer",
            p["data_layer"],
            f"The primary {primary.node.path} uses {primary.data_layer!r}: a global database has one engine.",
        )
    if primary.domain_name != p["domain_name"]:
        raise PropValidationError(
            OWNER,
            "domain_name",
            p["domain_name"],
            f"The primary {primary.node.path} serves {primary.domain_name!r}: failover records pair one name.",
        )
    zone, primary_zone = p["hosted_zone"], primary.hosted_zone
    assert zone is not None and primary_zone is not None  # both have a domain_name, so a zone (checked)
    for attribute in ("zone_name", "hosted_zone_id"):
        mine, theirs = getattr(zone, attribute), getattr(primary_zone, attribute)
        if not Token.is_unresolved(mine) and not Token.is_unresolved(theirs) and mine != theirs:
            raise PropValidationError(
                OWNER,
                "hosted_zone",
                mine,
                f"The primary {primary.node.path} has its records in zone {attribute}={theirs!r}: both regions' "
                "failover records live in one zone.",
            )
