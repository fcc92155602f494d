"""ProtectiveWebAcl: managed rule groups, rate limit, encrypted logging, association, metrics, bad props."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match

from refarch.compliance import packs
from refarch.constructs import PropValidationError, ProtectiveWebAcl, WafScope
from tests.harness import BadProp, SynthesizedStack, assert_fails_early, bad_prop_params, new_app, synth
from tests.names import PLACEHOLDER, render

STAGE_ARN = "arn:aws:apigateway:eu-west-1::/restapis/abc123/stages/prod"


@pytest.fixture(scope="module")
def regional() -> SynthesizedStack:
    stack = cdk.Stack(new_app(), "Waf", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    acl = ProtectiveWebAcl(stack, "Waf", rate_limit=500, rate_limit_window=cdk.Duration.minutes(2))
    acl.associate(STAGE_ARN)
    acl.associate("arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/x/1", id="Alb")
    stack.acl = acl  # type: ignore[attr-defined]
    return synth(stack)


def _acl(stacked: SynthesizedStack) -> dict[str, Any]:
    (acl,) = stacked.resources("AWS::WAFv2::WebACL").values()
    return acl["Properties"]  # type: ignore[no-any-return]


def test_managed_rule_groups_in_order_then_rate_rule(regional: SynthesizedStack) -> None:
    props = _acl(regional)
    assert props["Scope"] == "REGIONAL"
    assert props["DefaultAction"] == {"Allow": {}}
    rules = sorted(props["Rules"], key=lambda r: r["Priority"])
    managed = [r["Statement"]["ManagedRuleGroupStatement"] for r in rules[:4]]
    assert [m["Name"] for m in managed] == [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
    ]
    assert all(m["VendorName"] == "AWS" for m in managed)
    # Managed groups keep their own block actions (override "None", not "Count").
    assert all(r["OverrideAction"] == {"None": {}} for r in rules[:4])
    rate = rules[4]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": 500,
        "EvaluationWindowSec": 120,
    }
    assert [r["Priority"] for r in rules] == [0, 1, 2, 3, 4]


def test_description_keeps_to_the_characters_waf_accepts() -> None:
    stack = cdk.Stack(new_app(), "Odd")
    ProtectiveWebAcl(stack, "My_Waf(1)")
    description = _acl(synth(stack))["Description"]
    assert re.fullmatch(r"[a-zA-Z0-9=:#@/\-,.][a-zA-Z0-9+=:#@/\-,.\s]+[a-zA-Z0-9+=:#@/\-,.]{1,256}", description)
    assert "for Odd/My-Waf-1" in description


def test_every_rule_and_the_acl_publish_metrics(regional: SynthesizedStack) -> None:
    props = _acl(regional)
    configs = [props["VisibilityConfig"], *(r["VisibilityConfig"] for r in props["Rules"])]
    assert all(c["CloudWatchMetricsEnabled"] and c["SampledRequestsEnabled"] for c in configs)
    names = [c["MetricName"] for c in configs]
    assert len(set(names)) == len(names)
    assert props["Name"] == props["VisibilityConfig"]["MetricName"]


def test_logs_go_to_an_encrypted_waf_log_group_with_finite_retention(regional: SynthesizedStack) -> None:
    ((log_group_id, log_group),) = regional.resources("AWS::Logs::LogGroup").items()
    props = log_group["Properties"]
    # WAF's prefix, then a suffix unique to the stack's creation: the group is retained.
    name = render(props["LogGroupName"])
    assert name.startswith("aws-waf-logs-") and name.endswith(f"-{PLACEHOLDER}")
    assert props["RetentionInDays"] == 365
    assert props["KmsKeyId"] == {"Fn::GetAtt": [_key_id(regional), "Arn"]}
    assert log_group["DeletionPolicy"] == "Retain"
    (logging,) = regional.resources("AWS::WAFv2::LoggingConfiguration").values()
    (acl_id,) = regional.resources("AWS::WAFv2::WebACL")
    assert logging["Properties"]["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    (destination,) = logging["Properties"]["LogDestinationConfigs"]
    # The log group ARN without LogGroup.log_group_arn's ":*" suffix, as WAF requires.
    joined = destination["Fn::Join"][1]
    assert joined[-1] == {"Ref": log_group_id}
    assert not any(isinstance(part, str) and part.endswith("*") for part in joined)
    assert logging["Properties"]["RedactedFields"] == [
        {"SingleHeader": {"Name": "authorization"}},
        {"SingleHeader": {"Name": "cookie"}},
    ]


def _key_id(stacked: SynthesizedStack) -> str:
    (key_id,) = stacked.resources("AWS::KMS::Key")
    return key_id


def test_the_log_key_rotates_and_admits_only_cloudwatch_logs_of_this_account(regional: SynthesizedStack) -> None:
    regional.template.has_resource(
        "AWS::KMS::Key",
        {
            "DeletionPolicy": "Retain",
            "Properties": {
                "EnableKeyRotation": True,
                "KeyPolicy": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
                                    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": Match.any_value()}},
                                }
                            )
                        ]
                    )
                },
            },
        },
    )


def test_associate_creates_one_association_per_resource(regional: SynthesizedStack) -> None:
    associations = regional.resources("AWS::WAFv2::WebACLAssociation")
    (acl_id,) = regional.resources("AWS::WAFv2::WebACL")
    arns = sorted(a["Properties"]["ResourceArn"] for a in associations.values())
    assert arns[0] == STAGE_ARN
    assert arns[1].startswith("arn:aws:elasticloadbalancing")
    assert all(a["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]} for a in associations.values())
    assert any("WafAssociation" in k for k in associations)
    assert any("WafAlb" in k for k in associations)


def test_metrics_name_the_acl_and_the_region(regional: SynthesizedStack) -> None:
    acl: ProtectiveWebAcl = regional.stack.acl  # type: ignore[attr-defined]
    metric = acl.metric_blocked_requests()
    assert metric.namespace == "AWS/WAFV2"
    assert metric.metric_name == "BlockedRequests"
    assert metric.dimensions == {"WebACL": acl.web_acl_name, "Rule": "ALL", "Region": "eu-west-1"}
    assert dict(acl.metric("CountedRequests", rule="RateLimitPerIp").dimensions or {})["Rule"] == "RateLimitPerIp"
    assert acl.metric_allowed_requests(statistic="Average").statistic == "Average"


def test_compliance_packs_are_clean(regional: SynthesizedStack) -> None:
    errors = [
        f"{v.rule_name}: {sorted(str(r.construct_path) for r in v.violating_resources)}"
        for pack in packs()
        for v in pack.validate_scope(regional.stack).violations
        if v.severity == "error"
    ]
    assert not errors


def test_cloudfront_scope_in_us_east_1_with_own_key_and_names() -> None:
    stack = cdk.Stack(new_app(), "Edge", env=cdk.Environment(account="111111111111", region="us-east-1"))
    key = kms.Key(stack, "Mine", enable_key_rotation=True)
    acl = ProtectiveWebAcl(
        stack,
        "Waf",
        waf_scope=WafScope.CLOUDFRONT,
        web_acl_name="edge-acl",
        log_group_name="aws-waf-logs-edge",
        encryption_key=key,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    stacked = synth(stack)
    assert _acl(stacked)["Scope"] == "CLOUDFRONT"
    assert _acl(stacked)["Name"] == "edge-acl"
    assert len(stacked.resources("AWS::KMS::Key")) == 1  # the caller's key, no new one
    stacked.template.has_resource(
        "AWS::Logs::LogGroup", {"DeletionPolicy": "Delete", "Properties": {"LogGroupName": "aws-waf-logs-edge"}}
    )
    assert "Region" not in dict(acl.metric_blocked_requests().dimensions or {})
    with pytest.raises(PropValidationError, match="web_acl_id"):
        acl.associate("arn:aws:cloudfront::111111111111:distribution/E1")


def _stack_in(region: str) -> cdk.Stack:
    return cdk.Stack(new_app(), "BadProps", env=cdk.Environment(region=region))


BAD_PROPS = [
    BadProp("rate_limit", {"rate_limit": 9}, says="from 10 to 2000000000"),
    BadProp("rate_limit", {"rate_limit": 2_000_000_001}),
    BadProp("rate_limit", {"rate_limit": 100.5}, says="whole number"),
    BadProp("rate_limit", {"rate_limit": True}),
    BadProp("rate_limit", {"rate_limit": "2000"}),
    BadProp("rate_limit_window", {"rate_limit_window": cdk.Duration.minutes(3)}, says="1, 2, 5 or 10 minutes"),
    BadProp("rate_limit_window", {"rate_limit_window": cdk.Duration.seconds(30)}),
    BadProp("rate_limit_window", {"rate_limit_window": 300}, says="Duration"),
    BadProp("web_acl_name", {"web_acl_name": "has spaces"}),
    BadProp("web_acl_name", {"web_acl_name": "x" * 129}),
    BadProp("web_acl_name", {"web_acl_name": ""}, says="must not be empty"),
    BadProp("log_group_name", {"log_group_name": "my-waf-logs"}, says="aws-waf-logs-"),
    BadProp("log_group_name", {"log_group_name": ""}),
    BadProp("log_retention", {"log_retention": 365}, says="RetentionDays"),
    BadProp("log_retention", {"log_retention": None}),
    BadProp("encryption_key", {"encryption_key": "alias/aws/logs"}, says="IKey"),
    BadProp("removal_policy", {"removal_policy": "retain"}),
    BadProp("waf_scope", {"waf_scope": "REGIONAL"}, says="WafScope.REGIONAL"),
    BadProp("waf_scope", {"waf_scope": WafScope.CLOUDFRONT}, says="us-east-1"),
    BadProp("rate_limt", {"rate_limt": 100}, says="Did you mean 'rate_limit'?"),
]


@pytest.mark.parametrize("case", bad_prop_params(BAD_PROPS))
def test_bad_props_fail_early(case: BadProp) -> None:
    assert_fails_early(ProtectiveWebAcl, case, _stack_in("eu-west-1"))


def test_tokens_pass_unchecked_to_the_template(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    limit = cdk.CfnParameter(stack, "Limit", type="Number", default=9)  # below the minimum, if it were checked
    ProtectiveWebAcl(stack, "Waf", rate_limit=limit.value_as_number)  # type: ignore[arg-type]
    (rule,) = [r for r in _acl(synth(stack))["Rules"] if r["Name"] == "RateLimitPerIp"]
    assert rule["Statement"]["RateBasedStatement"]["Limit"] == {"Ref": "Limit"}
