"""Mermaid flowchart text (GitHub renders it in Markdown) of an :class:`Architecture`."""

from __future__ import annotations

from refarch.diagrams.layout import ordered_edges
from refarch.diagrams.model import Architecture, Node

#: Node kind -> (opening, closing) of its Mermaid shape.
_SHAPES: dict[str, tuple[str, str]] = {
    "client": ("((", "))"),
    "database": ("[(", ")]"),
    "table": ("[(", ")]"),
    "bucket": ("[(", ")]"),
    "stream": ("[/", "/]"),
    "queue": ("[/", "/]"),
    "topic": ("[/", "/]"),
    "choice": ("{", "}"),
    "subnet": ("[", "]"),
}

#: Node kind -> class (fill colour) so the picture reads by category, like AWS's icon colours.
CATEGORIES: dict[str, tuple[str, str]] = {
    "edge": ("#f3e5f5", "#8e24aa"),
    "network": ("#e8eaf6", "#3949ab"),
    "compute": ("#fff3e0", "#ef6c00"),
    "data": ("#e8f5e9", "#2e7d32"),
    "integration": ("#fce4ec", "#c2185b"),
    "other": ("#f5f5f5", "#616161"),
}
KIND_CATEGORY: dict[str, str] = {
    "client": "other",
    "waf": "edge",
    "cdn": "edge",
    "api": "integration",
    "vpclink": "network",
    "lb": "network",
    "endpoint": "network",
    "network": "network",
    "subnet": "network",
    "sg": "network",
    "compute": "compute",
    "function": "compute",
    "workflow": "integration",
    "state": "integration",
    "choice": "integration",
    "events": "integration",
    "stream": "integration",
    "queue": "integration",
    "topic": "integration",
    "bucket": "data",
    "table": "data",
    "database": "data",
    "catalog": "data",
    "secret": "other",
    "audit": "other",
}


def render_mermaid(arch: Architecture) -> str:
    """A left-to-right flowchart: groups as subgraphs, nodes with their kind's shape, edges in path order."""
    lines = ["flowchart LR"]
    children: dict[str | None, list[str]] = {}
    for group in arch.groups.values():
        children.setdefault(group.parent, []).append(group.id)
    members: dict[str | None, list[Node]] = {}
    for node in arch.nodes.values():
        members.setdefault(node.group, []).append(node)

    def emit(group: str | None, depth: int) -> None:
        indent = "    " * depth
        for node in members.get(group, []):
            opening, closing = _SHAPES.get(node.kind, ("(", ")"))
            lines.append(f'{indent}{node.id}{opening}"{_text(node.title)}<br/>{_text(node.name)}"{closing}')
        for child in children.get(group, []):
            if not _has_nodes(child):
                continue
            lines.append(f'{indent}subgraph {child}["{_text(arch.groups[child].title)}"]')
            emit(child, depth + 1)
            lines.append(f"{indent}end")

    def _has_nodes(group: str) -> bool:
        return bool(members.get(group)) or any(_has_nodes(c) for c in children.get(group, []))

    emit(None, 1)
    for index in ordered_edges(arch):
        edge = arch.edges[index]
        arrow = f'-->|"{_text(edge.label)}"|' if edge.label else "-->"
        lines.append(f"    {edge.source} {arrow} {edge.target}")
    for category, (fill, stroke) in CATEGORIES.items():
        lines.append(f"    classDef {category} fill:{fill},stroke:{stroke},color:#212121")
    by_category: dict[str, list[str]] = {}
    for node in arch.nodes.values():
        by_category.setdefault(KIND_CATEGORY.get(node.kind, "other"), []).append(node.id)
    for category in CATEGORIES:
        if by_category.get(category):
            lines.append(f"    class {','.join(by_category[category])} {category}")
    return "\n".join(lines) + "\n"


def _text(value: str) -> str:
    """Text safe inside a quoted Mermaid label (entity codes for the characters Mermaid parses)."""
    return value.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


__all__ = ["CATEGORIES", "KIND_CATEGORY", "render_mermaid"]
