"""PrivateApi's optional edge: CloudFront in front of the API, an ACM certificate and a Route 53 alias."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders


@dataclass(frozen=True)
class Edge:
    """The edge resources of a PrivateApi."""

    #: The CloudFront distribution serving ``domain_name``.
    distribution: cloudfront.Distribution
    #: The certificate of ``domain_name`` (in us-east-1, as CloudFront requires).
    certificate: acm.ICertificate
    #: The A and AAAA alias records of ``domain_name``.
    records: tuple[route53.ARecord, route53.AaaaRecord]
    #: The bucket receiving the distribution's access logs.
    log_bucket: s3.IBucket


def build_edge(
    scope: Construct,
    *,
    api: apigw.RestApi,
    domain_name: str,
    hosted_zone: route53.IHostedZone,
    certificate: acm.ICertificate | None,
    web_acl_arn: str | None,
    removal_policy: RemovalPolicy,
) -> Edge:
    """HTTPS only (TLS 1.2+), security headers, no caching, every viewer header but Host forwarded."""
    if certificate is None:
        certificate = acm.Certificate(
            scope,
            "EdgeCertificate",
            domain_name=domain_name,
            validation=acm.CertificateValidation.from_dns(hosted_zone),
        )
    log_bucket = _build_log_bucket(scope, removal_policy)
    distribution = cloudfront.Distribution(
        scope,
        "Distribution",
        comment=f"Edge of {api.rest_api_name}"[:128],
        domain_names=[domain_name],
        certificate=certificate,
        minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        web_acl_id=web_acl_arn,
        enable_logging=True,
        log_bucket=log_bucket,
        log_file_prefix="cloudfront/",
        default_behavior=cloudfront.BehaviorOptions(
            origin=origins.RestApiOrigin(api),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            # Answers are per caller: never cache them at the edge.
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # API Gateway routes on its own Host name; everything else the viewer sent goes through.
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        ),
    )
    if web_acl_arn is None:
        acknowledge(
            distribution,
            "The API behind this distribution has its own regional WAF web ACL on the stage; a CloudFront web "
            "ACL must live in us-east-1: pass edge_web_acl_arn (a ProtectiveWebAcl with WafScope.CLOUDFRONT).",
            "AwsSolutions-CFR2",
        )
    acknowledge(
        distribution,
        "The API serves callers worldwide; restrict countries with WAF geo-match rules if a policy demands it.",
        "AwsSolutions-CFR1",
    )
    alias = route53.RecordTarget.from_alias(targets.CloudFrontTarget(distribution))
    records = (
        route53.ARecord(scope, "EdgeAlias", zone=hosted_zone, record_name=domain_name, target=alias),
        route53.AaaaRecord(scope, "EdgeAliasIpv6", zone=hosted_zone, record_name=domain_name, target=alias),
    )
    return Edge(distribution=distribution, certificate=certificate, records=records, log_bucket=log_bucket)


def _build_log_bucket(scope: Construct, removal_policy: RemovalPolicy) -> s3.Bucket:
    """CloudFront standard logs are delivered with ACLs: the target bucket must allow them."""
    bucket = _builders.build_access_log_bucket(scope, "EdgeLogs", removal_policy=removal_policy)
    cfn = bucket.node.default_child
    assert isinstance(cfn, s3.CfnBucket)
    cfn.ownership_controls = s3.CfnBucket.OwnershipControlsProperty(
        rules=[s3.CfnBucket.OwnershipControlsRuleProperty(object_ownership="ObjectWriter")]
    )
    return bucket
