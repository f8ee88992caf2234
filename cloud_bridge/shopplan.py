"""When to write a shop's stock, and what goes in which call: pure decisions, no database, no IO.

Written one sale at a time, a live till's pace costs the shop a read and a write per sale and never puts
two sales in one call. So changes wait in a coalescing window per shop: the window opens when the first
change not yet in the shop is seen, and when it closes every sku changed meanwhile is written together, in
as few calls as the shop's API allows. The shop then lags the tills by at most the window.

One rule beats the window: a changed sku whose available level has reached the shop's low-stock threshold is
written at once, so the last units are never sold twice online while the window holds. On a shop whose API
writes many skus per call the rest of the window rides along in the same call (it costs nothing more); on
one that writes a sku per call (PrestaShop) only the low ones go early, and a sku written less than a
window ago waits until a window has passed since, so each sku is written at most once per window.

The driver (`cloud_bridge.sync`) gathers the facts, asks `decide`, keeps `Decision.opened_at` in the shop's
state, writes what it says in the chunks `batches` cuts, and has the worker look again at `next_at`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeVar

DEFAULT_WINDOW_S: Final = 10.0
DEFAULT_LOW_STOCK: Final = 2

T = TypeVar("T")


class Reason(StrEnum):
    """Why a decision writes (or does not)."""

    IDLE = "idle"  # nothing waits
    WAITING = "waiting"  # changes wait for the window to close
    WINDOW = "window"  # the window closed (or closes before the loop looks again)
    LOW_STOCK = "low stock"  # a changed sku reached the low-stock threshold


@dataclass(frozen=True)
class Rules:
    """A shop's write rules. `window_s` 0 writes every change at the next pass (the behaviour before
    coalescing). `tick_s`: how early a window closes (the time a write takes, and how late the loop may
    look), so a change is in the shop by the window's end. `batch_writes`: one call writes many skus
    (WooCommerce, Shopify), so early writes take the whole window along; without it (PrestaShop), a sku is
    not written again within a window of its last write.
    """

    window_s: float = DEFAULT_WINDOW_S
    low_stock: int = DEFAULT_LOW_STOCK
    tick_s: float = 0.0
    batch_writes: bool = True

    def __post_init__(self) -> None:
        if self.window_s < 0 or self.tick_s < 0:
            raise ValueError(f"window_s and tick_s must be 0 or more, got {self.window_s}, {self.tick_s}")


@dataclass(frozen=True)
class Pending:
    """A sku whose change is not in the shop yet. `available`: what the shop should show for it now (the
    ledger's available units less the safety buffer), None while the bridge has no baseline for it.
    """

    sku: str
    available: int | None
    written_at: float | None = None  # when the shop last took a write of it (None: not known)

    def low(self, threshold: int) -> bool:
        return self.available is not None and self.available <= threshold


@dataclass(frozen=True)
class Decision:
    """`write`: the skus to write now, sorted. `opened_at`: when the window holding the rest opened, to
    keep until the next decision (None: no window open). `next_at`: when to decide again (None: when a
    change comes).
    """

    write: tuple[str, ...]
    opened_at: float | None
    reason: Reason
    next_at: float | None = None

    def closes_at(self, rules: Rules) -> float | None:
        return None if self.opened_at is None else self.opened_at + rules.window_s


def decide(pending: Iterable[Pending], opened_at: float | None, rules: Rules, now: float) -> Decision:
    """What to write at `now`, given the skus waiting and when their window opened (None: not yet)."""
    waiting = {p.sku: p for p in pending}
    if not waiting:
        return Decision((), None, Reason.IDLE)
    # A window seen opening in the future (a clock stepped back) counts from now, so it still closes.
    opened = now if opened_at is None else min(opened_at, now)
    closes = opened + rules.window_s - rules.tick_s
    low = {sku for sku, p in waiting.items() if p.low(rules.low_stock)}
    if closes <= now:
        if rules.batch_writes:
            return Decision(tuple(sorted(waiting)), None, Reason.WINDOW)
        # one sku per call: a sku written less than a window ago waits for its window (unless low)
        written = {s: min(p.written_at, now) for s, p in waiting.items() if p.written_at is not None}
        spaced = {
            sku: at + rules.window_s
            for sku, at in written.items()
            if sku not in low and at + rules.window_s > now
        }
        write = tuple(sorted(set(waiting) - set(spaced)))
        if not spaced:
            return Decision(write, None, Reason.WINDOW)
        # the rest waits in a window that closes when the first of them may be written again: changes
        # coming meanwhile wait with them, instead of going one by one
        ready = min(spaced.values())
        return Decision(write, ready - rules.window_s + rules.tick_s, Reason.WINDOW, ready)
    if not low:
        return Decision((), opened, Reason.WAITING, closes)
    if rules.batch_writes or len(low) == len(waiting):
        return Decision(tuple(sorted(waiting)), None, Reason.LOW_STOCK)
    return Decision(tuple(sorted(low)), opened, Reason.LOW_STOCK, closes)


def opens_at(now: float, oldest: float | None, window_s: float) -> float:
    """When a window opens: at the till's time of the oldest change not yet in the shop (None: now), so the
    time it took to reach the bridge counts against the window; never before `now − window` (a backlog goes
    out at once) nor after `now` (a box whose clock runs ahead, an order's change: from now).
    """
    at = now if oldest is None else oldest
    return min(now, max(now - window_s, at))


def batches(items: Sequence[T], limit: int) -> list[tuple[T, ...]]:
    """`items` in calls of at most `limit` (the connector's batch limit), in order, none empty."""
    if limit < 1:
        raise ValueError(f"a batch limit must be 1 or more, got {limit}")
    return [tuple(items[start : start + limit]) for start in range(0, len(items), limit)]


__all__ = ["Decision", "Pending", "Reason", "Rules", "batches", "decide", "opens_at"]
