"""A user who `pip install`s cdk-refarch gets the handler code, layer requirements and SQL the
constructs ship as assets, and the type information."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.harness import ROOT


def test_wheel_carries_every_runtime_asset(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = tmp_path.glob("cdk_refarch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    runtime = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "refarch").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc" and p.name != ".keep"
    ]
    missing = sorted(set(runtime) - names)
    assert not missing, f"files of refarch/ missing from the wheel: {missing}"
    assert "refarch/py.typed" in names
