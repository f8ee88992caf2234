"""Small builders shared by the config tests."""

from __future__ import annotations

from pathlib import Path

BOX = '[box]\nid = "shop1-till1"\nshop = "shop1"\n'


def write(directory: Path, text: str, name: str = "agent.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
