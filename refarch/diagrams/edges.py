"""The data path: edges between shown nodes, derived from references in the synthesized templates.

Each rule reads one kind of wiring and says which way the data flows:

- entry: a client reaches a WAF-protected resource through the WAF, else the API / CDN / public
  load balancer directly; an upload reaches a bucket that emits events;
- API Gateway: a method's integration -> its VPC Link or function; a VPC Link -> its load balancer;
- load balancer -> listener -> target group -> the Auto Scaling group that registers in it;
- security groups: a group's ingress rule from another group connects the resources behind them
  (the service to its database, a function to an interface endpoint);
- EventBridge: the bucket a rule's pattern names -> the rule -> each target;
- event source mappings: stream or queue -> function, failed batches -> their destination;
- functions: the buckets, tables, topics, streams and queues named in their environment;
- custom resources that wire a stream into a database (Redshift streaming ingestion);
- a trail -> its bucket, a Glue table -> the bucket it describes;
- producers outside the diagram -> a stream nothing inside writes to.

State machines are in :mod:`refarch.diagrams.workflow`.
"""

from __future__ import annotations

from collections.abc import Callable

from refarch.diagrams.model import Architecture, Source
from refarch.testing.network_model import ResourceKey

#: ID of the node that stands for whoever calls the architecture from outside.
CLIENT = "client"

#: Kinds whose data a function's environment variables point at.
_DATA_KINDS = {"bucket", "table", "topic", "stream", "queue", "database", "secret"}

Rule = Callable[[Architecture, Source, dict[ResourceKey, str]], None]


def add_edges(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """Apply every rule, in data-path order."""
    for rule in RULES:
        rule(arch, source, node_ids)


def _of_type(source: Source, type_: str) -> list[ResourceKey]:
    return [key for key, resource in source.resources() if resource.get("Type") == type_]


def _ids(source: Source, node_ids: dict[ResourceKey, str], stack: str, value: object) -> list[str]:
    """The shown nodes ``value`` refers to (aliases resolved: an API stage is its API)."""
    found = []
    for key in source.referenced(stack, value):
        shown = node_ids.get(key)
        if shown and shown not in found:
            found.append(shown)
    return found


def entry_rule(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """client -> WAF -> protected resource; client -> unprotected APIs, CDNs and public load balancers."""
    protected: set[str] = set()
    for key in _of_type(source, "AWS::WAFv2::WebACLAssociation"):
        props = source.props(key)
        for waf in _ids(source, node_ids, key[0], props.get("WebACLArn")):
            arch.add_edge(CLIENT, waf, "HTTPS")
            for target in _ids(source, node_ids, key[0], props.get("ResourceArn")):
                arch.add_edge(waf, target, "allowed requests")
                protected.add(target)
    for key, shown in node_ids.items():
        props = source.props(key)
        kind = arch.nodes[shown].kind
        waf_refs = _ids(source, node_ids, key[0], props.get("DistributionConfig", {}).get("WebACLId"))
        for waf in waf_refs:
            arch.add_edge(CLIENT, waf, "HTTPS")
            arch.add_edge(waf, shown, "allowed requests")
        public_lb = kind == "lb" and props.get("Scheme") == "internet-facing"
        if (kind in ("api", "cdn") or public_lb) and shown not in protected and not waf_refs:
            arch.add_edge(CLIENT, shown, "HTTPS")


def upload_rule(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """client -> a bucket whose object events start work (EventBridge or notifications)."""
    for key in _of_type(source, "AWS::S3::Bucket"):
        notifications = source.props(key).get("NotificationConfiguration") or {}
        if key in node_ids and notifications:
            arch.add_edge(CLIENT, node_ids[key], "upload")


def api_rule(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """API -> VPC Link or function (method integrations); VPC Link -> load balancer."""
    for type_, api_prop in (("AWS::ApiGateway::Method", "RestApiId"), ("AWS::ApiGatewayV2::Integration", "ApiId")):
        for key in _of_type(source, type_):
            props = source.props(key)
            integration = props.get("Integration", props)
            for api in _ids(source, node_ids, key[0], props.get(api_prop)):
                for target in _ids(source, node_ids, key[0], integration.get("ConnectionId")):
                    arch.add_edge(api, target, "private integration")
                uri_targets = _ids(source, node_ids, key[0], integration.get("Uri", integration.get("IntegrationUri")))
                for target in uri_targets:
                    if arch.nodes[target].kind == "function":
                        arch.add_edge(api, target, "invoke")
    for type_, prop in (("AWS::ApiGateway::VpcLink", "TargetArns"), ("AWS::ApiGatewayV2::VpcLink", "SubnetIds")):
        for key in _of_type(source, type_):
            for target in _ids(source, node_ids, key[0], source.props(key).get(prop)):
                if key in node_ids and arch.nodes[target].kind == "lb":
                    arch.add_edge(node_ids[key], target, "PrivateLink")


def load_balancer_rule(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """load balancer -> (listener -> target group) -> the Auto Scaling groups registered in it."""
    registered: dict[ResourceKey, list[str]] = {}
    for key in _of_type(source, "AWS::AutoScaling::AutoScalingGroup"):
        for group in source.referenced(key[0], source.props(key).get("TargetGroupARNs")):
            registered.setdefault(group, []).append(node_ids[key])
    for key in _of_type(source, "AWS::ElasticLoadBalancingV2::Listener"):
        props = source.props(key)
        for lb in _ids(source, node_ids, key[0], props.get("LoadBalancerArn")):
            for group in source.referenced(key[0], props.get("DefaultActions")):
                port = source.props(group).get("Port")
                label = f"{props.get('Protocol', 'TCP')} {props.get('Port')} -> {port}"
                for target in registered.get(group, []):
                    arch.add_edge(lb, target, label)


def security_group_rule(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """Resources behind group A -> resources behind group B, when B admits A (ingress by group); the
    client -> a tier's group (or a load balancer's) that admits the whole internet."""
    behind: dict[ResourceKey, list[str]] = {}
    for key, shown in node_ids.items():
        placement = source.network.placements.get(key)
        groups = list(placement.security_groups or ()) if placement else []
        groups += [k for k in source.referenced(key[0], source.props(key)) if k in source.network.security_groups]
        groups += [key] if key in source.network.security_groups else []  # a tier's group drawn as itself
        for group in dict.fromkeys(groups):
            behind.setdefault(group, []).append(shown)
    ports: dict[tuple[str, str], list[str]] = {}
    for security_group in source.network.security_groups.values():
        for rule in security_group.ingress:
            text = f"{rule.ports[0]}" if rule.ports[0] == rule.ports[1] else f"{rule.ports[0]}-{rule.ports[1]}"
            if rule.group is not None:
                clients = behind.get(rule.group, [])
            elif rule.cidr is not None and rule.cidr.prefixlen == 0:
                clients = [CLIENT]
            else:
                continue
            for client in clients:
                for server in behind.get(rule.group_of, []):
                    public = client != CLIENT or arch.nodes[server].kind in ("sg", "lb")
                    if client != server and public:  # a group that admits itself (cluster members) is no path
                        ports.setdefault((client, server), []).append(text)
    for (client, server), listed in ports.items():
        arch.add_edge(client, server, "TCP " + ", ".join(dict.fromkeys(listed)))


def events_rule(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """The bucket a rule's pattern names -> the rule -> each of its targets."""
    for key in _of_type(source, "AWS::Events::Rule"):
        if key not in node_ids:
            continue
        props = source.props(key)
        pattern = props.get("EventPattern") or {}
        detail_type = ", ".join(pattern.get("detail-type", [])) or "events"
        for origin in _ids(source, node_ids, key[0], pattern):
            arch.add_edge(origin, node_ids[key], detail_type)
        for target in props.get("Targets", []):
            for shown in _ids(source, node_ids, key[0], target.get("Arn")):
                arch.add_edge(node_ids[key], shown, "start" if arch.nodes[shown].kind == "workflow" else "invoke")


def event_source_rule(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """stream or queue -> function (batches); function -> where failed batches go."""
    for key in _of_type(source, "AWS::Lambda::EventSourceMapping"):
        props = source.props(key)
        functions = _ids(source, node_ids, key[0], props.get("FunctionName"))
        for origin in _ids(source, node_ids, key[0], props.get("EventSourceArn")):
            for function in functions:
                arch.add_edge(origin, function, f"batches of {props.get('BatchSize', '')}".strip())
        for function in functions:
            for destination in _ids(source, node_ids, key[0], props.get("DestinationConfig")):
                arch.add_edge(function, destination, "failed batches")


def function_rule(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """function -> the data its environment names (by variable), and its dead-letter queue."""
    for key in _of_type(source, "AWS::Lambda::Function"):
        if key not in node_ids:
            continue
        props = source.props(key)
        for variable, value in sorted(((props.get("Environment") or {}).get("Variables") or {}).items()):
            for target in _ids(source, node_ids, key[0], value):
                if arch.nodes[target].kind in _DATA_KINDS:
                    arch.add_edge(node_ids[key], target, variable)
        for target in _ids(source, node_ids, key[0], props.get("DeadLetterConfig")):
            arch.add_edge(node_ids[key], target, "dead letters")


def ingestion_rule(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """A custom resource that names a stream and a database wires the one into the other."""
    for key, resource in source.resources():
        if not str(resource.get("Type", "")).startswith("Custom::") or key in node_ids:
            continue
        shown = _ids(source, node_ids, key[0], source.props(key))
        streams = [s for s in shown if arch.nodes[s].kind == "stream"]
        for database in (s for s in shown if arch.nodes[s].kind == "database"):
            for stream in streams:
                arch.add_edge(stream, database, "streaming ingestion")


def storage_rule(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """trail -> its bucket; Glue table -> the bucket it describes."""
    for type_, prop, label in (
        ("AWS::CloudTrail::Trail", "S3BucketName", "log files"),
        ("AWS::Glue::Table", "TableInput", "describes"),
    ):
        for key in _of_type(source, type_):
            if key in node_ids:
                for target in _ids(source, node_ids, key[0], source.props(key).get(prop)):
                    if arch.nodes[target].kind == "bucket":
                        arch.add_edge(node_ids[key], target, label)


def producer_rule(arch: Architecture, source: Source, node_ids: dict[ResourceKey, str]) -> None:
    """client -> a stream that nothing in the diagram writes to: its producers are outside."""
    for key in _of_type(source, "AWS::Kinesis::Stream"):
        shown = node_ids.get(key)
        if shown and not any(e.target == shown for e in arch.edges):
            arch.add_edge(CLIENT, shown, "put records")


#: In data-path order: the order edges are listed in, when nothing else decides.
RULES: list[Rule] = [
    entry_rule,
    upload_rule,
    api_rule,
    load_balancer_rule,
    security_group_rule,
    events_rule,
    event_source_rule,
    function_rule,
    ingestion_rule,
    storage_rule,
    producer_rule,
]

__all__ = ["CLIENT", "RULES", "add_edges"]
