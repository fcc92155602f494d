"""The stateful-resource lock: logical IDs that must never change.

A stateful resource (it holds data or an address others depend on) whose logical ID changes
is deleted and created anew by CloudFormation: the data is gone, or the address changes.
``tests/stateful-resources.json`` lists the logical ID and type of every such resource of
every reference stack; tests/test_reference_stacks.py fails when one disappears.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

LOCK_FILE = Path(__file__).resolve().parent / "stateful-resources.json"

#: Set REFARCH_UPDATE_LOCK=1 (``make lock``) to add new stateful resources to the lock.
#: It never removes one: removing an entry is a deliberate hand edit, reviewed as such.
UPDATE = os.environ.get("REFARCH_UPDATE_LOCK") == "1"

STATEFUL_TYPES = frozenset(
    {
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::EIP",  # NAT addresses that partners allow-list
        "AWS::S3::Bucket",
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::Kinesis::Stream",
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",  # subscriptions users made by hand
        "AWS::SecretsManager::Secret",
        "AWS::RedshiftServerless::Namespace",
        "AWS::RedshiftServerless::Workgroup",
        "AWS::Redshift::Cluster",
        "AWS::ElastiCache::ReplicationGroup",  # a replacement empties the cache and changes its endpoint
        "AWS::Cognito::UserPool",
        "AWS::EFS::FileSystem",
        "AWS::Glue::Database",
        "AWS::Glue::Table",
        "AWS::CloudTrail::Trail",
    }
)


def stateful_resources(template: dict[str, Any]) -> dict[str, str]:
    """Logical ID -> type of every stateful resource of a template."""
    return {
        logical_id: resource["Type"]
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] in STATEFUL_TYPES
    }


def load_lock() -> dict[str, dict[str, str]]:
    if not LOCK_FILE.exists():
        return {}
    return json.loads(LOCK_FILE.read_text())  # type: ignore[no-any-return]


def add_to_lock(stack_name: str, resources: dict[str, str]) -> None:
    lock = load_lock()
    lock.setdefault(stack_name, {}).update(resources)
    lock = {name: dict(sorted(ids.items())) for name, ids in sorted(lock.items())}
    LOCK_FILE.write_text(json.dumps(lock, indent=2) + "\n")


def changes(stack_name: str, template: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(gone, new): locked resources whose logical ID or type changed, and stateful resources not locked."""
    current = stateful_resources(template)
    locked = load_lock().get(stack_name, {})
    gone = {lid: t for lid, t in locked.items() if current.get(lid) != t}
    new = {lid: t for lid, t in current.items() if lid not in locked}
    return gone, new
