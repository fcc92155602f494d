"""cdk-refarch: secure-by-default AWS CDK reference architectures.

Import the constructs from here or from ``refarch.constructs``::

    from refarch import ThreeTierVpc

Draw any synthesized stack (``refarch.diagram(stack).svg``): see :mod:`refarch.diagrams`.

The constructs load on first use (PEP 562), so ``python -m refarch doctor`` runs without
importing aws-cdk-lib, which starts a Node.js process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from refarch.constructs import *  # noqa: F403
    from refarch.diagrams import Diagram as Diagram
    from refarch.diagrams import diagram as diagram

__version__ = "0.1.0"

#: Names that come from refarch.diagrams rather than the constructs.
_DIAGRAM_NAMES = ("Diagram", "diagram")


def __getattr__(name: str) -> Any:
    if name.startswith("__") and name != "__all__":  # probes such as __wrapped__: no need to load
        raise AttributeError(f"module 'refarch' has no attribute {name!r}")
    if name in _DIAGRAM_NAMES:
        import refarch.diagrams as diagrams

        return getattr(diagrams, name)
    import refarch.constructs as constructs

    if name == "__all__":
        return [*constructs.__all__, *_DIAGRAM_NAMES, "__version__"]
    if name in constructs.__all__:
        return getattr(constructs, name)
    raise AttributeError(f"module 'refarch' has no attribute {name!r}")
