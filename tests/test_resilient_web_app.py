"""ResilientWebApp: every link of CloudFront -> public ALB -> front group -> internal ALB -> back group ->
Aurora, the alarms, the failover records, and bad props (each fails before anything is built)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53

from refarch.constructs import Capacity, DataLayer, PropValidationError, ResilientWebApp, ThreeTierVpc
from refarch.constructs.resilient_web_app.front import ORIGIN_HEADER
from refarch.testing import Network, check_flows, check_lifecycle, check_permissions
from refarch.testing.compliance import unacknowledged_errors
from tests.harness import (
    DEPLOY_TARGETS,
    BadProp,
    ReferenceStacks,
    SynthesizedStack,
    assert_fails_early,
    bad_prop_params,
    new_app,
    synth,
)

ACCOUNT, REGION = "111111111111", "us-east-1"


def _zone(scope: cdk.Stack) -> route53.IHostedZone:
    return route53.HostedZone.from_hosted_zone_attributes(
        scope, "Zone", hosted_zone_id="Z0123456789ABCDEFGHIJ", zone_name="example.com"
    )


@pytest.fixture(scope="module")
def default(reference_stacks: ReferenceStacks) -> SynthesizedStack:
    """No domain: CloudFront's own name, HTTP to the ALB behind the origin header, Aurora PostgreSQL."""
    return reference_stacks["ResilientWebAppStack"]


@pytest.fixture(scope="module")
def with_domain() -> SynthesizedStack:
    """A domain in us-east-1 (edge certificate made here), Aurora MySQL, CloudFront in front."""
    stack = cdk.Stack(new_app(), "DomainStack", env=cdk.Environment(account=ACCOUNT, region=REGION))
    network = ThreeTierVpc(stack, "Network", max_azs=2, availability_zones=["us-east-1a", "us-east-1b"])
    ResilientWebApp(
        stack,
        "App",
        vpc=network,
        data_layer=DataLayer.AURORA_MYSQL,
        domain_name="app.example.com",
        hosted_zone=_zone(stack),
        reader_count=2,
        dashboard="resilient-web-app",
    )
    return synth(stack)


@pytest.fixture(scope="module")
def dynamodb() -> SynthesizedStack:
    stack = cdk.Stack(new_app(), "TableStack")
    network = ThreeTierVpc(stack, "Network", max_azs=2, db_port=5432)
    ResilientWebApp(stack, "App", vpc=network, data_layer=DataLayer.DYNAMODB, shield_advanced=True, dashboard=False)
    return synth(stack)


# -- CloudFront -> public ALB: the origin header --------------------------------------------------


def test_cloudfront_sends_the_origin_header_the_alb_requires(default: SynthesizedStack) -> None:
    _, distribution = default.one("AWS::CloudFront::Distribution")
    (origin,) = distribution["Properties"]["DistributionConfig"]["Origins"]
    headers = {h["HeaderName"]: h["HeaderValue"] for h in origin["OriginCustomHeaders"]}
    _, listener = default.one("AWS::ElasticLoadBalancingV2::Listener", "AppFront")
    # Without the header: 403.
    (default_action,) = listener["Properties"]["DefaultActions"]
    assert default_action["Type"] == "fixed-response"
    assert default_action["FixedResponseConfig"]["StatusCode"] == "403"
    # With it: forwarded to the front group.
    _, rule = default.one("AWS::ElasticLoadBalancingV2::ListenerRule", "AppFront")
    (condition,) = rule["Properties"]["Conditions"]
    assert condition["Field"] == "http-header"
    assert condition["HttpHeaderConfig"]["HttpHeaderName"] == ORIGIN_HEADER
    assert condition["HttpHeaderConfig"]["Values"] == [headers[ORIGIN_HEADER]]
    assert "secretsmanager" in str(headers[ORIGIN_HEADER])  # a dynamic reference, not the value
    assert rule["Properties"]["Actions"][0]["Type"] == "forward"


def test_viewers_use_https_only_with_security_headers(default: SynthesizedStack) -> None:
    _, distribution = default.one("AWS::CloudFront::Distribution")
    behavior = distribution["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["ResponseHeadersPolicyId"] == "67f7725c-6f97-4210-82d7-5512b31e9d03"  # SECURITY_HEADERS


def test_public_alb_drops_invalid_headers_and_logs(default: SynthesizedStack) -> None:
    _, alb = default.one("AWS::ElasticLoadBalancingV2::LoadBalancer", "AppFront")
    attributes = {a["Key"]: a["Value"] for a in alb["Properties"]["LoadBalancerAttributes"]}
    assert alb["Properties"]["Scheme"] == "internet-facing"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["routing.http.desync_mitigation_mode"] == "strictest"
    assert attributes["access_logs.s3.enabled"] == "true"
    bucket_id, bucket = default.one("AWS::S3::Bucket", "AppLoadBalancerLogs")
    rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"  # ALB logs need SSE-S3


def test_groups_scale_on_cpu_and_requests_and_use_elb_health(default: SynthesizedStack) -> None:
    policies = default.resources("AWS::AutoScaling::ScalingPolicy")
    metrics = sorted(
        p["Properties"]["TargetTrackingConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"]
        for p in policies.values()
    )
    assert metrics == ["ALBRequestCountPerTarget"] * 2 + ["ASGAverageCPUUtilization"] * 2
    cpu_targets = {
        p["Properties"]["TargetTrackingConfiguration"]["TargetValue"]
        for p in policies.values()
        if "CPU" in str(p["Properties"]["TargetTrackingConfiguration"])
    }
    assert cpu_targets == {70}
    groups = default.resources("AWS::AutoScaling::AutoScalingGroup")
    assert len(groups) == 2
    for group in groups.values():
        assert group["Properties"]["HealthCheckType"] == "ELB"
        assert group["Properties"]["HealthCheckGracePeriod"] == 300
        assert "AutoScalingRollingUpdate" in group["UpdatePolicy"]  # replaced on template change
    for template in default.resources("AWS::EC2::LaunchTemplate").values():
        data = template["Properties"]["LaunchTemplateData"]
        assert data["MetadataOptions"]["HttpTokens"] == "required"
        assert data["BlockDeviceMappings"][0]["Ebs"] == {
            "DeleteOnTermination": True,
            "Encrypted": True,
            "VolumeSize": 20,
            "VolumeType": "gp3",
        }
        assert "KeyName" not in data


# -- the chain, on the synthesized network --------------------------------------------------------


@pytest.fixture(scope="module")
def network(default: SynthesizedStack) -> Network:
    return Network.from_templates([default.output])


def test_internal_alb_is_reachable_only_from_the_front_group(default: SynthesizedStack, network: Network) -> None:
    asg, alb = "AWS::AutoScaling::AutoScalingGroup", "AWS::ElasticLoadBalancingV2::LoadBalancer"
    internal = default.logical_id(alb, "AppBack")
    front, back = default.logical_id(asg, "AppFront"), default.logical_id(asg, "AppBack")
    public = default.logical_id(alb, "AppFront")
    assert network.can_reach(front, internal, 80).open
    # "tier:App": any other host beside it in the app tier, where the ACLs let port 80 through.
    for source in ("0.0.0.0/0", "tier:Web", "tier:App", "tier:Db", back, public):
        reach = network.can_reach(source, internal, 80)
        assert reach.closed, reach.explain()


def test_each_link_is_open_and_no_layer_is_skipped(default: SynthesizedStack, network: Network) -> None:
    asg, alb = "AWS::AutoScaling::AutoScalingGroup", "AWS::ElasticLoadBalancingV2::LoadBalancer"
    public, internal = default.logical_id(alb, "AppFront"), default.logical_id(alb, "AppBack")
    front, back = default.logical_id(asg, "AppFront"), default.logical_id(asg, "AppBack")
    database = default.logical_id("AWS::RDS::DBCluster", "AppData")
    assert network.can_reach("0.0.0.0/0", public, 80).open
    assert network.can_reach(public, front, 8080).open
    assert network.can_reach(internal, back, 8081).open
    assert network.can_reach(back, database, 5432).open
    assert network.can_reach(front, database, 5432).closed
    assert network.can_reach(public, back, 8081).closed
    assert network.can_reach("0.0.0.0/0", database, 5432).closed


def test_declared_flows_hold(default: SynthesizedStack) -> None:
    declared = default.output.declarations("flow")
    assert len(declared) >= 15
    assert not check_flows([default.output])


# -- data -----------------------------------------------------------------------------------------


def test_aurora_writer_and_reader_in_different_azs(with_domain: SynthesizedStack) -> None:
    _, cluster = with_domain.one("AWS::RDS::DBCluster")
    props = cluster["Properties"]
    assert props["StorageEncrypted"] is True and "KmsKeyId" in props
    assert props["EnableIAMDatabaseAuthentication"] is True
    assert props["DeletionProtection"] is True
    assert props["BackupRetentionPeriod"] == 7
    assert props["Engine"] == "aurora-mysql"
    azs = {k: i["Properties"]["AvailabilityZone"] for k, i in with_domain.resources("AWS::RDS::DBInstance").items()}
    by_role = {role: az for k, az in azs.items() for role in ("Writer", "Reader1", "Reader2") if role in k}
    # The writer in the first AZ, each reader in the next one, round robin: a reader is always elsewhere.
    assert by_role == {"Writer": "us-east-1a", "Reader1": "us-east-1b", "Reader2": "us-east-1a"}
    (parameters,) = with_domain.resources("AWS::RDS::DBClusterParameterGroup").values()
    assert parameters["Properties"]["Parameters"]["require_secure_transport"] == "ON"
    assert with_domain.resources("AWS::SecretsManager::RotationSchedule")


def test_dynamodb_data_layer_has_pitr_and_no_database(dynamodb: SynthesizedStack) -> None:
    (table,) = dynamodb.resources("AWS::DynamoDB::Table").values()
    assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True
    assert not dynamodb.resources("AWS::RDS::DBCluster")
    # Shield Advanced on the ALB only: this stack is not in us-east-1, where CloudFront's would live.
    (protection,) = dynamodb.resources("AWS::Shield::Protection").values()
    assert "AppFrontLoadBalancer" in str(protection["Properties"]["ResourceArn"])
    assert not check_flows([dynamodb.output])


# -- the cache and the work queue (both on in the reference stack) ---------------------------------


def test_cache_is_valkey_multi_az_encrypted_with_the_customer_key(default: SynthesizedStack) -> None:
    _, group = default.one("AWS::ElastiCache::ReplicationGroup")
    props = group["Properties"]
    assert props["Engine"] == "valkey"
    assert (props["MultiAZEnabled"], props["AutomaticFailoverEnabled"], props["NumCacheClusters"]) == (True, True, 2)
    assert (props["TransitEncryptionEnabled"], props["TransitEncryptionMode"]) == (True, "required")
    assert props["AtRestEncryptionEnabled"] is True
    assert props["KmsKeyId"] == {"Fn::GetAtt": [default.logical_id("AWS::KMS::Key", "AppKey"), "Arn"]}
    assert "secretsmanager" in str(props["AuthToken"])  # a dynamic reference, not the value
    assert props["Port"] == 6380
    for kind in ("CacheCpu", "CacheMemory", "CacheEvictions"):
        _, alarm = default.one("AWS::CloudWatch::Alarm", f"AppAlarms{kind}")
        assert {m["MetricStat"]["Period"] for m in alarm["Properties"]["Metrics"] if "MetricStat" in m} == {60}
    _, subnets = default.one("AWS::ElastiCache::SubnetGroup")
    assert all("DbSubnet" in str(subnet) for subnet in subnets["Properties"]["SubnetIds"])
    assert len(subnets["Properties"]["SubnetIds"]) == 2


def test_cache_is_reachable_only_from_the_back_group(default: SynthesizedStack) -> None:
    """The network model does not place ElastiCache nodes itself: the flows name the cache's subnets and
    security group, and check_flows evaluates them on the synthesized groups and ACLs."""
    flows = [d for d in default.output.declarations("flow") if "cache" in str(d).lower()]
    # back -> cache open; internet, front group, public ALB, web tier closed.
    assert sorted(str(d).count("'open'") for d in flows) == [0, 0, 0, 0, 1], flows
    assert not check_flows([default.output])


def test_work_queue_is_encrypted_tls_only_with_a_dead_letter_queue(default: SynthesizedStack) -> None:
    key = {"Fn::GetAtt": [default.logical_id("AWS::KMS::Key", "AppKey"), "Arn"]}
    dead_id, dead = default.one("AWS::SQS::Queue", "AppWorkDeadLetters")
    _, work = default.one("AWS::SQS::Queue", "AppWorkQueue")
    for queue in (dead, work):
        assert queue["Properties"]["KmsMasterKeyId"] == key
    assert work["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dead_id, "Arn"]},
        "maxReceiveCount": 5,
    }
    policies = default.resources("AWS::SQS::QueuePolicy")
    assert len(policies) == 2  # the work queue's and the dead-letter queue's
    for policy in policies.values():
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def _policy_of(synthesized: SynthesizedStack, role_contains: str) -> str:
    role = synthesized.logical_id("AWS::IAM::Role", role_contains)
    return str(
        [
            p["Properties"]["PolicyDocument"]
            for p in synthesized.resources("AWS::IAM::ManagedPolicy").values()
            if {"Ref": role} in p["Properties"].get("Roles", [])
        ]
    )


def test_front_sends_work_and_back_consumes_it_with_the_key(default: SynthesizedStack) -> None:
    front, back = _policy_of(default, "AppFrontInstanceRole"), _policy_of(default, "AppBackInstanceRole")
    assert "sqs:SendMessage" in front and "kms:GenerateDataKey" in front and "sqs:ReceiveMessage" not in front
    assert "sqs:ReceiveMessage" in back and "sqs:DeleteMessage" in back and "sqs:SendMessage" not in back
    assert "AppCacheAuthToken" in back and "AppCacheAuthToken" not in front


def test_grants_return_the_whole_grant_with_the_key() -> None:
    stack = cdk.Stack(new_app(), "Grants")
    network = ThreeTierVpc(stack, "Network", max_azs=2, db_port=5432)
    app = ResilientWebApp(stack, "App", vpc=network, work_queue=True)
    role = iam.Role(stack, "Worker", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    for grant, actions in (
        (app.grant_send_work(role), {"sqs:SendMessage", "kms:GenerateDataKey"}),
        (app.grant_consume_work(role), {"sqs:ReceiveMessage", "kms:Decrypt"}),
    ):
        granted = {a for s in grant.principal_statements for a in s.actions}
        assert actions <= granted, granted
    without = ResilientWebApp(stack, "NoQueue", vpc=network)
    with pytest.raises(PropValidationError) as raised:
        without.grant_send_work(role)
    assert raised.value.prop == "work_queue"


# -- alarms ---------------------------------------------------------------------------------------


def test_composite_alarm_rule_is_cpu_and_errors_and_latency(default: SynthesizedStack) -> None:
    _, composite = default.one("AWS::CloudWatch::CompositeAlarm", "AppAlarmsDegraded")
    rule = composite["Properties"]["AlarmRule"]
    text = str(rule)
    alarms = default.resources("AWS::CloudWatch::Alarm")
    members = {
        name: alarms[name]
        for name in alarms
        if any(part in name for part in ("HighCpu", "HighErrorRate", "SlowResponses"))
    }
    assert len(members) == 3
    for name in members:
        assert name in text
    assert text.count(" AND ") == 2 and "ALARM(" in text
    by_kind = {
        next(p for p in ("HighCpu", "HighErrorRate", "SlowResponses") if p in n): a["Properties"]
        for n, a in members.items()
    }
    assert (by_kind["HighCpu"]["Threshold"], by_kind["HighCpu"]["EvaluationPeriods"]) == (80, 5)
    assert by_kind["HighCpu"]["Period"] == 60
    assert (by_kind["HighErrorRate"]["Threshold"], by_kind["HighErrorRate"]["EvaluationPeriods"]) == (0.01, 3)
    assert (by_kind["SlowResponses"]["Threshold"], by_kind["SlowResponses"]["EvaluationPeriods"]) == (0.5, 3)
    assert composite["Properties"]["AlarmActions"]


def test_anomaly_alarm_on_request_count(default: SynthesizedStack) -> None:
    anomaly = [
        a for a in default.resources("AWS::CloudWatch::Alarm").values() if "ThresholdMetricId" in a["Properties"]
    ]
    assert len(anomaly) == 1
    metrics = anomaly[0]["Properties"]["Metrics"]
    assert any("ANOMALY_DETECTION_BAND" in str(m.get("Expression", "")) for m in metrics)
    assert any(m.get("MetricStat", {}).get("Metric", {}).get("MetricName") == "RequestCount" for m in metrics)


def test_one_alarm_topic_for_the_network_and_the_app(default: SynthesizedStack) -> None:
    (topic_id,) = default.resources("AWS::SNS::Topic")
    assert topic_id.startswith("Network")
    alarms = [
        *default.resources("AWS::CloudWatch::Alarm").values(),
        *default.resources("AWS::CloudWatch::CompositeAlarm").values(),
    ]
    # The composite's three conditions notify through it only; every other alarm notifies the one topic.
    actions = {str(a["Properties"]["AlarmActions"]) for a in alarms if "AlarmActions" in a["Properties"]}
    assert actions == {str([{"Ref": topic_id}])}


def test_dashboard_off_or_named(dynamodb: SynthesizedStack, with_domain: SynthesizedStack) -> None:
    assert not [k for k in dynamodb.resources("AWS::CloudWatch::Dashboard") if k.startswith("App")]
    _, named = with_domain.one("AWS::CloudWatch::Dashboard", "App")
    assert named["Properties"]["DashboardName"] == "resilient-web-app"


def test_layer_alarms_notify_the_topic(default: SynthesizedStack) -> None:
    alarms = default.resources("AWS::CloudWatch::Alarm")
    names = " ".join(alarms)
    for kind in (
        "Front5xxRate",
        "FrontResponseTime",
        "FrontUnhealthyHosts",
        "FrontInServiceBelowMinimum",
        "Back5xxRate",
        "BackUnhealthyHosts",
        "DatabaseCpu",
        "DatabaseReplicaLag",
        "DatabaseFreeableMemory",
        "CacheCpu",
        "CacheMemory",
        "CacheEvictions",
        "WorkDeadLetters",
    ):
        assert kind in names, kind
    layer = [a for n, a in alarms.items() if not any(p in n for p in ("HighCpu", "HighErrorRate", "SlowResponses"))]
    assert layer and all(a["Properties"].get("AlarmActions") for a in layer)


# -- edge with a domain: alias records, HTTPS to the origin; the domain without CloudFront -------------


def test_domain_gives_https_origin_alias_and_health_check(with_domain: SynthesizedStack) -> None:
    _, distribution = with_domain.one("AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    assert config["Aliases"] == ["app.example.com"]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    (origin,) = config["Origins"]
    assert origin["DomainName"] == "origin.app.example.com"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    listeners = with_domain.resources("AWS::ElasticLoadBalancingV2::Listener")
    protocols = sorted(lst["Properties"]["Protocol"] for k, lst in listeners.items() if k.startswith("AppFront"))
    assert protocols == ["HTTP", "HTTPS"]
    redirect = next(
        lst for k, lst in listeners.items() if k.startswith("AppFront") and lst["Properties"]["Protocol"] == "HTTP"
    )
    assert redirect["Properties"]["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"
    (check,) = with_domain.resources("AWS::Route53::HealthCheck").values()
    assert check["Properties"]["HealthCheckConfig"]["Type"] == "HTTPS"
    # CloudFront reaches the ALB by origin.<domain>; viewers use <domain> itself, on the distribution.
    records = {
        r["Properties"]["Name"]: r["Properties"] for r in with_domain.resources("AWS::Route53::RecordSet").values()
    }
    assert "DNSName" in str(records["origin.app.example.com."]["AliasTarget"])
    assert "AppFrontLoadBalancer" in str(records["origin.app.example.com."]["AliasTarget"])
    assert "AppDistribution" in str(records["app.example.com."]["AliasTarget"])


def test_without_cloudfront_the_record_is_the_domain_itself(no_cloudfront: SynthesizedStack) -> None:
    """One region, cloudfront=False: the ALB serves <domain> with its certificate, and <domain> points at it."""
    assert not no_cloudfront.resources("AWS::CloudFront::Distribution")
    (record,) = no_cloudfront.resources("AWS::Route53::RecordSet").values()
    props = record["Properties"]
    assert props["Name"] == "app.example.com."
    assert "Failover" not in props and "SetIdentifier" not in props
    alb = no_cloudfront.logical_id("AWS::ElasticLoadBalancingV2::LoadBalancer", "AppFront")
    assert props["AliasTarget"]["DNSName"] == {"Fn::Join": ["", ["dualstack.", {"Fn::GetAtt": [alb, "DNSName"]}]]}
    _, certificate = no_cloudfront.one("AWS::CertificateManager::Certificate")
    assert certificate["Properties"]["DomainName"] == "app.example.com"
    # No failover record follows a health check, and no alarm reads one: none is made (and paid for).
    assert not no_cloudfront.resources("AWS::Route53::HealthCheck")


def _open_to_the_internet(synthesized: SynthesizedStack) -> tuple[str, str]:
    """The public ALB security group's description, and the reason its AwsSolutions-EC23 is acknowledged."""
    _, group = synthesized.one("AWS::EC2::SecurityGroup", "AppFrontLoadBalancerSecurityGroup")
    key = str(cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    (reason,) = [
        entry["data"]["Annotation::AwsSolutions-EC23"]
        for path, entries in synthesized.output.metadata.items()
        if path.endswith("/App/Front/LoadBalancerSecurityGroup")
        for entry in entries
        if entry.get("type") == key and "Annotation::AwsSolutions-EC23" in entry.get("data", {})
    ]
    return group["Properties"]["GroupDescription"], reason


def test_open_alb_is_acknowledged_for_what_guards_it(
    default: SynthesizedStack, no_cloudfront: SynthesizedStack
) -> None:
    """Without CloudFront there is no origin header: the acknowledgment names what guards the ALB then."""
    description, reason = _open_to_the_internet(default)
    assert "(CloudFront)" in description and "secret origin header" in reason
    description, reason = _open_to_the_internet(no_cloudfront)
    assert "CloudFront" not in description
    assert "origin header" not in reason
    assert "WAF" in reason and "certificate" in reason and "redirects to HTTPS" in reason


# -- two regions: failover records and Aurora Global Database -------------------------------------

PRIMARY_REGION, SECONDARY_REGION = "eu-west-1", "eu-central-1"
_AZ_CONTEXT = {
    f"availability-zones:account={account}:region={region}": [f"{region}a", f"{region}b"]
    for account in (ACCOUNT, "222222222222")
    for region in (PRIMARY_REGION, SECONDARY_REGION, "us-west-2")
}


def _regional_stack(app: cdk.App, name: str, region: str, *, account: str = ACCOUNT, db_port: int = 3306) -> cdk.Stack:
    """A region-bound stack with cross-region references on, its network (``Network``) and zone (``Zone``)."""
    stack = cdk.Stack(app, name, env=cdk.Environment(account=account, region=region), cross_region_references=True)
    ThreeTierVpc(stack, "Network", max_azs=2, db_port=db_port)
    _zone(stack)
    return stack


def _regional_app(stack: cdk.Stack, **props: Any) -> ResilientWebApp:
    return ResilientWebApp(
        stack,
        "App",
        vpc=stack.node.find_child("Network"),
        data_layer=DataLayer.AURORA_MYSQL,
        domain_name="app.example.com",
        hosted_zone=stack.node.find_child("Zone"),
        cloudfront=False,
        **props,
    )


def _two_region_app() -> tuple[cdk.Stack, cdk.Stack]:
    """The primary app in eu-west-1 and its standby in eu-central-1, Aurora MySQL."""
    app = new_app(**_AZ_CONTEXT)
    primary = _regional_stack(app, "Primary", PRIMARY_REGION)
    secondary = _regional_stack(app, "Secondary", SECONDARY_REGION)
    primary_app = _regional_app(primary, failover=route53.Failover.PRIMARY)
    _regional_app(secondary, failover=route53.Failover.SECONDARY, standby_for=primary_app)
    return primary, secondary


@pytest.fixture(scope="module")
def two_regions() -> tuple[SynthesizedStack, SynthesizedStack]:
    primary, secondary = _two_region_app()
    return synth(primary), synth(secondary)


@pytest.fixture(scope="module")
def no_cloudfront() -> SynthesizedStack:
    stack = _regional_stack(new_app(**_AZ_CONTEXT), "NoCloudFront", PRIMARY_REGION)
    _regional_app(stack)
    return synth(stack)


def test_failover_records_pair_the_domain_across_the_regions(
    two_regions: tuple[SynthesizedStack, SynthesizedStack],
) -> None:
    for synthesized, role in zip(two_regions, ("PRIMARY", "SECONDARY"), strict=True):
        assert not synthesized.resources("AWS::CloudFront::Distribution")
        (record,) = synthesized.resources("AWS::Route53::RecordSet").values()
        props = record["Properties"]
        assert (props["Name"], props["Type"], props["Failover"]) == ("app.example.com.", "A", role)
        assert props["SetIdentifier"] == f"app.example.com-{role.lower()}"
        alb = synthesized.logical_id("AWS::ElasticLoadBalancingV2::LoadBalancer", "AppFront")
        # Each region's record aliases its own ALB, and follows the ALB's target health.
        assert props["AliasTarget"]["DNSName"] == {"Fn::Join": ["", ["dualstack.", {"Fn::GetAtt": [alb, "DNSName"]}]]}
        assert props["AliasTarget"]["EvaluateTargetHealth"] is True
        # The health check probes the ALB by its own name (the domain resolves to whichever region is up).
        check = synthesized.resources("AWS::Route53::HealthCheck")[props["HealthCheckId"]["Ref"]]
        config = check["Properties"]["HealthCheckConfig"]
        assert (config["Type"], config["Port"], config["ResourcePath"]) == ("HTTPS", 443, "/health")
        assert config["FullyQualifiedDomainName"] == {"Fn::GetAtt": [alb, "DNSName"]}
        _, certificate = synthesized.one("AWS::CertificateManager::Certificate")
        assert certificate["Properties"]["DomainName"] == "app.example.com"


def test_primary_cluster_is_the_source_of_a_retained_global_database(
    two_regions: tuple[SynthesizedStack, SynthesizedStack],
) -> None:
    primary, _ = two_regions
    cluster_id, cluster = primary.one("AWS::RDS::DBCluster")
    _, global_cluster = primary.one("AWS::RDS::GlobalCluster")
    assert global_cluster["Properties"] == {
        "SourceDBClusterIdentifier": {"Ref": cluster_id},
        "DeletionProtection": True,
    }
    assert global_cluster["DeletionPolicy"] == "Retain"
    assert cluster["Properties"]["MasterUsername"] == "dbadmin"
    assert "BacktrackWindow" not in cluster["Properties"]  # a global database's clusters cannot backtrack
    assert primary.resources("AWS::SecretsManager::RotationSchedule")
    classes = {i["Properties"]["DBInstanceClass"] for i in primary.resources("AWS::RDS::DBInstance").values()}
    assert classes == {"db.r6g.large"}  # a memory-optimized class by default


def test_secondary_cluster_joins_the_primary_global_database(
    two_regions: tuple[SynthesizedStack, SynthesizedStack],
) -> None:
    primary, secondary = two_regions
    global_id = primary.logical_id("AWS::RDS::GlobalCluster")
    # aws-cdk-lib's cross-region reference: the primary publishes the identifier as an output, and the
    # secondary's template reads it from the primary stack in its region when it deploys.
    (output_name,) = [k for k, o in primary.json["Outputs"].items() if o["Value"] == {"Ref": global_id}]
    _, cluster = secondary.one("AWS::RDS::DBCluster")
    props = cluster["Properties"]
    assert props["GlobalClusterIdentifier"] == {
        "Fn::GetStackOutput": {"StackName": "Primary", "Region": PRIMARY_REGION, "OutputName": output_name}
    }
    # No user, password, secret or database of its own: they are the primary's.
    for absent in ("MasterUsername", "MasterUserPassword", "ManageMasterUserPassword", "DatabaseName"):
        assert absent not in props, absent
    assert not secondary.resources("AWS::SecretsManager::Secret")
    assert not secondary.resources("AWS::SecretsManager::RotationSchedule")
    key = secondary.logical_id("AWS::KMS::Key", "AppKey")
    assert (props["StorageEncrypted"], props["KmsKeyId"]) == (True, {"Fn::GetAtt": [key, "Arn"]})
    assert props["EnableGlobalWriteForwarding"] is True
    assert props["EnableIAMDatabaseAuthentication"] is True and props["BackupRetentionPeriod"] == 7
    _, primary_cluster = primary.one("AWS::RDS::DBCluster")
    for same in ("Engine", "EngineVersion", "EnableCloudwatchLogsExports"):
        assert props[same] == primary_cluster["Properties"][same], same
    azs = sorted(i["Properties"]["AvailabilityZone"] for i in secondary.resources("AWS::RDS::DBInstance").values())
    assert azs == [f"{SECONDARY_REGION}a", f"{SECONDARY_REGION}b"]


def test_secondary_alarms_on_global_replication_lag_and_lets_the_back_group_in(
    two_regions: tuple[SynthesizedStack, SynthesizedStack],
) -> None:
    primary, secondary = two_regions
    _, alarm = secondary.one("AWS::CloudWatch::Alarm", "DatabaseGlobalReplicationLag")
    assert alarm["Properties"]["MetricName"] == "AuroraGlobalDBReplicationLag"
    assert alarm["Properties"]["Dimensions"] == [
        {"Name": "DBClusterIdentifier", "Value": {"Ref": secondary.logical_id("AWS::RDS::DBCluster")}}
    ]
    assert alarm["Properties"]["AlarmActions"]
    assert not [k for k in primary.resources("AWS::CloudWatch::Alarm") if "GlobalReplicationLag" in k]
    assert "rds-db:connect" in _policy_of(secondary, "AppBackInstanceRole")
    # The back instances read their region's readers (a secondary's writer endpoint serves no one).
    _, back = secondary.one("AWS::EC2::LaunchTemplate", "AppBack")
    cluster = secondary.logical_id("AWS::RDS::DBCluster")
    assert str({"Fn::GetAtt": [cluster, "ReadEndpoint.Address"]}) in str(back["Properties"]["LaunchTemplateData"])


def test_two_region_stacks_pass_the_packs_and_the_deploy_checks(
    two_regions: tuple[SynthesizedStack, SynthesizedStack],
) -> None:
    for synthesized in two_regions:
        assert not unacknowledged_errors(synthesized.stack)
        output = synthesized.output
        assert output.declarations("flow")
        assert not check_flows([output])
        assert not check_permissions(output)  # evaluated in each stack's own region, from its manifest
        assert not check_lifecycle([output])


# -- bad props: each fails before anything is built --------------------------------------------------


@pytest.fixture(scope="module")
def bad_prop_stack() -> cdk.Stack:
    """One unsynthesized stack with what the cases refer to; each case adds (and fails) one construct."""
    stack = cdk.Stack(new_app(), "BadProps")
    ThreeTierVpc(stack, "Network", max_azs=2, app_port=8080, db_port=5432)
    ThreeTierVpc(stack, "OneAz", max_azs=1, app_port=8080, db_port=5432)
    ec2.Vpc(stack, "Plain", max_azs=2, nat_gateways=0)
    _zone(stack)
    acm.Certificate.from_certificate_arn(
        stack, "Cert", "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000"
    )
    return stack


#: Names in a case's props that stand for constructs of the bad-prop stack.
_SHARED = {"one_az": "OneAz", "plain": "Plain", "zone": "Zone", "cert": "Cert"}


def _on(props: dict[str, Any]) -> Callable[[cdk.Stack], dict[str, Any]]:
    """The case's props on the two-AZ network of the bad-prop stack, its names resolved to the stack's constructs."""

    def resolve(stack: cdk.Stack) -> dict[str, Any]:
        resolved: dict[str, Any] = {"vpc": stack.node.find_child("Network"), **props}
        for key, value in props.items():
            if isinstance(value, str) and value in _SHARED:
                resolved[key] = stack.node.find_child(_SHARED[value])
        return resolved

    return resolve


D = Duration
_C: Callable[..., Capacity] = Capacity
BAD_PROPS: list[BadProp] = [
    # ports
    BadProp("front_port", _on({"front_port": 0})),  # front port 0
    BadProp("front_port", _on({"front_port": 70000})),  # front port too big
    BadProp("front_port", _on({"front_port": 9000})),  # front port not the network's app port
    BadProp("internal_port", _on({"internal_port": 0})),  # internal port 0
    BadProp("internal_port", _on({"internal_port": 65536})),  # internal port too big
    BadProp("internal_port", _on({"internal_port": 80.5})),  # internal port fractional
    BadProp("back_port", _on({"back_port": 0})),  # back port 0
    BadProp("back_port", _on({"back_port": -1})),  # back port negative
    BadProp("back_port", _on({"back_port": 8080})),  # back port equals front
    BadProp("internal_port", _on({"internal_port": 8080})),  # internal port equals front
    BadProp("back_port", _on({"internal_port": 9000, "back_port": 9000})),  # back port equals internal
    BadProp("database_port", _on({"back_port": 5432})),  # database port equals back
    BadProp("database_port", _on({"database_port": 3306})),  # database port not open on the db tier
    BadProp("database_port", _on({"database_port": 0})),  # database port 0
    BadProp(
        "database_port", _on({"data_layer": DataLayer.DYNAMODB, "database_port": 5432})
    ),  # database port with DynamoDB
    BadProp("database_port", _on({"data_layer": DataLayer.AURORA_MYSQL})),  # MySQL on a PostgreSQL db tier
    # capacities
    BadProp("front_capacity.minimum", _on({"front_capacity": _C(0, 4)})),  # front minimum 0
    BadProp("front_capacity.minimum", _on({"front_capacity": _C(1, 4)})),  # front minimum 1: not Multi-AZ
    BadProp("front_capacity.maximum", _on({"front_capacity": _C(4, 3)})),  # front maximum below minimum
    BadProp("front_capacity.maximum", _on({"front_capacity": _C(2, 1000)})),  # front maximum too big
    BadProp("front_capacity.desired", _on({"front_capacity": _C(3, 6, 2)})),  # front desired below minimum
    BadProp("front_capacity.desired", _on({"front_capacity": _C(2, 6, 7)})),  # front desired above maximum
    BadProp("front_capacity.minimum", _on({"front_capacity": _C(2.5, 6)})),  # front minimum fractional
    BadProp("back_capacity.minimum", _on({"back_capacity": _C(1, 4)})),  # back minimum 1
    BadProp("back_capacity.maximum", _on({"back_capacity": _C(5, 2)})),  # back maximum below minimum
    BadProp("back_capacity.desired", _on({"back_capacity": _C(2, 3, 4)})),  # back desired above maximum
    BadProp("back_capacity.maximum", _on({"back_capacity": _C(2, 101)})),  # back maximum too big
    # scaling and health checks
    BadProp("cpu_target_percent", _on({"cpu_target_percent": 0})),  # cpu target 0
    BadProp("cpu_target_percent", _on({"cpu_target_percent": 95})),  # cpu target 95
    BadProp("cpu_target_percent", _on({"cpu_target_percent": 5})),  # cpu target 5
    BadProp("requests_per_target", _on({"requests_per_target": 0})),  # requests per target 0
    BadProp("requests_per_target", _on({"requests_per_target": 10.5})),  # requests per target fractional
    BadProp("requests_per_target", _on({"requests_per_target": 1_000_000})),  # requests per target too many
    BadProp("health_check_grace", _on({"health_check_grace": D.hours(3)})),  # grace too long
    BadProp("health_check_path", _on({"health_check_path": "health"})),  # health path relative
    BadProp("health_check_path", _on({"health_check_path": "/health?x=1"})),  # health path with a query
    BadProp("health_check_path", _on({"health_check_path": "/he alth"})),  # health path with a space
    BadProp("health_check_path", _on({"health_check_path": ""})),  # health path empty
    # data
    BadProp("data_layer", _on({"data_layer": "aurora"})),  # data layer a string
    BadProp("reader_count", _on({"reader_count": 0})),  # no reader
    BadProp("reader_count", _on({"reader_count": 16})),  # 16 readers
    BadProp("backup_retention", _on({"backup_retention": D.hours(1)})),  # backups 0 days
    BadProp("backup_retention", _on({"backup_retention": D.days(36)})),  # backups 36 days
    BadProp("backup_retention", _on({"backup_retention": D.hours(36)})),  # backups not whole days
    BadProp("secret_rotation_interval", _on({"secret_rotation_interval": D.hours(1)})),  # rotation every hour
    BadProp("secret_rotation_interval", _on({"secret_rotation_interval": D.days(1001)})),  # rotation 1001 days
    BadProp("secret_rotation_interval", _on({"secret_rotation_interval": D.hours(30)})),  # rotation not whole days
    # network
    BadProp("vpc", _on({"vpc": "one_az"})),  # Multi-AZ data layer on one AZ
    BadProp("vpc", _on({"vpc": "one_az", "data_layer": DataLayer.DYNAMODB})),  # DynamoDB app on one AZ
    BadProp("vpc", _on({"vpc": "plain"})),  # network a plain VPC
    # edge
    BadProp("hosted_zone", _on({"domain_name": "app.example.com"})),  # domain without a zone
    BadProp("domain_name", _on({"hosted_zone": "zone"})),  # zone without a domain
    BadProp("domain_name", _on({"domain_name": "App.Example.com", "hosted_zone": "zone"})),  # domain with capitals
    BadProp(
        "domain_name", _on({"domain_name": "https://app.example.com", "hosted_zone": "zone"})
    ),  # domain with a scheme
    BadProp("domain_name", _on({"domain_name": "localhost", "hosted_zone": "zone"})),  # domain without a dot
    BadProp(
        "edge_certificate", _on({"domain_name": "app.example.com", "hosted_zone": "zone"})
    ),  # domain outside us-east-1 without edge certificate
    BadProp("edge_certificate", _on({"edge_certificate": "cert"})),  # edge certificate without a domain
    BadProp(
        "edge_certificate",
        _on({"edge_certificate": "cert", "domain_name": "app.example.com", "hosted_zone": "zone", "cloudfront": False}),
    ),  # edge certificate without CloudFront
    BadProp("cloudfront", _on({"cloudfront": False})),  # no CloudFront and no domain
    BadProp("failover", _on({"failover": route53.Failover.PRIMARY})),  # failover without a domain
    # alarms
    BadProp("alarm_cpu_percent", _on({"alarm_cpu_percent": 0})),  # alarm cpu 0
    BadProp("alarm_cpu_percent", _on({"alarm_cpu_percent": 150})),  # alarm cpu 150
    BadProp("alarm_error_rate", _on({"alarm_error_rate": 0})),  # alarm error rate 0
    BadProp("alarm_error_rate", _on({"alarm_error_rate": 5})),  # alarm error rate as percent
    BadProp("alarm_response_time", _on({"alarm_response_time": D.millis(1)})),  # alarm response time 1 ms
    BadProp("alarm_response_time", _on({"alarm_response_time": D.minutes(2)})),  # alarm response time 2 minutes
    # cache and work queue
    BadProp("cache_port", _on({"cache_port": 6390})),  # cache port without the cache
    BadProp("cache_node_type", _on({"cache_node_type": "cache.r7g.large"})),  # cache node type without the cache
    BadProp("cache_port", _on({"cache": True, "cache_port": 0})),  # cache port 0
    BadProp("cache_port", _on({"cache": True, "cache_port": 5432})),  # cache port equals the database's
    BadProp("cache_port", _on({"cache": True, "cache_port": 8081})),  # cache port equals back
    BadProp("cache_node_type", _on({"cache": True, "cache_node_type": "t4g.small"})),  # cache node type not a node type
    BadProp("work_queue_max_receive_count", _on({"work_queue_max_receive_count": 3})),  # max receives without the queue
    BadProp(
        "work_queue_max_receive_count", _on({"work_queue": True, "work_queue_max_receive_count": 0})
    ),  # max receives 0
    BadProp(
        "work_queue_max_receive_count", _on({"work_queue": True, "work_queue_max_receive_count": 1001})
    ),  # max receives 1001
    # operations view
    BadProp("dashboard", _on({"dashboard": "my app"})),  # dashboard name with a space
    BadProp("dashboard", _on({"dashboard": 1})),  # dashboard a number
    BadProp("alarm_topic", _on({"alarm_topic": "arn:aws:sns:us-east-1:111111111111:alarms"})),  # alarm topic a string
    # what read_props catches for every construct: names, types, empties
    BadProp("back_prot", _on({"back_prot": 8082}), says="Did you mean 'back_port'"),  # a misspelt prop
    BadProp("vpc", {}, says="needs it"),  # no vpc
    BadProp("front_capacity", _on({"front_capacity": (2, 6)})),  # a tuple for a Capacity
    BadProp("cloudfront", _on({"cloudfront": "yes"})),  # a string for a bool
    BadProp("internal_port", _on({"internal_port": True})),  # True for a port
    BadProp("log_retention", _on({"log_retention": 365})),  # days as a number, not RetentionDays
    BadProp("removal_policy", _on({"removal_policy": "retain"})),  # a string for RemovalPolicy
    BadProp("domain_name", _on({"domain_name": "", "hosted_zone": "zone"})),  # an empty domain
    BadProp("edge_web_acl_arn", _on({"edge_web_acl_arn": ""})),  # an empty ARN
    BadProp("waf_rate_limit", _on({"waf_rate_limit": 5})),  # below WAF's minimum
]


@pytest.mark.parametrize("case", bad_prop_params(BAD_PROPS))
def test_bad_prop(case: BadProp, bad_prop_stack: cdk.Stack) -> None:
    assert_fails_early(ResilientWebApp, case, bad_prop_stack)


def test_there_are_at_least_85_bad_prop_cases() -> None:
    assert len(BAD_PROPS) >= 70 and len(TWO_REGION_BAD_PROPS) >= 15


# -- two-region bad props: the checks between the regions ------------------------------------------


@pytest.fixture(scope="module")
def region_stacks() -> dict[str, cdk.Stack]:
    """Unsynthesized stacks for the two-region cases: the pair of _two_region_app (the primary already has
    its standby), a third region with a PostgreSQL network and another zone, a stack of another account,
    and an environment-agnostic one."""
    primary, secondary = _two_region_app()
    app = primary.node.scope
    assert isinstance(app, cdk.App)
    third = _regional_stack(app, "Third", "us-west-2")
    ThreeTierVpc(third, "NetworkPg", max_azs=2, db_port=5432)
    route53.HostedZone.from_hosted_zone_attributes(
        third, "OtherZone", hosted_zone_id="Z9999999999ABCDEFGHIJ", zone_name="example.org"
    )
    other_account = _regional_stack(app, "OtherAccount", "us-west-2", account="222222222222")
    agnostic = cdk.Stack(app, "Agnostic")
    ThreeTierVpc(agnostic, "Network", max_azs=2, db_port=3306)
    _zone(agnostic)
    return {s.stack_name: s for s in (primary, secondary, third, other_account, agnostic)}


def _standby(**overrides: Any) -> Callable[[cdk.Stack], dict[str, Any]]:
    """A SECONDARY's props standing by for the primary app, with ``overrides``; string values name the
    primary or secondary app or a construct of the case's stack."""

    def resolve(stack: cdk.Stack) -> dict[str, Any]:
        app = stack.node.scope
        assert isinstance(app, cdk.App)
        apps = {
            name: app.node.find_child(name.capitalize()).node.find_child("App") for name in ("primary", "secondary")
        }
        props: dict[str, Any] = {
            "vpc": stack.node.find_child("Network"),
            "data_layer": DataLayer.AURORA_MYSQL,
            "domain_name": "app.example.com",
            "hosted_zone": stack.node.find_child("Zone"),
            "cloudfront": False,
            "failover": route53.Failover.SECONDARY,
            "standby_for": apps["primary"],
            **overrides,
        }
        for key, value in overrides.items():
            if value in ("primary", "secondary"):
                props[key] = apps[value]
            elif isinstance(value, str) and key in ("vpc", "hosted_zone", "standby_for"):
                props[key] = stack.node.find_child(value)
        return props

    return resolve


_PRIMARY = route53.Failover.PRIMARY
_T4G_MEDIUM = ec2.InstanceType("t4g.medium")
TWO_REGION_BAD_PROPS: list[tuple[str, BadProp]] = [
    ("Third", BadProp("cloudfront", _standby(cloudfront=True))),  # CloudFront with failover
    ("Agnostic", BadProp("failover", _standby(failover=_PRIMARY, standby_for=None))),  # primary not region-bound
    ("Agnostic", BadProp("failover", _standby(), says="region-bound")),  # standby in an env-agnostic stack
    ("Third", BadProp("data_layer", _standby(data_layer=DataLayer.DYNAMODB, failover=_PRIMARY, standby_for=None))),
    ("Third", BadProp("database_instance_type", _standby(database_instance_type=_T4G_MEDIUM))),  # burstable class
    (
        "Third",
        BadProp("database_instance_type", _standby(database_instance_type=ec2.InstanceType("m6g.large"))),
    ),  # a general-purpose class
    ("Third", BadProp("standby_for", _standby(standby_for=None))),  # SECONDARY without standby_for
    ("Third", BadProp("failover", _standby(failover=None))),  # standby_for without failover
    ("Third", BadProp("failover", _standby(failover=_PRIMARY))),  # standby_for on a PRIMARY
    ("Primary", BadProp("standby_for", _standby(), says="second region equal to the first")),  # same region
    ("Third", BadProp("standby_for", _standby(standby_for="secondary"))),  # stands by for a SECONDARY
    ("Third", BadProp("standby_for", _standby(standby_for="Network"))),  # stands by for a network
    ("OtherAccount", BadProp("standby_for", _standby(), says="account")),  # another account
    ("Third", BadProp("data_layer", _standby(data_layer=DataLayer.AURORA_POSTGRESQL, vpc="NetworkPg"))),  # engine
    ("Third", BadProp("domain_name", _standby(domain_name="www.example.com"))),  # another domain
    ("Third", BadProp("hosted_zone", _standby(hosted_zone="OtherZone"))),  # another zone
    ("Third", BadProp("standby_for", _standby(), says="already has a standby")),  # a second standby
]


@pytest.mark.parametrize(
    ("stack_name", "case"),
    [
        pytest.param(name, case, id=f"{name}-{param.id}")
        for (name, case), param in zip(
            TWO_REGION_BAD_PROPS, bad_prop_params([case for _, case in TWO_REGION_BAD_PROPS]), strict=True
        )
    ],
)
def test_two_region_bad_prop(stack_name: str, case: BadProp, region_stacks: dict[str, cdk.Stack]) -> None:
    assert_fails_early(ResilientWebApp, case, region_stacks[stack_name], construct_id="Standby")


def _log_writers(synthesized: SynthesizedStack) -> list[Any]:
    bucket_id, _ = synthesized.one("AWS::S3::Bucket", "AppLoadBalancerLogs")
    (policy,) = [
        p
        for p in synthesized.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    return [
        s["Principal"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow" and "s3:PutObject" in str(s["Action"])
    ]


def test_alb_log_delivery_may_write_in_an_agnostic_stack(default: SynthesizedStack) -> None:
    """log_access_logs refuses stacks without a region; the construct looks the ELB account up per region."""
    writers = _log_writers(default)
    assert writers and all("Fn::FindInMap" in str(w) for w in writers), writers


def test_alb_log_delivery_may_write_in_a_concrete_region(with_domain: SynthesizedStack) -> None:
    writers = _log_writers(with_domain)
    assert any("127311923021" in str(w) for w in writers), writers  # us-east-1 ELB account


@pytest.mark.parametrize("variant", ["with_domain", "dynamodb"])
def test_variants_pass_the_packs_and_the_deploy_checks(variant: str, request: pytest.FixtureRequest) -> None:
    """The reference stack covers the default; the domain/MySQL and DynamoDB/Shield variants too (the two-region
    pair has its own test)."""
    synthesized: SynthesizedStack = request.getfixturevalue(variant)
    assert not unacknowledged_errors(synthesized.stack)
    output = synthesized.output
    assert output.declarations("flow")
    assert not check_flows([output])
    assert not check_permissions(output)  # a concrete environment is read from the manifest
    assert not check_lifecycle([output])


def test_metrics_take_metric_options_and_the_caller_wins() -> None:
    stack = cdk.Stack(new_app(), "Metrics")
    network = ThreeTierVpc(stack, "Network", max_azs=2, db_port=5432)
    app = ResilientWebApp(stack, "App", vpc=network)
    default = app.metric_request_count()
    assert (default.statistic, default.period.to_minutes()) == ("Sum", 5)
    mine = app.metric_request_count(statistic="Average", period=Duration.minutes(1))
    assert (mine.statistic, mine.period.to_minutes()) == ("Average", 1)
    assert app.metric_response_time(statistic="p90").statistic == "p90"
    assert app.metric_error_rate(period=Duration.minutes(1)).period.to_minutes() == 1


def test_the_two_region_example_is_a_deploy_target_with_both_stacks(
    deploy_outputs: Callable[[str], list[Any]],
) -> None:
    """examples/resilient_web_app joins the deploy checks, and they see both regions' stacks."""
    assert "example:resilient_web_app" in DEPLOY_TARGETS
    stacks = {output.name: output for output in deploy_outputs("example:resilient_web_app")}
    assert sorted(stacks) == ["ResilientWebAppPrimary", "ResilientWebAppSecondary"]
    assert (stacks["ResilientWebAppPrimary"].region, stacks["ResilientWebAppSecondary"].region) == (
        "eu-west-1",
        "eu-central-1",
    )
    (cluster,) = [
        r for r in stacks["ResilientWebAppSecondary"].resources.values() if r["Type"] == "AWS::RDS::DBCluster"
    ]
    assert "Fn::GetStackOutput" in cluster["Properties"]["GlobalClusterIdentifier"]
