"""What discovery reports, and the one rule every finder follows: a bad entry is noted, never raised."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Kind = Literal["scanner", "serial", "scale", "printer"]
KINDS: tuple[Kind, ...] = ("scanner", "scale", "serial", "printer")


@dataclass(frozen=True)
class FoundDevice:
    """One device as an installer needs it: what it is, the path to configure, and why we think so.

    `path` is the stable udev link where there is one, so it survives a reboot and other devices being
    plugged in; `details` holds strings only, so a table and JSON show the same thing.
    """

    kind: Kind
    path: str
    name: str
    details: dict[str, str] = field(default_factory=dict, hash=False)

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "path": self.path, "name": self.name, "details": dict(self.details)}


def sort_key(found: FoundDevice) -> tuple[int, list[str | int]]:
    """By kind, then by path with numbers in numeric order (event2 before event10)."""
    parts = re.split(r"(\d+)", found.path)
    return KINDS.index(found.kind), [int(p) if p.isdigit() else p for p in parts]


def each_entry(
    kind: Kind, entries: Iterable[Path], inspect: Callable[[Path], FoundDevice | None]
) -> Iterator[FoundDevice]:
    """Runs `inspect` on every entry; one that cannot be read is reported with the error, not raised."""
    for entry in entries:
        try:
            found = inspect(entry)
        except FileNotFoundError:
            continue  # unplugged while we looked: nothing to report
        except (OSError, ValueError) as exc:
            found = FoundDevice(kind, str(entry), entry.name, {"error": f"cannot read {entry}: {exc}"})
        if found is not None:
            yield found
