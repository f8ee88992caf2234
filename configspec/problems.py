"""Where a config problem is: the file, the table and key (a key path), and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One line of a config error, printed `file: table.key: message` by the box and the bridge alike."""

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


class ConfigFileError(Exception):
    """A config file that cannot be read as TOML (missing, unreadable, not UTF-8, bad syntax); `problem`
    names the file. Each package turns it into its own config error."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem
