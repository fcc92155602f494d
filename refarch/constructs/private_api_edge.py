"""Kept only for ``resilient_web_app``, which still imports the edge log bucket from here: it now lives
in ``refarch.constructs.private_api.edge``. Delete this module once ``resilient_web_app`` imports it
from there."""

from refarch.constructs.private_api.edge import _build_log_bucket

__all__ = ["_build_log_bucket"]
