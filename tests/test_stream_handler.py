"""The StreamingPipeline consumer on real Kinesis record batches (moto's Kinesis and S3).

Records are put into a moto Kinesis stream and read back with GetRecords, then wrapped in the
event Lambda's event source mapping delivers, so sequence numbers, arrival times and encodings are
the service's, not hand-made.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from refarch.runtime.stream_processor import handler
from refarch.runtime.stream_processor.handler import LakeWriter, partition_of, process_batch

REGION = "us-east-1"
BUCKET = "lake"
STREAM = "events"

GOOD = [
    {"event_id": f"e-{i}", "event_type": "page.view", "occurred_at": "2026-11-22T08:00:00Z", "source": "web"}
    for i in range(6)
]
INVALID = [
    {"event_id": "x-1", "event_type": "Page View", "occurred_at": "2026-11-22T08:00:00Z", "source": "web"},
    {"event_id": "x-2", "event_type": "page.view", "source": "web"},  # no occurred_at
    ["not", "an", "object"],
]
POISON = [b"\xff\xfe not utf-8", b'{"event_id": "truncated', b""]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield


def put_and_read(payloads: list[bytes]) -> tuple[str, str, list[dict[str, Any]]]:
    """A one-shard stream holding ``payloads``: its ARN, its shard, and its records as GetRecords returns them."""
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    description = kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]
    arn, shard = description["StreamARN"], description["Shards"][0]["ShardId"]
    for i, data in enumerate(payloads):
        kinesis.put_record(StreamName=STREAM, Data=data, PartitionKey=f"user-{i % 3}")
    iterator = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=10_000)["Records"]
    assert len(records) == len(payloads)
    return arn, shard, records


def kinesis_batch(payloads: list[bytes], *, shift_first: int = 0) -> dict[str, Any]:
    """Put ``payloads`` into a stream (one shard, in order), read them back, and wrap them as
    Lambda's Kinesis event. The first ``shift_first`` records are dated one hour earlier, as a
    batch that straddles an hour boundary is."""
    arn, shard, records = put_and_read(payloads)
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r["PartitionKey"],
                    "sequenceNumber": r["SequenceNumber"],
                    "data": base64.b64encode(r["Data"]).decode(),
                    "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp()
                    - (3600 if i < shift_first else 0),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{r['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/consumer",
                "awsRegion": REGION,
                "eventSourceARN": arn,
            }
            for i, r in enumerate(records)
        ]
    }


def mixed_payloads() -> list[bytes]:
    """Good, invalid and poison records, interleaved as producers would send them."""
    good = [json.dumps(e).encode() for e in GOOD]
    invalid = [json.dumps(e).encode() for e in INVALID]
    return [good[0], invalid[0], good[1], POISON[0], good[2], invalid[1], good[3], POISON[1], good[4], invalid[2],
            good[5], POISON[2]]  # fmt: skip


class CountingS3:
    """The real (moto) client, counting PutObject calls; ``fail_prefix`` makes PUTs of matching keys
    fail with a throttling error, as S3 does under load."""

    def __init__(self, fail_prefix: str | None = None) -> None:
        self.client = boto3.client("s3", region_name=REGION)
        self.fail_prefix = fail_prefix
        self.puts: list[str] = []

    def put_object(self, **kwargs: Any) -> Any:
        self.puts.append(kwargs["Key"])
        if self.fail_prefix is not None and kwargs["Key"].startswith(self.fail_prefix):
            raise ClientError(
                {"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}, "PutObject"
            )
        return self.client.put_object(**kwargs)


def objects() -> dict[str, bytes]:
    s3 = boto3.client("s3", region_name=REGION)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in keys}


def lines(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(body).splitlines()]


def expected_lake_body(event: dict[str, Any], records: list[dict[str, Any]]) -> bytes:
    """The lake object the handler must write, built independently from the input records."""
    from datetime import datetime, timezone

    out = []
    for r in records:
        k = r["kinesis"]
        arrival = datetime.fromtimestamp(k["approximateArrivalTimestamp"], tz=timezone.utc)
        line = {
            "arrival_time": arrival.isoformat(timespec="milliseconds"),
            "shard_id": r["eventID"].split(":")[0],
            "sequence_number": k["sequenceNumber"],
            "partition_key": k["partitionKey"],
            "event": json.loads(base64.b64decode(k["data"])),
        }
        out.append(json.dumps(line, separators=(",", ":")) + "\n")
    return "".join(out).encode()


@dataclass
class Counted:
    event: dict[str, Any]
    response: dict[str, Any]
    written: dict[str, list[str]]
    s3: CountingS3


def run(fail_prefix: str | None = None, shift_first: int = 0) -> Counted:
    event = kinesis_batch(mixed_payloads(), shift_first=shift_first)
    s3 = CountingS3(fail_prefix)
    response, batch = process_batch(event, LakeWriter(bucket=BUCKET, s3=s3))
    return Counted(event, response, batch.written, s3)


def test_every_record_is_landed_quarantined_or_reported(aws: None) -> None:
    result = run()
    stored = objects()
    landed = [line for k, body in stored.items() if k.startswith("events/") for line in lines(body)]
    quarantined = [line for k, body in stored.items() if k.startswith("quarantine/") for line in lines(body)]
    failures = result.response["batchItemFailures"]
    assert len(result.event["Records"]) == len(landed) + len(quarantined) + len(failures) == 12
    assert (len(landed), len(quarantined), len(failures)) == (6, 6, 0)
    assert [line["event"] for line in landed] == GOOD


def test_lake_object_is_byte_for_byte_the_enriched_good_records(aws: None) -> None:
    result = run()
    records = result.event["Records"]
    good = [records[i] for i in (0, 2, 4, 6, 8, 10)]
    (key,) = result.written["lake"]
    body = objects()[key]
    assert gzip.decompress(body) == expected_lake_body(result.event, good)
    # Deterministic compression: the same records always give the same bytes (idempotent retries).
    assert body == gzip.compress(expected_lake_body(result.event, good), compresslevel=6, mtime=0)


def test_keys_are_hive_partitions_named_by_shard_and_sequence_range(aws: None) -> None:
    result = run()
    records = result.event["Records"]
    partition = partition_of(records[0]["kinesis"]["approximateArrivalTimestamp"])
    assert partition.startswith("dt=20") and "/hour=" in partition
    shard = records[0]["eventID"].split(":")[0]
    first, last = records[0]["kinesis"]["sequenceNumber"], records[10]["kinesis"]["sequenceNumber"]
    assert result.written["lake"] == [f"events/{partition}/{shard}-{first}-{last}.jsonl.gz"]
    q_first, q_last = records[1]["kinesis"]["sequenceNumber"], records[11]["kinesis"]["sequenceNumber"]
    assert result.written["quarantine"] == [f"quarantine/{partition}/{shard}-{q_first}-{q_last}.jsonl.gz"]


def test_one_put_per_partition_per_batch(aws: None) -> None:
    # The first 4 records arrived an hour earlier: 2 lake and 2 quarantine partitions, so 4 PUTs for 12 records.
    result = run(shift_first=4)
    assert len(result.s3.puts) == 4
    assert len(set(result.s3.puts)) == 4
    hours = {key.split("/")[2] for key in result.s3.puts}
    assert len(hours) == 2
    landed = {k: lines(v) for k, v in objects().items() if k.startswith("events/")}
    assert sorted(len(v) for v in landed.values()) == [2, 4]


def test_quarantine_keeps_the_reason_and_the_original_bytes(aws: None) -> None:
    result = run()
    (key,) = result.written["quarantine"]
    quarantined = lines(objects()[key])
    reasons = [q["reason"] for q in quarantined]
    assert [r.split(":")[0] for r in reasons] == [
        "invalid",
        "malformed",
        "invalid",
        "malformed",
        "invalid",
        "malformed",
    ]
    assert "event_type must match pattern" in reasons[0]
    assert reasons[2] == "invalid: data must contain ['occurred_at'] properties"
    originals = [base64.b64decode(q["data"]) for q in quarantined]
    assert originals == [json.dumps(INVALID[0]).encode(), POISON[0], json.dumps(INVALID[1]).encode(), POISON[1],
                         json.dumps(INVALID[2]).encode(), POISON[2]]  # fmt: skip
    assert all(q["shard_id"].startswith("shardId-") and q["sequence_number"] for q in quarantined)


def test_partial_batch_response_is_empty_when_everything_is_stored(aws: None) -> None:
    assert run().response == {"batchItemFailures": []}


def test_transient_s3_error_fails_exactly_the_records_of_that_partition(aws: None) -> None:
    # Lake PUTs throttle; the quarantine PUT succeeds.
    result = run(fail_prefix="events/")
    records = result.event["Records"]
    good_sequences = [records[i]["kinesis"]["sequenceNumber"] for i in (0, 2, 4, 6, 8, 10)]
    assert result.response == {"batchItemFailures": [{"itemIdentifier": s} for s in good_sequences]}
    stored = objects()
    assert not [k for k in stored if k.startswith("events/")]
    assert len(lines(stored[result.written["quarantine"][0]])) == 6
    # Nothing dropped: every record is stored or handed back to Lambda for retry.
    assert 6 + len(result.response["batchItemFailures"]) == len(records)


def test_transient_error_in_one_hour_leaves_the_other_hour_stored(aws: None) -> None:
    event = kinesis_batch(mixed_payloads(), shift_first=4)
    earlier = partition_of(event["Records"][0]["kinesis"]["approximateArrivalTimestamp"])
    s3 = CountingS3(fail_prefix=f"events/{earlier}/")
    response, batch = process_batch(event, LakeWriter(bucket=BUCKET, s3=s3))
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert failed == [event["Records"][i]["kinesis"]["sequenceNumber"] for i in (0, 2)]
    assert len(batch.written["lake"]) == 1
    assert len(batch.written["quarantine"]) == 2


def test_whole_batch_failing_raises_so_lambda_retries_and_bisects(aws: None) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    event = kinesis_batch([json.dumps(e).encode() for e in GOOD])
    with pytest.raises(BatchProcessingError):
        process_batch(event, LakeWriter(bucket=BUCKET, s3=CountingS3(fail_prefix="")))
    assert objects() == {}


def test_a_retried_batch_overwrites_the_same_keys(aws: None) -> None:
    event = kinesis_batch(mixed_payloads())
    first, _ = process_batch(event, LakeWriter(bucket=BUCKET, s3=CountingS3()))
    before = objects()
    process_batch(event, LakeWriter(bucket=BUCKET, s3=CountingS3()))
    assert objects() == before
    assert len(before) == 2


def test_custom_schema(aws: None) -> None:
    schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
    event = kinesis_batch([b'{"id": 1}', b'{"id": "one"}'])
    response, batch = process_batch(
        event, LakeWriter(bucket=BUCKET, s3=CountingS3(), schema=schema, lake_prefix="raw/")
    )
    assert response == {"batchItemFailures": []}
    assert batch.written["lake"][0].startswith("raw/dt=")
    assert "data.id must be integer" in lines(objects()[batch.written["quarantine"][0]])[0]["reason"]


@dataclass
class FakeContext:
    function_name: str = "stream-processor"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:stream-processor"
    aws_request_id: str = "6f3b6a57-9b0a-4b4e-8c55-6c1c27d1d6a8"


def test_lambda_handler_from_environment(aws: None, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("BUCKET_NAME", BUCKET)
    monkeypatch.setenv("LAKE_PREFIX", "events/")
    handler._writer.cache_clear()
    try:
        response = handler.lambda_handler(kinesis_batch(mixed_payloads()), FakeContext())
    finally:
        handler._writer.cache_clear()
    assert response == {"batchItemFailures": []}
    assert len(objects()) == 2
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf, "metrics are flushed as CloudWatch embedded metric format"
    assert emf[-1]["RecordsIn"] == [12.0]
    assert emf[-1]["RecordsLanded"] == [6.0]
    assert emf[-1]["RecordsQuarantined"] == [6.0]
    assert emf[-1]["ObjectsWritten"] == [2.0]


# -- the Redshift SQL custom resource (botocore Stubber: moto has no BatchExecuteStatement) ----------


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 600_000


def _stubbed(monkeypatch: pytest.MonkeyPatch, statuses: list[dict[str, Any]], secret: str | None) -> Any:
    from botocore.stub import ANY, Stubber

    from refarch.runtime.stream_processor import apply_sql

    data = boto3.client("redshift-data", region_name=REGION)
    serverless = boto3.client("redshift-serverless", region_name=REGION)
    data_stub, serverless_stub = Stubber(data), Stubber(serverless)
    namespace: dict[str, Any] = {"namespaceName": "lake-ns"}
    if secret:
        namespace["adminPasswordSecretArn"] = secret
    serverless_stub.add_response("get_namespace", {"namespace": namespace}, {"namespaceName": "lake-ns"})
    if secret:
        data_stub.add_response(
            "batch_execute_statement",
            {"Id": "stmt-1", "CreatedAt": datetime(2026, 11, 22), "WorkgroupName": "lake-wg"},
            {
                "WorkgroupName": "lake-wg",
                "Database": "dev",
                "SecretArn": secret,
                "Sqls": ANY,
                "StatementName": "refarch-streaming-ingestion",
            },
        )
        for status in statuses:
            data_stub.add_response("describe_statement", {"Id": "stmt-1", **status}, {"Id": "stmt-1"})
    data_stub.activate()
    serverless_stub.activate()
    clients = {"redshift-data": data, "redshift-serverless": serverless}
    monkeypatch.setattr(apply_sql.boto3, "client", lambda name: clients[name])
    monkeypatch.setattr(apply_sql, "POLL_SECONDS", 0)
    return apply_sql, data_stub


SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift!lake-ns-refarch_admin-AbCdEf"
PROPS = {
    "WorkgroupName": "lake-wg",
    "Database": "dev",
    "NamespaceName": "lake-ns",
    "Name": "stream_events",
    "Sqls": ["SET enable_case_sensitive_identifier TO true;", "CREATE MATERIALIZED VIEW stream_events AS SELECT 1;"],
    "ReplaceSqls": ["DROP MATERIALIZED VIEW IF EXISTS stream_events;"],
}


def test_apply_sql_waits_for_the_statement_and_reports_its_id(monkeypatch: pytest.MonkeyPatch) -> None:
    apply_sql, stub = _stubbed(monkeypatch, [{"Status": "STARTED"}, {"Status": "FINISHED"}], SECRET)
    result = apply_sql.on_event({"RequestType": "Create", "ResourceProperties": PROPS}, _Context())
    assert result == {"PhysicalResourceId": "lake-wg/dev/stream_events", "Data": {"StatementId": "stmt-1"}}
    stub.assert_no_pending_responses()


def test_apply_sql_fails_the_deployment_when_redshift_rejects_the_sql(monkeypatch: pytest.MonkeyPatch) -> None:
    apply_sql, _ = _stubbed(monkeypatch, [{"Status": "FAILED", "Error": "ERROR: permission denied for schema"}], SECRET)
    with pytest.raises(apply_sql.SqlFailed, match="permission denied"):
        apply_sql.on_event({"RequestType": "Create", "ResourceProperties": PROPS}, _Context())


def test_apply_sql_update_drops_then_recreates_only_when_the_sql_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    apply_sql, _ = _stubbed(monkeypatch, [{"Status": "FINISHED"}], SECRET)
    calls: list[list[str]] = []
    real_run = apply_sql.run
    monkeypatch.setattr(apply_sql, "run", lambda c, p, sqls, **kw: calls.append(sqls) or real_run(c, p, sqls, **kw))
    old = {**PROPS, "Sqls": ["CREATE MATERIALIZED VIEW stream_events AS SELECT 0;"]}
    event = {
        "RequestType": "Update",
        "PhysicalResourceId": "x",
        "ResourceProperties": PROPS,
        "OldResourceProperties": old,
    }
    apply_sql.on_event(event, _Context())
    assert calls == [[*PROPS["ReplaceSqls"], *PROPS["Sqls"]]]


def test_apply_sql_unchanged_update_and_delete_run_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from refarch.runtime.stream_processor import apply_sql

    monkeypatch.setattr(apply_sql.boto3, "client", lambda name: pytest.fail(f"no {name} call expected"))
    same = {
        "RequestType": "Update",
        "PhysicalResourceId": "p",
        "ResourceProperties": PROPS,
        "OldResourceProperties": PROPS,
    }
    assert apply_sql.on_event(same, _Context()) == {"PhysicalResourceId": "p"}
    delete = {"RequestType": "Delete", "PhysicalResourceId": "p", "ResourceProperties": PROPS}
    assert apply_sql.on_event(delete, _Context()) == {"PhysicalResourceId": "p"}


def test_apply_sql_needs_the_redshift_managed_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    apply_sql, _ = _stubbed(monkeypatch, [], None)
    with pytest.raises(apply_sql.SqlFailed, match="no Redshift-managed admin secret"):
        apply_sql.on_event({"RequestType": "Create", "ResourceProperties": PROPS}, _Context())
