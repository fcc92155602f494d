"""Hostile records: every record the consumer cannot land goes to the quarantine with its reason and
its original bytes, never into the batch item failures (which are retried, re-deliver everything
after them in the shard, and end as metadata only in the on-failure queue).

Also the strictness of the lake: what Glue's JSON SerDe would reject (NaN, Infinity, overflowing
numbers), text that is not UTF-8, and duplicate keys are quarantined, never landed.
"""

from __future__ import annotations

import base64
import codecs
import gzip
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from refarch.runtime.stream_processor.handler import LakeWriter, is_transient, process_batch
from tests.test_stream_handler import BUCKET, CountingS3, aws, kinesis_batch, lines, objects  # noqa: F401

VALID = {"event_id": "e-1", "event_type": "page.view", "occurred_at": "2026-11-22T08:00:00Z", "source": "web"}


def _with(attributes: str) -> bytes:
    """The valid event with ``attributes`` spliced in as raw JSON text."""
    return json.dumps(VALID)[:-1].encode() + b', "attributes": ' + attributes.encode() + b"}"


#: name: (original bytes, a piece of the quarantine reason)
POISON: dict[str, tuple[bytes, str]] = {
    "deep nesting": (b'{"event_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    "integer beyond the digit limit": (_with('{"n": ' + "9" * 5000 + "}"), "digits"),
    "lone surrogate": (json.dumps({**VALID, "event_id": "\ud800"}).encode(), "surrogate"),
    "NaN": (_with('{"x": NaN}'), "NaN"),
    "Infinity": (_with('{"x": Infinity}'), "Infinity"),
    "-Infinity": (_with('{"x": -Infinity}'), "-Infinity"),
    "overflowing float": (_with('{"x": 1e999}'), "1e999"),
    "UTF-16 with a BOM": (codecs.BOM_UTF16_LE + json.dumps(VALID).encode("utf-16-le"), "UTF-8"),
    "UTF-8 with a BOM": (codecs.BOM_UTF8 + json.dumps(VALID).encode(), "byte order mark"),
    "duplicate key": (
        b'{"event_id": "e-1", "event_type": "page.view", "occurred_at": "2026-11-22T08:00:00Z", '
        b'"source": "web", "event_type": "Not Valid"}',
        "duplicate key 'event_type'",
    ),
}


def _run(payloads: list[bytes], **batch: Any) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    event = kinesis_batch(payloads, **batch)
    response, _ = process_batch(event, LakeWriter(bucket=BUCKET, s3=CountingS3()))
    stored = objects()
    landed = [line for key, body in stored.items() if key.startswith("events/") for line in lines(body)]
    quarantined = [line for key, body in stored.items() if key.startswith("quarantine/") for line in lines(body)]
    return response, {"landed": landed}, quarantined


@pytest.mark.parametrize("name", list(POISON))
@pytest.mark.usefixtures("aws")
def test_poison_is_quarantined_with_reason_and_original_bytes(name: str) -> None:
    data, reason = POISON[name]
    response, lake, quarantined = _run([json.dumps(VALID).encode(), data])
    assert response == {"batchItemFailures": []}, f"{name} was reported for retry instead of quarantined"
    assert [line["event"] for line in lake["landed"]] == [VALID]
    (line,) = quarantined
    assert base64.b64decode(line["data"]) == data
    assert reason in line["reason"], line["reason"]


@pytest.mark.usefixtures("aws")
def test_the_lake_holds_strict_json_only() -> None:
    """Everything that lands parses back under a strict parser: no NaN/Infinity, UTF-8."""
    payloads = [json.dumps(VALID).encode(), *(data for data, _ in POISON.values())]
    _, lake, quarantined = _run(payloads)
    assert len(lake["landed"]) == 1 and len(quarantined) == len(POISON)

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    for body in objects().values():
        for raw in gzip.decompress(body).splitlines():
            raw.decode("utf-8")
            json.loads(raw, parse_constant=refuse)


@pytest.mark.usefixtures("aws")
def test_an_arrival_time_that_cannot_be_partitioned_is_quarantined() -> None:
    event = kinesis_batch([json.dumps(VALID).encode(), json.dumps(VALID).encode()])
    event["Records"][1]["kinesis"]["approximateArrivalTimestamp"] = 1e20  # year ~3 trillion
    response, _ = process_batch(event, LakeWriter(bucket=BUCKET, s3=CountingS3()))
    assert response == {"batchItemFailures": []}
    quarantined = [line for k, body in objects().items() if k.startswith("quarantine/") for line in lines(body)]
    (line,) = quarantined
    assert line["reason"].startswith("unpartitionable: arrival time 1e+20")
    assert line["sequence_number"] == event["Records"][1]["kinesis"]["sequenceNumber"]


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ClientError({"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "PutObject"), True),
        (
            ClientError({"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "PutObject"),
            True,
        ),
        (ClientError({"Error": {"Code": "KMSThrottlingException"}}, "PutObject"), True),
        (EndpointConnectionError(endpoint_url="https://s3.amazonaws.com"), True),
        (ReadTimeoutError(endpoint_url="https://s3.amazonaws.com"), True),
        (
            ClientError({"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "PutObject"),
            False,
        ),
        (ValueError("a bug"), False),
    ],
)
def test_write_errors_are_classified(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient
