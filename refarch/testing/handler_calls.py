"""Which AWS calls does a Lambda handler make? A static scan of its Python source.

The scan reads the handler's module and the modules of its own package that it imports, follows
the handler function through the functions and methods it calls (by name, so a method shared by
several classes counts for each), and finds in what it reaches:

- every ``boto3.client("<service>")`` / ``boto3.resource("<service>")``: the services the code uses;
- every method call ``<anything>.<operation>(...)`` whose name is an operation of one of those
  services (botocore's service models give the operation names, so ``put_object`` is S3's
  ``PutObject`` only in code that made an S3 client);
- the Powertools helpers that call AWS themselves (:data:`POWERTOOLS_CALLS`);
- every string literal (the environment variables the code may read are among them).

Each call becomes IAM actions: ``<signing name>:<OperationName>``, except where IAM names the action
differently (:data:`ACTION_EXCEPTIONS`). Which *resource* a call touches is decided later, from the
template (:mod:`refarch.testing.permission_needs`): the scan only records what each resource
argument is made of.
"""

from __future__ import annotations

import ast
import gzip
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

#: IAM action prefixes that differ from the boto3 service name.
SERVICE_PREFIXES: dict[str, str] = {"stepfunctions": "states", "redshift-serverless": "redshift-serverless"}

#: Calls whose IAM actions are not ``<prefix>:<OperationName>`` (Service Authorization Reference).
ACTION_EXCEPTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "delete_objects"): ("s3:DeleteObject",),
    ("s3", "head_object"): ("s3:GetObject",),
    ("s3", "list_objects_v2"): ("s3:ListBucket",),
    ("s3", "list_objects"): ("s3:ListBucket",),
    ("s3", "upload_file"): ("s3:PutObject",),
    ("s3", "upload_fileobj"): ("s3:PutObject",),
    ("s3", "download_file"): ("s3:GetObject",),
    ("s3", "download_fileobj"): ("s3:GetObject",),
    ("sqs", "send_message_batch"): ("sqs:SendMessage",),
    ("sqs", "delete_message_batch"): ("sqs:DeleteMessage",),
}

#: Powertools helpers that call AWS with the function's role: class -> (service, actions, argument
#: naming the resource). DynamoDBPersistenceLayer reads and writes idempotency records.
POWERTOOLS_CALLS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "DynamoDBPersistenceLayer": (
        "dynamodb",
        ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        "table_name",
    ),
}

#: Method names that are not API calls even when a service has an operation of that name.
_NOT_CALLS = {"get_paginator", "get_waiter", "can_paginate", "close", "generate_presigned_url"}


@dataclass(frozen=True)
class AwsCall:
    """One AWS call found in handler code."""

    service: str
    """boto3 service name (``s3``, ``redshift-data``)."""
    operation: str
    """The Python method name (``put_object``)."""
    actions: tuple[str, ...]
    arguments: dict[str, str]
    """Keyword argument -> its source text (``Bucket`` -> ``cfg.output_bucket``)."""
    file: str
    line: int

    def where(self) -> str:
        return f"{self.file}:{self.line} {self.service}.{self.operation}"


@dataclass(frozen=True)
class HandlerScan:
    calls: tuple[AwsCall, ...]
    literals: frozenset[str]
    modules: tuple[Path, ...]


def find_handler_module(handler: str, code_roots: Sequence[Path]) -> Path | None:
    """``stream_processor.handler.lambda_handler`` -> ``<root>/stream_processor/handler.py``."""
    module = handler.rsplit(".", 1)[0].replace(".", "/")
    for root in code_roots:
        candidate = Path(root) / f"{module}.py"
        if candidate.is_file():
            return candidate
    return None


def scan_handler(module: Path, root: Path, function: str) -> HandlerScan:
    """The AWS calls reachable from ``function`` of ``module`` (modules under ``root`` it imports included)."""
    return _scan(module.resolve(), root.resolve(), function)


@dataclass(frozen=True)
class _RawCall:
    name: str
    on_attribute: bool
    keywords: tuple[ast.keyword, ...]
    line: int

    @property
    def arguments(self) -> dict[str, str]:
        """Keyword -> source text (unparsed only for the calls that turn out to be AWS calls)."""
        return {k.arg: ast.unparse(k.value) for k in self.keywords if k.arg}


@dataclass(frozen=True)
class _Unit:
    """A function, class or module-level statement of one module, read once."""

    path: Path
    name: str | None
    """The function or class name; None for module-level code (always reached)."""
    mentions: frozenset[str]
    """Names it calls or passes around (a step given to a helper is called by the helper)."""
    calls: tuple[_RawCall, ...]
    literals: frozenset[str]


@dataclass(frozen=True)
class _Module:
    units: tuple[_Unit, ...]
    clients: frozenset[str]
    imports: tuple[str, ...]


@cache
def _read_module(path: Path) -> _Module:
    tree = ast.parse(path.read_text(), str(path))
    reader = _UnitReader(path)
    for node in tree.body:
        reader.read(node, None)
    imports = tuple(name for node in ast.walk(tree) for name in _imported_names(node))
    return _Module(tuple(u.freeze() for u in reader.units), frozenset(_clients(tree)), imports)


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass
class _OpenUnit:
    path: Path
    name: str | None
    mentions: set[str] = field(default_factory=set)
    calls: list[_RawCall] = field(default_factory=list)
    literals: set[str] = field(default_factory=set)

    def freeze(self) -> _Unit:
        return _Unit(self.path, self.name, frozenset(self.mentions), tuple(self.calls), frozenset(self.literals))


class _UnitReader:
    """One pass over a module: each node counts for the innermost function or class around it; a
    definition inside another is mentioned by it (reaching a class reaches its methods)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.units: list[_OpenUnit] = []

    def read(self, node: ast.AST, owner: _OpenUnit | None) -> None:
        if isinstance(node, _DEFINITIONS):
            if owner is not None:
                owner.mentions.add(node.name)
            owner = _OpenUnit(self.path, node.name)
            self.units.append(owner)
        elif owner is None:  # module-level code: always reached
            owner = _OpenUnit(self.path, None)
            self.units.append(owner)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            owner.literals.add(node.value)
        elif isinstance(node, ast.Name):
            owner.mentions.add(node.id)
        elif isinstance(node, ast.Call):
            called = _called_name(node)
            owner.mentions.add(called)
            on_attribute = isinstance(node.func, ast.Attribute)
            owner.calls.append(_RawCall(called, on_attribute, tuple(node.keywords), node.lineno))
        for child in ast.iter_child_nodes(node):
            self.read(child, owner)


@cache
def _scan(module: Path, root: Path, function: str) -> HandlerScan:
    modules = _imported_closure(module, root)
    read = [_read_module(path) for path in modules]
    operations = {service: _operations(service) for m in read for service in m.clients}
    calls: list[AwsCall] = []
    literals: set[str] = set()
    for unit in _reachable([u for m in read for u in m.units], function):
        literals |= unit.literals
        shown = str(unit.path.relative_to(root))
        for raw in unit.calls:
            calls.extend(_aws_calls(raw, operations, shown))
    unique = {(c.file, c.line, c.operation): c for c in calls}  # a nested function is reached twice
    return HandlerScan(tuple(unique.values()), frozenset(literals), tuple(modules))


def _aws_calls(raw: _RawCall, operations: dict[str, dict[str, str]], shown: str) -> Iterable[AwsCall]:
    if raw.name in POWERTOOLS_CALLS:
        service, actions, _ = POWERTOOLS_CALLS[raw.name]
        yield AwsCall(service, raw.name, actions, raw.arguments, shown, raw.line)
    if not raw.on_attribute or raw.name in _NOT_CALLS:
        return
    for service, names in sorted(operations.items()):
        if raw.name in names or (service, raw.name) in ACTION_EXCEPTIONS:
            actions = ACTION_EXCEPTIONS.get((service, raw.name)) or (f"{_prefix(service)}:{names[raw.name]}",)
            arguments = raw.arguments
            if service == "s3" and raw.name == "get_object" and "VersionId" in arguments:
                actions = (*actions, "s3:GetObjectVersion")
            yield AwsCall(service, raw.name, actions, arguments, shown, raw.line)


def _reachable(units: list[_Unit], function: str) -> list[_Unit]:
    """Module-level code, and every function (or class: calling it runs its methods) reachable from
    ``function`` by name."""
    defined: dict[str, list[_Unit]] = {}
    for unit in units:
        if unit.name is not None:
            defined.setdefault(unit.name, []).append(unit)
    reached = [u for u in units if u.name is None]
    pending, seen = [function], set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for unit in defined.get(name, []):
            reached.append(unit)
            pending.extend(m for m in unit.mentions if m in defined)
    return reached


def _imported_closure(module: Path, root: Path) -> list[Path]:
    seen: list[Path] = []
    pending = [module]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.append(path)
        for name in _read_module(path).imports:
            candidate = root / (name.replace(".", "/") + ".py")
            if candidate.is_file():
                pending.append(candidate.resolve())
    return seen


def _imported_names(node: ast.AST) -> Iterable[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        yield node.module
        yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _clients(tree: ast.AST) -> Iterable[str]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and _called_name(node) in ("client", "resource")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def _called_name(node: ast.Call) -> str:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return ""


@cache
def _operations(service: str) -> dict[str, str]:
    """Python method name -> API operation name, from botocore's model of ``service``.

    The model is read as text (a regex over the operation names), not parsed as JSON: the S3 model
    is megabytes, and the scan runs on every check.
    """
    import botocore
    from botocore import xform_name

    versions = sorted((Path(botocore.__file__).parent / "data" / service).glob("*/service-2.json*"))
    if not versions:
        raise ValueError(f"botocore has no model of the service {service!r}")
    path = versions[-1]
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    names = re.findall(r'"(\w+)":\{\s*"name":\s*"\1",\s*"http"', text)
    return {xform_name(name): name for name in names}


def _prefix(service: str) -> str:
    return SERVICE_PREFIXES.get(service, service)


__all__ = ["ACTION_EXCEPTIONS", "POWERTOOLS_CALLS", "AwsCall", "HandlerScan", "find_handler_module", "scan_handler"]
