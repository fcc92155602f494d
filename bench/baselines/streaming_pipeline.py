"""StreamingPipeline (with Redshift, in a VPC) vs the same resources in plain aws-cdk-lib L2 code."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_redshiftserverless as redshift
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr

_RUNTIME = Path(__file__).resolve().parent.parent.parent / "refarch" / "runtime"


def _vpc(stack: Stack) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Vpc",
        availability_zones=[Fn.select(i, Fn.get_azs()) for i in range(3)],
        nat_gateways=1,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
            ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
            ec2.SubnetConfiguration(name="Db", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
        ],
    )


def with_construct(stack: Stack) -> None:
    from refarch.constructs import StreamingPipeline

    StreamingPipeline(stack, "Pipeline", vpc=_vpc(stack))


def with_plain_l2(stack: Stack) -> None:
    retain = RemovalPolicy.RETAIN
    vpc = _vpc(stack)
    key = kms.Key(stack, "Key", enable_key_rotation=True, removal_policy=retain)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
        )
    )
    stream = kinesis.Stream(
        stack,
        "Stream",
        stream_mode=kinesis.StreamMode.ON_DEMAND,
        retention_period=Duration.hours(24),
        encryption=kinesis.StreamEncryption.KMS,
        encryption_key=key,
        removal_policy=retain,
    )
    queue = sqs.Queue(
        stack,
        "DeadLetterQueue",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=retain,
    )
    logs_bucket = s3.Bucket(
        stack,
        "AccessLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        removal_policy=retain,
        lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
    )
    lake = s3.Bucket(
        stack,
        "Lake",
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        server_access_logs_bucket=logs_bucket,
        server_access_logs_prefix="lake/",
        removal_policy=retain,
        lifecycle_rules=[
            s3.LifecycleRule(
                transitions=[
                    s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=Duration.days(30)),
                    s3.Transition(
                        storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transition_after=Duration.days(365)
                    ),
                ],
                noncurrent_version_expiration=Duration.days(90),
            ),
            s3.LifecycleRule(prefix="athena-results/", expiration=Duration.days(30)),
        ],
    )
    layer = lambda_.LayerVersion(
        stack,
        "Dependencies",
        code=lambda_.Code.from_asset(str(_RUNTIME / "layers")),
        compatible_runtimes=[lambda_.Runtime.PYTHON_3_14],
        compatible_architectures=[lambda_.Architecture.ARM_64],
    )
    code = lambda_.Code.from_asset(str(_RUNTIME), exclude=["__pycache__", "layers", "image_processor"])
    sg = ec2.SecurityGroup(stack, "FunctionSg", vpc=vpc, allow_all_outbound=False)
    sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443))

    def function(id: str, handler: str, timeout: Duration, memory: int) -> lambda_.Function:
        return lambda_.Function(
            stack,
            id,
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            code=code,
            handler=handler,
            layers=[layer],
            timeout=timeout,
            memory_size=memory,
            tracing=lambda_.Tracing.ACTIVE,
            environment_encryption=key,
            log_group=logs.LogGroup(
                stack, f"{id}Logs", encryption_key=key, retention=logs.RetentionDays.ONE_YEAR, removal_policy=retain
            ),
            vpc=vpc,
            security_groups=[sg],
        )

    consumer = function("Consumer", "stream_processor.handler.lambda_handler", Duration.minutes(2), 1024)
    consumer.add_environment("BUCKET_NAME", lake.bucket_name)
    consumer.add_to_role_policy(
        iam.PolicyStatement(
            actions=["s3:PutObject"], resources=[lake.arn_for_objects("events/*"), lake.arn_for_objects("quarantine/*")]
        )
    )
    key.grant(consumer, "kms:GenerateDataKey")
    consumer.add_event_source(
        sources.KinesisEventSource(
            stream,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=500,
            max_batching_window=Duration.seconds(5),
            bisect_batch_on_error=True,
            retry_attempts=3,
            max_record_age=Duration.hours(6),
            report_batch_item_failures=True,
            on_failure=sources.SqsDlq(queue),
        )
    )

    role = iam.Role(stack, "RedshiftRole", assumed_by=iam.ServicePrincipal("redshift.amazonaws.com"))
    stream.grant_read(role)
    rs_sg = ec2.SecurityGroup(stack, "RedshiftSg", vpc=vpc, allow_all_outbound=False)
    rs_sg.add_egress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(443))
    namespace = redshift.CfnNamespace(
        stack,
        "Namespace",
        namespace_name="pipeline",
        db_name="dev",
        admin_username="refarch_admin",
        manage_admin_password=True,
        admin_password_secret_kms_key_id=key.key_arn,
        kms_key_id=key.key_arn,
        iam_roles=[role.role_arn],
        log_exports=["connectionlog", "userlog", "useractivitylog"],
    )
    namespace.apply_removal_policy(retain)
    workgroup = redshift.CfnWorkgroup(
        stack,
        "Workgroup",
        workgroup_name="pipeline",
        namespace_name=namespace.ref,
        base_capacity=8,
        enhanced_vpc_routing=True,
        publicly_accessible=False,
        subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
        security_group_ids=[rs_sg.security_group_id],
    )
    apply = function("ApplySql", "stream_processor.apply_sql.on_event", Duration.minutes(10), 256)
    apply.add_to_role_policy(
        iam.PolicyStatement(
            actions=["redshift-data:BatchExecuteStatement"], resources=[workgroup.attr_workgroup_workgroup_arn]
        )
    )
    apply.add_to_role_policy(iam.PolicyStatement(actions=["redshift-data:DescribeStatement"], resources=["*"]))
    provider = cr.Provider(stack, "Provider", on_event_handler=apply, vpc=vpc, security_groups=[sg])
    CustomResource(
        stack,
        "IngestionSql",
        service_token=provider.service_token,
        properties={
            "WorkgroupName": workgroup.ref,
            "Sqls": [f"CREATE EXTERNAL SCHEMA IF NOT EXISTS s FROM KINESIS IAM_ROLE '{role.role_arn}';"],
        },
    )

    location = f"s3://{lake.bucket_name}/events/"
    database = glue.CfnDatabase(
        stack, "Database", catalog_id=stack.account, database_input=glue.CfnDatabase.DatabaseInputProperty(name="lake")
    )
    glue.CfnTable(
        stack,
        "Table",
        catalog_id=stack.account,
        database_name="lake",
        table_input=glue.CfnTable.TableInputProperty(
            name="events",
            table_type="EXTERNAL_TABLE",
            parameters={
                "classification": "json",
                "projection.enabled": "true",
                "projection.dt.type": "date",
                "projection.dt.format": "yyyy-MM-dd",
                "projection.dt.range": "2024-01-01,NOW",
                "projection.hour.type": "integer",
                "projection.hour.range": "0,23",
                "projection.hour.digits": "2",
                "storage.location.template": location + "dt=${dt}/hour=${hour}/",
            },
            partition_keys=[
                glue.CfnTable.ColumnProperty(name="dt", type="string"),
                glue.CfnTable.ColumnProperty(name="hour", type="string"),
            ],
            storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                location=location,
                columns=[
                    glue.CfnTable.ColumnProperty(name=n, type="string")
                    for n in ("arrival_time", "shard_id", "sequence_number", "partition_key", "event")
                ],
                input_format="org.apache.hadoop.mapred.TextInputFormat",
                output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                serde_info=glue.CfnTable.SerdeInfoProperty(serialization_library="org.openx.data.jsonserde.JsonSerDe"),
            ),
        ),
    ).add_dependency(database)
    athena.CfnWorkGroup(
        stack,
        "AthenaWorkgroup",
        name="lake",
        work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
            enforce_work_group_configuration=True,
            result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                output_location=f"s3://{lake.bucket_name}/athena-results/",
                encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                    encryption_option="SSE_KMS", kms_key=key.key_arn
                ),
            ),
        ),
    )

    minute = Duration.minutes(1)
    for name, metric in {
        "IteratorAge": consumer.metric("IteratorAge", statistic="Maximum", period=minute),
        "DeadLetters": queue.metric_approximate_number_of_messages_visible(period=minute),
        "Errors": consumer.metric_errors(period=minute),
        "Throttles": consumer.metric_throttles(period=minute),
        "WriteThrottles": stream.metric_write_provisioned_throughput_exceeded(period=minute),
    }.items():
        cloudwatch.Alarm(stack, f"{name}Alarm", metric=metric, threshold=1, evaluation_periods=1)
