"""EncryptedDataStore: GDPR-grade storage for personal data.

The package, by concern: ``props`` (every prop, written once, and the checks across props),
``keys`` (data and audit keys), ``bucket`` and ``table`` (where the data rests), ``database``
(the Aurora option), ``audit`` (trail, CIS alarms), ``monitoring`` (error metrics, dashboard
panels), ``grants`` (least-privilege access) and ``store`` (the construct, wiring them).
"""

from refarch.constructs.encrypted_data_store.audit import AUDIT_ALARMS, AuditAlarm
from refarch.constructs.encrypted_data_store.keys import KEY_ADMIN_ACTIONS, KEY_SERVICES, KEY_USE_ACTIONS
from refarch.constructs.encrypted_data_store.props import EncryptedDataStoreProps
from refarch.constructs.encrypted_data_store.store import EncryptedDataStore

__all__ = [
    "AUDIT_ALARMS",
    "KEY_ADMIN_ACTIONS",
    "KEY_SERVICES",
    "KEY_USE_ACTIONS",
    "AuditAlarm",
    "EncryptedDataStore",
    "EncryptedDataStoreProps",
]
