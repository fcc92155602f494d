"""ResilientWebApp's props, written once (type, default, documentation, checks), its enums, and the checks
that span several props or the network: every bad prop fails here, before anything is built."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_sns as sns
from constructs import Construct
from typing_extensions import TypedDict

from refarch.constructs import _defaults
from refarch.constructs._dashboards import DashboardProp
from refarch.constructs._network_checks import check_database_azs, check_network_port, network_of
from refarch.constructs._props import (
    REQUIRED,
    Prop,
    duration_range,
    matches,
    number_range,
    port,
    whole_range,
)
from refarch.constructs._validation import check_whole_range
from refarch.constructs.three_tier_vpc import ThreeTierVpc
from refarch.constructs.web_acl import RATE_LIMIT_RANGE
from refarch.errors import PropValidationError

OWNER = "ResilientWebApp"

#: The cache's port: not Valkey's well-known 6379.
CACHE_PORT = 6380
CACHE_NODE_TYPE = "cache.t4g.small"
_DOMAIN = r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
_PATH = r"/[A-Za-z0-9._~/-]{0,1023}"


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


def check_capacity(owner: str, prop: str, capacity: Capacity) -> None:
    """``2 <= minimum <= desired <= maximum <= 100``: a resilient layer keeps at least 2 (one per AZ)."""
    check_whole_range(owner, f"{prop}.minimum", capacity.minimum, minimum=2, maximum=100)
    check_whole_range(owner, f"{prop}.maximum", capacity.maximum, minimum=2, maximum=100)
    if capacity.maximum < capacity.minimum:
        raise PropValidationError(
            owner, f"{prop}.maximum", capacity.maximum, f"It must be at least minimum ({capacity.minimum})."
        )
    if capacity.desired is not None:
        check_whole_range(
            owner, f"{prop}.desired", capacity.desired, minimum=capacity.minimum, maximum=capacity.maximum
        )


def _check_response_time(owner: str, prop: str, value: Duration) -> None:
    if not 10 <= value.to_milliseconds() <= 60_000:
        raise PropValidationError(owner, prop, value.to_human_string(), "Allowed: from 10 ms to 60 seconds.")


_DAYS = Duration.days


class ResilientWebAppProps(TypedDict, total=False):
    """The props of :class:`ResilientWebApp`."""

    vpc: Annotated[
        ThreeTierVpc | ec2.IVpc,
        Prop(
            "The ThreeTierVpc (or its .vpc): public ALB in its web tier, groups and internal ALB in its app tier, "
            "data in its db tier; at least 2 AZs. A plain IVpc is rejected: the layers need the tiers' ACLs.",
            default=REQUIRED,
        ),
    ]
    # -- layers
    front_port: Annotated[
        int | None,
        Prop(
            "Port of the front instances; the network opens it web -> app.",
            default=None,
            default_doc="- the network's `app_port`",
            checks=(port,),
        ),
    ]
    internal_port: Annotated[int, Prop("Port of the internal ALB's listener.", default=80, checks=(port,))]
    back_port: Annotated[int, Prop("Port of the back instances.", default=8081, checks=(port,))]
    front_capacity: Annotated[
        Capacity,
        Prop(
            "Instances of the front group.",
            default=Capacity(),
            default_doc="`Capacity(2, 6)`",
            checks=(check_capacity,),
        ),
    ]
    back_capacity: Annotated[
        Capacity,
        Prop(
            "Instances of the back group.", default=Capacity(), default_doc="`Capacity(2, 6)`", checks=(check_capacity,)
        ),
    ]
    instance_type: Annotated[
        ec2.InstanceType | None,
        Prop("Instance type of both groups.", default=None, default_doc="`t4g.small`"),
    ]
    machine_image: Annotated[
        ec2.IMachineImage | None,
        Prop("Image of both groups.", default=None, default_doc="- the latest Amazon Linux 2023 for the type"),
    ]
    front_user_data: Annotated[
        ec2.UserData | None,
        Prop(
            "User data of the front instances.",
            default=None,
            default_doc="- a small service answering GET /health on the front port",
        ),
    ]
    back_user_data: Annotated[
        ec2.UserData | None,
        Prop(
            "User data of the back instances.",
            default=None,
            default_doc="- a small service answering GET /health on the back port and reporting the data layer",
        ),
    ]
    health_check_path: Annotated[
        str,
        Prop(
            "Path the ALBs' health checks request, and the Route 53 health checks (made with a domain_name behind "
            "CloudFront, or with failover).",
            default="/health",
            checks=(matches(_PATH, "an absolute URL path such as '/health' (no query string)"),),
        ),
    ]
    health_check_grace: Annotated[
        Duration,
        Prop(
            "Time an instance has to start before ELB health checks count.",
            default=Duration.minutes(5),
            checks=(duration_range(Duration.seconds(0), Duration.hours(2)),),
        ),
    ]
    cpu_target_percent: Annotated[
        float, Prop("CPU target of both groups' target tracking.", default=70, checks=(number_range(10, 90),))
    ]
    requests_per_target: Annotated[
        int,
        Prop("Requests per minute per instance both groups track.", default=1000, checks=(whole_range(1, 100_000),)),
    ]
    # -- data
    data_layer: Annotated[
        DataLayer, Prop("Aurora PostgreSQL, Aurora MySQL or DynamoDB.", default=DataLayer.AURORA_POSTGRESQL)
    ]
    database_port: Annotated[
        int | None,
        Prop(
            "Aurora's port; the network's db tier must open it.",
            default=None,
            default_doc="- the engine's",
            checks=(port,),
        ),
    ]
    database_instance_type: Annotated[
        ec2.InstanceType | None,
        Prop(
            "Aurora's instance type (with `failover`, a memory-optimized class: Aurora Global Database needs one).",
            default=None,
            default_doc="`t4g.medium`; `r6g.large` with `failover`",
        ),
    ]
    reader_count: Annotated[
        int, Prop("Aurora readers, each in the next AZ after the writer's.", default=1, checks=(whole_range(1, 15),))
    ]
    backup_retention: Annotated[
        Duration,
        Prop("Automated backups kept.", default=_DAYS(7), checks=(duration_range(_DAYS(1), _DAYS(35), unit="days"),)),
    ]
    secret_rotation_interval: Annotated[
        Duration,
        Prop(
            "Rotation of the database secret.",
            default=_DAYS(30),
            checks=(duration_range(_DAYS(1), _DAYS(1000), unit="days"),),
        ),
    ]
    deletion_protection: Annotated[bool, Prop("Protect the database or table from deletion.", default=True)]
    # -- optional parts
    cache: Annotated[
        bool,
        Prop(
            "An ElastiCache Valkey cache in the db tier for the back instances: TLS required, AUTH token, the "
            "customer key, a replica in another AZ with automatic failover.",
            default=False,
        ),
    ]
    cache_port: Annotated[
        int, Prop("The cache's port (not Valkey's well-known 6379).", default=CACHE_PORT, checks=(port,), needs="cache")
    ]
    cache_node_type: Annotated[
        str,
        Prop(
            "The cache's node type.",
            default=CACHE_NODE_TYPE,
            needs="cache",
            checks=(matches(r"cache\.[a-z0-9]+\.[a-z0-9]+", "an ElastiCache node type such as 'cache.t4g.small'"),),
        ),
    ]
    work_queue: Annotated[
        bool,
        Prop(
            "An SQS queue (customer key, TLS only, dead-letter queue) from the front instances to the back "
            "instances, for work that can wait.",
            default=False,
        ),
    ]
    work_queue_max_receive_count: Annotated[
        int,
        Prop(
            "Receives before a message goes to the dead-letter queue.",
            default=5,
            needs="work_queue",
            checks=(whole_range(1, 1000),),
        ),
    ]
    # -- edge
    cloudfront: Annotated[bool, Prop("Put CloudFront in front of the public ALB.", default=True)]
    domain_name: Annotated[
        str | None,
        Prop(
            "Domain the application answers on (alias records, HTTPS to the origin).",
            default=None,
            checks=(matches(_DOMAIN, "a lowercase DNS name such as 'app.example.com'"),),
        ),
    ]
    hosted_zone: Annotated[route53.IHostedZone | None, Prop("The Route 53 zone of `domain_name`.", default=None)]
    edge_certificate: Annotated[
        acm.ICertificate | None,
        Prop(
            "us-east-1 certificate of `domain_name` for CloudFront.",
            default=None,
            default_doc="- made here when the stack is in us-east-1",
        ),
    ]
    edge_web_acl_arn: Annotated[
        str | None,
        Prop("A CloudFront-scope web ACL (us-east-1).", default=None, default_doc="- the regional one on the ALB only"),
    ]
    failover: Annotated[
        route53.Failover | None,
        Prop(
            "This region's part in a two-region app: the records of `domain_name` become failover records to this "
            "region's public ALB (each with an HTTPS health check on it). PRIMARY: its Aurora cluster becomes the "
            "source of an Aurora Global Database. SECONDARY: needs `standby_for`, and its cluster joins that "
            "global database. Needs `cloudfront=False` and a region-bound stack.",
            default=None,
            needs="domain_name",
        ),
    ]
    standby_for: Annotated[
        Construct | None,
        Prop(
            "The primary region's ResilientWebApp (`failover=PRIMARY`) this app stands by for: needs "
            "`failover=SECONDARY`, the same data layer, domain and zone, another region of the same account, and "
            "both stacks with `cross_region_references=True`.",
            default=None,
        ),
    ]
    waf_rate_limit: Annotated[
        int,
        Prop(
            "Requests per 5 minutes per IP the web ACL allows.", default=2000, checks=(whole_range(*RATE_LIMIT_RANGE),)
        ),
    ]
    shield_advanced: Annotated[
        bool,
        Prop(
            "Protect the public ALB (and, in us-east-1, the distribution) with Shield Advanced. The account must "
            "subscribe first: 3,000 USD a month per organization, a one-year commitment, plus data transfer.",
            default=False,
        ),
    ]
    # -- operations
    alarm_topic: Annotated[
        sns.ITopic | None,
        Prop(
            "Topic every alarm and scaling event notifies (pass the network's for one topic).",
            default=None,
            default_doc="- a new encrypted topic",
        ),
    ]
    dashboard: DashboardProp
    alarm_cpu_percent: Annotated[
        float,
        Prop(
            "Front group CPU threshold (Average) of the composite alarm's HighCpu member (5 one-minute periods).",
            default=80,
            checks=(number_range(1, 100),),
        ),
    ]
    alarm_error_rate: Annotated[
        float,
        Prop(
            "5XX rate threshold, a fraction: of each layer's 5xxRate alarm and of the composite alarm's "
            "HighErrorRate member (both over 3 one-minute periods).",
            default=0.01,
            checks=(number_range(0.0001, 1),),
        ),
    ]
    alarm_response_time: Annotated[
        Duration,
        Prop(
            "Response time threshold: of each layer's ResponseTime alarm (p99) and of the composite alarm's "
            "SlowResponses member (Average), both over 3 one-minute periods.",
            default=Duration.millis(500),
            checks=(_check_response_time,),
        ),
    ]
    encryption_key: Annotated[
        kms.IKey | None,
        Prop("Key of the data, secrets, queues and logs.", default=None, default_doc="- a new customer key"),
    ]
    log_retention: Annotated[
        logs.RetentionDays, Prop("Retention of the instances' and WAF's logs.", default=_defaults.LOG_RETENTION)
    ]
    removal_policy: Annotated[
        RemovalPolicy,
        Prop("What happens to the data when removed from the stack.", default=_defaults.DATA_REMOVAL_POLICY),
    ]


def network_prop(vpc: ThreeTierVpc | ec2.IVpc) -> ThreeTierVpc:
    """The ThreeTierVpc the layers live on (``vpc`` or the one whose ``.vpc`` it is); a plain IVpc has no
    tiers for the layers' ACL entries, and is rejected."""
    network = network_of(vpc)
    if network is None:
        raise PropValidationError(
            OWNER,
            "vpc",
            vpc.node.path,
            "Allowed: a ThreeTierVpc (or its .vpc). The layers open their flows in its tiers' network ACLs; a "
            "plain IVpc has no tiers.",
        )
    return network


def check_props(scope_stack: Stack, p: ResilientWebAppProps) -> ThreeTierVpc:
    """The checks that span props or the network; returns the network."""
    network = network_prop(p["vpc"])
    data_layer = p["data_layer"]
    if data_layer is DataLayer.DYNAMODB and p["database_port"] is not None:
        raise PropValidationError(OWNER, "database_port", p["database_port"], "DynamoDB has no port: leave it unset.")
    check_ports(network, p)
    check_network_azs(network)
    if data_layer is not DataLayer.DYNAMODB:
        check_database_azs(OWNER, "vpc", list(network.db.subnets), multi_az=True)
    check_edge(scope_stack, p)
    return network


def front_port_of(network: ThreeTierVpc, p: ResilientWebAppProps) -> int:
    return network.app_port if p["front_port"] is None else p["front_port"]


def database_port_of(p: ResilientWebAppProps) -> int | None:
    return p["database_port"] if p["database_port"] is not None else p["data_layer"].default_port


def check_ports(network: ThreeTierVpc, p: ResilientWebAppProps) -> None:
    """Each layer listens on its own port; the front port is the one the network opens web -> app."""
    front_port = front_port_of(network, p)
    if front_port != network.app_port:
        raise PropValidationError(
            OWNER,
            "front_port",
            front_port,
            f"The ThreeTierVpc {network.node.path!r} opens app_port={network.app_port} from the web tier to the "
            "app tier: give the front instances that port, or build the network with app_port=front_port.",
        )
    database_port = database_port_of(p)
    ports = {"front_port": front_port, "internal_port": p["internal_port"], "back_port": p["back_port"]}
    if database_port is not None:
        ports["database_port"] = database_port
    if p["cache"]:
        ports["cache_port"] = p["cache_port"]
    seen: dict[int, str] = {}
    for prop, number in ports.items():
        if number in seen:
            raise PropValidationError(OWNER, prop, number, f"It must differ from {seen[number]} ({number}).")
        seen[number] = prop
    if database_port is not None:
        check_network_port(OWNER, "database_port", database_port, network)


def check_network_azs(network: ThreeTierVpc) -> None:
    """Every layer is Multi-AZ: a network in one AZ cannot carry it."""
    azs = {s.availability_zone for s in network.db.subnets}
    if len(network.app.subnets) < 2 or len(azs) < 2:
        raise PropValidationError(
            OWNER,
            "vpc",
            network.node.path,
            f"It spans {len(network.app.subnets)} AZ(s); the load balancers, groups and the Multi-AZ data layer "
            "need at least 2: build the ThreeTierVpc with max_azs >= 2.",
        )


def check_edge(stack: Stack, p: ResilientWebAppProps) -> None:
    """A domain needs its zone and an edge certificate; CloudFront carries HTTPS when there is no domain."""
    domain_name, cloudfront, edge_certificate = p["domain_name"], p["cloudfront"], p["edge_certificate"]
    if domain_name is not None and p["hosted_zone"] is None:
        raise PropValidationError(
            OWNER, "hosted_zone", None, "A domain_name needs the Route 53 hosted zone that holds it."
        )
    if p["hosted_zone"] is not None and domain_name is None:
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
