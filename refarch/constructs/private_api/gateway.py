"""PrivateApi's REST API: the stage with its logs, and the methods in front of the VPC Link."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Names
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge
from refarch.constructs import _builders
from refarch.constructs.private_api.props import ApiAuthorization, PrivateApiProps

_AUTHORIZATION_TYPES = {
    ApiAuthorization.IAM: apigw.AuthorizationType.IAM,
    ApiAuthorization.COGNITO: apigw.AuthorizationType.COGNITO,
    ApiAuthorization.NONE: apigw.AuthorizationType.NONE,
}


@dataclass(frozen=True)
class Gateway:
    """The REST API of a PrivateApi and what hangs off it."""

    api: apigw.RestApi
    access_log_group: logs.LogGroup
    execution_log_group: logs.LogGroup
    vpc_link: apigw.VpcLink
    request_validator: apigw.RequestValidator
    #: The Cognito authorizer, with ApiAuthorization.COGNITO.
    authorizer: apigw.IAuthorizer | None
    #: ``/{proxy+}``: every path below the root, to the service.
    proxy_resource: apigw.Resource
    #: ``/{lambda_path}``, with a ``lambda_function``.
    lambda_resource: apigw.Resource | None
    usage_plan: apigw.UsagePlan | None
    api_key: apigw.IApiKey | None


def build_gateway(
    scope: Construct,
    p: PrivateApiProps,
    *,
    path: str,
    load_balancer: elbv2.NetworkLoadBalancer,
    encryption_key: kms.IKey,
) -> Gateway:
    """The API, the VPC Link to the NLB, every method (the service's, then the Lambda route's) and the usage plan."""
    api, access_log_group, execution_log_group = build_rest_api(scope, p, path=path, encryption_key=encryption_key)
    vpc_link = apigw.VpcLink(scope, "VpcLink", targets=[load_balancer], description=f"To the internal NLB of {path}")
    validator = api.add_request_validator(
        "RequestValidator", validate_request_parameters=True, validate_request_body=True
    )
    authorizer: apigw.IAuthorizer | None = None
    if p["authorization"] is ApiAuthorization.COGNITO:
        user_pool = p["user_pool"]
        assert user_pool is not None  # checks.check_props: COGNITO needs a user pool
        authorizer = apigw.CognitoUserPoolsAuthorizer(scope, "Authorizer", cognito_user_pools=[user_pool])

    def add(resource: apigw.IResource, integration: apigw.Integration, *, proxy: bool) -> None:
        add_method(
            resource,
            integration,
            authorization=p["authorization"],
            authorizer=authorizer,
            api_key_required=p["usage_plan"],
            request_validator=validator,
            proxy=proxy,
        )

    base = f"http://{load_balancer.load_balancer_dns_name}:{p['listener_port']}"
    add(api.root, vpc_link_integration(f"{base}/", vpc_link, proxy=False), proxy=False)
    proxy_resource = api.root.add_resource("{proxy+}")
    add(proxy_resource, vpc_link_integration(f"{base}/{{proxy}}", vpc_link, proxy=True), proxy=True)
    lambda_resource = None
    function = p["lambda_function"]
    if function is not None:
        lambda_resource = api.root.add_resource(p["lambda_path"])
        integration = apigw.LambdaIntegration(function)
        add(lambda_resource, integration, proxy=False)
        add(lambda_resource.add_resource("{proxy+}"), integration, proxy=True)
    usage_plan, api_key = build_usage_plan(api, p, path=path) if p["usage_plan"] else (None, None)
    return Gateway(
        api=api,
        access_log_group=access_log_group,
        execution_log_group=execution_log_group,
        vpc_link=vpc_link,
        request_validator=validator,
        authorizer=authorizer,
        proxy_resource=proxy_resource,
        lambda_resource=lambda_resource,
        usage_plan=usage_plan,
        api_key=api_key,
    )


def build_usage_plan(api: apigw.RestApi, p: PrivateApiProps, *, path: str) -> tuple[apigw.UsagePlan, apigw.IApiKey]:
    """A usage plan throttled like the stage, with one API key (and a daily quota, when given)."""
    quota = p["usage_plan_quota_per_day"]
    plan = api.add_usage_plan(
        "UsagePlan",
        description=f"Keys of {path}",
        throttle=apigw.ThrottleSettings(rate_limit=p["throttling_rate_limit"], burst_limit=p["throttling_burst_limit"]),
        quota=apigw.QuotaSettings(limit=quota, period=apigw.Period.DAY) if quota is not None else None,
    )
    plan.add_api_stage(stage=api.deployment_stage)
    api_key = api.add_api_key("ApiKey", description=f"Key of {path}")
    plan.add_api_key(api_key)
    return plan, api_key


def build_rest_api(
    scope: Construct, p: PrivateApiProps, *, path: str, encryption_key: kms.IKey
) -> tuple[apigw.RestApi, logs.LogGroup, logs.LogGroup]:
    """The regional REST API and its stage: throttled, JSON access logs, X-Ray, execution logs without bodies.

    Returns the API, its access log group and its execution log group.
    """
    stage_name, cache_cluster_size, cloud_watch_role = p["stage_name"], p["cache_cluster_size"], p["cloud_watch_role"]
    log_retention, removal_policy = p["log_retention"], p["removal_policy"]
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
            throttling_rate_limit=p["throttling_rate_limit"],
            throttling_burst_limit=p["throttling_burst_limit"],
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
            logging_level=p["execution_log_level"],
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
