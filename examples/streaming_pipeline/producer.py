#!/usr/bin/env python3
"""Put sample clickstream records into the pipeline's stream (after `cdk deploy`).

    python producer.py --stream <StreamName output> [--count 1000] [--invalid 0.02] [--region eu-west-1]

Records go in batches of up to 500 (PutRecords); records the service throttles are retried with
backoff, so none is dropped. A share of deliberately invalid records shows the quarantine at work.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from datetime import datetime, timezone

import boto3

EVENT_TYPES = ["page.view", "cart.add", "checkout.start", "search"]


def sample_event(rng: random.Random, invalid_share: float) -> bytes:
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": rng.choice(EVENT_TYPES),
        "occurred_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "source": "producer.py",
        "user_id": f"user-{rng.randrange(1000)}",
        "attributes": {"path": f"/p/{rng.randrange(500)}"},
    }
    if rng.random() < invalid_share:
        event["event_type"] = "Not A Type"  # valid JSON, fails the schema: lands in quarantine/
    return json.dumps(event).encode()


def put_all(client: object, stream: str, records: list[dict[str, object]], attempts: int = 8) -> None:
    pending = records
    for attempt in range(attempts):
        response = client.put_records(StreamName=stream, Records=pending)  # type: ignore[attr-defined]
        if response["FailedRecordCount"] == 0:
            return
        pending = [r for r, result in zip(pending, response["Records"], strict=True) if "ErrorCode" in result]
        time.sleep(min(0.1 * 2**attempt, 5))
    raise RuntimeError(f"{len(pending)} records still throttled after {attempts} attempts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stream", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--invalid", type=float, default=0.02, help="share of schema-invalid records")
    parser.add_argument("--region", default=None)
    args = parser.parse_args()
    client = boto3.client("kinesis", region_name=args.region)
    rng = random.Random()
    sent = 0
    while sent < args.count:
        size = min(500, args.count - sent)
        batch = []
        for _ in range(size):
            data = sample_event(rng, args.invalid)
            batch.append({"Data": data, "PartitionKey": json.loads(data)["user_id"]})
        put_all(client, args.stream, batch)
        sent += size
        print(f"put {sent}/{args.count}")


if __name__ == "__main__":
    main()
