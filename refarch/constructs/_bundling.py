"""Packaging Lambda code and dependencies, with no Docker engine needed.

Handler code in ``refarch/runtime/<package>/`` is pure Python and ships as a plain asset.
Third-party dependencies (Pillow, Powertools, ...) go in one layer per construct, built by
``pip install --platform ... --only-binary=:all:`` on the synthesizing machine: wheels for
the Lambda platform, whatever machine synthesizes. Docker is used only when that fails
(for example a dependency with no wheel for the platform).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from refarch.constructs import _defaults

#: Where the handler packages and the layers' requirement files live (inside the package,
#: so a pip-installed refarch synthesizes as well as a checkout).
RUNTIME_DIR = Path(__file__).resolve().parent.parent / "runtime"

#: Wheel platform tags pip may pick for each architecture. Lambda's Python 3.12+ runtimes run on
#: Amazon Linux 2023 (glibc 2.34), so any manylinux wheel up to 2.34 runs there; newer releases of
#: packages such as Pillow publish only manylinux_2_28 wheels for new Pythons.
_PLATFORMS = {
    lambda_.Architecture.X86_64.name: ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64"),
    lambda_.Architecture.ARM_64.name: ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64"),
}
_ASSET_EXCLUDES = ["__pycache__", "*.pyc", ".pytest_cache"]


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Installs a requirements file into ``<output>/python`` for the Lambda platform."""

    def __init__(self, requirements: Path, *, platforms: tuple[str, ...], python_version: str) -> None:
        self.requirements = requirements
        self.platforms = platforms
        self.python_version = python_version

    def command(self, output_dir: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *(arg for platform in self.platforms for arg in ("--platform", platform)),
            "--implementation",
            "cp",
            "--python-version",
            self.python_version,
            "--only-binary=:all:",
            "--target",
            str(Path(output_dir) / "python"),
            "-r",
            str(self.requirements),
        ]

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        result = subprocess.run(self.command(output_dir), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            # Returning False makes CDK fall back to bundling in Docker, as the docs promise.
            print(
                f"refarch: local bundling of {self.requirements} failed, trying Docker:\n{result.stderr}",
                file=sys.stderr,
            )
            return False
        return True


def handler_code(package: str) -> lambda_.Code:
    """The code asset of handler package ``refarch/runtime/<package>``, as ``<package>/...`` in the zip.

    The package folder itself is the asset root's only child, so handlers are addressed as
    ``<package>.<module>.handler`` and import each other as a package.
    """
    source = RUNTIME_DIR / package
    if not (source / "__init__.py").is_file():
        raise ValueError(f"handler_code: {source} is not a Python package of refarch/runtime")
    return lambda_.Code.from_asset(str(RUNTIME_DIR), exclude=[*_ASSET_EXCLUDES, *_others(package)])


def _others(package: str) -> list[str]:
    """Asset excludes for everything in ``refarch/runtime`` but ``package``."""
    return [p.name for p in RUNTIME_DIR.iterdir() if p.name != package and not p.name.startswith("__init__")]


def dependencies_layer(
    scope: Construct,
    id: str,
    *,
    requirements: str,
    architecture: lambda_.Architecture,
    description: str,
) -> lambda_.LayerVersion:
    """A layer with the packages of ``refarch/runtime/layers/<requirements>.txt``, built for ``architecture``."""
    requirements_file = RUNTIME_DIR / "layers" / f"{requirements}.txt"
    if not requirements_file.is_file():
        raise ValueError(f"dependencies_layer: no requirements file {requirements_file}")
    runtime = _defaults.LAMBDA_PYTHON_RUNTIME
    local = PipLocalBundling(
        requirements_file, platforms=_PLATFORMS[architecture.name], python_version=_defaults.LAMBDA_PYTHON_VERSION
    )
    docker_command = (
        f"pip install --quiet --only-binary=:all: -r /asset-input/{requirements_file.name} "
        "--target /asset-output/python"
    )
    return lambda_.LayerVersion(
        scope,
        id,
        description=description,
        compatible_runtimes=[runtime],
        compatible_architectures=[architecture],
        code=lambda_.Code.from_asset(
            str(requirements_file.parent),
            # Only this requirements file is the source: its hash is the asset's hash, so the layer
            # is rebuilt exactly when the pinned requirements change.
            exclude=["*", f"!{requirements_file.name}"],
            bundling=BundlingOptions(
                image=runtime.bundling_image,
                platform="linux/arm64" if architecture == lambda_.Architecture.ARM_64 else "linux/amd64",
                command=["bash", "-c", docker_command],
                local=local,
            ),
        ),
    )
