"""The code itself: ruff (lint and format) over everything, strict mypy over the library."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from tests.background import Background
from tests.harness import ROOT

pytestmark = pytest.mark.slow  # mypy and ruff, external tools

BIN = Path(sys.executable).parent
SOURCES = ["refarch", "tests", "bench", "examples", "app.py"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


#: Run in the background (tests/background.py) from the start of the session; mypy first, the longest
#: (about 25 s with a cold .mypy_cache, a few seconds warm).
LONG_BACKGROUND_JOBS = {
    "mypy": lambda: _run(sys.executable, "-m", "mypy"),  # [tool.mypy] in pyproject.toml: strict, package refarch
}
BACKGROUND_JOBS = {
    "ruff check": lambda: _run(str(BIN / "ruff"), "check", *SOURCES),
    "ruff format": lambda: _run(str(BIN / "ruff"), "format", "--check", *SOURCES),
}


def test_ruff_lint_clean(background: Background) -> None:
    result = background.result("ruff check", BACKGROUND_JOBS["ruff check"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_clean(background: Background) -> None:
    result = background.result("ruff format", BACKGROUND_JOBS["ruff format"])
    assert result.returncode == 0, "run `.venv/bin/ruff format`:\n" + result.stdout + result.stderr


def test_mypy_strict_clean(background: Background) -> None:
    result = background.result("mypy", LONG_BACKGROUND_JOBS["mypy"])
    assert result.returncode == 0, result.stdout + result.stderr


def aws_cdk_modules_imported(package: Path) -> set[str]:
    """``aws_cdk.<module>`` of every import of aws-cdk-lib's modules in the Python files under ``package``."""
    found = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module == "aws_cdk":
                    found |= {f"aws_cdk.{alias.name}" for alias in node.names if alias.name[:1].islower()}
                elif node.module.startswith("aws_cdk."):
                    found.add(".".join(node.module.split(".")[:2]))
            elif isinstance(node, ast.Import):
                found |= {".".join(a.name.split(".")[:2]) for a in node.names if a.name.startswith("aws_cdk.")}
    return found


def test_mypy_checks_every_aws_cdk_module_the_library_imports() -> None:
    """pyproject.toml skips aws-cdk-lib's modules (Any) except those it lists: a module refarch imports
    and the list misses would be unchecked, silently. The list is exactly refarch's imports."""
    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    checked = {m for o in overrides if o.get("follow_imports") == "normal" for m in o["module"]}
    assert any(o["module"] == ["aws_cdk.*"] and o["follow_imports"] == "skip" for o in overrides)
    imported = aws_cdk_modules_imported(ROOT / "refarch")
    assert len(imported) > 30, imported  # the scan finds what refarch imports
    assert checked - {"aws_cdk"} == imported, (
        f"add to pyproject.toml's checked list: {sorted(imported - checked)}; "
        f"remove (no longer imported): {sorted(checked - imported - {'aws_cdk'})}"
    )


def test_lazy_exports_name_each_construct_once_and_right() -> None:
    """refarch.constructs loads each construct's package on first use: the names type checkers see (its
    ``if TYPE_CHECKING`` imports) are the names it serves (``_HOMES``), each from the same module, and
    each served name is the object its module defines."""
    import refarch.constructs as constructs

    tree = ast.parse((ROOT / "refarch" / "constructs" / "__init__.py").read_text())
    (block,) = [n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"]
    typed = {alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert typed == constructs._HOMES
    assert constructs.__all__ == sorted(typed)
    for name, home in typed.items():
        assert getattr(constructs, name) is getattr(importlib.import_module(str(home)), name)


#: What an app that uses only ResilientWebApp must not load: PrivateApi's package (which imports its whole
#: construct) and the aws-cdk-lib modules only PrivateApi uses.
NOT_LOADED_BY_RESILIENT_WEB_APP = ("refarch.constructs.private_api", "aws_cdk.aws_apigateway", "aws_cdk.aws_cognito")


def test_resilient_web_app_loads_no_private_api() -> None:
    """The lazy loading refarch.constructs promises holds across constructs: what ResilientWebApp shares with
    PrivateApi lives in the shared modules (refarch/constructs/_*.py), so a fresh interpreter that uses
    ResilientWebApp never imports PrivateApi nor API Gateway."""
    program = "import sys, refarch.constructs\nrefarch.constructs.ResilientWebApp\nprint('\\n'.join(sys.modules))\n"
    result = _run(sys.executable, "-c", program)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "refarch.constructs.resilient_web_app" in loaded  # the program did load the construct
    assert sorted(loaded & set(NOT_LOADED_BY_RESILIENT_WEB_APP)) == []
