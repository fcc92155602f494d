"""The replay tool on moto's Kinesis, SQS and S3: on-failure messages of the documented shape
(``KinesisBatchInfo``) become quarantine objects with the original records, and a message is deleted
only once its records are written."""

from __future__ import annotations

import base64
import gzip
import io
import json
from typing import Any

import boto3
import pytest

from refarch.runtime.stream_processor import replay
from refarch.runtime.stream_processor.handler import LakeWriter
from tests.test_stream_handler import BUCKET, REGION, STREAM, aws, objects, put_and_read  # noqa: F401

PAYLOADS = [b'{"event_id": "a"}', b"\xff\xfe not json", b'{"event_id": "c"}', b'{"event_id": "d"}']


def _on_failure_message(arn: str, shard: str, first: dict[str, Any], last: dict[str, Any], size: int) -> str:
    """An invocation record as Lambda sends it for a Kinesis event source mapping."""
    return json.dumps(
        {
            "requestContext": {
                "requestId": "c9b8fa9f-5a7f-4d5e-af9c-0c604cde93a5",
                "functionArn": f"arn:aws:lambda:{REGION}:123456789012:function:consumer",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 4,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": "2026-11-22T08:00:06.021Z",
            "KinesisBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": "2026-11-22T08:00:04.835Z",
                "approximateArrivalOfLastRecord": "2026-11-22T08:00:05.580Z",
                "batchSize": size,
                "streamArn": arn,
            },
        }
    )


@pytest.fixture
def setup(aws: None) -> dict[str, Any]:  # noqa: F811 (the imported fixture, requested by name)
    arn, shard, records = put_and_read(PAYLOADS)
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="on-failure")["QueueUrl"]
    # Records 1..2 (the poison and "c") exhausted their retries; "a" and "d" were stored.
    sqs.send_message(QueueUrl=queue, MessageBody=_on_failure_message(arn, shard, records[1], records[2], 2))
    return {"arn": arn, "shard": shard, "records": records, "sqs": sqs, "queue": queue}


def _run(setup: dict[str, Any], **kwargs: Any) -> list[replay.Outcome]:
    writer = LakeWriter(bucket=BUCKET, s3=boto3.client("s3", region_name=REGION))
    return replay.replay(
        sqs=setup["sqs"],
        kinesis=boto3.client("kinesis", region_name=REGION),
        writer=writer,
        queue_url=setup["queue"],
        wait_seconds=0,
        **kwargs,
    )


def _left(setup: dict[str, Any]) -> int:
    attributes = setup["sqs"].get_queue_attributes(QueueUrl=setup["queue"], AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_replay_writes_exactly_the_named_records_to_the_quarantine_then_deletes(setup: dict[str, Any]) -> None:
    (outcome,) = _run(setup)
    assert (outcome.action, outcome.records, outcome.expected) == ("replayed", 2, 2)
    stored = objects()
    (key,) = stored
    assert key == outcome.keys[0] and key.startswith("quarantine/dt=") and key.endswith(".replayed.jsonl.gz")
    lines = [json.loads(line) for line in gzip.decompress(stored[key]).splitlines()]
    assert [base64.b64decode(line["data"]) for line in lines] == PAYLOADS[1:3]
    assert {line["reason"] for line in lines} == {"exhausted retries"}
    assert [line["sequence_number"] for line in lines] == [r["SequenceNumber"] for r in setup["records"][1:3]]
    assert {line["shard_id"] for line in lines} == {setup["shard"]}
    assert _left(setup) == 0, "the message is deleted once its records are written"


def test_a_failed_write_keeps_the_message(setup: dict[str, Any]) -> None:
    class Refusing:
        def put_object(self, **_: Any) -> Any:
            raise RuntimeError("S3 is down")

    with pytest.raises(RuntimeError):
        replay.replay(
            sqs=setup["sqs"],
            kinesis=boto3.client("kinesis", region_name=REGION),
            writer=LakeWriter(bucket=BUCKET, s3=Refusing()),
            queue_url=setup["queue"],
            wait_seconds=0,
        )
    assert _left(setup) == 1


def test_dry_run_writes_and_deletes_nothing(setup: dict[str, Any]) -> None:
    (outcome,) = _run(setup, dry_run=True)
    assert (outcome.action, outcome.records) == ("would replay", 2)
    assert objects() == {}
    assert _left(setup) == 1


def test_other_streams_and_other_messages_stay_in_the_queue(setup: dict[str, Any]) -> None:
    setup["sqs"].send_message(QueueUrl=setup["queue"], MessageBody='{"hello": "not an invocation record"}')
    outcomes = _run(setup, stream="another-stream")
    assert sorted(o.action for o in outcomes) == [
        "skipped: not a Kinesis on-failure record",
        "skipped: not from stream another-stream",
    ]
    assert objects() == {}


def test_max_messages_bounds_the_run(setup: dict[str, Any]) -> None:
    records = setup["records"]
    body = _on_failure_message(setup["arn"], setup["shard"], records[3], records[3], 1)
    setup["sqs"].send_message(QueueUrl=setup["queue"], MessageBody=body)
    assert len(_run(setup, max_messages=1)) == 1
    assert len(objects()) == 1


def test_command_line(setup: dict[str, Any]) -> None:
    out = io.StringIO()
    argv = ["--queue-url", setup["queue"], "--bucket", BUCKET, "--stream-name", STREAM, "--region", REGION,
            "--wait-seconds", "0"]  # fmt: skip
    assert replay.main([*argv, "--dry-run"], out=out) == 0
    assert "1 messages; 1 would be replayed with 2 records; 0 left in the queue" in out.getvalue()
    assert replay.main(argv, out=io.StringIO()) == 0
    assert len(objects()) == 1 and _left(setup) == 0
