"""Prop checks shared by every construct.

Each check raises :class:`PropValidationError` (a ``ValueError``) whose message names the
construct and the prop, shows the bad value and says what is allowed. Values that are
CloudFormation tokens cannot be known at synth time and are passed through unchecked.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any, TypeVar

from aws_cdk import Duration, Token

from refarch.errors import PropValidationError as PropValidationError  # re-exported: the checks raise it

T = TypeVar("T")


def is_token(value: Any) -> bool:
    """True when ``value`` is (or contains) an unresolved CloudFormation token: a string, number, list or
    Duration that only gets its value at deploy time, which no check at synth time can judge."""
    if isinstance(value, Duration):
        # Duration.days(Token.as_number(param)): its to_milliseconds() would raise rather than answer.
        return bool(value.is_unresolved())
    if isinstance(value, list) and not all(isinstance(item, (str, int, float)) for item in value):
        # Not an encoded list token (a list of one string); jsii cannot even receive items such as a
        # tuple or a Python dataclass (ImageRendition), so look at the items one by one.
        return any(is_token(item) for item in value)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return False
    return bool(Token.is_unresolved(value))


def check_int_range(owner: str, prop: str, value: float | None, *, minimum: float, maximum: float) -> None:
    """``minimum <= value <= maximum``; ``None`` (use the default) and tokens pass."""
    if value is None or is_token(value):
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value <= maximum:
        raise PropValidationError(owner, prop, value, f"Allowed: a number from {minimum} to {maximum}.")


def check_whole_range(owner: str, prop: str, value: float | None, *, minimum: int, maximum: int) -> None:
    """Like :func:`check_int_range`, and the value must be a whole number."""
    check_int_range(owner, prop, value, minimum=minimum, maximum=maximum)
    if value is not None and not is_token(value) and int(value) != value:
        raise PropValidationError(owner, prop, value, f"Allowed: a whole number from {minimum} to {maximum}.")


def check_port(owner: str, prop: str, value: int | None) -> None:
    """A TCP/UDP port, 1 to 65535."""
    check_whole_range(owner, prop, value, minimum=1, maximum=65535)


def check_one_of(owner: str, prop: str, value: T | None, allowed: Iterable[T]) -> None:
    """``value`` is one of ``allowed``."""
    allowed = list(allowed)
    if value is None or is_token(value):
        return
    if value not in allowed:
        raise PropValidationError(owner, prop, value, f"Allowed: one of {allowed!r}.")


def check_exclusive(owner: str, **props: Any) -> None:
    """At most one of the named props is set."""
    given = [name for name, value in props.items() if value is not None]
    if len(given) > 1:
        raise PropValidationError(
            owner,
            given[1],
            props[given[1]],
            f"{' and '.join(repr(n) for n in given)} cannot be used together: set only one of them.",
        )


def parse_ipv4_network(owner: str, prop: str, value: str) -> ipaddress.IPv4Network:
    """An IPv4 network in CIDR notation with no host bits set (``10.0.0.0/16``, not ``10.0.0.1/16``)."""
    if not isinstance(value, str):
        raise PropValidationError(owner, prop, value, "Allowed: an IPv4 CIDR string such as '10.0.0.0/16'.")
    if "/" not in value:
        raise PropValidationError(
            owner, prop, value, "Allowed: an IPv4 network with a prefix length, such as '10.0.0.0/16'."
        )
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError) as exc:
        raise PropValidationError(owner, prop, value, f"Allowed: an IPv4 CIDR such as '10.0.0.0/16' ({exc}).") from exc
    except ValueError as exc:
        # strict=True rejects host bits: tell the user which network they probably meant.
        network = ipaddress.IPv4Network(value, strict=False)
        raise PropValidationError(owner, prop, value, f"Host bits are set: did you mean '{network}'? ({exc})") from exc
