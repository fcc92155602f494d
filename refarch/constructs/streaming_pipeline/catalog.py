"""The lake's query side for ``StreamingPipeline``: a Glue Data Catalog table over the lake prefix
(Hive partitions found by partition projection, so no crawler and no MSCK REPAIR) and an Athena
workgroup whose results are encrypted with the pipeline's key.
"""

from __future__ import annotations

import re

from aws_cdk import Duration, Names, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

#: Where Athena writes query results, in the lake bucket; they expire after ``RESULTS_DAYS``.
RESULTS_PREFIX = "athena-results/"
RESULTS_DAYS = 30

#: First day partition projection considers; later days are projected up to NOW.
PROJECTION_START = "2024-01-01"

#: Columns of each lake line (see refarch/runtime/stream_processor/handler.py). ``event`` is read as
#: its JSON text: query it with json_extract_scalar(event, '$.field'), whatever the schema is.
COLUMNS = (
    ("arrival_time", "string"),
    ("shard_id", "string"),
    ("sequence_number", "string"),
    ("partition_key", "string"),
    ("event", "string"),
)


def _name(scope: Construct, separator: str) -> str:
    raw = Names.unique_resource_name(scope, max_length=60, separator=separator).lower()
    return re.sub(r"[^a-z0-9_-]", separator, raw)


class LakeCatalog(Construct):
    """A Glue database and table over the lake, and an Athena workgroup to query it."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket,
        encryption_key: kms.IKey,
        lake_prefix: str,
        table_name: str = "events",
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.bucket = bucket
        self.encryption_key = encryption_key
        self.lake_prefix = lake_prefix
        self.database_name = _name(self, "_")
        self.table_name = table_name
        location = f"s3://{bucket.bucket_name}/{lake_prefix}"

        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name, description=f"Data lake of {scope.node.path}"
            ),
        )
        self.table = glue.CfnTable(
            self,
            "Table",
            catalog_id=stack.account,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=table_name,
                description="Valid records, one JSON line each, gzip objects per batch and partition",
                table_type="EXTERNAL_TABLE",
                parameters={
                    "classification": "json",
                    "compressionType": "gzip",
                    "projection.enabled": "true",
                    "projection.dt.type": "date",
                    "projection.dt.format": "yyyy-MM-dd",
                    "projection.dt.range": f"{PROJECTION_START},NOW",
                    "projection.dt.interval": "1",
                    "projection.dt.interval.unit": "DAYS",
                    "projection.hour.type": "integer",
                    "projection.hour.range": "0,23",
                    "projection.hour.digits": "2",
                    "storage.location.template": location + "dt=${dt}/hour=${hour}/",
                },
                partition_keys=[
                    glue.CfnTable.ColumnProperty(name="dt", type="string"),
                    glue.CfnTable.ColumnProperty(name="hour", type="string"),
                ],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    columns=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in COLUMNS],
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe",
                        parameters={"ignore.malformed.json": "false"},
                    ),
                    compressed=True,
                ),
            ),
        )
        self.table.node.add_dependency(self.database)

        self.workgroup = athena.CfnWorkGroup(
            self,
            "Workgroup",
            name=_name(self, "-"),
            description=f"Queries of the data lake of {scope.node.path}",
            state="ENABLED",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=100 * 1024**3,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{bucket.bucket_name}/{RESULTS_PREFIX}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=encryption_key.key_arn
                    ),
                ),
            ),
        )

    def grant_query(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` run Athena queries on the lake table in this workgroup: the workgroup's query
        actions, read of the catalog table and of the lake prefix, and read/write of the results."""
        stack = Stack.of(self)
        workgroup_arn = stack.format_arn(service="athena", resource="workgroup", resource_name=self.workgroup.ref)
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
                "athena:StopQueryExecution",
                "athena:GetWorkGroup",
            ],
            resource_arns=[workgroup_arn],
        )
        catalog = [
            stack.format_arn(service="glue", resource="catalog"),
            stack.format_arn(service="glue", resource="database", resource_name=self.database_name),
            stack.format_arn(service="glue", resource="table", resource_name=f"{self.database_name}/{self.table_name}"),
        ]
        grant = grant.combine(
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
                resource_arns=catalog,
            )
        )
        grant = grant.combine(self.bucket.grant_read(grantee, f"{self.lake_prefix}*"))
        return grant.combine(self.bucket.grant_read_write(grantee, f"{RESULTS_PREFIX}*"))


def results_lifecycle_rule() -> s3.LifecycleRule:
    """Query results are scratch data: they expire."""
    return s3.LifecycleRule(
        id="ExpireQueryResults",
        prefix=RESULTS_PREFIX,
        expiration=Duration.days(RESULTS_DAYS),
        noncurrent_version_expiration=Duration.days(1),
    )
