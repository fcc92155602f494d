"""Prop checks and defaults of ``StreamingPipeline`` (split from the construct to keep both readable).

Every check raises :class:`PropValidationError` naming the prop and showing the bad value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kinesis as kinesis

from refarch.constructs._network_checks import check_min_azs, db_tier_admits, network_of, selected
from refarch.constructs._validation import PropValidationError, check_duration_range, check_whole_range
from refarch.constructs.streaming_pipeline_catalog import RESULTS_PREFIX
from refarch.constructs.streaming_pipeline_redshift import REDSHIFT_PORT

_OWNER = "StreamingPipeline"

#: Largest ``EVENT_SCHEMA`` the function's environment can carry (Lambda allows 4 KB for all variables).
MAX_SCHEMA_BYTES = 3_000

#: Defaults of the Duration props (module-level: Duration objects are immutable).
DEFAULT_STREAM_RETENTION = Duration.hours(24)
DEFAULT_BATCHING_WINDOW = Duration.seconds(5)
DEFAULT_MAX_RECORD_AGE = Duration.hours(6)
DEFAULT_TIMEOUT = Duration.minutes(2)
DEFAULT_INFREQUENT_ACCESS_AFTER = Duration.days(30)
DEFAULT_ARCHIVE_AFTER = Duration.days(365)
DEFAULT_ITERATOR_AGE_THRESHOLD = Duration.minutes(5)

_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()=-]+)*/$")
_REDSHIFT_NAME = re.compile(r"^[a-z][a-z0-9-]{2,63}$")
_SQL_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,126}$")


#: Allowed range of each Duration prop (the service limits), built once.
_DURATION_BOUNDS = {
    "stream_retention": (Duration.hours(24), Duration.hours(8760)),
    "max_batching_window": (Duration.seconds(0), Duration.seconds(300)),
    "max_record_age": (Duration.seconds(60), Duration.days(7)),
    "timeout": (Duration.seconds(1), Duration.minutes(15)),
    "infrequent_access_after": (Duration.days(30), Duration.days(36_500)),
    "iterator_age_threshold": (Duration.minutes(1), Duration.days(7)),
}


def _check_duration(prop: str, value: Duration, default: Duration) -> None:
    """``check_duration_range`` against the prop's bounds, skipped for the prop's own default (valid by
    construction; each check costs several calls into the jsii runtime)."""
    if value is not default:
        minimum, maximum = _DURATION_BOUNDS[prop]
        check_duration_range(_OWNER, prop, value, minimum=minimum, maximum=maximum)


def validate(
    *,
    stream_mode: kinesis.StreamMode,
    shard_count: int | None,
    stream_retention: Duration,
    batch_size: int,
    max_batching_window: Duration,
    retry_attempts: int,
    max_record_age: Duration,
    parallelization_factor: int,
    memory_size: int,
    timeout: Duration,
    reserved_concurrent_executions: int | None,
    lake_prefix: str,
    quarantine_prefix: str,
    infrequent_access_after: Duration,
    archive_after: Duration | None,
    lake_expiration: Duration | None,
    iterator_age_threshold: Duration,
) -> None:
    if shard_count is not None:
        if stream_mode == kinesis.StreamMode.ON_DEMAND:
            raise PropValidationError(
                _OWNER,
                "shard_count",
                shard_count,
                "On-demand streams scale their shards themselves: set stream_mode=StreamMode.PROVISIONED "
                "or leave shard_count unset.",
            )
        check_whole_range(_OWNER, "shard_count", shard_count, minimum=1, maximum=500)
    _check_duration("stream_retention", stream_retention, DEFAULT_STREAM_RETENTION)
    check_whole_range(_OWNER, "batch_size", batch_size, minimum=1, maximum=10_000)
    _check_duration("max_batching_window", max_batching_window, DEFAULT_BATCHING_WINDOW)
    check_whole_range(_OWNER, "retry_attempts", retry_attempts, minimum=0, maximum=10_000)
    _check_duration("max_record_age", max_record_age, DEFAULT_MAX_RECORD_AGE)
    both_default = max_record_age is DEFAULT_MAX_RECORD_AGE and stream_retention is DEFAULT_STREAM_RETENTION
    if (
        not both_default
        and not max_record_age.is_unresolved()
        and not stream_retention.is_unresolved()
        and max_record_age.to_seconds() > stream_retention.to_seconds()
    ):
        raise PropValidationError(
            _OWNER,
            "max_record_age",
            max_record_age.to_human_string(),
            f"It must not exceed stream_retention ({stream_retention.to_human_string()}): older records have "
            "left the stream already.",
        )
    check_whole_range(_OWNER, "parallelization_factor", parallelization_factor, minimum=1, maximum=10)
    check_whole_range(_OWNER, "memory_size", memory_size, minimum=128, maximum=10_240)
    _check_duration("timeout", timeout, DEFAULT_TIMEOUT)
    if reserved_concurrent_executions is not None:
        check_whole_range(
            _OWNER, "reserved_concurrent_executions", reserved_concurrent_executions, minimum=1, maximum=10_000
        )
    for prop, prefix in (("lake_prefix", lake_prefix), ("quarantine_prefix", quarantine_prefix)):
        if Token.is_unresolved(prefix) or not isinstance(prefix, str) or not _PREFIX.match(prefix):
            raise PropValidationError(
                _OWNER, prop, prefix, "Allowed: a relative S3 key prefix ending in '/', such as 'events/'."
            )
    if lake_prefix.startswith(quarantine_prefix) or quarantine_prefix.startswith(lake_prefix):
        raise PropValidationError(
            _OWNER,
            "quarantine_prefix",
            quarantine_prefix,
            f"It must not overlap lake_prefix ({lake_prefix!r}): queries of the lake would read quarantined records.",
        )
    for prop, prefix in (("lake_prefix", lake_prefix), ("quarantine_prefix", quarantine_prefix)):
        if prefix.startswith(RESULTS_PREFIX) or RESULTS_PREFIX.startswith(prefix):
            raise PropValidationError(
                _OWNER, prop, prefix, f"It must not overlap {RESULTS_PREFIX!r}, where Athena writes query results."
            )
    _check_duration("infrequent_access_after", infrequent_access_after, DEFAULT_INFREQUENT_ACCESS_AFTER)
    defaults = archive_after is DEFAULT_ARCHIVE_AFTER and infrequent_access_after is DEFAULT_INFREQUENT_ACCESS_AFTER
    if archive_after is not None and not defaults and archive_after.to_days() <= infrequent_access_after.to_days():
        raise PropValidationError(
            _OWNER,
            "archive_after",
            archive_after.to_human_string(),
            f"It must come after infrequent_access_after ({infrequent_access_after.to_human_string()}), or be None.",
        )
    if lake_expiration is not None and not lake_expiration.is_unresolved():
        last_move = archive_after if archive_after is not None else infrequent_access_after
        if lake_expiration.to_days() <= last_move.to_days():
            raise PropValidationError(
                _OWNER,
                "lake_expiration",
                lake_expiration.to_human_string(),
                f"It must come after the last storage-class transition ({last_move.to_human_string()}): S3 "
                "rejects a lifecycle rule that expires objects before it moves them.",
            )
    _check_duration("iterator_age_threshold", iterator_age_threshold, DEFAULT_ITERATOR_AGE_THRESHOLD)


def schema_json(schema: Mapping[str, Any] | None) -> str | None:
    if schema is None:
        return None
    if not isinstance(schema, Mapping):
        raise PropValidationError(_OWNER, "event_schema", schema, "Allowed: a JSON schema as a dict.")
    try:
        text = json.dumps(schema, separators=(",", ":"), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise PropValidationError(_OWNER, "event_schema", schema, f"It must be JSON-serializable ({exc}).") from exc
    if len(text.encode()) > MAX_SCHEMA_BYTES:
        raise PropValidationError(
            _OWNER,
            "event_schema",
            f"<{len(text.encode())} bytes>",
            f"Allowed: at most {MAX_SCHEMA_BYTES} bytes as compact JSON (it travels in the function's environment).",
        )
    if "${Token[" in text:
        raise PropValidationError(_OWNER, "event_schema", schema, "It must be a literal schema, without tokens.")
    return text


def validate_redshift(
    vpc: ec2.IVpc | None,
    subnets: ec2.SubnetSelection | None,
    *,
    base_capacity: int,
    database: str,
    admin_username: str,
    namespace_name: str | None,
    workgroup_name: str | None,
    view_name: str,
) -> list[ec2.ISubnet]:
    if vpc is None:
        raise PropValidationError(
            _OWNER,
            "vpc",
            None,
            "Redshift Serverless runs in a VPC: pass vpc= (and redshift_subnets=), or redshift=False to keep "
            "only the lake path.",
        )
    subnet_list = selected(vpc, subnets)
    check_min_azs(_OWNER, "redshift_subnets", subnet_list, 3, "A Redshift Serverless workgroup")
    network = network_of(vpc)
    port = REDSHIFT_PORT
    if (
        network is not None
        and network.db_port != port
        and _paths(subnet_list) <= _paths(network.db.subnets)
        and not db_tier_admits(network, port)
    ):
        raise PropValidationError(
            _OWNER,
            "vpc",
            network.node.path,
            f"Its Db tier opens db_port={network.db_port} (network ACLs and security groups), but the Redshift "
            f"workgroup in it listens on {port}: build the ThreeTierVpc with db_port={port}, open the port "
            f"first with {network.node.id}.allow_app_tier_to_db_port({port}), or put redshift_subnets elsewhere.",
        )
    if not Token.is_unresolved(base_capacity) and (
        isinstance(base_capacity, bool)
        or not isinstance(base_capacity, int)
        or not 8 <= base_capacity <= 1024
        or base_capacity % 8
    ):
        raise PropValidationError(
            _OWNER, "redshift_base_capacity", base_capacity, "Allowed: 8 to 1024 RPUs, in steps of 8."
        )
    for prop, value in (("redshift_namespace_name", namespace_name), ("redshift_workgroup_name", workgroup_name)):
        if value is not None and not Token.is_unresolved(value) and not _REDSHIFT_NAME.match(value):
            raise PropValidationError(
                _OWNER, prop, value, "Allowed: 3 to 64 lowercase letters, digits and hyphens, starting with a letter."
            )
    for prop, value in (
        ("redshift_database", database),
        ("redshift_admin_username", admin_username),
        ("redshift_view_name", view_name),
    ):
        if not isinstance(value, str) or not _SQL_IDENTIFIER.match(value):
            raise PropValidationError(
                _OWNER, prop, value, "Allowed: a lowercase SQL identifier (letters, digits, '_'), up to 127 characters."
            )
    if admin_username in {"admin", "rdsadmin", "public", "root"}:
        raise PropValidationError(_OWNER, "redshift_admin_username", admin_username, "That name is reserved.")
    return subnet_list


def _paths(subnets: Sequence[ec2.ISubnet]) -> set[str]:
    return {s.node.path for s in subnets}
