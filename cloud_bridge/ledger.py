"""One stock truth per (shop, sku): counted baseline + every movement − open reservations.

Movements come from every channel: box journal entries (sales, returns, receipts, adjustments, counts as
their delta) and online orders once they are collected or shipped. An online order that is paid but not
handed over is a reservation: the units are still on the shelf but no longer for sale. What the shop should
show is `available − safety buffer` (see `target`); the shop's number is only ever a projection of this.

Sums commute, so the result does not depend on the order in which channels are learned, and each movement
is unique per source (a box's `(box, seq)`, an order line), so a replay cannot count twice. Every function
runs inside the caller's transaction.

Every change here reaches the shop's boxes as levels (`cloud_bridge/levels.py`), so whoever records a
movement needs to know nothing about the boxes: a movement is due for a push while its id is past the shop's
pushed watermark (`pushed`), and the shop's `MovementMark` makes ids a commit-ordered watermark (see
`add_movements`); a reservation or a baseline marks its skus (`mark_levels`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import peewee as pw

from cloud_bridge import models as m
from cloud_bridge.sqlrows import chunks
from cloud_bridge.state import Counter, count, set_count
from wire import parse_ts

COMPACT_ROWS: Final = 5_000  # movements folded per transaction: bounds the time a compaction holds the shop
MARK_LOCK: Final = 0x4D4B  # the first key of the shops' movement locks (`_lock_shops`)
MOVED: Final = "moved"  # a reservation given back because its order's part here moved to another location


@dataclass(frozen=True)
class Level:
    """The ledger's view of one sku."""

    sku: str
    on_hand: int  # baseline + movements
    reserved: int  # open online orders

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def target(self, buffer: int, *, clamp: bool) -> int:
        """What the shop should show. Absolute writes clamp at 0 (shops refuse or hide negatives); delta
        shops are not clamped, or a later delta would start from a number the ledger never had.
        """
        shown = self.available - buffer
        return max(0, shown) if clamp else shown


def movement_row(
    shop: str, sku: str, source: str, kind: str, delta: int, at: str, *, push: bool
) -> dict[str, Any]:
    return {
        "shop": shop,
        "sku": sku,
        "source": source,
        "kind": kind,
        "delta": delta,
        "at": at,
        "push": push,
        "write": None,
    }


_COLUMNS: Final = ("shop", "sku", "source", "kind", "delta", "at", "push", "write")


def add_movements(rows: Sequence[dict[str, Any]]) -> None:
    """Inserts movements; one whose (shop, source) exists already is skipped, never counted twice. The skus'
    running balances (`Balance`) move by exactly the rows inserted, in the same transaction.

    Each shop's movements are inserted under a lock held to the commit (`_lock_shops`), and its
    `MovementMark` row is moved to the newest id inserted, so the ids of one shop are taken in the order
    their transactions commit (a second worker's insert waits for the first's commit): a snapshot's
    `last_id` is then an exact watermark, every movement of the shop up to it is in the snapshot and none
    after it (what `levels.py` pushes instead of stamping each movement it sent).

    The hot path of journal application: one multi-row INSERT written by hand, since building it through
    the query builder costs more than the database takes to run it.
    """
    if not rows:
        return
    db = m.database.obj
    param, columns = db.param, ", ".join(f'"{c}"' for c in _COLUMNS)
    _lock_shops({row["shop"] for row in rows})
    moved: dict[tuple[str, str], int] = {}
    newest: dict[str, int] = {}
    for chunk in chunks(rows):
        group = "(" + ", ".join([param] * len(_COLUMNS)) + ")"
        sql = (
            f'INSERT INTO "movement" ({columns}) VALUES {", ".join([group] * len(chunk))} '
            'ON CONFLICT DO NOTHING RETURNING "id", "shop", "sku", "delta"'
        )
        cursor = db.execute_sql(sql, [row[c] for row in chunk for c in _COLUMNS])
        for row_id, shop, sku, delta in cursor.fetchall():
            moved[(shop, sku)] = moved.get((shop, sku), 0) + int(delta)
            newest[shop] = max(int(row_id), newest.get(shop, 0))
    _add_to_balances(moved)
    _set_marks(newest)


def _lock_shops(shops: set[str]) -> None:
    """Locks the shops' movement ids until the transaction ends: a PostgreSQL advisory lock per shop (in the
    two-key space, apart from the box locks), taken in shop order as every writer takes them; SQLite's
    write transaction holds its one writer lock already.
    """
    db = m.database.obj
    if isinstance(db, pw.PostgresqlDatabase):
        db.execute_sql(
            "SELECT pg_advisory_xact_lock(%s, hashtext(s)) "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(s, n) ORDER BY n",
            (MARK_LOCK, sorted(shops)),
        ).fetchall()


def _set_marks(newest: dict[str, int]) -> None:
    """Moves each shop's mark to its newest movement id (ids only grow under the shop's lock)."""
    _upsert(
        'INSERT INTO "movement_mark" ("shop", "last_id") VALUES {values} '
        'ON CONFLICT ("shop") DO UPDATE SET "last_id" = excluded."last_id"',
        "({p}, CAST({p} AS BIGINT))",
        sorted(newest.items()),
    )


def _upsert(statement: str, row: str, rows: Sequence[tuple[object, ...]]) -> None:
    """`statement` with its `{values}` as `row` (`{p}` a parameter) once per row, a chunk at a time."""
    db = m.database.obj
    for chunk in chunks(rows):
        values = ", ".join([row.format(p=db.param)] * len(chunk))
        db.execute_sql(statement.format(values=values), [value for item in chunk for value in item])


def newest(shop: str) -> int:
    """The shop's newest movement id in this transaction's snapshot (0: none yet)."""
    row = m.MovementMark.get_or_none(m.MovementMark.shop == shop)
    return int(row.last_id or 0) if row is not None else 0


def pushed(shop: str) -> int:
    """Every movement of the shop up to this id has been sent to every box (`levels.push_due`)."""
    return count(shop, Counter.LEVELS_PUSHED)


def set_pushed(shop: str, upto: int) -> None:
    set_count(shop, Counter.LEVELS_PUSHED, upto)


def skus_moved(shop: str, after: int, upto: int) -> list[str]:
    """The skus of the shop's movements with an id in (after, upto]: the ones not pushed yet."""
    query = (
        m.Movement.select(m.Movement.sku)
        .where(m.Movement.shop == shop, m.Movement.id > after, m.Movement.id <= upto)
        .distinct()
    )
    return [row.sku for row in query]


def record_push(shop: str, version: int, upto: int, now: float) -> None:
    """Levels `version` holds the shop's movements up to id `upto` (read by `count_delta`)."""
    m.LevelPush.insert(shop=shop, version=version, upto=upto, at=now).on_conflict(
        conflict_target=[m.LevelPush.shop, m.LevelPush.version],
        update={m.LevelPush.upto: upto, m.LevelPush.at: now},
    ).execute()


def start_marks() -> None:
    """A database from before the marks: each shop's mark and pushed watermark at its newest movement, and
    the skus of movements no push carried yet (no `level_version`) marked due, so the next push sends them.
    """
    db = m.database.obj
    cursor = db.execute_sql('SELECT "shop", MAX("id") FROM "movement" GROUP BY "shop" ORDER BY "shop"')
    for shop, last_id in cursor.fetchall():
        m.MovementMark.insert(shop=shop, last_id=int(last_id)).on_conflict_ignore().execute()
        set_pushed(shop, int(last_id))
        unsent = m.Movement.select(m.Movement.sku).where(
            m.Movement.shop == shop, m.Movement.level_version.is_null()
        )
        mark_levels(shop, {row.sku for row in unsent.distinct()})


def _add_to_balances(moved: dict[tuple[str, str], int]) -> None:
    """One upsert per chunk, in (shop, sku) order, so two transactions take the rows in the same order."""
    _upsert(
        'INSERT INTO "balance" ("shop", "sku", "moved") VALUES {values} ON CONFLICT ("shop", "sku") '
        'DO UPDATE SET "moved" = "balance"."moved" + excluded."moved"',
        "({p}, {p}, {p})",
        [(shop, sku, delta) for (shop, sku), delta in sorted(moved.items())],
    )


def rebuild_balances() -> None:
    """Every running balance from the movements (a database from before balances were kept)."""
    m.Balance.delete().execute()
    db = m.database.obj
    db.execute_sql(
        'INSERT INTO "balance" ("shop", "sku", "moved") '
        'SELECT "shop", "sku", SUM("delta") FROM "movement" GROUP BY "shop", "sku"'
    )


def _balances(shop: str, skus: Sequence[str]) -> dict[str, int]:
    query = m.Balance.select(m.Balance.sku, m.Balance.moved).where(
        m.Balance.shop == shop, m.Balance.sku.in_(list(skus))
    )
    return {row.sku: int(row.moved) for row in query}


def _compacted(shop: str, skus: Sequence[str]) -> dict[str, int]:
    query = m.Balance.select(m.Balance.sku, m.Balance.compacted).where(
        m.Balance.shop == shop, m.Balance.sku.in_(list(skus)), m.Balance.compacted != 0
    )
    return {row.sku: int(row.compacted) for row in query}


def compact(shop: str, before: str, *, limit: int = COMPACT_ROWS) -> int:
    """Folds up to `limit` movements of `shop` recorded before `before` (a wire timestamp) into their skus'
    balances and deletes them; returns how many. So the movement table holds a shop's recent history, not
    its lifetime, and nothing that reads the ledger sees a difference:

    - only movements nothing needs one by one: settled (an order's, or a box's whose write to the shop is
      done), already sent to every box (below the pushed watermark), of a sku with a baseline;
    - `Balance.moved` already holds them; `Balance.compacted` keeps their sum for the settled level
      (`levels(settled=True)`), which sums movements;
    - exactly-once does not rest on the rows: a box entry is skipped by its stream's position (`seqrules`)
      before its source key is ever tried, and an order's movements come from its reservations, which stay
      consumed.

    A count made against levels older than the retention (a box offline that long) keeps the movements it
    could not know only as far as they are still kept (`count_delta`). Runs in the caller's transaction,
    under the shop's lock (the shop's driver reads settled levels in several statements).
    """
    done = m.ShopWrite.select(m.ShopWrite.id).where(m.ShopWrite.shop == shop, m.ShopWrite.state == "done")
    based = m.Stock.select(m.Stock.sku).where(m.Stock.shop == shop)
    _forget_pushes(shop, before)
    rows = list(
        m.Movement.select(m.Movement.id, m.Movement.sku, m.Movement.delta)
        .where(
            m.Movement.shop == shop,
            m.Movement.at < before,
            # below, not up to: the shop's newest movement stays, so SQLite never hands out its id again
            m.Movement.id < pushed(shop),
            (m.Movement.push == False) | m.Movement.write.in_(done),  # noqa: E712
            m.Movement.sku.in_(based),
        )
        .order_by(m.Movement.id)
        .limit(limit)
        .tuples()
    )
    folded: dict[str, int] = {}
    for _, sku, delta in rows:
        folded[sku] = folded.get(sku, 0) + int(delta)
    for sku, total in sorted(folded.items()):
        m.Balance.update(compacted=m.Balance.compacted + total).where(
            m.Balance.shop == shop, m.Balance.sku == sku
        ).execute()
    ids = [row[0] for row in rows]
    for chunk in chunks(ids):
        m.Movement.delete().where(m.Movement.id.in_(chunk)).execute()
    return len(rows)


def mark_levels(shop: str, skus: Iterable[str]) -> None:
    """These skus' levels changed: the next levels push sends them to every box of the shop."""
    db = m.database.obj
    wanted = sorted(set(skus))
    for chunk in chunks(wanted):
        values = ", ".join([f"({db.param}, {db.param})"] * len(chunk))
        db.execute_sql(
            f'INSERT INTO "level_due" ("shop", "sku") VALUES {values} ON CONFLICT DO NOTHING',
            [value for sku in chunk for value in (shop, sku)],
        )


def _forget_pushes(shop: str, before: str) -> None:
    """Which movements the levels versions older than the retention held (a count against one of those
    keeps every movement still kept that is not the till's own, as one against a pruned history does)."""
    moment = parse_ts(before)
    if moment is not None:
        m.LevelPush.delete().where(m.LevelPush.shop == shop, m.LevelPush.at < moment.timestamp()).execute()


def levels(shop: str, skus: Iterable[str], *, settled: bool = False) -> dict[str, Level]:
    """The ledger level of each sku that has a baseline (skus without one are absent).

    `settled` leaves out box movements whose delta has not been written to the shop yet: that is the number
    a delta shop should show right now, and what a reconciliation compares it with.
    """
    out: dict[str, Level] = {}
    where = [_settled(shop)] if settled else []
    for chunk in chunks(sorted(set(skus))):
        base = {
            s.sku: s.baseline for s in m.Stock.select().where(m.Stock.shop == shop, m.Stock.sku.in_(chunk))
        }
        if settled:  # compacted movements were settled: their sum counts whole
            moved = _sums(m.Movement, m.Movement.delta, shop, chunk, *where)
            for sku, compacted in _compacted(shop, chunk).items():
                moved[sku] = moved.get(sku, 0) + compacted
        else:
            moved = _balances(shop, chunk)
        held = _sums(m.Reservation, m.Reservation.qty, shop, chunk, m.Reservation.state == "open")
        for sku, baseline in base.items():
            out[sku] = Level(sku, baseline + moved.get(sku, 0), held.get(sku, 0))
    return out


def set_baseline(shop: str, sku: str, shop_quantity: int, now: float) -> None:
    """Makes the ledger agree with what the shop shows now, for a sku it did not know.

    The shop's number already reflects its own orders (open and shipped), while box movements are only
    written to a shop for skus that have a baseline, so none of them is in it yet. So the baseline is the
    shop's number less the order movements it contains plus the open reservations, and the sku's
    availability is the shop's number plus the box movements still to be written.
    """
    reflected = _sums(m.Movement, m.Movement.delta, shop, [sku], m.Movement.push == False)  # noqa: E712
    held = _sums(m.Reservation, m.Reservation.qty, shop, [sku], m.Reservation.state == "open")
    baseline = shop_quantity - reflected.get(sku, 0) + held.get(sku, 0)
    row = {"baseline": baseline, "baseline_at": now, "written": shop_quantity, "written_at": now}
    m.Stock.insert(shop=shop, sku=sku, **row).on_conflict_ignore().execute()
    mark_levels(shop, [sku])


def count_delta(shop: str, sku: str, own: str, counted: int, version: int, fallback: int) -> int:
    """The movement that makes on-hand what a till counted against level `version`, keeping every movement
    the till could not know: those of other channels (other tills, online orders, shop edits) first sent to
    the boxes after `version`, or not sent yet. Movements in that level are in the count already, and so are
    the till's own (source prefix `own`), which it showed as it made them. So nothing another channel did
    meanwhile is erased, and nothing the till saw is subtracted twice. `fallback` (the till's own delta)
    serves a sku without a baseline.
    """
    baseline = m.Stock.get_or_none(m.Stock.shop == shop, m.Stock.sku == sku)
    if baseline is None:
        return fallback
    total = _balances(shop, [sku]).get(sku, 0)
    push = m.LevelPush.get_or_none(m.LevelPush.shop == shop, m.LevelPush.version == version)
    if push is not None:
        unseen = (m.Movement.id > push.upto) & ~(m.Movement.source.startswith(own))
    else:  # a level of a release that stamped each movement with its version (or one older than retention)
        unseen = (m.Movement.level_version.is_null() | (m.Movement.level_version > version)) & ~(
            m.Movement.source.startswith(own)
        )
    kept = _sums(m.Movement, m.Movement.delta, shop, [sku], unseen).get(sku, 0)
    return counted + kept - (int(baseline.baseline) + total)


def known_skus(shop: str, skus: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunks(sorted(set(skus))):
        query = m.Stock.select(m.Stock.sku).where(m.Stock.shop == shop, m.Stock.sku.in_(chunk))
        found.update(row.sku for row in query)
    return found


# --- online orders ---------------------------------------------------------------------------------------


def reserve(
    shop: str, order_id: str, lines: Sequence[tuple[str, str, int]], *, follow: bool = True
) -> set[str]:
    """Holds (line id, sku, qty) for an order that is paid and not handed over; returns the skus touched.
    A line already released, consumed or moved away keeps its state: an order is counted once (a line
    moved away is held again only by `hold_again`, which the caller decides on the order's version). A
    line still held follows the order (`_follow`) when `follow`: False for an order read only in part,
    whose lines may be more than the store's own part of it.
    """
    known = {
        row.line_id: row
        for row in m.Reservation.select().where(
            m.Reservation.shop == shop, m.Reservation.order_id == order_id
        )
    }
    rows = [
        {"shop": shop, "order_id": order_id, "line_id": line_id, "sku": sku, "qty": qty, "state": "open"}
        for line_id, sku, qty in lines
        if line_id not in known
    ]
    if rows:
        m.Reservation.insert_many(rows).on_conflict_ignore().execute()
        mark_levels(shop, {sku for line_id, sku, _ in lines if line_id not in known})
    followed = _follow(shop, order_id, lines, known) if follow else set()
    return {sku for _, sku, _ in lines} | followed


def _follow(
    shop: str, order_id: str, lines: Sequence[tuple[str, str, int]], known: dict[str, Any]
) -> set[str]:
    """Open holds brought to the order's lines as the shop shows them now: a line the order no longer has
    is let go as moved away (`MOVED`: the shop gave its units back, part of a Shopify order moved to
    another location, and may take them again), and one whose quantity changed holds the new one. Returns
    the skus whose hold changed."""
    wanted = {line_id: qty for line_id, _, qty in lines}
    held = [row for row in known.values() if row.state == "open"]
    gone = [row for row in held if row.line_id not in wanted]
    _set_state(shop, order_id, [row.line_id for row in gone], MOVED)
    changed = [row for row in held if row.line_id in wanted and wanted[row.line_id] != row.qty]
    for row in changed:
        m.Reservation.update(qty=wanted[row.line_id]).where(
            m.Reservation.shop == shop,
            m.Reservation.order_id == order_id,
            m.Reservation.line_id == row.line_id,
            m.Reservation.state == "open",
        ).execute()
    skus = {row.sku for row in gone + changed}
    mark_levels(shop, skus)
    return skus


def consume(shop: str, order_id: str, at: str, kind: str) -> set[str]:
    """The order's units left the shop (collected at a till, or shipped): its open reservations become
    movements the shop already knows about (it took the stock when the order was placed).
    """
    open_lines = list(
        m.Reservation.select().where(
            m.Reservation.shop == shop, m.Reservation.order_id == order_id, m.Reservation.state == "open"
        )
    )
    add_movements(
        [
            movement_row(shop, r.sku, f"o/{order_id}/{r.line_id}", kind, -r.qty, at, push=False)
            for r in open_lines
        ]
    )
    _set_state(shop, order_id, [r.line_id for r in open_lines], "consumed")
    return {r.sku for r in open_lines}


def release(shop: str, order_id: str) -> set[str]:
    """A cancelled or refunded order gives back its open reservations (the shop restocks by itself), for
    good: nothing brings a released line back."""
    return _let_go(shop, order_id, "released")


def move_away(shop: str, order_id: str) -> set[str]:
    """The order's part here moved to another location (`fulfillmentOrderMove`): its open reservations are
    given back (the shop put the units back to `available` here) as `MOVED`, which `hold_again` may hold
    again should the order come back, unlike a cancellation's."""
    return _let_go(shop, order_id, MOVED)


def hold_again(shop: str, order_id: str, line_ids: Iterable[str]) -> set[str]:
    """Holds again the order's lines moved away that are among `line_ids` (the order came back here and
    the shop committed their units again); returns their skus. Only `MOVED` lines: one released by a
    cancellation or consumed (handed over, shipped) is never held again. The caller's `reserve` then
    brings their quantities to the order's."""
    wanted = set(line_ids)
    back = [
        row
        for row in m.Reservation.select().where(
            m.Reservation.shop == shop, m.Reservation.order_id == order_id, m.Reservation.state == MOVED
        )
        if row.line_id in wanted
    ]
    _set_state(shop, order_id, [row.line_id for row in back], "open")
    mark_levels(shop, {row.sku for row in back})
    return {row.sku for row in back}


def has_moved_lines(shop: str, order_id: str) -> bool:
    """Whether some of the order's lines are let go as moved away (`MOVED`)."""
    return bool(
        m.Reservation.select()
        .where(m.Reservation.shop == shop, m.Reservation.order_id == order_id, m.Reservation.state == MOVED)
        .exists()
    )


def _let_go(shop: str, order_id: str, state: str) -> set[str]:
    """The order's open reservations into `state` (released or moved away); returns their skus."""
    open_lines = list(
        m.Reservation.select().where(
            m.Reservation.shop == shop, m.Reservation.order_id == order_id, m.Reservation.state == "open"
        )
    )
    _set_state(shop, order_id, [r.line_id for r in open_lines], state)
    mark_levels(shop, {r.sku for r in open_lines})
    return {r.sku for r in open_lines}


def _set_state(shop: str, order_id: str, line_ids: list[str], state: str) -> None:
    if line_ids:
        m.Reservation.update(state=state).where(
            m.Reservation.shop == shop,
            m.Reservation.order_id == order_id,
            m.Reservation.line_id.in_(line_ids),
        ).execute()


# --- helpers ---------------------------------------------------------------------------------------------


def _settled(shop: str) -> Any:
    done = m.ShopWrite.select(m.ShopWrite.id).where(m.ShopWrite.shop == shop, m.ShopWrite.state == "done")
    return (m.Movement.push == False) | m.Movement.write.in_(done)  # noqa: E712


def _sums(model: Any, column: Any, shop: str, skus: Sequence[str], *where: Any) -> dict[str, int]:
    query = (
        model.select(model.sku, pw.fn.SUM(column).alias("total"))
        .where(model.shop == shop, model.sku.in_(list(skus)), *where)
        .group_by(model.sku)
    )
    return {row.sku: int(row.total or 0) for row in query}
