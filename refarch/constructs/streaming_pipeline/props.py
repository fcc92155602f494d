"""The props of ``StreamingPipeline``, each written once: type, default, documentation and value checks.

Checks that need several props or the network live in :mod:`.checks`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from typing_extensions import TypedDict

from refarch.constructs import _defaults
from refarch.constructs._dashboards import DashboardProp
from refarch.constructs._props import Prop, described, duration_range, finite_log_retention, matches, whole_range
from refarch.constructs.three_tier_vpc import ThreeTierVpc
from refarch.errors import PropValidationError

#: Largest ``EVENT_SCHEMA`` the function's environment can carry (Lambda allows 4 KB for all variables).
MAX_SCHEMA_BYTES = 3_000

_PREFIX = r"[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()=-]+)*/"
_PREFIX_WORDS = "a relative S3 key prefix ending in '/', such as 'events/'"
_REDSHIFT_NAME = r"[a-z][a-z0-9-]{2,63}"
_REDSHIFT_NAME_WORDS = "3 to 64 lowercase letters, digits and hyphens, starting with a letter"
_SQL_IDENTIFIER = r"[a-z_][a-z0-9_]{0,126}"
_SQL_IDENTIFIER_WORDS = "a lowercase SQL identifier (letters, digits, '_'), up to 127 characters"
_RESERVED_USERS = ("admin", "rdsadmin", "public", "root")


def _check_capacity_steps(owner: str, prop: str, value: Any) -> None:
    if value % 8:
        raise PropValidationError(owner, prop, value, "Allowed: 8 to 1024 RPUs, in steps of 8.")


_capacity_steps = described(_check_capacity_steps, "in steps of 8")


def _not_reserved(owner: str, prop: str, value: Any) -> None:
    if value in _RESERVED_USERS:
        raise PropValidationError(owner, prop, value, f"That name is reserved ({', '.join(_RESERVED_USERS)}).")


def schema_json(schema: Mapping[str, Any]) -> str:
    """``schema`` as the compact JSON the consumer reads from ``EVENT_SCHEMA``; raises TypeError or
    ValueError when it is not JSON."""
    return json.dumps(schema, separators=(",", ":"), sort_keys=True)


def _compiles(owner: str, prop: str, value: Any) -> None:
    """The schema travels as JSON in the function's environment and is compiled by fastjsonschema in
    the consumer: what cannot do both would fail every batch at run time, so it fails here."""
    try:
        text = schema_json(value)
    except (TypeError, ValueError) as exc:
        raise PropValidationError(owner, prop, value, f"It must be JSON-serializable ({exc}).") from exc
    size = len(text.encode())
    if size > MAX_SCHEMA_BYTES:
        raise PropValidationError(
            owner,
            prop,
            f"<{size} bytes>",
            f"Allowed: at most {MAX_SCHEMA_BYTES} bytes as compact JSON (it travels in the function's environment).",
        )
    if "${Token[" in text:
        raise PropValidationError(owner, prop, value, "It must be a literal schema, without tokens.")
    # Imported here: fastjsonschema is the consumer's own library, needed at synth only for a custom schema.
    import fastjsonschema

    try:
        fastjsonschema.compile(json.loads(text))
    except (fastjsonschema.JsonSchemaException, re.error) as exc:
        raise PropValidationError(
            owner, prop, value, f"It is not a JSON schema the consumer can compile (fastjsonschema: {exc})."
        ) from exc


class StreamingPipelineProps(TypedDict, total=False):
    """The props of :class:`~refarch.constructs.StreamingPipeline`."""

    # -- network
    vpc: Annotated[
        ec2.IVpc | ThreeTierVpc | None,
        Prop(
            "VPC for the functions and Redshift; a ThreeTierVpc (or its vpc) is used tier by tier: functions "
            "in App, Redshift in Db. Required when redshift is on; Redshift in the Db tier needs it to open "
            "Redshift's port 5439 (db_port=5439).",
            default=None,
            default_doc="- the functions run outside a VPC",
        ),
    ]
    vpc_subnets: Annotated[
        ec2.SubnetSelection | None,
        Prop(
            "Subnets of the functions (they need HTTPS to S3, the Redshift Data API and X-Ray: NAT or endpoints).",
            default=None,
            default_doc="- the App tier of a ThreeTierVpc, else the private subnets with egress",
            needs="vpc",
        ),
    ]
    encryption_key: Annotated[
        kms.IKey | None,
        Prop(
            "Key for the stream, queue, lake, logs and Redshift; it must admit CloudWatch Logs.",
            default=None,
            default_doc="- a new customer-managed key with rotation",
        ),
    ]
    # -- the stream
    stream_mode: Annotated[
        kinesis.StreamMode, Prop("Capacity mode of the stream.", default=kinesis.StreamMode.ON_DEMAND)
    ]
    shard_count: Annotated[
        int | None,
        Prop(
            "Shards of a PROVISIONED stream; not allowed with on-demand.",
            default=None,
            default_doc="- 1 when provisioned",
            checks=(whole_range(1, 500),),
        ),
    ]
    stream_retention: Annotated[
        Duration,
        Prop(
            "How long the stream keeps records.",
            default=Duration.hours(24),
            checks=(duration_range(Duration.hours(24), Duration.days(365), unit="hours"),),
        ),
    ]
    stream_name: Annotated[
        str | None,
        Prop(
            "Name of the stream.",
            default=None,
            default_doc="- generated",
            checks=(matches(r"[a-zA-Z0-9_.-]{1,128}", "1 to 128 letters, digits, '_', '.' and '-'"),),
        ),
    ]
    # -- the consumer
    batch_size: Annotated[int, Prop("Records per invocation.", default=500, checks=(whole_range(1, 10_000),))]
    max_batching_window: Annotated[
        Duration,
        Prop(
            "How long Lambda gathers records before invoking, in whole seconds.",
            default=Duration.seconds(5),
            checks=(duration_range(Duration.seconds(0), Duration.seconds(300)),),
        ),
    ]
    retry_attempts: Annotated[
        int,
        Prop(
            "Retries of a failing batch before its records go to the dead-letter queue (bounded: "
            "an infinite retry blocks the shard).",
            default=3,
            checks=(whole_range(0, 10_000),),
        ),
    ]
    max_record_age: Annotated[
        Duration,
        Prop(
            "Records older than this go to the dead-letter queue unprocessed, in whole seconds, at most "
            "stream_retention.",
            default=Duration.hours(6),
            checks=(duration_range(Duration.seconds(60), Duration.days(7)),),
        ),
    ]
    parallelization_factor: Annotated[
        int,
        Prop(
            "Concurrent batches per shard. Records with the same partition key stay in order.",
            default=1,
            checks=(whole_range(1, 10),),
        ),
    ]
    enhanced_fan_out: Annotated[
        bool,
        Prop(
            "Read through a dedicated enhanced fan-out consumer (2 MB/s per shard of its own, lower latency; "
            "billed per consumer-shard hour).",
            default=False,
        ),
    ]
    memory_size: Annotated[
        int,
        Prop(
            "Memory of the consumer function in MB (CPU grows with it).",
            default=1024,
            checks=(whole_range(128, 10_240),),
        ),
    ]
    timeout: Annotated[
        Duration,
        Prop(
            "Timeout of the consumer function, in whole seconds.",
            default=Duration.minutes(2),
            checks=(duration_range(Duration.seconds(1), Duration.minutes(15)),),
        ),
    ]
    reserved_concurrent_executions: Annotated[
        int | None,
        Prop(
            "Reserved concurrency of the consumer.",
            default=None,
            default_doc="- none; the event source mapping bounds it to shards x parallelization_factor",
            checks=(whole_range(1, 10_000),),
        ),
    ]
    event_schema: Annotated[
        Mapping[str, Any] | None,
        Prop(
            "JSON schema (draft 4 to 7) records must match; at most 3,000 bytes as JSON. It is compiled at "
            "synth with fastjsonschema, as the consumer compiles it.",
            default=None,
            default_doc="- refarch/runtime/stream_processor/event.schema.json",
            checks=(_compiles,),
        ),
    ]
    log_retention: Annotated[
        logs.RetentionDays,
        Prop(
            "How long the functions' logs are kept.",
            default=_defaults.LOG_RETENTION,
            checks=(finite_log_retention,),
        ),
    ]
    # -- the lake
    lake_prefix: Annotated[
        str,
        Prop("Key prefix of valid records in the lake.", default="events/", checks=(matches(_PREFIX, _PREFIX_WORDS),)),
    ]
    quarantine_prefix: Annotated[
        str,
        Prop(
            "Key prefix of invalid records; it must not overlap lake_prefix.",
            default="quarantine/",
            checks=(matches(_PREFIX, _PREFIX_WORDS),),
        ),
    ]
    infrequent_access_after: Annotated[
        Duration,
        Prop(
            "Age at which lake objects move to S3 Standard-IA.",
            default=Duration.days(30),
            checks=(duration_range(Duration.days(30), Duration.days(36_500), unit="days"),),
        ),
    ]
    archive_after: Annotated[
        Duration | None,
        Prop(
            "Age at which lake objects move to S3 Glacier Instant Retrieval (after infrequent_access_after); "
            "None keeps them in Standard-IA.",
            default=Duration.days(365),
            checks=(duration_range(Duration.days(1), Duration.days(36_500), unit="days"),),
        ),
    ]
    lake_expiration: Annotated[
        Duration | None,
        Prop(
            "Age at which lake and quarantine objects are deleted (after every transition). When "
            "events carry personal data, GDPR's storage limitation (art. 5(1)(e)) asks for one, and the GDPR "
            "pack warns without it.",
            default=None,
            default_doc="- objects are kept, tiered",
            checks=(duration_range(Duration.days(1), Duration.days(36_500), unit="days"),),
        ),
    ]
    lake_catalog: Annotated[
        bool,
        Prop(
            "Add a Glue Data Catalog table over the lake (partition projection, no crawler) and an Athena "
            "workgroup with KMS-encrypted results under athena-results/ (expire after 30 days).",
            default=True,
        ),
    ]
    # -- Redshift
    redshift: Annotated[
        bool,
        Prop(
            "Create Redshift Serverless with streaming ingestion from the stream (needs vpc). Turn off to keep "
            "only the lake path (Redshift bills for every RPU-hour the auto-refresh uses).",
            default=True,
        ),
    ]
    database_subnets: Annotated[
        ec2.SubnetSelection | None,
        Prop(
            "Subnets of the Redshift workgroup: at least 3, in 3 distinct AZs. With enhanced VPC routing they "
            "need a path to Kinesis (an interface endpoint or NAT).",
            default=None,
            default_doc="- the Db tier of a ThreeTierVpc, else the VPC's isolated subnets",
            needs="redshift",
        ),
    ]
    redshift_security_groups: Annotated[
        Sequence[ec2.ISecurityGroup] | None,
        Prop(
            "Security groups of the Redshift workgroup.",
            default=None,
            default_doc="- the Db tier's group of a ThreeTierVpc, else a new group with HTTPS egress to the VPC",
            needs="redshift",
        ),
    ]
    redshift_base_capacity: Annotated[
        int,
        Prop(
            "Base RPUs of the workgroup.",
            default=8,
            checks=(whole_range(8, 1024), _capacity_steps),
            needs="redshift",
        ),
    ]
    enhanced_vpc_routing: Annotated[
        bool,
        Prop("Route Redshift's traffic (Kinesis reads too) through the VPC.", default=True, needs="redshift"),
    ]
    redshift_database: Annotated[
        str,
        Prop(
            "Database that holds the materialized view.",
            default="dev",
            checks=(matches(_SQL_IDENTIFIER, _SQL_IDENTIFIER_WORDS),),
            needs="redshift",
        ),
    ]
    redshift_admin_username: Annotated[
        str,
        Prop(
            "Admin user; its password is generated and kept by Redshift in Secrets Manager.",
            default="refarch_admin",
            checks=(matches(_SQL_IDENTIFIER, _SQL_IDENTIFIER_WORDS), _not_reserved),
            needs="redshift",
        ),
    ]
    redshift_namespace_name: Annotated[
        str | None,
        Prop(
            "Name of the Redshift namespace.",
            default=None,
            default_doc="- derived from the construct path, with a suffix unique to the stack's creation (the "
            "namespace is retained: a fixed name blocks the next create)",
            checks=(matches(_REDSHIFT_NAME, _REDSHIFT_NAME_WORDS),),
            needs="redshift",
        ),
    ]
    redshift_workgroup_name: Annotated[
        str | None,
        Prop(
            "Name of the Redshift workgroup.",
            default=None,
            default_doc="- derived from the construct path, with that suffix",
            checks=(matches(_REDSHIFT_NAME, _REDSHIFT_NAME_WORDS),),
            needs="redshift",
        ),
    ]
    redshift_view_name: Annotated[
        str,
        Prop(
            "Materialized view over the stream.",
            default="stream_events",
            checks=(matches(_SQL_IDENTIFIER, _SQL_IDENTIFIER_WORDS),),
            needs="redshift",
        ),
    ]
    # -- operations
    iterator_age_threshold: Annotated[
        Duration,
        Prop(
            "The iterator-age alarm fires when the consumer lags more than this.",
            default=Duration.minutes(5),
            checks=(duration_range(Duration.minutes(1), Duration.days(7)),),
        ),
    ]
    alarm_topic: Annotated[
        sns.ITopic | None,
        Prop(
            "SNS topic every alarm and the health alarm notify.",
            default=None,
            default_doc="- a new topic encrypted with the construct's key (a new key when encryption_key is given)",
        ),
    ]
    dashboard: DashboardProp
    removal_policy: Annotated[
        RemovalPolicy,
        Prop(
            "Fate of the stream, queue, bucket, key, logs and Redshift namespace when removed from the stack.",
            default=_defaults.DATA_REMOVAL_POLICY,
        ),
    ]
