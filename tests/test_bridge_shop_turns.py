"""A shop whose API answers slowly does not hold up another shop's due write: a worker drives its shops
from a few threads, earliest due first, each shop by one thread at a time (`cloud_bridge.shopturns`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

from cloud_bridge import models as m
from cloud_bridge.shopturns import ShopTurns
from cloud_bridge.state import Timer
from cloud_bridge.worker import Worker
from simulators.broker import Broker
from tests.bridge_helpers import (
    FAST,
    PlayedBox,
    bridge_config,
    seed,
    shop_config,
    start_simulator,
    wait_for,
)

WINDOW = 1.0
SLOW_S = 2.5  # every request to the slow shop


def test_the_shop_due_earliest_goes_first_and_no_shop_is_driven_by_two_threads() -> None:
    turns = ShopTurns(["a", "b", "c"], now=0.0)
    assert [turns.take(0.0), turns.take(0.0), turns.take(0.0), turns.take(0.0)] == ["a", "b", "c", None]
    turns.done("b", next_at=5.0)
    turns.done("a", next_at=3.0)
    assert turns.take(2.9) is None  # nothing due yet; "c" is still being driven
    assert turns.wait_s(2.0, longest=10.0) == 1.0
    assert turns.wait_s(2.0, longest=0.5) == 0.5
    assert turns.take(5.0) == "a"  # due at 3, before "b" at 5
    turns.wake("c", now=5.0)  # woken while a thread drives it: not taken twice
    assert turns.take(5.0) == "b"
    assert turns.take(5.0) is None
    assert turns.running() == {"a", "b", "c"}
    turns.done("c", next_at=60.0)  # the wake during its pass is kept
    assert turns.take(5.0) == "c"


def test_a_wake_brings_a_shop_forward_and_an_unknown_shop_is_ignored() -> None:
    turns = ShopTurns(["a"], now=0.0)
    assert turns.take(0.0) == "a"
    turns.done("a", next_at=10.0)
    turns.wake("zz", now=1.0)
    assert turns.take(1.0) is None
    turns.wake("a", now=1.0)
    assert turns.take(1.0) == "a"


def test_a_draining_backlog_drives_its_shop_at_most_once_per_gap_and_a_webhook_still_at_once() -> None:
    """A box draining a backlog has a group of batches applied every few milliseconds, each with new
    movements; its shop is driven at most once per `gap` meanwhile (it used to pass back to back, taking
    the cores from the apply thread), and a wake of another cause (a webhook) still drives it at once."""
    turns = ShopTurns(["a"], now=0.0)
    passes = []
    now = 0.0
    while now < 5.0:  # movements applied every 10 ms for 5 s
        turns.nudge("a", now, gap=0.5)
        if turns.take(now) == "a":
            passes.append(now)
            turns.done("a", next_at=now + 1.0)
        now = round(now + 0.01, 2)
    assert len(passes) == 10
    assert all(b - a >= 0.5 for a, b in pairwise(passes))
    turns.nudge("a", 4.9, gap=0.5)
    assert turns.take(4.9) is None  # the last pass started at 4.5
    turns.wake("a", 4.9)
    assert turns.take(4.9) == "a"
    turns.done("a", next_at=6.0)
    turns.nudge("a", 9.0, gap=0.5)  # a sale after a quiet while: driven at once
    assert turns.take(9.0) == "a"


def test_a_slow_shop_does_not_hold_up_another_shops_due_write(tmp_path: Path) -> None:
    """Two shops in one worker, a 1 s window each. The slow one answers every request in 2.5 s; the other
    shop's sale is made just as the slow one's batch write lands, so the slow shop's pass still has its
    orders feed to read, and the sale still shows in its shop within its window + 1 s. (With one thread
    driving both shops in turn, it waited for the rest of the slow shop's pass.)
    """
    broker = Broker(tmp_path / "broker").start()
    slow_sim = start_simulator("woocommerce", seed(3, 10))
    fast_sim = start_simulator("woocommerce", seed(3, 10))
    shops = [
        shop_config("slow", slow_sim, ["slow-till"], window=WINDOW),
        shop_config("fast", fast_sim, ["fast-till"], window=WINDOW),
    ]
    timing = replace(FAST, orders_s=3600.0, products_s=3600.0, shop_timeout_s=10.0)  # only the writes
    config = bridge_config(f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, shops, timing=timing)
    worker = Worker(config).start()
    slow_till = PlayedBox("slow", "slow-till", broker.url)
    fast_till = PlayedBox("fast", "fast-till", broker.url)
    sold_at: list[float] = []

    def sell_at_the_fast_till() -> None:
        sold_at.append(time.monotonic())
        fast_till.sell("SKU-002")

    try:
        assert worker.ready(10)
        reconciled = m.ShopState.select().where(m.ShopState.name == Timer.RECONCILE.value)
        wait_for(lambda: reconciled.count() == 2, what="both shops' first pass")
        slow_sim.delay = SLOW_S
        slow_sim.before_next(sell_at_the_fast_till, match="batch")
        slow_till.sell("SKU-001")
        wait_for(lambda: bool(sold_at), 30.0, "the slow shop's batch write")
        wait_for(lambda: fast_sim.stock("SKU-002") == 9, 10.0, "the fast shop's write")
        took = time.monotonic() - sold_at[0]
        assert took <= WINDOW + 1.0, f"the fast shop's sale took {took:.2f} s to reach it"
        wait_for(lambda: slow_sim.stock("SKU-001") == 9, 10.0, "the slow shop's write")
    finally:
        slow_sim.delay = 0.0
        slow_till.close()
        fast_till.close()
        worker.stop()
        slow_sim.stop()
        fast_sim.stop()
        broker.stop()
