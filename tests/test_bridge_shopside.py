"""The shop-side rules on their own (sans-IO, hypothesis): a write moves the shop by the ledger's change, an
unexplained difference read at a quiet moment is an edit counted once, and an order overwritten by a write
is written back, never taken for an edit.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_bridge.shopside import Expected, Plan, Settled, plan, settle

levels = st.integers(min_value=0, max_value=1000)
small = st.integers(min_value=0, max_value=20)


def _settle(p: Plan, **kw: Any) -> Settled:
    args: dict[str, Any] = {
        "touched": False,
        "reread": None,
        "now": 100.0,
        "stock_unknown": False,
        "doubt_s": 60.0,
    }
    return settle(p, "ok", **(args | kw))


@given(levels, levels, levels, st.integers(min_value=-50, max_value=0))
def test_a_write_moves_the_shop_by_the_ledgers_change_and_keeps_what_is_unexplained(
    read: int, expected: int, target: int, orders: int
) -> None:
    p = plan("S", read, Expected(expected, 0.0), orders, target, clamp=False, now=100.0)
    assert p.write - p.read == target - expected
    out = _settle(p, orders_now=orders)
    assert out.edit == read - expected  # a quiet read: the difference is an edit, once
    assert out.level == p.write and out.orders == orders and not out.again
    again = plan("S", p.write, Expected(out.level, out.doubt_until), orders, target, clamp=False, now=101.0)
    assert again.unexplained == 0


@given(levels, levels, st.integers(min_value=-50, max_value=0))
def test_a_difference_is_not_an_edit_while_an_order_is_unknown(read: int, expected: int, orders: int) -> None:
    p = plan("S", read, Expected(expected, 0.0), orders, expected, clamp=False, now=100.0)
    out = _settle(p, orders_now=orders, stock_unknown=True)
    assert out.edit == 0 and out.level == expected  # still unexplained at the next read


@given(st.integers(min_value=50, max_value=1000), small, small, st.integers(min_value=-20, max_value=20))
@settings(max_examples=300)
def test_an_order_overwritten_by_a_write_is_written_back_and_never_an_edit(
    shop: int, lost: int, later: int, change: int
) -> None:
    """The shop shows `shop` (the bridge expects it); the ledger wants `change` more. `lost` units are
    ordered after the read and before our write lands (overwritten); `later` after it.
    """
    known = 0
    p = plan("S", shop, Expected(shop, 0.0), known, shop + change, clamp=True, now=100.0)
    # a write overwrites the `lost` order; the `later` one takes its units after it
    shown = p.write - later if p.writes else shop - lost - later
    orders_now = known - lost - later  # the orders poll after the write learned both
    out = _settle(p, touched=True, reread=shown, orders_now=orders_now)
    assert out.edit == 0
    assert out.again == (shown != p.expected + p.write - p.read + orders_now - known)
    # the next pass: the ledger's target now holds both orders
    target = shop + change - lost - later
    nxt = plan(
        "S",
        shown,
        Expected(out.level + orders_now - out.orders, out.doubt_until),
        orders_now,
        target,
        clamp=True,
        now=101.0,
    )
    assert nxt.write == max(0, target)  # the shop ends where the ledger is
    assert _settle(nxt, orders_now=orders_now).edit == 0


@given(levels, levels, st.integers(min_value=1, max_value=20), st.integers(min_value=1, max_value=40))
def test_a_shop_showing_more_by_at_most_the_orders_learned_since_is_written_not_kept_as_an_edit(
    expected: int, target: int, learned: int, more: int
) -> None:
    """Units an order took that the shop shows again (a write of ours overwrote it while the feed was
    down, or the feed showed it after the bridge looked) are not an edit: the ledger's number is written.
    """
    read = expected + more
    p = plan("S", read, Expected(expected, 0.0, learned), -learned, target, clamp=False, now=100.0)
    out = _settle(p, orders_now=-learned)
    if more <= learned:
        assert (out.edit, p.write) == (0, target)
    else:  # more than those orders could explain: an edit, kept
        assert (out.edit, p.write) == (more, target + more)
