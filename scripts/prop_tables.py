"""Write each construct's prop table into README.md from its props TypedDict (the one place props are written).

    .venv/bin/python scripts/prop_tables.py          # rewrite the tables
    .venv/bin/python scripts/prop_tables.py --check  # exit 1 when README.md is not current

README.md holds one block per construct, between ``<!-- props:Name -->`` and ``<!-- /props:Name -->``;
``Name`` is the construct's class, whose props type is ``NameProps`` in ``refarch.constructs``.
tests/test_docs.py runs the check.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

README = ROOT / "README.md"
_BLOCK = re.compile(r"(<!-- props:(\w+) -->\n)(.*?)(<!-- /props:\2 -->)", re.DOTALL)


def props_types() -> dict[str, type]:
    """Construct name -> its props TypedDict, for every ``<Name>Props`` exported by refarch.constructs."""
    import refarch.constructs as constructs

    found = {}
    for name in constructs.__all__:
        if name.endswith("Props") and name.removesuffix("Props") in constructs.__all__:
            found[name.removesuffix("Props")] = getattr(constructs, name)
    return found


def render(readme: str, types: dict[str, type]) -> str:
    """``readme`` with every props block replaced by the table of its construct's props."""
    from refarch.constructs._props import prop_table

    missing = sorted(set(types) - {m.group(2) for m in _BLOCK.finditer(readme)})
    if missing:
        raise SystemExit(f"README.md has no props block for {missing}: add <!-- props:X --> <!-- /props:X -->")

    def table(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in types:
            raise SystemExit(f"README.md has a props block for {name}, which has no {name}Props")
        return f"{match.group(1)}{prop_table(types[name])}{match.group(4)}"

    return _BLOCK.sub(table, readme)


def main(argv: list[str]) -> int:
    current = README.read_text()
    wanted = render(current, props_types())
    if "--check" in argv:
        if wanted != current:
            print("README.md prop tables are out of date: run .venv/bin/python scripts/prop_tables.py")
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
