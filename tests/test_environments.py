"""The environments users synthesize for: a concrete account in two regions, a bare ``cdk.App()``
without the cdk.json feature flags, a network in one stack used from another, and the examples.

Each configuration is synthesized once: in-process ones once per session (module fixtures), app runs
as `cdk synth` makes them once per inputs (``run_app_once``). Every stack of each must pass every
compliance pack with no unacknowledged error.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from refarch.compliance.acknowledge import nag_text, wildcard_resource_finding
from refarch.constructs import EncryptedDataStore, PrivateApi, PropValidationError, StreamingPipeline, ThreeTierVpc
from refarch.stacks import REFERENCE_STACKS, StreamingPipelineStack, build_reference_stacks
from refarch.stacks.reference_app import build_reference_app
from refarch.testing import SynthesizedTemplate
from refarch.testing.compliance import unacknowledged_errors
from tests.background import Background
from tests.harness import (
    CDK_CONTEXT,
    EXAMPLES,
    ROOT,
    UNIT_TEST_CONTEXT,
    ExampleRun,
    ExampleRuns,
    ReferenceStacks,
    pack_errors,
    run_app_once,
)

ACCOUNT = "123456789012"
REGIONS = ["eu-west-1", "us-east-1"]
STACKS = list(REFERENCE_STACKS)

#: Examples that take their environment from `-c account=... -c region=...`; the others pin a
#: region (three_tier_vpc: AZ IDs of eu-west-1; gdpr_storage: eu-central-1), which is fine.
REGION_AGNOSTIC_EXAMPLES = ["image_processor", "private_api", "streaming_pipeline"]


def concrete_context(region: str) -> dict[str, Any]:
    """What `cdk synth -c account=... -c region=...` gives the app, with the AZs the CLI's lookup
    would have stored in cdk.context.json (three, as in every commercial region used here)."""
    return {
        "account": ACCOUNT,
        "region": region,
        f"availability-zones:account={ACCOUNT}:region={region}": [f"{region}{s}" for s in "abc"],
    }


def _errors(stack: cdk.Stack) -> str:
    findings = unacknowledged_errors(stack)
    return f"{stack.stack_name}: {len(findings)} unacknowledged compliance errors:\n" + "\n".join(findings)


# -- the reference app for a concrete account ---------------------------------------------------


def _run_reference_app(region: str) -> ExampleRun:
    """app.py as `cdk synth -c account=123456789012 -c region=<region>` runs it: a process of its own,
    every pack registered as a validation plugin (bundling and the built-in validation skipped, as in
    every run but tests/test_full_synth.py's). Findings go to the validation report without failing the
    synth, so each stack's test names its own. Once per configuration (``run_app_once``)."""
    context = {
        **UNIT_TEST_CONTEXT,
        **concrete_context(region),
        "@aws-cdk/core:failSynthOnValidationErrors": False,
    }
    return run_app_once(ROOT, f"reference-app-{ACCOUNT}-{region}", context)


#: Queued on the background worker when the session starts (tests/background.py).
CONCRETE_REFERENCE_RUNS = {f"reference app for {ACCOUNT} in {region}": region for region in REGIONS}


@pytest.fixture(scope="module")
def concrete_reference_app(background: Background) -> Callable[[str], ExampleRun]:
    """``concrete_reference_app("us-east-1")``: the reference app's run for that region."""

    def run(region: str) -> ExampleRun:
        job = next(key for key, job_region in CONCRETE_REFERENCE_RUNS.items() if job_region == region)
        result = background.result(job, functools.partial(_run_reference_app, region))
        assert result.result.returncode == 0, f"app.py in {region}:\n{result.result.stdout}\n{result.result.stderr}"
        return result

    return run


def _stack_output(run: ExampleRun, name: str) -> SynthesizedTemplate:
    (stack,) = [s for s in run.stacks if s.name == name]
    return stack


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("name", STACKS)
def test_reference_app_synthesizes_for_a_concrete_account(
    name: str, region: str, concrete_reference_app: Callable[[str], ExampleRun]
) -> None:
    """`cdk synth -c account=123456789012 -c region=<region>` passes with all packs: in eu-west-1 the
    Redshift secret acknowledgment used to name only the token form of its ARN; in us-east-1 the
    data store's fixed EU residency guard used to fail the whole app."""
    run = concrete_reference_app(region)
    assert _environments(run.outdir, name) == {f"aws://{ACCOUNT}/{region}"}
    errors = pack_errors(run, name)
    assert not errors, f"{name} in {region}: {len(errors)} unacknowledged compliance errors:\n" + "\n".join(errors)


@pytest.mark.parametrize("region", REGIONS)
def test_no_finding_of_the_concrete_app_falls_outside_its_stacks(
    region: str, concrete_reference_app: Callable[[str], ExampleRun]
) -> None:
    """The per-stack test above filters findings by construct path; one aws-cdk-lib could not place
    (an empty path) would pass it unseen."""
    errors = pack_errors(concrete_reference_app(region))
    assert not errors, f"app.py in {region}: {len(errors)} unacknowledged compliance errors:\n" + "\n".join(errors)


def test_the_concrete_app_spans_three_azs(concrete_reference_app: Callable[[str], ExampleRun]) -> None:
    stack = _stack_output(concrete_reference_app("eu-west-1"), "StreamingPipelineStack")
    subnets = [r["Properties"] for r in stack.resources.values() if r["Type"] == "AWS::EC2::Subnet"]
    assert subnets
    assert {s["AvailabilityZone"] for s in subnets} == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}


def test_residency_comes_from_context() -> None:
    """The reference data store follows `-c allowed_regions=...`: it still refuses other regions."""
    app = cdk.App(context={**UNIT_TEST_CONTEXT, **concrete_context("us-east-1"), "allowed_regions": "eu-west-1"})
    with pytest.raises(PropValidationError, match="'us-east-1' is not one of them"):
        build_reference_app(app)


def test_a_region_without_an_account_says_what_to_pass() -> None:
    """CDK gives such a stack 2 placeholder AZs; Redshift needs 3: the error says to pass an account or AZs."""
    app = cdk.App(context=UNIT_TEST_CONTEXT)
    with pytest.raises(PropValidationError, match="no account.*2 placeholder AZs.*pass an account") as caught:
        StreamingPipelineStack(app, "Pipeline", env=cdk.Environment(region="eu-west-1"))
    assert caught.value.prop == "database_subnets"
    assert "availability_zones" in str(caught.value)


def test_wildcard_resource_finding_follows_the_environment() -> None:
    """The acknowledgment ID is built from the policy's own value, as cdk-nag writes it."""
    for env, expected in (
        (None, "arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:x!*"),
        (
            cdk.Environment(account=ACCOUNT, region="eu-west-1"),
            f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:x!*",
        ),
    ):
        stack = cdk.Stack(cdk.App(context=UNIT_TEST_CONTEXT), "S", env=env)
        arn = f"arn:{stack.partition}:secretsmanager:{stack.region}:{stack.account}:secret:x!*"
        assert wildcard_resource_finding(stack, arn) == f"AwsSolutions-IAM5[Resource::{expected}]"
    assert nag_text({"Fn::GetAtt": ["Bucket1", "Arn"]}) == "<Bucket1.Arn>"
    assert nag_text({"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/p/*"]]}) == "<B.Arn>/p/*"


# -- a bare cdk.App(): no cdk.json feature flags -------------------------------------------------


@pytest.fixture(scope="module")
def bare_app() -> dict[str, cdk.Stack]:
    """Every reference stack in ``cdk.App()`` with no context but skipped bundling (not a flag)."""
    app = cdk.App(context={"aws:cdk:bundling-stacks": []}, builtin_cloud_formation_validation=False)
    assert all(app.node.try_get_context(flag) is None for flag in CDK_CONTEXT)
    return build_reference_stacks(app)


@pytest.mark.parametrize("name", STACKS)
def test_bare_app_builds_every_reference_stack(name: str, bare_app: dict[str, cdk.Stack]) -> None:
    """StreamingPipeline, ImageProcessor and EncryptedDataStore used to fail here, deep in jsii
    (objectOwnership must be set to "ObjectWriter" when accessControl is "LogDeliveryWrite")."""
    stack = bare_app[name]
    assert not unacknowledged_errors(stack), _errors(stack)


@pytest.mark.parametrize("name", ["EncryptedDataStoreStack", "StreamingPipelineStack", "ImageProcessorStack"])
def test_bare_app_delivers_access_logs_by_bucket_policy(name: str, bare_app: dict[str, cdk.Stack]) -> None:
    """Without the flag CDK would grant S3 log delivery through an ACL, which ACL-less buckets refuse."""
    template = cdk.assertions.Template.from_stack(bare_app[name]).to_json()
    buckets = [r for r in template["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    assert buckets
    assert not [b for b in buckets if "AccessControl" in b["Properties"]]
    policies = json.dumps([r for r in template["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"])
    assert "logging.s3.amazonaws.com" in policies


# -- a network in one stack, constructs in another (cross-stack references) ----------------------


@pytest.fixture(scope="module")
def cross_stack_app() -> tuple[cdk.Stack, cdk.Stack]:
    app = cdk.App(context=UNIT_TEST_CONTEXT, builtin_cloud_formation_validation=False)
    network_stack = cdk.Stack(app, "SharedNetwork")
    network = ThreeTierVpc(
        network_stack,
        "Network",
        db_port=3306,
        interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS],
    )
    services = cdk.Stack(app, "Services")
    PrivateApi(services, "Api", vpc=network, app_port=8080)
    StreamingPipeline(
        services,
        "Pipeline",
        vpc=network.vpc,
        vpc_subnets=network.app.subnet_selection,
        redshift=False,  # the db tier opens MySQL's port here; Redshift would need its own (a prop error)
        lake_expiration=cdk.Duration.days(3 * 365),
    )
    return network_stack, services


def test_constructs_use_a_network_from_another_stack(cross_stack_app: tuple[cdk.Stack, cdk.Stack]) -> None:
    network_stack, services = cross_stack_app
    for stack in (network_stack, services):
        assert not unacknowledged_errors(stack), _errors(stack)
    # cdk.json makes cross-stack references weak (Fn::GetStackOutput); strong ones are Fn::ImportValue.
    text = json.dumps(cdk.assertions.Template.from_stack(services).to_json())
    references = text.count('"Fn::GetStackOutput"') + text.count('"Fn::ImportValue"')
    assert references > 0, "the Services stack should reference the network stack's VPC, subnets and ACLs"


# -- cross-construct conflicts are prop errors, raised before anything is built ------------------


_DAYS = cdk.Duration.days(30)


def _built_nothing(stack: cdk.Stack, construct_id: str) -> bool:
    child = stack.node.try_find_child(construct_id)
    return child is None or not child.node.children


@pytest.mark.parametrize(
    ("network_props", "build", "prop", "message"),
    [
        (
            {"db_port": 3306},
            lambda s, n: EncryptedDataStore(s, "X", data_retention=_DAYS, vpc=n.vpc),
            "vpc",
            "opens db_port=3306",
        ),
        (
            {"db_port": 3306},
            lambda s, n: StreamingPipeline(s, "X", vpc=n.vpc),
            "vpc",
            "listens on 5439",
        ),
        (
            {"max_azs": 1, "db_port": 5432},
            lambda s, n: EncryptedDataStore(s, "X", data_retention=_DAYS, vpc=n.vpc),
            "database_subnets",
            "at least 2 AZs",
        ),
        ({"max_azs": 1}, lambda s, n: PrivateApi(s, "X", vpc=n), "vpc", "Multi-AZ database also needs"),
        (
            {"max_azs": 2, "db_port": 5439},
            lambda s, n: StreamingPipeline(s, "X", vpc=n.vpc),
            "database_subnets",
            "3 distinct AZs",
        ),
    ],
    ids=["aurora-port", "redshift-port", "aurora-one-az", "rds-multi-az-one-az", "redshift-two-azs"],
)
def test_cross_construct_conflicts_are_prop_errors(
    make_stack: Callable[..., cdk.Stack],
    network_props: dict[str, Any],
    build: Callable[[cdk.Stack, ThreeTierVpc], Any],
    prop: str,
    message: str,
) -> None:
    stack = make_stack()
    network = ThreeTierVpc(stack, "Network", **network_props)
    with pytest.raises(PropValidationError, match=message) as caught:
        build(stack, network)
    assert caught.value.prop == prop
    assert _built_nothing(stack, "X")


def test_a_database_port_the_network_opens_passes(make_stack: Callable[..., cdk.Stack]) -> None:
    stack = make_stack()
    network = ThreeTierVpc(stack, "Network", max_azs=2, db_port=5432)
    store = EncryptedDataStore(stack, "Store", data_retention=_DAYS, vpc=network.vpc, database_readers=1)
    assert store.database is not None


def test_a_port_opened_on_the_db_tier_acl_passes(make_stack: Callable[..., cdk.Stack]) -> None:
    """Several databases on one db tier: the ports beyond db_port are opened on its ACL by hand."""
    stack = make_stack()
    network = ThreeTierVpc(stack, "Network", max_azs=2, db_port=3306)
    ec2.NetworkAclEntry(
        stack,
        "AuroraFromApp",
        network_acl=network.db.network_acl,
        cidr=ec2.AclCidr.ipv4("10.0.0.0/16"),
        rule_number=900,
        traffic=ec2.AclTraffic.tcp_port_range(5432, 5439),
        direction=ec2.TrafficDirection.INGRESS,
    )
    store = EncryptedDataStore(stack, "Store", data_retention=_DAYS, vpc=network.vpc)
    assert store.database is not None


# -- the examples, for a concrete account ---------------------------------------------------------


#: Per region, the region-agnostic examples run as `cdk synth -c account=123456789012 -c region=<region>`
#: runs them: queued on the background worker when the session starts (tests/background.py).
CONCRETE_EXAMPLE_RUNS = {
    region: ExampleRuns(examples=REGION_AGNOSTIC_EXAMPLES, **concrete_context(region)) for region in REGIONS
}
BACKGROUND_JOBS: dict[str, Callable[[], Any]] = {
    **{job: functools.partial(_run_reference_app, region) for job, region in CONCRETE_REFERENCE_RUNS.items()},
    **{key: work for runs in CONCRETE_EXAMPLE_RUNS.values() for key, work in runs.jobs().items()},
}


@pytest.fixture(scope="module")
def concrete_example_runs(background: Background) -> dict[str, ExampleRuns]:
    """``CONCRETE_EXAMPLE_RUNS``, read after the other tests (it waits for the background worker)."""
    return CONCRETE_EXAMPLE_RUNS


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("example", REGION_AGNOSTIC_EXAMPLES)
def test_examples_synthesize_for_a_concrete_account(
    example: str, region: str, concrete_example_runs: dict[str, ExampleRuns]
) -> None:
    """Each example app runs its compliance packs at synth: a finding fails the run."""
    run = concrete_example_runs[region][example]
    assert run.result.returncode == 0, f"{example} in {region}:\n{run.result.stdout}\n{run.result.stderr}"
    environments = _environments(run.outdir)
    assert environments == {f"aws://{ACCOUNT}/{region}"}, environments


def test_every_other_example_pins_its_region(example_runs: Any) -> None:
    """An example not checked above must not be environment-agnostic (add it to the list instead)."""
    others = [p.name for p in EXAMPLES if p.name not in REGION_AGNOSTIC_EXAMPLES]
    assert others
    for name in others:
        run = example_runs[name]
        assert run.result.returncode == 0, run.result.stderr
        regions = {env.rsplit("/", 1)[1] for env in _environments(run.outdir)}
        assert "unknown-region" not in regions, f"{name} is region-agnostic: add it to REGION_AGNOSTIC_EXAMPLES"


def _environments(outdir: Path, stack: str | None = None) -> set[str]:
    """The environments of the assembly's stacks (of artifact ``stack`` only, if given)."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {
        a["environment"]
        for name, a in manifest["artifacts"].items()
        if a["type"] == "aws:cloudformation:stack" and stack in (None, name)
    }


# -- README "Before you deploy": what each reference stack retains -------------------------------


README = Path(__file__).resolve().parent.parent / "README.md"


def _before_you_deploy_section(stack_name: str) -> str:
    text = README.read_text()
    start = text.index("## Before you deploy")
    end = text.find("\n## ", start + 1)
    chapter = text[start : end if end != -1 else None]
    heading = f"### {stack_name}"
    assert heading in chapter, f"README 'Before you deploy' has no section {heading!r}"
    section_start = chapter.index(heading)
    section_end = chapter.find("\n### ", section_start + 1)
    return chapter[section_start : section_end if section_end != -1 else None]


@pytest.mark.parametrize("name", STACKS)
def test_readme_lists_what_each_stack_retains(name: str, reference_stacks: ReferenceStacks) -> None:
    """Every resource type the stack keeps after `cdk destroy` (DeletionPolicy Retain) is named, with
    how to delete it, in the stack's section of README "Before you deploy"."""
    retained = {
        r["Type"] for r in reference_stacks[name].json["Resources"].values() if r.get("DeletionPolicy") == "Retain"
    }
    assert retained, f"{name} retains nothing: say so in the README and drop this assertion"
    section = _before_you_deploy_section(name)
    missing = sorted(t for t in retained if t not in section)
    assert not missing, f"README 'Before you deploy' / {name} does not mention retained {missing}"


def test_allow_app_tier_to_db_port_opens_a_second_database_port(make_stack: Callable[..., cdk.Stack]) -> None:
    """The supported way to put databases on two ports in one db tier: open the second one first."""
    stack = make_stack()
    network = ThreeTierVpc(stack, "Network", max_azs=2, db_port=3306)
    network.allow_app_tier_to_db_port(5432)
    store = EncryptedDataStore(stack, "Store", data_retention=_DAYS, vpc=network.vpc)
    assert store.database is not None
    template = cdk.assertions.Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress", {"FromPort": 5432, "ToPort": 5432, "IpProtocol": "tcp"}
    )
    entries = template.find_resources("AWS::EC2::NetworkAclEntry", {"Properties": {"PortRange": {"From": 5432}}})
    # db ACL inbound and app ACL outbound, one per subnet of the other tier (2 AZs).
    assert sorted(e["Properties"].get("Egress", False) for e in entries.values()) == [False, False, True, True]
