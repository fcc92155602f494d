"""Props written once (refarch/constructs/_props.py): what read_props accepts, rejects and documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct
from typing_extensions import TypedDict, Unpack

from refarch.constructs import ThreeTierVpc
from refarch.constructs._props import (
    REQUIRED,
    Prop,
    document_props,
    duration_range,
    each,
    matches,
    port,
    prop_table,
    read_props,
    unique_items,
)
from refarch.errors import PropValidationError
from tests.harness import BadProp, assert_fails_early, bad_prop_params, new_app


class WidgetProps(TypedDict, total=False):
    vpc: Annotated[ec2.IVpc | ThreeTierVpc, Prop("The network.", default=REQUIRED)]
    port: Annotated[int, Prop("Listener port.", default=80, checks=(port,))]
    ratio: Annotated[float, Prop("A share.", default=0.5)]
    cidrs: Annotated[Sequence[str], Prop("Blocked CIDRs.", default=(), checks=(unique_items,))]
    names: Annotated[Sequence[str], Prop("Names.", default=("a",), checks=(each(matches(r"[a-z]+", "lower-case")),))]
    flow_logs: Annotated[bool, Prop("Flow logs on.", default=True)]
    flow_log_retention: Annotated[
        logs.RetentionDays, Prop("Flow log retention.", default=logs.RetentionDays.ONE_YEAR, needs="flow_logs")
    ]
    expiry: Annotated[
        cdk.Duration,
        Prop(
            "Expiry.",
            default=cdk.Duration.days(30),
            checks=(duration_range(cdk.Duration.days(1), cdk.Duration.days(365), unit="days"),),
        ),
    ]
    encryption_key: Annotated[kms.IKey | None, Prop("Key.", default=None, default_doc="a new key")]
    label: Annotated[str | None, Prop("Label.", default=None)]


@document_props(WidgetProps)
class Widget(Construct):
    def __init__(self, scope: Construct, id: str, **props: Unpack[WidgetProps]) -> None:
        self.props = read_props("Widget", WidgetProps, props)
        super().__init__(scope, id)


@pytest.fixture(scope="module")
def stack() -> cdk.Stack:
    return cdk.Stack(new_app(), "Props")


@pytest.fixture(scope="module")
def vpc(stack: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(stack, "Imported", vpc_id="vpc-1", availability_zones=["eu-west-1a"])


def test_defaults_fill_what_is_not_given(stack: cdk.Stack, vpc: ec2.IVpc) -> None:
    props = Widget(stack, "Defaults", vpc=vpc).props
    assert props["port"] == 80
    assert props["cidrs"] == ()
    assert props["expiry"].to_days() == 30
    assert props["encryption_key"] is None


def test_jsii_interfaces_accept_imported_and_own_resources(stack: cdk.Stack, vpc: ec2.IVpc) -> None:
    key = kms.Key.from_key_arn(stack, "Imported key", "arn:aws:kms:eu-west-1:111111111111:key/abc")
    assert Widget(stack, "ImportedKey", vpc=vpc, encryption_key=key).props["encryption_key"] is key
    own = ec2.Vpc(stack, "Own", max_azs=1, nat_gateways=0)
    assert Widget(stack, "OwnVpc", vpc=own, ratio=1).props["ratio"] == 1  # an int is a number


def test_tokens_skip_the_checks(stack: cdk.Stack, vpc: ec2.IVpc) -> None:
    port_token = cdk.Token.as_number(cdk.Fn.import_value("Port"))
    label = cdk.Fn.import_value("Label")
    props = Widget(stack, "Tokens", vpc=vpc, port=port_token, label=label).props
    assert cdk.Token.is_unresolved(props["port"])


def _vpc(stack: cdk.Stack) -> dict[str, Any]:
    return {"vpc": ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-1", availability_zones=["eu-west-1a"])}


BAD_PROPS = [
    BadProp("vpc", {}, says="Widget needs it"),
    BadProp("vpc", {"vpc": "vpc-123"}, says="an IVpc or a ThreeTierVpc"),
    BadProp("vpc", {"vpc": None}),
    BadProp("port", lambda s: {**_vpc(s), "port": 8080.0}, says="whole number"),
    BadProp("port", lambda s: {**_vpc(s), "port": True}),
    BadProp("port", lambda s: {**_vpc(s), "port": 0}, says="1 to 65535"),
    BadProp("ratio", lambda s: {**_vpc(s), "ratio": "0.5"}),
    BadProp("cidrs", lambda s: {**_vpc(s), "cidrs": "10.0.0.0/8"}, says="a list of str"),
    BadProp("cidrs", lambda s: {**_vpc(s), "cidrs": []}, says="must not be empty"),
    BadProp("cidrs", lambda s: {**_vpc(s), "cidrs": ["10.0.0.0/8", "10.0.0.0/8"]}, says="repeats"),
    BadProp("names[1]", lambda s: {**_vpc(s), "names": ["ok", "NOT"]}, says="lower-case"),
    BadProp(
        "flow_log_retention",
        lambda s: {**_vpc(s), "flow_logs": False, "flow_log_retention": logs.RetentionDays.ONE_DAY},
        says="only takes effect with flow_logs",
    ),
    BadProp("expiry", lambda s: {**_vpc(s), "expiry": cdk.Duration.hours(36)}, says="whole number of days"),
    BadProp(
        "flow_log_retention",
        lambda s: {**_vpc(s), "flow_logs": False, "flow_log_retention": cdk.Fn.import_value("Retention")},
        says="only takes effect with flow_logs",
    ),
    BadProp("expiry", lambda s: {**_vpc(s), "expiry": cdk.Duration.days(400)}, says="1 day to 365 days"),
    BadProp("encryption_key", lambda s: {**_vpc(s), "encryption_key": "alias/mine"}, says="an IKey or None"),
    BadProp("label", lambda s: {**_vpc(s), "label": ""}, says="must not be empty"),
    BadProp("prot", lambda s: {**_vpc(s), "prot": 80}, says="Did you mean 'port'?"),
]


@pytest.mark.parametrize("case", bad_prop_params(BAD_PROPS))
def test_bad_props_fail_before_anything_is_built(case: BadProp) -> None:
    assert_fails_early(Widget, case)


def test_assert_fails_early_catches_a_construct_that_builds_first() -> None:
    class Eager(Construct):
        def __init__(self, scope: Construct, id: str, **props: Any) -> None:
            super().__init__(scope, id)
            read_props("Eager", WidgetProps, props)

    with pytest.raises(AssertionError, match="built"):
        assert_fails_early(Eager, BadProp("vpc", {}))


def test_docs_come_from_the_props() -> None:
    doc = Widget.__init__.__doc__ or ""
    assert ":param port: Listener port. Allowed: 1 to 65535. Default: `80`" in doc
    assert ":param encryption_key: Key. Default: a new key" in doc
    table = prop_table(WidgetProps)
    assert "| `vpc` | `ec2.IVpc \\| ThreeTierVpc` | required | The network. |" in table
    assert "| `expiry` | `Duration` | `30 days` | Expiry. Allowed: 1 day to 365 days, whole days. |" in table
    assert "| Names. Allowed: each lower-case. |" in table  # each() keeps what its check allows
    assert table.count("\n") == 2 + len(WidgetProps.__annotations__)


def test_a_props_entry_without_prop_is_refused() -> None:
    class Loose(TypedDict, total=False):
        port: int

    with pytest.raises(TypeError, match="Annotated"):
        read_props("Loose", Loose, {})


def test_props_error_is_a_value_error() -> None:
    assert issubclass(PropValidationError, ValueError)
