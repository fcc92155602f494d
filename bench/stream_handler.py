#!/usr/bin/env python3
"""StreamingPipeline consumer vs the naive way, on one 10,000-record Kinesis batch (moto's in-process S3).

    .venv/bin/python bench/stream_handler.py [--records 10000] [--repeat 3]

Both sides decode, validate (the same compiled default schema) and enrich the same records and
write them to the same bucket. The handler groups the writes (one gzip object per partition and
destination); the baseline does one PUT per record, as a first Lambda usually does. Prints records per
second of each (best of ``--repeat``; the baseline runs once, it is slow), the ratio, and PUTs per
10,000 records. Run from the repository root.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# refarch imports aws_cdk, whose jsii runtime wants a supported Node: the pinned one, as tests use.
if (ROOT / "node_modules" / ".bin" / "node").exists():
    os.environ.setdefault("JSII_NODE", str(ROOT / "node_modules" / ".bin" / "node"))

for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ[_name] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"

import boto3  # noqa: E402
import fastjsonschema  # noqa: E402
from moto import mock_aws  # noqa: E402

from refarch.runtime.stream_processor.handler import LakeWriter, load_schema, partition_of, process_batch  # noqa: E402

BUCKET = "bench-lake"
SHARD = "shardId-000000000000"


def make_event(count: int, seed: int = 4) -> dict[str, Any]:
    """A Lambda Kinesis event of ``count`` records from one shard, arriving over ~2 minutes across an
    hour boundary; 98 % valid events, 1 % schema-invalid, 1 % not JSON."""
    rng = random.Random(seed)
    start = 1_795_510_740.0  # 2026-11-22T07:59:00Z
    records = []
    for i in range(count):
        roll = rng.random()
        event: Any = {
            "event_id": f"evt-{i:06d}",
            "event_type": rng.choice(["page.view", "cart.add", "checkout.start", "search"]),
            "occurred_at": "2026-11-22T07:59:30Z",
            "source": "web",
            "user_id": f"user-{rng.randrange(5000)}",
            "attributes": {"path": f"/p/{rng.randrange(900)}", "ms": rng.randrange(2000)},
        }
        if roll < 0.01:
            data = b"\x00\x01 not json"
        else:
            if roll < 0.02:
                event["event_type"] = "Not Valid"
            data = json.dumps(event).encode()
        sequence = str(49_650_000_000_000_000_000_000_000_000_000_000_000_000_000_000 + i * 1_000)
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": event["user_id"],
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(data).decode(),
                    "approximateArrivalTimestamp": start + i * 120.0 / count,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{SHARD}:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/consumer",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/bench",
            }
        )
    return {"Records": records}


class CountingS3:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.puts = 0

    def put_object(self, **kwargs: Any) -> Any:
        self.puts += 1
        return self.client.put_object(**kwargs)


def naive(event: dict[str, Any], s3: CountingS3) -> dict[str, Any]:
    """The baseline: one record at a time, one uncompressed PUT per record."""
    validate = fastjsonschema.compile(load_schema())
    failures = []
    for record in event["Records"]:
        k = record["kinesis"]
        meta = {
            "shard_id": record["eventID"].split(":")[0],
            "sequence_number": k["sequenceNumber"],
            "partition_key": k["partitionKey"],
            "arrival": k["approximateArrivalTimestamp"],
        }
        partition = partition_of(k["approximateArrivalTimestamp"])
        raw = base64.b64decode(k["data"])
        try:
            body, prefix = json.dumps({**meta, "event": validate(json.loads(raw))}), "events/"
        except (ValueError, fastjsonschema.JsonSchemaValueException) as exc:
            body, prefix = json.dumps({**meta, "reason": str(exc), "data": k["data"]}), "quarantine/"
        try:
            s3.put_object(Bucket=BUCKET, Key=f"{prefix}{partition}/{k['sequenceNumber']}.json", Body=body.encode())
        except Exception:
            failures.append({"itemIdentifier": k["sequenceNumber"]})
    return {"batchItemFailures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    event = make_event(args.records)

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        # Warm up both paths (client endpoints, moto's backends, the schema compiler).
        warm = make_event(50, seed=1)
        process_batch(warm, LakeWriter(bucket=BUCKET, s3=CountingS3(client)))
        naive(warm, CountingS3(client))

        handler_times, handler_puts = [], 0
        for _ in range(args.repeat):
            s3 = CountingS3(client)
            started = time.perf_counter()
            response, _ = process_batch(event, LakeWriter(bucket=BUCKET, s3=s3))
            handler_times.append(time.perf_counter() - started)
            assert response == {"batchItemFailures": []}, response
            handler_puts = s3.puts

        s3 = CountingS3(client)
        started = time.perf_counter()
        response = naive(event, s3)
        naive_time = time.perf_counter() - started
        assert response == {"batchItemFailures": []}, response
        naive_puts = s3.puts

    best = min(handler_times)
    per_10k = 10_000 / args.records
    print(f"records per batch:           {args.records}")
    rate = args.records / best
    print(f"handler (grouped, gzip):     {rate:>12,.0f} records/s  (best of {args.repeat}: {best:.3f} s)")
    print(f"naive (one PUT per record):  {args.records / naive_time:>12,.0f} records/s  ({naive_time:.3f} s)")
    print(f"speed-up:                    {naive_time / best:>12.1f}x")
    print(f"S3 PUTs per 10,000 records:  handler {handler_puts * per_10k:,.0f}, naive {naive_puts * per_10k:,.0f}")


if __name__ == "__main__":
    main()
