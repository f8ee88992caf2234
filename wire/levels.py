"""Stock levels, cloud → box: the bridge's one stock truth per sku, versioned, after any channel's change.

The bridge's ledger is the stock truth of a shop (every till, every online order, every edit in the shop's
own admin). After any change it sends the affected skus' levels to every box of the shop. `version` is the
shop's level version: it only grows, and a box keeps, per sku, the level of the highest version it has seen
(a redelivered or late message of a lower version is ignored for that sku). A large change is split into
several messages of the same version; each is complete for the skus it names, so they need no reassembly.

`upto` is per box (each box gets its own message): the last seq of this box's journal the levels include,
in the store stream named by `epoch` (a box whose store is newer than that ignores `upto`).
The box shows `available` plus its own stock movements journaled after `upto`, so a sale it made a moment
ago is neither lost nor counted twice while it travels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from wire._fields import (
    Obj,
    as_count,
    as_epoch,
    as_id,
    as_int,
    as_tuple,
    compact,
    nested,
    no_duplicates,
    opt,
    req,
)
from wire.errors import MalformedMessage
from wire.topics import Kind

MAX_LEVELS: Final = 1000  # per message: 1000 levels of the longest skus stay well under the byte limit


@dataclass(frozen=True, slots=True)
class SkuLevel:
    """One sku: units on the premises (`on_hand`), held by open online orders (`reserved`), for sale.

    For products sold by weight the numbers are grams, as everywhere on the wire.
    """

    sku: str
    on_hand: int
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @classmethod
    def from_json(cls, obj: Obj) -> SkuLevel:
        level = cls(req(obj, "sku", as_id), req(obj, "on_hand", as_int), req(obj, "reserved", as_count))
        available = req(obj, "available", as_int)
        if available != level.available:
            raise MalformedMessage(
                "available", f"expected on_hand - reserved = {level.available}, got {available}"
            )
        return level

    def to_json(self) -> Obj:
        return {
            "sku": self.sku,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "available": self.available,
        }


_LEVEL: Final = nested(SkuLevel.from_json)


@dataclass(frozen=True, slots=True)
class Levels:
    """The levels of some skus at the shop's level `version`, including this box's journal up to `upto`."""

    KIND: ClassVar[Kind] = Kind.LEVELS

    version: int
    levels: tuple[SkuLevel, ...]
    upto: int = 0
    epoch: str | None = None  # the store stream `upto` counts in (absent: the box's only, unnamed one)

    @classmethod
    def from_json(cls, obj: Obj) -> Levels:
        version = req(obj, "version", as_int, lo=1)
        levels = req(obj, "levels", as_tuple, item=_LEVEL, min_items=1, max_items=MAX_LEVELS)
        no_duplicates("levels", [level.sku for level in levels])
        return cls(version, levels, opt(obj, "upto", as_count) or 0, opt(obj, "epoch", as_epoch))

    def to_json(self) -> Obj:
        return compact(
            {
                "version": self.version,
                "upto": self.upto,
                "epoch": self.epoch,
                "levels": [level.to_json() for level in self.levels],
            }
        )
