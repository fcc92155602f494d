"""`make test`: the whole suite as two pytest sessions at once, one per core.

The suite's in-process work is serial: one Python thread and its jsii Node process take turns, so a
single session keeps one core busy however long it runs, and its background worker
(tests/background.py) has the other core for subprocesses only. The Lambda handler tests
(:data:`HANDLER_TESTS`: moto, Pillow, Powertools, the state machine run end to end) share nothing with
the construct tests: no reference stack, no example run, no background job. So they run as a second
session on the second core, beside the construct session and its background worker.

Every test runs exactly once: the handler session runs :data:`HANDLER_TESTS`, the construct session
every other test (``--ignore``). Both read ``PYTEST_ADDOPTS`` and the options given here
(``make test ARGS="-x -k poison"``); arguments that name test files or folders run as one plain session
instead (``make test ARGS=tests/test_docs.py``). The construct session prints as it goes; the handler
session's output follows it, whole. The exit status is the first failure of the two (a session that
selected no test fails only when the other did too). ``python -m pytest`` alone runs everything in one
session.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The handler tests: they import the runtime code (refarch/runtime/) and AWS mocks, never a construct
#: the other session builds. The e2e module synthesizes a stack of its own configuration.
HANDLER_TESTS = (
    "tests/e2e",
    "tests/test_image_handlers.py",
    "tests/test_image_photos.py",
    "tests/test_stream_handler.py",
    "tests/test_stream_poison.py",
    "tests/test_stream_properties.py",
    "tests/test_stream_replay.py",
)


def commands(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """The construct session's command and the handler session's."""
    pytest = [sys.executable, "-m", "pytest", *args]
    # A cache folder each: `--lf` and `--ff` remember each session's failures, neither overwrites the other's.
    handlers = [*pytest, "-o", "cache_dir=.pytest_cache/handler-tests", *HANDLER_TESTS]
    return [*pytest, *(f"--ignore={path}" for path in HANDLER_TESTS)], handlers


def names_tests(args: Sequence[str]) -> bool:
    """True when ``args`` name test files, folders or node IDs (``tests/test_x.py::test_y``)."""
    return any(not arg.startswith("-") and (ROOT / arg.split("::")[0]).exists() for arg in args)


def main(args: Sequence[str]) -> int:
    if names_tests(args):  # the tests asked for, once, whichever session they belong to
        return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, check=False).returncode
    constructs, handlers = commands(args)
    with tempfile.TemporaryFile("w+") as output:
        second = subprocess.Popen(handlers, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, text=True)
        try:
            first = subprocess.run(constructs, cwd=ROOT, check=False).returncode
        except BaseException:  # interrupted (Ctrl-C): do not leave the second session running
            second.terminate()
            second.wait()
            raise
        second.wait()
        output.seek(0)
        print(f"\n{'=' * 30} handler tests (second session: {' '.join(HANDLER_TESTS)}) {'=' * 30}")
        print(output.read(), end="", flush=True)
    return combined_status(first, second.returncode)


#: pytest's exit status when a session selected no test (``-k`` or ``-m`` matching only the other's).
NO_TESTS = 5


def combined_status(first: int, second: int) -> int:
    """The first failure of the two sessions; one that selected no test is no failure while the other
    ran tests (``make test ARGS="-k private_api"`` selects construct tests only)."""
    statuses = [status for status in (first, second) if status != NO_TESTS] or [NO_TESTS]
    return next((status for status in statuses if status != 0), 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
