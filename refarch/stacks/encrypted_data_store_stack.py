"""Reference stack: GDPR-grade storage for personal data, with its audit trail and alarms."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, Duration, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from refarch.compliance.residency import regions_from_context
from refarch.constructs import EncryptedDataStore, NatStrategy, ThreeTierVpc
from refarch.iam import ManagedPolicyRole


class EncryptedDataStoreStack(Stack):
    """A personal-data bucket and table kept two years, CloudTrail with CIS alarms, and two roles:
    one that reads, one that writes.

    Residency comes from the context key ``allowed_regions`` (``-c allowed_regions=eu-west-1,eu-central-1``,
    for instance ``refarch.compliance.residency.EUROPE_REGIONS``): synth then fails in any other region.
    Without it the stack deploys to any region, like the other reference stacks.
    """

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, description="cdk-refarch reference: GDPR-grade encrypted data store", **kwargs)
        # The database lives in the isolated db tier; only the app tier reaches it, on 5432.
        self.network = ThreeTierVpc(self, "Network", max_azs=2, nat_strategy=NatStrategy.NONE, db_port=5432)
        self.store = EncryptedDataStore(
            self,
            "Store",
            data_retention=Duration.days(731),
            table_partition_key=dynamodb.Attribute(name="subjectId", type=dynamodb.AttributeType.STRING),
            table_sort_key=dynamodb.Attribute(name="recordId", type=dynamodb.AttributeType.STRING),
            table_ttl_attribute="expiresAt",
            vpc=self.network,  # the cluster goes to its db tier, behind the tier's security group
            allowed_regions=regions_from_context(self),
        )
        if self.store.allowed_regions is not None and Token.is_unresolved(self.region):
            # The reference app is environment-agnostic unless given -c region=...; deployed with a
            # region, the guard enforces allowed_regions and this warning does not arise.
            Annotations.of(self.store).acknowledge_warning(
                "refarch:Residency:UnresolvedRegion",
                "Reference stack synthesized without a region: residency is enforced once one is given.",
            )
        self.reader = ManagedPolicyRole(
            self, "Reader", assumed_by=iam.AccountRootPrincipal(), description="Personal data readers (reporting)"
        )
        self.writer = ManagedPolicyRole(
            self, "Writer", assumed_by=iam.AccountRootPrincipal(), description="Personal data writers (ingestion)"
        )
        self.store.grant_read(self.reader, "reports/*", database_user="reporting")
        self.store.grant_write(self.writer, "incoming/*", database_user="ingestion")
