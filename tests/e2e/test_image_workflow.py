"""The ImageProcessor's state machine, taken from the synthesized template, run end to end in
moto's Step Functions engine against moto S3, DynamoDB, SNS (and SQS to read the notifications).

moto runs Lambda tasks in Docker; here each Lambda call is routed in-process to the real
handler the template names (``image_processor.handlers.validate``...), with the environment the
template gives the function. Everything else (Retry, Catch, Choice, Parallel, Map, the DynamoDB
and SNS integrations, the task token) is moto's engine executing our definition.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from aws_cdk import Duration, Stack
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.backend import execution_worker
from PIL import Image

from refarch.constructs import ImageProcessor, ImageRendition
from tests.harness import ROOT, new_app, synth

sys.path.insert(0, str(ROOT / "refarch" / "runtime"))
from image_processor import handlers, manifest  # noqa: E402

REGION, ACCOUNT = "us-east-1", "123456789012"
UPLOADS, OUTPUTS, TABLE = "uploads-bucket", "renditions-bucket", "image-status"
RENDITIONS = [ImageRendition("thumb", 64, 64), ImageRendition("medium", 320, 240)]


# -- the template, synthesized once ----------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    stack = Stack(new_app(), "ImageWorkflowE2E")
    common = dict(
        renditions=RENDITIONS, filters=["grayscale", "sharpen"], retry_interval=Duration.seconds(1), retry_attempts=2
    )
    ImageProcessor(stack, "Images", **common)  # type: ignore[arg-type]
    ImageProcessor(stack, "Reviewed", review=True, review_timeout=Duration.minutes(5), **common)  # type: ignore[arg-type]
    return synth(stack).json  # type: ignore[no-any-return]


class Resolver:
    """Replaces the template's tokens with the names and ARNs of the moto resources."""

    def __init__(self, template: dict[str, Any], topics: dict[str, str]) -> None:
        self.refs: dict[str, str] = {}
        self.functions: dict[str, str] = {}  # fake function ARN -> handler string
        for logical_id, resource in template["Resources"].items():
            kind = resource["Type"]
            if kind == "AWS::S3::Bucket" and "Uploads" in logical_id:
                self.refs[logical_id] = UPLOADS
            elif kind == "AWS::S3::Bucket" and "Renditions" in logical_id:
                self.refs[logical_id] = OUTPUTS
            elif kind == "AWS::DynamoDB::Table":
                self.refs[logical_id] = TABLE
            elif kind == "AWS::SNS::Topic":
                self.refs[logical_id] = next(arn for name, arn in topics.items() if name in logical_id)
            elif kind == "AWS::Lambda::Function":
                arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"
                self.refs[logical_id] = arn
                self.functions[arn] = resource["Properties"]["Handler"]
        self.template = template

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if "Ref" in value:
            return {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}.get(
                value["Ref"], self.refs.get(value["Ref"])
            )
        if "Fn::GetAtt" in value:
            return self.refs[value["Fn::GetAtt"][0]]
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(self.resolve(p) for p in parts)
        return {k: self.resolve(v) for k, v in value.items()}

    def definition(self, construct: str) -> str:
        (machine,) = [
            r
            for k, r in self.template["Resources"].items()
            if r["Type"] == "AWS::StepFunctions::StateMachine" and k.startswith(construct)
        ]
        return str(self.resolve(machine["Properties"]["DefinitionString"]))

    def environment(self) -> dict[str, str]:
        function = next(r for r in self.template["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
        return {k: str(self.resolve(v)) for k, v in function["Properties"]["Environment"]["Variables"].items()}


class Context:
    """The parts of the Lambda context the handlers (Powertools) read."""

    def __init__(self, name: str) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        self.memory_limit_in_mb = 1769
        self.aws_request_id = "e2e"
        self.log_group_name = self.log_stream_name = name

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class InProcessLambda:
    """Stands in for moto's Lambda client: calls the handler the template names, in-process."""

    def __init__(self, functions: dict[str, str]) -> None:
        self.functions = functions
        self.calls: list[str] = []
        modules = {"handlers": handlers, "manifest": manifest}
        self.handlers: dict[str, Callable[..., Any]] = {}
        for arn, handler in functions.items():
            _, module, name = handler.split(".")
            self.handlers[arn] = getattr(modules[module], name)

    def invoke(self, FunctionName: str, Payload: Any = None, **_: Any) -> dict[str, Any]:  # noqa: N803
        handler = self.handlers[FunctionName]
        event = json.loads(Payload) if Payload else {}
        name = FunctionName.rsplit(":", 1)[-1]
        self.calls.append(self.functions[FunctionName].rsplit(".", 1)[-1])
        try:
            body: Any = handler(event, Context(name))
            return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(body).encode())}
        except Exception as exc:  # what the Lambda runtime does with an unhandled exception
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(error).encode())}


#: How often a test looks at an execution moto runs in its own thread: often enough that a test waits
#: little after the execution ends, seldom enough to leave the thread the CPU.
POLL_INTERVAL = 0.02


class World:
    """The moto account the workflow runs in."""

    def __init__(self, resolver: Resolver, lambdas: InProcessLambda, queues: dict[str, str]) -> None:
        self.resolver = resolver
        self.lambdas = lambdas
        self.queues = queues
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.table = boto3.resource("dynamodb", region_name=REGION).Table(TABLE)
        self.machines: dict[str, str] = {}

    def machine(self, construct: str) -> str:
        if construct not in self.machines:
            self.machines[construct] = self.sfn.create_state_machine(
                name=construct,
                definition=self.resolver.definition(construct),
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/{construct}",
            )["stateMachineArn"]
        return self.machines[construct]

    def upload(self, key: str, body: bytes) -> dict[str, str]:
        version = self.s3.put_object(Bucket=UPLOADS, Key=key, Body=body)["VersionId"]
        return {"bucket": UPLOADS, "key": key, "versionId": version}

    def start(self, item: dict[str, str], construct: str = "Images") -> str:
        return self.sfn.start_execution(
            stateMachineArn=self.machine(construct), name=uuid.uuid4().hex, input=json.dumps(item)
        )["executionArn"]

    def wait(self, execution: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described = self.sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                if described["status"] == "FAILED":
                    events = self.sfn.get_execution_history(executionArn=execution)["events"]
                    described["failures"] = [
                        (e["type"], e.get(_details(e), {}).get("error"), str(e.get(_details(e), {}).get("cause"))[:300])
                        for e in events
                        if "Failed" in e["type"]
                    ]
                return described  # type: ignore[no-any-return]
            time.sleep(POLL_INTERVAL)
        raise AssertionError(f"execution still running after {timeout} s")

    def review_request(self, timeout: float = 30) -> dict[str, Any]:
        """The one review request the workflow sent (it then waits for its task token)."""
        deadline = time.monotonic() + timeout
        requests: list[dict[str, Any]] = []
        while not requests and time.monotonic() < deadline:
            requests = self.messages("Review")
            time.sleep(POLL_INTERVAL)
        (request,) = requests
        return request

    def run(self, item: dict[str, str], construct: str = "Images") -> dict[str, Any]:
        return self.wait(self.start(item, construct))

    def status(self, item: dict[str, str]) -> dict[str, Any]:
        pk = f"{item['bucket']}/{item['key']}#{item['versionId']}"
        return self.table.get_item(Key={"pk": pk}, ConsistentRead=True)["Item"]  # type: ignore[no-any-return]

    def messages(self, topic: str) -> list[dict[str, Any]]:
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queues[topic], MaxNumberOfMessages=10)
            if not got.get("Messages"):
                return out
            for m in got["Messages"]:
                out.append(json.loads(json.loads(m["Body"])["Message"]))
                self.sqs.delete_message(QueueUrl=self.queues[topic], ReceiptHandle=m["ReceiptHandle"])

    def renditions(self, key: str) -> dict[str, Image.Image]:
        listed = self.s3.list_objects_v2(Bucket=OUTPUTS, Prefix=f"renditions/{key}/").get("Contents", [])
        return {
            o["Key"].rsplit("/", 1)[-1]: Image.open(
                io.BytesIO(self.s3.get_object(Bucket=OUTPUTS, Key=o["Key"])["Body"].read())
            )
            for o in listed
        }


@pytest.fixture
def world(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    # moto logs each failed state with its whole parse tree; the execution history says enough.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (UPLOADS, OUTPUTS):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )
        sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
        topics, queues = {}, {}
        for name in ("Succeeded", "Failed", "Review"):
            topics[name] = sns.create_topic(Name=name)["TopicArn"]
            queues[name] = sqs.create_queue(QueueName=name)["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queues[name], AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            sns.subscribe(TopicArn=topics[name], Protocol="sqs", Endpoint=queue_arn)
        resolver = Resolver(template, topics)
        for key, value in resolver.environment().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
        handlers.reset()
        lambdas = InProcessLambda(resolver.functions)
        original = lambda_eval_utils.boto_client_for

        def client_for(*args: Any, **kwargs: Any) -> Any:
            return lambdas if kwargs.get("service") == "lambda" else original(*args, **kwargs)

        monkeypatch.setattr(lambda_eval_utils, "boto_client_for", client_for)
        # moto 5.2.5 puts a datetime in $$.Execution.StartTime; AWS gives an ISO 8601 string.
        monkeypatch.setattr(
            execution_worker,
            "ExecutionData",
            lambda **data: {**data, "StartTime": data["StartTime"].isoformat().replace("+00:00", "Z")},
        )
        yield World(resolver, lambdas, queues)
        handlers.reset()


def _details(event: dict[str, Any]) -> str:
    return next((k for k in event if k.endswith("EventDetails")), "")


def photo(size: tuple[int, int] = (1200, 900), *, orientation: int = 1, gps: bool = True) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste((200, 30, 30), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    exif = Image.Exif()
    exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 31.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


# -- the runs -------------------------------------------------------------------------------


def test_success_records_renditions_and_notifies(world: World) -> None:
    original = photo()
    item = world.upload("uploads/cat.jpg", original)
    execution = world.run(item)
    assert execution["status"] == "SUCCEEDED", execution.get("failures")

    record = world.status(item)
    assert record["status"] == "SUCCEEDED"
    assert (record["format"], int(record["width"]), int(record["height"])) == ("JPEG", 1200, 900)
    assert int(record["originalBytes"]) == len(original)
    outputs = json.loads(record["renditions"])
    assert {(o["name"], o["format"]) for o in outputs} == {
        (n, f) for n in ("thumb", "medium", "filtered") for f in ("JPEG", "WEBP")
    }
    assert int(record["outputBytes"]) == sum(o["bytes"] for o in outputs)
    assert set(record["timings"]) == {"validateMs", "processMs", "optimizeMs"}

    files = world.renditions("uploads/cat.jpg")
    assert files["thumb.jpg"].size == (64, 48) and files["medium.webp"].size == (320, 240)
    assert files["filtered.jpg"].mode == "L"  # grayscale filter
    assert all(not im.getexif() for im in files.values()), "metadata (EXIF, GPS) must be stripped"
    assert files["medium.jpg"].info.get("progressive") == 1
    # The original is untouched, and the work files are gone.
    assert world.s3.get_object(Bucket=UPLOADS, Key=item["key"])["Body"].read() == original
    assert not world.s3.list_objects_v2(Bucket=OUTPUTS, Prefix="work/").get("Contents")

    (message,) = world.messages("Succeeded")
    assert message["status"] == "SUCCEEDED" and message["key"] == "uploads/cat.jpg"
    assert len(message["outputs"]) == 6
    assert world.messages("Failed") == []


def test_rerun_of_the_same_version_does_no_work(world: World) -> None:
    item = world.upload("uploads/again.jpg", photo())
    assert world.run(item)["status"] == "SUCCEEDED"
    calls = len(world.lambdas.calls)
    assert world.run(item)["status"] == "SUCCEEDED"
    assert len(world.lambdas.calls) == calls, "the second run must stop at CheckStatus"
    assert world.status(item)["status"] == "SUCCEEDED"


def test_invalid_image_is_rejected_and_notified(world: World) -> None:
    item = world.upload("uploads/notes.jpg", b"this is a text file named .jpg\n")
    execution = world.run(item)
    assert execution["status"] == "SUCCEEDED"  # a rejected upload is an outcome, not a failure
    record = world.status(item)
    assert (record["status"], record["reason"]) == ("REJECTED", "NOT_AN_IMAGE")
    (message,) = world.messages("Failed")
    assert (message["status"], message["reason"]) == ("REJECTED", "NOT_AN_IMAGE")
    assert world.lambdas.calls == ["validate"]
    assert world.renditions("uploads/notes.jpg") == {}


def test_transient_error_is_retried_then_succeeds(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 throttles the resize handler's first read: the handler raises TransientError, the
    state machine retries with backoff, the second attempt succeeds."""
    item = world.upload("uploads/busy.jpg", photo())
    real_s3 = handlers.s3()
    throttled: list[str] = []

    class ThrottleOnce:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_s3, name)

        def get_object(self, **kwargs: Any) -> Any:
            if kwargs["Key"] == item["key"] and not throttled and len(world.lambdas.calls) > 1:
                throttled.append(kwargs["Key"])
                raise ClientError(
                    {
                        "Error": {"Code": "SlowDown", "Message": "Reduce your request rate."},
                        "ResponseMetadata": {"HTTPStatusCode": 503},
                    },
                    "GetObject",
                )
            return real_s3.get_object(**kwargs)

    monkeypatch.setattr(handlers, "s3", lambda: ThrottleOnce())
    execution = world.run(item)
    assert execution["status"] == "SUCCEEDED", execution.get("failures")
    assert throttled, "the throttle was never hit"
    assert sorted(world.lambdas.calls).count("resize") + sorted(world.lambdas.calls).count("apply_filters") == 3
    assert world.status(item)["status"] == "SUCCEEDED"
    history = world.sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    failed = [e["lambdaFunctionFailedEventDetails"]["error"] for e in history if e["type"] == "LambdaFunctionFailed"]
    assert failed == ["TransientError"]


def test_permanent_error_is_caught_recorded_and_notified(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The output bucket refuses writes: no retry helps; the Catch records and notifies."""
    item = world.upload("uploads/doomed.png", _png())
    real_s3 = handlers.s3()

    class Denied:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_s3, name)

        def put_object(self, **kwargs: Any) -> Any:
            raise ClientError(
                {
                    "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                    "ResponseMetadata": {"HTTPStatusCode": 403},
                },
                "PutObject",
            )

    monkeypatch.setattr(handlers, "s3", lambda: Denied())
    execution = world.run(item)
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "ImageProcessingFailed"
    record = world.status(item)
    assert record["status"] == "FAILED"
    assert record["error"] == "ClientError" and "AccessDenied" in json.loads(record["cause"])["Cause"]
    (message,) = world.messages("Failed")
    assert message["status"] == "FAILED" and message["error"] == "ClientError"
    assert world.messages("Succeeded") == []
    # No retry for a permanent error: each processing function ran once.
    assert world.lambdas.calls.count("resize") == 1


def test_manifest_processes_each_listed_image(world: World) -> None:
    items = [world.upload(f"uploads/batch/{n}.jpg", photo((400 + 40 * n, 300))) for n in range(3)]
    bad = world.upload("uploads/batch/broken.jpg", photo()[:2000])
    keys = [i["key"] for i in (*items, bad)] + ["uploads/batch/missing.jpg"]
    manifest_item = world.upload("uploads/batch/run.manifest.json", json.dumps(keys).encode())
    execution = world.run(manifest_item)
    assert execution["status"] == "SUCCEEDED", execution.get("failures")
    for item in items:
        assert world.status(item)["status"] == "SUCCEEDED"
    assert (world.status(bad)["status"], world.status(bad)["reason"]) == ("REJECTED", "TRUNCATED")
    assert len(world.messages("Succeeded")) == 3


def test_one_failed_image_does_not_stop_its_batch(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    items = [world.upload(f"uploads/mixed/{n}.jpg", photo((300, 200))) for n in range(3)]
    real_s3 = handlers.s3()

    class DenyOne:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_s3, name)

        def put_object(self, **kwargs: Any) -> Any:
            if "/mixed/1.jpg/" in kwargs["Key"]:
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "PutObject")
            return real_s3.put_object(**kwargs)

    monkeypatch.setattr(handlers, "s3", lambda: DenyOne())
    manifest_item = world.upload("uploads/mixed/run.manifest.json", json.dumps([i["key"] for i in items]).encode())
    execution = world.run(manifest_item)
    assert (execution["status"], execution.get("error")) == ("FAILED", "ImageProcessingFailed")
    assert [world.status(i)["status"] for i in items] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    assert len(world.messages("Succeeded")) == 2 and len(world.messages("Failed")) == 1


def test_review_waits_for_the_task_token(world: World) -> None:
    item = world.upload("uploads/review.jpg", photo())
    execution = world.start(item, "Reviewed")
    request = world.review_request()
    assert request["key"] == item["key"] and len(request["outputs"]) == 6
    assert world.sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    with pytest.raises(KeyError):
        world.status(item)  # nothing recorded before the decision
    world.sfn.send_task_success(taskToken=request["taskToken"], output=json.dumps({"approved": True}))
    assert world.wait(execution)["status"] == "SUCCEEDED"
    assert world.status(item)["status"] == "SUCCEEDED"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (500, 400), (10, 200, 10, 128)).save(out, "PNG")
    return out.getvalue()


def test_review_rejection_is_recorded_as_a_failure(world: World) -> None:
    item = world.upload("uploads/rejected.jpg", photo())
    execution = world.start(item, "Reviewed")
    request = world.review_request()
    world.sfn.send_task_failure(taskToken=request["taskToken"], error="Rejected", cause="nudity")
    finished = world.wait(execution)
    assert (finished["status"], finished.get("error")) == ("FAILED", "ImageProcessingFailed"), finished.get("failures")
    record = world.status(item)
    assert (record["status"], record["error"]) == ("FAILED", "Rejected")
    assert json.loads(record["cause"])["Error"] == "Rejected"  # moto 5.2.5 drops the Cause of SendTaskFailure
    (message,) = world.messages("Failed")
    assert message["error"] == "Rejected"
    assert world.messages("Succeeded") == []
