"""Checks every reference stack gets, by being listed in refarch.stacks.REFERENCE_STACKS:
the snapshot, the compliance packs, cfn-lint and the stateful-resource lock."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from refarch.compliance.acknowledge import MIN_REASON_LENGTH
from refarch.stacks import REFERENCE_STACKS
from refarch.testing import normalize_template
from refarch.testing.compliance import unacknowledged_errors
from tests import stateful_lock
from tests.background import BACKGROUND, Background
from tests.harness import REFERENCE_APP, ReferenceStacks, cfn_lint, synthesize_reference_app

STACKS = list(REFERENCE_STACKS)


@pytest.fixture
def snapshot_json(snapshot: Any) -> Any:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("name", STACKS)
def test_snapshot(name: str, reference_stacks: ReferenceStacks, snapshot_json: Any) -> None:
    """Read the diff before `make snapshot-update`: every change must be one you meant."""
    assert normalize_template(reference_stacks[name].json) == snapshot_json


@pytest.mark.parametrize("name", STACKS)
def test_compliance_packs(name: str, reference_stacks: ReferenceStacks) -> None:
    findings = unacknowledged_errors(reference_stacks[name].stack)
    assert not findings, f"{len(findings)} unacknowledged compliance errors:\n" + "\n".join(findings)


@pytest.mark.parametrize("name", STACKS)
def test_acknowledgments_give_reasons(name: str, reference_stacks: ReferenceStacks) -> None:
    """Every acknowledgment carries a reason a reviewer can check, and names one rule."""
    stack = reference_stacks[name].stack
    weak = []
    for construct in stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != "aws:cdk:acknowledged-rules":
                continue
            for rule, reason in entry.data.items():
                # aws-cdk-lib itself acknowledges its template-validation rule W3010 on every stack.
                if construct is stack and not rule.startswith("CloudFormation-Validate::"):
                    weak.append(
                        f"{construct.node.path}: {rule} acknowledged on the whole stack; put it on the resource"
                    )
                if len(str(reason).strip()) < MIN_REASON_LENGTH:
                    weak.append(f"{construct.node.path}: {rule}: {reason!r}")
    assert not weak, "acknowledgments without a real reason or too broad:\n" + "\n".join(weak)


def lint_reference_templates() -> dict[str, list[str]]:
    """cfn-lint over every template of the reference app as `cdk synth` writes it; in the background,
    after the reference app's synth (tests/harness.py). Stack name -> findings."""
    run = BACKGROUND.result(REFERENCE_APP, synthesize_reference_app)
    assert run.result.returncode == 0, f"app.py failed to synthesize:\n{run.result.stderr}"
    findings = cfn_lint(sorted(run.outdir.glob("*.template.json")))
    return {path.name.removesuffix(".template.json"): found for path, found in findings.items()}


#: After the reference app's synth, a long job itself (tests/conftest.py orders its readers last).
LONG_BACKGROUND_JOBS = {"cfn-lint": lint_reference_templates}


@pytest.fixture(scope="module")
def cfn_lint_findings(background: Background) -> dict[str, list[str]]:
    findings = background.result("cfn-lint", lint_reference_templates)
    assert set(findings) == set(STACKS), sorted(findings)
    return findings


@pytest.mark.slow
@pytest.mark.parametrize("name", STACKS)
def test_cfn_lint_clean(name: str, cfn_lint_findings: dict[str, list[str]]) -> None:
    assert not cfn_lint_findings[name], "cfn-lint errors and warnings:\n" + "\n".join(cfn_lint_findings[name])


@pytest.mark.parametrize("name", STACKS)
def test_stateful_resources_keep_their_logical_ids(name: str, reference_stacks: ReferenceStacks) -> None:
    gone, new = stateful_lock.changes(name, reference_stacks[name].json)
    assert not gone, (
        f"{name}: stateful resources changed logical ID or type: {gone}.\n"
        "Deploying this REPLACES the live resource: its data (database, bucket, key, log group...) is "
        "lost or orphaned. Restore the construct ID (or override the logical ID) instead. If the removal "
        "is intended, delete the entries from tests/stateful-resources.json by hand, in their own commit."
    )
    if new and stateful_lock.UPDATE:
        stateful_lock.add_to_lock(name, new)
        return
    assert not new, (
        f"{name}: stateful resources not in tests/stateful-resources.json: {new}. "
        "Run `make lock` to add them, so that a later rename is caught."
    )


def test_the_lock_catches_a_renamed_database(reference_stacks: ReferenceStacks) -> None:
    """Renaming the construct of a stateful resource changes its logical ID: the lock reports both sides."""
    template = copy.deepcopy(reference_stacks["PrivateApiStack"].json)
    database = next(k for k, v in template["Resources"].items() if v["Type"] == "AWS::RDS::DBInstance")
    template["Resources"][f"Renamed{database}"] = template["Resources"].pop(database)
    gone, new = stateful_lock.changes("PrivateApiStack", template)
    assert gone == {database: "AWS::RDS::DBInstance"}
    assert new == {f"Renamed{database}": "AWS::RDS::DBInstance"}
