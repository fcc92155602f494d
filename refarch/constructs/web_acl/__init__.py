"""ProtectiveWebAcl: a WAF web ACL of AWS managed rule groups and a per-IP rate limit, with encrypted logs.

Attach it to an API Gateway stage, an Application Load Balancer, an AppSync API or a Cognito
user pool with :meth:`ProtectiveWebAcl.associate`; give a CloudFront-scoped one to a
distribution through ``web_acl_arn`` (CloudFront takes the ARN as its ``web_acl_id``).

The package: ``props`` (``ProtectiveWebAclProps``, ``WafScope``), ``rules`` (the managed rule
groups and the rate limit), ``log_delivery`` (the log group and logging configuration) and
``acl`` (the construct).
"""

from refarch.constructs.web_acl.acl import ProtectiveWebAcl
from refarch.constructs.web_acl.log_delivery import REDACTED_HEADERS
from refarch.constructs.web_acl.props import (
    RATE_LIMIT_RANGE,
    RATE_WINDOWS,
    WAF_LOG_GROUP_PREFIX,
    ProtectiveWebAclProps,
    WafScope,
)
from refarch.constructs.web_acl.rules import MANAGED_RULE_GROUPS

__all__ = [
    "MANAGED_RULE_GROUPS",
    "RATE_LIMIT_RANGE",
    "RATE_WINDOWS",
    "REDACTED_HEADERS",
    "WAF_LOG_GROUP_PREFIX",
    "ProtectiveWebAcl",
    "ProtectiveWebAclProps",
    "WafScope",
]
