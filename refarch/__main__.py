"""Command line of cdk-refarch: ``python -m refarch doctor [--app-dir DIR]``."""

from __future__ import annotations

import sys

from refarch.doctor import main as doctor_main

USAGE = "usage: python -m refarch doctor [--app-dir DIR]   (checks Node, the CDK CLI, cdk.json flags, bundling)"


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "doctor":
        print(USAGE, file=sys.stderr)
        return 2
    return doctor_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
