"""Kept only for ``resilient_web_app``, which still imports PrivateApi's builders from here: they now
live in ``refarch.constructs.private_api`` (service, database, monitoring). Delete this module once
``resilient_web_app`` imports them from there."""

from refarch.constructs.private_api.database import acknowledge_monitoring_role, pin_rotation_port
from refarch.constructs.private_api.monitoring import build_alarm
from refarch.constructs.private_api.service import build_auto_scaling_group, build_service_role, default_user_data

__all__ = [
    "acknowledge_monitoring_role",
    "build_alarm",
    "build_auto_scaling_group",
    "build_service_role",
    "default_user_data",
    "pin_rotation_port",
]
