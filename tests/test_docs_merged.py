"""No file a newcomer reads carries a merge's conflict markers (docs/cloud-bridge.md showed both sides of
one, `<<<<<<< HEAD` to `>>>>>>> main`, through several merges)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^(<{7}|>{7})( |$)|^={7}$", re.M)
SKIP = {".git", ".venv", ".venv-oscar", "node_modules", "__pycache__"}


def _texts() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        if SKIP.intersection(path.relative_to(ROOT).parts) or not path.is_file():
            continue
        if path.suffix in {".md", ".py", ".toml", ".sh", ".html", ".css", ".service", ".rules", ".conf"}:
            found.append(path)
    return found


def test_no_file_carries_conflict_markers() -> None:
    files = _texts()
    assert any(path.name == "README.md" for path in files)
    marked = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, found.start()) + 1}"
        for path in files
        for text in [path.read_text(encoding="utf-8", errors="replace")]
        if (found := MARKER.search(text))
    ]
    assert not marked, f"conflict markers left by a merge: {marked}"
