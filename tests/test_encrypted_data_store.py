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
from cdk_nag import AwsSolutionsChecks

from refarch.compliance.residency import EU_REGIONS
from refarch.constructs import (
    EncryptedDataStore,
    EncryptedDataStoreProps,
    ManagedPolicyRole,
    NatStrategy,
    PropValidationError,
    ThreeTierVpc,
)
from refarch.constructs.encrypted_data_store import AUDIT_ALARMS, KEY_ADMIN_ACTIONS, KEY_USE_ACTIONS
from refarch.constructs.encrypted_data_store.props import DEFAULT_ENGINE_VERSION
from refarch.testing import Outcome, PermissionChecker
from tests.harness import (
    BadProp,
    ReferenceStacks,
    SynthesizedStack,
    assert_fails_early,
    bad_prop_params,
    new_app,
    synth,
)
from tests.names import PLACEHOLDER, render

STACK = "EncryptedDataStoreStack"


@pytest.fixture(scope="module")
def ref(reference_stacks: ReferenceStacks) -> SynthesizedStack:
    return reference_stacks[STACK]


def _statements(policy_resource: dict[str, Any], key: str = "PolicyDocument") -> dict[str, dict[str, Any]]:
    return {s.get("Sid", json.dumps(s["Action"])): s for s in policy_resource["Properties"][key]["Statement"]}


# -- keys ---------------------------------------------------------------------------------------


def test_data_key_separates_administrators_from_users(ref: SynthesizedStack) -> None:
    key = ref.one("AWS::KMS::Key", "StoreDataKey")[1]
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
    key = ref.one("AWS::KMS::Key", "StoreAuditKey")[1]
    statements = _statements(key, "KeyPolicy")
    trail = statements["AllowCloudTrailToEncryptLogFiles"]
    assert trail["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trail["Action"] == "kms:GenerateDataKey*"
    assert "kms:EncryptionContext:aws:cloudtrail:arn" in trail["Condition"]["StringLike"]
    assert "aws:SourceAccount" in trail["Condition"]["StringEquals"]
    assert statements["AllowCloudWatchAlarms"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert "AllowCloudWatchLogsOfThisAccount" in statements
    assert sorted(statements["KeyAdministration"]["Action"]) == sorted(KEY_ADMIN_ACTIONS)
    assert statements["KeyUseThroughIamPolicies"]["Action"] == ["kms:Decrypt", "kms:DescribeKey"]


def test_no_key_grants_everything(ref: SynthesizedStack) -> None:
    """Separation of duties: no statement of the store's key policies allows kms:* (the CDK default)."""
    keys = {k: v for k, v in ref.resources("AWS::KMS::Key").items() if k.startswith("Store")}
    assert len(keys) == 2 and {k.startswith("StoreDataKey") for k in keys} == {True, False}
    statements = [s for key in keys.values() for s in key["Properties"]["KeyPolicy"]["Statement"]]
    assert len(statements) >= 4
    actions = [a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert "kms:*" not in actions


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
    policy = ref.one("AWS::S3::BucketPolicy", "StoreBucketPolicy")[1]
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
    logs_bucket = ref.one("AWS::S3::Bucket", "StoreAccessLogs")[1]
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
    subnets = ref.one("AWS::RDS::DBSubnetGroup", "StoreDatabaseSubnets")[1]
    assert all(s["Ref"].startswith("NetworkVpcDbSubnet") for s in subnets["Properties"]["SubnetIds"])


def test_database_requires_tls_through_its_parameter_group(ref: SynthesizedStack) -> None:
    ref.template.has_resource_properties(
        "AWS::RDS::DBClusterParameterGroup",
        {
            "Family": "aurora-postgresql17",
            "Parameters": {"rds.force_ssl": "1", "log_connections": "1", "log_disconnections": "1"},
        },
    )
    cluster = ref.one("AWS::RDS::DBCluster", "StoreDatabase")[1]
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
    cluster = ref.one("AWS::RDS::DBCluster", "StoreDatabase")[1]
    group = ref.one("AWS::Logs::LogGroup", "StoreDatabaseLogGroup")[1]
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
    policy = ref.one("AWS::IAM::ManagedPolicy", f"{role_prefix}Policy")[1]
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
    trail = ref.one("AWS::CloudTrail::Trail", "StoreTrail")[1]
    assert any(d.startswith("StoreTrailLogsRolePolicy") for d in trail["DependsOn"])
    statements = _policy_of(ref, "StoreTrailLogsRole")
    assert len(statements) == 1
    assert statements[0]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statements[0]["Resource"]["Fn::GetAtt"][0].startswith("StoreTrailLogGroup")
    role = ref.one("AWS::IAM::Role", "StoreTrailLogsRole")[1]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "cloudtrail.amazonaws.com"
    }
    assert not ref.resources("AWS::IAM::Policy"), "no inline policies"


def test_trail_storage_has_retention_and_encryption(ref: SynthesizedStack) -> None:
    group = ref.one("AWS::Logs::LogGroup", "StoreTrailLogGroup")[1]
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0].startswith("StoreAuditKey")
    bucket = ref.one("AWS::S3::Bucket", "StoreTrailBucket")[1]
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
    topic = ref.one("AWS::SNS::Topic", "StoreAlarmTopic")[1]
    assert topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("StoreAuditKey")
    policy = ref.one("AWS::SNS::TopicPolicy", "StoreAlarmTopicPolicy")[1]
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
        log_retention=logs.RetentionDays.SEVEN_YEARS,
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
    bucket = synthesized.one("AWS::S3::Bucket", "StoreBucket")[1]
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


def test_a_retention_from_a_parameter_passes_the_checks_to_deploy_time() -> None:
    stack = _stack()
    days = cdk.CfnParameter(stack, "RetentionDays", type="Number", default=30)
    EncryptedDataStore(
        stack,
        "Store",
        data_retention=Duration.days(days.value_as_number),
        versioned=False,
        audit_trail=False,
        alarms=False,
    )
    bucket = synth(stack).one("AWS::S3::Bucket", "StoreBucket")[1]
    assert bucket["Properties"]["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == {"Ref": "RetentionDays"}


def test_key_admins_replace_the_account() -> None:
    stack = _stack()
    admin = iam.ArnPrincipal("arn:aws:iam::111111111111:role/KeyAdmins")
    EncryptedDataStore(stack, "Store", data_retention=Duration.days(30), key_admins=[admin], alarms=False)
    key = synth(stack).one("AWS::KMS::Key", "StoreDataKey")[1]
    assert _statements(key, "KeyPolicy")["KeyAdministration"]["Principal"] == {
        "AWS": "arn:aws:iam::111111111111:role/KeyAdmins"
    }


# -- bad props ----------------------------------------------------------------------------------

_DAYS = Duration.days(30)
_PARTITION = dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
_ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
_ALB = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/front/0123456789abcdef"


def _case(prop: str, says: str = "", **props: Any) -> BadProp:
    """A bad-prop case with a valid ``data_retention`` unless the case gives its own."""
    return BadProp(prop, {"data_retention": _DAYS, **props}, says)


def _on(prop: str, build: Callable[[cdk.Stack], dict[str, Any]], says: str = "") -> BadProp:
    """A case whose props need constructs of the stack (a network, a log group, a topic)."""
    return BadProp(prop, lambda stack: {"data_retention": _DAYS, **build(stack)}, says)


def _network(stack: cdk.Stack, **props: Any) -> ThreeTierVpc:
    return ThreeTierVpc(stack, "Network", **{"max_azs": 2, "nat_strategy": NatStrategy.NONE, "db_port": 5432, **props})


def _org_logs(stack: cdk.Stack) -> logs.ILogGroup:
    return logs.LogGroup.from_log_group_name(stack, "OrgTrailLogs", "aws-controltower/CloudTrailLogs")


BAD_PROPS: list[BadProp] = [
    # retention of the data
    BadProp("data_retention", {}, says="needs it"),
    _case("data_retention", "from 1 day", data_retention=Duration.days(0)),
    _case("data_retention", "to 36500 days", data_retention=Duration.days(36501)),
    _case("data_retention", "whole number of days", data_retention=Duration.hours(36)),
    _case("data_retention", "a Duration", data_retention=30),
    _case("data_retention", "objects cannot expire while locked", object_lock_retention=Duration.days(31)),
    _case("noncurrent_version_retention", "from 1 day", noncurrent_version_retention=Duration.days(0)),
    _case("noncurrent_version_retention", "whole number of days", noncurrent_version_retention=Duration.hours(12)),
    _case("noncurrent_version_retention", "with versioned", noncurrent_version_retention=_DAYS, versioned=False),
    _case("versioned", "a bool", versioned="yes"),
    _case("object_lock_retention", "from 1 day", object_lock_retention=Duration.days(0)),
    _case("object_lock_retention", "with versioned", object_lock_retention=Duration.days(10), versioned=False),
    _case("object_lock_mode", "with object_lock_retention", object_lock_mode=s3.ObjectLockMode.COMPLIANCE),
    _case("object_lock_mode", "ObjectLockMode", object_lock_mode="COMPLIANCE", object_lock_retention=_DAYS),
    # keys
    _case("key_rotation_period", "from 90 days", key_rotation_period=Duration.days(89)),
    _case("key_rotation_period", "to 2560 days", key_rotation_period=Duration.days(2561)),
    _case("key_rotation_period", "whole number of days", key_rotation_period=Duration.hours(2401)),
    _case("key_admins", "must not be empty", key_admins=[]),
    _case("key_admins", "IPrincipal", key_admins=["arn:aws:iam::111111111111:role/KeyAdmins"]),
    _case("key_admins", "a list", key_admins=iam.AccountRootPrincipal()),
    _case("key_alias_prefix", "'alias/'", key_alias_prefix="records"),
    _case("key_alias_prefix", "not starting with 'alias/aws/'", key_alias_prefix="alias/aws/records"),
    _case("key_alias_prefix", "'alias/'", key_alias_prefix="alias/with space"),
    _case("key_alias_prefix", "must not be empty", key_alias_prefix=""),
    # table
    _case("table_partition_key", "Attribute", table_partition_key="customerId"),
    _case("table_sort_key", "with table_partition_key", table_sort_key=_PARTITION),
    _case("table_ttl_attribute", "with table_partition_key", table_ttl_attribute="expiresAt"),
    _case("table_ttl_attribute", "must not be empty", table_partition_key=_PARTITION, table_ttl_attribute=""),
    # database and network
    _case("vpc", "IVpc or a ThreeTierVpc", vpc="vpc-0123456789abcdef0"),
    _on("vpc", lambda s: {"vpc": _network(s, db_port=3306)}, says="db_port=3306"),
    _on("vpc", lambda s: {"vpc": _network(s, db_port=3306).vpc}, says="db_port=3306"),
    _on("vpc", lambda s: {"vpc": ec2.Vpc(s, "Vpc", max_azs=2)}, says="picks no isolated subnets for database_subnets"),
    _on("database_subnets", lambda s: {"vpc": _network(s, max_azs=1)}, says="at least 2 AZs"),
    _case("database_subnets", "with vpc", database_subnets=_ISOLATED),
    _on(
        "database_security_groups",
        lambda s: {"database_security_groups": [ec2.SecurityGroup.from_security_group_id(s, "Sg", "sg-0123456789")]},
        "with vpc",
    ),
    _on("database_security_groups", lambda s: {"vpc": _network(s), "database_security_groups": []}, "empty"),
    _case("database_engine_version", "with vpc", database_engine_version=DEFAULT_ENGINE_VERSION),
    _case("database_backup_retention", "with vpc", database_backup_retention=Duration.days(7)),
    _on("database_backup_retention", lambda s: {"vpc": _network(s), "database_backup_retention": Duration.days(36)}),
    _on("database_min_capacity", lambda s: {"vpc": _network(s), "database_min_capacity": 0.3}, "steps of 0.5"),
    _on("database_min_capacity", lambda s: {"vpc": _network(s), "database_min_capacity": True}, "a number"),
    _on(
        "database_max_capacity",
        lambda s: {"vpc": _network(s), "database_min_capacity": 8, "database_max_capacity": 4},
        "at least database_min_capacity",
    ),
    _on("database_max_capacity", lambda s: {"vpc": _network(s), "database_max_capacity": 300}, "to 256"),
    _on("database_readers", lambda s: {"vpc": _network(s), "database_readers": 16}, "from 0 to 15"),
    _on("database_readers", lambda s: {"vpc": _network(s), "database_readers": 1.0}, "whole number"),
    _case("database_readers", "with vpc", database_readers=2),
    # audit and alarms
    _case("trail_log_group", "With audit_trail=False the alarms need", audit_trail=False),
    _on("trail_log_group", lambda s: {"trail_log_group": _org_logs(s)}, says="only with audit_trail=False"),
    _case("trail_log_group", "ILogGroup", audit_trail=False, trail_log_group="aws-controltower/CloudTrailLogs"),
    _case("log_retention", "finite", log_retention=logs.RetentionDays.INFINITE),
    _case("log_retention", "RetentionDays", log_retention=Duration.days(365)),
    _case("log_retention", "no log group", audit_trail=False, alarms=False, log_retention=logs.RetentionDays.ONE_YEAR),
    _case("alarm_emails[1]", "an email address", alarm_emails=["dpo@example.com", "dpo-at-example.com"]),
    _case("alarm_emails", "a list", alarm_emails="dpo@example.com"),
    _case("alarm_emails", "must not be empty", alarm_emails=[]),
    _case("alarm_emails", "with alarms", alarms=False, alarm_emails=["dpo@example.com"]),
    _on("alarm_emails", lambda s: {"alarm_topic": sns.Topic(s, "T"), "alarm_emails": ["a@example.com"]}, "subscribe"),
    _case("alarm_topic", "ITopic", alarm_topic="arn:aws:sns:eu-west-1:111111111111:secops"),
    _case("metric_namespace", "not 'AWS/...'", metric_namespace="AWS/Custom"),
    _case("metric_namespace", "must not be empty", metric_namespace=""),
    # residency, threat protection, the rest
    _case("allowed_regions", "Unknown AWS region", allowed_regions=["eu-west-9"]),
    _case("allowed_regions", "must not be empty", allowed_regions=[]),
    _case("allowed_regions", "a list", allowed_regions="eu-west-1"),
    _case("allowed_regions", "once", allowed_regions=["eu-west-1", "eu-west-1"]),
    _case("allowed_regions", "'eu-west-1' is not one of them", allowed_regions=["eu-central-1"]),
    _case("shield_advanced_protected_arns[0]", "load balancer", shield_advanced_protected_arns=["arn:aws:s3:::b"]),
    _case("shield_advanced_protected_arns", "a list", shield_advanced_protected_arns=_ALB),
    _case("removal_policy", "RemovalPolicy", removal_policy="retain"),
    _case("dashboard", "dashboard name", dashboard="not a name!"),
    _case("dashboard", "bool or a str", dashboard=1),
    # renamed props: the old name says what it is now
    _case("database_vpc", "no such prop", database_vpc="vpc-0123456789abcdef0"),
    _case("trail_retention", "no such prop", trail_retention=Duration.days(365)),
]


@pytest.mark.parametrize("case", bad_prop_params(BAD_PROPS))
def test_bad_props_fail_early(case: BadProp) -> None:
    assert_fails_early(EncryptedDataStore, case, _stack())


def test_every_prop_has_a_bad_case() -> None:
    """Each prop but the free-form ones is covered by the table above."""
    covered = {case.prop.split("[")[0] for case in BAD_PROPS}
    free = {"audit_trail", "alarms"}  # booleans with no conflicts of their own
    assert set(EncryptedDataStoreProps.__annotations__) - free <= covered


def test_a_three_tier_vpc_puts_the_database_in_its_db_tier() -> None:
    """``vpc`` takes the ThreeTierVpc itself: the cluster lands in its db tier, behind the tier's group."""
    stack = _stack()
    network = _network(stack, db_port=5432)
    store = EncryptedDataStore(stack, "Store", data_retention=_DAYS, vpc=network, alarms=False)
    synthesized = synth(stack)
    subnets = synthesized.one("AWS::RDS::DBSubnetGroup", "StoreDatabaseSubnets")[1]
    assert all(s["Ref"].startswith("NetworkVpcDbSubnet") for s in subnets["Properties"]["SubnetIds"])
    assert store.connections.security_groups == [network.db.security_group]


def test_grants_acknowledge_their_prefix_finding_on_the_grantee_policy() -> None:
    """The user writes no acknowledgment: the object-prefix IAM5 finding of each grant is acknowledged
    on the grantee's policy by the grant, for a ManagedPolicyRole and a plain Role alike."""
    stack = _stack()
    store = EncryptedDataStore(stack, "Store", data_retention=_DAYS, alarms=False, audit_trail=False)
    managed = ManagedPolicyRole(stack, "Support", assumed_by=iam.AccountRootPrincipal(), description="support")
    plain = iam.Role(stack, "Ingest", assumed_by=iam.AccountRootPrincipal())
    grants = [store.grant_read(managed, "profiles/*"), store.grant_write(plain, "incoming/*")]
    assert all(g.success for g in grants)
    findings = [
        (v.rule_name, r.construct_path)
        for v in AwsSolutionsChecks().validate_scope(stack).violations
        for r in v.violating_resources
        if "IAM5" in v.rule_name and r.construct_path.startswith(("Variant/Support", "Variant/Ingest"))
    ]
    assert findings == []


def test_grants_without_the_acknowledgment_would_be_found() -> None:
    """The check above can fail: the same grant written by hand is an IAM5 finding."""
    stack = _stack()
    store = EncryptedDataStore(stack, "Store", data_retention=_DAYS, alarms=False, audit_trail=False)
    role = ManagedPolicyRole(stack, "Support", assumed_by=iam.AccountRootPrincipal(), description="support")
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:GetObject"], resources=[store.bucket.arn_for_objects("profiles/*")])
    )
    rules = [
        v.rule_name
        for v in AwsSolutionsChecks().validate_scope(stack).violations
        if any(r.construct_path.startswith("Variant/Support") for r in v.violating_resources)
    ]
    assert any("IAM5" in rule for rule in rules)


def test_a_grant_is_one_whole_grant_with_the_key() -> None:
    stack = _stack()
    store = EncryptedDataStore(stack, "Store", data_retention=_DAYS, alarms=False, table_partition_key=_PARTITION)
    role = ManagedPolicyRole(stack, "Reader", assumed_by=iam.AccountRootPrincipal(), description="reader")
    grant = store.grant_read(role, "reports/*")
    actions = {a for statement in grant.principal_statements for a in statement.actions}
    assert {"s3:GetObject", "s3:ListBucket", "kms:Decrypt", "dynamodb:Query"} <= actions


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
    assert store.connections.security_groups == []  # nothing in a VPC: empty, never an error


def test_shield_advanced_only_when_asked(ref: SynthesizedStack) -> None:
    assert not ref.resources("AWS::Shield::Protection")
    stack = _stack()
    alb = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/front/0123456789abcdef"
    EncryptedDataStore(
        stack, "Store", data_retention=Duration.days(30), alarms=False, shield_advanced_protected_arns=[alb]
    )
    synth(stack).template.has_resource_properties("AWS::Shield::Protection", {"ResourceArn": alb})
