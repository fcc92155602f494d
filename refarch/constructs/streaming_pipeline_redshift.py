"""The Redshift part of ``StreamingPipeline``: Redshift Serverless reading the Kinesis stream through
streaming ingestion (an external schema and an auto-refreshed materialized view), with the SQL kept in
``refarch/runtime/stream_processor/sql/`` and applied at deploy time through the Redshift Data API.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from string import Template

from aws_cdk import CustomResource, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_redshiftserverless as redshift
from aws_cdk import custom_resources as cr
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge, wildcard_resource_finding
from refarch.constructs import _builders
from refarch.constructs._bundling import RUNTIME_DIR

#: The SQL files of the ingestion path, run in this order as one Data API batch (one transaction).
SQL_DIR = RUNTIME_DIR / "stream_processor" / "sql"
CREATE_SQL_FILES = ("00_session.sql", "01_external_schema.sql", "02_materialized_view.sql")
REPLACE_SQL_FILES = ("replace_materialized_view.sql",)

#: The audit logs Redshift Serverless exports to CloudWatch Logs.
AUDIT_LOGS = ("connectionlog", "userlog", "useractivitylog")

#: Redshift's default port; the workgroup listens on it.
REDSHIFT_PORT = 5439


def render_sql(files: Sequence[str], **values: str) -> list[str]:
    """The statements of ``files`` with ``${name}`` placeholders filled; comment lines dropped."""
    statements = []
    for name in files:
        text = Template((SQL_DIR / name).read_text()).substitute(values)
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--")).strip()
        statements.append(body)
    return statements


def default_name(scope: Construct) -> str:
    """A namespace/workgroup name from the construct path: lowercase letters, digits and hyphens."""
    raw = Names.unique_resource_name(scope, max_length=60, separator="-").lower()
    name = re.sub(r"[^a-z0-9-]", "-", raw).strip("-")
    return name if name[:1].isalpha() else f"rs-{name}"[:64]


class RedshiftStreamingIngestion(Construct):
    """Redshift Serverless (namespace + workgroup) with a materialized view over a Kinesis stream.

    Built by :class:`StreamingPipeline`; its props are validated there.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stream: kinesis.IStream,
        encryption_key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        security_groups: Sequence[ec2.ISecurityGroup] | None,
        function_subnets: ec2.SubnetSelection | None,
        function_in_vpc: bool,
        function_security_groups: Sequence[ec2.ISecurityGroup] | None,
        layer: lambda_.ILayerVersion,
        code: lambda_.Code,
        base_capacity: int,
        enhanced_vpc_routing: bool,
        database_name: str,
        admin_username: str,
        namespace_name: str | None,
        workgroup_name: str | None,
        source_schema: str,
        view_name: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        path = self.node.path

        # The role Redshift assumes to read the stream (and decrypt it): nothing else.
        self.role = _builders.ManagedPolicyRole(
            self,
            "StreamingRole",
            assumed_by=iam.ServicePrincipal("redshift.amazonaws.com"),
            description=f"Redshift streaming ingestion of {path}",
        )
        stream.grant_read(self.role)

        if security_groups is None:
            security_group = ec2.SecurityGroup(
                self,
                "SecurityGroup",
                vpc=vpc,
                allow_all_outbound=False,
                description="Redshift Serverless: HTTPS to endpoints in the VPC (Kinesis, with enhanced VPC routing)",
            )
            security_group.add_egress_rule(
                ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(443), "HTTPS to interface endpoints in the VPC"
            )
            security_groups = [security_group]
        self.security_groups = list(security_groups)
        self.connections = ec2.Connections(
            security_groups=self.security_groups, default_port=ec2.Port.tcp(REDSHIFT_PORT)
        )

        self.namespace = redshift.CfnNamespace(
            self,
            "Namespace",
            namespace_name=namespace_name or default_name(self),
            db_name=database_name,
            admin_username=admin_username,
            # Redshift keeps the admin password in Secrets Manager, encrypted with our key, and rotates it.
            manage_admin_password=True,
            admin_password_secret_kms_key_id=encryption_key.key_arn,
            kms_key_id=encryption_key.key_arn,
            iam_roles=[self.role.role_arn],
            default_iam_role_arn=self.role.role_arn,
            log_exports=list(AUDIT_LOGS),
        )
        self.namespace.apply_removal_policy(removal_policy)
        self.namespace.node.add_dependency(self.role.policy)

        self.workgroup = redshift.CfnWorkgroup(
            self,
            "Workgroup",
            workgroup_name=workgroup_name or default_name(self),
            namespace_name=self.namespace.ref,
            base_capacity=base_capacity,
            enhanced_vpc_routing=enhanced_vpc_routing,
            publicly_accessible=False,
            port=REDSHIFT_PORT,
            subnet_ids=[subnet.subnet_id for subnet in subnets],
            security_group_ids=[sg.security_group_id for sg in self.security_groups],
            config_parameters=[
                redshift.CfnWorkgroup.ConfigParameterProperty(parameter_key="require_ssl", parameter_value="true"),
                redshift.CfnWorkgroup.ConfigParameterProperty(
                    parameter_key="enable_user_activity_logging", parameter_value="true"
                ),
            ],
        )

        self.database_name = database_name
        self.view_name = view_name
        values = {
            "source_schema": source_schema,
            "view_name": view_name,
            "stream_name": stream.stream_name,
            "role_arn": self.role.role_arn,
        }
        self.sql = render_sql(CREATE_SQL_FILES, **values)
        self.replace_sql = render_sql(REPLACE_SQL_FILES, **values)
        self._function_security_groups = list(function_security_groups) if function_security_groups else None
        self._apply_sql(encryption_key, vpc, function_subnets, function_in_vpc, layer, code, removal_policy)

    def _apply_sql(
        self,
        key: kms.IKey,
        vpc: ec2.IVpc,
        function_subnets: ec2.SubnetSelection | None,
        in_vpc: bool,
        layer: lambda_.ILayerVersion,
        code: lambda_.Code,
        removal_policy: RemovalPolicy,
    ) -> None:
        self.sql_function = _builders.build_python_function(
            self,
            "ApplySql",
            description="Applies the Redshift streaming-ingestion SQL through the Data API",
            code=code,
            handler="stream_processor.apply_sql.on_event",
            encryption_key=key,
            removal_policy=removal_policy,
            layers=[layer],
            environment={"POWERTOOLS_SERVICE_NAME": "redshift-sql"},
            timeout=Duration.minutes(10),
            memory_size=256,
            vpc=vpc if in_vpc else None,
            vpc_subnets=function_subnets if in_vpc else None,
            security_groups=self._function_security_groups if in_vpc else None,
        )
        self.sql_function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["redshift-data:BatchExecuteStatement"],
                resources=[self.workgroup.attr_workgroup_workgroup_arn],
            )
        )
        self.sql_function.add_to_role_policy(
            iam.PolicyStatement(
                # Statement ids are not resources: the Data API lets a caller see only its own statements.
                actions=["redshift-data:DescribeStatement"],
                resources=["*"],
            )
        )
        self.sql_function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["redshift-serverless:GetNamespace"], resources=[self.namespace.attr_namespace_namespace_arn]
            )
        )
        stack = Stack.of(self)
        admin_secrets = f"arn:{stack.partition}:secretsmanager:{stack.region}:{stack.account}:secret:redshift!*"
        self.sql_function.add_to_role_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[admin_secrets])
        )
        key.grant_decrypt(self.sql_function)
        acknowledge(
            self.sql_function.role,  # type: ignore[arg-type]
            "redshift-data:DescribeStatement has no resource type in IAM: statement ids are not ARNs, and the "
            "Data API returns only statements the calling identity ran.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        acknowledge(
            self.sql_function.role,  # type: ignore[arg-type]
            "CloudFormation does not return the ARN of the admin secret Redshift manages (aws-cdk#29930), and "
            "its name is Redshift's; the function can decrypt only secrets encrypted with this pipeline's key.",
            # Built from the policy's own value: it reads differently in concrete and agnostic stacks.
            wildcard_resource_finding(self, admin_secrets),
        )

        framework_role = _builders.ManagedPolicyRole(
            self,
            "ProviderRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Custom resource provider of {self.node.path}",
        )
        provider_log_group = _builders.build_log_group(
            self, "ProviderLogGroup", encryption_key=key, removal_policy=removal_policy
        )
        # The framework function writes only to its own log group (no AWS managed logging policy).
        provider_log_group.grant_write(framework_role)
        function_id = Stack.of(self).get_logical_id(self.sql_function.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            framework_role,
            "The provider framework invokes the SQL function by its ARN and by any of its versions (ARN:*); "
            "CDK's Provider generates this grant for exactly one function.",
            f"AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]",
        )
        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.sql_function,
            framework_on_event_role=framework_role,
            log_group=provider_log_group,
            provider_function_env_encryption=key,
            vpc=vpc if in_vpc else None,
            vpc_subnets=function_subnets if in_vpc else None,
            security_groups=self._function_security_groups if in_vpc else None,
        )
        if in_vpc:
            acknowledge(
                framework_role,
                "AWSLambdaVPCAccessExecutionRole is the AWS-maintained minimum a VPC function needs to manage "
                "its network interfaces; Lambda adds it for any function in a VPC.",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
            )
        self.provider = provider
        self.sql_resource = CustomResource(
            self,
            "IngestionSql",
            service_token=provider.service_token,
            resource_type="Custom::RedshiftStreamingIngestionSql",
            properties={
                "WorkgroupName": self.workgroup.ref,
                "Database": self.database_name,
                "NamespaceName": self.namespace.ref,
                "Name": self.view_name,
                "Sqls": self.sql,
                "ReplaceSqls": self.replace_sql,
            },
        )
        self.sql_resource.node.add_dependency(self.workgroup)
