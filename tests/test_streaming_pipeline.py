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
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match

from refarch.constructs import StreamingPipeline, ThreeTierVpc
from refarch.constructs.streaming_pipeline.redshift import CREATE_SQL_FILES, SQL_DIR
from tests.harness import (
    BadProp,
    ReferenceStacks,
    SynthesizedStack,
    assert_fails_early,
    bad_prop_params,
    new_app,
    synth,
)

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


# -- the reference stack -----------------------------------------------------------------------


def test_stream_is_on_demand_and_encrypted_with_the_customer_key(ref: SynthesizedStack) -> None:
    key_id, key = ref.one("AWS::KMS::Key", "PipelineKey")
    _, stream = ref.one("AWS::Kinesis::Stream")
    props = stream["Properties"]
    assert props["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert props["RetentionPeriodHours"] == 24
    # The stream's own key, not any key of the stack: that very key rotates.
    assert props["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    assert key["Properties"]["EnableKeyRotation"] is True


def test_event_source_mapping_settings(ref: SynthesizedStack) -> None:
    queue = ref.logical_id("AWS::SQS::Queue")
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
    key = ref.logical_id("AWS::KMS::Key", "PipelineKey")
    queue = ref.logical_id("AWS::SQS::Queue")
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
            "AlarmActions": [{"Ref": ref.logical_id("AWS::SNS::Topic")}],
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
    key = ref.logical_id("AWS::KMS::Key", "PipelineKey")
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


#: The pipeline's stateful resources: every one is kept when removed from the stack.
STATEFUL = {
    "AWS::Kinesis::Stream": 1,
    "AWS::SQS::Queue": 1,
    "AWS::RedshiftServerless::Namespace": 1,
    "AWS::KMS::Key": 1,
    "AWS::S3::Bucket": 2,
}


def test_stateful_resources_are_retained(ref: SynthesizedStack) -> None:
    found = {
        type_: {lid: r for lid, r in ref.resources(type_).items() if lid.startswith("Pipeline")} for type_ in STATEFUL
    }
    assert {type_: len(resources) for type_, resources in found.items()} == STATEFUL
    not_retained = [
        lid for resources in found.values() for lid, r in resources.items() if r.get("DeletionPolicy") != "Retain"
    ]
    assert not_retained == []


def test_redshift_serverless_in_isolated_subnets_with_customer_key(ref: SynthesizedStack) -> None:
    key = ref.logical_id("AWS::KMS::Key", "PipelineKey")
    role = ref.logical_id("AWS::IAM::Role", "PipelineRedshiftStreamingRole")
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
    stream = ref.logical_id("AWS::Kinesis::Stream")
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
    assert ref.logical_id("AWS::Kinesis::Stream") in rendered  # the stream's own name
    assert props["ReplaceSqls"] == ["DROP MATERIALIZED VIEW IF EXISTS stream_events;"]
    assert props["WorkgroupName"] == {"Ref": ref.logical_id("AWS::RedshiftServerless::Workgroup")}
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
    workgroup = ref.logical_id("AWS::RedshiftServerless::Workgroup")
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
    lake = ref.logical_id("AWS::S3::Bucket", "PipelineLake")
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
    key = ref.logical_id("AWS::KMS::Key", "PipelineKey")
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
    consumer = stack.logical_id("AWS::Kinesis::StreamConsumer")
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


def test_grants_acknowledge_their_own_wildcard_findings(make_stack: Callable[..., cdk.Stack]) -> None:
    """Each grant's AwsSolutions-IAM5 findings (prefix-scoped object ARNs, CDK's action groups) are
    acknowledged on the grantee by the grant itself: the user writes no acknowledgment."""
    from cdk_nag import AwsSolutionsChecks

    stack = make_stack()
    pipeline = StreamingPipeline(stack, "Pipeline", redshift=False)
    grants = {"Producer": pipeline.grant_write, "Analyst": pipeline.grant_query, "Reader": pipeline.grant_read_lake}
    for name, grant in grants.items():
        grant(iam.Role(stack, name, assumed_by=iam.AccountRootPrincipal()))
    findings = [
        f"{v.rule_name}: {r.construct_path}"
        for v in AwsSolutionsChecks().validate_scope(stack).violations
        for r in v.violating_resources
        if r.construct_path.split("/")[1] in grants
    ]
    assert findings == []
    # Without the acknowledgment the same grant has findings: the check above can fail.
    bare = make_stack("Bare")
    bucket_reader = iam.Role(bare, "Reader", assumed_by=iam.AccountRootPrincipal())
    StreamingPipeline(bare, "Pipeline", redshift=False).bucket.grant_read(bucket_reader)
    assert any(
        v.rule_name.startswith("AwsSolutions-IAM5")
        for v in AwsSolutionsChecks().validate_scope(bare).violations
        if any(r.construct_path.startswith("Bare/Reader") for r in v.violating_resources)
    )


def test_connections_cover_what_the_pipeline_puts_in_the_vpc(ref: SynthesizedStack) -> None:
    pipeline = ref.stack.pipeline  # type: ignore[attr-defined]
    network = ref.stack.network  # type: ignore[attr-defined]
    groups = pipeline.connections.security_groups
    assert groups == [pipeline.function_security_group, network.db.security_group]
    assert ref.stack.resolve(pipeline.connections.default_port.to_string()) == "5439"


def test_connections_are_empty_without_a_vpc(lake_only: tuple[SynthesizedStack, StreamingPipeline]) -> None:
    _, pipeline = lake_only
    assert pipeline.connections.security_groups == []
    assert pipeline.connections.default_port is None


def test_metric_iterator_age_takes_metric_options(lake_only: tuple[SynthesizedStack, StreamingPipeline]) -> None:
    _, pipeline = lake_only
    default = pipeline.metric_iterator_age()
    assert (default.metric_name, default.statistic, default.period.to_minutes()) == ("IteratorAge", "Maximum", 5)
    mine = pipeline.metric_iterator_age(statistic="p99", period=Duration.minutes(1), label="lag")
    assert (mine.statistic, mine.period.to_minutes(), mine.label) == ("p99", 1, "lag")


def test_log_retention_reaches_every_function_log_group(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    StreamingPipeline(stack, "Pipeline", vpc=_network(stack), log_retention=logs.RetentionDays.ONE_MONTH)
    groups = [g for lid, g in synth(stack).resources("AWS::Logs::LogGroup").items() if lid.startswith("Pipeline")]
    assert len(groups) == 3  # consumer, SQL function, custom-resource provider
    assert {g["Properties"]["RetentionInDays"] for g in groups} == {30}


def test_a_plain_ivpc_gets_lambda_and_redshift_defaults(make_stack: Callable[..., cdk.Stack]) -> None:
    """With a plain IVpc, Redshift goes in its isolated subnets and gets a group of its own."""
    stack = make_stack(env=cdk.Environment(account="123456789012", region="eu-west-1"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
            ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=24),
            ec2.SubnetConfiguration(name="Data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
        ],
    )
    StreamingPipeline(stack, "Pipeline", vpc=vpc)
    _, workgroup = synth(stack).one("AWS::RedshiftServerless::Workgroup")
    subnets = [s["Ref"] for s in workgroup["Properties"]["SubnetIds"]]
    assert len(subnets) == 3 and all(s.startswith("VpcDataSubnet") for s in subnets)
    (group,) = workgroup["Properties"]["SecurityGroupIds"]
    assert group["Fn::GetAtt"][0].startswith("PipelineRedshiftSecurityGroup")


# -- prop checks -------------------------------------------------------------------------------


def _network(stack: cdk.Stack, *, azs: int = 3, db_port: int = 5439) -> ThreeTierVpc:
    """The stack's network of ``azs`` AZs whose db tier opens ``db_port`` (Redshift's by default: the
    workgroup goes there; another port is a prop error), built on first use: the bad-prop cases share
    one stack, and a case that fails adds nothing to it."""
    existing = stack.node.try_find_child(f"Net{azs}x{db_port}")
    if isinstance(existing, ThreeTierVpc):
        return existing
    return ThreeTierVpc(
        stack, f"Net{azs}x{db_port}", max_azs=azs, db_port=db_port, flow_logs=False, gateway_endpoints=False
    )


def lake_only_props(**props: Any) -> dict[str, Any]:
    """A pipeline without Redshift (no VPC needed), with ``props``."""
    return {"redshift": False, **props}


def with_network(**props: Any) -> Callable[[cdk.Stack], dict[str, Any]]:
    """``props`` on a pipeline with Redshift in a three-AZ ThreeTierVpc whose db tier opens 5439."""
    return lambda stack: {"vpc": _network(stack), **props}


def _network_and_one_group(stack: cdk.Stack) -> dict[str, Any]:
    network = _network(stack)
    return {"vpc": network, "redshift_security_groups": network.db.security_group}


_TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:ops"

BAD_PROPS: list[BadProp] = [
    # -- wrong types, and the names the props had before
    BadProp("batch_size", lake_only_props(batch_size="500"), "a whole number (int)"),
    BadProp("batch_size", lake_only_props(batch_size=500.0), "a whole number (int)"),
    BadProp("batch_size", lake_only_props(batch_size=True), "a whole number (int)"),
    BadProp("memory_size", lake_only_props(memory_size=1024.5), "a whole number (int)"),
    BadProp("stream_retention", lake_only_props(stream_retention=24), "a Duration"),
    BadProp("stream_mode", lake_only_props(stream_mode="ON_DEMAND"), "StreamMode"),
    BadProp("enhanced_fan_out", lake_only_props(enhanced_fan_out="yes"), "a bool"),
    BadProp("log_retention", lake_only_props(log_retention=365), "RetentionDays"),
    BadProp("vpc", {"vpc": "vpc-0123456789abcdef0"}, "IVpc or a ThreeTierVpc"),
    BadProp("encryption_key", lake_only_props(encryption_key="arn:aws:kms:eu-west-1:123456789012:key/x"), "IKey"),
    BadProp("redshift_security_groups", _network_and_one_group, "a list of ISecurityGroup"),
    BadProp("function_subnets", lake_only_props(function_subnets=ec2.SubnetSelection()), "Did you mean 'vpc_subnets'?"),
    BadProp("redshift_subnets", {"redshift_subnets": ec2.SubnetSelection()}, "has no such prop"),
    # -- out of range, wrong units
    BadProp("batch_size", lake_only_props(batch_size=0), "from 1 to 10000"),
    BadProp("batch_size", lake_only_props(batch_size=10_001), "from 1 to 10000"),
    BadProp(
        "max_batching_window", lake_only_props(max_batching_window=Duration.seconds(301)), "0 seconds to 5 minutes"
    ),
    BadProp(
        "max_batching_window", lake_only_props(max_batching_window=Duration.millis(1500)), "whole number of seconds"
    ),
    BadProp("stream_retention", lake_only_props(stream_retention=Duration.hours(12)), "from 1 day to 365 days"),
    BadProp("stream_retention", lake_only_props(stream_retention=Duration.days(400)), "from 1 day to 365 days"),
    BadProp("stream_retention", lake_only_props(stream_retention=Duration.minutes(1530)), "whole number of hours"),
    BadProp("shard_count", lake_only_props(shard_count=2), "On-demand"),
    BadProp("shard_count", lake_only_props(stream_mode=kinesis.StreamMode.PROVISIONED, shard_count=0), "1 to 500"),
    BadProp("shard_count", lake_only_props(stream_mode=kinesis.StreamMode.PROVISIONED, shard_count=501), "1 to 500"),
    BadProp("stream_name", lake_only_props(stream_name="my stream!"), "1 to 128 letters"),
    BadProp("stream_name", lake_only_props(stream_name=""), "must not be empty"),
    BadProp("retry_attempts", lake_only_props(retry_attempts=-1), "from 0 to 10000"),
    BadProp("max_record_age", lake_only_props(max_record_age=Duration.seconds(30)), "1 minute to 7 days"),
    BadProp("max_record_age", lake_only_props(max_record_age=Duration.hours(30)), "must not exceed stream_retention"),
    BadProp("parallelization_factor", lake_only_props(parallelization_factor=11), "from 1 to 10"),
    BadProp("parallelization_factor", lake_only_props(parallelization_factor=0), "from 1 to 10"),
    BadProp("memory_size", lake_only_props(memory_size=64), "from 128 to 10240"),
    BadProp("memory_size", lake_only_props(memory_size=20_000), "from 128 to 10240"),
    BadProp("timeout", lake_only_props(timeout=Duration.minutes(16)), "1 second to 15 minutes"),
    BadProp("timeout", lake_only_props(timeout=Duration.millis(1500)), "whole number of seconds"),
    BadProp("reserved_concurrent_executions", lake_only_props(reserved_concurrent_executions=0), "from 1 to 10000"),
    BadProp("log_retention", lake_only_props(log_retention=logs.RetentionDays.INFINITE), "finite retention"),
    BadProp("iterator_age_threshold", lake_only_props(iterator_age_threshold=Duration.seconds(10)), "1 minute"),
    # -- the lake
    BadProp("lake_prefix", lake_only_props(lake_prefix="events"), "ending in '/'"),
    BadProp("lake_prefix", lake_only_props(lake_prefix="/events/"), "ending in '/'"),
    BadProp("lake_prefix", lake_only_props(lake_prefix=""), "must not be empty"),
    BadProp("quarantine_prefix", lake_only_props(quarantine_prefix="events/bad/"), "must not overlap lake_prefix"),
    BadProp("lake_prefix", lake_only_props(lake_prefix="athena-results/raw/"), "where Athena writes query results"),
    BadProp("infrequent_access_after", lake_only_props(infrequent_access_after=Duration.days(10)), "30 days"),
    BadProp("infrequent_access_after", lake_only_props(infrequent_access_after=Duration.hours(900)), "whole number"),
    BadProp("archive_after", lake_only_props(archive_after=Duration.days(30)), "after infrequent_access_after"),
    BadProp("lake_expiration", lake_only_props(lake_expiration=Duration.days(300)), "after the last storage-class"),
    BadProp(
        "lake_expiration",
        lake_only_props(archive_after=None, lake_expiration=Duration.days(20)),
        "after the last storage-class transition (30 days)",
    ),
    BadProp("lake_expiration", lake_only_props(lake_expiration=Duration.hours(8770)), "whole number of days"),
    # -- the event schema: it must travel in the environment and compile as the consumer compiles it
    BadProp("event_schema", lake_only_props(event_schema={"type": "object", "x": "y" * 4000}), "at most 3000 bytes"),
    BadProp("event_schema", lake_only_props(event_schema={"type": object}), "JSON-serializable"),
    BadProp("event_schema", lake_only_props(event_schema=["not", "a", "dict"]), "a dict of str"),
    BadProp("event_schema", lake_only_props(event_schema={}), "must not be empty"),
    BadProp("event_schema", lake_only_props(event_schema={"type": "objekt"}), "fastjsonschema: Unknown type"),
    BadProp("event_schema", lake_only_props(event_schema={"required": "id"}), "required must be an array"),
    BadProp(
        "event_schema", lake_only_props(event_schema={"type": "string", "pattern": "("}), "unterminated subpattern"
    ),
    BadProp("event_schema", lake_only_props(event_schema={"$ref": "#/definitions/event"}), "Unresolvable ref"),
    # -- operations
    BadProp("dashboard", lake_only_props(dashboard="ops dashboard!"), "each a letter, a digit, '-' or '_'"),
    BadProp("alarm_topic", lake_only_props(alarm_topic=_TOPIC_ARN), "ITopic"),
    # -- options that would be ignored, and Redshift without its VPC
    BadProp("vpc", {}, "Redshift Serverless runs in a VPC"),
    BadProp("vpc_subnets", lake_only_props(vpc_subnets=ec2.SubnetSelection()), "only takes effect with vpc"),
    BadProp("database_subnets", lake_only_props(database_subnets=ec2.SubnetSelection()), "effect with redshift"),
    BadProp("redshift_base_capacity", lake_only_props(redshift_base_capacity=16), "only takes effect with redshift"),
    BadProp("enhanced_vpc_routing", lake_only_props(enhanced_vpc_routing=False), "only takes effect with redshift"),
    BadProp("redshift_view_name", lake_only_props(redshift_view_name="clicks"), "only takes effect with redshift"),
    # -- Redshift's own props
    BadProp("redshift_base_capacity", with_network(redshift_base_capacity=12), "steps of 8"),
    BadProp("redshift_base_capacity", with_network(redshift_base_capacity=2048), "from 8 to 1024"),
    BadProp("redshift_namespace_name", with_network(redshift_namespace_name="My_Namespace"), "lowercase letters"),
    BadProp("redshift_workgroup_name", with_network(redshift_workgroup_name="wg"), "3 to 64"),
    BadProp("redshift_view_name", with_network(redshift_view_name="drop table x;"), "SQL identifier"),
    BadProp("redshift_admin_username", with_network(redshift_admin_username="admin"), "reserved"),
    BadProp("redshift_admin_username", with_network(redshift_admin_username=""), "must not be empty"),
    BadProp("redshift_database", with_network(redshift_database="Dev-DB"), "SQL identifier"),
    BadProp("redshift_security_groups", with_network(redshift_security_groups=[]), "must not be empty"),
    # -- clashes with the network
    BadProp("database_subnets", lambda stack: {"vpc": _network(stack, azs=2)}, "at least 3 subnets in 3 distinct AZs"),
    BadProp("vpc", lambda stack: {"vpc": _network(stack, db_port=3306)}, "listens on 5439"),
    BadProp("vpc", lambda stack: {"vpc": _network(stack, db_port=3306).vpc}, "db_port=5439"),
]


@pytest.fixture(scope="module")
def bad_prop_stack() -> cdk.Stack:
    """One stack for every case: the networks the cases ask for are built once (each case fails, adding nothing)."""
    return cdk.Stack(new_app(), "BadProps")


@pytest.mark.parametrize("case", bad_prop_params(BAD_PROPS))
def test_bad_props_fail_early(case: BadProp, bad_prop_stack: cdk.Stack) -> None:
    assert_fails_early(StreamingPipeline, case, bad_prop_stack)


def test_bad_prop_table_covers_every_kind_of_mistake() -> None:
    assert len(BAD_PROPS) >= 40
    props = {case.prop for case in BAD_PROPS}
    assert {"vpc", "database_subnets", "vpc_subnets", "event_schema"} <= props


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
    assert_fails_early(StreamingPipeline, BadProp("database_subnets", {"vpc": vpc}, "3 distinct AZs"), stack)


def test_every_pipeline_function_in_the_vpc_uses_the_https_only_group(ref: SynthesizedStack) -> None:
    group = ref.logical_id("AWS::EC2::SecurityGroup", "PipelineFunctionSecurityGroup")
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
