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
from dataclasses import dataclass
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


@cache
def _scan(module: Path, root: Path, function: str) -> HandlerScan:
    modules = _imported_closure(module, root)
    trees = [(path, ast.parse(path.read_text(), str(path))) for path in modules]
    services = {service for _, tree in trees for service in _clients(tree)}
    operations = {service: _operations(service) for service in services}
    calls: list[AwsCall] = []
    literals: set[str] = set()
    for path, reached in _reachable(trees, function):
        shown = str(path.relative_to(root))
        for node in ast.walk(reached):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
            if not isinstance(node, ast.Call):
                continue
            arguments = {k.arg: ast.unparse(k.value) for k in node.keywords if k.arg}
            name = _called_name(node)
            if name in POWERTOOLS_CALLS:
                service, actions, _ = POWERTOOLS_CALLS[name]
                calls.append(AwsCall(service, name, actions, arguments, shown, node.lineno))
            if not isinstance(node.func, ast.Attribute) or name in _NOT_CALLS:
                continue
            for service, names in sorted(operations.items()):
                if name in names or (service, name) in ACTION_EXCEPTIONS:
                    actions = ACTION_EXCEPTIONS.get((service, name)) or (f"{_prefix(service)}:{names[name]}",)
                    if service == "s3" and name == "get_object" and "VersionId" in arguments:
                        actions = (*actions, "s3:GetObjectVersion")
                    calls.append(AwsCall(service, name, actions, arguments, shown, node.lineno))
    unique = {(c.file, c.line, c.operation): c for c in calls}  # a nested function is reached twice
    return HandlerScan(tuple(unique.values()), frozenset(literals), tuple(modules))


def _reachable(trees: list[tuple[Path, ast.Module]], function: str) -> list[tuple[Path, ast.AST]]:
    """Module-level code of every module, and every function (or class) reachable from ``function`` by name."""
    defined: dict[str, list[tuple[Path, ast.AST]]] = {}
    reached: list[tuple[Path, ast.AST]] = []
    for path, tree in trees:
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                reached.append((path, node))
        for node in ast.walk(tree):
            # calling a class runs its methods: reaching the class reaches its body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.setdefault(node.name, []).append((path, node))
    pending, seen = [function], set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for path, node in defined.get(name, []):
            reached.append((path, node))
            pending.extend(_called_name(c) for c in ast.walk(node) if isinstance(c, ast.Call))
            # a function passed as a value (a step given to a helper) is called by the helper
            pending.extend(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in defined)
    return reached


def _imported_closure(module: Path, root: Path) -> list[Path]:
    seen: list[Path] = []
    pending = [module]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.append(path)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for name in _imported_names(node):
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
