"""The front layer: the internet-facing ALB in the web tier, its access logs, and its listeners.

With CloudFront (``cloudfront=True``) the ALB forwards only requests that carry CloudFront's secret
origin header (everything else gets 403), so nobody reaches it around CloudFront: without a domain it
listens on HTTP only (viewers speak HTTPS to CloudFront), with one on HTTPS (TLS 1.2+) with a
certificate for ``origin.<domain>``. Without CloudFront (one region with a domain, or each region of a
two-region app) viewers reach the ALB directly: HTTPS (TLS 1.2+) with a certificate for ``domain_name``,
HTTP redirected to HTTPS, and the regional WAF web ACL on the ALB filtering every request. With a
certificate, HTTP always redirects to HTTPS.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.region_info import FactName
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge

#: The header CloudFront adds to every origin request; the ALB forwards only requests that carry it.
ORIGIN_HEADER = "X-Origin-Verify"

_NO_CERTIFICATE = (
    "Without a domain_name this ALB has no certificate to serve: viewers reach CloudFront over HTTPS only "
    "(TLS 1.2+), and CloudFront reaches this listener with a secret header the listener requires (every other "
    "request is answered 403). Give the construct a domain_name for HTTPS to the origin as well."
)


_OPEN_BEHIND_CLOUDFRONT = (
    "This is the internet-facing load balancer of a public web application: CloudFront's edge addresses "
    "reach it from anywhere, and the listener forwards only requests with CloudFront's secret origin header."
)
_OPEN_TO_VIEWERS = (
    "This is the internet-facing load balancer of a public web application that viewers reach directly (no "
    "CloudFront: Route 53 points domain_name at it), so it takes HTTP and HTTPS from anywhere. Port 80 only "
    "redirects to HTTPS; the HTTPS listener (TLS 1.2+) serves an ACM certificate for domain_name; the regional "
    "WAF web ACL on the ALB (rate limit, IP reputation, common, known-bad-input and SQL injection rules) "
    "filters every request before a front instance sees it."
)


def build_public_alb(
    scope: Construct, *, vpc: ec2.IVpc, subnets: ec2.SubnetSelection, log_bucket: s3.IBucket, cloudfront: bool
) -> tuple[elbv2.ApplicationLoadBalancer, ec2.SecurityGroup]:
    """Internet-facing, cross-zone, invalid headers dropped, desync mitigation strictest, access logs on;
    reached through ``cloudfront`` or by viewers directly."""
    security_group = ec2.SecurityGroup(
        scope,
        "LoadBalancerSecurityGroup",
        vpc=vpc,
        allow_all_outbound=False,
        description="Public ALB: HTTP and HTTPS from the internet"
        + (" (CloudFront)" if cloudfront else "")
        + "; forwards to the front group",
    )
    load_balancer = elbv2.ApplicationLoadBalancer(
        scope,
        "LoadBalancer",
        vpc=vpc,
        vpc_subnets=subnets,
        internet_facing=True,
        security_group=security_group,
        drop_invalid_header_fields=True,
        desync_mitigation_mode=elbv2.DesyncMitigationMode.STRICTEST,
        cross_zone_enabled=True,
        http2_enabled=True,
        # Not protected: the stack deletes the ALB (no data; a redeploy rebuilds it), and deletion
        # protection would make every stack delete and creation rollback fail on it.
        deletion_protection=False,
    )
    enable_access_logs(load_balancer, log_bucket, "front-alb")
    acknowledge_no_deletion_protection(load_balancer)
    acknowledge(
        security_group,
        _OPEN_BEHIND_CLOUDFRONT if cloudfront else _OPEN_TO_VIEWERS,
        "AwsSolutions-EC23",
        "HIPAA.Security-EC2RestrictedCommonPorts",
        "NIST.800.53.R5-EC2RestrictedCommonPorts",
        "PCI.DSS.321-EC2RestrictedCommonPorts",
        "NIST.800.53.R5-EC2RestrictedSSH",
    )
    return load_balancer, security_group


def enable_access_logs(load_balancer: elbv2.ApplicationLoadBalancer, bucket: s3.IBucket, prefix: str) -> None:
    """Access logs to ``bucket`` (SSE-S3: ALB log delivery does not support SSE-KMS).

    ``log_access_logs`` needs a concrete region to name the ELB log-delivery account; an
    environment-agnostic stack gets the same bucket policy with that account looked up per region
    (the ``ELBV2_ACCOUNT`` regional fact, a template mapping).
    """
    stack = Stack.of(load_balancer)
    if not Token.is_unresolved(stack.region):
        load_balancer.log_access_logs(bucket, prefix)
        return
    load_balancer.set_attribute("access_logs.s3.enabled", "true")
    load_balancer.set_attribute("access_logs.s3.bucket", bucket.bucket_name)
    load_balancer.set_attribute("access_logs.s3.prefix", prefix)
    delivery_account = stack.regional_fact(FactName.ELBV2_ACCOUNT)
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            actions=["s3:PutObject"],
            principals=[iam.AccountPrincipal(delivery_account)],
            resources=[bucket.arn_for_objects(f"{prefix}/AWSLogs/{stack.account}/*")],
        )
    )
    load_balancer.node.add_dependency(bucket)


def add_public_listeners(
    scope: Construct,
    load_balancer: elbv2.ApplicationLoadBalancer,
    *,
    certificate: acm.ICertificate | None,
    origin_secret: str | None,
) -> elbv2.ApplicationListener:
    """The listeners; returns the one the front targets are added to.

    With ``origin_secret`` the listener's default action is a 403 and a rule forwards only requests whose
    :data:`ORIGIN_HEADER` carries the secret (CloudFront adds it): the ALB cannot be used around CloudFront.
    """
    forbidden = elbv2.ListenerAction.fixed_response(403, content_type="text/plain", message_body="Forbidden")
    if certificate is not None:
        redirect = load_balancer.add_redirect(source_port=80, target_port=443)
        acknowledge(
            redirect,
            "This listener serves nothing: every request on port 80 is answered with a redirect to HTTPS on 443, "
            "whose listener has the ACM certificate.",
            "HIPAA.Security-ELBv2ACMCertificateRequired",
            "NIST.800.53.R5-ELBv2ACMCertificateRequired",
            "PCI.DSS.321-ELBv2ACMCertificateRequired",
        )
        listener = load_balancer.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            open=True,
            default_action=forbidden if origin_secret is not None else None,
        )
    else:
        listener = load_balancer.add_listener(
            "Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=True, default_action=forbidden
        )
        acknowledge_plain_http(load_balancer, listener, _NO_CERTIFICATE)
    return listener


def acknowledge_no_deletion_protection(load_balancer: elbv2.ApplicationLoadBalancer) -> None:
    acknowledge(
        load_balancer,
        "The ALB holds no data: the stack deletes it and a redeploy rebuilds it from the template. Deletion "
        "protection would make every stack delete and creation rollback fail; the database is the protected, "
        "retained resource.",
        "HIPAA.Security-ELBDeletionProtectionEnabled",
        "NIST.800.53.R5-ELBDeletionProtectionEnabled",
    )


def acknowledge_plain_http(
    load_balancer: elbv2.ApplicationLoadBalancer, listener: elbv2.ApplicationListener, reason: str
) -> None:
    """The TLS findings of an ALB whose only listener is HTTP, for ``reason``."""
    acknowledge(
        listener,
        reason,
        "HIPAA.Security-ELBv2ACMCertificateRequired",
        "NIST.800.53.R5-ELBv2ACMCertificateRequired",
        "PCI.DSS.321-ELBv2ACMCertificateRequired",
    )
    acknowledge(
        load_balancer,
        reason,
        "HIPAA.Security-ALBHttpToHttpsRedirection",
        "NIST.800.53.R5-ALBHttpToHttpsRedirection",
        "PCI.DSS.321-ALBHttpToHttpsRedirection",
        "PCI.DSS.321-ELBTlsHttpsListenersOnly",
        "NIST.800.53.R5-ELBTlsHttpsListenersOnly",
        "HIPAA.Security-ELBTlsHttpsListenersOnly",
    )


def front_target_conditions(origin_secret: str | None) -> list[elbv2.ListenerCondition] | None:
    """The conditions of the forwarding rule: CloudFront's origin header, or none (no CloudFront)."""
    if origin_secret is None:
        return None
    return [elbv2.ListenerCondition.http_header(ORIGIN_HEADER, [origin_secret])]


HEALTH_CHECK_INTERVAL = Duration.seconds(15)
