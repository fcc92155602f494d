"""One parse per test session of each botocore JSON file (service models, endpoint rules).

botocore parses a service's model (S3: several MB of JSON) again for every new session, and the
handler and end-to-end tests create a fresh moto world, and fresh boto3 clients, per test: about
half of their time went to ``json.loads`` of the same files (cProfile of tests/test_image_handlers.py:
10.3 of 26.7 s). botocore already shares one parsed object among all clients of a session and
treats it as read-only after loading (its own per-loader cache hands out the same object), so
sharing it across sessions changes nothing but the time.
"""

from __future__ import annotations

import functools
from typing import Any

from botocore import loaders


def share_parsed_json_files() -> None:
    """Patch ``botocore.loaders.JSONFileLoader.load_file`` with a process-wide cache (idempotent)."""
    original = loaders.JSONFileLoader.load_file
    if getattr(original, "shared_across_sessions", False):
        return

    @functools.cache
    def load(file_path: str) -> Any:
        return original(loaders.JSONFileLoader(), file_path)

    def load_file(self: loaders.JSONFileLoader, file_path: str) -> Any:
        return load(file_path)

    load_file.shared_across_sessions = True  # type: ignore[attr-defined]
    loaders.JSONFileLoader.load_file = load_file  # type: ignore[method-assign]
