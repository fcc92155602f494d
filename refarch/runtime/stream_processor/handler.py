"""Kinesis Data Streams consumer: decode, validate, enrich, and land each batch in the S3 lake.

Every record of a batch ends in exactly one of three places:

* the lake (``<lake_prefix>dt=YYYY-MM-DD/hour=HH/...``): valid records, enriched with their arrival
  time, shard, sequence number and partition key, as gzip-compressed JSON lines;
* the quarantine (``<quarantine_prefix>dt=.../hour=.../...``): every record that cannot land because
  of what it is, with the reason and its original bytes (base64). Retrying them cannot help, so they
  are kept for inspection and replay instead of being retried into the dead-letter queue (which
  would only receive the shard and sequence numbers, not the data: the data would expire with the
  stream's retention, and every record after a failed one in the shard would be delivered again);
* the batch item failures of the partial batch response: records whose WRITE failed (S3 throttling,
  a timeout, a 5xx, a connection error; or a permanent refusal such as AccessDenied, logged as such).
  Lambda retries them; when the retries run out, the event source mapping sends their metadata to
  the dead-letter queue, from where ``python -m refarch.runtime.stream_processor.replay`` recovers
  them while the stream still retains them.

Routing (:meth:`LakeWriter.route`) does no I/O: whatever it raises is caused by the record, so every
exception there routes the record to the quarantine. The lake holds strict JSON (RFC 8259 and what
Glue's JSON SerDe reads), so these are quarantined too, each with a reason that names the problem:

* text that is not UTF-8 (UTF-16 or UTF-32, with or without a byte order mark) and UTF-8 with a byte
  order mark: Python's ``json.loads`` would sniff and accept them, the lake's readers would not;
* ``NaN``, ``Infinity``, ``-Infinity`` and numbers that overflow a 64-bit float (``1e999``): not JSON,
  and Glue's SerDe rejects them;
* duplicate keys in an object (the reason names the key): a parser keeps one of them (Python: the
  last), so an invalid value could hide behind a valid one from the schema check;
* nesting deeper than the parser's recursion limit, integers longer than Python's digit limit
  (4300 digits), strings with lone surrogates (``"\ud800"``: valid JSON escapes, not encodable as
  UTF-8);
* an arrival time that cannot be partitioned (the record then goes to the partition of the hour it
  was processed in).

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
import gzip
import json
import math
import os
import sys
import time
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
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

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
    """One strict JSON line in UTF-8. Raises ``ValueError`` on NaN/Infinity and ``UnicodeEncodeError``
    on lone surrogates: the lake never receives what its readers reject."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode() + b"\n"


def _dumps_ascii(value: Mapping[str, Any]) -> bytes:
    """A quarantine line: ASCII-escaped, so any reason or partition key can be written."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode() + b"\n"


class Unprocessable(ValueError):
    """A record that cannot land in the lake; the message is the quarantine reason."""


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Unprocessable(f"not strict JSON: the number {text[:40]} overflows a 64-bit float")
    return value


def _no_constant(name: str) -> Any:
    raise Unprocessable(f"not strict JSON: {name} is not a JSON value")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise Unprocessable(f"not strict JSON: duplicate key {key[:100]!r}")
        result[key] = value
    return result


_STRICT = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant, object_pairs_hook=_unique_keys)


def parse_strict(data: bytes) -> Any:
    """``data`` as strict JSON: UTF-8 without a byte order mark, no NaN/Infinity, no overflowing
    numbers, no duplicate keys. Raises :class:`Unprocessable` with the reason."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise Unprocessable("malformed: UTF-8 with a byte order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unprocessable(f"malformed: not UTF-8 (UTF-16 and UTF-32 are refused): {exc}") from exc
    try:
        return _STRICT.decode(text)
    except json.JSONDecodeError as exc:
        raise Unprocessable(f"malformed: JSONDecodeError: {exc}") from exc
    except RecursionError as exc:
        raise Unprocessable("too deep: nested too deeply for the parser") from exc
    except Unprocessable:
        raise
    except ValueError as exc:  # int() beyond sys.get_int_max_str_digits()
        raise Unprocessable(f"too large: {exc}") from exc


#: Error codes of S3 (and KMS behind it) that can pass on a retry.
_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "KMSThrottlingException",
        "KMSInternalException",
    }
)


def is_transient(exc: BaseException) -> bool:
    """Whether a write error can pass on a retry: throttling, timeouts, 5xx, connection errors."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return error.get("Code") in _TRANSIENT_CODES or status >= 500
    return isinstance(exc, (ConnectionError, HTTPClientError, TimeoutError))


def _identity(record: KinesisStreamRecord) -> dict[str, str]:
    return {
        "shard_id": record.event_id.partition(":")[0],
        "sequence_number": record.kinesis.sequence_number,
        "partition_key": record.kinesis.partition_key,
    }


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
        """Decode and validate one record: to the lake, or to the quarantine with the reason. Never
        raises: this is pure computation on the record, so whatever fails here fails because of the
        record, and a retry would fail the same way."""
        try:
            return self._route(record)
        except Unprocessable as exc:
            return self.quarantine(record, str(exc))
        except Exception as exc:  # the record broke the parser, the validator or the serializer
            return self.quarantine(record, f"unprocessable: {type(exc).__name__}: {str(exc)[:500]}")

    def _route(self, record: KinesisStreamRecord) -> Routed:
        payload = record.kinesis
        arrival = payload.approximate_arrival_timestamp
        try:
            partition, arrival_time = partition_of(arrival), _iso(arrival)
        except (OverflowError, ValueError, OSError) as exc:
            raise Unprocessable(f"unpartitionable: arrival time {arrival!r}: {exc}") from exc
        meta = {"arrival_time": arrival_time, **_identity(record)}
        try:
            data = base64.b64decode(payload.data, validate=True)
        except ValueError as exc:
            raise Unprocessable(f"malformed: not base64: {exc}") from exc
        event = parse_strict(data)
        try:
            self.validate(event)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise Unprocessable(f"invalid: {exc.message}") from exc
        try:
            line = _dumps({**meta, "event": event})
        except UnicodeEncodeError as exc:
            raise Unprocessable(f"not UTF-8 encodable: a lone surrogate ({exc.reason})") from exc
        return Routed(LAKE, partition, line, record)

    def quarantine(self, record: KinesisStreamRecord, reason: str) -> Routed:
        """The quarantine line of ``record``: where and when it came from, the reason, the original
        bytes as the event carried them (base64). Built from the event's metadata only."""
        arrival = record.kinesis.approximate_arrival_timestamp
        try:
            partition, arrival_time = partition_of(arrival), _iso(arrival)
        except (OverflowError, ValueError, OSError, TypeError):
            partition, arrival_time = partition_of(time.time()), str(arrival)
        meta = {"arrival_time": arrival_time, **_identity(record)}
        line = _dumps_ascii({**meta, "reason": reason, "data": record.kinesis.data})
        return Routed(QUARANTINE, partition, line, record)

    def key(self, destination: str, partition: str, group: list[Routed], *, suffix: str = "") -> str:
        """``<prefix><partition>/<shard>-<first sequence>-<last sequence><suffix>.jsonl.gz``: the same
        records always map to the same key, so a retried write overwrites instead of duplicating."""
        first, last = group[0].record, group[-1].record
        shard_id = first.event_id.partition(":")[0]
        return (
            f"{self.prefixes[destination]}{partition}/"
            f"{shard_id}-{first.kinesis.sequence_number}-{last.kinesis.sequence_number}{suffix}.jsonl.gz"
        )

    def put(self, destination: str, partition: str, group: list[Routed], *, suffix: str = "") -> str:
        key = self.key(destination, partition, group, suffix=suffix)
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
            except Exception as exc:
                # A write never fails because of a record's content (we built the key and the body):
                # its records are retried. A permanent refusal (AccessDenied, a disabled key) will
                # not pass by itself: logged as such, it ends in the on-failure queue, to replay once fixed.
                exc_info = sys.exc_info()
                logger.exception(
                    "Write failed; its records are reported for retry",
                    extra={
                        "destination": destination,
                        "partition": partition,
                        "records": len(group),
                        "transient": is_transient(exc),
                    },
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
