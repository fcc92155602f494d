"""Orders for drawing: each node's layer (left to right along the data path) and the order of groups.

Shared by the Mermaid writer (which lists edges in path order) and the SVG renderer (which places
nodes in columns by layer). Everything is deterministic: ties break on insertion order, which is
template order.
"""

from __future__ import annotations

from refarch.diagrams.model import Architecture


def layers(arch: Architecture) -> dict[str, int]:
    """Node -> column: the longest chain of edges leading to it (edges that close a cycle are ignored)."""
    order = list(arch.nodes)
    outgoing: dict[str, list[str]] = {n: [] for n in order}
    for edge in arch.edges:
        outgoing[edge.source].append(edge.target)
    forward = _acyclic(order, outgoing)
    layer = dict.fromkeys(order, 0)
    for node in _topological(order, forward):
        for target in forward[node]:
            layer[target] = max(layer[target], layer[node] + 1)
    return layer


def ordered_edges(arch: Architecture) -> list[int]:
    """Edge indexes in reading order: by the source's layer, then as the rules added them."""
    layer = layers(arch)
    return sorted(range(len(arch.edges)), key=lambda i: (layer[arch.edges[i].source], i))


def group_chain(arch: Architecture, group: str | None) -> list[str]:
    """The group and its ancestors, outermost first."""
    chain: list[str] = []
    while group is not None:
        chain.insert(0, group)
        group = arch.groups[group].parent
    return chain


def _acyclic(order: list[str], outgoing: dict[str, list[str]]) -> dict[str, list[str]]:
    """``outgoing`` without the edges that point back into the current depth-first path."""
    forward: dict[str, list[str]] = {n: [] for n in order}
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node: str) -> None:
        state[node] = 1
        for target in outgoing[node]:
            if state.get(target) == 1:
                continue  # a back edge: it would make the layering endless
            forward[node].append(target)
            if target not in state:
                visit(target)
        state[node] = 2

    roots = [n for n in order if not any(n in targets for targets in outgoing.values())]
    for node in roots + order:
        if node not in state:
            visit(node)
    return forward


def _topological(order: list[str], forward: dict[str, list[str]]) -> list[str]:
    incoming = {n: 0 for n in order}
    for targets in forward.values():
        for target in targets:
            incoming[target] += 1
    ready = [n for n in order if incoming[n] == 0]
    result = []
    while ready:
        node = ready.pop(0)
        result.append(node)
        for target in forward[node]:
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return result


__all__ = ["group_chain", "layers", "ordered_edges"]
