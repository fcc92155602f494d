"""A streaming pipeline: Kinesis Data Streams -> Lambda -> S3 data lake -> Redshift Serverless.

Events stream in; a Lambda function (Powertools batch processing) decodes, validates and enriches them
as they arrive and lands them in an S3 data lake, one compressed object per batch and partition;
Redshift Serverless reads the same stream through streaming ingestion for low-latency analytics.
Nothing is lost: invalid records are quarantined with their reason, failed writes are retried record
by record (``ReportBatchItemFailures``), and what still fails ends in a dead-letter queue with an alarm.
"""

from __future__ import annotations

import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct
from typing_extensions import Unpack

from refarch.constructs import _builders, _dashboards
from refarch.constructs._flags import pin_required_flags
from refarch.constructs._metrics import MetricOptions
from refarch.constructs._props import document_props, read_props
from refarch.constructs.streaming_pipeline.catalog import RESULTS_PREFIX, LakeCatalog
from refarch.constructs.streaming_pipeline.checks import OWNER, Placement, check_props
from refarch.constructs.streaming_pipeline.consumer import acknowledge_function, build_consumer
from refarch.constructs.streaming_pipeline.ingest import build_dead_letter_queue, build_stream, feed_consumer
from refarch.constructs.streaming_pipeline.lake import acknowledge_prefix_grant, build_lake, grant_lake_writes
from refarch.constructs.streaming_pipeline.monitoring import build_alarms, iterator_age, pipeline_panels
from refarch.constructs.streaming_pipeline.props import StreamingPipelineProps
from refarch.constructs.streaming_pipeline.redshift import REDSHIFT_PORT, RedshiftStreamingIngestion
from refarch.contracts import flows

#: The action groups of CDK's ``Bucket.grant_read``.
_READ_ACTIONS = ("s3:GetBucket*", "s3:GetObject*", "s3:List*")


@document_props(StreamingPipelineProps)
@jsii.implements(ec2.IConnectable)
class StreamingPipeline(Construct):
    """Kinesis Data Streams -> Lambda -> S3 data lake (-> Redshift Serverless streaming ingestion).

    Example::

        network = ThreeTierVpc(self, "Network", db_port=5439,
                               interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS])
        network.allow_db_tier_to_endpoints()
        pipeline = StreamingPipeline(self, "Clicks", vpc=network)
        pipeline.grant_write(producer_role)
    """

    def __init__(self, scope: Construct, id: str, **props: Unpack[StreamingPipelineProps]) -> None:
        """The stream, its consumer and dead-letter queue, the lake and its catalog, Redshift, alarms."""
        p = read_props(OWNER, StreamingPipelineProps, props)
        placement = check_props(p)
        super().__init__(scope, id)
        pin_required_flags(self)  # before any child: its buckets need bucket-policy log delivery
        path = self.node.path

        own_key: kms.Key | None = None
        if p["encryption_key"] is None:
            own_key = _builders.build_logs_key(
                self,
                "Key",
                description=f"Encrypts the stream, lake and logs of {path}",
                removal_policy=p["removal_policy"],
            )
        self.encryption_key: kms.IKey = p["encryption_key"] or own_key  # type: ignore[assignment]
        key = self.encryption_key

        self.stream = build_stream(self, p, key)
        self.dead_letter_queue = build_dead_letter_queue(self, p, key)
        self.access_log_bucket, self.bucket = build_lake(self, p, key)
        self.lake_prefix, self.quarantine_prefix = p["lake_prefix"], p["quarantine_prefix"]

        consumer = build_consumer(self, p, key=key, bucket=self.bucket, placement=placement)
        self.layer, self.code, self.function = consumer.layer, consumer.code, consumer.function
        self.function_security_group = consumer.security_group
        grant_lake_writes(self, self.function, self.bucket, key, (self.lake_prefix, self.quarantine_prefix))
        in_vpc = placement.vpc is not None
        acknowledge_function(self.function, reserved=p["reserved_concurrent_executions"], in_vpc=in_vpc)
        self.consumer = feed_consumer(
            self,
            p,
            stream=self.stream,
            function=self.function,
            dead_letter_queue=self.dead_letter_queue,
            consumer_name=f"{id}-consumer",
        )

        self.redshift = self._build_redshift(p, placement) if p["redshift"] else None
        self.catalog = (
            LakeCatalog(self, "Catalog", bucket=self.bucket, encryption_key=key, lake_prefix=self.lake_prefix)
            if p["lake_catalog"]
            else None
        )
        self._connections = ec2.Connections(
            security_groups=[
                *([self.function_security_group] if self.function_security_group else []),
                *(self.redshift.security_groups if self.redshift else []),
            ],
            default_port=ec2.Port.tcp(REDSHIFT_PORT) if self.redshift else None,
        )

        self.alarm_topic: sns.ITopic = p["alarm_topic"] or _dashboards.build_alarm_topic(
            self, "AlarmTopic", removal_policy=p["removal_policy"], description=f"alarms of {path}", own_key=own_key
        )
        self.alarms = build_alarms(
            self,
            stream=self.stream,
            function=self.function,
            dead_letter_queue=self.dead_letter_queue,
            iterator_age_threshold=p["iterator_age_threshold"],
            topic=self.alarm_topic,
        )
        self.dashboard, self.health_alarm = _dashboards.build_operations_view(
            self,
            dashboard=p["dashboard"],
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
            self._declare_flows(p["enhanced_vpc_routing"])

    def _build_redshift(self, p: StreamingPipelineProps, placement: Placement) -> RedshiftStreamingIngestion:
        """Redshift Serverless reading the stream; its SQL functions run where the consumer runs."""
        assert placement.vpc is not None  # check_props: Redshift needs a VPC
        function_groups = [self.function_security_group] if self.function_security_group else None
        redshift = RedshiftStreamingIngestion(
            self,
            "Redshift",
            stream=self.stream,
            encryption_key=self.encryption_key,
            vpc=placement.vpc,
            subnets=placement.redshift_subnets,
            security_groups=placement.redshift_security_groups,
            function_subnets=placement.function_subnets,
            function_security_groups=function_groups,
            layer=self.layer,
            code=self.code,
            base_capacity=p["redshift_base_capacity"],
            enhanced_vpc_routing=p["enhanced_vpc_routing"],
            database_name=p["redshift_database"],
            admin_username=p["redshift_admin_username"],
            namespace_name=p["redshift_namespace_name"],
            workgroup_name=p["redshift_workgroup_name"],
            source_schema="kinesis_source",
            view_name=p["redshift_view_name"],
            removal_policy=p["removal_policy"],
            log_retention=p["log_retention"],
        )
        acknowledge_function(redshift.sql_function, reserved=None, in_vpc=True, custom_resource=True)
        framework = redshift.provider.node.find_child("framework-onEvent")
        acknowledge_function(framework, reserved=None, in_vpc=True, custom_resource=True)
        return redshift

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

    # -- network ---------------------------------------------------------------------------

    @property
    def connections(self) -> ec2.Connections:
        """The security groups of everything the pipeline puts in a VPC (its functions, Redshift's
        workgroup), with Redshift's port 5439 as the default port when Redshift is on; empty without a VPC."""
        return self._connections

    # -- grants ----------------------------------------------------------------------------

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
        """Let ``grantee`` query the lake with Athena in the pipeline's workgroup (needs ``lake_catalog``):
        the workgroup's query actions, the catalog table, reads of the lake prefix and the key."""
        if self.catalog is None:
            raise ValueError("StreamingPipeline.grant_query: the pipeline was built with lake_catalog=False.")
        grant = self.catalog.grant_query(grantee)
        acknowledge_prefix_grant(
            grantee,
            "Granted by StreamingPipeline.grant_query: Athena reads the lake prefix and writes query results "
            "under athena-results/ with CDK's S3 read and read-write action groups, on those prefixes and the "
            "pipeline's key only.",
            self.bucket,
            (self.lake_prefix, RESULTS_PREFIX),
            (*_READ_ACTIONS, "s3:Abort*", "s3:DeleteObject*", "kms:GenerateDataKey*", "kms:ReEncrypt*"),
        )
        return grant

    def grant_read_lake(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the lake (and decrypt it), for example an analytics role."""
        grant = self.bucket.grant_read(grantee)
        acknowledge_prefix_grant(
            grantee,
            "Granted by StreamingPipeline.grant_read_lake: CDK's S3 read action groups on the lake bucket's "
            "objects, and decrypt with the pipeline's key; nothing else.",
            self.bucket,
            ("",),
            _READ_ACTIONS,
        )
        return grant

    # -- attributes and metrics ------------------------------------------------------------

    @property
    def stream_arn(self) -> str:
        return self.stream.stream_arn

    @property
    def bucket_name(self) -> str:
        return self.bucket.bucket_name

    def metric_iterator_age(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Maximum age of the last record the consumer read, in milliseconds."""
        return iterator_age(self.function, **options)
