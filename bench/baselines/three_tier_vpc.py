"""ThreeTierVpc with its defaults vs the same VPC written in plain aws-cdk-lib L2 code."""

from __future__ import annotations

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs


def with_construct(stack: Stack) -> None:
    from refarch.constructs import ThreeTierVpc

    ThreeTierVpc(stack, "Network")


def with_plain_l2(stack: Stack) -> None:
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
        availability_zones=[Fn.select(i, Fn.get_azs()) for i in range(3)],
        nat_gateways=3,
        subnet_configuration=[
            ec2.SubnetConfiguration(
                name="Web", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24, map_public_ip_on_launch=False
            ),
            ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
            ec2.SubnetConfiguration(name="Db", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
        ],
        gateway_endpoints={
            "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
        },
        restrict_default_security_group=True,
    )
    web = ec2.SecurityGroup(stack, "Web", vpc=vpc, allow_all_outbound=False)
    app = ec2.SecurityGroup(stack, "App", vpc=vpc, allow_all_outbound=False)
    db = ec2.SecurityGroup(stack, "Db", vpc=vpc, allow_all_outbound=False)
    for port in (80, 443):
        web.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(port))
    web.connections.allow_to(app, ec2.Port.tcp(8080))
    app.connections.allow_to(db, ec2.Port.tcp(3306))
    app.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443))

    subnets = {name: vpc.select_subnets(subnet_group_name=name).subnets for name in ("Web", "App", "Db")}
    cidrs = {name: [s.ipv4_cidr_block for s in group] for name, group in subnets.items()}
    ephemeral = ec2.AclTraffic.tcp_port_range(1024, 65535)
    rules: dict[str, list[tuple[bool, str, ec2.AclTraffic]]] = {
        "Web": [
            *[(False, "0.0.0.0/0", ec2.AclTraffic.tcp_port(p)) for p in (80, 443)],
            *[(False, c, ec2.AclTraffic.tcp_port(443)) for c in cidrs["App"]],
            (False, "0.0.0.0/0", ephemeral),
            *[(True, c, ec2.AclTraffic.tcp_port(8080)) for c in cidrs["App"]],
            (True, "0.0.0.0/0", ec2.AclTraffic.tcp_port(443)),
            (True, "0.0.0.0/0", ephemeral),
        ],
        "App": [
            *[(False, c, ec2.AclTraffic.tcp_port(8080)) for c in cidrs["Web"]],
            (False, "0.0.0.0/0", ephemeral),
            *[(True, c, ephemeral) for c in cidrs["Web"]],
            *[(True, c, ec2.AclTraffic.tcp_port(3306)) for c in cidrs["Db"]],
            (True, "0.0.0.0/0", ec2.AclTraffic.tcp_port(443)),
        ],
        "Db": [
            *[(False, c, ec2.AclTraffic.tcp_port(3306)) for c in cidrs["App"]],
            *[(True, c, ephemeral) for c in cidrs["App"]],
        ],
    }
    for tier, entries in rules.items():
        acl = ec2.NetworkAcl(stack, f"{tier}Acl", vpc=vpc, subnet_selection=ec2.SubnetSelection(subnet_group_name=tier))
        numbers = {True: 1000, False: 1000}
        for egress, cidr, traffic in entries:
            acl.add_entry(
                f"{'Out' if egress else 'In'}{numbers[egress]}",
                cidr=ec2.AclCidr.ipv4(cidr),
                rule_number=numbers[egress],
                traffic=traffic,
                direction=ec2.TrafficDirection.EGRESS if egress else ec2.TrafficDirection.INGRESS,
            )
            numbers[egress] += 100

    key = kms.Key(
        stack,
        "FlowLogKey",
        enable_key_rotation=True,
        rotation_period=Duration.days(365),
        removal_policy=RemovalPolicy.RETAIN,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
        )
    )
    log_group = logs.LogGroup(
        stack,
        "FlowLogGroup",
        encryption_key=key,
        retention=logs.RetentionDays.ONE_YEAR,
        removal_policy=RemovalPolicy.RETAIN,
    )
    vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group))
