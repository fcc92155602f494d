"""ProtectiveWebAcl's props, each written once, and the check against the stack's region."""

from __future__ import annotations

import enum
from typing import Annotated

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct
from typing_extensions import TypedDict

from refarch.constructs import _defaults
from refarch.constructs._props import Prop, duration_one_of, matches, whole_range
from refarch.constructs._validation import is_token
from refarch.errors import PropValidationError

OWNER = "ProtectiveWebAcl"

#: WAF requires the name of a CloudWatch Logs destination to start with this prefix.
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"

#: Limits of a rate-based rule (requests per evaluation window, per client IP).
RATE_LIMIT_RANGE = (10, 2_000_000_000)

#: Evaluation windows a rate-based rule accepts, in seconds.
RATE_WINDOWS = (60, 120, 300, 600)


class WafScope(enum.Enum):
    """Where a web ACL can be used."""

    #: API Gateway REST APIs, Application Load Balancers, AppSync, Cognito, App Runner, Verified Access.
    REGIONAL = "REGIONAL"
    #: CloudFront distributions. The web ACL must be created in us-east-1.
    CLOUDFRONT = "CLOUDFRONT"


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
            "Window the rate limit counts over.",
            default=Duration.minutes(5),
            checks=(duration_one_of(RATE_WINDOWS, "1, 2, 5 or 10 minutes"),),
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


def check_scope_region(scope: Construct, waf_scope: WafScope) -> None:
    """A CloudFront web ACL exists only in us-east-1 (agnostic stacks pass: their region is a token)."""
    region = Stack.of(scope).region
    if waf_scope is WafScope.CLOUDFRONT and not is_token(region) and region != "us-east-1":
        raise PropValidationError(
            OWNER,
            "waf_scope",
            waf_scope,
            f"A CloudFront web ACL must be created in us-east-1, and this stack is in {region}: "
            "put it in a us-east-1 stack, or use WafScope.REGIONAL.",
        )
