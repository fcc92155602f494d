"""The edge: CloudFront in front of the public ALB, the secret origin header, and the Route 53 records."""

from __future__ import annotations

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _edge
from refarch.constructs._secrets import build_deploy_time_secret
from refarch.constructs.resilient_web_app.front import ORIGIN_HEADER


def build_origin_secret(
    scope: Construct, *, encryption_key: kms.IKey, removal_policy: RemovalPolicy
) -> secretsmanager.Secret:
    """The value CloudFront sends in :data:`ORIGIN_HEADER`; the template holds only a dynamic reference."""
    return build_deploy_time_secret(
        scope,
        "OriginSecret",
        description="Header value that proves a request to the public ALB came through CloudFront",
        length=48,
        encryption_key=encryption_key,
        removal_policy=removal_policy,
        not_rotated_because="CloudFront and the ALB listener rule read this value at deployment; rotating it means "
        "redeploying both together, which a rotation Lambda cannot do without a window of 403s. Rotate it by "
        "deploying a new value (cdk deploy after changing its generator).",
        also_acknowledged=("HIPAA.Security-SecretsManagerUsingKMSKey",),
    )


def build_distribution(
    scope: Construct,
    *,
    load_balancer: elbv2.ApplicationLoadBalancer,
    origin_domain_name: str | None,
    origin_secret: str,
    domain_name: str | None,
    certificate: acm.ICertificate | None,
    web_acl_arn: str | None,
    removal_policy: RemovalPolicy,
) -> cloudfront.Distribution:
    """HTTPS only to viewers (TLS 1.2+ with a domain), security headers, no caching, the origin header.

    ``origin_domain_name`` (``origin.<domain>``, on the ALB's certificate) makes the origin HTTPS; without
    it CloudFront reaches the ALB's DNS name over HTTP (the ALB then has no certificate to offer).
    """
    custom_headers = {ORIGIN_HEADER: origin_secret}
    if origin_domain_name is not None:
        origin: cloudfront.IOrigin = origins.HttpOrigin(
            origin_domain_name,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            custom_headers=custom_headers,
        )
    else:
        origin = origins.LoadBalancerV2Origin(
            load_balancer,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTP_ONLY,
            custom_headers=custom_headers,
        )
    distribution, _ = _edge.build_distribution(
        scope,
        origin=origin,
        origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER,
        comment="Edge of a ResilientWebApp",
        domain_name=domain_name,
        certificate=certificate,
        web_acl_arn=web_acl_arn,
        removal_policy=removal_policy,
        why_no_edge_web_acl="The public ALB behind this distribution has a regional WAF web ACL, and the ALB "
        "answers only requests with CloudFront's origin header; a CloudFront web ACL must live in us-east-1: pass "
        "edge_web_acl_arn (a ProtectiveWebAcl with WafScope.CLOUDFRONT) to filter at the edge too.",
        why_worldwide="A public web application serves viewers worldwide; restrict countries with WAF geo-match "
        "rules if a policy demands it.",
    )
    if domain_name is None:
        acknowledge(
            distribution,
            "Without a domain_name the distribution serves its *.cloudfront.net name with CloudFront's default "
            "certificate, whose protocol floor cannot be set; viewers are still redirected to nothing but HTTPS. "
            "Give a domain_name and edge_certificate for TLS 1.2+.",
            "AwsSolutions-CFR4",
        )
        acknowledge(
            distribution,
            "Without a domain_name the ALB has no certificate, so CloudFront reaches it over HTTP with the secret "
            "origin header; give a domain_name for HTTPS to the origin.",
            "AwsSolutions-CFR5",
        )
    return distribution


def build_records(
    scope: Construct,
    *,
    zone: route53.IHostedZone,
    domain_name: str,
    distribution: cloudfront.Distribution,
    health_check_path: str,
) -> tuple[tuple[route53.ARecord, route53.AaaaRecord], route53.HealthCheck]:
    """Alias A/AAAA records of ``domain_name`` to the distribution, and an HTTPS health check on it."""
    health_check = route53.HealthCheck(
        scope,
        "HealthCheck",
        type=route53.HealthCheckType.HTTPS,
        fqdn=domain_name,
        port=443,
        resource_path=health_check_path,
        request_interval=Duration.seconds(30),
        failure_threshold=3,
    )
    records = _edge.build_alias_records(scope, "Alias", zone=zone, domain_name=domain_name, distribution=distribution)
    return records, health_check


@jsii.implements(targets.IAliasRecordTargetProps)
class _EvaluateTargetHealth:
    """Route 53 answers the alias only while the ALB has healthy targets (failover records require it)."""

    @property
    def evaluate_target_health(self) -> bool:
        return True

    @property
    def hosted_zone_id(self) -> str | None:
        return None  # the load balancer's own canonical zone


def build_load_balancer_health_check(
    scope: Construct, *, load_balancer: elbv2.ApplicationLoadBalancer, health_check_path: str
) -> route53.HealthCheck:
    """An HTTPS check of this region's public ALB itself (its own DNS name, not ``domain_name``, which the
    failover records resolve to whichever region is healthy), through the WAF to a front instance's
    health path: Route 53's checkers see what viewers would, from outside the region. Without CloudFront
    the ALB requires no origin header, so they can reach it."""
    return route53.HealthCheck(
        scope,
        "LoadBalancerHealthCheck",
        type=route53.HealthCheckType.HTTPS,
        fqdn=load_balancer.load_balancer_dns_name,
        port=443,
        resource_path=health_check_path,
        request_interval=Duration.seconds(30),
        failure_threshold=3,
    )


def build_load_balancer_record(
    scope: Construct,
    id: str,
    *,
    zone: route53.IHostedZone,
    record_name: str,
    load_balancer: elbv2.ApplicationLoadBalancer,
    failover: route53.Failover | None,
    health_check: route53.IHealthCheck | None,
) -> route53.ARecord:
    """``record_name`` -> this region's public ALB (an alias that follows the ALB's target health); with
    ``failover``, a failover record that Route 53 answers only while ``health_check`` passes (PRIMARY), or
    when the primary's fails (SECONDARY). ``health_check`` is for failover records only (None otherwise)."""
    return route53.ARecord(
        scope,
        id,
        zone=zone,
        record_name=record_name,
        target=route53.RecordTarget.from_alias(targets.LoadBalancerTarget(load_balancer, _EvaluateTargetHealth())),
        failover=failover,
        health_check=health_check,
        set_identifier=f"{record_name}-{failover.value.lower()}" if failover is not None else None,
    )
