"""cdk-refarch: secure-by-default AWS CDK reference architectures.

Import the constructs from here or from ``refarch.constructs``::

    from refarch import ThreeTierVpc

Draw any synthesized stack (``refarch.diagram(stack).svg``): see :mod:`refarch.diagrams`.
"""

from refarch.constructs import *  # noqa: F403  (the public API is the constructs' __all__)
from refarch.constructs import __all__ as _constructs_all
from refarch.diagrams import Diagram, diagram

__version__ = "0.1.0"
__all__ = [*_constructs_all, "Diagram", "__version__", "diagram"]
