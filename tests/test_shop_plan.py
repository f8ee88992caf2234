"""The write planner (`cloud_bridge.shopplan`), on plain values: when a shop's stock changes go out, and
in which calls. No database, no shop: what a merchant notices is the shop lagging the tills by at most the
window, the last units written at once, and few calls.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud_bridge.shopplan import Decision, Pending, Reason, Rules, batches, decide, opens_at

SKUS = st.text("ABCDEFGH0123", min_size=1, max_size=4)
PENDING = st.lists(
    st.builds(
        Pending,
        SKUS,
        st.one_of(st.none(), st.integers(-5, 50)),
        st.one_of(st.none(), st.floats(0, 10_000)),
    ),
    max_size=20,
    unique_by=lambda p: p.sku,
)
RULES = st.builds(
    Rules,
    window_s=st.floats(0, 60),
    low_stock=st.integers(0, 5),
    tick_s=st.floats(0, 2),
    batch_writes=st.booleans(),
)
TIMES = st.floats(0, 10_000)


def test_a_change_waits_for_the_window_then_goes_with_the_others() -> None:
    rules = Rules(window_s=10.0, tick_s=1.0)
    first = decide([Pending("A", 40)], None, rules, 100.0)
    assert (first.write, first.opened_at, first.reason) == ((), 100.0, Reason.WAITING)
    later = decide([Pending("A", 39), Pending("B", 12)], first.opened_at, rules, 105.0)
    assert (later.write, later.opened_at) == ((), 100.0)  # a new change does not restart the window
    # the loop looks again within a second: the window closing at 110 closes at the last look before it
    due = decide([Pending("A", 39), Pending("B", 12)], 100.0, rules, 109.2)
    assert (due.write, due.opened_at, due.reason) == (("A", "B"), None, Reason.WINDOW)


def test_a_sale_taking_a_sku_to_the_threshold_is_written_at_once() -> None:
    rules = Rules(window_s=10.0, low_stock=2)
    got = decide([Pending("A", 2), Pending("B", 30)], 100.0, rules, 100.5)
    # the whole window rides along: one batch call writes both
    assert (got.write, got.opened_at, got.reason) == (("A", "B"), None, Reason.LOW_STOCK)


def test_a_shop_writing_one_sku_per_call_sends_only_the_low_ones_early() -> None:
    rules = Rules(window_s=10.0, low_stock=2, batch_writes=False)
    got = decide([Pending("A", 1), Pending("B", 30)], 100.0, rules, 100.5)
    assert (got.write, got.opened_at, got.reason) == (("A",), 100.0, Reason.LOW_STOCK)


def test_a_sku_without_a_baseline_is_not_low() -> None:
    got = decide([Pending("A", None)], None, Rules(window_s=5.0), 50.0)
    assert got.write == () and got.opened_at == 50.0


def test_window_zero_writes_at_every_pass() -> None:
    got = decide([Pending("A", 40)], None, Rules(window_s=0.0), 7.0)
    assert (got.write, got.opened_at) == (("A",), None)


def test_nothing_waiting_closes_the_window() -> None:
    assert decide([], 3.0, Rules(), 9.0) == Decision((), None, Reason.IDLE)


def test_a_shop_writing_one_sku_per_call_writes_a_sku_at_most_once_per_window() -> None:
    rules = Rules(window_s=10.0, batch_writes=False)
    pending = [Pending("A", 30, written_at=95.0), Pending("B", 30, written_at=80.0)]
    got = decide(pending, 90.0, rules, 100.0)
    assert (got.write, got.next_at) == (("B",), 105.0)  # A was written 5 s ago: again at 105
    assert decide([Pending("A", 30, 95.0), Pending("C", 30)], got.opened_at, rules, 101.0).write == ()
    assert decide([Pending("A", 30, 95.0), Pending("C", 30)], got.opened_at, rules, 105.0).write == ("A", "C")
    assert decide([Pending("A", 1, 99.0)], None, rules, 100.0).write == ("A",)  # the last units: at once


def test_a_window_opened_in_the_future_still_closes() -> None:
    """A clock stepped back must not hold the changes for as long as it stepped."""
    got = decide([Pending("A", 40)], 10_000.0, Rules(window_s=10.0), 100.0)
    assert got.opened_at == 100.0
    assert decide([Pending("A", 40)], got.opened_at, Rules(window_s=10.0), 110.0).write == ("A",)


def test_bad_rules_are_refused_with_the_values() -> None:
    with pytest.raises(ValueError, match="-1"):
        Rules(window_s=-1)
    with pytest.raises(ValueError, match="0"):
        batches([1, 2], 0)


@given(PENDING, st.one_of(st.none(), TIMES), RULES, TIMES)
def test_decisions_hold_no_change_past_the_window_and_write_only_what_waits(
    pending: list[Pending], opened: float | None, rules: Rules, now: float
) -> None:
    got = decide(pending, opened, rules, now)
    waiting = {p.sku for p in pending}
    assert set(got.write) <= waiting
    assert list(got.write) == sorted(got.write)
    low = {p.sku for p in pending if p.low(rules.low_stock)}
    assert low <= set(got.write)  # the last units never wait
    left = waiting - set(got.write)
    assert (got.opened_at is None) == (not left)  # a window stays open exactly while something waits
    if got.opened_at is not None:
        assert got.opened_at <= now + rules.tick_s
        # whatever is left is looked at again before its window closes
        assert got.next_at is not None and got.next_at > now
        assert got.next_at == pytest.approx(got.opened_at + rules.window_s - rules.tick_s)
        if opened is not None and got.reason is not Reason.WINDOW:
            assert got.opened_at == min(opened, now)  # later changes never push the window back
    if not rules.batch_writes and got.reason is Reason.LOW_STOCK:
        assert set(got.write) == low  # one call per sku: the others still wait for their window
    if got.reason is Reason.WINDOW:  # what is left was written less than a window ago (one sku per call)
        by_sku = {p.sku: p for p in pending}
        for sku in left:
            written = by_sku[sku].written_at
            assert not rules.batch_writes and written is not None and min(written, now) + rules.window_s > now


@given(st.lists(st.integers(), max_size=300), st.integers(1, 120))
def test_batches_keep_every_item_once_in_order_within_the_limit(items: list[int], limit: int) -> None:
    cut = batches(items, limit)
    assert [x for chunk in cut for x in chunk] == items
    assert all(0 < len(chunk) <= limit for chunk in cut)
    assert len(cut) == -(-len(items) // limit)  # as few calls as the limit allows


@given(TIMES, st.one_of(st.none(), st.floats(-10_000, 20_000)), st.floats(0, 60))
def test_a_window_opens_at_the_oldest_change_but_never_before_a_window_ago_nor_in_the_future(
    now: float, oldest: float | None, window_s: float
) -> None:
    opened = opens_at(now, oldest, window_s)
    assert now - window_s <= opened <= now
    if oldest is None:
        assert opened == now  # an order's change: the window opens now
    elif now - window_s <= oldest <= now:
        assert opened == oldest  # the time the sale took to reach the bridge counts against the window
