"""Props written once: each prop's type, default and documentation live in one ``TypedDict`` entry.

A construct declares its props as a ``TypedDict`` (``total=False``) whose entries are
``Annotated[type, Prop(...)]``, and takes them as ``**props: Unpack[XProps]``. Callers keep typed,
completable keyword arguments that mypy checks; :func:`read_props` checks every given value at run
time and fills the defaults before the construct builds anything; :func:`document_props` writes the
constructor's ``:param`` list and :func:`prop_table` the README table, from the same entries::

    class QueueProps(TypedDict, total=False):
        retention: Annotated[Duration, Prop("How long a message is kept.", default=Duration.days(4),
                                            checks=(duration_range(Duration.minutes(1), Duration.days(14)),))]

    @document_props(QueueProps)
    class Queue(Construct):
        def __init__(self, scope: Construct, id: str, **props: Unpack[QueueProps]) -> None:
            p = read_props("Queue", QueueProps, props)      # raises PropValidationError
            super().__init__(scope, id)
            ... p["retention"] ...

What :func:`read_props` rejects, each with a :class:`~refarch.errors.PropValidationError` naming the
construct and the prop:

* a keyword that is not a prop (with the closest prop name as a hint), a required prop left out;
* a value of the wrong type, checked against the annotation by typeguard (the checker jsii itself
  uses); jsii interfaces such as ``ec2.IVpc`` are not runtime-checkable protocols, so for them the
  value's class must carry the interface's members;
* ``True`` where a number belongs, a float where a whole number belongs, a string where a list belongs;
* an empty string or empty collection (unless the prop says ``allow_empty``);
* a prop given while the prop it ``needs`` is off (it would be ignored without a word);
* whatever the prop's own ``checks`` reject (ranges, units, patterns).

Values that are CloudFormation tokens are known only at deploy time: they skip the type and value
checks (``Token.is_unresolved`` is asked first).
"""

from __future__ import annotations

import collections.abc
import difflib
import enum
import functools
import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import typeguard
from aws_cdk import Duration
from aws_cdk import aws_logs as logs

from refarch.constructs._validation import is_token
from refarch.errors import PropValidationError

#: ``(owner, prop, value) -> None``: raises PropValidationError when ``value`` is not allowed.
Check = Callable[[str, str, Any], None]

P = TypeVar("P", bound=Mapping[str, Any])
C = TypeVar("C", bound=type)


class _Required(enum.Enum):
    REQUIRED = "required"


#: The ``default`` of a prop the caller must give.
REQUIRED = _Required.REQUIRED


@dataclass(frozen=True)
class Prop:
    """One prop's documentation, default and checks (the type is the annotation it sits in).

    :param doc: What the prop does, in one or a few sentences (rendered in the docstring and README).
    :param default: The value used when the prop is not given; ``REQUIRED`` when the caller must give it.
        Defaults are shared between constructs, so they must be immutable (tuples, enums, jsii values).
    :param default_doc: How the docs state a default computed by the construct (``"- min_capacity"``);
        default: the ``repr`` of ``default``.
    :param checks: Value checks run after the type check, in order.
    :param needs: Another prop that must be truthy for this one to have any effect; giving this prop
        while that one is off is an error rather than silently ignored.
    :param allow_empty: Accept ``""`` or an empty collection as a real value.
    """

    doc: str
    default: Any = REQUIRED
    default_doc: str | None = None
    checks: tuple[Check, ...] = ()
    needs: str | None = None
    allow_empty: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe_default(self) -> str:
        if self.required:
            return "required"
        if self.default_doc is not None:
            return self.default_doc
        return _literal(self.default)


@dataclass(frozen=True)
class PropSpec:
    """A prop as :func:`read_props` sees it: its name, type annotation and :class:`Prop`."""

    name: str
    hint: Any
    prop: Prop


@functools.cache
def prop_specs(props_type: type) -> tuple[PropSpec, ...]:
    """The props of a props ``TypedDict``, in declaration order.

    Once per class: resolving the annotations evaluates every type expression of the module's
    ``from __future__ import annotations`` text (about 25 ms for a construct's props), and a class's
    declarations do not change.
    """
    hints = typing.get_type_hints(props_type, include_extras=True)
    specs = []
    for name, annotated in hints.items():
        if typing.get_origin(annotated) is not typing.Annotated:
            raise TypeError(f"{props_type.__name__}.{name} needs Annotated[type, Prop(...)]")
        hint, *extras = typing.get_args(annotated)
        found = [extra for extra in extras if isinstance(extra, Prop)]
        if len(found) != 1:
            raise TypeError(f"{props_type.__name__}.{name} needs exactly one Prop(...)")
        specs.append(PropSpec(name, hint, found[0]))
    return tuple(specs)


def read_props(owner: str, props_type: type[P], given: Mapping[str, Any]) -> P:
    """``given`` checked against ``props_type`` and completed with its defaults.

    Raises :class:`~refarch.errors.PropValidationError` for the first prop that is wrong (see the
    module docstring for what counts as wrong).
    """
    specs = {spec.name: spec for spec in prop_specs(props_type)}
    for name, value in given.items():
        if name not in specs:
            close = difflib.get_close_matches(name, specs, n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            raise PropValidationError(
                owner, name, value, f"{owner} has no such prop. {hint}Its props: {sorted(specs)}."
            )
    complete: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in given:
            complete[name] = given[name]
        elif spec.prop.required:
            raise PropValidationError(owner, name, None, f"{owner} needs it: {spec.prop.doc}")
        else:
            complete[name] = spec.prop.default
    for name, value in given.items():
        _check_given(owner, specs[name], value, complete)
    return typing.cast(P, complete)


def _check_given(owner: str, spec: PropSpec, value: Any, complete: Mapping[str, Any]) -> None:
    # A prop whose prerequisite is off would be ignored, token or not: that is known at synth time.
    needs = spec.prop.needs
    if needs is not None and value is not None and not complete[needs]:
        raise PropValidationError(
            owner,
            spec.name,
            _shown(value),
            f"It only takes effect with {needs}, which is {complete[needs]!r}: set {needs} or leave {spec.name} out.",
        )
    if is_token(value):
        return
    if not accepts(value, spec.hint):
        raise PropValidationError(owner, spec.name, value, f"Allowed: {describe_type(spec.hint)}.")
    if _is_empty(value) and not spec.prop.allow_empty:
        raise PropValidationError(owner, spec.name, value, "It must not be empty: give a value or leave it unset.")
    if value is not None:
        for check in spec.prop.checks:
            check(owner, spec.name, value)


def _shown(value: Any) -> Any:
    """``value`` as an error message shows it: a Duration in words, not as an object address."""
    return value.to_human_string() if isinstance(value, Duration) else value


def _is_empty(value: Any) -> bool:
    return isinstance(value, (str, list, tuple, dict, set, frozenset)) and len(value) == 0


# -- type checks ---------------------------------------------------------------------------------

_SEQUENCE_ORIGINS = (list, tuple, collections.abc.Sequence, collections.abc.Iterable, collections.abc.Collection)
_MAPPING_ORIGINS = (dict, collections.abc.Mapping)


def accepts(value: Any, hint: Any) -> bool:
    """True when ``value`` matches the annotation ``hint``."""
    if hint is Any or hint is object:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    if origin is typing.Union or isinstance(hint, types.UnionType):
        return any(accepts(value, member) for member in typing.get_args(hint))
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if _is_jsii_interface(hint):
        return _implements(value, hint)
    if origin in _SEQUENCE_ORIGINS:
        # A string is a sequence of strings; no prop means that (blocked_cidrs="10.0.0.0/8").
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, origin):
            return False
        args = typing.get_args(hint)
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(accepts(v, a) for v, a in zip(value, args, strict=True))
        return not args or all(accepts(item, args[0]) for item in value)
    if origin in _MAPPING_ORIGINS:
        if not isinstance(value, origin):
            return False
        args = typing.get_args(hint)
        return not args or all(accepts(k, args[0]) and accepts(v, args[1]) for k, v in value.items())
    return _typeguard_accepts(value, hint)


def _typeguard_accepts(value: Any, hint: Any) -> bool:
    try:
        _check_type(value, hint)
    except TypeError:
        return False
    return True


def _check_type(value: Any, hint: Any) -> None:
    # jsii pins typeguard 2 (check_type(argname, value, expected_type)); typeguard 3+ dropped argname.
    if "argname" in _TYPEGUARD_PARAMETERS:
        typeguard.check_type("value", value, hint)
    else:
        typing.cast(Any, typeguard.check_type)(value, hint)


_TYPEGUARD_PARAMETERS = tuple(inspect.signature(typeguard.check_type).parameters)


def _is_jsii_interface(hint: Any) -> bool:
    return isinstance(hint, type) and getattr(hint, "_is_protocol", False) and hasattr(hint, "__jsii_type__")


def _implements(value: Any, interface: type) -> bool:
    """The value's class (or, for an imported resource, its jsii delegates' classes) has every member
    the interface declares."""
    delegates = getattr(value, "_delegates", None)
    classes = [type(d) for d in delegates] if isinstance(delegates, list) else [type(value)]
    return all(any(hasattr(cls, member) for cls in classes) for member in _interface_members(interface))


def _interface_members(interface: type) -> set[str]:
    members: set[str] = set()
    for cls in interface.__mro__:
        if getattr(cls, "_is_protocol", False):
            members.update(name for name in vars(cls) if not name.startswith("_"))
    return members


def describe_type(hint: Any) -> str:
    """The annotation in words for an error message: ``an int``, ``a Duration or None``."""
    if hint is None or hint is type(None):
        return "None"
    origin = typing.get_origin(hint)
    if origin is typing.Union or isinstance(hint, types.UnionType):
        return " or ".join(describe_type(member) for member in typing.get_args(hint))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if origin in _SEQUENCE_ORIGINS:
        args = typing.get_args(hint)
        return f"a list of {describe_type(args[0]).removeprefix('a ').removeprefix('an ')}" if args else "a list"
    if origin in _MAPPING_ORIGINS:
        key, value = typing.get_args(hint) or (Any, Any)
        return f"a dict of {_name(key)} to {_name(value)}"
    if hint is int:
        return "a whole number (int)"
    if hint is float:
        return "a number"
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return f"a {hint.__name__} ({', '.join(f'{hint.__name__}.{m.name}' for m in hint)})"
    name = _name(hint)
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


# -- docs ------------------------------------------------------------------------------------------


def document_props(props_type: type) -> Callable[[C], C]:
    """Class decorator: appends the ``:param`` list of ``props_type`` to the constructor's docstring."""

    def decorate(cls: C) -> C:
        init = cls.__dict__["__init__"]
        lines = [inspect.cleandoc(init.__doc__ or "")]
        for spec in prop_specs(props_type):
            lines.append(f":param {spec.name}: {_doc_with_allowed(spec)} Default: {spec.prop.describe_default()}")
        init.__doc__ = "\n".join(line for line in lines if line)
        return cls

    return decorate


def prop_table(props_type: type) -> str:
    """A Markdown table of the props: name, type, default, documentation."""
    rows = ["| prop | type | default | what it does |", "| --- | --- | --- | --- |"]
    for spec in prop_specs(props_type):
        cells = (f"`{spec.name}`", _type_text(spec.hint), spec.prop.describe_default(), _doc_with_allowed(spec))
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows) + "\n"


def _type_text(hint: Any) -> str:
    text = str(hint) if not isinstance(hint, type) else hint.__name__
    text = re.sub(r"aws_cdk\.aws_(\w+)\.", r"\1.", text)  # aws_cdk.aws_kms.IKey -> kms.IKey
    text = re.sub(r"\b(?:refarch|aws_cdk|typing|collections\.abc)(?:\.\w+)*\.(?=\w)", "", text)
    return f"`{text.replace('NoneType', 'None')}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("``", "`").replace("|", "\\|")


def _doc_with_allowed(spec: PropSpec) -> str:
    allowed = [getattr(check, "allowed", "") for check in spec.prop.checks]
    shown = "; ".join(a for a in allowed if a)
    return f"{spec.prop.doc} Allowed: {shown}." if shown else spec.prop.doc


def _literal(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return f"`{type(value).__name__}.{value.name}`"
    if isinstance(value, Duration):
        return f"`{value.to_human_string()}`"
    if value is None:
        return "none"
    if isinstance(value, (str, int, float, bool, tuple)):
        return f"`{value!r}`"
    return f"`{type(value).__name__}`"


# -- checks ----------------------------------------------------------------------------------------


def described(check: Check, allowed: str) -> Check:
    """``check``, carrying what it allows in words (``allowed``) for the docs and README tables."""
    setattr(check, "allowed", allowed)  # noqa: B010 - a function attribute, read by _doc_with_allowed
    return check


def whole_range(minimum: int, maximum: int) -> Check:
    """A whole number from ``minimum`` to ``maximum``."""

    def check(owner: str, prop: str, value: Any) -> None:
        if not minimum <= value <= maximum:
            raise PropValidationError(owner, prop, value, f"Allowed: a whole number from {minimum} to {maximum}.")

    return described(check, f"{minimum} to {maximum}")


def number_range(minimum: float, maximum: float) -> Check:
    """A number from ``minimum`` to ``maximum``."""

    def check(owner: str, prop: str, value: Any) -> None:
        if not minimum <= value <= maximum:
            raise PropValidationError(owner, prop, value, f"Allowed: a number from {minimum} to {maximum}.")

    return described(check, f"{minimum} to {maximum}")


#: A TCP or UDP port.
port = whole_range(1, 65535)

_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def duration_range(minimum: Duration, maximum: Duration, *, unit: str = "seconds") -> Check:
    """A Duration from ``minimum`` to ``maximum`` and a whole number of ``unit`` (where CloudFormation
    takes the value in that unit, ``Duration.hours(36)`` cannot become days)."""
    if unit not in _UNIT_SECONDS:
        raise ValueError(f"unit must be one of {sorted(_UNIT_SECONDS)}")

    def check(owner: str, prop: str, value: Any) -> None:
        shown = value.to_human_string()
        # In milliseconds: to_seconds() itself raises on a value like Duration.millis(1500).
        millis = value.to_milliseconds(integral=False)
        if millis % (_UNIT_SECONDS[unit] * 1000):
            raise PropValidationError(owner, prop, shown, f"Allowed: a whole number of {unit}.")
        if not minimum.to_milliseconds(integral=False) <= millis <= maximum.to_milliseconds(integral=False):
            raise PropValidationError(
                owner, prop, shown, f"Allowed: from {minimum.to_human_string()} to {maximum.to_human_string()}."
            )

    whole = f", whole {unit}" if unit != "seconds" else ""
    return described(check, f"{minimum.to_human_string()} to {maximum.to_human_string()}{whole}")


def duration_one_of(seconds: Sequence[int], words: str) -> Check:
    """A Duration of exactly one of ``seconds`` (where CloudFormation takes a fixed list of values);
    ``words`` says them (``"1, 2, 5 or 10 minutes"``)."""
    allowed_millis = tuple(s * 1000 for s in seconds)

    def check(owner: str, prop: str, value: Any) -> None:
        # In milliseconds: to_seconds() itself raises on a value like Duration.millis(1500).
        if value.to_milliseconds(integral=False) not in allowed_millis:
            raise PropValidationError(owner, prop, value.to_human_string(), f"Allowed: {words}.")

    return described(check, words)


def _finite_log_retention(owner: str, prop: str, value: Any) -> None:
    if value == logs.RetentionDays.INFINITE:
        raise PropValidationError(
            owner, prop, value, "Allowed: a finite retention, ONE_DAY to TEN_YEARS (logs kept forever cost forever)."
        )


#: A ``logs.RetentionDays`` other than ``INFINITE``.
finite_log_retention = described(_finite_log_retention, "a finite retention (not INFINITE)")


def matches(pattern: str, what: str) -> Check:
    """A string matching the regular expression ``pattern``; ``what`` says it in words."""
    compiled = re.compile(pattern)

    def check(owner: str, prop: str, value: Any) -> None:
        if not compiled.fullmatch(value):
            raise PropValidationError(owner, prop, value, f"Allowed: {what}.")

    return described(check, what)


def unique_items(owner: str, prop: str, value: Any) -> None:
    """No item appears twice."""
    seen: list[Any] = []
    for item in value:
        if item in seen:
            raise PropValidationError(owner, prop, value, f"Each item may appear once; {item!r} repeats.")
        seen.append(item)


def each(check: Check) -> Check:
    """``check`` applied to every item of a collection prop, naming the item (``prop[2]``); the docs say
    what ``check`` allows, for each item."""

    def check_each(owner: str, prop: str, value: Sequence[Any]) -> None:
        for index, item in enumerate(value):
            if not is_token(item):
                check(owner, f"{prop}[{index}]", item)

    allowed = getattr(check, "allowed", "")
    return described(check_each, f"each {allowed}") if allowed else check_each
