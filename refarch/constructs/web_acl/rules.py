"""The web ACL's rules: AWS managed rule groups in priority order, then a per-IP rate limit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import aws_wafv2 as wafv2

#: Characters a WAF description may not contain (its pattern allows letters, digits, spaces and =:#@/-,.+).
_DESCRIPTION_DISALLOWED = re.compile(r"[^a-zA-Z0-9+=:#@/\-,. ]")

#: The metric (and rule) name of the rate-based rule.
RATE_RULE = "RateLimitPerIp"


@dataclass(frozen=True)
class _ManagedGroup:
    name: str
    metric: str


#: The AWS managed rule groups every ProtectiveWebAcl evaluates, in priority order.
MANAGED_RULE_GROUPS = (
    # Reputation first: known-bad sources are dropped before any inspection of the request.
    _ManagedGroup("AWSManagedRulesAmazonIpReputationList", "IpReputation"),
    _ManagedGroup("AWSManagedRulesCommonRuleSet", "CommonRuleSet"),
    _ManagedGroup("AWSManagedRulesKnownBadInputsRuleSet", "KnownBadInputs"),
    _ManagedGroup("AWSManagedRulesSQLiRuleSet", "SqlInjection"),
)


def build_rules(*, rate_limit: int, window_seconds: float) -> list[wafv2.CfnWebACL.RuleProperty]:
    """The managed rule groups (their own block actions kept), then the rate-based rule that blocks."""
    rules = [
        wafv2.CfnWebACL.RuleProperty(
            name=group.name,
            priority=priority,
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=group.name
                )
            ),
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            visibility_config=visibility(group.metric),
        )
        for priority, group in enumerate(MANAGED_RULE_GROUPS)
    ]
    rules.append(
        wafv2.CfnWebACL.RuleProperty(
            name=RATE_RULE,
            priority=len(rules),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    aggregate_key_type="IP", limit=rate_limit, evaluation_window_sec=window_seconds
                )
            ),
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            visibility_config=visibility(RATE_RULE),
        )
    )
    return rules


def visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    """CloudWatch metrics and sampled requests under ``metric_name``."""
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=metric_name
    )


def waf_description(text: str) -> str:
    """``text`` within the characters and length WAF accepts in a description."""
    return _DESCRIPTION_DISALLOWED.sub("-", text)[:256].strip()
