"""Permission contracts: what a principal of a construct must be able to do, stated by the construct.

Most needs are derived by :func:`refarch.testing.check_permissions` from the template and from the
handler code. A construct declares the rest with :func:`require_permission`:

- calls a service makes with a role the construct gives it (Redshift reading a Kinesis stream with
  its namespace role, the Data API reading a secret with the caller's role);
- the exact resources of calls whose target the code scan cannot see (a bucket named in the
  invocation event, the key prefixes a function writes under).

The declaration is checked like any other need; it grants nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from refarch.contracts import declare

if TYPE_CHECKING:  # the checks import this module to read declarations: no jsii at run time
    from aws_cdk import aws_iam as iam
    from constructs import IConstruct

#: Actions that take no resource (the Service Authorization Reference lists no resource type for
#: them): a grant scoped to an ARN never applies. The builders drop them from scoped grants, the
#: checks report them. Only the ones these stacks meet.
RESOURCELESS_ACTIONS = frozenset(
    {
        "kinesis:ListStreams",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "logs:DescribeResourcePolicies",
        "logs:PutResourcePolicy",
        "logs:ListLogDeliveries",
        "s3:ListAllMyBuckets",
        "sqs:ListQueues",
        "sns:ListTopics",
    }
)

#: What Lambda needs of a function's role to attach the function to a VPC (create, describe and
#: delete its network interfaces), all on ``Resource: "*"``:
#: https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#vpc-permissions
LAMBDA_VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)

#: The contract kind of permission declarations (metadata type ``refarch:contract:permission``).
PERMISSION_KIND = "permission"


def require_permission(
    scope: IConstruct,
    *,
    principal: iam.IRole | str,
    actions: Sequence[str],
    resources: Sequence[str],
    reason: str,
    context: Mapping[str, str] | None = None,
) -> None:
    """Declare that ``principal`` (a role, or a service principal such as ``redshift.amazonaws.com``)
    must be able to perform every one of ``actions`` on every one of ``resources``.

    ``resources`` are the ARNs the requests will name (tokens are fine: ``bucket.arn_for_objects("lake/x")``),
    ``context`` the condition keys those requests carry (``{"kms:ViaService": "s3.eu-west-1.amazonaws.com"}``),
    ``reason`` why, in a sentence a reader of a failed check understands.
    """
    if not actions or not resources:
        raise ValueError(f"require_permission on {scope.node.path}: give at least one action and one resource")
    declare(
        scope,
        PERMISSION_KIND,
        {
            "principal": principal if isinstance(principal, str) else principal.role_arn,
            "actions": list(actions),
            "resources": list(resources),
            "reason": reason,
            "context": dict(context or {}),
        },
    )


__all__ = ["LAMBDA_VPC_ACTIONS", "PERMISSION_KIND", "RESOURCELESS_ACTIONS", "require_permission"]
