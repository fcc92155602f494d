"""The CloudFront edge the library puts in front of an origin: one set of distribution settings.

HTTPS only to viewers (TLS 1.2+ with a certificate), HTTP/2 and 3, security headers, no caching (the
answers are per caller), standard logs to a bucket that accepts them, and alias records. PrivateApi
uses it, and ResilientWebApp with its own origin and origin-request policy.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders


def build_distribution(
    scope: Construct,
    *,
    origin: cloudfront.IOrigin,
    origin_request_policy: cloudfront.IOriginRequestPolicy,
    comment: str,
    domain_name: str | None,
    certificate: acm.ICertificate | None,
    web_acl_arn: str | None,
    removal_policy: RemovalPolicy,
    why_no_edge_web_acl: str,
    why_worldwide: str,
) -> tuple[cloudfront.Distribution, s3.Bucket]:
    """The ``Distribution`` under ``scope`` and its log bucket (``EdgeLogs``).

    ``why_no_edge_web_acl`` acknowledges AwsSolutions-CFR2 when ``web_acl_arn`` is None (say what filters
    the requests instead); ``why_worldwide`` acknowledges AwsSolutions-CFR1 (no geo restriction).
    """
    log_bucket = build_log_bucket(scope, removal_policy)
    distribution = cloudfront.Distribution(
        scope,
        "Distribution",
        comment=comment[:128],
        domain_names=[domain_name] if domain_name is not None else None,
        certificate=certificate,
        minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate is not None else None,
        http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        web_acl_id=web_acl_arn,
        enable_logging=True,
        log_bucket=log_bucket,
        log_file_prefix="cloudfront/",
        default_behavior=cloudfront.BehaviorOptions(
            origin=origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            # Answers are per caller: never cache them at the edge.
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=origin_request_policy,
            response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        ),
    )
    if web_acl_arn is None:
        acknowledge(distribution, why_no_edge_web_acl, "AwsSolutions-CFR2")
    acknowledge(distribution, why_worldwide, "AwsSolutions-CFR1")
    return distribution, log_bucket


def build_alias_records(
    scope: Construct,
    id: str,
    *,
    zone: route53.IHostedZone,
    domain_name: str,
    distribution: cloudfront.IDistribution,
) -> tuple[route53.ARecord, route53.AaaaRecord]:
    """A and AAAA alias records of ``domain_name`` to the distribution (``id`` and ``{id}Ipv6``)."""
    alias = route53.RecordTarget.from_alias(targets.CloudFrontTarget(distribution))
    return (
        route53.ARecord(scope, id, zone=zone, record_name=domain_name, target=alias),
        route53.AaaaRecord(scope, f"{id}Ipv6", zone=zone, record_name=domain_name, target=alias),
    )


def build_log_bucket(scope: Construct, removal_policy: RemovalPolicy) -> s3.Bucket:
    """``EdgeLogs``: CloudFront standard logs are delivered with ACLs, so the bucket must allow them."""
    bucket = _builders.build_access_log_bucket(scope, "EdgeLogs", removal_policy=removal_policy)
    cfn = bucket.node.default_child
    assert isinstance(cfn, s3.CfnBucket)
    cfn.ownership_controls = s3.CfnBucket.OwnershipControlsProperty(
        rules=[s3.CfnBucket.OwnershipControlsRuleProperty(object_ownership="ObjectWriter")]
    )
    return bucket
