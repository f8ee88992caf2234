"""Plain records the store hands out, so callers never hold a cursor or a row across transactions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wire import Entry, decode_body


@dataclass(frozen=True)
class ProductRecord:
    sku: str
    name: str
    price_cents: int
    unit: str  # "each" (stock in units) or "kg" (stock in grams)
    stock: int


@dataclass(frozen=True)
class JournalRecord:
    seq: int
    kind: str
    ts: str
    data: dict[str, Any]

    @property
    def body(self) -> Entry | None:
        """The typed body of what the store wrote (None only for a kind a newer release wrote)."""
        return decode_body(self.kind, self.data)

    def to_wire(self) -> dict[str, Any]:
        """The flat form the wire contract carries: {"seq", "kind", "ts", **data}."""
        return {"seq": self.seq, "kind": self.kind, "ts": self.ts, **self.data}


@dataclass(frozen=True)
class PrintJobRecord:
    id: int
    kind: str
    payload: bytes
    created_at: float
    expires_at: float
    state: str
    attempts: int
    reprint: bool
    last_error: str | None
