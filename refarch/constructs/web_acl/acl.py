"""The ProtectiveWebAcl construct: the web ACL, its logs, its associations and its metrics."""

from __future__ import annotations

from aws_cdk import Names, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct
from typing_extensions import Unpack

from refarch.constructs._metrics import MetricOptions, build_metric
from refarch.constructs._props import document_props, read_props
from refarch.constructs.web_acl.log_delivery import build_log_group, build_logging_configuration
from refarch.constructs.web_acl.props import OWNER, ProtectiveWebAclProps, WafScope, check_scope_region
from refarch.constructs.web_acl.rules import build_rules, visibility, waf_description
from refarch.errors import PropValidationError


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
        """Build the web ACL and its log delivery (props checked first)."""
        p = read_props(OWNER, ProtectiveWebAclProps, props)
        check_scope_region(scope, p["waf_scope"])
        super().__init__(scope, id)
        self.waf_scope = p["waf_scope"]
        self.rate_limit = p["rate_limit"]
        self.web_acl_name = p["web_acl_name"] or Names.unique_resource_name(self, max_length=128, separator="-")

        delivery = build_log_group(
            self,
            log_group_name=p["log_group_name"],
            log_retention=p["log_retention"],
            encryption_key=p["encryption_key"],
            removal_policy=p["removal_policy"],
        )
        self.encryption_key: kms.IKey = delivery.encryption_key
        self.log_group = delivery.log_group
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=self.web_acl_name,
            description=waf_description(f"Managed rule groups and a per-IP rate limit, for {self.node.path}"),
            scope=self.waf_scope.value,
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility(self.web_acl_name),
            rules=build_rules(rate_limit=self.rate_limit, window_seconds=p["rate_limit_window"].to_seconds()),
        )
        self.logging_configuration = build_logging_configuration(self, self.web_acl, self.log_group)
        self._associations = 0

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
                OWNER,
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
