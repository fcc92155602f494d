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

How it runs: the pack is a ``NagPack`` (so it sits in any list of cdk-nag packs), but instead of
cdk-nag's per-resource callbacks, which cross the jsii boundary for every resource and cost more
than the rules themselves, it evaluates the synthesized CloudFormation templates in Python: as a
validation plugin it reads the templates the synthesis just wrote; ``validate_scope`` synthesizes
the scope's stage (like ``Template.from_stack``, whose cached assembly it shares). Rules therefore
see the final properties, overrides included. Acknowledgments are read from the construct tree,
for findings only. Nested stacks' templates are not checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from aws_cdk import (
    CfnResource,
    IPolicyValidationContext,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
    Stack,
    Stage,
    Validations,
)
from cdk_nag import NagMessageLevel, NagPack
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


#: AWS-managed key aliases: encrypted, but not under the owner's control.
_AWS_MANAGED_ALIAS = "alias/aws/"

_UNKNOWN_REGION = "unknown-region"
_ACK_PREFIX = re.compile(r"^annotation::", re.IGNORECASE)
#: The metadata key under which aws-cdk-lib records acknowledged rules.
_ACKNOWLEDGED = str(Validations.ACKNOWLEDGED_RULES_METADATA_KEY)


@dataclass(frozen=True)
class _Finding:
    rule: GdprRule
    construct_path: str | None
    logical_id: str
    template_path: str | None
    #: Path of the stack the resource is in: acknowledgments on it and below were already applied.
    stack_path: str | None = None


class GdprChecks(NagPack):
    """Checks data stores for the GDPR's technical measures (see the module docstring).

    Use it as a validation plugin (``Validations.of(app).add_plugins(GdprChecks())``) or call
    ``GdprChecks().validate_scope(stack)`` and read ``report.violations``.
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
        self.verbose = bool(verbose)
        super().__init__(scope, verbose=verbose)
        self._pack_name = PACK_NAME

    @property
    def name(self) -> str:
        return PACK_NAME

    # -- entry points -----------------------------------------------------------------------

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        """Called by the CDK validation framework during synthesis, with the written templates."""
        findings: list[_Finding] = []
        for stack in context.stack_templates:
            findings.extend(self._evaluate_file(stack.template_path, stack.region))
        return self._report(context.app_construct, findings)

    def validate_scope(self, scope: IConstruct) -> PolicyValidationPluginReport:
        """Check every stack of ``scope`` (a Stack, Stage or App; or any construct, whose own
        resources are then checked), for example in tests.

        Synthesizes the scope's stage the way ``Template.from_stack`` does (the stage caches its
        assembly, so a test that already synthesized pays nothing more).
        """
        if Stage.is_stage(scope):
            stage, prefix = cast(Stage, scope), ""
        else:
            owner = Stage.of(scope)
            if owner is None:
                raise ValueError(f"GdprChecks: {scope.node.path!r} is not inside an App or Stage.")
            stage, prefix = owner, scope.node.path
        assembly = stage.synth()
        if prefix:
            artifacts = [assembly.get_stack_artifact(Stack.of(scope).artifact_id)]
        else:
            artifacts = list(assembly.stacks_recursively)
        findings: list[_Finding] = []
        for artifact in artifacts:
            region = artifact.environment.region
            for finding in self._evaluate_file(
                artifact.template_full_path, None if region == _UNKNOWN_REGION else region
            ):
                path = finding.construct_path or ""
                if not prefix or path == prefix or path.startswith(prefix + "/"):
                    findings.append(finding)
        return self._report(scope.node.root, findings)

    def _check_resource(self, node: CfnResource) -> None:
        """Unused: the rules run over synthesized templates, not through cdk-nag's tree walk."""

    def _evaluate_file(self, template_path: str, region: str | None) -> list[_Finding]:
        template = json.loads(Path(template_path).read_text())
        metadata = _StackMetadata.read(template_path)
        findings = []
        for finding in self.evaluate_template(template, region=region, template_path=template_path):
            path = finding.construct_path or metadata.paths.get(finding.logical_id)
            if path is not None and metadata.acknowledges(path, finding.rule.rule_id):
                continue
            findings.append(_Finding(finding.rule, path, finding.logical_id, template_path, metadata.stack_path))
        return findings

    # -- rules --------------------------------------------------------------------------------

    def evaluate_template(
        self, template: dict[str, Any], *, region: str | None, template_path: str | None = None
    ) -> list[_Finding]:
        """Every rule violation in one CloudFormation template, before acknowledgments."""
        resources: dict[str, Any] = template.get("Resources") or {}
        tls_buckets = {
            _ref(r.get("Properties", {}).get("Bucket"))
            for r in resources.values()
            if r.get("Type") == "AWS::S3::BucketPolicy"
            and _denies_insecure_transport(r.get("Properties", {}).get("PolicyDocument"))
        }
        wrong_region = region is not None and self.allowed_regions is not None and region not in self.allowed_regions
        findings: list[_Finding] = []
        for logical_id, resource in resources.items():
            resource_type = resource.get("Type")
            checker = _CHECKS.get(resource_type)
            suffixes: list[str] = []
            if checker is not None:
                props = resource.get("Properties") or {}
                suffixes.extend(checker(props))
                if resource_type == "AWS::S3::Bucket" and logical_id not in tls_buckets:
                    suffixes.append("S3TLS")
            if wrong_region and resource_type in DATA_STORE_TYPES:
                suffixes.append("Residency")
            path = (resource.get("Metadata") or {}).get("aws:cdk:path")
            findings.extend(_Finding(RULES[suffix], path, logical_id, template_path) for suffix in suffixes)
        return findings

    # -- report -------------------------------------------------------------------------------

    def _report(self, root: IConstruct, findings: list[_Finding]) -> PolicyValidationPluginReport:
        acknowledged = _Acknowledgments(root)
        grouped: dict[str, list[_Finding]] = {}
        for finding in findings:
            if finding.construct_path and acknowledged.covers(
                finding.construct_path, finding.rule.rule_id, below=finding.stack_path
            ):
                continue
            grouped.setdefault(finding.rule.rule_id, []).append(finding)
        violations = [
            PolicyViolation(
                rule_name=rule_id,
                description=self._describe(group[0].rule),
                severity="error" if group[0].rule.level == NagMessageLevel.ERROR else "warning",
                violating_resources=[_violating_resource(f) for f in group],
            )
            for rule_id, group in grouped.items()
        ]
        # Warnings are reported but, as with cdk-nag's own packs, do not fail the synth.
        success = not any(v.severity == "error" for v in violations)
        return PolicyValidationPluginReport(success=success, violations=violations)

    def _describe(self, rule: GdprRule) -> str:
        info = f"{rule.info} (GDPR art. {rule.article})"
        return f"{info} {rule.explanation}" if self.verbose else info


@dataclass
class _StackMetadata:
    """What the cloud assembly records beside a stack's template (written before validation
    runs): the construct path of each logical ID, and the acknowledgments made on the stack's
    constructs. Reading it costs no call into the jsii runtime."""

    stack_path: str | None
    paths: dict[str, str]
    acknowledged: dict[str, set[str]]

    @classmethod
    def read(cls, template_path: str) -> _StackMetadata:
        directory = Path(template_path).parent
        manifest_file = directory / "manifest.json"
        metadata: dict[str, Any] = {}
        if manifest_file.exists():
            manifest = json.loads(manifest_file.read_text())
            for artifact in (manifest.get("artifacts") or {}).values():
                if (artifact.get("properties") or {}).get("templateFile") == Path(template_path).name:
                    metadata = artifact.get("metadata") or {}
                    if not metadata and artifact.get("additionalMetadataFile"):
                        metadata = json.loads((directory / artifact["additionalMetadataFile"]).read_text())
                    break
        paths: dict[str, str] = {}
        acknowledged: dict[str, set[str]] = {}
        for raw_path, entries in metadata.items():
            path = raw_path.lstrip("/")
            for entry in entries:
                if entry.get("type") == "aws:cdk:logicalId":
                    paths[str(entry["data"])] = path
                elif entry.get("type") == _ACKNOWLEDGED and entry.get("data"):
                    acknowledged.setdefault(path, set()).update(_ACK_PREFIX.sub("", k) for k in entry["data"])
        stack_path = min((p.lstrip("/") for p in metadata), key=len) if metadata else None
        return cls(stack_path, paths, acknowledged)

    def acknowledges(self, construct_path: str, rule_id: str) -> bool:
        """Acknowledged on the construct or an ancestor inside the stack."""
        parts = construct_path.split("/")
        return any(rule_id in self.acknowledged.get("/".join(parts[:i]), ()) for i in range(len(parts), 0, -1))


def _violating_resource(finding: _Finding) -> PolicyViolatingResource:
    if finding.construct_path:
        return PolicyViolatingResource(construct_path=finding.construct_path, locations=["Properties"])
    # No path metadata: the framework maps the logical ID back to its construct.
    return PolicyViolatingResource(
        resource_logical_id=finding.logical_id, template_path=finding.template_path, locations=["Properties"]
    )


class _Acknowledgments:
    """Rule ids acknowledged on a construct or its ancestors (``Validations.of(x).acknowledge``),
    looked up lazily: only constructs with findings, and each ancestor once."""

    def __init__(self, root: IConstruct) -> None:
        self._root = root
        self._by_path: dict[str, frozenset[str]] = {}

    def covers(self, construct_path: str, rule_id: str, below: str | None = None) -> bool:
        """Whether ``rule_id`` is acknowledged on the construct or an ancestor; with ``below`` (a
        stack path whose acknowledgments were already read from its metadata), only on ancestors
        above it (the stage or app)."""
        parts = construct_path.split("/")
        ancestors = ["/".join(parts[:i]) for i in range(len(parts), -1, -1)]
        if below is not None:
            ancestors = [a for a in ancestors if not (a == below or a.startswith(below + "/"))]
        return any(rule_id in self._at(a) for a in ancestors)

    def _at(self, path: str) -> frozenset[str]:
        if path not in self._by_path:
            construct = self._find(path)
            ids: set[str] = set()
            if construct is not None:
                for entry in construct.node.metadata:
                    if entry.type == _ACKNOWLEDGED and entry.data:
                        ids.update(_ACK_PREFIX.sub("", key) for key in entry.data)
            self._by_path[path] = frozenset(ids)
        return self._by_path[path]

    def _find(self, path: str) -> IConstruct | None:
        construct: IConstruct | None = self._root
        for part in path.split("/") if path else []:
            construct = construct.node.try_find_child(part) if construct is not None else None
        return construct


def _customer_key(key_id: Any) -> bool:
    """A key reference that is not an AWS-managed key (``alias/aws/...``)."""
    if not key_id:
        return False
    if isinstance(key_id, str):
        return _AWS_MANAGED_ALIAS not in key_id
    return True  # a Ref/GetAtt to a key of the template, or an imported key's ARN built by Fn::Join


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _ref(value: Any) -> str | None:
    """The logical ID a ``{"Ref": id}`` points at."""
    return str(value["Ref"]) if isinstance(value, dict) and "Ref" in value else None


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
        secure = ((statement.get("Condition") or {}).get("Bool") or {}).get("aws:SecureTransport")
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


# -- per-type checks: each yields the suffixes of the rules a resource's Properties violate -----


def _check_bucket(props: dict[str, Any]) -> Iterator[str]:
    encryption = (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
    if not any(
        (rule.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse")
        and _customer_key((rule.get("ServerSideEncryptionByDefault") or {}).get("KMSMasterKeyID"))
        for rule in encryption
    ):
        yield "S3KMS"
    block = props.get("PublicAccessBlockConfiguration") or {}
    if not all(
        _true(block.get(k))
        for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    ):
        yield "S3PublicAccess"
    rules = (props.get("LifecycleConfiguration") or {}).get("Rules") or []
    if not any(r.get("Status") == "Enabled" and (r.get("ExpirationInDays") or r.get("ExpirationDate")) for r in rules):
        yield "S3Expiration"
    if not props.get("LoggingConfiguration"):
        yield "S3AccessLogging"


def _check_table(props: dict[str, Any]) -> Iterator[str]:
    sse = props.get("SSESpecification") or {}
    if _true(sse.get("SSEEnabled")) and _customer_key(sse.get("KMSMasterKeyId")):
        return
    # A global table names its key per replica.
    replicas = props.get("Replicas") or []
    if (
        replicas
        and _true(sse.get("SSEEnabled"))
        and all(_customer_key((r.get("SSESpecification") or {}).get("KMSMasterKeyId")) for r in replicas)
    ):
        return
    yield "DynamoDBKMS"


def _check_rds(props: dict[str, Any]) -> Iterator[str]:
    if props.get("DBClusterIdentifier") and "StorageEncrypted" not in props:
        return  # an instance of a cluster: the cluster holds the storage settings
    if not (_true(props.get("StorageEncrypted")) and _customer_key(props.get("KmsKeyId"))):
        yield "RDSKMS"


def _check_stream(props: dict[str, Any]) -> Iterator[str]:
    encryption = props.get("StreamEncryption") or {}
    if not (encryption.get("EncryptionType") == "KMS" and _customer_key(encryption.get("KeyId"))):
        yield "KinesisKMS"


def _check_queue(props: dict[str, Any]) -> Iterator[str]:
    if not _customer_key(props.get("KmsMasterKeyId")):
        yield "SQSKMS"


def _check_topic(props: dict[str, Any]) -> Iterator[str]:
    if not _customer_key(props.get("KmsMasterKeyId")):
        yield "SNSKMS"


def _check_log_group(props: dict[str, Any]) -> Iterator[str]:
    if not _customer_key(props.get("KmsKeyId")):
        yield "LogGroupKMS"
    if not props.get("RetentionInDays"):
        yield "LogGroupRetention"


def _check_redshift(props: dict[str, Any]) -> Iterator[str]:
    if not (_true(props.get("Encrypted")) and _customer_key(props.get("KmsKeyId"))):
        yield "RedshiftKMS"


def _check_redshift_namespace(props: dict[str, Any]) -> Iterator[str]:
    if not _customer_key(props.get("KmsKeyId")):
        yield "RedshiftKMS"


def _check_key(props: dict[str, Any]) -> Iterator[str]:
    symmetric = props.get("KeySpec") in (None, "SYMMETRIC_DEFAULT")
    if symmetric and not _true(props.get("EnableKeyRotation")):
        yield "KMSRotation"
    if _allows_everyone(props.get("KeyPolicy")):
        yield "PublicPolicy"


def _check_trail(props: dict[str, Any]) -> Iterator[str]:
    if not _customer_key(props.get("KMSKeyId")):
        yield "CloudTrailKMS"
    if not _true(props.get("EnableLogFileValidation")):
        yield "CloudTrailValidation"


def _check_policy(props: dict[str, Any]) -> Iterator[str]:
    if _allows_everyone(props.get("PolicyDocument")):
        yield "PublicPolicy"


_CHECKS: dict[str, Callable[[dict[str, Any]], Iterator[str]]] = {
    "AWS::S3::Bucket": _check_bucket,
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
