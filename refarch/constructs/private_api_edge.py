"""Kept only for ``resilient_web_app``, which still imports the edge log bucket from here: it is now
``refarch.constructs._edge.build_log_bucket``. Delete this module once ``resilient_web_app`` uses ``_edge``."""

from refarch.constructs._edge import build_log_bucket as _build_log_bucket

__all__ = ["_build_log_bucket"]
