"""Statements over many rows: IN and VALUES lists cut into chunks every database takes.

SQLite refuses a statement with more than 32,766 parameters, and a long list costs PostgreSQL more to plan
than several short ones: a list holds `IN_CHUNK` rows at most.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final, TypeVar

T = TypeVar("T")

IN_CHUNK: Final = 500  # rows per IN (...) or VALUES list


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def values(db: Any, width: int, count: int) -> str:
    """`(%s, %s), (%s, %s)…`: `count` rows of `width` parameters for a VALUES list."""
    return ", ".join(["(" + ", ".join([db.param] * width) + ")"] * count)
