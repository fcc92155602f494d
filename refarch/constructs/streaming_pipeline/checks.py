"""Checks of ``StreamingPipeline`` that need several props or the network, run after ``read_props`` and
before anything is built; :func:`place` also says where each part goes.

Every check raises :class:`PropValidationError` naming the prop and showing the bad value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kinesis as kinesis

from refarch.constructs._network_checks import check_min_azs, db_tier_admits, ivpc_of, network_of, selected
from refarch.constructs.streaming_pipeline.catalog import RESULTS_PREFIX
from refarch.constructs.streaming_pipeline.props import StreamingPipelineProps
from refarch.constructs.streaming_pipeline.redshift import REDSHIFT_PORT
from refarch.constructs.three_tier_vpc import ThreeTierVpc
from refarch.errors import PropValidationError

OWNER = "StreamingPipeline"


@dataclass(frozen=True)
class Placement:
    """Where the pipeline's parts run: no VPC at all, or the functions' and Redshift's subnets."""

    vpc: ec2.IVpc | None = None
    function_subnets: ec2.SubnetSelection | None = None
    redshift_subnets: Sequence[ec2.ISubnet] = ()
    redshift_security_groups: Sequence[ec2.ISecurityGroup] | None = None


def check_props(p: StreamingPipelineProps) -> Placement:
    """Every check across props and against the network; returns where the parts go."""
    _check_stream(p)
    _check_lake(p)
    return place(p)


def _check_stream(p: StreamingPipelineProps) -> None:
    if p["shard_count"] is not None and p["stream_mode"] == kinesis.StreamMode.ON_DEMAND:
        raise PropValidationError(
            OWNER,
            "shard_count",
            p["shard_count"],
            "On-demand streams scale their shards themselves: set stream_mode=StreamMode.PROVISIONED "
            "or leave shard_count unset.",
        )
    age, retention = p["max_record_age"], p["stream_retention"]
    if _known(age, retention) and age.to_seconds() > retention.to_seconds():
        raise PropValidationError(
            OWNER,
            "max_record_age",
            age.to_human_string(),
            f"It must not exceed stream_retention ({retention.to_human_string()}): older records have "
            "left the stream already.",
        )


def _check_lake(p: StreamingPipelineProps) -> None:
    lake, quarantine = p["lake_prefix"], p["quarantine_prefix"]
    if lake.startswith(quarantine) or quarantine.startswith(lake):
        raise PropValidationError(
            OWNER,
            "quarantine_prefix",
            quarantine,
            f"It must not overlap lake_prefix ({lake!r}): queries of the lake would read quarantined records.",
        )
    for prop, prefix in (("lake_prefix", lake), ("quarantine_prefix", quarantine)):
        if prefix.startswith(RESULTS_PREFIX) or RESULTS_PREFIX.startswith(prefix):
            raise PropValidationError(
                OWNER, prop, prefix, f"It must not overlap {RESULTS_PREFIX!r}, where Athena writes query results."
            )
    infrequent, archive, expiration = p["infrequent_access_after"], p["archive_after"], p["lake_expiration"]
    if archive is not None and _known(archive, infrequent) and archive.to_days() <= infrequent.to_days():
        raise PropValidationError(
            OWNER,
            "archive_after",
            archive.to_human_string(),
            f"It must come after infrequent_access_after ({infrequent.to_human_string()}), or be None.",
        )
    last_move = archive if archive is not None else infrequent
    if expiration is not None and _known(expiration, last_move) and expiration.to_days() <= last_move.to_days():
        raise PropValidationError(
            OWNER,
            "lake_expiration",
            expiration.to_human_string(),
            f"It must come after the last storage-class transition ({last_move.to_human_string()}): S3 "
            "rejects a lifecycle rule that expires objects before it moves them.",
        )


def _known(*durations: Duration) -> bool:
    return not any(d.is_unresolved() for d in durations)


def place(p: StreamingPipelineProps) -> Placement:
    """The functions' subnets and Redshift's subnets and groups; a ThreeTierVpc gives its App and Db tiers."""
    vpc = p["vpc"]
    if vpc is None:
        if p["redshift"]:
            raise PropValidationError(
                OWNER,
                "vpc",
                None,
                "Redshift Serverless runs in a VPC: pass vpc= (a ThreeTierVpc or any IVpc), or redshift=False "
                "to keep only the lake path.",
            )
        return Placement()
    network = network_of(vpc)
    function_subnets = p["vpc_subnets"] or (network.app.subnet_selection if network is not None else None)
    if not p["redshift"]:
        return Placement(ivpc_of(vpc), function_subnets)
    selection = p["database_subnets"] or (network.db.subnet_selection if network is not None else None)
    subnets = selected(ivpc_of(vpc), selection)
    check_min_azs(OWNER, "database_subnets", subnets, 3, "A Redshift Serverless workgroup")
    if network is not None:
        _check_db_port(network, subnets)
    groups = p["redshift_security_groups"]
    if groups is None and network is not None and p["database_subnets"] is None:
        groups = [network.db.security_group]
    return Placement(ivpc_of(vpc), function_subnets, subnets, groups)


def _check_db_port(network: ThreeTierVpc, subnets: Sequence[ec2.ISubnet]) -> None:
    """Redshift in the Db tier listens on 5439: the tier's network ACL must admit it."""
    in_db_tier = {s.node.path for s in subnets} <= {s.node.path for s in network.db.subnets}
    if network.db_port != REDSHIFT_PORT and in_db_tier and not db_tier_admits(network, REDSHIFT_PORT):
        raise PropValidationError(
            OWNER,
            "vpc",
            network.node.path,
            f"Its Db tier opens db_port={network.db_port} (network ACLs and security groups), but the Redshift "
            f"workgroup in it listens on {REDSHIFT_PORT}: build the ThreeTierVpc with db_port={REDSHIFT_PORT}, "
            f"open the port first with {network.node.id}.allow_app_tier_to_db_port({REDSHIFT_PORT}), or put "
            "database_subnets elsewhere.",
        )
