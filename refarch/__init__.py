"""cdk-refarch: secure-by-default AWS CDK reference architectures.

Import the constructs from here or from ``refarch.constructs``::

    from refarch import ThreeTierVpc
"""

from refarch.constructs import *  # noqa: F403  (the public API is the constructs' __all__)
from refarch.constructs import __all__ as _constructs_all

__version__ = "0.1.0"
__all__ = [*_constructs_all, "__version__"]
