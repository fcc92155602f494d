"""The Redshift part of ``StreamingPipeline``: Redshift Serverless reading the Kinesis stream through
streaming ingestion (an external schema and an auto-refreshed materialized view), with the SQL kept in
``refarch/runtime/stream_processor/sql/`` and applied at deploy time through the Redshift Data API.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from string import Template
from typing import Any

import jsii
from aws_cdk import Aspects, CustomResource, Duration, IAspect, Names, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_redshiftserverless as redshift
from aws_cdk import custom_resources as cr
from constructs import Construct, IConstruct

from refarch.compliance.acknowledge import acknowledge, wildcard_resource_finding
from refarch.constructs import _builders
from refarch.constructs._bundling import RUNTIME_DIR
from refarch.contracts.permissions import require_permission

#: The SQL files of the ingestion path, run in this order as one Data API batch (one transaction).
SQL_DIR = RUNTIME_DIR / "stream_processor" / "sql"
CREATE_SQL_FILES = ("01_external_schema.sql", "02_materialized_view.sql")
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
    """A namespace/workgroup name from the construct path and a suffix unique to the stack's
    creation (the namespace is retained: a fixed name would make the next create of the stack
    fail): lowercase letters, digits and hyphens, at most 64."""
    raw = Names.unique_resource_name(scope, max_length=51, separator="-").lower()
    name = re.sub(r"[^a-z0-9-]", "-", raw).strip("-")
    base = name if name[:1].isalpha() else f"rs-{name}"[:51]
    return f"{base}-{_builders.stack_unique_suffix(scope)}"


class RedshiftStreamingIngestion(Construct):
    """Redshift Serverless (namespace + workgroup) with a materialized view over a Kinesis stream.

    Built by :class:`StreamingPipeline`; its props are checked there.
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
        log_retention: logs.RetentionDays,
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
        # ListStreams takes no resource: Redshift's documented streaming-ingestion policy grants it on "*".
        self.role.add_to_principal_policy(iam.PolicyStatement(actions=["kinesis:ListStreams"], resources=["*"]))
        acknowledge(
            self.role,
            "kinesis:ListStreams has no resource type in IAM (it lists the account's stream names), and Redshift's "
            "streaming-ingestion guide grants it on Resource '*'; records are readable only on this stream.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        # https://docs.aws.amazon.com/redshift/latest/dg/materialized-view-streaming-ingestion-getting-started.html
        require_permission(
            self,
            principal=self.role,
            actions=[
                "kinesis:DescribeStreamSummary",
                "kinesis:GetShardIterator",
                "kinesis:GetRecords",
                "kinesis:DescribeStream",
                "kinesis:ListShards",
            ],
            resources=[stream.stream_arn],
            reason="Redshift reads the stream with its namespace role when the materialized view refreshes",
        )
        require_permission(
            self,
            principal=self.role,
            actions=["kinesis:ListStreams"],
            resources=["*"],
            reason="Redshift lists the account's streams to resolve the external schema's stream name",
        )

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
                # Kinesis stream names keep their case, and the view names the stream in double quotes.
                # Redshift keeps a quoted identifier's case only with this setting, and the view's
                # auto refresh runs in sessions of its own: a session-level SET would not reach them,
                # so the workgroup sets it (as the Redshift documentation recommends for auto refresh).
                redshift.CfnWorkgroup.ConfigParameterProperty(
                    parameter_key="enable_case_sensitive_identifier", parameter_value="true"
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
        self._apply_sql(encryption_key, vpc, function_subnets, layer, code, removal_policy, log_retention)
        self._depend_on_network(vpc, function_subnets, subnets)

    def _apply_sql(
        self,
        key: kms.IKey,
        vpc: ec2.IVpc,
        function_subnets: ec2.SubnetSelection | None,
        layer: lambda_.ILayerVersion,
        code: lambda_.Code,
        removal_policy: RemovalPolicy,
        log_retention: logs.RetentionDays,
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
            vpc=vpc,
            vpc_subnets=function_subnets,
            security_groups=self._function_security_groups,
            log_retention=log_retention,
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
        self._declare_sql_needs(stack, key)
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
            self, "ProviderLogGroup", encryption_key=key, removal_policy=removal_policy, retention=log_retention
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
            vpc=vpc,
            vpc_subnets=function_subnets,
            security_groups=self._function_security_groups,
        )
        framework_role.allow_vpc_network_interfaces()
        acknowledge(framework_role, _builders.VPC_INTERFACES_REASON, "AwsSolutions-IAM5[Resource::*]")
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

    def _depend_on_network(
        self,
        vpc: ec2.IVpc,
        function_subnets: ec2.SubnetSelection | None,
        redshift_subnets: Sequence[ec2.ISubnet],
    ) -> None:
        """Create (and delete) the SQL after the network paths it uses: the provider functions' VPC
        (subnets, routes, interface endpoints), their security groups, and the network ACLs of their
        subnets and of Redshift's (which reads the stream when the view is created), with every entry
        of those ACLs, wherever in the stack it was added (constructs sharing the network add theirs)."""
        selection = function_subnets or ec2.SubnetSelection()  # Lambda's default too: private subnets
        function_subnet_list = vpc.select_subnets(
            availability_zones=selection.availability_zones,
            one_per_az=selection.one_per_az,
            subnet_filters=selection.subnet_filters,
            subnet_group_name=selection.subnet_group_name,
            subnets=selection.subnets,
            subnet_type=selection.subnet_type,
        ).subnets
        needs: list[IConstruct] = [
            *_network_acls(redshift_subnets),
            vpc,
            *_network_acls(function_subnet_list),
            *self.sql_function.connections.security_groups,
        ]
        for need in needs:
            self.sql_resource.node.add_dependency(need)
        acls = [need for need in needs if isinstance(need, ec2.NetworkAcl)]
        Aspects.of(Stack.of(self)).add(_DependOnAclEntries(self.sql_resource, acls))

    def _declare_sql_needs(self, stack: Stack, key: kms.IKey) -> None:
        """Where the SQL function's calls go: the handler reads the namespace and workgroup from the
        custom resource's properties, which the code scan cannot bind."""
        role = self.sql_function.role
        assert role is not None
        reason = "the SQL custom resource applies the ingestion SQL to this pipeline's workgroup"
        for action, resource in (
            ("redshift-serverless:GetNamespace", self.namespace.attr_namespace_namespace_arn),
            ("redshift-data:BatchExecuteStatement", self.workgroup.attr_workgroup_workgroup_arn),
            ("redshift-data:DescribeStatement", "*"),
        ):
            require_permission(self, principal=role, actions=[action], resources=[resource], reason=reason)
        # The Data API reads the admin secret with the caller's credentials (Redshift Data API guide,
        # "Authorizing access": AWS Secrets Manager), and the secret is encrypted with the pipeline key.
        require_permission(
            self,
            principal=role,
            actions=["secretsmanager:GetSecretValue"],
            resources=[
                f"arn:{stack.partition}:secretsmanager:{stack.region}:{stack.account}:secret:redshift!{self.namespace.ref}-admin"
            ],
            reason="the Data API reads Redshift's managed admin secret with the function's role",
        )
        require_permission(
            self,
            principal=role,
            actions=["kms:Decrypt"],
            resources=[key.key_arn],
            reason="the admin secret is encrypted with the pipeline key, which Secrets Manager uses for the reader",
            context={
                "kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com",
                "kms:CallerAccount": stack.account,
            },
        )


@jsii.implements(IAspect)
class _DependOnAclEntries:
    """Makes ``dependent`` depend on every entry of ``acls`` in the stack, also those other constructs
    add under themselves (run at synth, when the tree is complete)."""

    def __init__(self, dependent: Construct, acls: Sequence[ec2.NetworkAcl]) -> None:
        self._dependent = dependent
        self._stack = Stack.of(dependent)
        self._acl_refs: list[Any] = [self._stack.resolve(acl.network_acl_id) for acl in acls]

    def visit(self, node: IConstruct) -> None:
        if (
            isinstance(node, ec2.CfnNetworkAclEntry)
            and Stack.of(node) is self._stack
            and self._stack.resolve(node.network_acl_id) in self._acl_refs
        ):
            self._dependent.node.add_dependency(node)


def _network_acls(subnets: Sequence[ec2.ISubnet]) -> list[IConstruct]:
    """The network ACL of each subnet built in this app (an imported subnet's ACL is not ours to wait for)."""
    return [subnet.network_acl for subnet in subnets if isinstance(subnet, ec2.Subnet)]
