"""EncryptedDataStore: keys, bucket, table, grants, trail, alarms, residency and bad props."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match

from refarch.compliance.residency import EU_REGIONS
from refarch.constructs import EncryptedDataStore, PropValidationError
from refarch.constructs.encrypted_data_store import KEY_ADMIN_ACTIONS, KEY_USE_ACTIONS
from refarch.constructs.encrypted_data_store_audit import AUDIT_ALARMS
from refarch.testing import Outcome, PermissionChecker
from tests.harness import ReferenceStacks, SynthesizedStack, new_app, synth
from tests.names import PLACEHOLDER, render

STACK = "EncryptedDataStoreStack"


@pytest.fixture(scope="module")
def ref(reference_stacks: ReferenceStacks) -> SynthesizedStack:
    return reference_stacks[STACK]


def _one(synthesized: SynthesizedStack, type_: str, logical_prefix: str) -> dict[str, Any]:
    matches = [v for k, v in synthesized.resources(type_).items() if k.startswith(logical_prefix)]
    assert len(matches) == 1, (type_, logical_prefix, len(matches))
    return dict(matches[0])


def _statements(policy_resource: dict[str, Any], key: str = "PolicyDocument") -> dict[str, dict[str, Any]]:
    return {s.get("Sid", json.dumps(s["Action"])): s for s in policy_resource["Properties"][key]["Statement"]}


# -- keys ---------------------------------------------------------------------------------------


def test_data_key_separates_administrators_from_users(ref: SynthesizedStack) -> None:
    key = _one(ref, "AWS::KMS::Key", "StoreDataKey")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["RotationPeriodInDays"] == 365
    statements = _statements(key, "KeyPolicy")
    assert set(statements) == {"KeyAdministration", "KeyUseThroughDataServicesOnly"}
    admin = statements["KeyAdministration"]
    assert sorted(admin["Action"]) == sorted(KEY_ADMIN_ACTIONS)
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:*"} & set(admin["Action"])
    use = statements["KeyUseThroughDataServicesOnly"]
    assert sorted(use["Action"]) == sorted(KEY_USE_ACTIONS)
    services = json.dumps(use["Condition"]["StringEquals"]["kms:ViaService"])
    for service in ("s3.", "dynamodb.", "rds.", "secretsmanager."):
        assert service in services
    assert "kms:CallerAccount" in use["Condition"]["StringEquals"]
    for statement in statements.values():
        assert statement["Principal"] != "*" and statement["Principal"].get("AWS") != "*"


def test_audit_key_admits_logs_cloudtrail_and_alarms_of_this_account(ref: SynthesizedStack) -> None:
    key = _one(ref, "AWS::KMS::Key", "StoreAuditKey")
    statements = _statements(key, "KeyPolicy")
    trail = statements["AllowCloudTrailToEncryptLogFiles"]
    assert trail["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trail["Action"] == "kms:GenerateDataKey*"
    assert "kms:EncryptionContext:aws:cloudtrail:arn" in trail["Condition"]["StringLike"]
    assert "aws:SourceAccount" in trail["Condition"]["StringEquals"]
    assert statements["AllowCloudWatchAlarmsToPublishEncrypted"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert "AllowCloudWatchLogsOfThisAccount" in statements
    assert sorted(statements["KeyAdministration"]["Action"]) == sorted(KEY_ADMIN_ACTIONS)
    assert statements["KeyUseThroughIamPolicies"]["Action"] == ["kms:Decrypt", "kms:DescribeKey"]


def test_no_key_grants_everything(ref: SynthesizedStack) -> None:
    """Separation of duties: no statement of any key policy allows kms:* (the CDK default)."""
    for logical_id, key in ref.resources("AWS::KMS::Key").items():
        if not logical_id.startswith("Store"):
            continue
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            assert "kms:*" not in (
                statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            )


def test_keys_have_aliases(ref: SynthesizedStack) -> None:
    names = [a["Properties"]["AliasName"] for a in ref.resources("AWS::KMS::Alias").values()]
    assert sorted(n.rsplit("/", 1)[1] for n in names) == ["audit", "data"]
    assert all(n.startswith("alias/") for n in names)


# -- bucket -------------------------------------------------------------------------------------


def test_personal_data_bucket(ref: SynthesizedStack) -> None:
    ref.template.has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": Match.object_like(
                {
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {
                                "BucketKeyEnabled": True,
                                "ServerSideEncryptionByDefault": {
                                    "SSEAlgorithm": "aws:kms",
                                    "KMSMasterKeyID": {
                                        "Fn::GetAtt": [Match.string_like_regexp("^StoreDataKey"), "Arn"]
                                    },
                                },
                            }
                        ]
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "LoggingConfiguration": {
                        "DestinationBucketName": {"Ref": Match.string_like_regexp("^StoreAccessLogs")},
                        "LogFilePrefix": "personal-data/",
                    },
                    "LifecycleConfiguration": {
                        "Rules": [
                            {
                                "Id": "ExpirePersonalData",
                                "Status": "Enabled",
                                "ExpirationInDays": 731,
                                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                            },
                            {
                                "Id": "RemoveExpiredDeleteMarkers",
                                "Status": "Enabled",
                                "ExpiredObjectDeleteMarker": True,
                            },
                        ]
                    },
                }
            ),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_bucket_policy_denies_plain_http_and_other_encryption(ref: SynthesizedStack) -> None:
    policy = _one(ref, "AWS::S3::BucketPolicy", "StoreBucketPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    tls = [s for s in statements if s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"]
    assert len(tls) == 1 and tls[0]["Effect"] == "Deny" and tls[0]["Action"] == "s3:*"
    by_sid = {s.get("Sid"): s for s in statements}
    other_type = by_sid["DenyOtherEncryptionTypes"]
    assert other_type["Effect"] == "Deny" and other_type["Action"] == "s3:PutObject"
    assert other_type["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption": "false"},
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
    }
    other_key = by_sid["DenyOtherKmsKeys"]["Condition"]["StringNotEquals"]
    assert other_key["s3:x-amz-server-side-encryption-aws-kms-key-id"]["Fn::GetAtt"][0].startswith("StoreDataKey")


def test_uploads_without_encryption_headers_pass_and_other_encryption_is_denied(ref: SynthesizedStack) -> None:
    """The bucket default (the data key) applies to a plain PUT; only an explicit other choice is denied."""
    checker = PermissionChecker(ref.json)
    writer = next(k for k in ref.resources("AWS::IAM::Role") if k.startswith("Writer"))
    bucket = next(k for k in ref.resources("AWS::S3::Bucket") if k.startswith("StoreBucket"))
    obj = f"{checker.resolver.arn(bucket)}/incoming/2026/file.csv"
    header = "s3:x-amz-server-side-encryption"
    assert checker.can(writer, "s3:PutObject", obj).allowed
    assert checker.can(writer, "s3:PutObject", obj, {header: "aws:kms"}).allowed
    assert checker.can(writer, "s3:PutObject", obj, {header: "AES256"}).outcome is Outcome.DENIED
    other_key = {header: "aws:kms", f"{header}-aws-kms-key-id": "arn:aws:kms:eu-west-1:111122223333:key/other"}
    assert checker.can(writer, "s3:PutObject", obj, other_key).outcome is Outcome.DENIED


def test_access_log_bucket_is_separate_and_expires(ref: SynthesizedStack) -> None:
    logs_bucket = _one(ref, "AWS::S3::Bucket", "StoreAccessLogs")
    assert logs_bucket["Properties"]["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 365


# -- table --------------------------------------------------------------------------------------


def test_table_uses_customer_key_pitr_and_deletion_protection(ref: SynthesizedStack) -> None:
    ref.template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": Match.object_like(
                {
                    "BillingMode": "PAY_PER_REQUEST",
                    "SSESpecification": {
                        "SSEEnabled": True,
                        "SSEType": "KMS",
                        "KMSMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^StoreDataKey"), "Arn"]},
                    },
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "DeletionProtectionEnabled": True,
                    "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
                    "KeySchema": [
                        {"AttributeName": "subjectId", "KeyType": "HASH"},
                        {"AttributeName": "recordId", "KeyType": "RANGE"},
                    ],
                }
            ),
            "DeletionPolicy": "Retain",
        },
    )


# -- database -----------------------------------------------------------------------------------


def test_database_cluster(ref: SynthesizedStack) -> None:
    ref.template.has_resource(
        "AWS::RDS::DBCluster",
        {
            "Properties": Match.object_like(
                {
                    "Engine": "aurora-postgresql",
                    "EngineVersion": "17.7",
                    "StorageEncrypted": True,
                    "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^StoreDataKey"), "Arn"]},
                    "EnableIAMDatabaseAuthentication": True,
                    "DeletionProtection": True,
                    "ManageMasterUserPassword": True,
                    "MasterUserSecret": {
                        "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^StoreDataKey"), "Arn"]}
                    },
                    "BackupRetentionPeriod": 14,
                    "EnableCloudwatchLogsExports": ["postgresql"],
                    "VpcSecurityGroupIds": [
                        {"Fn::GetAtt": [Match.string_like_regexp("^NetworkDbSecurityGroup"), "GroupId"]}
                    ],
                    "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 4},
                }
            ),
            "DeletionPolicy": "Retain",
            "DependsOn": Match.array_with([Match.string_like_regexp("^StoreDatabaseLogGroup")]),
        },
    )
    subnets = _one(ref, "AWS::RDS::DBSubnetGroup", "StoreDatabaseSubnets")
    assert all(s["Ref"].startswith("NetworkVpcDbSubnet") for s in subnets["Properties"]["SubnetIds"])


def test_database_requires_tls_through_its_parameter_group(ref: SynthesizedStack) -> None:
    ref.template.has_resource_properties(
        "AWS::RDS::DBClusterParameterGroup",
        {
            "Family": "aurora-postgresql17",
            "Parameters": {"rds.force_ssl": "1", "log_connections": "1", "log_disconnections": "1"},
        },
    )
    cluster = _one(ref, "AWS::RDS::DBCluster", "StoreDatabase")
    assert cluster["Properties"]["DBClusterParameterGroupName"]["Ref"].startswith("StoreDatabaseParameters")


def test_database_instances_are_private_and_monitored(ref: SynthesizedStack) -> None:
    instances = ref.resources("AWS::RDS::DBInstance")
    assert len(instances) == 2
    for instance in instances.values():
        props = instance["Properties"]
        assert props["PubliclyAccessible"] is False
        assert props["DBInstanceClass"] == "db.serverless"
        assert props["PerformanceInsightsKMSKeyId"]["Fn::GetAtt"][0].startswith("StoreDataKey")
        assert props["MonitoringInterval"] == 60


def test_database_log_group_is_ours_encrypted_and_expiring(ref: SynthesizedStack) -> None:
    cluster = _one(ref, "AWS::RDS::DBCluster", "StoreDatabase")
    group = _one(ref, "AWS::Logs::LogGroup", "StoreDatabaseLogGroup")
    identifier = render(cluster["Properties"]["DBClusterIdentifier"])
    assert identifier.endswith(f"-{PLACEHOLDER}-db")  # unique to the stack's creation: it is retained
    assert render(group["Properties"]["LogGroupName"]) == f"/aws/rds/cluster/{identifier}/postgresql"
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0].startswith("StoreAuditKey")
    identifier = identifier.replace(PLACEHOLDER, "deadbeef")  # 8 lowercase hex digits
    assert len(identifier) <= 63 and identifier == identifier.lower()


def test_only_the_app_tier_reaches_the_database(ref: SynthesizedStack) -> None:
    ingress = [
        r["Properties"]
        for r in ref.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"]["Fn::GetAtt"][0].startswith("NetworkDbSecurityGroup")
    ]
    assert ingress and all(i["FromPort"] == 5432 and i["ToPort"] == 5432 for i in ingress)
    assert all(i["SourceSecurityGroupId"]["Fn::GetAtt"][0].startswith("NetworkAppSecurityGroup") for i in ingress)


# -- grants -------------------------------------------------------------------------------------


def _policy_of(ref: SynthesizedStack, role_prefix: str) -> list[dict[str, Any]]:
    policy = _one(ref, "AWS::IAM::ManagedPolicy", f"{role_prefix}Policy")
    return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for s in statements:
        found.update([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    return found


def test_grant_read_is_read_only_on_bucket_table_and_key(ref: SynthesizedStack) -> None:
    statements = _policy_of(ref, "Reader")
    assert _actions(statements) == {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListBucket",
        "kms:Decrypt",
        "kms:DescribeKey",
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DescribeTable",
        "rds-db:connect",
    }
    assert not any("*" in a for a in _actions(statements))
    connect = next(s for s in statements if s["Action"] == "rds-db:connect")
    assert connect["Resource"]["Fn::Join"][1][-1] == "/reporting"
    objects = next(s for s in statements if "s3:GetObject" in s["Action"])
    assert objects["Resource"]["Fn::Join"][1][1] == "/reports/*"
    key = next(s for s in statements if "kms:Decrypt" in s["Action"])
    assert key["Resource"]["Fn::GetAtt"][0].startswith("StoreDataKey")


def test_grant_write_can_write_and_encrypt_but_not_read(ref: SynthesizedStack) -> None:
    actions = _actions(_policy_of(ref, "Writer"))
    assert {"s3:PutObject", "kms:GenerateDataKey", "kms:Encrypt", "dynamodb:PutItem"} <= actions
    assert not {"s3:GetObject", "dynamodb:GetItem", "dynamodb:Query"} & actions


# -- audit --------------------------------------------------------------------------------------


def test_trail_settings(ref: SynthesizedStack) -> None:
    ref.template.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {
            "IsMultiRegionTrail": True,
            "EnableLogFileValidation": True,
            "IncludeGlobalServiceEvents": True,
            "KMSKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^StoreAuditKey"), "Arn"]},
            "S3BucketName": {"Ref": Match.string_like_regexp("^StoreTrailBucket")},
            "CloudWatchLogsLogGroupArn": {"Fn::GetAtt": [Match.string_like_regexp("^StoreTrailLogGroup"), "Arn"]},
            "CloudWatchLogsRoleArn": {"Fn::GetAtt": [Match.string_like_regexp("^StoreTrailLogsRole"), "Arn"]},
            "EventSelectors": Match.array_with(
                [
                    {
                        "DataResources": [
                            {
                                "Type": "AWS::S3::Object",
                                "Values": [
                                    {
                                        "Fn::Join": [
                                            "",
                                            [{"Fn::GetAtt": [Match.string_like_regexp("^StoreBucket"), "Arn"]}, "/"],
                                        ]
                                    }
                                ],
                            }
                        ],
                        "ReadWriteType": "All",
                    }
                ]
            ),
        },
    )


def test_trail_delivery_role_is_managed_and_narrow(ref: SynthesizedStack) -> None:
    trail = _one(ref, "AWS::CloudTrail::Trail", "StoreTrail")
    assert any(d.startswith("StoreTrailLogsRolePolicy") for d in trail["DependsOn"])
    statements = _policy_of(ref, "StoreTrailLogsRole")
    assert len(statements) == 1
    assert statements[0]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statements[0]["Resource"]["Fn::GetAtt"][0].startswith("StoreTrailLogGroup")
    role = _one(ref, "AWS::IAM::Role", "StoreTrailLogsRole")
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "cloudtrail.amazonaws.com"
    }
    assert not ref.resources("AWS::IAM::Policy"), "no inline policies"


def test_trail_storage_has_retention_and_encryption(ref: SynthesizedStack) -> None:
    group = _one(ref, "AWS::Logs::LogGroup", "StoreTrailLogGroup")
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0].startswith("StoreAuditKey")
    bucket = _one(ref, "AWS::S3::Bucket", "StoreTrailBucket")
    assert bucket["Properties"]["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 365
    sse = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ]
    assert sse["KMSMasterKeyID"]["Fn::GetAtt"][0].startswith("StoreAuditKey")


@pytest.mark.parametrize("check", AUDIT_ALARMS, ids=lambda c: c.name)
def test_each_cis_metric_filter_and_alarm(check: Any, ref: SynthesizedStack) -> None:
    ref.template.has_resource_properties(
        "AWS::Logs::MetricFilter",
        {
            "FilterPattern": check.pattern,
            "LogGroupName": {"Ref": Match.string_like_regexp("^StoreTrailLogGroup")},
            "MetricTransformations": [
                {"MetricName": check.name, "MetricNamespace": "CISBenchmark", "MetricValue": "1"}
            ],
        },
    )
    ref.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": check.name,
            "Namespace": "CISBenchmark",
            "Statistic": "Sum",
            "Period": 300,
            "Threshold": 1,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": Match.string_like_regexp("^StoreAlarmTopic")}],
            "AlarmDescription": Match.string_like_regexp(check.cis_control.split(" ")[0]),
        },
    )


def test_cis_patterns_cover_the_issue() -> None:
    patterns = " ".join(c.pattern for c in AUDIT_ALARMS)
    for needle in (
        "UnauthorizedOperation",
        "MFAUsed",
        '"Root"',
        "ScheduleKeyDeletion",
        "DisableKey",
        "PutBucketPolicy",
        "StopLogging",
        "DeleteTrail",
    ):
        assert needle in patterns


def test_alarm_topic_is_encrypted_and_tls_only(ref: SynthesizedStack) -> None:
    topic = _one(ref, "AWS::SNS::Topic", "StoreAlarmTopic")
    assert topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("StoreAuditKey")
    policy = _one(ref, "AWS::SNS::TopicPolicy", "StoreAlarmTopicPolicy")
    statement = policy["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_residency_warning_on_environment_agnostic_stack() -> None:
    stack = cdk.Stack(new_app(), "Agnostic")
    EncryptedDataStore(stack, "Store", data_retention=Duration.days(30), allowed_regions=EU_REGIONS)
    cdk.assertions.Annotations.from_stack(stack).has_warning(
        "/Agnostic/Store", Match.string_like_regexp("environment-agnostic")
    )


def test_reference_stack_acknowledges_its_unresolved_region(ref: SynthesizedStack) -> None:
    """The reference app is environment-agnostic by default; the acknowledgment says why."""
    cdk.assertions.Annotations.from_stack(ref.stack).has_no_warning(
        "*", Match.string_like_regexp("environment-agnostic")
    )


# -- variants -----------------------------------------------------------------------------------


def _stack(region: str | None = "eu-west-1") -> cdk.Stack:
    env = cdk.Environment(account="111111111111", region=region) if region else None
    return cdk.Stack(new_app(), "Variant", env=env)


@pytest.fixture(scope="module")
def locked() -> SynthesizedStack:
    stack = _stack()
    EncryptedDataStore(
        stack,
        "Records",
        data_retention=Duration.days(3650),
        object_lock_retention=Duration.days(2555),
        object_lock_mode=s3.ObjectLockMode.COMPLIANCE,
        key_rotation_period=Duration.days(90),
        key_alias_prefix="alias/records",
        allowed_regions=EU_REGIONS,
        alarm_emails=["dpo@example.com"],
        trail_retention=Duration.days(2557),
    )
    return synth(stack)


def test_object_lock(locked: SynthesizedStack) -> None:
    locked.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "ObjectLockEnabled": True,
            "ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 2555}},
            },
            "LifecycleConfiguration": Match.object_like(
                {"Rules": Match.array_with([Match.object_like({"Id": "ExpirePersonalData", "ExpirationInDays": 3650})])}
            ),
        },
    )


def test_rotation_alias_and_email_props(locked: SynthesizedStack) -> None:
    locked.template.has_resource_properties(
        "AWS::KMS::Key", {"RotationPeriodInDays": 90, "Description": Match.string_like_regexp("Personal")}
    )
    locked.template.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/records/data"})
    locked.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "dpo@example.com"}
    )
    locked.template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 2557})


def test_existing_organization_trail_keeps_the_alarms() -> None:
    stack = _stack()
    org_logs = logs.LogGroup.from_log_group_name(stack, "OrgTrailLogs", "aws-controltower/CloudTrailLogs")
    topic = sns.Topic.from_topic_arn(stack, "SecOps", "arn:aws:sns:eu-west-1:111111111111:secops")
    store = EncryptedDataStore(
        stack, "Store", data_retention=Duration.days(30), audit_trail=False, trail_log_group=org_logs, alarm_topic=topic
    )
    synthesized = synth(stack)
    assert store.trail is None and not synthesized.resources("AWS::CloudTrail::Trail")
    assert not synthesized.resources("AWS::SNS::Topic")
    synthesized.template.resource_count_is("AWS::CloudWatch::Alarm", len(AUDIT_ALARMS))
    synthesized.template.has_resource_properties(
        "AWS::Logs::MetricFilter", {"LogGroupName": "aws-controltower/CloudTrailLogs"}
    )
    synthesized.template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmActions": ["arn:aws:sns:eu-west-1:111111111111:secops"]}
    )


def test_unversioned_bucket_has_no_noncurrent_rules() -> None:
    stack = _stack()
    EncryptedDataStore(
        stack, "Store", data_retention=Duration.days(7), versioned=False, audit_trail=False, alarms=False
    )
    synthesized = synth(stack)
    bucket = _one(synthesized, "AWS::S3::Bucket", "StoreBucket")
    assert "VersioningConfiguration" not in bucket["Properties"]
    assert bucket["Properties"]["LifecycleConfiguration"]["Rules"] == [
        {
            "Id": "ExpirePersonalData",
            "Status": "Enabled",
            "ExpirationInDays": 7,
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        }
    ]
    assert not synthesized.resources("AWS::DynamoDB::Table")
    assert not synthesized.resources("AWS::CloudWatch::Alarm")


def test_key_admins_replace_the_account() -> None:
    stack = _stack()
    admin = iam.ArnPrincipal("arn:aws:iam::111111111111:role/KeyAdmins")
    EncryptedDataStore(stack, "Store", data_retention=Duration.days(30), key_admins=[admin], alarms=False)
    key = _one(synth(stack), "AWS::KMS::Key", "StoreDataKey")
    assert _statements(key, "KeyPolicy")["KeyAdministration"]["Principal"] == {
        "AWS": "arn:aws:iam::111111111111:role/KeyAdmins"
    }


def test_region_outside_allowed_regions_fails() -> None:
    with pytest.raises(PropValidationError, match=r"allowed_regions.*'us-east-1' is not one of them"):
        EncryptedDataStore(_stack("us-east-1"), "Store", data_retention=Duration.days(30), allowed_regions=EU_REGIONS)


# -- bad props ----------------------------------------------------------------------------------

_LOG_GROUP: Callable[[cdk.Stack], logs.ILogGroup] = lambda s: logs.LogGroup.from_log_group_name(s, "L", "trail")  # noqa: E731

_ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

BAD_PROPS: list[tuple[str, dict[str, Any], str]] = [
    ("zero retention", {"data_retention": Duration.days(0)}, "data_retention"),
    ("retention beyond 100 years", {"data_retention": Duration.days(36501)}, "data_retention"),
    ("retention in hours", {"data_retention": Duration.hours(36)}, "data_retention"),
    (
        "retention shorter than the lock",
        {"data_retention": Duration.days(30), "object_lock_retention": Duration.days(31)},
        "data_retention",
    ),
    ("lock of zero days", {"object_lock_retention": Duration.days(0)}, "object_lock_retention"),
    (
        "lock without versioning",
        {"object_lock_retention": Duration.days(10), "versioned": False},
        "object_lock_retention",
    ),
    ("noncurrent retention zero", {"noncurrent_version_retention": Duration.days(0)}, "noncurrent_version_retention"),
    ("rotation below 90 days", {"key_rotation_period": Duration.days(89)}, "key_rotation_period"),
    ("rotation above 2560 days", {"key_rotation_period": Duration.days(2561)}, "key_rotation_period"),
    ("unknown region", {"allowed_regions": ["eu-west-9"]}, "allowed_regions"),
    ("empty regions", {"allowed_regions": []}, "allowed_regions"),
    ("region as a string", {"allowed_regions": "eu-west-1"}, "allowed_regions"),
    ("duplicate regions", {"allowed_regions": ["eu-west-1", "eu-west-1"]}, "allowed_regions"),
    ("alias without alias/", {"key_alias_prefix": "records"}, "key_alias_prefix"),
    ("alias in the AWS namespace", {"key_alias_prefix": "alias/aws/records"}, "key_alias_prefix"),
    (
        "sort key without table",
        {"table_sort_key": dynamodb.Attribute(name="s", type=dynamodb.AttributeType.STRING)},
        "table_sort_key",
    ),
    ("ttl without table", {"table_ttl_attribute": "expiresAt"}, "table_ttl_attribute"),
    ("trail off, alarms on, no log group", {"audit_trail": False}, "trail_log_group"),
    ("log group with own trail", {"trail_log_group": _LOG_GROUP}, "trail_log_group"),
    ("trail retention not a CloudWatch value", {"trail_retention": Duration.days(100)}, "trail_retention"),
    ("bad email", {"alarm_emails": ["dpo-at-example.com"]}, "alarm_emails"),
    (
        "topic and emails",
        {"alarm_topic": lambda s: sns.Topic(s, "T"), "alarm_emails": ["a@example.com"]},
        "alarm_emails",
    ),
    ("AWS metric namespace", {"metric_namespace": "AWS/Custom"}, "metric_namespace"),
    ("database subnets without database", {"database_subnets": _ISOLATED}, "database_subnets"),
    ("backup retention beyond 35 days", {"database_backup_retention": Duration.days(36)}, "database_backup_retention"),
    ("min capacity not a half step", {"database_min_capacity": 0.3}, "database_min_capacity"),
    ("max below min capacity", {"database_min_capacity": 8, "database_max_capacity": 4}, "database_max_capacity"),
    ("too many readers", {"database_readers": 16}, "database_readers"),
    (
        "shield on an S3 bucket",
        {"shield_advanced_protected_arns": ["arn:aws:s3:::my-bucket"]},
        "shield_advanced_protected_arns",
    ),
]


@pytest.mark.parametrize(("props", "prop"), [(p, n) for _, p, n in BAD_PROPS], ids=[c for c, _, _ in BAD_PROPS])
def test_bad_props_fail_early(props: dict[str, Any], prop: str) -> None:
    stack = _stack()
    resolved = {k: (v(stack) if callable(v) else v) for k, v in props.items()}
    resolved.setdefault("data_retention", Duration.days(30))
    before = sum(isinstance(c, cdk.CfnResource) for c in stack.node.find_all())
    with pytest.raises(PropValidationError, match=rf"EncryptedDataStore: invalid {prop}=") as error:
        EncryptedDataStore(stack, "Store", **resolved)
    assert error.value.prop == prop
    created = sum(isinstance(c, cdk.CfnResource) for c in stack.node.find_all()) - before
    assert created == 0, "failed before creating resources"


def test_only_buckets_keys_and_logs_are_retained(ref: SynthesizedStack) -> None:
    """Data stores keep their data when removed (RETAIN by default); nothing stateful is DESTROYed."""
    for logical_id, resource in ref.json["Resources"].items():
        if resource["Type"] in ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::Logs::LogGroup"):
            assert resource.get("DeletionPolicy") == "Retain", logical_id


def test_database_user_needs_a_database() -> None:
    stack = _stack()
    store = EncryptedDataStore(stack, "Store", data_retention=Duration.days(30), alarms=False)
    role = iam.Role(stack, "R", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(PropValidationError, match="database_user"):
        store.grant_read(role, database_user="reporting")
    with pytest.raises(ValueError, match="database_vpc"):
        store.connections  # noqa: B018


def test_shield_advanced_only_when_asked(ref: SynthesizedStack) -> None:
    assert not ref.resources("AWS::Shield::Protection")
    stack = _stack()
    alb = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/front/0123456789abcdef"
    EncryptedDataStore(
        stack, "Store", data_retention=Duration.days(30), alarms=False, shield_advanced_protected_arns=[alb]
    )
    synth(stack).template.has_resource_properties("AWS::Shield::Protection", {"ResourceArn": alb})
