"""A pure-Python SVG of an :class:`Architecture`: no Graphviz, browser or Node.

The layout is simple and stable. Columns follow the data path left to right (:func:`layers`).
Rows are bands: the nodes outside any group first, then each group in turn (a VPC, its tiers, a
state machine's states), so a group is a full-width box around its bands and boxes never
overlap. Within a band, the nodes of one column stack top to bottom in template order. The
output has no timestamps and sorts nothing by hash, so the same templates give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from refarch.diagrams.layout import group_chain, layers, ordered_edges
from refarch.diagrams.mermaid import CATEGORIES, KIND_CATEGORY
from refarch.diagrams.model import Architecture, Node

NODE_W, NODE_H = 150, 40
COL_W = NODE_W + 80
ROW_H = NODE_H + 14
GROUP_PAD = 14
HEADER_H = 22
MARGIN = 16
FONT = "Helvetica, Arial, sans-serif"
_MAX_CHARS = 24
_MIN_COLUMNS = 4


@dataclass(frozen=True)
class _Band:
    """The nodes of one group (not of its subgroups), in one horizontal stripe."""

    group: str | None
    nodes: tuple[Node, ...]
    depth: int


def render_svg(arch: Architecture) -> str:
    """The diagram as SVG text."""
    layer = layers(arch)
    linked = {e.source for e in arch.edges} | {e.target for e in arch.edges}
    bands = _bands(arch)
    # Nodes off the data path may use a few columns more than the path has, so a short path does
    # not stack a VPC's subnets into one tall column.
    columns = max(max(layer.values(), default=0) + 1, _MIN_COLUMNS)
    max_depth = max((band.depth for band in bands), default=0)
    inner_left = MARGIN + max_depth * GROUP_PAD
    positions: dict[str, tuple[int, int]] = {}
    spans: dict[str, list[int]] = {}
    y = MARGIN
    open_chain: list[str] = []
    for band in bands:
        chain = group_chain(arch, band.group)
        y = _close(open_chain, [g for g in open_chain if g not in chain], spans, y)
        for group in chain[len(open_chain) :]:
            spans[group] = [y, y]
            y += HEADER_H
        open_chain = chain
        slots = _place(band, layer, linked, columns)
        for node_id, (column, row) in slots.items():
            positions[node_id] = (inner_left + column * COL_W, y + row * ROW_H)
        y += (max((row for _, row in slots.values()), default=-1) + 1) * ROW_H
    y = _close(open_chain, list(open_chain), spans, y)
    width = max(x for x, _ in positions.values()) + NODE_W + inner_left if positions else 2 * MARGIN
    height = y + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11">',
        f"<title>{escape(arch.name)} architecture</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#546e7a"/></marker></defs>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for group_id, (top, bottom) in spans.items():
        depth = len(group_chain(arch, group_id)) - 1
        left = MARGIN + depth * GROUP_PAD
        parts.append(
            f'<g class="group" id={quoteattr(group_id)}><rect x="{left}" y="{top}" width="{width - 2 * left}" '
            f'height="{bottom - top}" rx="8" fill="{_group_fill(depth)}" '
            f'stroke="#90a4ae" stroke-dasharray="{"6 3" if depth else "none"}"/>'
            f'<text x="{left + 8}" y="{top + 15}" font-weight="bold" fill="#37474f">'
            f"{escape(arch.groups[group_id].title)}</text></g>"
        )
    paths, labels = _edges(arch, positions)
    parts += paths
    parts += [_node(node, positions[node.id]) for node in arch.nodes.values()]
    parts += labels  # on top, so no box hides them
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _place(band: _Band, layer: dict[str, int], linked: set[str], columns: int) -> dict[str, tuple[int, int]]:
    """(column, row) of each node of a band: a tier's subnets (one per AZ) side by side in the first
    rows; nodes on the data path in their layer's column, stacked below; the others (a topic without
    edges) fill the free slots row by row, left to right."""
    slots: dict[str, tuple[int, int]] = {}
    subnets = [node for node in band.nodes if node.kind == "subnet"]
    for index, node in enumerate(subnets):
        slots[node.id] = (index % columns, index // columns)
    taken = set(slots.values())
    first_row = -(-len(subnets) // columns)
    for node in band.nodes:
        if node.id in linked:
            column = layer[node.id]
            row = first_row + sum(1 for c, r in taken if c == column and r >= first_row)
            slots[node.id] = (column, row)
            taken.add((column, row))
    free = ((column, row) for row in range(len(band.nodes)) for column in range(columns))
    for node in band.nodes:
        if node.id not in linked and node.id not in slots:
            slot = next(s for s in free if s not in taken)
            slots[node.id] = slot
            taken.add(slot)
    return slots


def _close(open_chain: list[str], closing: list[str], spans: dict[str, list[int]], y: int) -> int:
    """Close ``closing`` (innermost first), each a padding below the last; returns the new y."""
    for group in reversed(closing):
        y += GROUP_PAD // 2
        spans[group][1] = y
        open_chain.remove(group)
    return y + (GROUP_PAD // 2 if closing else 0)


def _bands(arch: Architecture) -> list[_Band]:
    """Ungrouped nodes first, then each group depth-first in definition order."""
    members: dict[str | None, list[Node]] = {}
    for node in arch.nodes.values():
        members.setdefault(node.group, []).append(node)
    children: dict[str | None, list[str]] = {}
    for group in arch.groups.values():
        children.setdefault(group.parent, []).append(group.id)
    bands: list[_Band] = []

    def visit(group: str | None, depth: int) -> None:
        if members.get(group):
            bands.append(_Band(group, tuple(members[group]), depth))
        for child in children.get(group, []):
            visit(child, depth + 1)

    visit(None, 0)
    return bands


def _node(node: Node, position: tuple[int, int]) -> str:
    x, y = position
    fill, stroke = CATEGORIES[KIND_CATEGORY.get(node.kind, "other")]
    radius = NODE_H // 2 if node.kind in ("client", "choice") else 6
    return (
        f'<g class="node" id={quoteattr(node.id)}><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" '
        f'rx="{radius}" fill="{fill}" stroke="{stroke}"/>'
        f'<text x="{x + NODE_W // 2}" y="{y + 16}" text-anchor="middle" fill="#546e7a" font-size="10">'
        f"{escape(_short(node.title))}</text>"
        f'<text x="{x + NODE_W // 2}" y="{y + 32}" text-anchor="middle" fill="#212121" font-weight="bold">'
        f"{escape(_short(node.name))}</text></g>"
    )


_Box = tuple[float, float, float, float]
#: Where along an edge its label may sit (curve parameter), tried in this order.
_LABEL_SPOTS = (0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9)


def _edges(arch: Architecture, positions: dict[str, tuple[int, int]]) -> tuple[list[str], list[str]]:
    """Every edge's path, and the labels (drawn later, above the nodes), each put at the spot along its
    curve that hides the least of the nodes, then of the earlier labels."""
    nodes: list[_Box] = [(x - 2, y - 2, x + NODE_W + 2, y + NODE_H + 2) for x, y in positions.values()]
    placed: list[_Box] = []
    paths, labels = [], []
    for index in ordered_edges(arch):
        edge = arch.edges[index]
        curve = _curve(positions[edge.source], positions[edge.target])
        paths.append(
            f'<path class="edge" data-from="{edge.source}" data-to="{edge.target}" '
            f'd="M {curve[0][0]} {curve[0][1]} C {curve[1][0]} {curve[1][1]} {curve[2][0]} {curve[2][1]} '
            f'{curve[3][0]} {curve[3][1]}" fill="none" stroke="#78909c" stroke-width="1.2" marker-end="url(#arrow)"/>'
        )
        if not edge.label:
            continue
        text = _short(edge.label)
        half_width = len(text) * 2.7 + 2
        spots = [_point(curve, t) for t in _LABEL_SPOTS]
        boxes = [(x - half_width, y - 11, x + half_width, y + 1) for x, y in spots]
        scores = [
            (sum(_overlap(box, n) for n in nodes), sum(_overlap(box, p) for p in placed), i)
            for i, box in enumerate(boxes)
        ]
        chosen = min(scores)[2]
        placed.append(boxes[chosen])
        x, y = spots[chosen]
        labels.append(
            f'<text x="{x:.0f}" y="{y - 3:.0f}" text-anchor="middle" font-size="9" fill="#37474f" '
            f'stroke="#ffffff" stroke-width="3" paint-order="stroke">{escape(text)}</text>'
        )
    return paths, labels


def _curve(source: tuple[int, int], target: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """The cubic Bezier from the source's right side to the target's left side."""
    start = (source[0] + NODE_W, source[1] + NODE_H // 2)
    end = (target[0], target[1] + NODE_H // 2)
    if end[0] > start[0]:
        bend = max(24, (end[0] - start[0]) // 2)
        return start, (start[0] + bend, start[1]), (end[0] - bend, end[1]), end
    # Back to an earlier (or the same) column: loop out to the right and come in from the left.
    return start, (start[0] + 60, start[1] + 40), (end[0] - 60, end[1] + 40), end


def _point(curve: tuple[tuple[int, int], ...], t: float) -> tuple[float, float]:
    weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
    return (
        sum(w * p[0] for w, p in zip(weights, curve, strict=True)),
        sum(w * p[1] for w, p in zip(weights, curve, strict=True)),
    )


def _overlap(a: _Box, b: _Box) -> float:
    """The area two boxes share."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _short(text: str) -> str:
    return text if len(text) <= _MAX_CHARS else text[: _MAX_CHARS - 1] + "\u2026"


def _group_fill(depth: int) -> str:
    return ("#fafafa", "#f1f8e9", "#e3f2fd", "#fff8e1")[min(depth, 3)]


__all__ = ["render_svg"]
