"""IAM pieces every construct shares: neutral, so the constructs, the stacks and user code can import them."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from refarch.contracts.permissions import LAMBDA_VPC_ACTIONS, RESOURCELESS_ACTIONS


class ManagedPolicyRole(iam.Role):
    """An IAM role whose grants land in one customer-managed policy, not in an inline policy.

    ``bucket.grant_read(role)`` and every other L2 grant normally writes an inline
    ``DefaultPolicy``; the HIPAA, NIST 800-53 R5 and PCI DSS packs reject inline policies
    (``IAMNoInlinePolicy``). Routing the grants into a managed policy keeps them as narrow as
    the grant made them, versioned and reusable, with no acknowledgment needed.
    """

    def __init__(self, scope: Construct, id: str, *, assumed_by: iam.IPrincipal, description: str) -> None:
        super().__init__(scope, id, assumed_by=assumed_by, description=description)
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self], description=f"Grants of {description}")

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        scoped = _without_resourceless_actions(statement)
        if scoped is not None:
            self.policy.add_statements(scoped)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        self.add_to_principal_policy(statement)
        return True

    def allow_vpc_network_interfaces(self) -> None:
        """Let Lambda create and delete the network interfaces of a function in a VPC with this role.

        aws-cdk-lib attaches ``AWSLambdaVPCAccessExecutionRole`` only to roles it creates itself; with
        a role passed in, CreateFunction with ``VpcConfig`` is rejected without these actions. They
        take ``Resource: "*"``: acknowledge ``AwsSolutions-IAM5[Resource::*]`` on the role with
        :data:`VPC_INTERFACES_REASON` (and the other wildcard grants it has).
        """
        self.policy.add_statements(iam.PolicyStatement(actions=list(LAMBDA_VPC_ACTIONS), resources=["*"]))


def _without_resourceless_actions(statement: iam.PolicyStatement) -> iam.PolicyStatement | None:
    """``statement`` without the actions that take no resource when it names resources (None when nothing
    is left): L2 grants such as ``Stream.grant_read`` add ``kinesis:ListStreams`` on the stream ARN."""
    dropped = RESOURCELESS_ACTIONS.intersection(statement.actions)
    if not dropped or "*" in statement.resources or statement.effect != iam.Effect.ALLOW:
        return statement
    remaining = [a for a in statement.actions if a not in dropped]
    if not remaining:
        return None
    return iam.PolicyStatement(
        sid=statement.sid,
        actions=remaining,
        resources=list(statement.resources),
        conditions=statement.conditions or None,
    )
