"""The GDPR pack: every rule fires on a deliberately non-compliant stack, stays quiet on the
compliant twin of each resource, honours acknowledgments, and passes every reference stack."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_redshift as redshift
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from refarch.compliance import GdprChecks
from refarch.compliance.acknowledge import acknowledge
from refarch.compliance.gdpr import RULES
from refarch.compliance.residency import EU_REGIONS
from refarch.constructs import PropValidationError
from refarch.stacks import REFERENCE_STACKS
from tests.harness import ReferenceStacks, new_app

_PG = rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16_4)


def findings(report: Any) -> dict[str, set[str]]:
    """Rule id -> construct paths of the violating resources."""
    return {v.rule_name: {r.construct_path for r in v.violating_resources} for v in report.violations}


def _bad_stack() -> cdk.Stack:
    """One non-compliant resource per rule, in a US region, each named after the rule it breaks."""
    stack = cdk.Stack(new_app(), "Bad", env=cdk.Environment(account="111111111111", region="us-east-1"))
    bucket = s3.Bucket(stack, "PlainBucket", block_public_access=s3.BlockPublicAccess(block_public_acls=False))
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.AnyPrincipal()], actions=["s3:GetObject"], resources=[bucket.arn_for_objects("*")]
        )
    )
    pk = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    dynamodb.Table(stack, "AwsOwnedTable", partition_key=pk)
    dynamodb.Table(
        stack,
        "AwsManagedTable",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
    )
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    isolated = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    rds.DatabaseInstance(stack, "UnencryptedDb", engine=_PG, vpc=vpc, vpc_subnets=isolated, storage_encrypted=False)
    rds.DatabaseInstance(stack, "AwsKeyDb", engine=_PG, vpc=vpc, vpc_subnets=isolated)  # encrypted, but with aws/rds
    kinesis.Stream(stack, "ManagedStream", encryption=kinesis.StreamEncryption.MANAGED)
    sqs.Queue(stack, "SqsManagedQueue")
    sns.Topic(stack, "PlainTopic")
    logs.LogGroup(stack, "ForeverLogs", retention=logs.RetentionDays.INFINITE)
    redshift.CfnCluster(
        stack,
        "PlainWarehouse",
        cluster_type="single-node",
        db_name="dw",
        master_username="admin",
        master_user_password="unused-in-tests-0A",
        node_type="ra3.xlplus",
    )
    kms.Key(stack, "StaticKey", enable_key_rotation=False)
    trail_bucket = s3.Bucket(stack, "TrailBucket")
    cloudtrail.Trail(stack, "PlainTrail", bucket=trail_bucket, enable_file_validation=False)
    return stack


@pytest.fixture(scope="module")
def bad_report() -> Any:
    """The pack's report on the non-compliant stack (validated once per module)."""
    return GdprChecks().validate_scope(_bad_stack())


@pytest.fixture(scope="module")
def bad(bad_report: Any) -> dict[str, set[str]]:
    return findings(bad_report)


EXPECTED = {
    "GDPR-S3KMS": "Bad/PlainBucket/Resource",
    "GDPR-S3TLS": "Bad/PlainBucket/Resource",
    "GDPR-S3PublicAccess": "Bad/PlainBucket/Resource",
    "GDPR-S3Expiration": "Bad/PlainBucket/Resource",
    "GDPR-S3AccessLogging": "Bad/PlainBucket/Resource",
    "GDPR-PublicPolicy": "Bad/PlainBucket/Policy/Resource",
    "GDPR-DynamoDBKMS": "Bad/AwsManagedTable/Resource",
    "GDPR-RDSKMS": "Bad/UnencryptedDb/Resource",
    "GDPR-KinesisKMS": "Bad/ManagedStream/Resource",
    "GDPR-SQSKMS": "Bad/SqsManagedQueue/Resource",
    "GDPR-SNSKMS": "Bad/PlainTopic/Resource",
    "GDPR-LogGroupKMS": "Bad/ForeverLogs/Resource",
    "GDPR-LogGroupRetention": "Bad/ForeverLogs/Resource",
    "GDPR-RedshiftKMS": "Bad/PlainWarehouse",
    "GDPR-KMSRotation": "Bad/StaticKey/Resource",
    "GDPR-CloudTrailKMS": "Bad/PlainTrail/Resource",
    "GDPR-CloudTrailValidation": "Bad/PlainTrail/Resource",
    "GDPR-Residency": "Bad/ForeverLogs/Resource",
}


def test_every_rule_has_a_case() -> None:
    assert set(EXPECTED) == {rule.rule_id for rule in RULES.values()}


@pytest.mark.parametrize("rule_id", sorted(EXPECTED))
def test_rule_fires_on_the_non_compliant_resource(rule_id: str, bad: dict[str, set[str]]) -> None:
    assert EXPECTED[rule_id] in bad.get(rule_id, set()), bad.get(rule_id)


def test_aws_managed_keys_are_not_customer_keys(bad: dict[str, set[str]]) -> None:
    """Encrypted, but with a key the owner does not control: still a finding."""
    assert "Bad/AwsOwnedTable/Resource" in bad["GDPR-DynamoDBKMS"]
    assert "Bad/AwsKeyDb/Resource" in bad["GDPR-RDSKMS"]


def test_severity_and_articles(bad_report: Any) -> None:
    severity = {v.rule_name: v.severity for v in bad_report.violations}
    assert severity["GDPR-S3Expiration"] == "warning"
    assert severity["GDPR-S3KMS"] == "error"
    descriptions = {v.rule_name: v.description for v in bad_report.violations}
    assert "art. 44" in descriptions["GDPR-Residency"]
    assert "art. 5(1)(e)" in descriptions["GDPR-LogGroupRetention"]
    assert "art. 30" in descriptions["GDPR-S3AccessLogging"]
    assert "art. 32" in descriptions["GDPR-SQSKMS"]


def _good_stack(region: str | None = "eu-west-1") -> cdk.Stack:
    env = cdk.Environment(account="111111111111", region=region) if region else None
    stack = cdk.Stack(new_app(), "Good", env=env)
    key = kms.Key(stack, "Key", enable_key_rotation=True, removal_policy=RemovalPolicy.DESTROY)
    logs_bucket = s3.Bucket(
        stack,
        "Logs",
        encryption_key=key,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
    )
    acknowledge(
        logs_bucket,
        "This bucket is the access-log target itself; logging it would loop into itself.",
        "GDPR-S3AccessLogging",
    )
    s3.Bucket(
        stack,
        "Data",
        encryption_key=key,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        server_access_logs_bucket=logs_bucket,
        lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
    )
    dynamodb.Table(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
    )
    kinesis.Stream(stack, "Stream", encryption=kinesis.StreamEncryption.KMS, encryption_key=key)
    sqs.Queue(stack, "Queue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key)
    sns.Topic(stack, "Topic", master_key=key)
    logs.LogGroup(stack, "LogGroup", encryption_key=key, retention=logs.RetentionDays.ONE_MONTH)
    return stack


def test_compliant_resources_pass() -> None:
    report = GdprChecks().validate_scope(_good_stack())
    assert findings(report) == {}


def test_acknowledgments_are_honoured() -> None:
    stack = _bad_stack()
    topic = stack.node.find_child("PlainTopic")
    acknowledge(topic, "Carries only build notifications, never personal data; reviewed by the DPO.", "GDPR-SNSKMS")
    assert "GDPR-SNSKMS" not in findings(GdprChecks().validate_scope(stack))


def test_acknowledgments_above_the_stack_are_honoured() -> None:
    """An acknowledgment on the App (not recorded in the stack's metadata) still counts."""
    stack = _bad_stack()
    cdk.Validations.of(stack.node.root).acknowledge(
        cdk.Acknowledgment(id="GDPR-KMSRotation", reason="Static key material is required by our HSM import tooling.")
    )
    found = findings(GdprChecks().validate_scope(stack))
    assert "GDPR-KMSRotation" not in found
    assert "GDPR-SQSKMS" in found


def test_residency_follows_the_allowed_regions() -> None:
    stack = _good_stack("eu-west-1")
    assert "GDPR-Residency" in findings(GdprChecks(allowed_regions=["eu-central-1"]).validate_scope(stack))
    assert "GDPR-Residency" not in findings(GdprChecks(allowed_regions=EU_REGIONS).validate_scope(stack))
    assert "GDPR-Residency" not in findings(GdprChecks(allowed_regions=None).validate_scope(_bad_stack()))


def test_environment_agnostic_stacks_are_not_judged_on_region() -> None:
    assert findings(GdprChecks(allowed_regions=["eu-central-1"]).validate_scope(_good_stack(None))) == {}


@pytest.mark.parametrize("regions", [[], "eu-west-1", ["eu-west-9"], ["eu-west-1", "eu-west-1"]])
def test_bad_allowed_regions_fail_early(regions: Any) -> None:
    with pytest.raises(PropValidationError, match="allowed_regions"):
        GdprChecks(allowed_regions=regions)


def test_pack_works_as_a_validation_plugin() -> None:
    """Registered on the App, findings fail synth like the other packs' findings."""
    app = new_app()
    stack = cdk.Stack(app, "Plugged")
    sqs.Queue(stack, "Queue")
    cdk.Validations.of(app).add_plugins(GdprChecks())
    with pytest.raises(Exception, match="GDPR-SQSKMS"):
        app.synth()


def test_plugin_honours_acknowledgments_and_region() -> None:
    """Through the validation framework: acknowledged findings do not fail synth; the stack's
    region comes from its environment."""
    app = new_app()
    stack = cdk.Stack(app, "PluggedEu", env=cdk.Environment(region="eu-west-1"))
    queue = sqs.Queue(stack, "Queue")
    acknowledge(queue, "Carries only synthetic load-test messages, never personal data.", "GDPR-SQSKMS")
    cdk.Validations.of(app).add_plugins(GdprChecks(allowed_regions=EU_REGIONS))
    app.synth()  # no exception: the one finding is acknowledged, and eu-west-1 is allowed

    app = new_app()
    stack = cdk.Stack(app, "PluggedUs", env=cdk.Environment(region="us-west-2"))
    queue = sqs.Queue(stack, "Queue")
    acknowledge(queue, "Carries only synthetic load-test messages, never personal data.", "GDPR-SQSKMS")
    cdk.Validations.of(app).add_plugins(GdprChecks(allowed_regions=EU_REGIONS))
    with pytest.raises(Exception, match=r"outside the allowed regions[\s\S]*PluggedUs/Queue/Resource") as error:
        app.synth()  # GDPR-Residency is not acknowledged
    assert "GDPR-SQSKMS" not in str(error.value)


@pytest.mark.parametrize("name", list(REFERENCE_STACKS))
def test_reference_stacks_pass(name: str, reference_stacks: ReferenceStacks) -> None:
    report = GdprChecks().validate_scope(reference_stacks[name].stack)
    errors = {
        v.rule_name: sorted(str(r.construct_path) for r in v.violating_resources)
        for v in report.violations
        if v.severity == "error"
    }
    assert not errors, f"{name}: GDPR findings: {errors}"
