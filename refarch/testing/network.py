"""Can A reach B on port P? An offline evaluator of a synthesized network, and the flow check.

It reads route tables, network ACLs and security groups from one or more synthesized templates
(see :mod:`refarch.testing.network_model`) and answers for TCP, from every source subnet (AZ)
to every destination subnet (AZ)::

    from refarch.testing import Network, from_stack

    network = Network.from_templates([from_stack(stack)])
    reach = network.can_reach("PrivateApiAutoScalingGroupASGFC4497AC", "PrivateApiDatabaseAFE7CFF5", 3306)
    assert reach.open, reach.explain()

The model, as AWS documents it:

- Security groups are stateful: the source's egress rules and the destination's ingress rules
  decide, by CIDR (covering the whole peer subnet) or by security group. A group created without
  ``SecurityGroupEgress`` gets EC2's allow-all egress rule, unless a separate
  ``AWS::EC2::SecurityGroupEgress`` is added to it (CloudFormation then removes that default);
  CDK's ``255.255.255.255/32`` marker is an inline rule that matches nothing.
- Network ACLs are stateless and apply only when a packet crosses a subnet boundary: the request
  leaves through the source subnet's outbound entries and enters through the destination's
  inbound ones, the reply (to ephemeral ports 1024-65535) the other way round. Entries are read
  in rule-number order and the first match decides, for the whole peer range and port range.
- Traffic to an address outside the VPC follows the source subnet's routes: through an internet
  gateway, or through a NAT gateway (whose own subnet's ACL then sees both directions).
- Traffic a VPC Link (PrivateLink) delivers to an NLB arrives from outside the VPC with the NLB's
  own private addresses as source; the NLB's security group sees it only when
  ``EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic`` is on.

What the model cannot decide (a CIDR that is not a literal, a security group it cannot resolve,
two VPCs) is reported as unknown, never assumed open or closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from refarch.testing.assembly import SynthesizedTemplate
from refarch.testing.network_model import (
    EPHEMERAL_PORTS,
    IPv4,
    NetworkModel,
    Placement,
    ResourceKey,
    Route,
    SecurityGroup,
    SgRule,
    Subnet,
    label,
    read_network,
)

#: The declaration kind constructs use for flows (see :mod:`refarch.contracts.flows`).
FLOW_KIND = "flow"

_INTERNET = IPv4("0.0.0.0/0")


@dataclass(frozen=True)
class Path:
    """One source subnet (or address range) to one destination subnet."""

    source: str
    destination: str
    blocked_by: tuple[str, ...] = ()
    """Why this path is closed: the security group or network ACL entry (or missing entry) that stops it."""
    unknown: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    """Deny entries that cut part of a wider peer range out (the rest of the range passes)."""
    allowed_by: tuple[str, ...] = ()
    """The security group rules and network ACL entries that let the traffic through, layer by layer."""

    @property
    def open(self) -> bool:
        return not self.blocked_by and not self.unknown


@dataclass(frozen=True)
class Reach:
    """The answer of :meth:`Network.can_reach`: every path from source to destination."""

    source: str
    destination: str
    port: int
    paths: tuple[Path, ...]
    unknown: tuple[str, ...] = ()
    """What the evaluator could not decide, for the flow as a whole."""

    @property
    def open(self) -> bool:
        """Every path is open (and there is at least one)."""
        return bool(self.paths) and not self.unknown and all(p.open for p in self.paths)

    @property
    def closed(self) -> bool:
        """Every path is blocked (and nothing is unknown)."""
        return bool(self.paths) and not self.unknown and all(p.blocked_by and not p.unknown for p in self.paths)

    def explain(self, limit: int = 6) -> str:
        """One line per blocked or undecided path, at most ``limit`` of them."""
        head = f"{self.source} -> {self.destination} on TCP {self.port}"
        lines = [f"unknown: {u}" for u in self.unknown]
        for path in self.paths:
            for reason in (*path.blocked_by, *path.unknown):
                lines.append(f"{path.source} -> {path.destination}: {reason}")
        if not lines:
            state = "open on every path" if self.open else "no path"
            return f"{head}: {state} ({len(self.paths)} paths)"
        shown = lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else [])
        return head + ":\n  " + "\n  ".join(shown)


@dataclass(frozen=True)
class _Side:
    """One end of a flow: where it sits and what it presents to security groups."""

    name: str
    subnets: tuple[Subnet, ...] = ()
    external: tuple[IPv4, ...] = ()
    """Address ranges outside any subnet of the model (the internet, a VPC Link's NLB addresses)."""
    security_groups: tuple[ResourceKey, ...] | None = None
    """None: not restricted by a security group (a host with any group, an NLB without one)."""
    internet: bool = False
    privatelink: bool = False
    enforce_sg: bool = True
    service: str | None = None
    """An AWS service reached at its public addresses (a gateway endpoint may route it)."""
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlowFinding:
    """One thing a deploy check found, naming the construct that declared it and what is wrong."""

    check: str
    stack: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.stack} {self.path}: {self.message}"


@dataclass
class Network:
    """The network of one or more synthesized stacks (a network in one stack used by another works:
    exports and imports are followed)."""

    model: NetworkModel
    templates: dict[str, SynthesizedTemplate] = field(default_factory=dict)

    @classmethod
    def from_templates(cls, templates: Sequence[SynthesizedTemplate] | SynthesizedTemplate) -> Network:
        if isinstance(templates, SynthesizedTemplate):
            templates = [templates]
        return cls(read_network(templates), {t.name: t for t in templates})

    # -- the question -----------------------------------------------------------------------

    def can_reach(self, source: Any, destination: Any, port: int, *, stack: str | None = None) -> Reach:
        """Whether TCP ``port`` of ``destination`` is reachable from ``source``, path by path.

        ``source`` and ``destination`` are each: a logical ID (or ``"Stack/LogicalId"``) of a resource
        in a VPC (function, instance, database, Redshift, Auto Scaling group, load balancer, interface
        endpoint, NAT gateway); ``"tier:<Name>"`` for any host in the subnets of that subnet group (no
        security group of its own limits it); a CIDR (``"0.0.0.0/0"`` is the internet); or
        ``"vpc-link:<NLB logical ID>"`` for what a VPC Link (PrivateLink) delivers to that NLB.
        Declarations (:mod:`refarch.contracts.flows`) pass the same as dicts. ``stack`` says which
        template a bare logical ID belongs to when several are loaded.
        """
        src = self._side(source, stack)
        dst = self._side(destination, stack)
        unknown = [*src.unknown, *dst.unknown]
        paths: list[Path] = []
        if not unknown:
            if not dst.subnets:
                paths = [self._to_outside(s, src, dst, port) for s in src.subnets]
                if not src.subnets:
                    unknown.append("neither end is in a subnet of the synthesized network")
            else:
                for d in dst.subnets:
                    if src.subnets:
                        paths.extend(self._between(s, d, src, dst, port) for s in src.subnets)
                    else:
                        paths.extend(self._from_outside(r, d, src, dst, port) for r in src.external)
        return Reach(src.name, dst.name, port, tuple(paths), tuple(unknown))

    # -- paths ------------------------------------------------------------------------------

    def _between(self, s: Subnet, d: Subnet, src: _Side, dst: _Side, port: int) -> Path:
        blocked: list[str] = []
        unknown: list[str] = []
        exceptions: list[str] = []
        allowed: list[str] = []
        if s.cidr is None or d.cidr is None:
            return Path(_subnet_label(s), _subnet_label(d), unknown=("a subnet CIDR is not a literal",))
        if s.vpc != d.vpc:
            unknown.append(f"{label(s.key)} and {label(d.key)} are in different VPCs (peering is not modeled)")
        self._check_egress(src, dst, d.cidr, port, blocked, unknown, allowed)
        if s.key != d.key:
            checks = (
                (s, True, d.cidr, (port, port)),
                (d, False, s.cidr, (port, port)),
                (d, True, s.cidr, EPHEMERAL_PORTS),
                (s, False, d.cidr, EPHEMERAL_PORTS),
            )
            for subnet, egress, peer, ports in checks:
                self._check_acl(subnet, egress, peer, ports, blocked, exceptions, allowed)
        self._check_ingress(src, dst, s.cidr, port, blocked, unknown, allowed)
        return Path(
            _subnet_label(s), _subnet_label(d), tuple(blocked), tuple(unknown), tuple(exceptions), tuple(allowed)
        )

    def _from_outside(self, r: IPv4, d: Subnet, src: _Side, dst: _Side, port: int) -> Path:
        blocked: list[str] = []
        unknown: list[str] = []
        exceptions: list[str] = []
        allowed: list[str] = []
        if d.cidr is None:
            return Path(str(r), _subnet_label(d), unknown=("the subnet CIDR is not a literal",))
        if src.internet:
            route = self._route(d, r)
            if route is None or route.target_type != "gateway":
                via = "no route" if route is None else f"a {route.target_type} route"
                blocked.append(f"{label(d.key)} answers {r} through {via}, not an internet gateway")
        self._check_acl(d, False, r, (port, port), blocked, exceptions, allowed)
        self._check_acl(d, True, r, EPHEMERAL_PORTS, blocked, exceptions, allowed)
        if not (src.privatelink and not dst.enforce_sg):
            self._check_ingress(src, dst, r, port, blocked, unknown, allowed)
        return Path(str(r), _subnet_label(d), tuple(blocked), tuple(unknown), tuple(exceptions), tuple(allowed))

    def _to_outside(self, s: Subnet, src: _Side, dst: _Side, port: int) -> Path:
        blocked: list[str] = []
        unknown: list[str] = []
        exceptions: list[str] = []
        allowed: list[str] = []
        (r,) = dst.external
        if s.cidr is None:
            return Path(_subnet_label(s), str(r), unknown=("the subnet CIDR is not a literal",))
        self._check_egress(src, dst, r, port, blocked, unknown, allowed)
        self._check_acl(s, True, r, (port, port), blocked, exceptions, allowed)
        self._check_acl(s, False, r, EPHEMERAL_PORTS, blocked, exceptions, allowed)
        if any(r.subnet_of(v) for v in self.model.vpc_cidrs.values()):
            return Path(_subnet_label(s), str(r), tuple(blocked), tuple(unknown), tuple(exceptions), tuple(allowed))
        route = self._route(s, r)
        if dst.service is not None and self._gateway_endpoint(s, dst.service):
            pass  # the gateway endpoint's prefix-list route carries it
        elif route is None:
            blocked.append(f"{label(s.key)} has no route to {r}")
        elif route.target_type == "nat":
            self._through_nat(s, route, r, port, blocked, unknown, exceptions, allowed)
        elif route.target_type != "gateway":
            unknown.append(f"{label(s.key)} reaches {r} through a {route.target_type} route (not modeled)")
        return Path(_subnet_label(s), str(r), tuple(blocked), tuple(unknown), tuple(exceptions), tuple(allowed))

    def _through_nat(
        self,
        s: Subnet,
        route: Route,
        r: IPv4,
        port: int,
        blocked: list[str],
        unknown: list[str],
        exceptions: list[str],
        allowed: list[str],
    ) -> None:
        nat = self.model.placements.get(route.target) if route.target else None
        if nat is None or len(nat.subnets) != 1 or nat.subnets[0] not in self.model.subnets:
            unknown.append(f"cannot place the NAT gateway of {label(s.key)}")
            return
        n = self.model.subnets[nat.subnets[0]]
        assert s.cidr is not None
        if n.key != s.key:
            self._check_acl(n, False, s.cidr, (port, port), blocked, exceptions, allowed)
            self._check_acl(n, True, s.cidr, EPHEMERAL_PORTS, blocked, exceptions, allowed)
        self._check_acl(n, True, r, (port, port), blocked, exceptions, allowed)
        self._check_acl(n, False, r, EPHEMERAL_PORTS, blocked, exceptions, allowed)
        onward = self._route(n, r)
        if onward is None or onward.target_type != "gateway":
            blocked.append(f"the NAT gateway's subnet {label(n.key)} has no internet gateway route to {r}")

    # -- layers -----------------------------------------------------------------------------

    def _check_acl(
        self,
        subnet: Subnet,
        egress: bool,
        peer: IPv4,
        ports: tuple[int, int],
        blocked: list[str],
        exceptions: list[str],
        allowed: list[str],
    ) -> None:
        """First match wins, for every address of ``peer`` and every port of ``ports``. The entries that
        let (part of) the traffic through go to ``allowed``."""
        acl = self.model.subnet_acl.get(subnet.key)
        if acl is None:
            allowed.append(f"{label(subnet.key)} has the VPC's default network ACL (allows everything)")
            return
        remaining = [ports]
        direction, preposition = ("outbound", "to") if egress else ("inbound", "from")
        for entry in self.model.entries(acl, egress=egress):
            if not entry.matches_tcp or not entry.cidr.overlaps(peer):
                continue
            hit = _intersect(remaining, entry.ports)
            if not hit:
                continue
            if not peer.subnet_of(entry.cidr):
                if not entry.allow:
                    exceptions.append(f"{entry.describe()} denies part of {peer}")
                continue  # an allow for part of the range does not open all of it
            if not entry.allow:
                blocked.append(f"{entry.describe()} denies {direction} TCP {_ports(hit)} {preposition} {peer}")
                return
            allowed.append(entry.describe())
            remaining = _subtract(remaining, entry.ports)
            if not remaining:
                return
        blocked.append(
            f"no entry of network ACL {label(acl)} allows {direction} TCP {_ports(remaining)} "
            f"{preposition} {peer} in {label(subnet.key)} (the ACL's final deny applies)"
        )

    def _check_egress(
        self,
        src: _Side,
        dst: _Side,
        dst_range: IPv4,
        port: int,
        blocked: list[str],
        unknown: list[str],
        allowed: list[str],
    ) -> None:
        """The source's groups must let TCP ``port`` out to the destination (by CIDR or by its group)."""
        if src.security_groups is None:
            return
        groups = [self.model.security_groups.get(k, SecurityGroup(k)) for k in src.security_groups]
        defaults = [group for group in groups if group.default_egress]
        if defaults:
            allowed.append(f"{label(defaults[0].key)} (EC2's default allow-all egress rule)")
            return
        rules = [rule for group in groups for rule in group.egress]
        if self._rules_admit(rules, dst_range, dst, port, unknown, allowed):
            return
        names = ", ".join(label(k) for k in src.security_groups) or "(none)"
        blocked.append(f"no egress rule of security group(s) {names} allows TCP {port} to {dst.name} ({dst_range})")

    def _check_ingress(
        self,
        src: _Side,
        dst: _Side,
        src_range: IPv4,
        port: int,
        blocked: list[str],
        unknown: list[str],
        allowed: list[str],
    ) -> None:
        """The destination's groups must let TCP ``port`` in from the source (by CIDR or by its group)."""
        if dst.security_groups is None:
            return
        rules = [
            rule for k in dst.security_groups for rule in self.model.security_groups.get(k, SecurityGroup(k)).ingress
        ]
        if self._rules_admit(rules, src_range, src, port, unknown, allowed):
            return
        names = ", ".join(label(k) for k in dst.security_groups) or "(none)"
        blocked.append(f"no ingress rule of security group(s) {names} allows TCP {port} from {src.name} ({src_range})")

    @staticmethod
    def _rules_admit(
        rules: Sequence[SgRule], peer_range: IPv4, peer: _Side, port: int, unknown: list[str], allowed: list[str]
    ) -> bool:
        """Whether one of ``rules`` admits TCP ``port`` for the whole ``peer_range`` or the peer's groups
        (the rule that does goes to ``allowed``). Rules it cannot decide go to ``unknown`` (and then the
        answer is "admitted", never "blocked")."""
        undecided = []
        for rule in rules:
            if not rule.matches_tcp or not rule.ports[0] <= port <= rule.ports[1]:
                continue
            admitted = rule.cidr is not None and peer_range.subnet_of(rule.cidr)
            admitted |= (
                rule.group is not None and bool(peer.security_groups) and rule.group in (peer.security_groups or ())
            )
            if admitted:
                allowed.append(rule.describe())
                return True
            if rule.prefix_list is not None and peer.service in ("s3", "dynamodb"):
                undecided.append(f"{label(rule.key)}: prefix list {rule.prefix_list} (not resolved offline)")
            elif rule.unresolved:
                undecided.append(f"{label(rule.key)}: {rule.unresolved}")
        unknown.extend(undecided)
        return bool(undecided)

    def _gateway_endpoint(self, subnet: Subnet, service: str) -> bool:
        return any(
            r.target_type == "endpoint" and r.target and self.model.endpoint_services.get(r.target) == service
            for r in self.model.subnet_routes.get(subnet.key, [])
        )

    def _route(self, subnet: Subnet, destination: IPv4) -> Route | None:
        """Longest-prefix match among the subnet's routes (the VPC's local route is implied)."""
        candidates = [r for r in self.model.subnet_routes.get(subnet.key, []) if destination.subnet_of(r.destination)]
        return max(candidates, key=lambda r: r.destination.prefixlen, default=None)

    # -- naming the ends --------------------------------------------------------------------

    def _side(self, value: Any, stack: str | None) -> _Side:
        if isinstance(value, Mapping):
            return self._side_from_declaration(value, stack)
        text = str(value)
        if text.startswith("service:"):
            return self._service(text.removeprefix("service:"))
        if text.startswith("tier:"):
            return self._tier(text.removeprefix("tier:"))
        if text.startswith("vpc-link:"):
            return self._vpc_link(self._key(text.removeprefix("vpc-link:"), stack), text)
        if "/" in text and text[0].isdigit():
            return self._cidr(text)
        key = self._key(text, stack)
        if key is None:
            return _Side(text, unknown=(f"no resource {text!r} in the synthesized templates",))
        return self._resource(key)

    def _side_from_declaration(self, data: Mapping[str, Any], stack: str | None) -> _Side:
        if "service" in data:
            return self._service(str(data["service"]))
        if "cidr" in data:
            return self._cidr(str(data["cidr"]))
        if "vpc_link" in data:
            return self._vpc_link(self._ref(data["vpc_link"], stack), f"VPC Link into {data['vpc_link']}")
        if "resource" in data:
            key = self._ref(data["resource"], stack)
            if key is None:
                return _Side(str(data["resource"]), unknown=(f"cannot resolve {data['resource']!r}",))
            return self._resource(key)
        subnets, missing = [], []
        for ref in data.get("subnets", []):
            key = self._ref(ref, stack)
            if key is None or key not in self.model.subnets:
                missing.append(f"subnet {ref!r}")
            else:
                subnets.append(self.model.subnets[key])
        groups = None
        if data.get("security_groups") is not None:
            groups = []
            for ref in data["security_groups"]:
                key = self._ref(ref, stack)
                if key is None:
                    missing.append(f"security group {ref!r}")
                else:
                    groups.append(key)
        name = str(data.get("name", "subnets"))
        unknown = tuple(f"{name}: cannot resolve {m}" for m in missing)
        if not subnets and not missing:
            unknown += (f"{name}: no subnets",)
        return _Side(
            name, tuple(subnets), security_groups=tuple(groups) if groups is not None else None, unknown=unknown
        )

    def _resource(self, key: ResourceKey) -> _Side:
        placement = self.model.placements.get(key)
        if placement is None:
            return _Side(label(key), unknown=(f"{label(key)} ({self.model.types.get(key)}) is not placed in subnets",))
        subnets = [self.model.subnets[k] for k in placement.subnets if k in self.model.subnets]
        unknown = tuple(f"{label(key)}: cannot resolve {m}" for m in placement.unresolved)
        if len(subnets) != len(placement.subnets):
            unknown += (f"{label(key)}: a subnet is outside the synthesized templates",)
        return _Side(
            label(key),
            tuple(subnets),
            security_groups=placement.security_groups,
            enforce_sg=placement.privatelink_enforces_sg,
            unknown=unknown,
        )

    def _service(self, name: str) -> _Side:
        """An AWS service: its interface endpoint when the network has one (private DNS sends the calls
        there), else its public addresses, reached through the routes (a gateway endpoint for S3 and
        DynamoDB, a NAT or internet gateway otherwise)."""
        interfaces = [
            k
            for k, service in self.model.endpoint_services.items()
            if service == name and k in self.model.placements and self.model.placements[k].subnets
        ]
        if len(interfaces) > 1:
            return _Side(f"service {name}", unknown=(f"several interface endpoints serve {name}",))
        if interfaces:
            side = self._resource(interfaces[0])
            return _Side(f"service {name} ({side.name})", side.subnets, security_groups=side.security_groups)
        return _Side(f"service {name}", external=(_INTERNET,), internet=True, service=name)

    def _tier(self, name: str) -> _Side:
        subnets = tuple(s for s in self.model.subnets.values() if s.group == name)
        unknown = () if subnets else (f"no subnet is tagged aws-cdk:subnet-name={name}",)
        return _Side(f"tier {name}", subnets, unknown=unknown)

    def _cidr(self, text: str) -> _Side:
        try:
            network = IPv4(text, strict=False)
        except ValueError:
            return _Side(text, unknown=(f"{text!r} is not an IPv4 CIDR",))
        inside = any(network.subnet_of(v) for v in self.model.vpc_cidrs.values())
        return _Side(text, external=(network,), internet=not inside)

    def _vpc_link(self, nlb: ResourceKey | None, text: str) -> _Side:
        placement = self.model.placements.get(nlb) if nlb else None
        if placement is None or placement.type != "AWS::ElasticLoadBalancingV2::LoadBalancer":
            return _Side(text, unknown=(f"{text}: not a load balancer of the synthesized templates",))
        cidrs = [self.model.subnets[k].cidr for k in placement.subnets if k in self.model.subnets]
        if not cidrs or any(c is None for c in cidrs):
            return _Side(text, unknown=(f"{text}: the load balancer's subnet CIDRs are not literals",))
        # PrivateLink delivers the traffic from the NLB's own private addresses, one per subnet.
        return _Side(f"VPC Link into {label(placement.key)}", external=tuple(c for c in cidrs if c), privatelink=True)

    def _key(self, text: str | None, stack: str | None) -> ResourceKey | None:
        if text is None:
            return None
        if "/" in text:
            stack_name, logical_id = text.split("/", 1)
            return (stack_name, logical_id) if (stack_name, logical_id) in self.model.types else None
        if stack is not None and (stack, text) in self.model.types:
            return (stack, text)
        owners = [k for k in self.model.types if k[1] == text]
        return owners[0] if len(owners) == 1 else None

    def _ref(self, value: Any, stack: str | None) -> ResourceKey | None:
        """A declaration's reference (``Ref``, ``Fn::GetAtt``, a cross-stack output) or a logical ID."""
        if isinstance(value, Mapping):
            key: ResourceKey | None = self.model.references(stack or "", dict(value))
            return key
        return self._key(str(value), stack)


def check_flows(templates: Sequence[SynthesizedTemplate]) -> list[FlowFinding]:
    """Hold every flow the constructs of ``templates`` declared to the synthesized network.

    A required flow must be open on every path (every source AZ to every destination AZ); a
    forbidden one must be closed on every path. Undecidable flows are findings too.
    """
    network = Network.from_templates(templates)
    findings = []
    for template in templates:
        for declaration in template.declarations(FLOW_KIND):
            data = declaration.data
            reach = network.can_reach(data["source"], data["destination"], int(data["port"]), stack=template.name)
            expected_open = data.get("expect", "open") == "open"
            if reach.unknown or any(p.unknown for p in reach.paths):
                problem = "cannot be decided"
            elif expected_open and not reach.open:
                problem = "must be open but is closed"
            elif not expected_open and not reach.closed:
                problem = "must be closed but is open"
            else:
                continue
            opened = [f"{p.source} -> {p.destination}" for p in reach.paths if p.open]
            detail = (
                reach.explain()
                if expected_open or problem != "must be closed but is open"
                else (f"{reach.source} -> {reach.destination} on TCP {reach.port} is open on: " + "; ".join(opened[:6]))
            )
            findings.append(
                FlowFinding(
                    "network-flow",
                    template.name,
                    declaration.path,
                    f"flow {problem} ({data.get('reason', 'no reason given')}): {detail}",
                )
            )
    return findings


def _subnet_label(subnet: Subnet) -> str:
    return f"{subnet.key[1]} ({subnet.az})"


def _ports(ranges: Sequence[tuple[int, int]]) -> str:
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges)


def _intersect(ranges: Sequence[tuple[int, int]], other: tuple[int, int]) -> list[tuple[int, int]]:
    return [(max(a, other[0]), min(b, other[1])) for a, b in ranges if max(a, other[0]) <= min(b, other[1])]


def _subtract(ranges: Sequence[tuple[int, int]], other: tuple[int, int]) -> list[tuple[int, int]]:
    result = []
    for a, b in ranges:
        if other[1] < a or other[0] > b:
            result.append((a, b))
            continue
        if a < other[0]:
            result.append((a, other[0] - 1))
        if b > other[1]:
            result.append((other[1] + 1, b))
    return result


__all__ = ["FLOW_KIND", "FlowFinding", "Network", "Path", "Placement", "Reach", "check_flows"]
