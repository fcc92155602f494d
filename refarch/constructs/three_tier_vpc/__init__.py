"""ThreeTierVpc: a VPC with web, app and db tiers, secured in depth.

The package, by part of the network:

* ``props``: ``ThreeTierVpcProps`` (each prop written once) and ``NatStrategy``;
  ``checks``: the checks across props and against the stack, run before anything is built;
* ``subnets``: the VPC and its three subnet groups; ``tiers``: a tier and its ACL rule numbering;
* ``security_groups``: the room locks; ``acls``: the floor gates; ``flows``: what they promise;
* ``flow_logs``, ``endpoints``, ``monitoring``: flow logs, interface endpoints, alarms and dashboard;
* ``vpc``: the ``ThreeTierVpc`` construct, wiring the parts together.
"""

from refarch.constructs.three_tier_vpc.props import NatStrategy, ThreeTierVpcProps
from refarch.constructs.three_tier_vpc.tiers import EPHEMERAL_PORTS, Tier
from refarch.constructs.three_tier_vpc.vpc import ThreeTierVpc

__all__ = ["EPHEMERAL_PORTS", "NatStrategy", "ThreeTierVpc", "ThreeTierVpcProps", "Tier"]
