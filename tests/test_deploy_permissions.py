"""The permission contract: every principal of every reference stack and example can do its job.

The evaluator itself (refarch.testing.permissions) is tested on small hand-written templates:
Allow/Deny precedence, NotAction, wildcards, KMS key policies with and without delegation to the
account, each condition key the stacks use, and UNKNOWN where it cannot decide.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from refarch.testing import (
    Outcome,
    PermissionChecker,
    SynthesizedTemplate,
    check_permissions,
)
from refarch.testing.handler_calls import scan_handler
from refarch.testing.permission_needs import LIBRARY_CODE_ROOT, derive_needs
from refarch.testing.permissions import DEFAULT_CONTEXT, ineffective_grants
from tests.harness import DEPLOY_TARGETS, ReferenceStacks

Outputs = Callable[[str], list[SynthesizedTemplate]]

ACCOUNT_ROOT = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]}


# -- every reference stack and example ---------------------------------------------------------


@pytest.mark.parametrize("target", DEPLOY_TARGETS)
def test_every_principal_can_do_its_job(target: str, deploy_outputs: Outputs) -> None:
    outputs = deploy_outputs(target)
    needs = [need for output in outputs for need in derive_needs(output, PermissionChecker(output).resolver)]
    assert needs, f"{target}: the check derived no needs at all, so it proves nothing"
    findings = [str(finding) for output in outputs for finding in check_permissions(output)]
    assert not findings, "\n".join(findings)


def test_a_removed_statement_is_named(reference_stacks: ReferenceStacks) -> None:
    """Break a permission in a copy of a synthesized template: the finding names principal, action, resource."""
    output = reference_stacks["StreamingPipelineStack"].output
    template = copy.deepcopy(output.template)
    policy_id, policy = next(
        (k, v) for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::ManagedPolicy" and "Consumer" in k
    )
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    policy["Properties"]["PolicyDocument"]["Statement"] = [s for s in statements if s["Action"] != "s3:PutObject"]
    assert len(policy["Properties"]["PolicyDocument"]["Statement"]) == len(statements) - 1
    broken = SynthesizedTemplate(output.name, template, output.metadata)

    findings = check_permissions(broken)

    put = [f for f in findings if f.action == "s3:PutObject"]
    assert put, [str(f) for f in findings]
    assert all(f.principal.startswith("PipelineConsumerRole") for f in put)
    assert any("/events/" in f.resource for f in put), [f.resource for f in put]
    assert "cannot s3:PutObject on" in str(put[0]) and "PipelineConsumerRole" in str(put[0])


def test_a_vpc_function_without_network_interface_permissions_is_found(reference_stacks: ReferenceStacks) -> None:
    output = reference_stacks["StreamingPipelineStack"].output
    template = copy.deepcopy(output.template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            document = resource["Properties"]["PolicyDocument"]
            document["Statement"] = [
                s for s in document["Statement"] if "ec2:CreateNetworkInterface" not in s["Action"]
            ]

    findings = check_permissions(SynthesizedTemplate(output.name, template, output.metadata))

    eni = {f.principal for f in findings if f.action == "ec2:CreateNetworkInterface"}
    assert any(p.startswith("PipelineConsumerRole") for p in eni), eni
    assert any(p.startswith("PipelineRedshiftApplySqlRole") for p in eni), eni
    assert any(p.startswith("PipelineRedshiftProviderRole") for p in eni), eni


# -- the handler-code scan -------------------------------------------------------------------------


def test_the_scan_finds_the_calls_a_handler_reaches() -> None:
    module = LIBRARY_CODE_ROOT / "stream_processor" / "handler.py"
    calls = scan_handler(module, LIBRARY_CODE_ROOT, "lambda_handler").calls
    assert [(c.operation, c.actions, c.arguments["Bucket"]) for c in calls] == [
        ("put_object", ("s3:PutObject",), "self.bucket")
    ]
    sql = scan_handler(LIBRARY_CODE_ROOT / "stream_processor" / "apply_sql.py", LIBRARY_CODE_ROOT, "on_event").calls
    assert sorted(a for c in sql for a in c.actions) == [
        "redshift-data:BatchExecuteStatement",
        "redshift-data:DescribeStatement",
        "redshift-serverless:GetNamespace",
    ]


def test_the_scan_follows_only_the_handler_it_is_given() -> None:
    module = LIBRARY_CODE_ROOT / "image_processor" / "handlers.py"
    validate = {a for c in scan_handler(module, LIBRARY_CODE_ROOT, "validate").calls for a in c.actions}
    optimize = {a for c in scan_handler(module, LIBRARY_CODE_ROOT, "optimize").calls for a in c.actions}
    assert "s3:PutObject" not in validate and "s3:GetObjectVersion" in validate
    assert {"s3:PutObject", "s3:DeleteObject", "dynamodb:PutItem"} <= optimize


def test_the_scan_reads_powertools_and_boto3_in_user_code(tmp_path: Path) -> None:
    package = tmp_path / "app"
    package.mkdir()
    (package / "main.py").write_text(
        "import os\nimport boto3\nsqs = boto3.client('sqs')\n"
        "def handler(event, context):\n    sqs.send_message(QueueUrl=os.environ['JOBS_QUEUE'], MessageBody='x')\n"
    )
    calls = scan_handler(package / "main.py", tmp_path, "handler").calls
    assert [(c.actions, c.arguments["QueueUrl"]) for c in calls] == [(("sqs:SendMessage",), "os.environ['JOBS_QUEUE']")]


# -- the evaluator, on hand-written templates -------------------------------------------------------


def _template(*statements: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Policy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {"PolicyDocument": {"Statement": list(statements)}, "Roles": [{"Ref": "Role"}]},
        },
    }
    resources.update(extra or {})
    return {"Resources": resources}


ALL_OBJECTS = {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}


def _bucket_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    policy = {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": {"Statement": list(statements)}}
    return {"BucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": policy}}


BUCKET_OBJECTS = {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/lake/*"]]}
OBJECT = "arn:${AWS::Partition}:s3:::${Bucket}/lake/2026/part.gz"


def test_identity_allow_with_a_joined_arn_pattern() -> None:
    checker = PermissionChecker(_template({"Effect": "Allow", "Action": "s3:PutObject", "Resource": BUCKET_OBJECTS}))
    assert checker.can("Role", "s3:PutObject", OBJECT).outcome is Outcome.ALLOWED
    assert checker.can("Role", "s3:PutObject", "arn:${AWS::Partition}:s3:::${Bucket}/other/x").outcome is Outcome.DENIED
    assert checker.can("Role", "s3:GetObject", OBJECT).outcome is Outcome.DENIED


def test_sub_and_ref_resolve_to_the_same_bucket() -> None:
    sub = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/lake/*"}
    checker = PermissionChecker(_template({"Effect": "Allow", "Action": "s3:PutObject", "Resource": sub}))
    assert checker.can("Role", "s3:PutObject", OBJECT).allowed


def test_explicit_deny_wins_over_allow() -> None:
    checker = PermissionChecker(
        _template(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": BUCKET_OBJECTS},
        )
    )
    decision = checker.can("Role", "s3:DeleteObject", OBJECT)
    assert decision.outcome is Outcome.DENIED and decision.statements[0].effect == "Deny"
    assert checker.can("Role", "s3:PutObject", OBJECT).allowed


def test_actions_match_wildcards_case_insensitively_and_not_action_excludes() -> None:
    checker = PermissionChecker(
        _template(
            {"Effect": "Allow", "NotAction": ["s3:Delete*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "KMS:gen*", "Resource": "*"},
        )
    )
    assert checker.can("Role", "s3:PutObject", OBJECT).allowed
    assert not checker.can("Role", "s3:DeleteObject", OBJECT).allowed
    assert checker.can("Role", "kms:GenerateDataKey", "*").allowed


def test_a_bucket_policy_deny_without_tls_applies_and_tls_passes() -> None:
    bucket_policy = _bucket_policy(
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": [{"Fn::GetAtt": ["Bucket", "Arn"]}, ALL_OBJECTS],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    checker = PermissionChecker(
        _template({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}, extra=bucket_policy)
    )
    assert checker.can("Role", "s3:PutObject", OBJECT).allowed
    assert checker.can("Role", "s3:PutObject", OBJECT, {"aws:SecureTransport": "false"}).outcome is Outcome.DENIED


def test_sse_condition_with_if_exists() -> None:
    deny = {
        "Effect": "Deny",
        "Action": "s3:PutObject",
        "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
    }
    checker = PermissionChecker(_template({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}, deny))
    # IfExists: an absent key makes the condition true, so this Deny rejects uploads without the header
    assert checker.can("Role", "s3:PutObject", OBJECT).outcome is Outcome.DENIED
    assert checker.can("Role", "s3:PutObject", OBJECT, {"s3:x-amz-server-side-encryption": "aws:kms"}).allowed
    assert not checker.can("Role", "s3:PutObject", OBJECT, {"s3:x-amz-server-side-encryption": "AES256"}).allowed


def _key(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": list(statements)}}}}


KEY = "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${Key}"
IAM_KMS = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Fn::GetAtt": ["Key", "Arn"]}}


def test_a_key_policy_that_delegates_to_the_account_lets_iam_policies_count() -> None:
    delegating = _key({"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ROOT}, "Action": "kms:*", "Resource": "*"})
    assert PermissionChecker(_template(IAM_KMS, extra=delegating)).can("Role", "kms:Decrypt", KEY).allowed
    # delegation alone is not permission: the role's own policy must allow it too
    assert not PermissionChecker(_template(extra=delegating)).can("Role", "kms:Decrypt", KEY).allowed


def test_without_delegation_an_iam_policy_cannot_use_the_key() -> None:
    closed = _key(
        {"Effect": "Allow", "Principal": {"AWS": {"Fn::GetAtt": ["Other", "Arn"]}}, "Action": "kms:*", "Resource": "*"}
    )
    assert PermissionChecker(_template(IAM_KMS, extra=closed)).can("Role", "kms:Decrypt", KEY).outcome is Outcome.DENIED
    direct = _key(
        {
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::GetAtt": ["Role", "Arn"]}},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    assert PermissionChecker(_template(extra=direct)).can("Role", "kms:Decrypt", KEY).allowed


@pytest.mark.parametrize(
    ("operator", "key", "value", "good", "bad"),
    [
        (
            "StringEquals",
            "kms:ViaService",
            "s3.${AWS::Region}.amazonaws.com",
            "s3.${AWS::Region}.amazonaws.com",
            "sqs.x",
        ),
        ("StringEquals", "kms:CallerAccount", {"Ref": "AWS::AccountId"}, "${AWS::AccountId}", "999999999999"),
        ("StringEquals", "aws:SourceAccount", {"Ref": "AWS::AccountId"}, "${AWS::AccountId}", "999999999999"),
        (
            "ArnLike",
            "aws:SourceArn",
            "arn:aws:cloudtrail:*:111122223333:trail/*",
            "arn:aws:cloudtrail:eu-west-1:111122223333:trail/t",
            "arn:aws:cloudtrail:eu-west-1:444455556666:trail/t",
        ),
        (
            "ArnLike",
            "kms:EncryptionContext:aws:logs:arn",
            "arn:aws:logs:eu-west-1:111122223333:log-group:*",
            "arn:aws:logs:eu-west-1:111122223333:log-group:app",
            "arn:aws:logs:us-east-1:111122223333:log-group:app",
        ),
        ("Bool", "aws:SecureTransport", "true", "true", "false"),
    ],
)
def test_each_condition_key(operator: str, key: str, value: Any, good: str, bad: str) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "logs.amazonaws.com"},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {operator: {key: value}},
    }
    checker = PermissionChecker(_template(extra=_key(statement)))
    key_arn = checker.resolver.arn("Key")
    assert checker.can("logs.amazonaws.com", "kms:Decrypt", key_arn, {key: good}).allowed
    assert checker.can("logs.amazonaws.com", "kms:Decrypt", key_arn, {key: bad}).outcome is Outcome.DENIED
    if key not in DEFAULT_CONTEXT:  # what every request carries is never missing
        missing = checker.can("logs.amazonaws.com", "kms:Decrypt", key_arn)
        assert missing.outcome is Outcome.UNKNOWN and key in missing.unknowns[0]


def test_an_unknown_condition_operator_is_unknown_never_allowed() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "s3:PutObject",
        "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    }
    decision = PermissionChecker(_template(statement)).can("Role", "s3:PutObject", OBJECT, {"aws:SourceIp": "10.1.2.3"})
    assert decision.outcome is Outcome.UNKNOWN and "IpAddress" in decision.explain()


def test_service_principals_are_allowed_only_by_resource_policies() -> None:
    everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    checker = PermissionChecker(_template(everything))
    assert checker.can("Role", "sns:Publish", "*").allowed
    assert not checker.can("cloudwatch.amazonaws.com", "sns:Publish", "*").allowed


def test_a_lambda_permission_is_a_resource_policy_with_its_source_arn() -> None:
    extra = {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Rule": {"Type": "AWS::Events::Rule", "Properties": {}},
        "Permission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
                "Action": "lambda:InvokeFunction",
                "Principal": "events.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": ["Rule", "Arn"]},
            },
        },
    }
    checker = PermissionChecker(_template(extra=extra))
    function = checker.resolver.arn("Fn")
    rule = checker.resolver.arn("Rule")
    assert checker.can("events.amazonaws.com", "lambda:InvokeFunction", function, {"aws:SourceArn": rule}).allowed
    other = {"aws:SourceArn": rule + "-other"}
    assert not checker.can("events.amazonaws.com", "lambda:InvokeFunction", function, other).allowed


def test_an_unmodelled_managed_policy_makes_a_missing_permission_unknown() -> None:
    template = _template()
    template["Resources"]["Role"]["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/SomethingElse"]
    decision = PermissionChecker(template).can("Role", "s3:PutObject", OBJECT)
    assert decision.outcome is Outcome.UNKNOWN and "SomethingElse" in decision.explain()


def test_a_modelled_managed_policy_counts() -> None:
    template = _template()
    template["Resources"]["Role"]["Properties"]["ManagedPolicyArns"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"}
    ]
    assert PermissionChecker(template).can("Role", "ec2:CreateNetworkInterface", "*").allowed


def test_a_resourceless_action_scoped_to_an_arn_is_found() -> None:
    """kinesis:ListStreams takes no resource: scoped to the stream (as Stream.grant_read writes it), it is void."""
    stream = {"Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {}}}
    grant = {
        "Effect": "Allow",
        "Action": ["kinesis:GetRecords", "kinesis:ListStreams"],
        "Resource": {"Fn::GetAtt": ["Stream", "Arn"]},
    }
    findings = ineffective_grants(PermissionChecker(_template(grant, extra=stream)), "Test")
    assert [(f.principal, f.action) for f in findings] == [("Role", "kinesis:ListStreams")]
    assert "takes no resource" in str(findings[0]) and "stream/${Stream}" in str(findings[0])


def test_a_grant_that_a_bucket_policy_cancels_is_found() -> None:
    """An ``...IfExists`` Deny on a header the request does not send applies to every request."""
    bucket_policy = _bucket_policy(
        {
            "Sid": "DenyOtherEncryptionTypes",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:PutObject",
            "Resource": ALL_OBJECTS,
            "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        }
    )
    grant = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": BUCKET_OBJECTS}
    findings = ineffective_grants(PermissionChecker(_template(grant, extra=bucket_policy)), "Test")
    assert [(f.principal, f.action, f.resource) for f in findings] == [
        ("Role", "s3:PutObject", "arn:${AWS::Partition}:s3:::${Bucket}/lake/*")
    ]
    assert "DenyOtherEncryptionTypes" in str(findings[0])


def test_a_grant_on_an_encrypted_queue_without_its_key_is_found() -> None:
    queue = {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}}}
    delegating = _key({"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ROOT}, "Action": "kms:*", "Resource": "*"})
    send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}}
    findings = ineffective_grants(PermissionChecker(_template(send, extra={**queue, **delegating})), "Test")
    assert sorted(f.action for f in findings) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert all(f.principal == "Role" and f.resource.endswith("key/${Key}") for f in findings)

    use_key = {
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": {"Fn::GetAtt": ["Key", "Arn"]},
    }
    assert not ineffective_grants(PermissionChecker(_template(send, use_key, extra={**queue, **delegating})), "Test")


def test_a_stack_is_evaluated_in_the_environment_of_its_manifest() -> None:
    """A stack reading another region's output names two regions in its template: the manifest's
    environment says which is its own (and its account, which key-policy conditions name)."""
    bound = SynthesizedTemplate("Bound", {"Resources": {}}, {}, "aws://123456789012/eu-central-1")
    assert (bound.region, bound.account) == ("eu-central-1", "123456789012")
    checker = PermissionChecker(bound)
    assert (checker.resolver.region, checker.resolver.account) == ("eu-central-1", "123456789012")
    agnostic = SynthesizedTemplate("Agnostic", {"Resources": {}}, {}, "aws://unknown-account/unknown-region")
    assert (agnostic.region, agnostic.account) == (None, None)


def _cross_region_writer(actions: list[str]) -> SynthesizedTemplate:
    """A producer stack's export writer as aws-cdk-lib writes it (strong cross-region references)."""
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
            "ManagedPolicyArns": [
                {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}
            ],
            "Policies": [
                {
                    "PolicyName": "Inline",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Resource": ["arn:aws:ssm:eu-central-1:111111111111:parameter/cdk/exports/*"],
                                "Action": actions,
                            }
                        ],
                    },
                }
            ],
        },
    }
    template = {
        "Resources": {
            "WriterRole": role,
            "WriterHandler": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Handler": "__entrypoint__.handler", "Role": {"Fn::GetAtt": ["WriterRole", "Arn"]}},
            },
            "ExportsWriter": {
                "Type": "Custom::CrossRegionExportWriter",
                "Properties": {
                    "ServiceToken": {"Fn::GetAtt": ["WriterHandler", "Arn"]},
                    "WriterProps": {
                        "region": "eu-central-1",
                        "exports": {"/cdk/exports/Secondary/PrimaryRefGlobalCluster": {"Ref": "WriterRole"}},
                    },
                },
            },
        }
    }
    return SynthesizedTemplate("Primary", template, {}, "aws://111111111111/eu-west-1")


def test_a_cross_region_export_writer_must_write_the_parameters_in_the_consumer_region() -> None:
    granted = _cross_region_writer(["ssm:DeleteParameters", "ssm:ListTagsForResource", "ssm:PutParameter"])
    needs = derive_needs(granted, PermissionChecker(granted).resolver, code_roots=[])
    parameter = "arn:aws:ssm:eu-central-1:111111111111:parameter/cdk/exports/Secondary/PrimaryRefGlobalCluster"
    assert [(n.principal, n.resource) for n in needs if n.principal == "WriterRole"][-1] == ("WriterRole", parameter)
    assert not [f for f in check_permissions(granted, code_roots=[]) if f.principal == "WriterRole"]
    missing = check_permissions(_cross_region_writer(["ssm:DeleteParameters"]), code_roots=[])
    assert [(f.action, f.resource) for f in missing if f.principal == "WriterRole"] == [("ssm:PutParameter", parameter)]
