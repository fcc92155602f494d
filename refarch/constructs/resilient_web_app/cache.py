"""The optional cache: ElastiCache Valkey in the db tier, Multi-AZ with automatic failover, encrypted in
transit (TLS required) and at rest with the customer key, reachable only from the back group on its port."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from refarch.constructs._dashboards import build_alarm
from refarch.constructs._metrics import build_metric
from refarch.constructs._secrets import build_deploy_time_secret
from refarch.constructs.three_tier_vpc import EPHEMERAL_PORTS, ThreeTierVpc

#: Valkey's engine version (cluster mode off: one shard, a primary and a replica in another AZ).
ENGINE_VERSION = "8.0"
#: Nodes of the one shard: the primary and one replica, each in its own AZ.
NODES = 2
#: Days of daily snapshots (the HIPAA/NIST/PCI packs ask for at least 15).
SNAPSHOT_DAYS = 15


@dataclass(frozen=True)
class Cache:
    """The replication group, its security group, and the secret holding its AUTH token."""

    replication_group: elasticache.CfnReplicationGroup
    security_group: ec2.SecurityGroup
    auth_secret: secretsmanager.Secret
    port: int

    @property
    def node_ids(self) -> list[str]:
        """Cache cluster IDs of the nodes (``<group>-001``, ...), the dimension of the host metrics."""
        return [f"{self.replication_group.ref}-{n:03d}" for n in range(1, NODES + 1)]


def build_cache(
    scope: Construct,
    *,
    network: ThreeTierVpc,
    port: int,
    node_type: str,
    encryption_key: kms.IKey,
    removal_policy: RemovalPolicy,
) -> Cache:
    security_group = ec2.SecurityGroup(
        scope,
        "SecurityGroup",
        vpc=network.vpc,
        allow_all_outbound=False,
        description="Valkey: its port from the back instances only",
    )
    subnets = elasticache.CfnSubnetGroup(
        scope,
        "Subnets",
        description="The db tier's subnets, one per AZ",
        subnet_ids=[subnet.subnet_id for subnet in network.db.subnets],
    )
    # ElastiCache AUTH tokens: 16 to 128 printable characters without '@', '"' or '/': letters and digits.
    auth_secret = build_deploy_time_secret(
        scope,
        "AuthToken",
        description="AUTH token of the Valkey cache (the back instances read it)",
        length=64,
        encryption_key=encryption_key,
        removal_policy=removal_policy,
        not_rotated_because="The Valkey AUTH token is set on the replication group at deployment; rotating it "
        "takes ElastiCache's two-token AUTH rotation (ModifyReplicationGroup with AuthTokenUpdateStrategy ROTATE "
        "then SET), for which Secrets Manager has no rotation function. Rotate it by redeploying a new value.",
    )
    group = elasticache.CfnReplicationGroup(
        scope,
        "ReplicationGroup",
        replication_group_description="Valkey cache of the back layer",
        engine="valkey",
        engine_version=ENGINE_VERSION,
        cache_node_type=node_type,
        num_cache_clusters=NODES,
        automatic_failover_enabled=True,
        multi_az_enabled=True,
        port=port,
        cache_subnet_group_name=subnets.ref,
        security_group_ids=[security_group.security_group_id],
        transit_encryption_enabled=True,
        transit_encryption_mode="required",
        at_rest_encryption_enabled=True,
        kms_key_id=encryption_key.key_arn,
        auth_token=auth_secret.secret_value.unsafe_unwrap(),  # a dynamic reference, not the value
        snapshot_retention_limit=SNAPSHOT_DAYS,
        auto_minor_version_upgrade=True,
    )
    group.apply_removal_policy(removal_policy, apply_to_update_replace_policy=True)
    # ElastiCache refuses to delete a subnet group a cluster still uses: a retained group keeps its own.
    subnets.apply_removal_policy(removal_policy)
    return Cache(group, security_group, auth_secret, port)


def open_cache_port(network: ThreeTierVpc, cache: Cache, back_group: ec2.ISecurityGroup) -> None:
    """The back group's security group to the cache's, and both tiers' ACLs (entries numbered by the tiers;
    the same entry asked for twice is made once). The app tier already admits replies from anywhere (its
    NAT egress needs that), so only the db tier's replies out are asked for."""
    back_group.connections.allow_to(cache.security_group, ec2.Port.tcp(cache.port), "Back instances to the cache")
    request, replies = ec2.AclTraffic.tcp_port(cache.port), ec2.AclTraffic.tcp_port_range(*EPHEMERAL_PORTS)
    for cidr in network.db.cidrs:
        network.app.allow_outbound(cidr, request)
    for cidr in network.app.cidrs:
        network.db.allow_inbound(cidr, request)
        network.db.allow_outbound(cidr, replies)


def cache_alarms(scope: Construct, cache: Cache) -> dict[str, cloudwatch.Alarm]:
    """Engine CPU, memory used and evictions, of the busiest node (the primary moves on failover)."""

    def busiest(metric_name: str, statistic: str) -> cloudwatch.MathExpression:
        using = {
            f"node{n}": build_metric(
                "AWS/ElastiCache",
                metric_name,
                {"CacheClusterId": node},
                statistic=statistic,
                period=Duration.minutes(1),
            )
            for n, node in enumerate(cache.node_ids, start=1)
        }
        return cloudwatch.MathExpression(
            expression=f"MAX([{', '.join(using)}])",
            using_metrics=using,
            label=f"{metric_name} (busiest node)",
            period=Duration.minutes(1),  # the nodes' period: a MathExpression would otherwise make it 5 minutes
        )

    above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
    return {
        "CacheCpu": build_alarm(
            scope,
            "CacheCpu",
            metric=busiest("EngineCPUUtilization", "Average"),
            threshold=80,
            comparison=above,
            description="Valkey engine CPU above 80% (it runs on one thread: scale the node type up)",
        ),
        "CacheMemory": build_alarm(
            scope,
            "CacheMemory",
            metric=busiest("DatabaseMemoryUsagePercentage", "Maximum"),
            threshold=80,
            comparison=above,
            description="Valkey memory above 80% used (evictions follow)",
        ),
        "CacheEvictions": build_alarm(
            scope,
            "CacheEvictions",
            metric=busiest("Evictions", "Sum"),
            threshold=0,
            comparison=above,
            description="Valkey evicting keys for 3 minutes: the cache is too small for its working set",
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        ),
    }
