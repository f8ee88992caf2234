"""Where a config problem is (file, key path) and the one error that carries all of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from firmware_agent.errors import ConfigError

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    path: KeyPath
    message: str
    file: str = ""

    @property
    def key(self) -> str:
        return render_key(self.path)

    def __str__(self) -> str:
        return ": ".join(part for part in (self.file, self.key, self.message) if part)


def render_key(path: KeyPath) -> str:
    """`("scanner", 1, "layout")` -> `scanner[1].layout`, the way a person finds it in the file."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class InvalidConfig(ConfigError):
    """Every problem found in one pass, one per line; `file` and `key` are those of the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("InvalidConfig needs at least one problem")
        first = problems[0]
        super().__init__(first.message, file=first.file or None, key=first.key or None)
        self.problems = tuple(problems)
        self.args = ("\n".join(map(str, problems)),)
