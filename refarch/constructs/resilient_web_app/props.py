"""ResilientWebApp's enums and prop checks: every bad prop fails here, before anything is built."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53

from refarch.constructs._network_checks import check_network_port
from refarch.constructs._validation import (
    PropValidationError,
    check_duration_range,
    check_int_range,
    check_port,
    check_whole_range,
    is_token,
)
from refarch.constructs.three_tier_vpc import ThreeTierVpc

OWNER = "ResilientWebApp"

#: The cache's port: not Valkey's well-known 6379.
CACHE_PORT = 6380
CACHE_NODE_TYPE = "cache.t4g.small"
MAX_RECEIVE_COUNT = 5
_NODE_TYPE = re.compile(r"^cache\.[a-z0-9]+\.[a-z0-9]+$")

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_PATH = re.compile(r"^/[A-Za-z0-9._~/-]{0,1023}$")


class DataLayer(enum.Enum):
    """What holds the application's data."""

    #: Aurora PostgreSQL: a writer and a reader in different AZs (port 5432).
    AURORA_POSTGRESQL = "aurora-postgresql"
    #: Aurora MySQL: a writer and a reader in different AZs (port 3306).
    AURORA_MYSQL = "aurora-mysql"
    #: A DynamoDB table with point-in-time recovery (no database port, no db-tier traffic).
    DYNAMODB = "dynamodb"

    @property
    def default_port(self) -> int | None:
        return {"aurora-postgresql": 5432, "aurora-mysql": 3306}.get(self.value)


@dataclass(frozen=True)
class Capacity:
    """Instances of one Auto Scaling group."""

    minimum: int = 2
    maximum: int = 6
    desired: int | None = None


def check_capacity(prop: str, capacity: Capacity) -> None:
    """``1 <= minimum <= desired <= maximum <= 100``; a resilient layer keeps at least 2 (one per AZ)."""
    check_whole_range(OWNER, f"{prop}.minimum", capacity.minimum, minimum=2, maximum=100)
    check_whole_range(OWNER, f"{prop}.maximum", capacity.maximum, minimum=2, maximum=100)
    if capacity.maximum < capacity.minimum:
        raise PropValidationError(
            OWNER, f"{prop}.maximum", capacity.maximum, f"It must be at least minimum ({capacity.minimum})."
        )
    if capacity.desired is not None:
        check_whole_range(
            OWNER, f"{prop}.desired", capacity.desired, minimum=capacity.minimum, maximum=capacity.maximum
        )


def check_ports(
    network: ThreeTierVpc,
    *,
    front_port: int,
    internal_port: int,
    back_port: int,
    database_port: int | None,
    cache_port: int | None = None,
) -> None:
    """Each layer listens on its own port; the front port is the one the network opens web -> app."""
    check_port(OWNER, "front_port", front_port)
    check_port(OWNER, "internal_port", internal_port)
    check_port(OWNER, "back_port", back_port)
    if front_port != network.app_port:
        raise PropValidationError(
            OWNER,
            "front_port",
            front_port,
            f"The ThreeTierVpc {network.node.path!r} opens app_port={network.app_port} from the web tier to the "
            "app tier: give the front instances that port, or build the network with app_port=front_port.",
        )
    ports = {"front_port": front_port, "internal_port": internal_port, "back_port": back_port}
    if database_port is not None:
        check_port(OWNER, "database_port", database_port)
        ports["database_port"] = database_port
    if cache_port is not None:
        ports["cache_port"] = cache_port
    seen: dict[int, str] = {}
    for prop, port in ports.items():
        if port in seen:
            raise PropValidationError(OWNER, prop, port, f"It must differ from {seen[port]} ({port}).")
        seen[port] = prop
    if database_port is not None:
        check_network_port(OWNER, "database_port", database_port, network)


def check_optional_parts(
    *,
    cache: bool,
    cache_port: int | None,
    cache_node_type: str | None,
    work_queue: bool,
    work_queue_max_receive_count: int | None,
) -> None:
    """The cache's and the work queue's props, each only with its part turned on."""
    for prop, value, part, on in (
        ("cache_port", cache_port, "cache", cache),
        ("cache_node_type", cache_node_type, "cache", cache),
        ("work_queue_max_receive_count", work_queue_max_receive_count, "work_queue", work_queue),
    ):
        if value is not None and not on:
            raise PropValidationError(OWNER, prop, value, f"It only takes effect with {part}=True.")
    if cache_port is not None:
        check_port(OWNER, "cache_port", cache_port)
    if cache_node_type is not None and (not isinstance(cache_node_type, str) or not _NODE_TYPE.match(cache_node_type)):
        raise PropValidationError(
            OWNER, "cache_node_type", cache_node_type, "Allowed: an ElastiCache node type such as 'cache.t4g.small'."
        )
    if work_queue_max_receive_count is not None:
        check_whole_range(OWNER, "work_queue_max_receive_count", work_queue_max_receive_count, minimum=1, maximum=1000)


def check_network_azs(network: ThreeTierVpc) -> None:
    """Every layer is Multi-AZ: a network in one AZ cannot carry it."""
    azs = {s.availability_zone for s in network.db.subnets}
    if len(network.app.subnets) < 2 or len(azs) < 2:
        raise PropValidationError(
            OWNER,
            "network",
            network.node.path,
            f"It spans {len(network.app.subnets)} AZ(s); the load balancers, groups and the Multi-AZ data layer "
            "need at least 2: build the ThreeTierVpc with max_azs >= 2.",
        )


def check_scaling(*, cpu_target_percent: float, requests_per_target: int, health_check_grace: Duration) -> None:
    check_int_range(OWNER, "cpu_target_percent", cpu_target_percent, minimum=10, maximum=90)
    check_whole_range(OWNER, "requests_per_target", requests_per_target, minimum=1, maximum=100_000)
    check_duration_range(
        OWNER, "health_check_grace", health_check_grace, minimum=Duration.seconds(0), maximum=Duration.hours(2)
    )


def check_data(
    *,
    data_layer: DataLayer,
    reader_count: int,
    backup_retention: Duration,
    secret_rotation_interval: Duration,
) -> None:
    if not isinstance(data_layer, DataLayer):
        raise PropValidationError(OWNER, "data_layer", data_layer, f"Allowed: one of {[d.name for d in DataLayer]}.")
    check_whole_range(OWNER, "reader_count", reader_count, minimum=1, maximum=15)
    check_duration_range(
        OWNER, "backup_retention", backup_retention, minimum=Duration.days(1), maximum=Duration.days(35)
    )
    check_duration_range(
        OWNER,
        "secret_rotation_interval",
        secret_rotation_interval,
        minimum=Duration.days(1),
        maximum=Duration.days(1000),
    )
    for prop, value in (("backup_retention", backup_retention), ("secret_rotation_interval", secret_rotation_interval)):
        if not value.is_unresolved() and value.to_seconds() % 86_400:
            raise PropValidationError(OWNER, prop, value.to_human_string(), "Allowed: whole days.")


def check_health_check_path(path: str) -> None:
    if not isinstance(path, str) or not _PATH.match(path):
        raise PropValidationError(
            OWNER, "health_check_path", path, "Allowed: an absolute URL path such as '/health' (no query string)."
        )


def check_edge(
    stack: Stack,
    *,
    cloudfront: bool,
    domain_name: str | None,
    hosted_zone: route53.IHostedZone | None,
    edge_certificate: acm.ICertificate | None,
    failover: route53.Failover | None,
    alarm_cpu_percent: float,
    alarm_error_rate: float,
    alarm_response_time: Duration,
) -> None:
    """A domain needs its zone and an edge certificate; failover records need a domain."""
    if (domain_name is not None and not is_token(domain_name)) and (
        not isinstance(domain_name, str) or not _DOMAIN.match(domain_name)
    ):
        raise PropValidationError(
            OWNER, "domain_name", domain_name, "Allowed: a lowercase DNS name such as 'app.example.com'."
        )
    if domain_name is not None and hosted_zone is None:
        raise PropValidationError(
            OWNER, "hosted_zone", None, "A domain_name needs the Route 53 hosted zone that holds it."
        )
    if hosted_zone is not None and domain_name is None:
        raise PropValidationError(OWNER, "domain_name", None, "A hosted_zone is used only with a domain_name.")
    if edge_certificate is not None and (domain_name is None or not cloudfront):
        raise PropValidationError(
            OWNER,
            "edge_certificate",
            edge_certificate.node.path,
            "An edge certificate is used only by CloudFront with a domain_name: set both, or leave it unset.",
        )
    if domain_name is not None and cloudfront and edge_certificate is None and stack.region != "us-east-1":
        raise PropValidationError(
            OWNER,
            "edge_certificate",
            None,
            f"CloudFront takes certificates from us-east-1 only, and this stack's region is "
            f"{'unknown' if Token.is_unresolved(stack.region) else stack.region}: pass a certificate for "
            f"{domain_name!r} made in us-east-1 (a stack there with cross_region_references=True).",
        )
    if domain_name is None and not cloudfront:
        raise PropValidationError(
            OWNER,
            "cloudfront",
            cloudfront,
            "Without a domain_name the load balancer has no certificate, so CloudFront must carry the viewers' "
            "HTTPS: keep cloudfront=True, or give a domain_name and hosted_zone.",
        )
    if failover is not None and domain_name is None:
        raise PropValidationError(
            OWNER, "failover", failover, "Failover records need a domain_name and hosted_zone to live in."
        )
    check_int_range(OWNER, "alarm_cpu_percent", alarm_cpu_percent, minimum=1, maximum=100)
    check_int_range(OWNER, "alarm_error_rate", alarm_error_rate, minimum=0.0001, maximum=1)
    if not alarm_response_time.is_unresolved() and not 10 <= alarm_response_time.to_milliseconds() <= 60_000:
        raise PropValidationError(
            OWNER, "alarm_response_time", alarm_response_time.to_human_string(), "Allowed: from 10 ms to 60 seconds."
        )
