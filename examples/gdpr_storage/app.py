#!/usr/bin/env python3
"""A user's app: customer records of an EU business, kept in Frankfurt for two years, with
contracts under Object Lock, the company's organization trail reused for the alarms, and the
GDPR pack run over the whole app beside the library's four packs.

    pip install cdk-refarch
    cdk synth          # fails if any stack breaks a GDPR rule (or lands outside the EU)
"""

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from refarch.compliance import GdprChecks, apply_packs
from refarch.compliance.residency import EU_REGIONS
from refarch.constructs import EncryptedDataStore, ManagedPolicyRole


class CustomerDataStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        # The organization trail (Control Tower) already records every account: reuse its log
        # group for the CIS alarms instead of paying for a second trail.
        org_trail_logs = logs.LogGroup.from_log_group_name(self, "OrgTrailLogs", "aws-controltower/CloudTrailLogs")
        self.customers = EncryptedDataStore(
            self,
            "Customers",
            data_retention=cdk.Duration.days(731),  # two years after the last contract, per our policy
            table_partition_key=dynamodb.Attribute(name="customerId", type=dynamodb.AttributeType.STRING),
            table_ttl_attribute="deleteAfter",
            allowed_regions=EU_REGIONS,
            audit_trail=False,
            trail_log_group=org_trail_logs,
            alarm_emails=["dpo@example.com"],
        )
        # Signed contracts must be kept ten years (commercial law) and may not be altered.
        self.contracts = EncryptedDataStore(
            self,
            "Contracts",
            data_retention=cdk.Duration.days(3653),
            object_lock_retention=cdk.Duration.days(3653),
            allowed_regions=EU_REGIONS,
            audit_trail=False,
            alarms=False,  # the Customers store's alarms already watch this account
        )
        # Grants land in a customer-managed policy (no inline policies: HIPAA/NIST/PCI).
        support = ManagedPolicyRole(
            self, "SupportAgents", assumed_by=iam.AccountRootPrincipal(), description="Support agents"
        )
        self.customers.grant_read(support, "profiles/*")
        cdk.CfnOutput(self, "CustomersBucket", value=self.customers.bucket_name)


app = cdk.App()
CustomerDataStack(app, "GdprStorageExample", env=cdk.Environment(region="eu-central-1"))
apply_packs(app)
# The GDPR pack: every data store encrypted with customer keys, TLS-only, finite retention,
# and resting only in EU regions (GDPR art. 44).
cdk.Validations.of(app).add_plugins(GdprChecks(allowed_regions=EU_REGIONS))
app.synth()
