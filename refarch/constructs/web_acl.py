"""A protective AWS WAF web ACL: AWS managed rule groups, a rate limit, encrypted logs, metrics.

Attach it to an API Gateway stage, an Application Load Balancer, an AppSync API or a Cognito
user pool with :meth:`ProtectiveWebAcl.associate`; give a CloudFront-scoped one to a
distribution through ``web_acl_arn`` (CloudFront takes the ARN as its ``web_acl_id``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from refarch.constructs import _builders, _defaults
from refarch.constructs._validation import PropValidationError, check_one_of, check_whole_range, is_token

_OWNER = "ProtectiveWebAcl"

#: WAF requires the name of a CloudWatch Logs destination to start with this prefix.
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"

#: Limits of a rate-based rule (requests per evaluation window, per client IP).
RATE_LIMIT_RANGE = (10, 2_000_000_000)

#: Evaluation windows a rate-based rule accepts, in seconds.
RATE_WINDOWS = (60, 120, 300, 600)

_NAME = re.compile(r"^[\w-]{1,128}$")
#: Characters a WAF description may not contain (its pattern allows letters, digits, spaces and =:#@/-,.+).
_DESCRIPTION_DISALLOWED = re.compile(r"[^a-zA-Z0-9+=:#@/\-,. ]")
_LOG_GROUP_NAME = re.compile(r"^aws-waf-logs-[.\-_/#A-Za-z0-9]{1,499}$")


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

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        waf_scope: WafScope = WafScope.REGIONAL,
        rate_limit: int = 2000,
        rate_limit_window: Duration | None = None,
        web_acl_name: str | None = None,
        log_group_name: str | None = None,
        log_retention: logs.RetentionDays | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = _defaults.DATA_REMOVAL_POLICY,
    ) -> None:
        """
        :param waf_scope: ``WafScope.REGIONAL`` for regional resources, ``WafScope.CLOUDFRONT`` for
            distributions (stack in us-east-1). Default: ``WafScope.REGIONAL``
        :param rate_limit: Requests one client IP may send per ``rate_limit_window`` before it is
            blocked, 10 to 2,000,000,000. Default: ``2000``
        :param rate_limit_window: Window the rate limit counts over: 1, 2, 5 or 10 minutes.
            Default: ``Duration.minutes(5)``
        :param web_acl_name: Name of the web ACL, also its metric name (letters, digits, ``_`` and
            ``-``, up to 128). Default: - a name unique to the construct path
        :param log_group_name: Name of the log group, starting with ``aws-waf-logs-`` as WAF requires.
            Default: - ``aws-waf-logs-``, a name unique to the construct path and a suffix unique to
            the stack's creation
        :param log_retention: Retention of the WAF logs. Default: ``RetentionDays.ONE_YEAR``
        :param encryption_key: Key that encrypts the log group; it must admit CloudWatch Logs.
            Default: - a new customer-managed key with rotation
        :param removal_policy: What happens to the log group and its key when removed from the stack.
            Default: ``RemovalPolicy.RETAIN``
        """
        super().__init__(scope, id)
        check_one_of(_OWNER, "waf_scope", waf_scope, list(WafScope))
        check_whole_range(_OWNER, "rate_limit", rate_limit, minimum=RATE_LIMIT_RANGE[0], maximum=RATE_LIMIT_RANGE[1])
        window_seconds: float = 300
        if rate_limit_window is not None and not rate_limit_window.is_unresolved():
            window_seconds = rate_limit_window.to_seconds()
            if window_seconds not in RATE_WINDOWS:
                raise PropValidationError(
                    _OWNER, "rate_limit_window", rate_limit_window.to_human_string(), "Allowed: 1, 2, 5 or 10 minutes."
                )
        if web_acl_name is not None and not is_token(web_acl_name) and not _NAME.match(web_acl_name):
            raise PropValidationError(
                _OWNER, "web_acl_name", web_acl_name, "Allowed: 1 to 128 letters, digits, '_' and '-'."
            )
        if log_group_name is not None and not is_token(log_group_name) and not _LOG_GROUP_NAME.match(log_group_name):
            raise PropValidationError(
                _OWNER,
                "log_group_name",
                log_group_name,
                f"WAF logs only to log groups named '{WAF_LOG_GROUP_PREFIX}...' (then letters, digits, '.-_/#').",
            )
        region = Stack.of(self).region if waf_scope is WafScope.CLOUDFRONT else "us-east-1"
        if not is_token(region) and region != "us-east-1":
            raise PropValidationError(
                _OWNER,
                "waf_scope",
                waf_scope,
                f"A CloudFront web ACL must be created in us-east-1, and this stack is in {region}: "
                "put it in a us-east-1 stack, or use WafScope.REGIONAL.",
            )

        self.waf_scope = waf_scope
        self.rate_limit = rate_limit
        self.web_acl_name = web_acl_name or Names.unique_resource_name(self, max_length=128, separator="-")

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
            log_group_name=log_group_name
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

    def metric(
        self, metric_name: str, *, rule: str = "ALL", statistic: str = "Sum", period: Duration | None = None
    ) -> cloudwatch.Metric:
        """A metric of this web ACL in the ``AWS/WAFV2`` namespace.

        :param metric_name: ``AllowedRequests``, ``BlockedRequests``, ``CountedRequests``, ...
        :param rule: The rule's metric name (for example ``"RateLimitPerIp"``), or ``"ALL"``. Default: ``"ALL"``
        :param statistic: Default: ``"Sum"``
        :param period: Default: ``Duration.minutes(5)``
        """
        dimensions = {"WebACL": self.web_acl_name, "Rule": rule}
        if self.waf_scope is WafScope.REGIONAL:
            dimensions["Region"] = Stack.of(self).region
        return cloudwatch.Metric(
            namespace="AWS/WAFV2",
            metric_name=metric_name,
            dimensions_map=dimensions,
            statistic=statistic,
            period=period or Duration.minutes(5),
        )

    def metric_blocked_requests(
        self, *, rule: str = "ALL", statistic: str = "Sum", period: Duration | None = None
    ) -> cloudwatch.Metric:
        """Requests blocked by ``rule`` (or by any rule)."""
        return self.metric("BlockedRequests", rule=rule, statistic=statistic, period=period)

    def metric_allowed_requests(self, *, statistic: str = "Sum", period: Duration | None = None) -> cloudwatch.Metric:
        """Requests the web ACL allowed."""
        return self.metric("AllowedRequests", statistic=statistic, period=period)


def _waf_description(text: str) -> str:
    """``text`` within the characters and length WAF accepts in a description."""
    return _DESCRIPTION_DISALLOWED.sub("-", text)[:256].strip()
