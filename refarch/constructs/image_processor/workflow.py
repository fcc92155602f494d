"""The ImageProcessor's state machine definition, built with the CDK Step Functions constructs.

Shape (every upload goes through the same Map, so single images and batches share one path)::

    IsManifest? --manifest--> LoadManifest --+
         \\--image--> SingleImage -----------+--> ProcessImages (Map, bounded concurrency)
                                                   CheckStatus -> AlreadyProcessed?
                                                     -> ValidateImage -> IsValid?
                                                          no  -> RecordRejected -> NotifyRejected
                                                          yes -> ProcessImage (Parallel: ResizeImage | ApplyFilters)
                                                                 -> OptimizeImage [-> AwaitReview (task token)]
                                                                 -> RecordSuccess -> NotifySuccess
                                                     any task fails -> RecordFailure -> NotifyError -> ImageFailed
                                               -> Summarize -> AnyImageFailed? -> ImagesFailed (Fail) | Done

An image's iteration ends with its outcome (SUCCEEDED, REJECTED, SKIPPED, FAILED): one failed image
does not stop the others of a batch; the execution fails at the end if any image failed.

Status records and notifications are direct DynamoDB and SNS integrations: no Lambda runs
for them. Every Lambda task retries service, throttling and timeout errors with exponential
backoff and full jitter; every task is caught.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

#: Errors of the Lambda service, throttling and timeouts, plus the handlers' own
#: ``TransientError`` (S3 throttling or 5xx): worth retrying.
LAMBDA_RETRY_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
    "Sandbox.Timedout",
    "States.Timeout",
    "TransientError",
]
DYNAMODB_RETRY_ERRORS = [
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.RequestLimitExceeded",
    "DynamoDB.ThrottlingException",
    "DynamoDB.InternalServerErrorException",
]
SNS_RETRY_ERRORS = ["SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KMSThrottlingException"]

#: The status item's key: one item per object version.
_RECORD_ID = sfn.JsonPath.format(
    "{}/{}#{}",
    sfn.JsonPath.string_at("$.bucket"),
    sfn.JsonPath.string_at("$.key"),
    sfn.JsonPath.string_at("$.versionId"),
)


@dataclass(frozen=True)
class WorkflowParts:
    """What the definition needs: the functions, the status table and the topics."""

    validate: lambda_.IFunction
    resize: lambda_.IFunction
    optimize: lambda_.IFunction
    filters: lambda_.IFunction | None
    manifest: lambda_.IFunction | None
    table: dynamodb.ITable
    success_topic: sns.ITopic
    error_topic: sns.ITopic
    review_topic: sns.ITopic | None
    review_timeout: Duration
    manifest_suffix: str | None
    max_concurrency: int
    retry_interval: Duration
    retry_attempts: int


def build_definition(scope: Construct, parts: WorkflowParts) -> sfn.IChainable:
    """The whole definition; states are created in ``scope``."""
    builder = _Builder(scope, parts)
    return builder.top()


class _Builder:
    def __init__(self, scope: Construct, parts: WorkflowParts) -> None:
        self.scope = scope
        self.parts = parts
        # The attributes every status write carries: which object version, which execution, when.
        self.common_item = {
            "pk": tasks.DynamoAttributeValue.from_string(_RECORD_ID),
            "bucket": _string("$.bucket"),
            "key": _string("$.key"),
            "versionId": _string("$.versionId"),
            "execution": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.execution_id),
            "startedAt": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.execution_start_time),
            "finishedAt": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.state_entered_time),
        }
        self.ident = {
            "bucket": sfn.JsonPath.string_at("$.bucket"),
            "key": sfn.JsonPath.string_at("$.key"),
            "versionId": sfn.JsonPath.string_at("$.versionId"),
        }

    # -- tasks -----------------------------------------------------------------------------

    def _lambda(
        self, id: str, function: lambda_.IFunction, *, result_path: str | None, comment: str
    ) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self.scope,
            id,
            lambda_function=function,
            payload_response_only=True,
            retry_on_service_exceptions=False,  # replaced by the retry below (with jitter)
            result_path=result_path,
            comment=comment,
        )
        task.add_retry(
            errors=LAMBDA_RETRY_ERRORS,
            interval=self.parts.retry_interval,
            max_attempts=self.parts.retry_attempts,
            backoff_rate=2,
            max_delay=Duration.minutes(1),
            jitter_strategy=sfn.JitterType.FULL,
        )
        return task

    def _put_item(self, id: str, item: dict[str, tasks.DynamoAttributeValue], comment: str) -> tasks.DynamoPutItem:
        task = tasks.DynamoPutItem(
            self.scope,
            id,
            table=self.parts.table,
            item={**self.common_item, **item},
            result_path=sfn.JsonPath.DISCARD,
            comment=comment,
        )
        task.add_retry(
            errors=DYNAMODB_RETRY_ERRORS,
            interval=self.parts.retry_interval,
            max_attempts=self.parts.retry_attempts,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        return task

    def _publish(self, id: str, topic: sns.ITopic, message: dict[str, object], subject: str) -> tasks.SnsPublish:
        task = tasks.SnsPublish(
            self.scope,
            id,
            topic=topic,
            subject=subject,
            message=sfn.TaskInput.from_object(message),
            message_attributes={"status": tasks.MessageAttribute(value=message["status"])},
            result_path=sfn.JsonPath.DISCARD,
        )
        task.add_retry(
            errors=SNS_RETRY_ERRORS,
            interval=self.parts.retry_interval,
            max_attempts=self.parts.retry_attempts,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        return task

    # -- the per-image chain ---------------------------------------------------------------

    def failure_path(self) -> sfn.IChainable:
        record = self._put_item(
            "RecordFailure",
            {
                "status": tasks.DynamoAttributeValue.from_string("FAILED"),
                "error": _string("$.error.Error"),
                # The whole Catch output as text: a Cause is not always there (a task token failed
                # without one, some States.* errors), and a missing path would fail this very state.
                "cause": tasks.DynamoAttributeValue.from_string(
                    sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.error"))
                ),
            },
            "One item per object version: a re-run overwrites it, never duplicates it.",
        )
        notify = self._publish(
            "NotifyError",
            self.parts.error_topic,
            {
                "status": "FAILED",
                **self.ident,
                "error": sfn.JsonPath.string_at("$.error.Error"),
                "detail": sfn.JsonPath.object_at("$.error"),
                "execution": sfn.JsonPath.execution_id,
            },
            "Image processing failed",
        )
        # The iteration ends with its outcome, not a Fail: the other images of a batch go on, and
        # the execution fails after the Map if any image failed (AnyImageFailed).
        failed = _outcome(self.scope, "ImageFailed", "FAILED")
        return record.next(notify).next(failed)

    def item_chain(self) -> sfn.IChainable:
        parts = self.parts
        failure = self.failure_path()

        def catch(state: sfn.TaskStateBase | sfn.Parallel) -> None:
            state.add_catch(failure, errors=["States.ALL"], result_path="$.error")

        check = tasks.DynamoGetItem(
            self.scope,
            "CheckStatus",
            table=parts.table,
            key={"pk": tasks.DynamoAttributeValue.from_string(_RECORD_ID)},
            consistent_read=True,
            result_path="$.existing",
            comment="An object version already processed is not processed again.",
        )
        check.add_retry(
            errors=DYNAMODB_RETRY_ERRORS,
            interval=parts.retry_interval,
            max_attempts=parts.retry_attempts,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        catch(check)
        done = _outcome(self.scope, "AlreadyProcessed", "SKIPPED")

        validate = self._lambda(
            "ValidateImage",
            parts.validate,
            result_path="$.validation",
            comment="Sniffs the format, checks bytes and pixels, decodes.",
        )
        catch(validate)

        rejected = self._put_item(
            "RecordRejected",
            {
                "status": tasks.DynamoAttributeValue.from_string("REJECTED"),
                "reason": _string("$.validation.reason"),
                "detail": _string("$.validation.detail"),
            },
            "The upload is not an image this workflow accepts.",
        )
        notify_rejected = self._publish(
            "NotifyRejected",
            parts.error_topic,
            {
                "status": "REJECTED",
                **self.ident,
                "reason": sfn.JsonPath.string_at("$.validation.reason"),
                "detail": sfn.JsonPath.string_at("$.validation.detail"),
            },
            "Image rejected",
        )
        catch(rejected)
        catch(notify_rejected)
        rejected_end = _outcome(self.scope, "ImageRejected", "REJECTED")

        process = sfn.Parallel(self.scope, "ProcessImage", result_path="$.processed")
        process.branch(self._lambda("ResizeImage", parts.resize, result_path=None, comment="Every rendition."))
        if parts.filters is not None:
            process.branch(self._lambda("ApplyFilters", parts.filters, result_path=None, comment="Configured filters."))
        catch(process)

        optimize = self._lambda(
            "OptimizeImage",
            parts.optimize,
            result_path="$.optimized",
            comment="Progressive JPEG and WebP, metadata stripped.",
        )
        catch(optimize)

        record = self._put_item(
            "RecordSuccess",
            {
                "status": tasks.DynamoAttributeValue.from_string("SUCCEEDED"),
                "format": _string("$.validation.format"),
                "width": _number("$.validation.width"),
                "height": _number("$.validation.height"),
                "originalBytes": _number("$.validation.bytes"),
                "outputBytes": _number("$.optimized.bytes"),
                "renditions": tasks.DynamoAttributeValue.from_string(
                    sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.optimized.outputs"))
                ),
                "timings": tasks.DynamoAttributeValue.from_map(
                    {
                        "validateMs": _number("$.validation.ms"),
                        "processMs": _number("$.optimized.processMs"),
                        "optimizeMs": _number("$.optimized.ms"),
                    }
                ),
            },
            "One item per object version, overwritten on a re-run.",
        )
        catch(record)
        notify = self._publish(
            "NotifySuccess",
            parts.success_topic,
            {
                "status": "SUCCEEDED",
                **self.ident,
                "outputs": sfn.JsonPath.list_at("$.optimized.outputs"),
            },
            "Image processed",
        )
        catch(notify)

        after_optimize: sfn.IChainable = record
        if parts.review_topic is not None:
            review = tasks.SnsPublish(
                self.scope,
                "AwaitReview",
                topic=parts.review_topic,
                integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
                subject="Image awaiting review",
                message=sfn.TaskInput.from_object(
                    {
                        "taskToken": sfn.JsonPath.task_token,
                        "bucket": sfn.JsonPath.string_at("$.bucket"),
                        "key": sfn.JsonPath.string_at("$.key"),
                        "versionId": sfn.JsonPath.string_at("$.versionId"),
                        "outputs": sfn.JsonPath.list_at("$.optimized.outputs"),
                    }
                ),
                task_timeout=sfn.Timeout.duration(parts.review_timeout),
                result_path="$.review",
                comment="Waits for SendTaskSuccess (approve) or SendTaskFailure (reject) with the token.",
            )
            catch(review)
            after_optimize = review.next(record)

        valid = process.next(optimize).next(after_optimize)
        record.next(notify).next(_outcome(self.scope, "ImageSucceeded", "SUCCEEDED"))
        is_valid = (
            sfn.Choice(self.scope, "IsValid")
            .when(sfn.Condition.boolean_equals("$.validation.valid", True), valid)
            .otherwise(rejected.next(notify_rejected).next(rejected_end))
        )
        already = (
            sfn.Choice(self.scope, "AlreadyProcessed?")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present("$.existing.Item.status.S"),
                    sfn.Condition.string_equals("$.existing.Item.status.S", "SUCCEEDED"),
                ),
                done,
            )
            .otherwise(validate.next(is_valid))
        )
        return check.next(already)

    # -- the top level ---------------------------------------------------------------------

    def top(self) -> sfn.IChainable:
        parts = self.parts
        process = sfn.Map(
            self.scope,
            "ProcessImages",
            items_path="$.items",
            max_concurrency=parts.max_concurrency,
            result_path="$.outcomes",
            comment="One iteration per image; a single upload is a batch of one.",
        )
        process.item_processor(self.item_chain())
        summary = sfn.Pass(
            self.scope,
            "Summarize",
            parameters={"anyFailed": sfn.JsonPath.array_contains(sfn.JsonPath.list_at("$.outcomes"), "FAILED")},
        )
        process.next(summary).next(
            sfn.Choice(self.scope, "AnyImageFailed")
            .when(
                sfn.Condition.boolean_equals("$.anyFailed", True),
                sfn.Fail(
                    self.scope,
                    "ImagesFailed",
                    error="ImageProcessingFailed",
                    cause="An image failed: see the status table and the error topic.",
                ),
            )
            .otherwise(sfn.Succeed(self.scope, "Done"))
        )
        single = sfn.Pass(
            self.scope, "SingleImage", parameters={"items": sfn.JsonPath.array(sfn.JsonPath.entire_payload)}
        )
        single.next(process)
        if parts.manifest is None or parts.manifest_suffix is None:
            return single
        load = self._lambda(
            "LoadManifest",
            parts.manifest,
            result_path=None,
            comment="Reads the manifest and pins each listed key to its current version.",
        )
        manifest_failed = self._publish(
            "NotifyManifestError",
            parts.error_topic,
            {
                "status": "FAILED",
                "bucket": sfn.JsonPath.string_at("$.bucket"),
                "key": sfn.JsonPath.string_at("$.key"),
                "error": sfn.JsonPath.string_at("$.error.Error"),
                "detail": sfn.JsonPath.object_at("$.error"),
            },
            "Image manifest failed",
        )
        manifest_failed.next(
            sfn.Fail(self.scope, "ManifestFailed", error="ManifestFailed", cause="See the error topic.")
        )
        load.add_catch(manifest_failed, errors=["States.ALL"], result_path="$.error")
        load.next(process)
        return (
            sfn.Choice(self.scope, "IsManifest")
            .when(sfn.Condition.string_matches("$.key", f"*{parts.manifest_suffix}"), load)
            .otherwise(single)
        )


def _outcome(scope: Construct, id: str, outcome: str) -> sfn.Pass:
    """The end of one image's iteration: its outcome, as a plain string in the Map's results."""
    return sfn.Pass(scope, id, result=sfn.Result.from_string(outcome))


def _string(path: str) -> tasks.DynamoAttributeValue:
    return tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at(path))


def _number(path: str) -> tasks.DynamoAttributeValue:
    return tasks.DynamoAttributeValue.number_from_string(sfn.JsonPath.json_to_string(sfn.JsonPath.number_at(path)))
