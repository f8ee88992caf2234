"""What a pass over a shop does, and how long a failing shop is left alone: decided from its `ShopState`.

A pass always writes what is due and tells the boxes; the feeds and the reconciliation run when their
timers say so (a webhook sets a feed's timer to 0: due now). After a failure the shop is not asked again
before a back-off that doubles with each failure in a row, jittered so that the shops a worker lost at
once do not come back at once, and never shorter than the shop's own `Retry-After`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from cloud_bridge.config import Timing
from cloud_bridge.core.shopstate import ShopState, Timer

MAX_DOUBLINGS: Final = 16  # the back-off stops doubling here (retry_max_s caps it long before)


class Step(StrEnum):
    """The periodic steps of a pass, in the order a pass takes them."""

    ORDERS = "orders"  # the orders feed, and parked orders read again
    PRODUCTS = "products"  # product and price changes
    RECONCILE = "reconcile"  # every sku compared with the ledger


TIMERS: Final = {Step.ORDERS: Timer.ORDERS, Step.PRODUCTS: Timer.PRODUCTS, Step.RECONCILE: Timer.RECONCILE}


def due_steps(state: ShopState, now: float) -> tuple[Step, ...]:
    """The steps whose timer has come (never set: due now), in pass order."""
    return tuple(step for step in Step if now >= state.due(TIMERS[step]))


def next_due(step: Step, now: float, timing: Timing) -> float:
    """When `step` is due again after it ran at `now`."""
    every = {
        Step.ORDERS: timing.orders_s,
        Step.PRODUCTS: timing.products_s,
        Step.RECONCILE: timing.reconcile_s,
    }
    return now + every[step]


@dataclass(frozen=True)
class Backoff:
    """After a transient failure: the failures in a row now, and how long to leave the shop alone."""

    failures: int
    wait: float


def back_off(
    failures: int, timing: Timing, retry_after: float | None, draw: Callable[[float, float], float]
) -> Backoff:
    """The wait after one more failure than `failures`: half the doubled ceiling plus up to as much again
    (`draw(a, b)`, a uniform draw in [a, b]), the ceiling capped at `retry_max_s`; at least `retry_after`.
    """
    count = failures + 1
    ceiling = min(timing.retry_max_s, timing.retry_base_s * 2 ** min(count, MAX_DOUBLINGS))
    return Backoff(count, max(ceiling / 2 + draw(0, ceiling / 2), retry_after or 0.0))


__all__ = ["TIMERS", "Backoff", "Step", "back_off", "due_steps", "next_due"]
