"""Errors the library raises on purpose; neutral, so every part of the library can import them."""

from __future__ import annotations

from typing import Any


class PropValidationError(ValueError):
    """A construct prop has a value the construct cannot accept.

    Raised before the construct builds anything. ``owner`` is the construct's class name, ``prop`` the
    prop (``capacity.minimum`` for a field of a struct prop), ``value`` what was given; the message says
    what is allowed.
    """

    def __init__(self, owner: str, prop: str, value: Any, allowed: str) -> None:
        self.owner = owner
        self.prop = prop
        self.value = value
        super().__init__(f"{owner}: invalid {prop}={value!r}. {allowed}")
