"""What the bridge expects each shop to show, so that a difference is known for what it is.

A shop's number for a sku moves for three reasons: the bridge's own writes, the shop's own orders, and
people editing it in the shop's admin. The bridge knows the first two, so it keeps, per sku, the number
it last saw or wrote (`level`) together with the units the orders it knew had then taken (`orders`, from
the ledger's reservations). What the shop should show now is

    expected = level + (orders now − orders then)

A read that differs from that, at a quiet moment (no order touched the sku between the read and an
orders poll after it), is an edit made in the shop: it becomes a ledger movement of channel `shop`
(source `s/<sku>/<id>`, `push` false since the shop has it already), and is never written over. Except
when the shop shows more by no more than the units of the orders the bridge learned late: after it last
looked, but before it had read the orders feed to its end once since (`caught_up`). Those orders may
have been in the shop's number already when it looked (the feed showed them late), or a write of ours
overwrote them while the feed was failing; either way the shop's number is taken as it is and the
ledger's is written, instead of keeping the overwritten units as an edit. The same holds the other way:
a shop showing less by no more than the units of the orders released late (a cancellation the shop
restocked before a write of ours that did not know of it yet) is written back, not kept as a lost-units
edit. Orders learned after the feed was caught up came after the look, so they explain nothing: a
recount on a sku that sold online since is kept. Writes move the shop by the change the ledger wants
(`target − expected`), so a difference not yet explained (an edit, an order still on its way) survives
the write.

Every function runs inside the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final

import peewee as pw

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.sqlrows import chunks
from wire import format_ts

TAKEN: Final = ("open", "consumed")  # reservation states whose units the shop has taken out of its stock
EDIT_KIND: Final = "shop_edit"


@dataclass(frozen=True)
class Expected:
    """The shop's number the bridge can explain for one sku, and until when a write of it is in doubt.
    `learned`: units the orders learned late (after that number was seen or written, before the feed was
    caught up) took (more than 0), or gave back (less than 0: released by a cancellation).
    """

    level: int
    doubt_until: float
    learned: int = 0

    def in_doubt(self, now: float) -> bool:
        return now < self.doubt_until


def order_effect(shop: str, skus: Iterable[str]) -> dict[str, int]:
    """Units the known orders took out of the shop per sku, as a negative number (0 when none)."""
    wanted = sorted(set(skus))
    out = dict.fromkeys(wanted, 0)
    for chunk in chunks(wanted):
        query = (
            m.Reservation.select(m.Reservation.sku, pw.fn.SUM(m.Reservation.qty).alias("total"))
            .where(
                m.Reservation.shop == shop,
                m.Reservation.sku.in_(chunk),
                m.Reservation.state.in_(TAKEN),
            )
            .group_by(m.Reservation.sku)
        )
        out.update({row.sku: -int(row.total or 0) for row in query})
    return out


def expected(shop: str, skus: Iterable[str], effect: Mapping[str, int]) -> dict[str, Expected]:
    """What the shop should show now, for skus the bridge has seen (others are absent); `effect` is
    `order_effect` of the same skus, now.
    """
    wanted = sorted(set(skus))
    out: dict[str, Expected] = {}
    for chunk in chunks(wanted):
        query = m.ShopSide.select().where(m.ShopSide.shop == shop, m.ShopSide.sku.in_(chunk))
        for row in query:
            now_taken = effect.get(row.sku, 0)
            level = row.level + now_taken - row.orders
            caught_up = now_taken if row.caught_up is None else row.caught_up
            out[row.sku] = Expected(level, row.doubt_until, row.orders - caught_up)
    return out


def _within(difference: int, learned: int) -> bool:
    """The shop's difference from what was expected has the sign of the orders' change learned since, and
    is no larger: those orders explain it."""
    return 0 < difference <= learned or learned <= difference < 0


def record(
    shop: str,
    sku: str,
    level: int,
    orders: int,
    now: float,
    doubt_until: float = 0.0,
    caught_up: int | None = None,
) -> None:
    """The shop showed (or was written) `level` while the known orders had taken `orders`. `caught_up`:
    what they had taken when the orders feed, read to its end after `level` was seen, ended; None when it
    has not been yet (`catch_up` fills it in then)."""
    values = {"level": level, "orders": orders, "doubt_until": doubt_until, "at": now, "caught_up": caught_up}
    m.ShopSide.insert(shop=shop, sku=sku, **values).on_conflict(
        conflict_target=[m.ShopSide.shop, m.ShopSide.sku],
        update={getattr(m.ShopSide, name): value for name, value in values.items()},
    ).execute()


def catch_up(shop: str, now: float) -> None:
    """The orders feed was read to its end, in a pass that began at `now`: every number seen in an earlier
    pass can be in doubt only about the orders known by now."""
    effect = m.Reservation.select(0 - pw.fn.COALESCE(pw.fn.SUM(m.Reservation.qty), 0)).where(
        m.Reservation.shop == m.ShopSide.shop,
        m.Reservation.sku == m.ShopSide.sku,
        m.Reservation.state.in_(TAKEN),
    )
    m.ShopSide.update(caught_up=effect).where(
        m.ShopSide.shop == shop, m.ShopSide.caught_up.is_null(), m.ShopSide.at < now
    ).execute()


def shift(shop: str, deltas: Mapping[str, int]) -> None:
    """A delta the shop applied (an idempotent delta write) moves what it should show by as much."""
    for sku, delta in deltas.items():
        if delta:
            m.ShopSide.update(level=m.ShopSide.level + delta).where(
                m.ShopSide.shop == shop, m.ShopSide.sku == sku
            ).execute()


def record_edit(shop: str, sku: str, delta: int, now: float) -> None:
    """An edit made in the shop's admin, as a ledger movement of channel `shop` the shop already shows."""
    at = format_ts(datetime.fromtimestamp(now, UTC))
    source = f"s/{sku}/{uuid.uuid4().hex[:16]}"
    ledger.add_movements([ledger.movement_row(shop, sku, source, EDIT_KIND, delta, at, push=False)])


# --- one write, planned and settled (sans-IO) -------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What the bridge does with one sku after reading the shop: `write` is what it sends (`read` when
    nothing), so the shop moves by `target − expected` and keeps any difference not yet explained.
    """

    sku: str
    read: int
    expected: int  # the read itself when the bridge cannot explain the shop's number (in doubt, unseen)
    write: int
    orders: int  # `order_effect` when planned
    doubt_until: float

    @property
    def writes(self) -> bool:
        return self.write != self.read

    @property
    def unexplained(self) -> int:
        return self.read - self.expected


def plan(
    sku: str, read: int, known: Expected | None, orders: int, target: int, *, clamp: bool, now: float
) -> Plan:
    """The write for one sku: the ledger's change (`target − expected`) applied to what the shop shows.
    `clamp` keeps an absolute write at 0 or more, as the shops show. While an earlier write is in doubt
    (or for a sku never seen), the shop's number is taken as it is; so is one that shows more by no more
    than the orders learned since (see the module's docstring).
    """
    doubting = known is not None and known.in_doubt(now)
    doubt_until = known.doubt_until if known is not None and doubting else 0.0
    late_orders = known is not None and _within(read - known.level, known.learned)
    expect = read if known is None or doubting or late_orders else known.level
    write = read + (target - expect)
    return Plan(sku, read, expect, max(0, write) if clamp else write, orders, doubt_until)


@dataclass(frozen=True)
class Settled:
    """What follows from a planned write: `edit` (a movement of channel `shop`, 0 for none), what to
    record as seen (`level` when the orders had taken `orders`), until when a write is in doubt, and
    whether to look again next pass.
    """

    edit: int
    level: int
    orders: int
    doubt_until: float
    again: bool
    lost: bool = False  # our write overwrote an order the shop took meanwhile; it is written again


def settle(
    p: Plan,
    outcome: str,
    *,
    touched: bool,
    reread: int | None,
    orders_now: int,
    now: float,
    stock_unknown: bool,
    doubt_s: float,
) -> Settled:
    """Reads the outcome of a planned write: `outcome` is "ok" (written, or nothing to write), "failed"
    (certainly not applied) or "doubt" (no answer: it may land, even late).

    `touched`: the orders poll after the write learned orders for this sku, so the read was not quiet;
    `reread` is the shop's number read after that poll. `stock_unknown`: some order's stock effect is
    unknown (parked), so a difference is not taken as an edit.
    """
    if outcome == "failed":
        p = replace(p, write=p.read)
    after = p.expected + (p.write - p.read)  # what the shop shows by our reckoning, orders as planned
    quiet_edit = 0 if touched or stock_unknown or p.doubt_until > 0 else p.unexplained
    if outcome == "doubt":
        if touched:
            return Settled(0, after, p.orders, now + doubt_s, True)
        return Settled(quiet_edit, p.write - p.unexplained + quiet_edit, orders_now, now + doubt_s, True)
    doubt_until = p.doubt_until if now < p.doubt_until else 0.0
    again = outcome == "failed" or doubt_until > 0
    if touched:
        if reread is None:
            return Settled(0, after, p.orders, doubt_until, True)
        explained = after + (orders_now - p.orders)
        if p.writes and 0 < reread - explained <= p.orders - orders_now:
            # The shop shows more than our write less the orders learned since: some of them landed
            # before the write and were overwritten. Believe the shop; the ledger holds those orders now,
            # so the next write (at once) is right.
            return Settled(0, reread, orders_now, doubt_until, True, lost=True)
        if p.doubt_until > 0:  # an earlier write may have landed meanwhile: the shop's number stands
            return Settled(0, reread, orders_now, doubt_until, True)
        return Settled(0, after, p.orders, doubt_until, again or reread != explained)
    if p.doubt_until > 0:
        return Settled(0, p.write, orders_now, doubt_until, again)
    return Settled(quiet_edit, after + quiet_edit, p.orders, 0.0, again)
