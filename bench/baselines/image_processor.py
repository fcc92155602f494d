"""ImageProcessor with its defaults (plus one filter) vs the same resources in plain aws-cdk-lib L2 code."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import BundlingOptions, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

_RUNTIME = Path(__file__).resolve().parent.parent.parent / "refarch" / "runtime"
_RETAIN = RemovalPolicy.RETAIN
_LAMBDA_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
    "Sandbox.Timedout",
    "States.Timeout",
    "TransientError",
]
_DDB_ERRORS = [
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.RequestLimitExceeded",
    "DynamoDB.ThrottlingException",
    "DynamoDB.InternalServerErrorException",
]
_SNS_ERRORS = ["SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KMSThrottlingException"]


def with_construct(stack: Stack) -> None:
    from refarch.constructs import ImageProcessor

    ImageProcessor(stack, "Images", filters=["sharpen"])


def with_plain_l2(stack: Stack) -> None:  # noqa: PLR0915 - one flat recipe, as a user would write it
    key = kms.Key(stack, "Key", enable_key_rotation=True, rotation_period=Duration.days(365), removal_policy=_RETAIN)
    for principal in (f"logs.{stack.region}.amazonaws.com", "cloudwatch.amazonaws.com"):
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(principal)],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
            )
        )
    access_logs = s3.Bucket(
        stack,
        "AccessLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=_RETAIN,
        lifecycle_rules=[
            s3.LifecycleRule(expiration=Duration.days(365), noncurrent_version_expiration=Duration.days(30))
        ],
    )

    def bucket(id: str, prefix: str, rules: list[s3.LifecycleRule] | None = None) -> s3.Bucket:
        return s3.Bucket(
            stack,
            id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=prefix,
            removal_policy=_RETAIN,
            lifecycle_rules=rules,
        )

    uploads = bucket("Uploads", "uploads/")
    uploads.node.default_child.add_property_override(  # type: ignore[union-attr]
        "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
    )
    outputs = bucket(
        "Renditions",
        "renditions/",
        [
            s3.LifecycleRule(
                prefix="work/", expiration=Duration.days(1), noncurrent_version_expiration=Duration.days(1)
            ),
            s3.LifecycleRule(prefix="renditions/", noncurrent_version_expiration=Duration.days(30)),
            s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(7)),
        ],
    )
    table = dynamodb.Table(
        stack,
        "Status",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute="expiration",
        deletion_protection=True,
        removal_policy=_RETAIN,
    )
    succeeded = sns.Topic(stack, "Succeeded", master_key=key, enforce_ssl=True)
    failed = sns.Topic(stack, "Failed", master_key=key, enforce_ssl=True)

    layer = lambda_.LayerVersion(
        stack,
        "Dependencies",
        compatible_runtimes=[lambda_.Runtime.PYTHON_3_14],
        compatible_architectures=[lambda_.Architecture.ARM_64],
        code=lambda_.Code.from_asset(
            str(_RUNTIME / "layers"),
            exclude=["*", "!image_processor.txt"],
            bundling=BundlingOptions(
                image=lambda_.Runtime.PYTHON_3_14.bundling_image,
                command=["bash", "-c", "pip install -r image_processor.txt -t /asset-output/python"],
            ),
        ),
    )
    code = lambda_.Code.from_asset(str(_RUNTIME), exclude=["__pycache__", "*.pyc", "layers", "stream_processor"])
    env = {
        "RENDITIONS": json.dumps(
            [
                {"name": "thumbnail", "width": 200, "height": 200},
                {"name": "medium", "width": 800, "height": 600},
                {"name": "large", "width": 1600, "height": 1200},
            ]
        ),
        "FILTERS": '["sharpen"]',
        "OUTPUT_BUCKET": outputs.bucket_name,
        "STATUS_TABLE": table.table_name,
    }

    def function(id: str, handler: str, memory: int = 1769) -> lambda_.Function:
        role = iam.Role(stack, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group = logs.LogGroup(
            stack, f"{id}Logs", encryption_key=key, retention=logs.RetentionDays.ONE_YEAR, removal_policy=_RETAIN
        )
        fn = lambda_.Function(
            stack,
            id,
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            code=code,
            handler=f"image_processor.{handler}",
            role=role,
            layers=[layer],
            environment=env,
            environment_encryption=key,
            timeout=Duration.minutes(1),
            memory_size=memory,
            reserved_concurrent_executions=10,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn])
        )
        return fn

    validate = function("Validate", "handlers.validate")
    resize = function("Resize", "handlers.resize")
    filters = function("Filter", "handlers.apply_filters")
    optimize = function("Optimize", "handlers.optimize")
    load = function("Manifest", "manifest.load", 512)
    for fn in (validate, resize, filters, load):
        uploads.grant_read(fn, "uploads/*")
    for fn in (resize, filters, optimize):
        outputs.grant_read_write(fn)
        outputs.grant_delete(fn)
        table.grant_read_write_data(fn)

    def invoke(id: str, fn: lambda_.IFunction, result_path: str | None) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            stack,
            id,
            lambda_function=fn,
            payload_response_only=True,
            retry_on_service_exceptions=False,
            result_path=result_path,
        )
        task.add_retry(
            errors=_LAMBDA_ERRORS,
            interval=Duration.seconds(2),
            max_attempts=4,
            backoff_rate=2,
            max_delay=Duration.minutes(1),
            jitter_strategy=sfn.JitterType.FULL,
        )
        return task

    record_id = sfn.JsonPath.format(
        "{}/{}#{}",
        sfn.JsonPath.string_at("$.bucket"),
        sfn.JsonPath.string_at("$.key"),
        sfn.JsonPath.string_at("$.versionId"),
    )

    def s(path: str) -> tasks.DynamoAttributeValue:
        return tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at(path))

    def n(path: str) -> tasks.DynamoAttributeValue:
        return tasks.DynamoAttributeValue.number_from_string(sfn.JsonPath.json_to_string(sfn.JsonPath.number_at(path)))

    def put(id: str, item: dict[str, tasks.DynamoAttributeValue]) -> tasks.DynamoPutItem:
        task = tasks.DynamoPutItem(
            stack,
            id,
            table=table,
            result_path=sfn.JsonPath.DISCARD,
            item={
                "pk": tasks.DynamoAttributeValue.from_string(record_id),
                "bucket": s("$.bucket"),
                "key": s("$.key"),
                "versionId": s("$.versionId"),
                "execution": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.execution_id),
                "startedAt": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.execution_start_time),
                "finishedAt": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.state_entered_time),
                **item,
            },
        )
        task.add_retry(
            errors=_DDB_ERRORS,
            interval=Duration.seconds(2),
            max_attempts=4,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        return task

    def publish(id: str, topic: sns.ITopic, message: dict[str, object], status: str) -> tasks.SnsPublish:
        task = tasks.SnsPublish(
            stack,
            id,
            topic=topic,
            message=sfn.TaskInput.from_object(message),
            subject=id,
            result_path=sfn.JsonPath.DISCARD,
            message_attributes={"status": tasks.MessageAttribute(value=status)},
        )
        task.add_retry(
            errors=_SNS_ERRORS,
            interval=Duration.seconds(2),
            max_attempts=4,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        return task

    ident = {
        "bucket": sfn.JsonPath.string_at("$.bucket"),
        "key": sfn.JsonPath.string_at("$.key"),
        "versionId": sfn.JsonPath.string_at("$.versionId"),
    }
    failure = (
        put(
            "RecordFailure",
            {
                "status": tasks.DynamoAttributeValue.from_string("FAILED"),
                "error": s("$.error.Error"),
                "cause": tasks.DynamoAttributeValue.from_string(
                    sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.error"))
                ),
            },
        )
        .next(
            publish(
                "NotifyError",
                failed,
                {
                    "status": "FAILED",
                    **ident,
                    "error": sfn.JsonPath.string_at("$.error.Error"),
                    "detail": sfn.JsonPath.object_at("$.error"),
                },
                "FAILED",
            )
        )
        .next(sfn.Pass(stack, "ImageFailed", result=sfn.Result.from_string("FAILED")))
    )

    check = tasks.DynamoGetItem(
        stack,
        "CheckStatus",
        table=table,
        consistent_read=True,
        result_path="$.existing",
        key={"pk": tasks.DynamoAttributeValue.from_string(record_id)},
    )
    check.add_retry(
        errors=_DDB_ERRORS,
        interval=Duration.seconds(2),
        max_attempts=4,
        backoff_rate=2,
        jitter_strategy=sfn.JitterType.FULL,
    )
    validate_task = invoke("ValidateImage", validate, "$.validation")
    rejected = put(
        "RecordRejected",
        {
            "status": tasks.DynamoAttributeValue.from_string("REJECTED"),
            "reason": s("$.validation.reason"),
            "detail": s("$.validation.detail"),
        },
    )
    notify_rejected = publish(
        "NotifyRejected",
        failed,
        {"status": "REJECTED", **ident, "reason": sfn.JsonPath.string_at("$.validation.reason")},
        "REJECTED",
    )
    process = sfn.Parallel(stack, "ProcessImage", result_path="$.processed")
    process.branch(invoke("ResizeImage", resize, None))
    process.branch(invoke("ApplyFilters", filters, None))
    optimize_task = invoke("OptimizeImage", optimize, "$.optimized")
    record = put(
        "RecordSuccess",
        {
            "status": tasks.DynamoAttributeValue.from_string("SUCCEEDED"),
            "format": s("$.validation.format"),
            "width": n("$.validation.width"),
            "height": n("$.validation.height"),
            "originalBytes": n("$.validation.bytes"),
            "outputBytes": n("$.optimized.bytes"),
            "renditions": tasks.DynamoAttributeValue.from_string(
                sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.optimized.outputs"))
            ),
            "timings": tasks.DynamoAttributeValue.from_map(
                {
                    "validateMs": n("$.validation.ms"),
                    "processMs": n("$.optimized.processMs"),
                    "optimizeMs": n("$.optimized.ms"),
                }
            ),
        },
    )
    notify = publish(
        "NotifySuccess",
        succeeded,
        {"status": "SUCCEEDED", **ident, "outputs": sfn.JsonPath.list_at("$.optimized.outputs")},
        "SUCCEEDED",
    )
    for state in (check, validate_task, rejected, notify_rejected, process, optimize_task, record, notify):
        state.add_catch(failure, errors=["States.ALL"], result_path="$.error")
    item = check.next(
        sfn.Choice(stack, "AlreadyProcessed?")
        .when(
            sfn.Condition.string_equals("$.existing.Item.status.S", "SUCCEEDED"),
            sfn.Pass(stack, "AlreadyProcessed", result=sfn.Result.from_string("SKIPPED")),
        )
        .otherwise(
            validate_task.next(
                sfn.Choice(stack, "IsValid")
                .when(
                    sfn.Condition.boolean_equals("$.validation.valid", True),
                    process.next(optimize_task)
                    .next(record)
                    .next(notify)
                    .next(sfn.Pass(stack, "ImageSucceeded", result=sfn.Result.from_string("SUCCEEDED"))),
                )
                .otherwise(
                    rejected.next(notify_rejected).next(
                        sfn.Pass(stack, "ImageRejected", result=sfn.Result.from_string("REJECTED"))
                    )
                )
            )
        )
    )
    images = sfn.Map(stack, "ProcessImages", items_path="$.items", max_concurrency=4, result_path="$.outcomes")
    images.item_processor(item)
    images.next(
        sfn.Pass(
            stack,
            "Summarize",
            parameters={"anyFailed": sfn.JsonPath.array_contains(sfn.JsonPath.list_at("$.outcomes"), "FAILED")},
        )
    ).next(
        sfn.Choice(stack, "AnyImageFailed")
        .when(sfn.Condition.boolean_equals("$.anyFailed", True), sfn.Fail(stack, "ImagesFailed"))
        .otherwise(sfn.Succeed(stack, "Done"))
    )
    load_task = invoke("LoadManifest", load, None)
    load_task.add_catch(
        publish(
            "NotifyManifestError", failed, {"status": "FAILED", "key": sfn.JsonPath.string_at("$.key")}, "FAILED"
        ).next(sfn.Fail(stack, "ManifestFailed")),
        errors=["States.ALL"],
        result_path="$.error",
    )
    definition = (
        sfn.Choice(stack, "IsManifest")
        .when(sfn.Condition.string_matches("$.key", "*.manifest.json"), load_task.next(images))
        .otherwise(
            sfn.Pass(stack, "SingleImage", parameters={"items": sfn.JsonPath.array(sfn.JsonPath.entire_payload)}).next(
                images
            )
        )
    )
    machine_role = iam.Role(stack, "StateMachineRole", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
    machine = sfn.StateMachine(
        stack,
        "StateMachine",
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        role=machine_role,
        timeout=Duration.hours(1),
        tracing_enabled=True,
        logs=sfn.LogOptions(
            destination=logs.LogGroup(
                stack,
                "ExecutionLogs",
                encryption_key=key,
                retention=logs.RetentionDays.ONE_YEAR,
                removal_policy=_RETAIN,
            ),
            level=sfn.LogLevel.ALL,
        ),
    )
    key.grant_encrypt_decrypt(machine)

    suffixes = [".jpg", ".jpeg", ".png", ".webp", ".gif"]
    keys = [{"wildcard": f"uploads/*{x}"} for x in sorted(suffixes + [x.upper() for x in suffixes])]
    trigger_role = iam.Role(stack, "TriggerRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
    events.Rule(
        stack,
        "OnUpload",
        event_pattern=events.EventPattern(
            source=["aws.s3"],
            detail_type=["Object Created"],
            detail={
                "bucket": {"name": [uploads.bucket_name]},
                "object": {"key": [*keys, {"wildcard": "uploads/*.manifest.json"}]},
            },
        ),
        targets=[
            targets.SfnStateMachine(
                machine,
                role=trigger_role,
                retry_attempts=10,
                max_event_age=Duration.hours(24),
                input=events.RuleTargetInput.from_object(
                    {
                        "bucket": events.EventField.from_path("$.detail.bucket.name"),
                        "key": events.EventField.from_path("$.detail.object.key"),
                        "versionId": events.EventField.from_path("$.detail.object.version-id"),
                    }
                ),
            )
        ],
    )
    for name, metric in (
        ("Failed", machine.metric_failed()),
        ("TimedOut", machine.metric_timed_out()),
        ("Throttled", machine.metric_throttled()),
    ):
        alarm = cloudwatch.Alarm(
            stack,
            f"{name}Alarm",
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(failed))
