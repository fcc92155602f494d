"""The code itself: ruff (lint and format) over everything, strict mypy over the library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.background import Background
from tests.harness import ROOT

pytestmark = pytest.mark.slow  # mypy and ruff, external tools

BIN = Path(sys.executable).parent
SOURCES = ["refarch", "tests", "bench", "examples", "app.py"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


#: Run in the background (tests/background.py) from the start of the session; mypy first, the longest
#: (about 60 s with a cold .mypy_cache, a few seconds warm).
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
