"""PrivateApi's optional edge: CloudFront in front of the API, an ACM certificate and a Route 53 alias."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from constructs import Construct

from refarch.constructs import _edge


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
    """The library's edge settings (``_edge``), forwarding every viewer header but Host to the API."""
    if certificate is None:
        certificate = acm.Certificate(
            scope,
            "EdgeCertificate",
            domain_name=domain_name,
            validation=acm.CertificateValidation.from_dns(hosted_zone),
        )
    distribution, log_bucket = _edge.build_distribution(
        scope,
        origin=origins.RestApiOrigin(api),
        # API Gateway routes on its own Host name; everything else the viewer sent goes through.
        origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        comment=f"Edge of {api.rest_api_name}",
        domain_name=domain_name,
        certificate=certificate,
        web_acl_arn=web_acl_arn,
        removal_policy=removal_policy,
        why_no_edge_web_acl="The API behind this distribution has its own regional WAF web ACL on the stage; a "
        "CloudFront web ACL must live in us-east-1: pass edge_web_acl_arn (a ProtectiveWebAcl with "
        "WafScope.CLOUDFRONT).",
        why_worldwide="The API serves callers worldwide; restrict countries with WAF geo-match rules if a policy "
        "demands it.",
    )
    records = _edge.build_alias_records(
        scope, "EdgeAlias", zone=hosted_zone, domain_name=domain_name, distribution=distribution
    )
    return Edge(distribution=distribution, certificate=certificate, records=records, log_bucket=log_bucket)
