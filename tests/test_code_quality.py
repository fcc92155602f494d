"""The code itself: ruff (lint and format) over everything, strict mypy over the library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.harness import ROOT

BIN = Path(sys.executable).parent
SOURCES = ["refarch", "tests", "bench", "examples", "app.py"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_lint_clean() -> None:
    result = _run(str(BIN / "ruff"), "check", *SOURCES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_clean() -> None:
    result = _run(str(BIN / "ruff"), "format", "--check", *SOURCES)
    assert result.returncode == 0, "run `.venv/bin/ruff format`:\n" + result.stdout + result.stderr


def test_mypy_strict_clean() -> None:
    result = _run(sys.executable, "-m", "mypy")  # [tool.mypy] in pyproject.toml: strict, package refarch
    assert result.returncode == 0, result.stdout + result.stderr
