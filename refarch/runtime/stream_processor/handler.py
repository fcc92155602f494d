"""Kinesis Data Streams consumer: decode, validate, enrich, and land each batch in the S3 lake.

Every record of a batch ends in exactly one of three places:

* the lake (``<lake_prefix>dt=YYYY-MM-DD/hour=HH/...``): valid records, enriched with their arrival
  time, shard, sequence number and partition key, as gzip-compressed JSON lines;
* the quarantine (``<quarantine_prefix>dt=.../hour=.../...``): records that are malformed (not UTF-8
  JSON) or fail the schema, with the reason and their original bytes. Retrying them cannot help, so
  they are kept for inspection and replay instead of being retried into the dead-letter queue (which
  would only receive the shard and sequence numbers, not the data: the data would expire with the
  stream's retention);
* the batch item failures of the partial batch response: records whose write failed for a reason
  that may pass (S3 throttling or an outage, a KMS error). Lambda retries them; when the retries run
  out, the event source mapping sends their metadata to the dead-letter queue.

Writes are grouped: ONE object per batch and (destination, partition), not one PUT per record. When
the PUT of a group fails, every record of that group is reported as failed, and records of the other
groups stay successful.

Delivery is at least once. With ``ReportBatchItemFailures`` Lambda checkpoints at the LOWEST failed
sequence number and re-delivers everything after it, including records of groups that were written.
Those are written again: object keys are derived from the shard and the first and last sequence
number of the group, so a retry of the same records overwrites the same key instead of adding an
object. A retried batch can be cut differently (bisect on error halves it), and then a record can
appear in two objects; every line carries ``shard_id`` and ``sequence_number``, which identify a
record uniquely, for de-duplication at query time.

Partitions are by ARRIVAL hour (when the record reached the stream, in UTC), not by a time field of
the event: a batch then spans one or two partitions, and a late event never rewrites an old one.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import fastjsonschema
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "stream-processor"))
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "refarch/StreamingPipeline"),
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", "stream-processor"),
)

#: The schema records are validated against unless ``EVENT_SCHEMA`` holds another one.
DEFAULT_SCHEMA_PATH = Path(__file__).with_name("event.schema.json")

LAKE = "lake"
QUARANTINE = "quarantine"

#: gzip level 6 (zlib's default): within a few percent of level 9's size at a third of its time.
COMPRESS_LEVEL = 6


@dataclass(frozen=True)
class Routed:
    """Where one record goes, and the JSON line it becomes there."""

    destination: str  # LAKE or QUARANTINE
    partition: str  # "dt=2026-11-22/hour=08"
    line: bytes
    record: KinesisStreamRecord


def load_schema(text: str | None = None) -> dict[str, Any]:
    """The JSON schema from ``text`` (the ``EVENT_SCHEMA`` variable), else the default one."""
    schema: dict[str, Any] = json.loads(text) if text else json.loads(DEFAULT_SCHEMA_PATH.read_text())
    return schema


def partition_of(arrival_seconds: float) -> str:
    """Hive-style partition of an arrival time: ``dt=YYYY-MM-DD/hour=HH`` in UTC."""
    moment = datetime.fromtimestamp(arrival_seconds, tz=timezone.utc)
    return f"dt={moment:%Y-%m-%d}/hour={moment:%H}"


def _iso(arrival_seconds: float) -> str:
    return datetime.fromtimestamp(arrival_seconds, tz=timezone.utc).isoformat(timespec="milliseconds")


def _dumps(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


class LakeWriter:
    """Routes records and writes each group as one gzip object. Holds no per-batch state."""

    def __init__(
        self,
        *,
        bucket: str,
        s3: Any,
        schema: Mapping[str, Any] | None = None,
        lake_prefix: str = "events/",
        quarantine_prefix: str = "quarantine/",
    ) -> None:
        self.bucket = bucket
        self.s3 = s3
        self.validate: Callable[[Any], Any] = fastjsonschema.compile(dict(schema or load_schema()))
        self.prefixes = {LAKE: lake_prefix, QUARANTINE: quarantine_prefix}

    @classmethod
    def from_environment(cls) -> LakeWriter:
        return cls(
            bucket=os.environ["BUCKET_NAME"],
            s3=boto3.client("s3"),
            schema=load_schema(os.environ.get("EVENT_SCHEMA")),
            lake_prefix=os.environ.get("LAKE_PREFIX", "events/"),
            quarantine_prefix=os.environ.get("QUARANTINE_PREFIX", "quarantine/"),
        )

    def route(self, record: KinesisStreamRecord) -> Routed:
        """Decode and validate one record. Deterministic failures are routed to the quarantine; an
        exception raised here is unexpected and makes the record a batch item failure (retried)."""
        payload = record.kinesis
        arrival = payload.approximate_arrival_timestamp
        shard_id = record.event_id.partition(":")[0]
        meta = {
            "arrival_time": _iso(arrival),
            "shard_id": shard_id,
            "sequence_number": payload.sequence_number,
            "partition_key": payload.partition_key,
        }
        partition = partition_of(arrival)
        try:
            event = json.loads(base64.b64decode(payload.data, validate=True))
        except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
            return self._quarantine(record, partition, meta, f"malformed: {type(exc).__name__}: {exc}")
        try:
            self.validate(event)
        except fastjsonschema.JsonSchemaValueException as exc:
            return self._quarantine(record, partition, meta, f"invalid: {exc.message}")
        return Routed(LAKE, partition, _dumps({**meta, "event": event}), record)

    def _quarantine(self, record: KinesisStreamRecord, partition: str, meta: dict[str, str], reason: str) -> Routed:
        line = _dumps({**meta, "reason": reason, "data": record.kinesis.data})
        return Routed(QUARANTINE, partition, line, record)

    def key(self, destination: str, partition: str, group: list[Routed]) -> str:
        """``<prefix><partition>/<shard>-<first sequence>-<last sequence>.jsonl.gz``: the same records
        always map to the same key, so a retried write overwrites instead of duplicating."""
        first, last = group[0].record, group[-1].record
        shard_id = first.event_id.partition(":")[0]
        return (
            f"{self.prefixes[destination]}{partition}/"
            f"{shard_id}-{first.kinesis.sequence_number}-{last.kinesis.sequence_number}.jsonl.gz"
        )

    def put(self, destination: str, partition: str, group: list[Routed]) -> str:
        key = self.key(destination, partition, group)
        # mtime=0: the same lines always compress to the same bytes (idempotent rewrites, same ETag).
        body = gzip.compress(b"".join(r.line for r in group), compresslevel=COMPRESS_LEVEL, mtime=0)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/gzip")
        return key


class PartitionedBatchProcessor(BatchProcessor):
    """Powertools' Kinesis batch processor, with the writes of the batch grouped.

    The record handler (:meth:`LakeWriter.route`) runs per record as usual and only decides where each
    record goes; then each (destination, partition) group is written with one PUT. A failed PUT turns
    every record of its group from a success into a batch item failure, with the PUT's exception.
    """

    def __init__(self, writer_factory: Callable[[], LakeWriter], *, metrics: Metrics | None = None) -> None:
        # Powertools' Logger is duck-typed as a logging.Logger here: the processor logs failures with it.
        super().__init__(event_type=EventType.KinesisDataStreams, logger=logger)  # type: ignore[arg-type]
        self._writer_factory = writer_factory
        self._metrics = metrics
        self.written: dict[str, list[str]] = {}

    def process(self) -> list[tuple[Any, ...]]:
        results = super().process()
        groups: dict[tuple[str, str], list[Routed]] = defaultdict(list)
        for status, routed, _raw in results:
            if status == "success":
                groups[(routed.destination, routed.partition)].append(routed)
        writer = self._writer_factory()
        self.written = {LAKE: [], QUARANTINE: []}
        failed: set[int] = set()
        for (destination, partition), group in groups.items():
            try:
                self.written[destination].append(writer.put(destination, partition, group))
            except Exception:
                exc_info = sys.exc_info()
                logger.exception(
                    "Write failed; its records are reported for retry",
                    extra={"destination": destination, "partition": partition, "records": len(group)},
                )
                for routed in group:
                    failed.add(id(routed.record.raw_event))
                    self.failure_handler(record=routed.record, exception=exc_info)
        if failed:
            self.success_messages[:] = [m for m in self.success_messages if id(m) not in failed]
        self._count(groups, failed)
        return results

    def _count(self, groups: Mapping[tuple[str, str], list[Routed]], failed: set[int]) -> None:
        if self._metrics is None:
            return
        metrics = self._metrics
        done = {LAKE: 0, QUARANTINE: 0}
        for (destination, _), group in groups.items():
            done[destination] += sum(1 for r in group if id(r.record.raw_event) not in failed)
        metrics.add_metric(name="RecordsIn", unit=MetricUnit.Count, value=len(self.records))
        metrics.add_metric(name="RecordsLanded", unit=MetricUnit.Count, value=done[LAKE])
        metrics.add_metric(name="RecordsQuarantined", unit=MetricUnit.Count, value=done[QUARANTINE])
        metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=len(self.fail_messages))
        metrics.add_metric(
            name="ObjectsWritten", unit=MetricUnit.Count, value=sum(len(keys) for keys in self.written.values())
        )


@cache
def _writer() -> LakeWriter:
    """One writer per execution environment: the schema is compiled once, at the first batch."""
    return LakeWriter.from_environment()


processor = PartitionedBatchProcessor(_writer, metrics=metrics)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(  # type: ignore[return-value]
        event=event, record_handler=lambda record: _writer().route(record), processor=processor, context=context
    )


def process_batch(event: dict[str, Any], writer: LakeWriter) -> tuple[dict[str, Any], PartitionedBatchProcessor]:
    """Process one Kinesis event with ``writer`` (tests and benchmarks): the partial batch response,
    and the processor, whose ``written`` lists the object keys it wrote."""
    batch = PartitionedBatchProcessor(lambda: writer)
    response = process_partial_response(event=event, record_handler=writer.route, processor=batch)
    return dict(response), batch
