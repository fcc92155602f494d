"""A streaming pipeline: Kinesis Data Streams -> Lambda -> S3 data lake -> Redshift Serverless.

Events stream in; a Lambda function (Powertools batch processing) decodes, validates and enriches them
as they arrive and lands them in an S3 data lake, one compressed object per batch and partition;
Redshift Serverless reads the same stream through streaming ingestion for low-latency analytics.
Nothing is lost: invalid records are quarantined with their reason, failed writes are retried record
by record (``ReportBatchItemFailures``), and what still fails ends in a dead-letter queue with an alarm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders, _dashboards, _defaults
from refarch.constructs._bundling import dependencies_layer, handler_code
from refarch.constructs._flags import pin_required_flags
from refarch.constructs.streaming_pipeline_catalog import LakeCatalog, results_lifecycle_rule
from refarch.constructs.streaming_pipeline_monitoring import HANDLER_NAMESPACE, HANDLER_SERVICE, pipeline_panels
from refarch.constructs.streaming_pipeline_props import (
    DEFAULT_ARCHIVE_AFTER,
    DEFAULT_BATCHING_WINDOW,
    DEFAULT_INFREQUENT_ACCESS_AFTER,
    DEFAULT_ITERATOR_AGE_THRESHOLD,
    DEFAULT_MAX_RECORD_AGE,
    DEFAULT_STREAM_RETENTION,
    DEFAULT_TIMEOUT,
    schema_json,
    validate,
    validate_redshift,
)
from refarch.constructs.streaming_pipeline_redshift import RedshiftStreamingIngestion
from refarch.contracts import flows
from refarch.contracts.permissions import require_permission

_OWNER = "StreamingPipeline"


class StreamingPipeline(Construct):
    """Kinesis Data Streams -> Lambda -> S3 data lake (-> Redshift Serverless streaming ingestion).

    Example::

        network = ThreeTierVpc(self, "Network", db_port=5439,
                               interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS])
        pipeline = StreamingPipeline(self, "Clicks", vpc=network.vpc,
                                     function_subnets=network.app.subnet_selection,
                                     redshift_subnets=network.db.subnet_selection,
                                     redshift_security_groups=[network.db.security_group])
        pipeline.grant_write(producer_role)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey | None = None,
        stream_mode: kinesis.StreamMode = kinesis.StreamMode.ON_DEMAND,
        shard_count: int | None = None,
        stream_retention: Duration = DEFAULT_STREAM_RETENTION,
        stream_name: str | None = None,
        batch_size: int = 500,
        max_batching_window: Duration = DEFAULT_BATCHING_WINDOW,
        retry_attempts: int = 3,
        max_record_age: Duration = DEFAULT_MAX_RECORD_AGE,
        parallelization_factor: int = 1,
        enhanced_fan_out: bool = False,
        memory_size: int = 1024,
        timeout: Duration = DEFAULT_TIMEOUT,
        reserved_concurrent_executions: int | None = None,
        event_schema: Mapping[str, Any] | None = None,
        lake_prefix: str = "events/",
        quarantine_prefix: str = "quarantine/",
        infrequent_access_after: Duration = DEFAULT_INFREQUENT_ACCESS_AFTER,
        archive_after: Duration | None = DEFAULT_ARCHIVE_AFTER,
        lake_expiration: Duration | None = None,
        vpc: ec2.IVpc | None = None,
        function_subnets: ec2.SubnetSelection | None = None,
        redshift: bool = True,
        redshift_subnets: ec2.SubnetSelection | None = None,
        redshift_security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        redshift_base_capacity: int = 8,
        enhanced_vpc_routing: bool = True,
        redshift_database: str = "dev",
        redshift_admin_username: str = "refarch_admin",
        redshift_namespace_name: str | None = None,
        redshift_workgroup_name: str | None = None,
        redshift_view_name: str = "stream_events",
        iterator_age_threshold: Duration = DEFAULT_ITERATOR_AGE_THRESHOLD,
        alarm_topic: sns.ITopic | None = None,
        lake_catalog: bool = True,
        removal_policy: RemovalPolicy = _defaults.DATA_REMOVAL_POLICY,
        dashboard: bool | str = True,
    ) -> None:
        """
        :param encryption_key: Key for the stream, queue, lake, logs and Redshift; it must admit CloudWatch
            Logs. Default: - a new customer-managed key with rotation
        :param stream_mode: Capacity mode of the stream. Default: ``StreamMode.ON_DEMAND``
        :param shard_count: Shards of a ``PROVISIONED`` stream (1 to 500); not allowed with on-demand.
            Default: - 1 when provisioned
        :param stream_retention: How long the stream keeps records, 24 hours to 365 days.
            Default: ``Duration.hours(24)``
        :param stream_name: Name of the stream. Default: - generated
        :param batch_size: Records per invocation, 1 to 10,000. Default: ``500``
        :param max_batching_window: How long Lambda gathers records before invoking, 0 to 300 s.
            Default: ``Duration.seconds(5)``
        :param retry_attempts: Retries of a failing batch before its records go to the dead-letter queue,
            0 to 10,000 (bounded: an infinite retry blocks the shard). Default: ``3``
        :param max_record_age: Records older than this go to the dead-letter queue unprocessed, 60 s to
            7 days, and at most ``stream_retention``. Default: ``Duration.hours(6)``
        :param parallelization_factor: Concurrent batches per shard, 1 to 10. Records with the same
            partition key stay in order. Default: ``1``
        :param enhanced_fan_out: Read through a dedicated enhanced fan-out consumer (2 MB/s per shard of
            its own, lower latency; billed per consumer-shard hour). Default: ``False``
        :param memory_size: Memory of the consumer function in MB, 128 to 10,240 (CPU grows with it).
            Default: ``1024``
        :param timeout: Timeout of the consumer function, 1 s to 15 min. Default: ``Duration.minutes(2)``
        :param reserved_concurrent_executions: Reserved concurrency of the consumer. Default: - none; the
            event source mapping bounds it to shards x ``parallelization_factor``
        :param event_schema: JSON schema (draft 4 to 7) records must match; at most 3,000 bytes as JSON.
            Default: - ``refarch/runtime/stream_processor/event.schema.json``
        :param lake_prefix: Key prefix of valid records in the lake, ending in ``/``. Default: ``"events/"``
        :param quarantine_prefix: Key prefix of invalid records, ending in ``/``. Default: ``"quarantine/"``
        :param infrequent_access_after: Age at which lake objects move to S3 Standard-IA (30 days or more).
            Default: ``Duration.days(30)``
        :param archive_after: Age at which lake objects move to S3 Glacier Instant Retrieval, after
            ``infrequent_access_after``; ``None`` to keep them in Standard-IA. Default: ``Duration.days(365)``
        :param lake_expiration: Age at which lake and quarantine objects are deleted, after every transition.
            When events carry personal data, GDPR's storage limitation (art. 5(1)(e)) asks for one, and the
            GDPR pack warns without it. Default: - objects are kept, tiered
        :param vpc: VPC for the functions and Redshift. Required when ``redshift`` is on. When Redshift
            goes in a ``ThreeTierVpc``'s db tier, the tier's ``db_port`` must be Redshift's 5439.
            Default: - the functions run outside a VPC
        :param function_subnets: Subnets of the functions (they need HTTPS to S3, Redshift Data API and
            X-Ray: NAT or endpoints). Default: - private subnets with egress
        :param redshift: Create Redshift Serverless with streaming ingestion from the stream. Turn off to
            keep only the lake path (Redshift bills for every RPU-hour the auto-refresh uses).
            Default: ``True``
        :param redshift_subnets: Subnets of the workgroup: at least 3, in 3 distinct AZs. With enhanced
            VPC routing they need a path to Kinesis (an interface endpoint or NAT).
            Default: - the VPC's isolated subnets
        :param redshift_security_groups: Security groups of the workgroup. Default: - a new group with
            HTTPS egress to the VPC only
        :param redshift_base_capacity: Base RPUs of the workgroup: 8 to 1024 in steps of 8. Default: ``8``
        :param enhanced_vpc_routing: Route Redshift's traffic (including Kinesis reads) through the VPC.
            Default: ``True``
        :param redshift_database: Database that holds the materialized view. Default: ``"dev"``
        :param redshift_admin_username: Admin user; its password is generated and kept by Redshift in
            Secrets Manager. Default: ``"refarch_admin"``
        :param redshift_namespace_name: Default: - derived from the construct path, with a suffix unique
            to the stack's creation (the namespace is retained: a fixed name blocks the next create)
        :param redshift_workgroup_name: Default: - derived from the construct path, with that suffix
        :param redshift_view_name: Materialized view over the stream. Default: ``"stream_events"``
        :param iterator_age_threshold: The iterator-age alarm fires when the consumer lags more than this.
            Default: ``Duration.minutes(5)``
        :param alarm_topic: SNS topic every alarm and the health alarm notify. Default: - a new topic encrypted
            with the construct's key (a new key when ``encryption_key`` is given)
        :param lake_catalog: Add a Glue Data Catalog table over the lake (partition projection, no crawler)
            and an Athena workgroup with KMS-encrypted results under ``athena-results/`` (expire after 30
            days). Default: ``True``
        :param removal_policy: Fate of the stream, queue, bucket, key, logs and Redshift namespace when
            removed from the stack. Default: ``RemovalPolicy.RETAIN``
        :param dashboard: ``False`` for no CloudWatch dashboard, or a name for it. Default: - a dashboard
            with a generated name
        """
        super().__init__(scope, id)
        _dashboards.check_alarm_topic_prop(_OWNER, alarm_topic)
        _dashboards.check_dashboard_prop(_OWNER, dashboard)
        pin_required_flags(self)  # before any child: its buckets need bucket-policy log delivery
        validate(
            stream_mode=stream_mode,
            shard_count=shard_count,
            stream_retention=stream_retention,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            retry_attempts=retry_attempts,
            max_record_age=max_record_age,
            parallelization_factor=parallelization_factor,
            memory_size=memory_size,
            timeout=timeout,
            reserved_concurrent_executions=reserved_concurrent_executions,
            lake_prefix=lake_prefix,
            quarantine_prefix=quarantine_prefix,
            infrequent_access_after=infrequent_access_after,
            archive_after=archive_after,
            lake_expiration=lake_expiration,
            iterator_age_threshold=iterator_age_threshold,
        )
        schema_text = schema_json(event_schema)
        redshift_subnet_list: list[ec2.ISubnet] = []
        if redshift:
            redshift_subnet_list = validate_redshift(
                vpc,
                redshift_subnets,
                base_capacity=redshift_base_capacity,
                database=redshift_database,
                admin_username=redshift_admin_username,
                namespace_name=redshift_namespace_name,
                workgroup_name=redshift_workgroup_name,
                view_name=redshift_view_name,
            )
        path = self.node.path

        own_key: kms.Key | None = None
        if encryption_key is None:
            key = own_key = _builders.build_logs_key(
                self, "Key", description=f"Encrypts the stream, lake and logs of {path}", removal_policy=removal_policy
            )
            encryption_key = key
        self.encryption_key = encryption_key

        self.stream = kinesis.Stream(
            self,
            "Stream",
            stream_name=stream_name,
            stream_mode=stream_mode,
            shard_count=shard_count if stream_mode == kinesis.StreamMode.PROVISIONED else None,
            retention_period=stream_retention,
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
        )

        acknowledge(
            self.stream,
            "The stream is encrypted with a customer-managed key on purpose: its key policy, rotation and "
            "CloudTrail record are the owner's, and the same key covers the lake, queue and Redshift.",
            "AwsSolutions-KDS3",
        )

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=encryption_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.dead_letter_queue,
            "This queue is the dead-letter destination itself (the event source mapping's on-failure "
            "destination); a dead-letter queue of the dead-letter queue would only move the same messages.",
            "AwsSolutions-SQS3",
        )

        self.access_log_bucket = _builders.build_access_log_bucket(self, "AccessLogs", removal_policy=removal_policy)
        transitions = [
            s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=infrequent_access_after)
        ]
        if archive_after is not None:
            transitions.append(
                s3.Transition(storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transition_after=archive_after)
            )
        self.bucket = _builders.build_data_bucket(
            self,
            "Lake",
            encryption_key=encryption_key,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="lake/",
            removal_policy=removal_policy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="TierLakeObjects",
                    transitions=transitions,
                    expiration=lake_expiration,
                    # Retried batches overwrite their objects: old versions are kept a while, not forever.
                    noncurrent_version_expiration=Duration.days(90),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
                *([results_lifecycle_rule()] if lake_catalog else []),
            ],
        )
        self.lake_prefix = lake_prefix
        self.quarantine_prefix = quarantine_prefix

        in_vpc = vpc is not None
        self.layer = dependencies_layer(
            self,
            "Dependencies",
            requirements="stream_processor",
            architecture=lambda_.Architecture.ARM_64,
            description="aws-lambda-powertools and fastjsonschema for the StreamingPipeline functions",
        )
        environment = {
            "BUCKET_NAME": self.bucket.bucket_name,
            "LAKE_PREFIX": lake_prefix,
            "QUARANTINE_PREFIX": quarantine_prefix,
            "POWERTOOLS_SERVICE_NAME": HANDLER_SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": HANDLER_NAMESPACE,
        }
        if schema_text is not None:
            environment["EVENT_SCHEMA"] = schema_text
        self.function_security_group: ec2.SecurityGroup | None = None
        if vpc is not None:
            self.function_security_group = ec2.SecurityGroup(
                self,
                "FunctionSecurityGroup",
                vpc=vpc,
                allow_all_outbound=False,
                description="StreamingPipeline functions: HTTPS to AWS APIs only",
            )
            self.function_security_group.add_egress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to S3, Redshift Data API and X-Ray"
            )
        # One asset for both functions: the package is fingerprinted once.
        self.code = handler_code("stream_processor")
        self.function = _builders.build_python_function(
            self,
            "Consumer",
            description=f"Lands the records of {path}'s stream in the S3 lake",
            code=self.code,
            handler="stream_processor.handler.lambda_handler",
            encryption_key=encryption_key,
            removal_policy=removal_policy,
            layers=[self.layer],
            environment=environment,
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrent_executions,
            vpc=vpc,
            vpc_subnets=function_subnets,
            security_groups=[self.function_security_group] if self.function_security_group else None,
        )
        self._grant_lake_writes(encryption_key)
        role = self.function.role
        assert role is not None
        self._acknowledge_function(self.function, reserved_concurrent_executions, in_vpc)

        event_source_options: dict[str, Any] = {
            "starting_position": lambda_.StartingPosition.TRIM_HORIZON,
            "batch_size": batch_size,
            "max_batching_window": max_batching_window,
            "bisect_batch_on_error": True,
            "retry_attempts": retry_attempts,
            "max_record_age": max_record_age,
            "parallelization_factor": parallelization_factor,
            "report_batch_item_failures": True,
            "on_failure": sources.SqsDlq(self.dead_letter_queue),
        }
        self.consumer: kinesis.StreamConsumer | None = None
        event_source: lambda_.IEventSource
        if enhanced_fan_out:
            self.consumer = kinesis.StreamConsumer(
                self, "FanOutConsumer", stream=self.stream, stream_consumer_name=f"{id}-consumer"
            )
            event_source = sources.KinesisConsumerEventSource(self.consumer, **event_source_options)
        else:
            event_source = sources.KinesisEventSource(self.stream, **event_source_options)
        self.function.add_event_source(event_source)
        acknowledge(
            role,
            "Lambda sends failed-batch records to the KMS-encrypted dead-letter queue with this role; the "
            "SqsDlq grant adds the key's GenerateDataKey*/ReEncrypt* family, on this one key only.",
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        )

        self.redshift: RedshiftStreamingIngestion | None = None
        if redshift:
            assert vpc is not None
            self.redshift = RedshiftStreamingIngestion(
                self,
                "Redshift",
                stream=self.stream,
                encryption_key=encryption_key,
                vpc=vpc,
                subnets=redshift_subnet_list,
                security_groups=redshift_security_groups,
                function_subnets=function_subnets,
                function_in_vpc=in_vpc,
                function_security_groups=[self.function_security_group] if self.function_security_group else None,
                layer=self.layer,
                code=self.code,
                base_capacity=redshift_base_capacity,
                enhanced_vpc_routing=enhanced_vpc_routing,
                database_name=redshift_database,
                admin_username=redshift_admin_username,
                namespace_name=redshift_namespace_name,
                workgroup_name=redshift_workgroup_name,
                source_schema="kinesis_source",
                view_name=redshift_view_name,
                removal_policy=removal_policy,
            )
            self._acknowledge_function(self.redshift.sql_function, None, in_vpc, custom_resource=True)
            framework = self.redshift.provider.node.find_child("framework-onEvent")
            self._acknowledge_function(framework, None, in_vpc, custom_resource=True)

        self.catalog: LakeCatalog | None = None
        if lake_catalog:
            self.catalog = LakeCatalog(
                self, "Catalog", bucket=self.bucket, encryption_key=encryption_key, lake_prefix=lake_prefix
            )

        self.alarm_topic: sns.ITopic = alarm_topic or _dashboards.build_alarm_topic(
            self, "AlarmTopic", removal_policy=removal_policy, description=f"alarms of {path}", own_key=own_key
        )
        self.alarms = self._add_alarms(iterator_age_threshold, self.alarm_topic)
        self.dashboard, self.health_alarm = _dashboards.build_operations_view(
            self,
            dashboard=dashboard,
            title=path,
            panels=pipeline_panels(
                stream=self.stream,
                function=self.function,
                dead_letter_queue=self.dead_letter_queue,
                workgroup=self.redshift.workgroup if self.redshift is not None else None,
            ),
            alarms=self.alarms,
            topic=self.alarm_topic,
        )
        if in_vpc:
            self._declare_flows(enhanced_vpc_routing)

    def _declare_flows(self, enhanced_vpc_routing: bool) -> None:
        """The calls the in-VPC parts make, each from every subnet they run in."""
        needs: list[tuple[IConstruct, str, str]] = [(self.function, "s3", "the consumer writes the lake")]
        if self.redshift is not None:
            framework = self.redshift.provider.node.find_child("framework-onEvent")
            needs += [
                (self.redshift.sql_function, "redshift-data", "the SQL function runs statements via the Data API"),
                (framework, "lambda", "the custom-resource provider invokes the SQL function"),
            ]
            if enhanced_vpc_routing:
                needs.append((self.redshift.workgroup, "kinesis-streams", "Redshift reads the stream (VPC routing)"))
        for source, service, reason in needs:
            flows.require_flow(self, source=source, destination=flows.aws_service(service), port=443, reason=reason)

    # -- grants ---------------------------------------------------------------------------

    def _grant_lake_writes(self, key: kms.IKey) -> None:
        """PutObject under the two prefixes, and the one KMS action an SSE-KMS PUT needs."""
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[
                    self.bucket.arn_for_objects(f"{self.lake_prefix}*"),
                    self.bucket.arn_for_objects(f"{self.quarantine_prefix}*"),
                ],
            )
        )
        key.grant(self.function, "kms:GenerateDataKey")
        role = self.function.role
        assert role is not None
        require_permission(
            self,
            principal=role,
            actions=["s3:PutObject"],
            resources=[self.bucket.arn_for_objects(f"{p}*") for p in (self.lake_prefix, self.quarantine_prefix)],
            reason="the consumer writes accepted records under the lake prefix, rejected ones under quarantine",
        )
        acknowledge(
            role,
            "The consumer writes new objects whose keys (partition, shard, sequence numbers) are only known "
            "at run time; the grant is PutObject alone, limited to the lake and quarantine prefixes.",
            f"AwsSolutions-IAM5[Resource::<{_logical_ref(self.bucket)}.Arn>/{self.lake_prefix}*]",
            f"AwsSolutions-IAM5[Resource::<{_logical_ref(self.bucket)}.Arn>/{self.quarantine_prefix}*]",
        )

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put records into the stream: PutRecord(s) and ListShards on this stream, and
        the one KMS action a producer of an encrypted stream needs (GenerateDataKey, no wildcard)."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:ListShards", "kinesis:DescribeStreamSummary"],
            resource_arns=[self.stream.stream_arn],
        )
        return grant.combine(self.encryption_key.grant(grantee, "kms:GenerateDataKey"))

    def grant_query(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` query the lake with Athena in the pipeline's workgroup (needs ``lake_catalog``)."""
        if self.catalog is None:
            raise ValueError("StreamingPipeline.grant_query: the pipeline was built with lake_catalog=False.")
        return self.catalog.grant_query(grantee)

    def grant_read_lake(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the lake (and decrypt it), for example an analytics role."""
        return self.bucket.grant_read(grantee)

    # -- compliance -----------------------------------------------------------------------

    def _acknowledge_function(
        self,
        function: Any,
        reserved: int | None,
        in_vpc: bool,
        *,
        custom_resource: bool = False,
    ) -> None:
        invoked = (
            "It is invoked synchronously by CloudFormation's custom resource provider, which reports a failure "
            "to the stack; Lambda's dead-letter queue applies only to asynchronous invocations."
            if custom_resource
            else "It is invoked by a Kinesis event source mapping, whose on-failure destination (the SQS "
            "dead-letter queue of this construct) receives what fails; a function DLQ only serves async invokes."
        )
        acknowledge(
            function,
            invoked,
            "HIPAA.Security-LambdaDLQ",
            "NIST.800.53.R5-LambdaDLQ",
            "PCI.DSS.321-LambdaDLQ",
        )
        if reserved is None:
            acknowledge(
                function,
                "Concurrency is already bounded: a stream consumer runs at most shards x parallelization factor "
                "at once, and a deploy-time custom resource once per deployment. Reserving more wastes quota.",
                "HIPAA.Security-LambdaConcurrency",
                "NIST.800.53.R5-LambdaConcurrency",
            )
        if not in_vpc:
            acknowledge(
                function,
                "No vpc was given: the function reaches only AWS APIs (S3, Redshift Data API) over TLS with IAM "
                "authorization and holds no network-reachable endpoint. Pass vpc= to run it in private subnets.",
                "HIPAA.Security-LambdaInsideVPC",
                "NIST.800.53.R5-LambdaInsideVPC",
                "PCI.DSS.321-LambdaInsideVPC",
            )

    # -- alarms ---------------------------------------------------------------------------

    def _add_alarms(self, iterator_age: Duration, topic: sns.ITopic) -> dict[str, cloudwatch.Alarm]:
        minute = Duration.minutes(1)
        specs: dict[str, tuple[cloudwatch.IMetric, float, str]] = {
            "IteratorAge": (
                self.function.metric("IteratorAge", statistic="Maximum", period=minute),
                iterator_age.to_milliseconds(),
                f"The consumer lags the stream by more than {iterator_age.to_human_string()}",
            ),
            "DeadLetters": (
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    statistic="Maximum", period=minute
                ),
                1,
                "Records ran out of retries or age: their shard/sequence ranges are in the dead-letter queue",
            ),
            "Errors": (
                self.function.metric_errors(statistic="Sum", period=minute),
                1,
                "The consumer failed whole batches (they are retried, then bisected)",
            ),
            "Throttles": (
                self.function.metric_throttles(statistic="Sum", period=minute),
                1,
                "The consumer was throttled: raise the account's or the function's concurrency",
            ),
            "WriteThrottles": (
                self.stream.metric_write_provisioned_throughput_exceeded(statistic="Sum", period=minute),
                1,
                "Producers were throttled writing to the stream: add shards or spread partition keys",
            ),
        }
        alarms = {}
        for name, (metric, threshold, description) in specs.items():
            alarm = cloudwatch.Alarm(
                self,
                f"{name}Alarm",
                metric=metric,
                threshold=threshold,
                evaluation_periods=3 if name == "IteratorAge" else 1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
            alarm.add_alarm_action(cw_actions.SnsAction(topic))
            alarms[name] = alarm
        return alarms

    # -- attributes -----------------------------------------------------------------------

    @property
    def stream_arn(self) -> str:
        return self.stream.stream_arn

    @property
    def bucket_name(self) -> str:
        return self.bucket.bucket_name

    def metric_iterator_age(self, **kwargs: Any) -> cloudwatch.Metric:
        """Maximum age of the last record the consumer read, in milliseconds."""
        return self.function.metric("IteratorAge", **{"statistic": "Maximum", **kwargs})


def _logical_ref(construct: Construct) -> str:
    child = construct.node.default_child
    assert child is not None
    return str(Stack.of(construct).get_logical_id(child))  # type: ignore[arg-type]
