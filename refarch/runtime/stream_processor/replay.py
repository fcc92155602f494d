"""Recover the records that exhausted their retries: from the on-failure queue, back from the stream,
into the quarantine.

When the consumer's retries run out, the event source mapping sends only a description of the
batch to the on-failure queue, not its records (Lambda's "invocation record")::

    {"requestContext": {"condition": "RetryAttemptsExhausted", ...}, "timestamp": "...",
     "KinesisBatchInfo": {"shardId": "shardId-000000000001", "startSequenceNumber": "4960...",
                          "endSequenceNumber": "4960...", "batchSize": 500,
                          "streamArn": "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks", ...}}

The records themselves stay in the stream until its retention passes. This tool, run by an operator
(not by the function), reads those messages, fetches the records they name (a shard iterator
``AT_SEQUENCE_NUMBER`` the start, then ``GetRecords`` up to the end sequence number), writes them to
the quarantine prefix with the reason ``exhausted retries`` (the consumer's own quarantine format:
original bytes in base64, shard, sequence number, arrival time), and deletes a message only after
its records are written. A message whose records are no longer retained stays in the queue.

    python -m refarch.runtime.stream_processor.replay --queue-url URL --bucket BUCKET [--dry-run]

AWS calls, with the operator's credentials: ``sqs:ReceiveMessage``, ``sqs:DeleteMessage``,
``kinesis:GetShardIterator``, ``kinesis:GetRecords``, ``s3:PutObject`` (and ``kms:GenerateDataKey``
/ ``kms:Decrypt`` on the stream's, queue's and bucket's keys).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import boto3
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from refarch.runtime.stream_processor.handler import QUARANTINE, LakeWriter, Routed

REASON = "exhausted retries"
#: Suffix of the objects this tool writes, so they never overwrite the consumer's own quarantine objects.
KEY_SUFFIX = ".replayed"
#: GetRecords calls per message at most (each returns up to 10,000 records or 10 MB).
MAX_CALLS_PER_MESSAGE = 100


@dataclass(frozen=True)
class BatchInfo:
    """The ``KinesisBatchInfo`` of one on-failure message: which records of which shard failed."""

    stream_arn: str
    shard_id: str
    start: str
    end: str
    batch_size: int

    @property
    def stream_name(self) -> str:
        return self.stream_arn.rpartition(":stream/")[2]

    @classmethod
    def parse(cls, body: str) -> BatchInfo | None:
        """The batch a message describes, or ``None`` when it is not a Kinesis invocation record."""
        try:
            info = json.loads(body)["KinesisBatchInfo"]
            return cls(
                stream_arn=str(info["streamArn"]),
                shard_id=str(info["shardId"]),
                start=str(info["startSequenceNumber"]),
                end=str(info["endSequenceNumber"]),
                batch_size=int(info.get("batchSize", 0)),
            )
        except (ValueError, KeyError, TypeError):
            return None


@dataclass
class Outcome:
    """What happened to one message."""

    message_id: str
    action: str  # "replayed", "would replay", "kept: <why>", "skipped: <why>"
    stream_arn: str = ""
    shard_id: str = ""
    records: int = 0
    expected: int = 0
    keys: list[str] = field(default_factory=list)


def fetch(kinesis: Any, info: BatchInfo, *, max_calls: int = MAX_CALLS_PER_MESSAGE) -> list[dict[str, Any]]:
    """The records of ``info`` still in the stream, in order (GetRecords' shape)."""
    iterator = kinesis.get_shard_iterator(
        StreamName=info.stream_name,
        ShardId=info.shard_id,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=info.start,
    )["ShardIterator"]
    start, end = int(info.start), int(info.end)
    found: list[dict[str, Any]] = []
    for _ in range(max_calls):
        response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        records = response.get("Records", [])
        found += [r for r in records if start <= int(r["SequenceNumber"]) <= end]
        past_end = bool(records) and int(records[-1]["SequenceNumber"]) >= end
        iterator = response.get("NextShardIterator")
        if past_end or not iterator or (not records and response.get("MillisBehindLatest", 0) == 0):
            break
    return found


def as_event_record(info: BatchInfo, record: dict[str, Any]) -> KinesisStreamRecord:
    """A GetRecords record in the shape the Lambda event gives the consumer."""
    arrival = record["ApproximateArrivalTimestamp"]
    return KinesisStreamRecord(
        {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": record["PartitionKey"],
                "sequenceNumber": record["SequenceNumber"],
                "data": base64.b64encode(record["Data"]).decode(),
                "approximateArrivalTimestamp": arrival.timestamp() if hasattr(arrival, "timestamp") else arrival,
            },
            "eventSource": "aws:kinesis",
            "eventID": f"{info.shard_id}:{record['SequenceNumber']}",
            "eventSourceARN": info.stream_arn,
        }
    )


def write(writer: LakeWriter, info: BatchInfo, records: list[dict[str, Any]]) -> list[str]:
    """The records into the quarantine, one object per arrival-hour partition; the keys written."""
    groups: dict[str, list[Routed]] = defaultdict(list)
    for record in records:
        routed = writer.quarantine(as_event_record(info, record), REASON)
        groups[routed.partition].append(routed)
    return [writer.put(QUARANTINE, partition, group, suffix=KEY_SUFFIX) for partition, group in groups.items()]


#: Seconds a received message stays hidden from other consumers while it is replayed. A message left
#: in the queue (another stream's, or no longer retained) reappears after it.
VISIBILITY_SECONDS = 300
#: Receives in a row that bring no new message before the queue counts as drained.
EMPTY_RECEIVES = 3


def _messages(sqs: Any, queue_url: str, *, limit: int, dry_run: bool, wait: int) -> Iterator[dict[str, Any]]:
    """Up to ``limit`` distinct messages. A dry run leaves each visible again at once (visibility 0),
    so it may receive a message twice: each is handled once."""
    seen: set[str] = set()
    empty = 0
    while len(seen) < limit and empty < EMPTY_RECEIVES:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, limit - len(seen)),
            WaitTimeSeconds=wait,
            VisibilityTimeout=0 if dry_run else VISIBILITY_SECONDS,
        )
        fresh = [m for m in response.get("Messages", []) if m["MessageId"] not in seen]
        empty = 0 if fresh else empty + 1
        for message in fresh:
            seen.add(message["MessageId"])
            yield message


def _stream_matches(info: BatchInfo, stream: str | None) -> bool:
    return stream is None or info.stream_arn == stream or info.stream_arn.endswith(f":stream/{stream}")


def replay(
    *,
    sqs: Any,
    kinesis: Any,
    writer: LakeWriter,
    queue_url: str,
    stream: str | None = None,
    max_messages: int = 100,
    dry_run: bool = False,
    wait_seconds: int = 1,
) -> list[Outcome]:
    """Replay up to ``max_messages`` on-failure messages of ``queue_url`` (of ``stream`` only, a name
    or ARN, when given) into the quarantine, long-polling ``wait_seconds`` per receive. Returns what
    happened to each message."""
    outcomes = []
    for message in _messages(sqs, queue_url, limit=max_messages, dry_run=dry_run, wait=wait_seconds):
        info = BatchInfo.parse(message["Body"])
        if info is None:
            outcomes.append(Outcome(message["MessageId"], "skipped: not a Kinesis on-failure record"))
            continue
        outcome = Outcome(message["MessageId"], "", info.stream_arn, info.shard_id, expected=info.batch_size)
        outcomes.append(outcome)
        if not _stream_matches(info, stream):
            outcome.action = f"skipped: not from stream {stream}"
            continue
        records = fetch(kinesis, info)
        outcome.records = len(records)
        if not records:
            outcome.action = "kept: no record of the batch is retained by the stream any more"
        elif dry_run:
            outcome.action = "would replay"
        else:
            outcome.keys = write(writer, info, records)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            outcome.action = "replayed"
    return outcomes


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m refarch.runtime.stream_processor.replay",
        description="Write the records of the StreamingPipeline's on-failure messages to the quarantine "
        "prefix (reason 'exhausted retries'), then delete each message.",
    )
    parser.add_argument("--queue-url", required=True, help="the on-failure (dead-letter) queue")
    parser.add_argument("--bucket", required=True, help="the lake bucket")
    stream = parser.add_mutually_exclusive_group()
    stream.add_argument("--stream-name", help="replay only messages of this stream")
    stream.add_argument("--stream-arn", help="replay only messages of this stream")
    parser.add_argument("--quarantine-prefix", default="quarantine/", help="default: quarantine/")
    parser.add_argument("--max-messages", type=int, default=100, help="messages to handle at most (default 100)")
    parser.add_argument("--dry-run", action="store_true", help="fetch and count, write and delete nothing")
    parser.add_argument("--region", help="default: the AWS profile's region")
    parser.add_argument("--wait-seconds", type=int, default=1, choices=range(21), metavar="0-20",
                        help="long-poll time of each receive (default 1)")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = _parser().parse_args(argv)
    if args.max_messages < 1:
        _parser().error(f"--max-messages must be at least 1, got {args.max_messages}")
    session = boto3.session.Session(region_name=args.region)
    writer = LakeWriter(bucket=args.bucket, s3=session.client("s3"), quarantine_prefix=args.quarantine_prefix)
    outcomes = replay(
        sqs=session.client("sqs"),
        kinesis=session.client("kinesis"),
        writer=writer,
        queue_url=args.queue_url,
        stream=args.stream_arn or args.stream_name,
        max_messages=args.max_messages,
        dry_run=args.dry_run,
        wait_seconds=args.wait_seconds,
    )
    for outcome in outcomes:
        print(json.dumps(outcome.__dict__), file=out)
    replayed = [o for o in outcomes if o.action in ("replayed", "would replay")]
    print(
        f"{len(outcomes)} messages; {len(replayed)} {'would be ' if args.dry_run else ''}replayed with "
        f"{sum(o.records for o in replayed)} records; {len(outcomes) - len(replayed)} left in the queue",
        file=out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
