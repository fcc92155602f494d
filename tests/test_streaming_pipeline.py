"""StreamingPipeline: template assertions on the reference stack and on a lake-only variant, and
the prop checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk.assertions import Match

from refarch.constructs import PropValidationError, StreamingPipeline, ThreeTierVpc
from refarch.constructs.streaming_pipeline.redshift import CREATE_SQL_FILES, SQL_DIR
from tests.harness import ReferenceStacks, SynthesizedStack, new_app, synth

NAME = "StreamingPipelineStack"


@pytest.fixture(scope="module")
def ref(reference_stacks: ReferenceStacks) -> SynthesizedStack:
    return reference_stacks[NAME]


@pytest.fixture(scope="module")
def lake_only() -> tuple[SynthesizedStack, StreamingPipeline]:
    """No VPC and no Redshift; provisioned stream, enhanced fan-out, a custom schema, a user's key."""
    stack = cdk.Stack(new_app(), "LakeOnly")
    producer = iam.Role(stack, "Producer", assumed_by=iam.AccountRootPrincipal())
    pipeline = StreamingPipeline(
        stack,
        "Pipeline",
        redshift=False,
        stream_mode=kinesis.StreamMode.PROVISIONED,
        shard_count=4,
        stream_retention=Duration.days(7),
        enhanced_fan_out=True,
        batch_size=10_000,
        max_batching_window=Duration.seconds(30),
        parallelization_factor=2,
        event_schema={"type": "object", "required": ["id"]},
        archive_after=None,
    )
    pipeline.grant_write(producer)
    analyst = iam.Role(stack, "Analyst", assumed_by=iam.AccountRootPrincipal())
    pipeline.grant_query(analyst)
    return synth(stack), pipeline


def _logical_id(stack: SynthesizedStack, type_: str, contains: str = "") -> str:
    (lid,) = [k for k in stack.resources(type_) if contains in k]
    return lid


# -- the reference stack -----------------------------------------------------------------------


def test_stream_is_on_demand_and_encrypted_with_the_customer_key(ref: SynthesizedStack) -> None:
    key = _logical_id(ref, "AWS::KMS::Key", "PipelineKey")
    ref.template.has_resource_properties(
        "AWS::Kinesis::Stream",
        {
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "RetentionPeriodHours": 24,
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": {"Fn::GetAtt": [key, "Arn"]}},
        },
    )
    ref.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_event_source_mapping_settings(ref: SynthesizedStack) -> None:
    queue = _logical_id(ref, "AWS::SQS::Queue")
    ref.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 500,
            "MaximumBatchingWindowInSeconds": 5,
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 3,
            "MaximumRecordAgeInSeconds": 6 * 3600,
            "ParallelizationFactor": 1,
            "StartingPosition": "TRIM_HORIZON",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}},
        },
    )


def test_dead_letter_queue_is_encrypted_and_alarmed(ref: SynthesizedStack) -> None:
    key = _logical_id(ref, "AWS::KMS::Key", "PipelineKey")
    queue = _logical_id(ref, "AWS::SQS::Queue")
    ref.template.has_resource_properties(
        "AWS::SQS::Queue", {"KmsMasterKeyId": {"Fn::GetAtt": [key, "Arn"]}, "MessageRetentionPeriod": 14 * 86400}
    )
    ref.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "AlarmActions": [{"Ref": _logical_id(ref, "AWS::SNS::Topic")}],
        },
    )


def test_alarms_cover_lag_errors_throttles_and_write_throttling(ref: SynthesizedStack) -> None:
    metrics = sorted(
        a["Properties"]["MetricName"]
        for logical_id, a in ref.resources("AWS::CloudWatch::Alarm").items()
        if logical_id.startswith("Pipeline")  # not the network's NAT gateway alarms
    )
    assert metrics == [
        "ApproximateNumberOfMessagesVisible",
        "Errors",
        "IteratorAge",
        "Throttles",
        "WriteProvisionedThroughputExceeded",
    ]
    ref.template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "IteratorAge", "Threshold": 300_000, "Statistic": "Maximum"}
    )


def test_consumer_is_arm64_powertools_in_the_app_tier(ref: SynthesizedStack) -> None:
    ref.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "stream_processor.handler.lambda_handler",
            "Architectures": ["arm64"],
            "Runtime": "python3.14",
            "MemorySize": 1024,
            "Layers": [{"Ref": Match.string_like_regexp("PipelineDependencies")}],
            "VpcConfig": {"SubnetIds": Match.array_with([{"Ref": Match.string_like_regexp("NetworkVpcAppSubnet1")}])},
            "Environment": {
                "Variables": Match.object_like({"LAKE_PREFIX": "events/", "QUARANTINE_PREFIX": "quarantine/"})
            },
            "KmsKeyArn": Match.any_value(),
            "TracingConfig": {"Mode": "Active"},
        },
    )


def test_consumer_may_put_only_under_its_two_prefixes(ref: SynthesizedStack) -> None:
    policies = [
        p for lid, p in ref.resources("AWS::IAM::ManagedPolicy").items() if lid.startswith("PipelineConsumerRole")
    ]
    (policy,) = policies
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    s3_statements = [s for s in statements if "s3:PutObject" in json.dumps(s["Action"])]
    assert len(s3_statements) == 1
    (statement,) = s3_statements
    assert statement["Action"] == "s3:PutObject"
    resources = json.dumps(statement["Resource"])
    assert "/events/*" in resources and "/quarantine/*" in resources
    assert not any("s3:*" in json.dumps(s["Action"]) or "s3:Delete" in json.dumps(s["Action"]) for s in statements)


def test_lake_bucket_encryption_lifecycle_and_logs(ref: SynthesizedStack) -> None:
    key = _logical_id(ref, "AWS::KMS::Key", "PipelineKey")
    ref.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "BucketKeyEnabled": True,
                        "ServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": {"Fn::GetAtt": [key, "Arn"]},
                        },
                    }
                ]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": {"LogFilePrefix": "lake/", "DestinationBucketName": Match.any_value()},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Transitions": [
                                    {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
                                    {"StorageClass": "GLACIER_IR", "TransitionInDays": 365},
                                ],
                                "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_stateful_resources_are_retained(ref: SynthesizedStack) -> None:
    for type_ in ("AWS::Kinesis::Stream", "AWS::SQS::Queue", "AWS::RedshiftServerless::Namespace", "AWS::KMS::Key"):
        for lid, resource in ref.resources(type_).items():
            assert resource.get("DeletionPolicy") == "Retain", (lid, type_)


def test_redshift_serverless_in_isolated_subnets_with_customer_key(ref: SynthesizedStack) -> None:
    key = _logical_id(ref, "AWS::KMS::Key", "PipelineKey")
    role = _logical_id(ref, "AWS::IAM::Role", "PipelineRedshiftStreamingRole")
    ref.template.has_resource_properties(
        "AWS::RedshiftServerless::Namespace",
        {
            "KmsKeyId": {"Fn::GetAtt": [key, "Arn"]},
            "ManageAdminPassword": True,
            "AdminPasswordSecretKmsKeyId": {"Fn::GetAtt": [key, "Arn"]},
            "IamRoles": [{"Fn::GetAtt": [role, "Arn"]}],
            "LogExports": ["connectionlog", "userlog", "useractivitylog"],
        },
    )
    (workgroup,) = ref.resources("AWS::RedshiftServerless::Workgroup").values()
    props = workgroup["Properties"]
    assert props["EnhancedVpcRouting"] is True
    assert props["PubliclyAccessible"] is False
    assert {"ParameterKey": "require_ssl", "ParameterValue": "true"} in props["ConfigParameters"]
    subnet_ids = [s["Ref"] for s in props["SubnetIds"]]
    assert len(subnet_ids) == 3 and all("DbSubnet" in s for s in subnet_ids)
    for subnet in subnet_ids:
        assert ref.json["Resources"][subnet]["Properties"]["MapPublicIpOnLaunch"] is False
    # Isolated: their route tables have no default route at all.
    routes = ref.resources("AWS::EC2::Route").values()
    assert not [r for r in routes if "DbSubnet" in json.dumps(r["Properties"]["RouteTableId"])]


def test_redshift_role_reads_only_the_stream(ref: SynthesizedStack) -> None:
    stream = _logical_id(ref, "AWS::Kinesis::Stream")
    ref.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [Match.object_like({"Principal": {"Service": "redshift.amazonaws.com"}})]
            }
        },
    )
    (policy,) = [p for lid, p in ref.resources("AWS::IAM::ManagedPolicy").items() if "RedshiftStreamingRole" in lid]
    kinesis_statements = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "kinesis:GetRecords" in json.dumps(s)
    ]
    assert kinesis_statements
    assert all(s["Resource"] == {"Fn::GetAtt": [stream, "Arn"]} for s in kinesis_statements)


def test_ingestion_sql_is_applied_through_the_data_api(ref: SynthesizedStack) -> None:
    (resource,) = ref.resources("Custom::RedshiftStreamingIngestionSql").values()
    props = resource["Properties"]
    rendered = json.dumps(props["Sqls"])
    # Case sensitivity comes from the workgroup (auto refresh runs in sessions of its own), never a session SET.
    assert "enable_case_sensitive_identifier" not in rendered
    assert "CREATE EXTERNAL SCHEMA IF NOT EXISTS kinesis_source" in rendered and "FROM KINESIS" in rendered
    assert "CREATE MATERIALIZED VIEW stream_events AUTO REFRESH YES" in rendered
    assert _logical_id(ref, "AWS::Kinesis::Stream") in rendered  # the stream's own name
    assert props["ReplaceSqls"] == ["DROP MATERIALIZED VIEW IF EXISTS stream_events;"]
    assert props["WorkgroupName"] == {"Ref": _logical_id(ref, "AWS::RedshiftServerless::Workgroup")}
    assert len(CREATE_SQL_FILES) == len(props["Sqls"]) and all((SQL_DIR / f).is_file() for f in CREATE_SQL_FILES)
    ref.template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": "stream_processor.apply_sql.on_event", "Timeout": 600}
    )
    (policy,) = [
        p
        for lid, p in ref.resources("AWS::IAM::ManagedPolicy").items()
        if lid.startswith("PipelineRedshiftApplySqlRole")
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    execute = [s for s in statements if s["Action"] == "redshift-data:BatchExecuteStatement"]
    workgroup = _logical_id(ref, "AWS::RedshiftServerless::Workgroup")
    assert [s["Resource"] for s in execute] == [{"Fn::GetAtt": [workgroup, "Workgroup.WorkgroupArn"]}]


def test_redshift_reaches_kinesis_through_the_endpoint(ref: SynthesizedStack) -> None:
    interface = [
        e for e in ref.resources("AWS::EC2::VPCEndpoint").values() if e["Properties"]["VpcEndpointType"] == "Interface"
    ]
    assert len(interface) == 1 and ".kinesis-streams" in json.dumps(interface[0]["Properties"]["ServiceName"])
    ref.template.has_resource_properties(
        "AWS::EC2::NetworkAclEntry",
        {
            "NetworkAclId": {"Ref": Match.string_like_regexp("NetworkDbNacl")},
            "Egress": True,
            "PortRange": {"From": 443, "To": 443},
            "CidrBlock": "10.0.16.0/20",
        },
    )


def test_lake_table_projects_hive_partitions(ref: SynthesizedStack) -> None:
    lake = _logical_id(ref, "AWS::S3::Bucket", "PipelineLake")
    (table,) = ref.resources("AWS::Glue::Table").values()
    table_input = table["Properties"]["TableInput"]
    params = table_input["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.dt.format"] == "yyyy-MM-dd" and params["projection.hour.digits"] == "2"
    assert params["storage.location.template"] == {
        "Fn::Join": ["", ["s3://", {"Ref": lake}, "/events/dt=${dt}/hour=${hour}/"]]
    }
    assert [k["Name"] for k in table_input["PartitionKeys"]] == ["dt", "hour"]
    assert table_input["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    columns = [c["Name"] for c in table_input["StorageDescriptor"]["Columns"]]
    assert columns == ["arrival_time", "shard_id", "sequence_number", "partition_key", "event"]


def test_athena_results_are_encrypted_with_the_key_and_expire(ref: SynthesizedStack) -> None:
    key = _logical_id(ref, "AWS::KMS::Key", "PipelineKey")
    ref.template.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "WorkGroupConfiguration": Match.object_like(
                {
                    "EnforceWorkGroupConfiguration": True,
                    "ResultConfiguration": {
                        "EncryptionConfiguration": {
                            "EncryptionOption": "SSE_KMS",
                            "KmsKey": {"Fn::GetAtt": [key, "Arn"]},
                        },
                        "OutputLocation": Match.any_value(),
                    },
                }
            )
        },
    )
    ref.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {"Id": "ExpireQueryResults", "Prefix": "athena-results/", "ExpirationInDays": 30}
                        )
                    ]
                )
            }
        },
    )


# -- the lake-only variant ---------------------------------------------------------------------


def test_lake_only_has_no_redshift_and_no_vpc(lake_only: tuple[SynthesizedStack, StreamingPipeline]) -> None:
    stack, pipeline = lake_only
    assert pipeline.redshift is None
    assert not stack.resources("AWS::RedshiftServerless::Namespace")
    assert not stack.resources("AWS::EC2::SecurityGroup")
    stack.template.resource_count_is("AWS::Lambda::Function", 1)


def test_lake_only_provisioned_fan_out_and_batching(lake_only: tuple[SynthesizedStack, StreamingPipeline]) -> None:
    stack, _ = lake_only
    stack.template.has_resource_properties(
        "AWS::Kinesis::Stream",
        {"ShardCount": 4, "RetentionPeriodHours": 168, "StreamModeDetails": {"StreamMode": "PROVISIONED"}},
    )
    consumer = _logical_id(stack, "AWS::Kinesis::StreamConsumer")
    stack.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [consumer, "ConsumerARN"]},
            "BatchSize": 10_000,
            "MaximumBatchingWindowInSeconds": 30,
            "ParallelizationFactor": 2,
        },
    )


def test_lake_only_custom_schema_travels_in_the_environment(
    lake_only: tuple[SynthesizedStack, StreamingPipeline],
) -> None:
    stack, _ = lake_only
    stack.template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"EVENT_SCHEMA": '{"required":["id"],"type":"object"}'})}},
    )
    stack.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [Match.object_like({"Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}]})]
                )
            }
        },
    )


def test_grant_write_lets_producers_put_and_encrypt(lake_only: tuple[SynthesizedStack, StreamingPipeline]) -> None:
    stack, _ = lake_only
    (policy,) = [p for lid, p in stack.resources("AWS::IAM::Policy").items() if lid.startswith("Producer")]
    actions = json.dumps([s["Action"] for s in policy["Properties"]["PolicyDocument"]["Statement"]])
    assert "kinesis:PutRecords" in actions and "kinesis:PutRecord" in actions
    assert "kms:GenerateDataKey" in actions


def test_grant_query_reads_the_lake_prefix_and_the_table(
    lake_only: tuple[SynthesizedStack, StreamingPipeline],
) -> None:
    stack, _ = lake_only
    (policy,) = [p for lid, p in stack.resources("AWS::IAM::Policy").items() if lid.startswith("Analyst")]
    text = json.dumps(policy["Properties"]["PolicyDocument"])
    assert "athena:StartQueryExecution" in text and "glue:GetTable" in text and "glue:GetPartitions" in text
    assert "/events/*" in text and "/athena-results/*" in text
    assert "/quarantine/*" not in text


def test_no_catalog_when_turned_off(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    pipeline = StreamingPipeline(stack, "Pipeline", redshift=False, lake_catalog=False)
    assert pipeline.catalog is None
    with pytest.raises(ValueError, match="lake_catalog=False"):
        pipeline.grant_query(iam.Role(stack, "R", assumed_by=iam.AccountRootPrincipal()))


def test_lake_only_variant_is_compliant_too(lake_only: tuple[SynthesizedStack, StreamingPipeline]) -> None:
    """Without a VPC the function-outside-VPC findings are acknowledged on the function, with the reason."""
    from refarch.compliance import packs

    _, pipeline = lake_only
    errors = [
        f"{v.rule_name}: {r.construct_path}"
        for pack in packs()
        for v in pack.validate_scope(pipeline.node.scope).violations
        if v.severity == "error"
        for r in v.violating_resources
        if r.construct_path.startswith("LakeOnly/Pipeline/")
    ]
    assert errors == []
    rules = {
        rule
        for entry in pipeline.function.node.metadata
        if entry.type == "aws:cdk:acknowledged-rules"
        for rule in entry.data
    }
    assert any(rule.endswith("HIPAA.Security-LambdaInsideVPC") for rule in rules)


# -- prop checks -------------------------------------------------------------------------------


def _vpc(stack: cdk.Stack, azs: int = 3) -> ec2.IVpc:
    # The db tier opens Redshift's port: the workgroup goes there (another port is a prop error).
    return ThreeTierVpc(stack, "Net", max_azs=azs, db_port=5439, flow_logs=False, gateway_endpoints=False).vpc


BAD_PROPS: list[tuple[str, dict[str, Any], str]] = [
    ("batch_size", {"batch_size": 0}, "batch_size=0"),
    ("batch_size", {"batch_size": 10_001}, "batch_size=10001"),
    ("max_batching_window", {"max_batching_window": Duration.seconds(301)}, "max_batching_window"),
    ("stream_retention", {"stream_retention": Duration.hours(12)}, "stream_retention"),
    ("stream_retention", {"stream_retention": Duration.days(400)}, "stream_retention"),
    ("shard_count", {"shard_count": 2}, "On-demand"),
    ("shard_count", {"stream_mode": kinesis.StreamMode.PROVISIONED, "shard_count": 0}, "shard_count=0"),
    ("retry_attempts", {"retry_attempts": -1}, "retry_attempts=-1"),
    ("max_record_age", {"max_record_age": Duration.seconds(30)}, "max_record_age"),
    ("max_record_age", {"max_record_age": Duration.hours(30)}, "must not exceed stream_retention"),
    ("parallelization_factor", {"parallelization_factor": 11}, "parallelization_factor=11"),
    ("memory_size", {"memory_size": 64}, "memory_size=64"),
    ("timeout", {"timeout": Duration.minutes(16)}, "timeout"),
    ("reserved_concurrent_executions", {"reserved_concurrent_executions": 0}, "reserved_concurrent_executions=0"),
    ("lake_prefix", {"lake_prefix": "events"}, "ending in '/'"),
    ("lake_prefix", {"lake_prefix": "/events/"}, "lake_prefix='/events/'"),
    ("quarantine_prefix", {"quarantine_prefix": "events/bad/"}, "must not overlap lake_prefix"),
    ("lake_prefix", {"lake_prefix": "athena-results/raw/"}, "where Athena writes query results"),
    ("lake_expiration", {"lake_expiration": Duration.days(300)}, "after the last storage-class transition"),
    (
        "lake_expiration",
        {"archive_after": None, "lake_expiration": Duration.days(20)},
        "after the last storage-class transition (30 days)",
    ),
    ("infrequent_access_after", {"infrequent_access_after": Duration.days(10)}, "infrequent_access_after"),
    ("archive_after", {"archive_after": Duration.days(30)}, "must come after infrequent_access_after"),
    ("iterator_age_threshold", {"iterator_age_threshold": Duration.seconds(10)}, "iterator_age_threshold"),
    ("event_schema", {"event_schema": {"type": "object", "x": "y" * 4000}}, "at most 3000 bytes"),
    ("event_schema", {"event_schema": {"type": object}}, "JSON-serializable"),
    ("event_schema", {"event_schema": ["not", "a", "dict"]}, "a JSON schema as a dict"),
    ("vpc", {"redshift": True}, "Redshift Serverless runs in a VPC"),
]


@pytest.mark.parametrize(
    ("prop", "kwargs", "message"), BAD_PROPS, ids=[f"{p}-{i}" for i, (p, _, _) in enumerate(BAD_PROPS)]
)
def test_bad_props_fail_early(
    make_stack: Callable[..., cdk.Stack], prop: str, kwargs: dict[str, Any], message: str
) -> None:
    stack = make_stack()
    kwargs = {"redshift": False, **kwargs}
    with pytest.raises(PropValidationError) as caught:
        StreamingPipeline(stack, "Pipeline", **kwargs)
    assert caught.value.prop == prop
    assert message in str(caught.value)
    assert str(caught.value).startswith("StreamingPipeline: invalid ")


REDSHIFT_BAD_PROPS: list[tuple[str, dict[str, Any], str]] = [
    ("redshift_base_capacity", {"redshift_base_capacity": 12}, "steps of 8"),
    ("redshift_base_capacity", {"redshift_base_capacity": 2048}, "8 to 1024"),
    ("redshift_namespace_name", {"redshift_namespace_name": "My_Namespace"}, "lowercase letters"),
    ("redshift_workgroup_name", {"redshift_workgroup_name": "wg"}, "3 to 64"),
    ("redshift_view_name", {"redshift_view_name": "drop table x;"}, "SQL identifier"),
    ("redshift_admin_username", {"redshift_admin_username": "admin"}, "reserved"),
    ("redshift_database", {"redshift_database": "Dev-DB"}, "SQL identifier"),
]


@pytest.mark.parametrize(("prop", "kwargs", "message"), REDSHIFT_BAD_PROPS, ids=[p for p, _, _ in REDSHIFT_BAD_PROPS])
def test_bad_redshift_props_fail_early(
    make_stack: Callable[..., cdk.Stack], prop: str, kwargs: dict[str, Any], message: str
) -> None:
    stack = make_stack()
    with pytest.raises(PropValidationError) as caught:
        StreamingPipeline(stack, "Pipeline", vpc=_vpc(stack), **kwargs)
    assert caught.value.prop == prop
    assert message in str(caught.value)


def test_redshift_needs_three_subnets(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    with pytest.raises(PropValidationError, match="at least 3 subnets") as caught:
        StreamingPipeline(stack, "Pipeline", vpc=_vpc(stack, azs=2))
    assert caught.value.prop == "redshift_subnets"


def test_redshift_needs_three_distinct_azs(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack(env=cdk.Environment(account="123456789012", region="eu-west-1"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="A", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ec2.SubnetConfiguration(name="B", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
        ],
    )
    with pytest.raises(PropValidationError, match="3 distinct AZs") as caught:
        StreamingPipeline(stack, "Pipeline", vpc=vpc)
    assert caught.value.prop == "redshift_subnets"


def test_every_pipeline_function_in_the_vpc_uses_the_https_only_group(ref: SynthesizedStack) -> None:
    group = _logical_id(ref, "AWS::EC2::SecurityGroup", "PipelineFunctionSecurityGroup")
    functions = [f for lid, f in ref.resources("AWS::Lambda::Function").items() if lid.startswith("Pipeline")]
    assert len(functions) == 3  # consumer, SQL applier, custom resource provider
    for function in functions:
        assert function["Properties"]["VpcConfig"]["SecurityGroupIds"] == [{"Fn::GetAtt": [group, "GroupId"]}]
    egress = ref.json["Resources"][group]["Properties"]["SecurityGroupEgress"]
    assert [(e["IpProtocol"], e["FromPort"], e["ToPort"]) for e in egress] == [("tcp", 443, 443)]


def test_reference_lake_expires_after_every_transition(ref: SynthesizedStack) -> None:
    """Storage limitation: the reference lake deletes events after three years, Glacier IR after one."""
    ref.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with([Match.object_like({"Id": "TierLakeObjects", "ExpirationInDays": 1095})])
            }
        },
    )
