"""A protective AWS WAF web ACL: AWS managed rule groups, a rate limit, encrypted logs, metrics.

Attach it to an API Gateway stage, an Application Load Balancer, an AppSync API or a Cognito
user pool with :meth:`ProtectiveWebAcl.associate`; give a CloudFront-scoped one to a
distribution through ``web_acl_arn`` (CloudFront takes the ARN as its ``web_acl_id``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Annotated

from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct
from typing_extensions import TypedDict, Unpack

from refarch.constructs import _builders, _defaults
from refarch.constructs._metrics import MetricOptions, build_metric
from refarch.constructs._props import Prop, document_props, matches, read_props, whole_range
from refarch.constructs._validation import PropValidationError, is_token

_OWNER = "ProtectiveWebAcl"

#: WAF requires the name of a CloudWatch Logs destination to start with this prefix.
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"

#: Limits of a rate-based rule (requests per evaluation window, per client IP).
RATE_LIMIT_RANGE = (10, 2_000_000_000)

#: Evaluation windows a rate-based rule accepts, in seconds.
RATE_WINDOWS = (60, 120, 300, 600)

#: Characters a WAF description may not contain (its pattern allows letters, digits, spaces and =:#@/-,.+).
_DESCRIPTION_DISALLOWED = re.compile(r"[^a-zA-Z0-9+=:#@/\-,. ]")


class WafScope(enum.Enum):
    """Where a web ACL can be used."""

    #: API Gateway REST APIs, Application Load Balancers, AppSync, Cognito, App Runner, Verified Access.
    REGIONAL = "REGIONAL"
    #: CloudFront distributions. The web ACL must be created in us-east-1.
    CLOUDFRONT = "CLOUDFRONT"


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

#: Request headers whose values are replaced by "REDACTED" in the WAF logs.
REDACTED_HEADERS = ("authorization", "cookie")


def _rate_window(owner: str, prop: str, value: Duration) -> None:
    if value.to_seconds() not in RATE_WINDOWS:
        raise PropValidationError(owner, prop, value.to_human_string(), "Allowed: 1, 2, 5 or 10 minutes.")


class ProtectiveWebAclProps(TypedDict, total=False):
    """Props of :class:`ProtectiveWebAcl`."""

    waf_scope: Annotated[
        WafScope,
        Prop(
            "``WafScope.REGIONAL`` for regional resources, ``WafScope.CLOUDFRONT`` for distributions (the stack "
            "must be in us-east-1).",
            default=WafScope.REGIONAL,
        ),
    ]
    rate_limit: Annotated[
        int,
        Prop(
            "Requests one client IP may send per ``rate_limit_window`` before it is blocked.",
            default=2000,
            checks=(whole_range(*RATE_LIMIT_RANGE),),
        ),
    ]
    rate_limit_window: Annotated[
        Duration,
        Prop(
            "Window the rate limit counts over: 1, 2, 5 or 10 minutes.",
            default=Duration.minutes(5),
            checks=(_rate_window,),
        ),
    ]
    web_acl_name: Annotated[
        str | None,
        Prop(
            "Name of the web ACL, also its metric name.",
            default=None,
            default_doc="a name unique to the construct path",
            checks=(matches(r"[\w-]{1,128}", "1 to 128 letters, digits, '_' and '-'"),),
        ),
    ]
    log_group_name: Annotated[
        str | None,
        Prop(
            f"Name of the log group; WAF logs only to groups named ``{WAF_LOG_GROUP_PREFIX}...``.",
            default=None,
            default_doc=f"``{WAF_LOG_GROUP_PREFIX}``, a name unique to the construct path and a suffix unique to "
            "the stack's creation (the group is retained, and the next create of the stack must not collide)",
            checks=(
                matches(
                    r"aws-waf-logs-[.\-_/#A-Za-z0-9]{1,499}",
                    f"a name starting '{WAF_LOG_GROUP_PREFIX}', then letters, digits and '.-_/#'",
                ),
            ),
        ),
    ]
    log_retention: Annotated[
        logs.RetentionDays, Prop("How long the WAF logs are kept.", default=_defaults.LOG_RETENTION)
    ]
    encryption_key: Annotated[
        kms.IKey | None,
        Prop(
            "Key that encrypts the log group; it must admit CloudWatch Logs.",
            default=None,
            default_doc="a new customer-managed key with rotation",
        ),
    ]
    removal_policy: Annotated[
        RemovalPolicy,
        Prop(
            "What happens to the log group and its key when removed from the stack.",
            default=_defaults.DATA_REMOVAL_POLICY,
        ),
    ]


def _check_scope_region(scope: Construct, waf_scope: WafScope) -> None:
    """A CloudFront web ACL exists only in us-east-1 (agnostic stacks pass: their region is a token)."""
    region = Stack.of(scope).region
    if waf_scope is WafScope.CLOUDFRONT and not is_token(region) and region != "us-east-1":
        raise PropValidationError(
            _OWNER,
            "waf_scope",
            waf_scope,
            f"A CloudFront web ACL must be created in us-east-1, and this stack is in {region}: "
            "put it in a us-east-1 stack, or use WafScope.REGIONAL.",
        )


@document_props(ProtectiveWebAclProps)
class ProtectiveWebAcl(Construct):
    """A WAF web ACL that allows by default and blocks what AWS's managed rules and a per-IP rate limit catch.

    Rules, in priority order: Amazon IP reputation list, core rule set (OWASP-style common
    attacks), known bad inputs (Log4Shell and friends), SQL injection, then a rate-based rule
    that blocks a client IP exceeding ``rate_limit`` requests per ``rate_limit_window``. Every
    rule publishes CloudWatch metrics and sampled requests; full logs go to an encrypted log
    group named ``aws-waf-logs-...`` with finite retention, with the ``authorization`` and
    ``cookie`` headers redacted.

    Example::

        acl = ProtectiveWebAcl(self, "Waf", rate_limit=1000)
        acl.associate(api.deployment_stage.stage_arn)
    """

    def __init__(self, scope: Construct, id: str, **props: Unpack[ProtectiveWebAclProps]) -> None:
        p = read_props(_OWNER, ProtectiveWebAclProps, props)
        _check_scope_region(scope, p["waf_scope"])
        super().__init__(scope, id)
        waf_scope, rate_limit, log_retention = p["waf_scope"], p["rate_limit"], p["log_retention"]
        encryption_key, removal_policy = p["encryption_key"], p["removal_policy"]
        window_seconds = p["rate_limit_window"].to_seconds()

        self.waf_scope = waf_scope
        self.rate_limit = rate_limit
        self.web_acl_name = p["web_acl_name"] or Names.unique_resource_name(self, max_length=128, separator="-")

        if encryption_key is None:
            key = _builders.build_logs_key(
                self, "LogKey", description=f"Encrypts the WAF logs of {self.node.path}", removal_policy=removal_policy
            )
            encryption_key = key
        self.encryption_key: kms.IKey = encryption_key
        self.log_group = _builders.build_log_group(
            self,
            "LogGroup",
            # The group is retained: a suffix unique to the stack's creation keeps the next create
            # of the stack from colliding with it.
            log_group_name=p["log_group_name"]
            or f"{WAF_LOG_GROUP_PREFIX}{Names.unique_resource_name(self, max_length=200)}-"
            f"{_builders.stack_unique_suffix(self)}",
            encryption_key=encryption_key,
            retention=log_retention,
            removal_policy=removal_policy,
        )

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
                visibility_config=self._visibility(group.metric),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerIp",
                priority=len(rules),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        aggregate_key_type="IP", limit=rate_limit, evaluation_window_sec=window_seconds
                    )
                ),
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                visibility_config=self._visibility("RateLimitPerIp"),
            )
        )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=self.web_acl_name,
            description=_waf_description(f"Managed rule groups and a per-IP rate limit, for {self.node.path}"),
            scope=waf_scope.value,
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=self._visibility(self.web_acl_name),
            rules=rules,
        )
        self.logging_configuration = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            # WAF wants the log group ARN without the ":*" suffix that LogGroup.log_group_arn has.
            log_destination_configs=[
                Stack.of(self).format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=self.log_group.log_group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                for header in REDACTED_HEADERS
            ],
        )
        self._associations = 0

    @staticmethod
    def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
        return wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=metric_name
        )

    # -- attributes ------------------------------------------------------------------------

    @property
    def web_acl_arn(self) -> str:
        """The ARN of the web ACL (a CloudFront distribution's ``web_acl_id``)."""
        return self.web_acl.attr_arn

    @property
    def web_acl_id(self) -> str:
        """The ID of the web ACL."""
        return self.web_acl.attr_id

    def associate(self, resource_arn: str, id: str | None = None) -> wafv2.CfnWebACLAssociation:
        """Protect a regional resource (an API Gateway stage, ALB, AppSync API, Cognito user pool) with this ACL.

        :param resource_arn: ARN of the resource, for example ``api.deployment_stage.stage_arn``.
        :param id: Construct ID of the association. Default: - ``Association``, ``Association2``, ...
        """
        if self.waf_scope is WafScope.CLOUDFRONT:
            raise PropValidationError(
                _OWNER,
                "waf_scope",
                self.waf_scope,
                "A CloudFront web ACL is not associated: pass web_acl_arn as the distribution's web_acl_id.",
            )
        self._associations += 1
        association_id = id or ("Association" if self._associations == 1 else f"Association{self._associations}")
        association = wafv2.CfnWebACLAssociation(
            self, association_id, resource_arn=resource_arn, web_acl_arn=self.web_acl.attr_arn
        )
        return association

    # -- metrics ---------------------------------------------------------------------------

    def metric(self, metric_name: str, *, rule: str = "ALL", **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """A metric of this web ACL in the ``AWS/WAFV2`` namespace (Sum over 5 minutes unless ``options`` say
        otherwise).

        :param metric_name: ``AllowedRequests``, ``BlockedRequests``, ``CountedRequests``, ...
        :param rule: The rule's metric name (for example ``"RateLimitPerIp"``), or ``"ALL"``.
        """
        dimensions = {"WebACL": self.web_acl_name, "Rule": rule}
        if self.waf_scope is WafScope.REGIONAL:
            dimensions["Region"] = Stack.of(self).region
        return build_metric("AWS/WAFV2", metric_name, dimensions, **options)

    def metric_blocked_requests(self, *, rule: str = "ALL", **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Requests blocked by ``rule`` (or by any rule)."""
        return self.metric("BlockedRequests", rule=rule, **options)

    def metric_allowed_requests(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Requests the web ACL allowed."""
        return self.metric("AllowedRequests", **options)


def _waf_description(text: str) -> str:
    """``text`` within the characters and length WAF accepts in a description."""
    return _DESCRIPTION_DISALLOWED.sub("-", text)[:256].strip()
