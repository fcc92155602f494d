"""What RDS instances and Aurora clusters of the library share, whichever construct makes them: the
acknowledgement of the enhanced-monitoring role RDS creates, and the concrete port of the rule a secret
rotation function gets to the database.

Imports neither aws_rds nor any construct's package: a construct that has a database loads its own
modules, and these helpers work on what ``rds`` builds as plain constructs and security groups.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from refarch.compliance.acknowledge import acknowledge


def acknowledge_monitoring_role(database: Construct) -> None:
    """The enhanced-monitoring role RDS and Aurora create use the AWS managed policy made for them."""
    monitoring_role = database.node.try_find_child("MonitoringRole")
    if monitoring_role is not None:
        acknowledge(
            monitoring_role,
            "AmazonRDSEnhancedMonitoringRole is the AWS-maintained policy RDS enhanced monitoring requires "
            "to publish OS metrics to CloudWatch Logs; it grants nothing else.",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
        )


def pin_rotation_port(database_security_group: ec2.SecurityGroup, port: int) -> None:
    """Write the concrete database port into the rotation function's ingress rule.

    ``add_rotation_single_user`` opens the database's default port, which DatabaseInstance
    knows only as a token (its endpoint's port attribute); the port is known here, and with it
    the rule reads as what it is (one port, from one security group) to reviewers and checks.
    """
    for child in database_security_group.node.children:
        if isinstance(child, ec2.CfnSecurityGroupIngress) and "RotationSingleUser" in child.node.id:
            child.from_port = port
            child.to_port = port
            child.description = "Secret rotation function to the database"
