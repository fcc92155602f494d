"""Resolve CloudFormation expressions of a synthesized template to symbolic strings.

The permission checks compare ARNs written in policies (``{"Fn::Join": ["", [{"Fn::GetAtt":
["Bucket", "Arn"]}, "/lake/*"]]}``) with the ARNs of the resources a principal must use. Nothing is
deployed, so names and IDs CloudFormation would generate stay symbolic: a resource without an
explicit name is called ``${<logical ID>}``, pseudo parameters ``${AWS::Region}`` and so on.
Each resource type the reference stacks use has its ARN shape modelled (:data:`ARN_SHAPES`), so
``Ref`` of a bucket (its name) joined into ``arn:${AWS::Partition}:s3:::<name>/*`` and
``Fn::GetAtt`` of its ``Arn`` describe the same bucket. A value that cannot be resolved (``Fn::If``,
an imported value) becomes ``${?<what>}``: it matches only a wildcard, never a literal.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_ARN = "arn:${AWS::Partition}"
_HERE = "${AWS::Region}:${AWS::AccountId}"


@dataclass(frozen=True)
class ArnShape:
    """How a resource type's ``Ref`` and attributes look; ``{name}`` is its (given or symbolic) name."""

    name_property: str | None
    ref: str
    attributes: dict[str, str]


#: Resource type -> the shape of its Ref value and of the attributes policies use.
#: Shapes follow the Service Authorization Reference's resource ARN formats.
ARN_SHAPES: dict[str, ArnShape] = {
    "AWS::S3::Bucket": ArnShape("BucketName", "{name}", {"Arn": "arn:${AWS::Partition}:s3:::{name}"}),
    "AWS::SQS::Queue": ArnShape(
        "QueueName",
        "https://sqs.${AWS::Region}.${AWS::URLSuffix}/${AWS::AccountId}/{name}",
        {"Arn": f"{_ARN}:sqs:{_HERE}:{{name}}", "QueueName": "{name}"},
    ),
    "AWS::SNS::Topic": ArnShape(
        "TopicName", f"{_ARN}:sns:{_HERE}:{{name}}", {"TopicArn": f"{_ARN}:sns:{_HERE}:{{name}}", "TopicName": "{name}"}
    ),
    "AWS::KMS::Key": ArnShape(None, "{name}", {"Arn": f"{_ARN}:kms:{_HERE}:key/{{name}}", "KeyId": "{name}"}),
    "AWS::Kinesis::Stream": ArnShape("Name", "{name}", {"Arn": f"{_ARN}:kinesis:{_HERE}:stream/{{name}}"}),
    "AWS::Lambda::Function": ArnShape("FunctionName", "{name}", {"Arn": f"{_ARN}:lambda:{_HERE}:function:{{name}}"}),
    "AWS::Logs::LogGroup": ArnShape("LogGroupName", "{name}", {"Arn": f"{_ARN}:logs:{_HERE}:log-group:{{name}}:*"}),
    # A secret's ARN ends in six random characters; the symbolic ones stand for them.
    "AWS::SecretsManager::Secret": ArnShape(
        "Name",
        f"{_ARN}:secretsmanager:{_HERE}:secret:{{name}}-Rnd6Ch",
        {"Id": f"{_ARN}:secretsmanager:{_HERE}:secret:{{name}}-Rnd6Ch"},
    ),
    "AWS::StepFunctions::StateMachine": ArnShape(
        "StateMachineName",
        f"{_ARN}:states:{_HERE}:stateMachine:{{name}}",
        {"Arn": f"{_ARN}:states:{_HERE}:stateMachine:{{name}}", "Name": "{name}"},
    ),
    "AWS::DynamoDB::Table": ArnShape(
        "TableName",
        "{name}",
        {
            "Arn": f"{_ARN}:dynamodb:{_HERE}:table/{{name}}",
            "StreamArn": f"{_ARN}:dynamodb:{_HERE}:table/{{name}}/stream/now",
        },
    ),
    "AWS::IAM::Role": ArnShape(
        "RoleName", "{name}", {"Arn": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/{name}"}
    ),
    "AWS::IAM::ManagedPolicy": ArnShape(
        "ManagedPolicyName", "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/{name}", {}
    ),
    "AWS::Events::Rule": ArnShape("Name", "{name}", {"Arn": f"{_ARN}:events:{_HERE}:rule/{{name}}"}),
    "AWS::CloudTrail::Trail": ArnShape("TrailName", "{name}", {"Arn": f"{_ARN}:cloudtrail:{_HERE}:trail/{{name}}"}),
    "AWS::CloudWatch::Alarm": ArnShape("AlarmName", "{name}", {"Arn": f"{_ARN}:cloudwatch:{_HERE}:alarm:{{name}}"}),
    "AWS::CloudWatch::CompositeAlarm": ArnShape(
        "AlarmName", "{name}", {"Arn": f"{_ARN}:cloudwatch:{_HERE}:alarm:{{name}}"}
    ),
    "AWS::RedshiftServerless::Workgroup": ArnShape(
        "WorkgroupName",
        "{name}",
        {
            "Workgroup.WorkgroupArn": f"{_ARN}:redshift-serverless:{_HERE}:workgroup/{{id}}",
            "Workgroup.WorkgroupName": "{name}",
        },
    ),
    "AWS::RedshiftServerless::Namespace": ArnShape(
        "NamespaceName",
        "{name}",
        {
            "Namespace.NamespaceArn": f"{_ARN}:redshift-serverless:{_HERE}:namespace/{{id}}",
            "Namespace.NamespaceName": "{name}",
        },
    ),
    "AWS::Glue::Database": ArnShape(None, "{name}", {}),
    "AWS::Athena::WorkGroup": ArnShape("Name", "{name}", {}),
}

_REGION_IN_TEXT = re.compile(
    r"(?:arn:[a-z-]+:[a-z0-9-]+:|\.)([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)(?::|\.amazonaws\.com)"
)
_ACCOUNT_IN_ARN = re.compile(r"arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):")


def partition_of(region: str) -> str:
    """The partition a region belongs to (``cn-north-1`` -> ``aws-cn``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def infer_environment(template: dict[str, Any]) -> tuple[str | None, str | None]:
    """The region and account a stack was synthesized for, when CDK wrote them as literals.

    A stack with a concrete ``env`` has them in the ARNs and service principals CDK builds; an
    environment-agnostic one has only ``AWS::Region``/``AWS::AccountId`` references. The
    ``aws-cdk-lib`` service principals of other regions would be ambiguous: only a single region
    found counts.
    """
    text = json.dumps(template.get("Resources", {}))
    regions = set(_REGION_IN_TEXT.findall(text))
    accounts = set(_ACCOUNT_IN_ARN.findall(text))
    return (regions.pop() if len(regions) == 1 else None, accounts.pop() if len(accounts) == 1 else None)


_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Resolver:
    """Turns template expressions into strings with symbolic parts (see the module docstring).

    ``region`` and ``account`` stand in for ``AWS::Region`` and ``AWS::AccountId``; leave them
    symbolic for an environment-agnostic stack, give the values of a concrete environment (where
    CDK writes literal regions into ARNs) so both spellings agree.
    """

    def __init__(self, template: dict[str, Any], *, region: str | None = None, account: str | None = None) -> None:
        self.resources: dict[str, dict[str, Any]] = template.get("Resources", {})
        self.pseudo = {
            # CDK writes the partition as a literal wherever it knows the region
            "AWS::Partition": partition_of(region) if region else "${AWS::Partition}",
            "AWS::Region": region or "${AWS::Region}",
            "AWS::AccountId": account or "${AWS::AccountId}",
            "AWS::URLSuffix": "${AWS::URLSuffix}",
            "AWS::StackName": "${AWS::StackName}",
            "AWS::StackId": "${AWS::StackId}",
            "AWS::NoValue": "",
        }
        self.partition = self.pseudo["AWS::Partition"]
        self.region = self.pseudo["AWS::Region"]
        self.account = self.pseudo["AWS::AccountId"]
        self._resolving: set[str] = set()

    # -- values ---------------------------------------------------------------------------

    def text(self, value: Any) -> str:
        """``value`` as one string (expressions resolved; a list or map that is no expression is unresolvable)."""
        resolved = self.resolve(value)
        return resolved if isinstance(resolved, str) else f"${{?{type(resolved).__name__}}}"

    def texts(self, value: Any) -> list[str]:
        """A policy field (one value or a list of them) as a list of strings."""
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        return [self.text(item) for item in items]

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function in ``value``, recursively."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        if len(value) == 1:
            (function, argument), *_ = value.items()
            if function == "Ref":
                return self.ref(str(argument))
            if function == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
                return self.get_att(logical_id, attribute)
            if function == "Fn::Join":
                separator, parts = argument
                return separator.join(self.text(p) for p in self.resolve(parts))
            if function == "Fn::Sub":
                return self._sub(argument)
            if function == "Fn::Select":
                index, items = argument
                items = self.resolve(items)
                return items[int(index)] if isinstance(items, list) and int(index) < len(items) else "${?Fn::Select}"
            if function.startswith("Fn::"):
                return f"${{?{function}}}"
        return {k: self.resolve(v) for k, v in value.items()}

    def ref(self, logical_id: str) -> str:
        if logical_id in self.pseudo:
            return self.pseudo[logical_id]
        shape = self._shape(logical_id)
        if shape is None:
            return f"${{{logical_id}}}"
        return self._fill(logical_id, shape.ref)

    def get_att(self, logical_id: str, attribute: str) -> str:
        shape = self._shape(logical_id)
        if shape is None or attribute not in shape.attributes:
            return f"${{{logical_id}.{attribute}}}"
        return self._fill(logical_id, shape.attributes[attribute])

    def name(self, logical_id: str) -> str:
        """The resource's physical name: the one its template gives, else ``${<logical ID>}``."""
        shape = self._shape(logical_id)
        given = (
            self.resources[logical_id].get("Properties", {}).get(shape.name_property)
            if shape and shape.name_property
            else None
        )
        if given is None or logical_id in self._resolving:
            return f"${{{logical_id}}}"
        self._resolving.add(logical_id)
        try:
            return self.text(given)
        finally:
            self._resolving.discard(logical_id)

    # -- logical IDs ----------------------------------------------------------------------

    def logical_id(self, value: Any) -> str | None:
        """The logical ID a ``Ref`` or ``Fn::GetAtt`` names (after resolving a ``Fn::Join`` of one), or None."""
        if isinstance(value, dict) and len(value) == 1:
            (function, argument), *_ = value.items()
            if function == "Ref" and argument in self.resources:
                return str(argument)
            if function == "Fn::GetAtt":
                logical_id = argument[0] if isinstance(argument, list) else str(argument).split(".", 1)[0]
                return logical_id if logical_id in self.resources else None
        if isinstance(value, str):
            return self.logical_id_of_arn(value)
        return None

    def logical_id_of_arn(self, text: str) -> str | None:
        """The resource of this template whose ``Ref`` or ``Arn``-like attribute resolves to ``text``."""
        for logical_id in self.resources:
            shape = self._shape(logical_id)
            if shape is None:
                continue
            candidates = [shape.ref, *shape.attributes.values()]
            if any(self._fill(logical_id, c) == text for c in candidates):
                return logical_id
        return None

    def arn(self, logical_id: str) -> str:
        """The resource's ARN (its ``Arn``-like attribute, or its Ref when that is the ARN)."""
        shape = self._shape(logical_id)
        if shape is None:
            return f"${{{logical_id}.Arn}}"
        for attribute, pattern in shape.attributes.items():
            if attribute.endswith("Arn") or attribute == "Id":
                return self._fill(logical_id, pattern).removesuffix(":*")
        return self._fill(logical_id, shape.ref)

    def type_of(self, logical_id: str | None) -> str | None:
        return None if logical_id is None else str(self.resources.get(logical_id, {}).get("Type", "")) or None

    def props(self, logical_id: str) -> dict[str, Any]:
        props: dict[str, Any] = self.resources[logical_id].get("Properties", {})
        return props

    def _shape(self, logical_id: str) -> ArnShape | None:
        resource = self.resources.get(logical_id)
        return None if resource is None else ARN_SHAPES.get(str(resource.get("Type")))

    def _fill(self, logical_id: str, pattern: str) -> str:
        filled = pattern.replace("{name}", self.name(logical_id)).replace("{id}", f"${{{logical_id}.Id}}")
        for pseudo in ("AWS::Partition", "AWS::Region", "AWS::AccountId"):
            filled = filled.replace(f"${{{pseudo}}}", self.pseudo[pseudo])
        return filled

    def _sub(self, argument: Any) -> str:
        template, variables = (argument, {}) if isinstance(argument, str) else argument

        def substitute(match: re.Match[str]) -> str:
            variable = match.group(1)
            if variable in variables:
                return self.text(variables[variable])
            if "." in variable and variable.split(".", 1)[0] in self.resources:
                return self.get_att(*variable.split(".", 1))
            return self.ref(variable)

        return _SUB_VARIABLE.sub(substitute, template)


__all__ = ["ARN_SHAPES", "ArnShape", "Resolver", "infer_environment", "partition_of"]
