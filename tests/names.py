"""Physical names as the templates write them, for assertions: a name that ends with the suffix
unique to the stack's creation (``_builders.stack_unique_suffix``) is a ``Fn::Join``; :func:`render`
turns it back into one string with ``<stack-suffix>`` where CloudFormation puts the suffix."""

from __future__ import annotations

from typing import Any

#: How the templates compute the suffix: the first group of the UUID in the stack ID.
_UUID = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
STACK_SUFFIX = {"Fn::Select": [0, {"Fn::Split": ["-", _UUID]}]}
PLACEHOLDER = "<stack-suffix>"


def render(name: Any) -> str:
    """``name`` as one string, the stack suffix shown as ``<stack-suffix>``; fails on any other token."""
    if isinstance(name, str):
        return name
    (delimiter, parts) = name["Fn::Join"]
    rendered = []
    for part in parts:
        if part == STACK_SUFFIX:
            rendered.append(PLACEHOLDER)
        else:
            assert isinstance(part, str), f"unexpected token in a physical name: {part}"
            rendered.append(part)
    return str(delimiter).join(rendered)
