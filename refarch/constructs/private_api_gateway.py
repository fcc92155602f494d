"""PrivateApi's REST API: the stage with its logs, and the methods in front of the VPC Link (see ``private_api``)."""

from __future__ import annotations

from aws_cdk import Names, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders
from refarch.constructs.private_api_checks import ApiAuthorization

_AUTHORIZATION_TYPES = {
    ApiAuthorization.IAM: apigw.AuthorizationType.IAM,
    ApiAuthorization.COGNITO: apigw.AuthorizationType.COGNITO,
    ApiAuthorization.NONE: apigw.AuthorizationType.NONE,
}


def build_rest_api(
    scope: Construct,
    *,
    path: str,
    stage_name: str,
    throttling_rate_limit: float,
    throttling_burst_limit: int,
    execution_log_level: apigw.MethodLoggingLevel,
    cloud_watch_role: bool,
    cache_cluster_size: str | None,
    encryption_key: kms.IKey,
    log_retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
) -> tuple[apigw.RestApi, logs.LogGroup, logs.LogGroup]:
    """The regional REST API and its stage: throttled, JSON access logs, X-Ray, execution logs without bodies.

    Returns the API, its access log group and its execution log group.
    """
    access_log_group = _builders.build_log_group(
        scope, "AccessLogs", encryption_key=encryption_key, retention=log_retention, removal_policy=removal_policy
    )
    caching = cache_cluster_size is not None
    api = apigw.RestApi(
        scope,
        "Api",
        rest_api_name=Names.unique_resource_name(scope, max_length=255, separator="-"),
        description=f"Private API of {path}",
        endpoint_types=[apigw.EndpointType.REGIONAL],
        cloud_watch_role=cloud_watch_role,
        deploy_options=apigw.StageOptions(
            stage_name=stage_name,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            access_log_destination=apigw.LogGroupLogDestination(access_log_group),
            access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                caller=True,
                http_method=True,
                ip=True,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=True,
            ),
            tracing_enabled=True,
            logging_level=execution_log_level,
            data_trace_enabled=False,
            metrics_enabled=True,
            cache_cluster_enabled=caching,
            cache_cluster_size=cache_cluster_size,
            caching_enabled=caching,
            cache_data_encrypted=caching,
        ),
    )
    if cloud_watch_role:
        role = api.node.find_child("CloudWatchRole")
        acknowledge(
            role,
            "AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy of the account-wide API "
            "Gateway logging role; it lets API Gateway write execution logs, nothing else.",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        )
    stage = api.deployment_stage
    # API Gateway would create the execution log group itself: unencrypted, kept forever. It
    # exists first here, under the name API Gateway writes to, encrypted and with retention.
    execution_log_group = _builders.build_log_group(
        scope,
        "ExecutionLogs",
        log_group_name=f"API-Gateway-Execution-Logs_{api.rest_api_id}/{stage_name}",
        encryption_key=encryption_key,
        retention=log_retention,
        removal_policy=removal_policy,
    )
    stage.node.add_dependency(execution_log_group)
    acknowledge(
        stage,
        "API Gateway presents client certificates only to HTTPS backends; this backend is reached solely "
        "through the VPC Link (PrivateLink to an internal NLB whose instances admit only the NLB).",
        "HIPAA.Security-APIGWSSLEnabled",
        "NIST.800.53.R5-APIGWSSLEnabled",
        "PCI.DSS.321-APIGWSSLEnabled",
    )
    if not caching:
        acknowledge(
            stage,
            "No response cache by default: the backend's answers are per caller and dynamic, and a cache "
            "is billed per hour. Pass cache_cluster_size for an encrypted cache.",
            "HIPAA.Security-APIGWCacheEnabledAndEncrypted",
            "NIST.800.53.R5-APIGWCacheEnabledAndEncrypted",
            "PCI.DSS.321-APIGWCacheEnabledAndEncrypted",
        )
    return api, access_log_group, execution_log_group


def vpc_link_integration(uri: str, vpc_link: apigw.IVpcLink, *, proxy: bool) -> apigw.Integration:
    """An HTTP proxy integration through ``vpc_link`` (passing the ``{proxy}`` path on when ``proxy``)."""
    return apigw.Integration(
        type=apigw.IntegrationType.HTTP_PROXY,
        integration_http_method="ANY",
        uri=uri,
        options=apigw.IntegrationOptions(
            connection_type=apigw.ConnectionType.VPC_LINK,
            vpc_link=vpc_link,
            request_parameters={"integration.request.path.proxy": "method.request.path.proxy"} if proxy else None,
        ),
    )


def add_method(
    resource: apigw.IResource,
    integration: apigw.Integration,
    *,
    authorization: ApiAuthorization,
    authorizer: apigw.IAuthorizer | None,
    api_key_required: bool,
    request_validator: apigw.IRequestValidator,
    proxy: bool,
) -> apigw.Method:
    """An ``ANY`` method on ``resource`` with the API's authorization, key requirement and validator."""
    method = resource.add_method(
        "ANY",
        integration,
        authorization_type=_AUTHORIZATION_TYPES[authorization],
        authorizer=authorizer,
        api_key_required=api_key_required,
        request_validator=request_validator,
        request_parameters={"method.request.path.proxy": True} if proxy else None,
    )
    if authorization is ApiAuthorization.IAM:
        acknowledge(
            method,
            "The method is authorized with IAM (SigV4 and execute-api:Invoke, see grant_invoke), which "
            "suits service callers; pass authorization=ApiAuthorization.COGNITO for user tokens.",
            "AwsSolutions-COG4",
        )
    return method
