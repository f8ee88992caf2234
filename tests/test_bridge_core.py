"""The bridge's pure core (`cloud_bridge.core`), without a database: which steps a pass takes, how long a
failing shop waits, which orders count or are parked, what goes in which write and what follows from the
shop's answer. Hypothesis where the inputs are many: orders' problems, items' answers, sku sets.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from cloud_bridge.config import Timing
from cloud_bridge.connectors.base import ItemResult, OrderState, ShopOrder
from cloud_bridge.core import orders, passes, writes
from cloud_bridge.core.shopstate import ShopState, Timer
from cloud_bridge.core.writes import Outcome
from cloud_bridge.errors import (
    NotApplied,
    ShopError,
    ShopTimeout,
    ShopUnreachable,
    StaleStock,
    TransientShopError,
    UnknownSku,
)

TIMING = Timing(orders_s=10.0, products_s=60.0, reconcile_s=900.0, retry_base_s=0.5, retry_max_s=30.0)
skus = st.text(string.ascii_uppercase + string.digits + "-", min_size=1, max_size=8)
sku_sets = st.sets(skus, max_size=30)


# --- passes ------------------------------------------------------------------------------------------------


def test_a_new_shop_runs_every_step_in_pass_order() -> None:
    assert passes.due_steps(ShopState("shop"), 100.0) == (
        passes.Step.ORDERS,
        passes.Step.PRODUCTS,
        passes.Step.RECONCILE,
    )


def test_a_step_waits_for_its_timer_and_a_webhook_makes_it_due_now() -> None:
    kept = ShopState("shop", orders_due=110.0, products_due=100.0, reconcile_due=1000.0)
    assert passes.due_steps(kept, 100.0) == (passes.Step.PRODUCTS,)  # due exactly at its time
    webhook = ShopState("shop", orders_due=0.0, products_due=160.0, reconcile_due=1000.0)
    assert passes.due_steps(webhook, 100.0) == (passes.Step.ORDERS,)
    assert [passes.next_due(step, 100.0, TIMING) for step in passes.Step] == [110.0, 160.0, 1000.0]
    assert {passes.TIMERS[step] for step in passes.Step} == {Timer.ORDERS, Timer.PRODUCTS, Timer.RECONCILE}


@given(st.integers(0, 100), st.floats(0, 1), st.none() | st.floats(0, 3600))
def test_the_back_off_doubles_up_to_its_cap_and_honours_retry_after(
    failures: int, fraction: float, retry_after: float | None
) -> None:
    got = passes.back_off(failures, TIMING, retry_after, lambda a, b: a + (b - a) * fraction)
    ceiling = min(TIMING.retry_max_s, TIMING.retry_base_s * 2 ** min(failures + 1, 16))
    assert got.failures == failures + 1
    assert got.wait >= (retry_after or 0.0)
    if retry_after is None or retry_after <= ceiling / 2:
        assert ceiling / 2 <= got.wait <= ceiling <= TIMING.retry_max_s
    later = passes.back_off(failures + 1, TIMING, None, lambda a, b: a)
    assert later.wait >= passes.back_off(failures, TIMING, None, lambda a, b: a).wait


# --- orders ------------------------------------------------------------------------------------------------

AT = datetime(2026, 12, 7, tzinfo=UTC)


def order(order_id: str, problem: str | None, stock_known: bool) -> ShopOrder:
    return ShopOrder(
        order_id, order_id, OrderState.PAID, "processing", AT, AT, (), 100, "EUR", problem=problem,
        stock_known=stock_known,
    )  # fmt: skip


feed = st.lists(
    st.builds(
        order,
        st.text(string.digits, min_size=1, max_size=400),
        st.none() | st.text(min_size=1, max_size=20),
        st.booleans(),
    ),
    max_size=20,
)


@given(feed, st.data())
def test_a_feed_page_parks_what_does_not_read_and_counts_what_the_shop_took(
    found: list[ShopOrder], data: st.DataObject
) -> None:
    keys = [orders.order_key(o.order_id) for o in found]
    parked = data.draw(st.sets(st.sampled_from(keys))) if keys else set()
    plan = orders.plan_orders(found, parked)
    assert list(plan.apply) == [o for o in found if o.stock_known]  # in feed order, problems or not
    assert [p.order_id for p in plan.park] == [o.order_id for o in found if o.problem is not None]
    for parking, o in zip(plan.park, [o for o in found if o.problem is not None], strict=True):
        assert parking.key == orders.order_key(o.order_id) and len(parking.key) <= orders.KEY_MAX
        assert o.order_id in parking.problem and str(o.problem) in parking.problem
        assert parking.payload == (None if o.stock_known else orders.STOCK_UNKNOWN)
    readable = {orders.order_key(o.order_id) for o in found if o.problem is None}
    assert set(plan.resolve) == readable & parked


def test_an_order_key_round_trips_to_its_id() -> None:
    assert orders.order_id_of(orders.order_key("1042")) == "1042"
    assert orders.order_key("9" * 500) == "order/" + "9" * 294


# --- writes ------------------------------------------------------------------------------------------------


@given(sku_sets, sku_sets, st.integers(1, 7))
def test_claimed_writes_hold_each_known_unparked_sku_once_within_the_batch_limit(
    known: set[str], parked: set[str], size: int
) -> None:
    batches = writes.claim_batches(known, parked, size)
    flat = [sku for batch in batches for sku in batch]
    assert flat == sorted(known - parked)
    assert all(0 < len(batch) <= size for batch in batches)


def test_a_write_holds_one_request_on_a_delta_shop() -> None:
    assert writes.write_size(absolute=False, writes_per_request=250) == writes.WRITE_SKUS
    assert writes.write_size(absolute=False, writes_per_request=50) == 50
    assert writes.write_size(absolute=True, writes_per_request=1) == writes.WRITE_SKUS


@given(st.lists(st.tuples(skus, st.integers(-50, 50)), max_size=40))
def test_movements_coalesce_to_one_delta_per_sku(moves: list[tuple[str, int]]) -> None:
    totals = writes.coalesce(moves)
    assert set(totals) == {sku for sku, _ in moves}
    assert sum(totals.values()) == sum(delta for _, delta in moves)
    assert writes.to_send(totals) == {sku: d for sku, d in totals.items() if d != 0}


def test_a_write_is_sent_under_a_key_made_from_its_id() -> None:
    assert writes.idempotency_key("shop", 42) == "tillbridge-shop-42"


ERRORS: list[ShopError | None] = [
    None,
    UnknownSku("shop", "X"),
    NotApplied("shop", "another item failed"),
    StaleStock("shop", "changed meanwhile", 4),
    ShopTimeout("shop", "no answer"),
    ShopUnreachable("shop", "connection dropped"),
]


@given(st.dictionaries(skus, st.integers(-9, 9).filter(bool), max_size=12), st.data())
def test_every_item_of_a_delta_write_lands_in_exactly_one_place(
    deltas: dict[str, int], data: st.DataObject
) -> None:
    results = [ItemResult(sku, error=data.draw(st.sampled_from(ERRORS))) for sku in deltas]
    doubt = writes.in_doubt(results)
    unsure = [r.error for r in results if isinstance(r.error, ShopTimeout | ShopUnreachable | StaleStock)]
    assert doubt is (unsure[0] if unsure else None)  # the first, so the write stays pending as a whole
    out = writes.settle_deltas(deltas, results)
    places = [out.applied, out.retry_now, out.retry_later]
    assert sorted(s for place in places for s in place) == sorted(deltas)
    assert all(place[s] == deltas[s] for place in places for s in place)
    assert (
        set(out.refused)
        == set(out.retry_later)
        == {r.sku for r in results if isinstance(r.error, UnknownSku)}
    )
    assert set(out.applied) == {r.sku for r in results if r.error is None}


def test_an_item_s_outcome_says_whether_it_may_still_land() -> None:
    got = [writes.outcome(None if e is None else ItemResult("X", error=e)) for e in ERRORS]
    assert got == [Outcome.OK, Outcome.REFUSED, Outcome.FAILED, Outcome.FAILED, Outcome.DOUBT, Outcome.DOUBT]
    assert writes.outcome(ItemResult("X", 3)) is Outcome.OK
    assert isinstance(StaleStock("s", "p", None), TransientShopError)


@given(sku_sets, sku_sets, sku_sets, st.integers(1, 5))
def test_an_absolute_shop_writes_the_marked_skus_the_window_lets_go(
    dirty: set[str], wanted: set[str], parked: set[str], reads: int
) -> None:
    batches = writes.absolute_batches(dirty, wanted, parked, reads)
    assert [s for b in batches for s in b] == sorted((dirty & wanted) - parked)
    assert all(0 < len(b) <= reads for b in batches)


@given(sku_sets, sku_sets, st.booleans(), st.booleans())
def test_reconciliation_compares_every_unparked_sku_and_waits_on_a_delta_write_in_doubt(
    stocked: set[str], parked: set[str], absolute: bool, in_doubt: bool
) -> None:
    got = writes.reconcile_skus(stocked, parked, absolute=absolute, delta_in_doubt=in_doubt)
    if in_doubt and not absolute:
        assert got is None
    else:
        assert got == tuple(sorted(stocked - parked))
