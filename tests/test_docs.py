"""Architecture diagrams: the committed docs/ match the code, and the model draws the right data path."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

import refarch
from refarch.diagrams import Architecture, Diagram
from refarch.diagrams.docs import render_pages
from refarch.diagrams.edges import CLIENT
from refarch.diagrams.layout import ordered_edges
from refarch.diagrams.mermaid import render_mermaid
from refarch.testing import SynthesizedTemplate
from tests.harness import ROOT, ExampleRuns, ReferenceStacks, docs_sources

DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def pages(reference_stacks: ReferenceStacks, example_runs: ExampleRuns) -> dict[str, str]:
    """Every generated file, drawn from the session's synthesized stacks (nothing synthesized twice)."""
    return render_pages(docs_sources(reference_stacks, example_runs))


def _diagram(reference_stacks: ReferenceStacks, name: str) -> Diagram:
    return refarch.diagram(reference_stacks[name].output)


def _node_id(arch: Architecture, kind: str, name: str | None = None) -> str:
    """The one diagram node of ``kind`` named like ``name`` (diagram nodes, not template resources: no
    SynthesizedStack helper applies)."""
    found = arch.find(kind, name)
    assert len(found) == 1, f"expected one {kind} node named like {name!r}, found {[n.name for n in found]}"
    return found[0].id


# -- the committed pages ----------------------------------------------------------------------


def test_committed_docs_match_the_code(pages: dict[str, str]) -> None:
    assert any(name.endswith(".svg") for name in pages), "no page was drawn"
    stale = [name for name, text in sorted(pages.items()) if _read(name) != text]
    assert not stale, (
        f"docs/ is out of date for {stale}: the diagrams no longer match what the code synthesizes. "
        "Run `make docs` and commit docs/."
    )
    extra = sorted({p.name for p in DOCS.iterdir()} - set(pages))
    assert not extra, f"docs/ holds files `make docs` no longer writes: {extra}. Run `make docs` (it removes them)."


def _read(name: str) -> str | None:
    path = DOCS / name
    return path.read_text(encoding="utf-8") if path.exists() else None


def test_every_reference_stack_and_example_has_a_page(pages: dict[str, str]) -> None:
    index = pages["README.md"]
    for stack in ("ThreeTierVpcStack", "EncryptedDataStoreStack", "StreamingPipelineStack", "PrivateApiStack"):
        assert f"{stack}.md" in pages and f"{stack}.svg" in pages
        assert f"[{stack}]({stack}.md)" in index
    # Every example has a row per stack (the two-region example has two stacks).
    shown = set(re.findall(r"\| example `(\w+)` \|", index))
    assert shown == {p.parent.name for p in (ROOT / "examples").glob("*/app.py")}


def test_readme_shows_each_architecture() -> None:
    readme = (ROOT / "README.md").read_text()
    for stack in ("ThreeTierVpcStack", "PrivateApiStack", "StreamingPipelineStack", "ImageProcessorStack"):
        assert f"(docs/{stack}.svg)" in readme, f"README.md does not show docs/{stack}.svg"


# -- the model --------------------------------------------------------------------------------


def test_private_api_data_path_in_order(reference_stacks: ReferenceStacks) -> None:
    arch = _diagram(reference_stacks, "PrivateApiStack").architecture
    path = [
        CLIENT,
        _node_id(arch, "waf"),
        _node_id(arch, "api"),
        _node_id(arch, "vpclink"),
        _node_id(arch, "lb"),
        _node_id(arch, "compute"),
        _node_id(arch, "database"),
    ]
    assert arch.has_path(*path), f"edges: {[(e.source, e.target) for e in arch.edges]}"
    # Listed in that order too (Mermaid and the page's "Data path" read top to bottom).
    order = [(arch.edges[i].source, arch.edges[i].target) for i in ordered_edges(arch)]
    positions = [order.index(pair) for pair in zip(path, path[1:], strict=False)]
    assert positions == sorted(positions), order
    lb_to_service = next(e for e in arch.edges if (e.source, e.target) == (path[4], path[5]))
    assert lb_to_service.label == "TCP 80 -> 8080"
    # The tiers: the service in the app tier, the database in the db tier, one subnet node per AZ.
    assert arch.nodes[path[5]].group and arch.nodes[path[5]].group.endswith("_App")
    assert arch.nodes[path[6]].group and arch.nodes[path[6]].group.endswith("_Db")
    assert len([n for n in arch.nodes.values() if n.kind == "subnet" and n.group == arch.nodes[path[6]].group]) == 3


def test_image_processor_upload_to_state_machine_with_branches(reference_stacks: ReferenceStacks) -> None:
    arch = _diagram(reference_stacks, "ImageProcessorStack").architecture
    uploads = _node_id(arch, "bucket", "Uploads")
    machine = _node_id(arch, "workflow")
    assert arch.has_path(CLIENT, uploads, _node_id(arch, "events"), machine)

    def state(name: str) -> str:
        return _node_id(arch, "state", name)

    table, succeeded, failed = (
        _node_id(arch, "table"),
        _node_id(arch, "topic", "Succeeded"),
        _node_id(arch, "topic", "Failed"),
    )
    # Valid images fan out to the parallel branches; invalid ones are recorded and announced.
    labels = {(e.source, e.target): e.label for e in arch.edges}
    assert labels[(state("ValidateImage"), state("ResizeImage"))] == "$.validation.valid == true"
    assert (state("ValidateImage"), state("ApplyFilters")) in labels
    assert labels[(state("ValidateImage"), state("RecordRejected"))] == "otherwise"
    assert arch.has_path(state("RecordRejected"), state("NotifyRejected"), failed)
    assert arch.has_path(state("ResizeImage"), state("OptimizeImage"), state("RecordSuccess"), state("NotifySuccess"))
    assert arch.has_path(state("NotifySuccess"), succeeded)
    assert labels[(state("RecordSuccess"), table)] == "dynamodb:putItem"
    assert labels[(machine, state("RecordFailure"))] == "on error"
    # Tasks sit inside the state machine's group, the functions they call outside it.
    assert arch.nodes[state("ResizeImage")].group == arch.nodes[machine].group
    assert arch.has_path(state("ResizeImage"), _node_id(arch, "function", "Resize"))


def test_streaming_pipeline_data_path(reference_stacks: ReferenceStacks) -> None:
    arch = _diagram(reference_stacks, "StreamingPipelineStack").architecture
    stream, consumer = _node_id(arch, "stream"), _node_id(arch, "function", "Consumer")
    assert arch.has_path(CLIENT, stream, consumer, _node_id(arch, "bucket", "Lake"))
    assert arch.has_path(consumer, _node_id(arch, "queue"))
    assert arch.has_path(stream, _node_id(arch, "database"))
    assert not arch.find("function", "framework"), "CDK's provider framework functions are plumbing"


def test_diagram_of_a_stack_built_here(make_stack: Callable[..., Any]) -> None:
    """The public entry point takes a cdk.Stack: a function that names a bucket in its environment."""
    stack = make_stack("DiagramUnitStack")
    bucket = s3.Bucket(stack, "Photos")
    lambda_.Function(
        stack,
        "Thumbnailer",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
        environment={"PHOTOS_BUCKET": bucket.bucket_name},
    )
    page = refarch.diagram(stack)
    arch = page.architecture
    edge = next(e for e in arch.edges if e.target == _node_id(arch, "bucket", "Photos"))
    assert (arch.nodes[edge.source].name, edge.label) == ("Thumbnailer", "PHOTOS_BUCKET")
    assert "no VPC" in page.traffic.markdown()
    assert page.markdown.startswith("<!-- Generated")


def test_state_machine_cycles_and_literal_definitions() -> None:
    """A retry loop (a back edge) neither hangs the layout nor loses the loop's edge."""
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Again?"},
            "Again?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.more", "BooleanEquals": True, "Next": "Work"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    template = SynthesizedTemplate(
        "Loop",
        {
            "Resources": {
                "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"Definition": definition}}
            }
        },
    )
    page = refarch.diagram(template)
    arch = page.architecture
    work = _node_id(arch, "state", "Work")
    assert [(e.source, e.target, e.label) for e in arch.edges] == [
        ("Machine", work, ""),
        (work, work, "$.more == true"),
    ]
    ET.fromstring(page.svg)
    assert page.svg == Diagram("Loop", [template]).svg, "the SVG must be byte-for-byte stable"


# -- the renderers ----------------------------------------------------------------------------

_MERMAID_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@pytest.mark.parametrize("name", ["PrivateApiStack", "ImageProcessorStack", "ThreeTierVpcStack"])
def test_mermaid_is_well_formed(reference_stacks: ReferenceStacks, name: str) -> None:
    arch = _diagram(reference_stacks, name).architecture
    text = render_mermaid(arch)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    opened = sum(1 for line in lines if line.strip().startswith("subgraph "))
    assert opened > 0 and opened == sum(1 for line in lines if line.strip() == "end")
    declared = {
        re.split(r"[\[\(\{]", line.strip(), maxsplit=1)[0] for line in lines if '"' in line and "-->" not in line
    }
    assert all(_MERMAID_ID.match(i) for i in declared if not i.startswith(("subgraph", "class"))), declared
    edges = [line.split() for line in lines if "-->" in line]
    assert len(edges) == len(arch.edges) > 0
    for parts in edges:
        assert parts[0] in arch.nodes and parts[-1] in arch.nodes, parts
    for line in lines:
        # Inside a label only entity codes, never a bare quote that would end it early.
        assert line.count('"') % 2 == 0, line


@pytest.mark.parametrize("name", ["PrivateApiStack", "ImageProcessorStack", "EncryptedDataStoreStack"])
def test_svg_is_well_formed_and_complete(reference_stacks: ReferenceStacks, name: str) -> None:
    page = _diagram(reference_stacks, name)
    root = ET.fromstring(page.svg)
    ns = "{http://www.w3.org/2000/svg}"
    nodes = root.findall(f"{ns}g[@class='node']")
    assert {g.get("id") for g in nodes} == set(page.architecture.nodes)
    assert len(root.findall(f"{ns}path[@class='edge']")) == len(page.architecture.edges)
    assert float(root.get("width", 0)) > 0 and float(root.get("height", 0)) > 0


# -- the traffic matrix -----------------------------------------------------------------------


def _declared_port(output: SynthesizedTemplate, reason: str) -> int:
    ports = [int(d.data["port"]) for d in output.declarations("flow") if d.data["reason"] == reason]
    assert ports, f"no flow declared for {reason!r}"
    return ports[0]


def test_traffic_matrix_of_the_three_tier_vpc(reference_stacks: ReferenceStacks) -> None:
    output = reference_stacks["ThreeTierVpcStack"].output
    app_port = _declared_port(output, "web tier to the app port")
    db_port = _declared_port(output, "app tier to the db port")
    matrix = refarch.diagram(output).traffic
    web_to_app = matrix.row("Web", "App", app_port)
    assert web_to_app.result == "open", web_to_app
    assert any(f"ports {app_port}-{app_port}" in why for why in web_to_app.why), web_to_app.why
    web_to_db = matrix.row("Web", "Db", db_port)
    assert web_to_db.result == "closed", web_to_db
    assert any("NetworkDbNacl" in why for why in web_to_db.why), web_to_db.why
    assert matrix.row("App", "Db", db_port).result == "open"
    assert matrix.row("internet", "Db", db_port).result == "closed"
    # Every declared flow is in the page, as promised.
    assert matrix.flows and all(row.result == row.expected for row in matrix.flows), [
        (r.reason, r.expected, r.result) for r in matrix.flows if r.result != r.expected
    ]
    assert f"| Web | App | {app_port} | open |" in matrix.markdown()


# -- prop tables ---------------------------------------------------------------------------------


def test_readme_prop_tables_are_generated_from_the_props() -> None:
    from scripts.prop_tables import README, props_types, render

    types = props_types()
    assert types, "no <Construct>Props exported by refarch.constructs"
    readme = README.read_text()
    assert render(readme, types) == readme, "README.md prop tables are stale: run scripts/prop_tables.py"
