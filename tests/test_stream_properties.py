"""Property: whatever the records hold, the consumer loses none and fails none by their content.

Hypothesis builds batches of arbitrary bytes, arbitrary JSON (NaN, huge numbers, surrogates, deep
nesting), valid events with arbitrary attributes and odd arrival times, and injects transient S3
errors into some writes. For every batch: records in = lines in the lake + lines in the quarantine +
batch item failures, each record in exactly one place, and failures only where a write was made to
fail. One moto mock for the whole test (not one per example), bounded examples: a few seconds.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refarch.runtime.stream_processor.handler import LakeWriter, process_batch
from tests.test_stream_handler import BUCKET, REGION, aws  # noqa: F401

SHARD = "shardId-000000000000"
ARN = f"arn:aws:kinesis:{REGION}:123456789012:stream/events"
NOW = 1_795_510_740.0  # 2026-11-22T07:59:00Z

_text = st.text(st.characters() | st.sampled_from(["\ud800", "\udfff", "\x00", "\ufeff"]), max_size=12)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN, Infinity and -Infinity included: json.dumps writes them bare
    | _text
)
_json = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3), max_leaves=12
)


def _event(attributes: Any, event_type: str) -> bytes:
    event = {"event_id": "e", "event_type": event_type, "occurred_at": "2026-11-22T08:00:00Z", "source": "web"}
    return json.dumps({**event, "attributes": attributes}).encode()


_payloads = st.one_of(
    st.binary(max_size=48),
    _json.map(lambda v: json.dumps(v).encode()),
    st.builds(_event, st.dictionaries(_text, _json, max_size=3), st.sampled_from(["page.view", "Bad Type"])),
    st.integers(1, 3000).map(lambda depth: b'{"event_id":' + b"[" * depth + b"]" * depth + b"}"),
    st.integers(4290, 4310).map(lambda digits: b'{"n":' + b"7" * digits + b"}"),
)
_arrivals = st.one_of(st.just(NOW), st.just(NOW - 3600), st.floats(allow_nan=True, allow_infinity=True))


class FlakyS3:
    """moto S3, except that PUTs under ``failing`` prefixes raise a transient error (503 SlowDown)."""

    def __init__(self, failing: set[str]) -> None:
        self.client = boto3.client("s3", region_name=REGION)
        self.failing = failing
        self.failed: list[str] = []

    def put_object(self, **kwargs: Any) -> Any:
        if any(kwargs["Key"].startswith(prefix) for prefix in self.failing):
            self.failed.append(kwargs["Key"])
            error = {"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}}
            raise ClientError(error, "PutObject")  # type: ignore[arg-type]
        return self.client.put_object(**kwargs)


def _lines(s3: FlakyS3, key: str) -> list[dict[str, Any]]:
    body = s3.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return [json.loads(line) for line in gzip.decompress(body).splitlines()]


def _batch(records: list[tuple[bytes, float]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": f"user-{i % 3}",
                    "sequenceNumber": f"4959{i:052d}",
                    "data": base64.b64encode(data).decode(),
                    "approximateArrivalTimestamp": arrival,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{SHARD}:4959{i:052d}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/consumer",
                "awsRegion": REGION,
                "eventSourceARN": ARN,
            }
            for i, (data, arrival) in enumerate(records)
        ]
    }


@pytest.mark.usefixtures("aws")
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    records=st.lists(st.tuples(_payloads, _arrivals), min_size=1, max_size=8),
    failing=st.sets(st.sampled_from(["events/", "quarantine/"])),
)
def test_records_in_equal_lake_plus_quarantine_plus_failures(
    records: list[tuple[bytes, float]], failing: set[str]
) -> None:
    event = _batch(records)
    s3 = FlakyS3(failing)
    sequences = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    try:
        response, batch = process_batch(event, LakeWriter(bucket=BUCKET, s3=s3))
        failures = [f["itemIdentifier"] for f in response["batchItemFailures"]]
        written = batch.written
    except BatchProcessingError:  # every record failed: the invocation fails and Lambda retries it whole
        failures, written = sequences, {"lake": [], "quarantine": []}
    landed = [line for key in written["lake"] for line in _lines(s3, key)]
    kept = [line for key in written["quarantine"] for line in _lines(s3, key)]

    places = [line["sequence_number"] for line in landed + kept] + failures
    assert sorted(places) == sorted(sequences), "every record in exactly one place"
    assert not failures or s3.failed, "failures only where a write was made to fail"
    by_sequence = dict(zip(sequences, records, strict=True))
    for line in landed:  # strict JSON in UTF-8: no NaN/Infinity, no lone surrogates
        json.dumps(line["event"], ensure_ascii=False, allow_nan=False).encode("utf-8")
    for line in kept:
        assert base64.b64decode(line["data"]) == by_sequence[line["sequence_number"]][0]
        assert line["reason"]
