"""A folder of architecture pages: ``<Stack>.md`` + ``<Stack>.svg`` per stack, and a ``README.md`` index.

:func:`render_pages` returns the files as text (a drift test compares them with the committed ones);
:func:`write_pages` writes them and removes generated pages of stacks that no longer exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from refarch.diagrams import GENERATED_NOTE, Diagram
from refarch.testing.assembly import SynthesizedTemplate


def render_pages(sources: Mapping[str, Sequence[SynthesizedTemplate]]) -> dict[str, str]:
    """File name -> content, for every stack of every source (``{"reference stacks": [...],
    "example private_api": [...]}``), plus the ``README.md`` index listing them by source."""
    files: dict[str, str] = {}
    index = [
        GENERATED_NOTE,
        "",
        "# Architecture diagrams",
        "",
        "One page per stack: the diagram (SVG, and Mermaid that GitHub renders), the data path, and the "
        "traffic matrix of its network. Regenerate with `make docs`; `tests/test_docs.py` fails when "
        "these files differ from what the code synthesizes.",
        "",
        "| Stack | From | Resources shown | Data-path edges |",
        "| --- | --- | --- | --- |",
    ]
    for origin, templates in sources.items():
        for template in templates:
            page = Diagram(template.name, [template])
            if f"{template.name}.md" in files:
                raise ValueError(f"two stacks are named {template.name}: their pages would overwrite each other")
            files[f"{template.name}.md"] = page.markdown
            files[f"{template.name}.svg"] = page.svg
            shown = sum(1 for n in page.architecture.nodes.values() if n.key is not None)
            index.append(
                f"| [{template.name}]({template.name}.md) | {origin} | {shown} | {len(page.architecture.edges)} |"
            )
    files["README.md"] = "\n".join(index) + "\n"
    return files


def write_pages(files: Mapping[str, str], outdir: str | Path) -> list[Path]:
    """Write ``files`` into ``outdir``; delete generated files there that ``files`` no longer has."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for stale in sorted(outdir.glob("*.md")) + sorted(outdir.glob("*.svg")):
        if stale.name not in files and _generated(stale):
            stale.unlink()
    written = []
    for name, content in sorted(files.items()):
        path = outdir / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def _generated(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    return text.startswith(GENERATED_NOTE) or (path.suffix == ".svg" and "<title>" in text[:400])


__all__ = ["render_pages", "write_pages"]
