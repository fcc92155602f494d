"""The GDPR rule pack: a cdk-nag 3 pack (a policy-validation plugin) of the library's own.

It checks, over any stack, the technical measures the GDPR asks of where personal data rests:

======================  =========  ==============================================================
Rule id                 GDPR art.  Checks
======================  =========  ==============================================================
GDPR-S3KMS              32         S3 buckets encrypt with a customer-managed KMS key
GDPR-S3TLS              32         S3 bucket policies deny requests without TLS
GDPR-S3PublicAccess     32         S3 buckets block all four kinds of public access
GDPR-DynamoDBKMS        32         DynamoDB tables encrypt with a customer-managed key
GDPR-RDSKMS             32         RDS instances and clusters encrypt storage with a customer key
GDPR-KinesisKMS         32         Kinesis streams encrypt with a customer-managed key
GDPR-SQSKMS             32         SQS queues encrypt with a customer-managed key
GDPR-SNSKMS             32         SNS topics encrypt with a customer-managed key
GDPR-LogGroupKMS        32         CloudWatch log groups encrypt with a customer-managed key
GDPR-RedshiftKMS        32         Redshift clusters and namespaces encrypt with a customer key
GDPR-KMSRotation        32         symmetric customer-managed KMS keys rotate
GDPR-PublicPolicy       32         resource policies allow no one-and-all (``*``) unconditionally
GDPR-CloudTrailKMS      32         CloudTrail trails encrypt log files with a customer key
GDPR-LogGroupRetention  5(1)(e)    log groups keep events for a finite time
GDPR-S3Expiration       5(1)(e)    buckets expire objects (warning: retention is a legal choice)
GDPR-S3AccessLogging    30         buckets record their access (server access logs)
GDPR-CloudTrailValid.   30         trails validate log files (tamper evidence)
GDPR-Residency          44         data stores rest only in the allowed regions
======================  =========  ==============================================================

Use it like any cdk-nag 3 pack::

    Validations.of(app).add_plugins(GdprChecks(allowed_regions=EU_REGIONS))
    report = GdprChecks().validate_scope(stack)   # in tests: report.violations

Acknowledge a finding with ``refarch.compliance.acknowledge.acknowledge(resource, reason,
"GDPR-S3KMS")`` (or ``Validations.of(x).acknowledge(...)``), exactly as for the other packs.

Like cdk-nag's own rules, the checks read each L1's properties (``cfnProperties``); values set
only through raw ``add_property_override`` calls are not seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import jsii
from aws_cdk import CfnResource, Stack, Token
from aws_cdk import aws_s3 as s3
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct

from refarch.compliance.residency import EUROPE_REGIONS, check_regions

PACK_NAME = "GDPR"

_ART_32 = "GDPR art. 32 (security of processing) asks for encryption of personal data"
_ART_5 = "GDPR art. 5(1)(e) (storage limitation) keeps personal data no longer than necessary"
_ART_30 = "GDPR art. 30 (records of processing) needs a record of who accessed personal data"
_ART_44 = "GDPR art. 44 (transfers) keeps personal data in regions where a transfer is lawful"


@dataclass(frozen=True)
class GdprRule:
    """One rule of the pack: its id suffix, the article it supports, and what it checks."""

    suffix: str
    article: str
    info: str
    explanation: str
    level: NagMessageLevel = NagMessageLevel.ERROR

    @property
    def rule_id(self) -> str:
        return f"{PACK_NAME}-{self.suffix}"


def _cmk(kind: str) -> str:
    return (
        f"{_ART_32}. A customer-managed key puts the owner in control of who may decrypt "
        f"the {kind}, and disabling or deleting the key makes the data unreadable (crypto-shredding)."
    )


RULES: dict[str, GdprRule] = {
    rule.suffix: rule
    for rule in (
        GdprRule(
            "S3KMS",
            "32",
            "The S3 bucket is not encrypted with a customer-managed KMS key.",
            _cmk("objects"),
        ),
        GdprRule(
            "S3TLS",
            "32",
            "The S3 bucket's policy does not deny requests made without TLS (aws:SecureTransport).",
            f"{_ART_32} in transit: deny every request whose aws:SecureTransport is false.",
        ),
        GdprRule(
            "S3PublicAccess",
            "32",
            "The S3 bucket does not block all public access.",
            f"{_ART_32}: personal data must never be readable by anyone on the internet; set all four "
            "public access block settings.",
        ),
        GdprRule(
            "DynamoDBKMS",
            "32",
            "The DynamoDB table is not encrypted with a customer-managed KMS key.",
            _cmk("items"),
        ),
        GdprRule(
            "RDSKMS",
            "32",
            "The RDS instance or cluster storage is not encrypted with a customer-managed key.",
            _cmk("database"),
        ),
        GdprRule(
            "KinesisKMS",
            "32",
            "The Kinesis stream is not encrypted with a customer-managed KMS key.",
            _cmk("records"),
        ),
        GdprRule(
            "SQSKMS",
            "32",
            "The SQS queue is not encrypted with a customer-managed KMS key.",
            _cmk("messages"),
        ),
        GdprRule(
            "SNSKMS",
            "32",
            "The SNS topic is not encrypted with a customer-managed KMS key.",
            _cmk("messages"),
        ),
        GdprRule(
            "LogGroupKMS",
            "32",
            "The log group is not encrypted with a customer-managed KMS key.",
            _cmk("log events"),
        ),
        GdprRule(
            "RedshiftKMS",
            "32",
            "The Redshift cluster or namespace is not encrypted with a customer-managed key.",
            _cmk("warehouse"),
        ),
        GdprRule(
            "KMSRotation",
            "32",
            "The symmetric KMS key does not rotate its key material.",
            f"{_ART_32}: rotating key material limits how much data one compromised key version exposes.",
        ),
        GdprRule(
            "PublicPolicy",
            "32",
            "A resource policy allows '*' (anyone) without a condition.",
            f"{_ART_32}: an Allow to every principal with no condition opens the resource to any AWS account.",
        ),
        GdprRule(
            "CloudTrailKMS",
            "32",
            "The CloudTrail trail does not encrypt its log files with a customer-managed key.",
            f"{_ART_32}: the audit trail records who touched personal data and is personal data itself.",
        ),
        GdprRule(
            "LogGroupRetention",
            "5(1)(e)",
            "The log group keeps its events forever (no retention set).",
            f"{_ART_5}: logs hold IP addresses and identifiers; give every log group a finite retention.",
        ),
        GdprRule(
            "S3Expiration",
            "5(1)(e)",
            "The S3 bucket has no lifecycle rule that expires objects.",
            f"{_ART_5}: an expiration rule deletes data once its retention period is over. A warning, because "
            "some records must be kept (use Object Lock for those).",
            NagMessageLevel.WARN,
        ),
        GdprRule(
            "S3AccessLogging",
            "30",
            "The S3 bucket does not record its access (server access logging is off).",
            f"{_ART_30}; server access logs record every request to the bucket.",
        ),
        GdprRule(
            "CloudTrailValidation",
            "30",
            "The CloudTrail trail does not validate its log files.",
            f"{_ART_30}; log file validation makes a tampered or deleted log file detectable.",
        ),
        GdprRule(
            "Residency",
            "44",
            "The data store rests in a region outside the allowed regions.",
            f"{_ART_44}; deploy data stores only to the allowed regions.",
        ),
    )
}

#: Resource types that hold data, for the residency rule.
DATA_STORE_TYPES = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::Kinesis::Stream",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::Logs::LogGroup",
        "AWS::Redshift::Cluster",
        "AWS::RedshiftServerless::Namespace",
        "AWS::EFS::FileSystem",
        "AWS::KMS::Key",
    }
)

#: AWS-managed key aliases: encrypted, but not under the owner's control.
_AWS_MANAGED_ALIAS = "alias/aws/"


@jsii.implements(IApplyRule)
class _Finding:
    """A rule already evaluated in Python, handed to cdk-nag so that it records the violation
    (and honours acknowledgments) exactly as for its own packs."""

    def __init__(self, node: CfnResource, rule: GdprRule) -> None:
        self._node = node
        self._rule = rule

    @property
    def node(self) -> CfnResource:
        return self._node

    @property
    def rule_suffix_override(self) -> str:
        return self._rule.suffix

    @property
    def info(self) -> str:
        return f"{self._rule.info} (GDPR art. {self._rule.article})"

    @property
    def explanation(self) -> str:
        return self._rule.explanation

    @property
    def level(self) -> NagMessageLevel:
        return self._rule.level

    def rule(self, node: CfnResource) -> NagRuleCompliance:
        return NagRuleCompliance.NON_COMPLIANT


class GdprChecks(NagPack):
    """Checks data stores for the GDPR's technical measures (see the module docstring).

    Rules are evaluated in Python from each resource's resolved properties, with one round
    trip to the jsii runtime per resource; only violations cross back to cdk-nag.
    """

    def __init__(
        self,
        scope: IConstruct | None = None,
        *,
        allowed_regions: Sequence[str] | None = EUROPE_REGIONS,
        verbose: bool | None = None,
    ) -> None:
        """
        :param scope: Passed to cdk-nag's ``NagPack`` (only used to write acknowledgments into
            the template, which this pack does not do).
        :param allowed_regions: Regions where data stores may rest (rule ``GDPR-Residency``); a stack
            whose region is unresolved (environment-agnostic) is not checked. ``None`` turns the rule
            off. Default: ``EUROPE_REGIONS`` (EU regions plus London and Zurich)
        :param verbose: Put each rule's explanation into its findings. Default: ``False``
        """
        self.allowed_regions = check_regions("GdprChecks", "allowed_regions", allowed_regions)
        super().__init__(scope, verbose=verbose)
        self._pack_name = PACK_NAME
        self._tls_buckets: set[str] = set()
        self._regions: dict[str, str | None] = {}

    @property
    def name(self) -> str:
        return PACK_NAME

    def validate_scope(self, scope: IConstruct) -> Any:
        # Bucket policies are separate resources: index which buckets deny plain HTTP before
        # cdk-nag walks the tree (a policy may come after its bucket in the walk).
        self._tls_buckets = set()
        self._regions = {}
        for construct in scope.node.find_all():
            if isinstance(construct, s3.CfnBucketPolicy):
                props = Stack.of(construct).resolve(construct._cfn_properties)
                if _denies_insecure_transport(props.get("policyDocument")):
                    self._tls_buckets.add(_ref_key(props.get("bucket")))
        return super().validate_scope(scope)

    def _check_resource(self, node: CfnResource) -> None:
        checker = _CHECKS.get(node.cfn_resource_type)
        findings: list[str] = []
        stack = Stack.of(node)
        if checker is not None:
            props = stack.resolve(node._cfn_properties) or {}
            findings.extend(checker(self, node, props))
        if self.allowed_regions is not None and node.cfn_resource_type in DATA_STORE_TYPES:
            region = self._region_of(stack)
            if region is not None and region not in self.allowed_regions:
                findings.append("Residency")
        for suffix in findings:
            self._apply_rule(cast(IApplyRule, _Finding(node, RULES[suffix])))

    def _region_of(self, stack: Stack) -> str | None:
        path = stack.node.path
        if path not in self._regions:
            region = stack.region
            self._regions[path] = None if Token.is_unresolved(region) else region
        return self._regions[path]

    # -- per-type checks: each yields the suffixes of the rules the resource violates --------

    def _bucket(self, node: CfnResource, props: dict[str, Any]) -> Iterator[str]:
        encryption = (props.get("bucketEncryption") or {}).get("serverSideEncryptionConfiguration") or []
        if not any(
            (rule.get("serverSideEncryptionByDefault") or {}).get("sseAlgorithm") in ("aws:kms", "aws:kms:dsse")
            and _customer_key((rule.get("serverSideEncryptionByDefault") or {}).get("kmsMasterKeyId"))
            for rule in encryption
        ):
            yield "S3KMS"
        logical_id = Stack.of(node).resolve(node.logical_id)
        if logical_id not in self._tls_buckets:
            yield "S3TLS"
        block = props.get("publicAccessBlockConfiguration") or {}
        if not all(
            block.get(k) is True
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        ):
            yield "S3PublicAccess"
        rules = (props.get("lifecycleConfiguration") or {}).get("rules") or []
        if not any(
            r.get("status") == "Enabled" and (r.get("expirationInDays") or r.get("expirationDate")) for r in rules
        ):
            yield "S3Expiration"
        if not props.get("loggingConfiguration"):
            yield "S3AccessLogging"


def _customer_key(key_id: Any) -> bool:
    """A key reference that is not an AWS-managed key (``alias/aws/...``)."""
    if not key_id:
        return False
    if isinstance(key_id, str):
        return _AWS_MANAGED_ALIAS not in key_id
    return True  # a Ref/GetAtt to a key of the template, or an imported key's ARN token


def _ref_key(value: Any) -> str:
    """The logical ID a ``{"Ref": id}`` points at, or the value itself as a string."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return repr(value)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def _denies_insecure_transport(document: Any) -> bool:
    for statement in _statements(document):
        if statement.get("Effect") != "Deny" or not _is_everyone(statement.get("Principal")):
            continue
        actions = _as_list(statement.get("Action"))
        secure = (statement.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport")
        if any(a in ("s3:*", "*") for a in actions) and str(secure).lower() == "false":
            return True
    return False


def _is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in _as_list(principal.get("AWS"))
    return False


def _allows_everyone(document: Any) -> bool:
    return any(
        s.get("Effect") == "Allow" and _is_everyone(s.get("Principal")) and not s.get("Condition")
        for s in _statements(document)
    )


def _check_table(_: GdprChecks, __: CfnResource, props: dict[str, Any]) -> Iterator[str]:
    sse = props.get("sseSpecification") or {}
    enabled = sse.get("sseEnabled") is True or str(sse.get("sseType", "")).upper() == "KMS"
    if not (enabled and _customer_key(sse.get("kmsMasterKeyId"))):
        # A global table puts the key per replica.
        replicas = props.get("replicas") or []
        if not (
            replicas
            and sse.get("sseEnabled") is True
            and all(_customer_key((r.get("sseSpecification") or {}).get("kmsMasterKeyId")) for r in replicas)
        ):
            yield "DynamoDBKMS"


def _check_rds(_: GdprChecks, __: CfnResource, props: dict[str, Any]) -> Iterator[str]:
    if props.get("dbClusterIdentifier"):
        return  # an instance of a cluster: the cluster holds the storage settings
    if not (props.get("storageEncrypted") is True and _customer_key(props.get("kmsKeyId"))):
        yield "RDSKMS"


def _check_stream(_: GdprChecks, __: CfnResource, props: dict[str, Any]) -> Iterator[str]:
    encryption = props.get("streamEncryption") or {}
    if not (encryption.get("encryptionType") == "KMS" and _customer_key(encryption.get("keyId"))):
        yield "KinesisKMS"


def _check_queue(_: GdprChecks, __: CfnResource, props: dict[str, Any]) -> Iterator[str]:
    if not _customer_key(props.get("kmsMasterKeyId")):
        yield "SQSKMS"


def _check_topic(_: GdprChecks, __: CfnResource, props: dict[str, Any]) -> Iterator[str]:
    if not _customer_key(props.get("kmsMasterKeyId")):
        yield "SNSKMS"


def _check_log_group(_: GdprChecks, __: CfnResource, props: dict[str, Any]) -> Iterator[str]:
    if not _customer_key(props.get("kmsKeyId")):
        yield "LogGroupKMS"
    if not props.get("retentionInDays"):
        yield "LogGroupRetention"


def _check_redshift(_: GdprChecks, __: CfnResource, props: dict[str, Any]) -> Iterator[str]:
    if not (props.get("encrypted") is True and _customer_key(props.get("kmsKeyId"))):
        yield "RedshiftKMS"


def _check_redshift_namespace(_: GdprChecks, __: CfnResource, props: dict[str, Any]) -> Iterator[str]:
    if not _customer_key(props.get("kmsKeyId")):
        yield "RedshiftKMS"


def _check_key(_: GdprChecks, __: CfnResource, props: dict[str, Any]) -> Iterator[str]:
    symmetric = props.get("keySpec") in (None, "SYMMETRIC_DEFAULT")
    if symmetric and props.get("enableKeyRotation") is not True:
        yield "KMSRotation"
    if _allows_everyone(props.get("keyPolicy")):
        yield "PublicPolicy"


def _check_trail(_: GdprChecks, __: CfnResource, props: dict[str, Any]) -> Iterator[str]:
    if not _customer_key(props.get("kmsKeyId")):
        yield "CloudTrailKMS"
    if props.get("enableLogFileValidation") is not True:
        yield "CloudTrailValidation"


def _check_policy(_: GdprChecks, __: CfnResource, props: dict[str, Any]) -> Iterator[str]:
    if _allows_everyone(props.get("policyDocument")):
        yield "PublicPolicy"


_CHECKS: dict[str, Callable[[GdprChecks, CfnResource, dict[str, Any]], Iterator[str]]] = {
    "AWS::S3::Bucket": GdprChecks._bucket,
    "AWS::DynamoDB::Table": _check_table,
    "AWS::DynamoDB::GlobalTable": _check_table,
    "AWS::RDS::DBInstance": _check_rds,
    "AWS::RDS::DBCluster": _check_rds,
    "AWS::Kinesis::Stream": _check_stream,
    "AWS::SQS::Queue": _check_queue,
    "AWS::SNS::Topic": _check_topic,
    "AWS::Logs::LogGroup": _check_log_group,
    "AWS::Redshift::Cluster": _check_redshift,
    "AWS::RedshiftServerless::Namespace": _check_redshift_namespace,
    "AWS::KMS::Key": _check_key,
    "AWS::CloudTrail::Trail": _check_trail,
    "AWS::S3::BucketPolicy": _check_policy,
    "AWS::SQS::QueuePolicy": _check_policy,
    "AWS::SNS::TopicPolicy": _check_policy,
}

__all__ = ["DATA_STORE_TYPES", "PACK_NAME", "RULES", "GdprChecks", "GdprRule"]
