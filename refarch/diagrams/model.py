"""What a diagram shows, read from synthesized templates: nodes, the groups they sit in, and edges.

Everything here is read from the synthesized output (the template and the construct paths in the
cloud assembly), never from the constructs, so a diagram shows what CloudFormation would deploy and
works on any app, built with refarch or not.

- Nodes are the resources a reader cares about (:data:`NODE_TYPES`): APIs, load balancers,
  compute, databases, functions, streams, buckets, tables, topics, workflows, endpoints. IAM,
  KMS, alarms, log groups and the like are left out. A few resources stand for a shown one
  (an API stage for its API, a database instance for its cluster): see :mod:`refarch.diagrams.edges`.
- Groups: the VPC, its tiers (the subnet groups, tagged ``aws-cdk:subnet-name``: web / app / db
  for a :class:`~refarch.ThreeTierVpc`), one subnet node per AZ inside each tier, and a state
  machine's states inside the state machine.
- Edges are the data path, derived from references in the template
  (:mod:`refarch.diagrams.edges` and :mod:`refarch.diagrams.workflow`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from refarch.testing.assembly import SynthesizedTemplate
from refarch.testing.network_model import NetworkModel, ResourceKey, read_network

#: CloudFormation type -> (kind, what a reader calls it). Only these become nodes.
NODE_TYPES: dict[str, tuple[str, str]] = {
    "AWS::WAFv2::WebACL": ("waf", "WAF web ACL"),
    "AWS::CloudFront::Distribution": ("cdn", "CloudFront distribution"),
    "AWS::ApiGateway::RestApi": ("api", "API Gateway REST API"),
    "AWS::ApiGatewayV2::Api": ("api", "API Gateway HTTP API"),
    "AWS::ApiGateway::VpcLink": ("vpclink", "VPC Link"),
    "AWS::ApiGatewayV2::VpcLink": ("vpclink", "VPC Link"),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": ("lb", "Load balancer"),
    "AWS::AutoScaling::AutoScalingGroup": ("compute", "EC2 Auto Scaling group"),
    "AWS::EC2::Instance": ("compute", "EC2 instance"),
    "AWS::ECS::Service": ("compute", "ECS service"),
    "AWS::Lambda::Function": ("function", "Lambda function"),
    "AWS::Serverless::Application": ("function", "Serverless application"),
    "AWS::StepFunctions::StateMachine": ("workflow", "Step Functions state machine"),
    "AWS::Events::Rule": ("events", "EventBridge rule"),
    "AWS::Kinesis::Stream": ("stream", "Kinesis data stream"),
    "AWS::KinesisFirehose::DeliveryStream": ("stream", "Firehose stream"),
    "AWS::SQS::Queue": ("queue", "SQS queue"),
    "AWS::SNS::Topic": ("topic", "SNS topic"),
    "AWS::S3::Bucket": ("bucket", "S3 bucket"),
    "AWS::DynamoDB::Table": ("table", "DynamoDB table"),
    "AWS::DynamoDB::GlobalTable": ("table", "DynamoDB global table"),
    "AWS::RDS::DBInstance": ("database", "RDS database"),
    "AWS::RDS::DBCluster": ("database", "Aurora cluster"),
    "AWS::RedshiftServerless::Workgroup": ("database", "Redshift Serverless"),
    "AWS::Redshift::Cluster": ("database", "Redshift cluster"),
    "AWS::Glue::Table": ("catalog", "Glue table"),
    "AWS::SecretsManager::Secret": ("secret", "Secrets Manager secret"),
    "AWS::CloudTrail::Trail": ("audit", "CloudTrail trail"),
    "AWS::EC2::VPCEndpoint": ("endpoint", "VPC endpoint"),
    "AWS::EC2::NatGateway": ("network", "NAT gateway"),
    "AWS::EC2::InternetGateway": ("network", "Internet gateway"),
}

#: Construct path segments of CDK's own helpers (custom resource providers, log retention): plumbing.
_PLUMBING_PATH = re.compile(
    r"(^|/)(Custom::|LogRetention|AWS679f53fac002430cb0da5b7982bd2287|BucketNotificationsHandler"
    r"|framework-on|framework-is|waiter-state-machine)"
)
#: Construct IDs that say nothing: the L1 under an L2, CDK's default child.
_NOISE_SEGMENTS = {"Resource", "Default"}
#: The hash CDK appends to logical IDs.
_LOGICAL_ID_HASH = re.compile(r"[0-9A-F]{8}$")


@dataclass(frozen=True)
class Node:
    id: str
    """Unique in the diagram, safe as a Mermaid and SVG identifier."""
    kind: str
    """``api``, ``lb``, ``function``, ... (:data:`NODE_TYPES`), or ``client``, ``subnet``, ``state``."""
    title: str
    """What it is: "Lambda function", "VPC Link"."""
    name: str
    """Which one: the construct ID (or state name)."""
    group: str | None = None
    """The innermost :class:`Group` it sits in."""
    key: ResourceKey | None = None
    """(stack, logical ID) of the resource it stands for."""


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    parent: str | None = None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""


@dataclass
class Architecture:
    """The nodes, groups and edges of one diagram, in a stable order."""

    name: str
    nodes: dict[str, Node] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def add_edge(self, source: str, target: str, label: str = "") -> None:
        """Add an edge between two shown nodes (a loop too: a retried task); a repeated pair keeps its first label."""
        if source not in self.nodes or target not in self.nodes:
            return
        if any(e.source == source and e.target == target for e in self.edges):
            return
        self.edges.append(Edge(source, target, label))

    def node_of(self, key: ResourceKey | None) -> Node | None:
        return next((n for n in self.nodes.values() if key is not None and n.key == key), None)

    def successors(self, node_id: str) -> list[str]:
        return [e.target for e in self.edges if e.source == node_id]

    def has_path(self, *node_ids: str) -> bool:
        """Whether the edges lead through ``node_ids`` in this order, each to the next directly."""
        return all(b in self.successors(a) for a, b in zip(node_ids, node_ids[1:], strict=False))

    def find(self, kind: str, name: str | None = None) -> list[Node]:
        """The nodes of ``kind`` (and, if given, whose name contains ``name``)."""
        return [n for n in self.nodes.values() if n.kind == kind and (name is None or name in n.name)]


@dataclass
class Source:
    """The synthesized templates a diagram is drawn from, with what every reader needs of them."""

    templates: Sequence[SynthesizedTemplate]
    network: NetworkModel
    paths: dict[ResourceKey, str]

    @classmethod
    def read(cls, templates: Sequence[SynthesizedTemplate]) -> Source:
        return cls(templates, read_network(templates), construct_paths(templates))

    def resources(self) -> Iterator[tuple[ResourceKey, dict[str, Any]]]:
        for template in self.templates:
            for logical_id, resource in template.resources.items():
                yield (template.name, logical_id), resource

    def props(self, key: ResourceKey) -> dict[str, Any]:
        props: dict[str, Any] = self.resource(key).get("Properties") or {}
        return props

    def resource(self, key: ResourceKey) -> dict[str, Any]:
        for template in self.templates:
            if template.name == key[0]:
                found: dict[str, Any] = template.resources.get(key[1], {})
                return found
        return {}

    def type_of(self, key: ResourceKey) -> str:
        return str(self.resource(key).get("Type", ""))

    def key(self, stack: str, value: Any) -> ResourceKey | None:
        """The resource a ``Ref`` / ``Fn::GetAtt`` / cross-stack import names."""
        found: ResourceKey | None = self.network.references(stack, value)
        return found

    def referenced(self, stack: str, value: Any) -> list[ResourceKey]:
        """Every resource ``value`` refers to, anywhere inside it, in document order."""
        found: list[ResourceKey] = []
        for ref in _references(value):
            key = self.key(stack, ref)
            if key is not None and key not in found:
                found.append(key)
        return found


def construct_paths(templates: Sequence[SynthesizedTemplate]) -> dict[ResourceKey, str]:
    """(stack, logical ID) -> construct path, from ``Metadata.aws:cdk:path`` in the template, else
    from the assembly's ``aws:cdk:logicalId`` metadata (templates carry paths only under the CLI)."""
    paths: dict[ResourceKey, str] = {}
    for template in templates:
        for path, entries in template.metadata.items():
            for entry in entries:
                if entry.get("type") == "aws:cdk:logicalId":
                    paths[(template.name, str(entry.get("data")))] = path.lstrip("/")
        for logical_id, resource in template.resources.items():
            in_template = (resource.get("Metadata") or {}).get("aws:cdk:path")
            if isinstance(in_template, str):
                paths[(template.name, logical_id)] = in_template
    return paths


def is_plumbing(path: str | None) -> bool:
    """A resource CDK adds for its own helpers (custom resource providers, log retention)."""
    return path is not None and bool(_PLUMBING_PATH.search(path))


def display_name(key: ResourceKey, path: str | None, segments: int = 1) -> str:
    """The construct ID a reader knows the resource by: the last meaningful segment(s) of its path
    (``Images/ValidateFunction/Resource`` -> ``ValidateFunction``), else the logical ID unhashed."""
    if path:
        meaningful = [s for s in path.split("/")[1:] if s not in _NOISE_SEGMENTS]
        if meaningful:
            return "/".join(meaningful[-segments:])
    return _LOGICAL_ID_HASH.sub("", key[1]) or key[1]


def node_id(key: ResourceKey, several_stacks: bool) -> str:
    """A Mermaid/SVG-safe identifier: the logical ID, prefixed with the stack when there are several."""
    raw = f"{key[0]}_{key[1]}" if several_stacks else key[1]
    return re.sub(r"[^A-Za-z0-9_]", "_", raw)


def _references(value: Any) -> Iterator[dict[str, Any]]:
    """Every ``Ref`` / ``Fn::GetAtt`` / ``Fn::ImportValue`` inside ``value``."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt", "Fn::ImportValue", "Fn::GetStackOutput"):
            yield value
            return
        for inner in value.values():
            yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


__all__ = [
    "NODE_TYPES",
    "Architecture",
    "Edge",
    "Group",
    "Node",
    "Source",
    "construct_paths",
    "display_name",
    "is_plumbing",
    "node_id",
]
