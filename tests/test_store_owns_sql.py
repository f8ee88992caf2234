"""The box's store package owns every SQL statement: a statement written anywhere else on the box (the link,
the web page, the command line, the updater) fails here, naming the file and line. Callers call named
functions of `firmware_agent.store`, so a schema change is one package's business."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOX = ("firmware_agent", "devices", "tillbridge")
OWNER = ROOT / "firmware_agent" / "store"
STATEMENT = re.compile(
    r"\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|REPLACE|VACUUM|BEGIN|COMMIT|ROLLBACK|"
    r"SAVEPOINT|RELEASE)\s+[A-Z_a-z(*'\"]"
)


def statements(paths: list[Path]) -> list[str]:
    """`file:line: statement` for each string (or f-string) in `paths` that starts like an SQL statement."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # an f-string's text parts are constants of their own: `f"SELECT … {n}"` is found too
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            text = node.value
            if STATEMENT.match(text) and text.lstrip()[:6].isupper():
                found.append(f"{path.name}:{node.lineno}: {text.strip()[:60]}")
    return found


def box_modules_outside_the_store() -> list[Path]:
    paths = (path for package in BOX for path in sorted((ROOT / package).rglob("*.py")))
    return [path for path in paths if OWNER not in path.parents]


def test_no_sql_statement_is_written_outside_the_store_package() -> None:
    assert len(box_modules_outside_the_store()) > 100  # the box's modules, not an empty list
    assert statements(box_modules_outside_the_store()) == []


def test_the_check_finds_a_statement_and_ignores_prose(tmp_path: Path) -> None:
    """The check itself, so that an empty list above means something."""
    leak = tmp_path / "leak.py"
    leak.write_text(
        'def f(conn, n):\n    """Select the rows: UPDATE them later."""\n'
        '    return conn.execute(f"SELECT sku FROM product LIMIT {n}")\n'
    )
    assert statements([leak]) == ["leak.py:3: SELECT sku FROM product LIMIT"]
