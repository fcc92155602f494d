"""Custom resource (CDK Provider framework ``onEvent``): runs SQL on Redshift Serverless through
the Redshift Data API and waits for the result, so a failing statement fails the deployment.

Resource properties:
    WorkgroupName, Database: where the SQL runs.
    NamespaceName: the namespace whose Redshift-managed admin secret the SQL runs as (CloudFormation
        does not return that secret's ARN: it is read with GetNamespace at run time).
    Sqls: statements run in one transaction on Create and Update.
    ReplaceSqls: statements run first on an Update whose ``Sqls`` changed (for example dropping
        the materialized view so that its new definition can be created).
On Delete nothing runs: the objects and the data they hold stay in the namespace.
"""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "redshift-sql"))

#: Statuses of DescribeStatement after which a statement no longer changes.
_DONE = {"FINISHED", "FAILED", "ABORTED"}
POLL_SECONDS = 2.0


class SqlFailed(RuntimeError):
    """A statement batch ended in FAILED or ABORTED."""


def run(client: Any, props: dict[str, Any], sqls: list[str], *, timeout_seconds: float) -> str:
    """Run ``sqls`` as one batch (one transaction) and wait; returns the statement id."""
    started = client.batch_execute_statement(
        WorkgroupName=props["WorkgroupName"],
        Database=props["Database"],
        SecretArn=props["SecretArn"],  # resolved by on_event
        Sqls=sqls,
        StatementName="refarch-streaming-ingestion",
    )
    statement_id: str = started["Id"]
    deadline = time.monotonic() + timeout_seconds
    while True:
        described = client.describe_statement(Id=statement_id)
        status = described["Status"]
        if status in _DONE:
            break
        if time.monotonic() > deadline:
            raise SqlFailed(f"statement {statement_id} still {status} after {timeout_seconds:.0f} s")
        time.sleep(POLL_SECONDS)
    if status != "FINISHED":
        raise SqlFailed(f"statement {statement_id} {status}: {described.get('Error', 'no error message')}")
    logger.info("SQL applied", extra={"statement_id": statement_id, "statements": len(sqls)})
    return statement_id


def admin_secret_arn(client: Any, namespace_name: str) -> str:
    """The ARN of the admin secret Redshift manages for ``namespace_name`` (``manageAdminPassword``)."""
    namespace = client.get_namespace(namespaceName=namespace_name)["namespace"]
    arn = namespace.get("adminPasswordSecretArn")
    if not arn:
        raise SqlFailed(f"namespace {namespace_name} has no Redshift-managed admin secret")
    return str(arn)


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    props = event["ResourceProperties"]
    physical_id = f"{props['WorkgroupName']}/{props['Database']}/{props.get('Name', 'sql')}"
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", physical_id)}
    sqls = list(props["Sqls"])
    if event["RequestType"] == "Update":
        old = event.get("OldResourceProperties", {})
        if old.get("Sqls") == props["Sqls"] and old.get("WorkgroupName") == props["WorkgroupName"]:
            return {"PhysicalResourceId": event.get("PhysicalResourceId", physical_id)}
        sqls = [*props.get("ReplaceSqls", []), *sqls]
    # Leave a margin of the function's own time for the framework's response.
    remaining = context.get_remaining_time_in_millis() / 1000 if context else 600.0
    secret_arn = admin_secret_arn(boto3.client("redshift-serverless"), props["NamespaceName"])
    statement_id = run(
        boto3.client("redshift-data"), {**props, "SecretArn": secret_arn}, sqls, timeout_seconds=max(remaining - 30, 10)
    )
    return {"PhysicalResourceId": physical_id, "Data": {"StatementId": statement_id}}
