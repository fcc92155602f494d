"""PrivateApi: API Gateway -> VPC Link -> internal NLB -> EC2 Auto Scaling -> RDS, one module per part.

- ``props``: the props (type, default, documentation, value checks) and ``ApiAuthorization``;
- ``checks``: the checks that need several props, the stack or the network;
- ``network``: where the tiers live, the security groups that chain them, the flows they declare;
- ``database``: RDS in isolated subnets, TLS only, IAM authentication, rotated secret;
- ``service``: the instances and the internal NLB in front of them;
- ``gateway``: the REST API, its stage and logs, the VPC Link methods, the usage plan;
- ``edge``: CloudFront, certificate and DNS records for a custom domain;
- ``monitoring``: the alarms and the dashboard;
- ``construct``: ``PrivateApi``, which wires them together in that order.
"""

from refarch.constructs.private_api.construct import PrivateApi
from refarch.constructs.private_api.edge import Edge
from refarch.constructs.private_api.props import ApiAuthorization, PrivateApiProps

__all__ = ["ApiAuthorization", "Edge", "PrivateApi", "PrivateApiProps"]
