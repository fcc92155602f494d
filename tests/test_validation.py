"""The shared prop checks every construct uses (refarch/constructs/_validation.py)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Duration

from refarch.constructs._validation import (
    PropValidationError,
    check_exclusive,
    check_int_range,
    check_one_of,
    check_port,
    check_whole_range,
    is_token,
    parse_ipv4_network,
)


def test_error_names_owner_prop_value_and_what_is_allowed() -> None:
    with pytest.raises(PropValidationError) as raised:
        check_port("MyConstruct", "listener_port", 70000)
    error = raised.value
    assert (error.owner, error.prop, error.value) == ("MyConstruct", "listener_port", 70000)
    assert str(error) == "MyConstruct: invalid listener_port=70000. Allowed: a number from 1 to 65535."
    assert isinstance(error, ValueError)


def test_tokens_are_recognised_and_skipped() -> None:
    stack = cdk.Stack(cdk.App(), "Tokens")
    number = cdk.Token.as_number(cdk.Fn.ref("Param"))
    assert is_token(number) and is_token(stack.region) and is_token(cdk.Fn.select(0, cdk.Fn.get_azs()))
    assert not any(is_token(v) for v in (5, 3.5, "plain", "", True, None, -1e10))
    assert is_token(Duration.days(number)) and not is_token(Duration.days(3))
    # A token passes every check: its value is only known at deploy time.
    check_port("C", "port", number)
    check_int_range("C", "size", number, minimum=1, maximum=2)
    check_one_of("C", "mode", stack.region, ["a", "b"])


@pytest.mark.parametrize("value", [0, -1, 65536, 1.5, True, "80"])
def test_port_rejects(value: object) -> None:
    with pytest.raises(PropValidationError):
        check_port("C", "port", value)  # type: ignore[arg-type]


def test_ranges_and_choices() -> None:
    check_int_range("C", "x", None, minimum=1, maximum=2)  # None means "use the default"
    check_whole_range("C", "x", 2, minimum=1, maximum=2)
    with pytest.raises(PropValidationError, match="whole number"):
        check_whole_range("C", "x", 1.5, minimum=1, maximum=2)
    with pytest.raises(PropValidationError, match=r"one of \['a', 'b'\]"):
        check_one_of("C", "mode", "c", ["a", "b"])
    with pytest.raises(PropValidationError, match="'a' and 'b' cannot be used together"):
        check_exclusive("C", a=1, b=2, c=None)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10.0.0.0", "prefix length"),
        ("10.0.0.1/16", "did you mean '10.0.0.0/16'"),
        ("300.0.0.0/8", "IPv4 CIDR"),
        ("10.0.0.0/40", "IPv4 CIDR"),
        (None, "IPv4 CIDR string"),
    ],
)
def test_ipv4_networks(value: str, message: str) -> None:
    with pytest.raises(PropValidationError, match=message):
        parse_ipv4_network("C", "cidr", value)


def test_ipv4_network_parses() -> None:
    assert str(parse_ipv4_network("C", "cidr", "192.0.2.0/24")) == "192.0.2.0/24"
