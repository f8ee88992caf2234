"""Driving one shop: orders and products in, stock out, messages to the boxes, periodic reconciliation.

One worker at a time drives a shop (the caller holds `Database.shop_lock`), and every step's state is in
the database, so the next pass may run in another worker. Shop calls are never made inside a database
transaction.

Stock out, two ways, chosen by what the API can do:
- Idempotent deltas (Shopify): box movements are claimed into a `ShopWrite` (coalesced to one delta per
  sku) and sent under the key `tillbridge-<shop>-<write id>`; a retry after a crash or a timeout reuses the
  key, so the shop applies it once. The shop applies its own orders itself, so nothing else is written.
- Read, then write (WooCommerce, PrestaShop): the skus touched by movements or orders are read and moved
  by the change the ledger wants (`cloud_bridge.shopside`), the connector reading again right before the
  write. The orders feed is read to its end after every write: an order that landed in the last request's
  window and was overwritten is detected by reading the sku again, and written back at once.
What the shop shows that the bridge cannot explain at a quiet moment (no order in flight) is an edit made
in the shop's admin and becomes a ledger movement of channel `shop`, never overwritten. Reconciliation
does the same for every sku, and corrects the shop where it still differs from the ledger; with
compare-and-swap where the shop has it.

Each step reads, plans, acts and records: the facts come from the stores (`state` for the shop's cursors,
counters and timers, `shopstore.ShopStore` for parked problems, claimed movements and writes, `ledger`,
`shopside`), what follows is decided by the pure planners (`cloud_bridge.core`, `shopplan`), the connector
does it, and the outcome goes back through the same stores. This module holds no SQL of its own.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from cloud_bridge import catalog, delivery, ledger, levels, orders, shopplan, shopside, state
from cloud_bridge.config import ShopConfig, Timing
from cloud_bridge.connectors import (
    ShopConnector,
    ShopOrder,
    StockChange,
    StockDelta,
    StockLevel,
    cursor_at,
)
from cloud_bridge.connectors.base import ItemResult, ShopProduct
from cloud_bridge.core import orders as orderplan
from cloud_bridge.core import passes, writes
from cloud_bridge.core.writes import Outcome
from cloud_bridge.db import Database
from cloud_bridge.errors import (
    BadCursor,
    PermanentShopError,
    ShopError,
    StaleStock,
    StockNotManaged,
    TransientShopError,
    UnknownSku,
)
from cloud_bridge.shopstore import ShopStore
from cloud_bridge.state import Counter, Cursor, Timer
from wire import build_topic

log = logging.getLogger(__name__)

MAX_POLLS: Final = 20  # orders_since calls per pass before others get a turn
OUTBOUND_BATCH: Final = 500
PUBLISH_WAIT_S: Final = 5.0
INIT_ORDER_DAYS: Final = 14  # open orders older than this at the first start are not reserved
QUIET_TRIES: Final = 3  # reads of a sku busy with orders before it waits for the next pass
IN_DOUBT_S: Final = 60.0  # a shop write whose answer never came may still land this long after
MAX_RETRIED_ORDERS: Final = 50  # parked orders read again per pass
MAX_LEAD_S: Final = 5.0  # a window closes at most this much early for the time a write takes


class Publisher(Protocol):
    def publish(
        self, topic: str, payload: bytes, qos: int, *, wait: float | None = None, expiry_s: int | None = None
    ) -> bool:
        """True once the broker has the message (PUBACK) within `wait` seconds; `expiry_s`: the broker
        drops it if it could not deliver it in that time (MQTT v5 message expiry)."""
        ...


class ShopDriver:
    """One pass at a time over one shop; `run_pass` is called by a worker holding the shop's lock."""

    def __init__(
        self,
        db: Database,
        shop: ShopConfig,
        connector: ShopConnector,
        publisher: Publisher,
        timing: Timing,
        secret: bytes,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.db, self.shop, self.connector, self.publisher = db, shop, connector, publisher
        self.timing, self.secret, self.clock = timing, secret, clock
        self.rng = rng or random.Random()
        self.id = shop.id
        self.store = ShopStore(shop.id)
        self.absolute = not connector.supports_deltas
        self.rules = shopplan.Rules(
            window_s=shop.write_window_s,
            low_stock=shop.low_stock,
            tick_s=0.0,  # the worker looks again at `next_look`; the time a write takes is added per pass
            batch_writes=connector.limits.batch_writes,
        )
        self._drained_at: float | None = None  # the pass (its `now`) that last read the orders feed
        self._write_s = 0.0  # how long the last push that wrote took (the window closes this much early)
        self.next_look: float | None = None  # when the write planner wants a pass again (None: on a change)
        self._steps: dict[passes.Step, Callable[[float], object]] = {
            passes.Step.ORDERS: self.poll_orders,
            passes.Step.PRODUCTS: self.poll_products,
            passes.Step.RECONCILE: self.reconcile,
        }

    # --- the pass ----------------------------------------------------------------------------------------

    def run_pass(self, *, force: bool = False) -> bool:
        """Does what is due; returns False when the shop is backing off after errors."""
        now = self.clock()
        if not force and now < state.load(self.id).due(Timer.BACKOFF):
            self.send_levels(now)  # the boxes hear of other tills' sales even while the shop is away
            self.publish_outbound()
            return False
        try:
            self._pass(now)
        except TransientShopError as exc:
            self._back_off(exc, now)
            return False
        except PermanentShopError as exc:
            self._park_shop(exc, now)
            return False
        except BadCursor as exc:
            log.error("shop %s: %s; polling restarts from now", self.id, exc)
            self._set_cursor(Cursor.ORDERS, cursor_at(datetime.now(UTC)))
            return False
        finally:
            self.send_levels(now)
            self.publish_outbound()  # orders already queued go out even when the shop failed afterwards
        self._set_count(Counter.FAILURES, 0)
        return True

    def _pass(self, now: float) -> None:
        self.publish_outbound()
        if not state.initialised(self.id):
            self.initialise(now)
        self.push(now)  # first: a sale at a till should not wait behind a slow orders feed
        self.complete_orders(now)
        self.send_notices(now)
        # the timers as they are now: a webhook may have made a feed due meanwhile
        for step in passes.due_steps(state.load(self.id), now):
            if self._steps[step](now) is not False:  # a postponed reconciliation stays due
                self._set_timer(passes.TIMERS[step], passes.next_due(step, now, self.timing))

    # --- first start ---------------------------------------------------------------------------------------

    def initialise(self, now: float) -> None:
        """Learns the catalog, the open orders and every sku's current number, once per shop."""
        skus = self.poll_products(now, queue=False, baselines=False)
        if state.cursor(self.id, Cursor.ORDERS) is None:
            since = datetime.now(UTC) - timedelta(days=INIT_ORDER_DAYS)
            self._set_cursor(Cursor.ORDERS, cursor_at(since))
        skus |= self.poll_orders(now)
        self.ensure_baselines(skus, now)
        with self.db.write():
            catalog.queue_snapshot(self.id, self.shop.boxes, now)  # boxes that asked before now
            state.mark_initialised(self.id, now)
        log.info("shop %s: initialised with %d skus", self.id, len(skus))

    # --- shop → store --------------------------------------------------------------------------------------

    def poll_orders(self, now: float) -> set[str]:
        """Drains the orders feed into the ledger and the boxes' outbox, reads parked orders again, and
        gives new skus a baseline; returns the skus touched.
        """
        fresh = set() if self._drained_at == now else self.drain_orders(now)  # read already this pass
        touched = fresh | self.retry_parked_orders(now)
        self.ensure_baselines(touched - ledger.known_skus(self.id, touched), now)
        return touched

    def drain_orders(self, now: float) -> set[str]:
        """Reads the orders feed to its end into the ledger and the outbox; returns the skus touched."""
        touched: set[str] = set()
        self._drained_at = now
        cursor = state.cursor(self.id, Cursor.ORDERS)
        for _ in range(MAX_POLLS):
            found, cursor = self.connector.orders_since(cursor)
            with self.db.write():
                skus = self._apply_orders(found, now)
                state.set_cursor(self.id, Cursor.ORDERS, cursor)
                if not found:  # read to its end: no order unknown now is in a number seen before this pass
                    shopside.catch_up(self.id, now)
            touched |= skus
            if not found:
                break
            self.publish_outbound()  # the tickets of these orders go out now, not at the end of a long pass
        return touched

    def _apply_orders(self, found: Sequence[ShopOrder], now: float) -> set[str]:
        """Orders into the ledger and the outbox, inside the caller's transaction. An order the connector
        could not fully read is parked with its reason and the others go on; its units still count when
        its stock facts were readable (the shop took them), and it leaves the parked list once it reads.
        """
        plan = orderplan.plan_orders(found, self.store.parked_orders() if found else set())
        for key in plan.resolve:
            self.store.resolve(key)
        for parking in plan.park:
            log.warning("shop %s: order %s parked: %s", self.id, parking.order_id, parking.problem)
            self.store.park(parking.key, "order", parking.problem, now, payload=parking.payload)
        skus = orders.apply_orders(self.id, plan.apply, self.shop.boxes, self.secret, now)
        if self.absolute and skus:
            self.store.mark_dirty(skus)
        return skus

    def retry_parked_orders(self, now: float) -> set[str]:
        """Reads parked orders again once `parked_retry_s` has passed (the feed shows an order again only
        when it changes); returns the skus touched.
        """
        due = self.store.parked_orders_due(now - self.timing.parked_retry_s, MAX_RETRIED_ORDERS)
        touched: set[str] = set()
        for key in due:
            order_id = orderplan.order_id_of(key)
            try:
                order = self.connector.get_order(order_id)
            except PermanentShopError as exc:
                with self.db.write():
                    self.store.park(key, "order", f"order {order_id}: {exc}", now)
                continue
            with self.db.write():
                touched |= self._apply_orders([order], now)
        return touched

    def poll_products(self, now: float, *, queue: bool = True, baselines: bool = True) -> set[str]:
        """Product and price changes become catalog deltas for the shop's boxes; returns the skus seen."""
        seen: set[str] = set()
        cursor = state.cursor(self.id, Cursor.PRODUCTS)
        for _ in range(MAX_POLLS):
            found, cursor = self.connector.products_since(cursor)
            with self.db.write():
                facts = catalog.accept(self.id, [_fact(p) for p in found if p.sku], now)
                catalog.apply_products(self.id, facts, self.shop.boxes if queue else (), now)
                state.set_cursor(self.id, Cursor.PRODUCTS, cursor)
            seen.update(fact.sku for fact in facts)
            if not found:
                break
        if baselines:  # at the first start the open orders must be in the ledger before any baseline
            self.ensure_baselines(seen - ledger.known_skus(self.id, seen), now)
        return seen

    def complete_orders(self, now: float) -> None:
        """Orders handed over at a till are completed in the shop (click & collect closed)."""
        for row in orders.wanted_completions(self.id):
            try:
                self.connector.complete_order(row.order_id)
                done = "done"
            except PermanentShopError as exc:
                self.store.park(f"completion/{row.order_id}", "order", f"cannot complete: {exc}", now)
                done = "parked"
            with self.db.write():
                self.store.set_completion(row.order_id, done)

    def send_notices(self, now: float) -> None:
        """What happened to orders on the floor, told to the shop in the order it happened (docs/orders.md):
        a transient failure stops here and the rest wait behind it; a permanent one is parked, the rest go."""
        for notice in orders.pending_notices(self.id):
            try:
                orders.send_notice(self.connector, notice, self.shop.language)
                told = "done"
            except PermanentShopError as exc:
                self.store.park(
                    f"notice/{notice.order_id}/{notice.stage}"[:300],
                    "order",
                    f"shop not told: {exc}",
                    now,
                )
                told = "parked"
            except ShopError as exc:
                log.info("shop %s: order %s %s waits: %s", self.id, notice.order_id, notice.stage, exc)
                return
            with self.db.write():
                self.store.set_notice(notice.id, told)
                if told == "done" and notice.stage in ("collected", "delivered"):
                    self.store.set_completion(notice.order_id, "done")

    def send_levels(self, now: float) -> int:
        """Queues the levels of every sku any channel changed for the shop's boxes (`levels.py`)."""
        return levels.push_due(self.db, self.id, self.shop.boxes, now)

    def publish_outbound(self) -> int:
        """Publishes queued orders and catalog messages in order; stops at the first the broker refuses."""
        sent: list[int] = []
        for queued in self.store.unpublished(OUTBOUND_BATCH):
            topic = build_topic(self.id, queued.box, queued.kind)
            if not self.publisher.publish(topic, queued.payload, 1, wait=PUBLISH_WAIT_S):
                break
            sent.append(queued.id)
        if sent:
            with self.db.write():
                self.store.mark_published(sent, self.clock())
        return len(sent) + self.deliver_orders()

    def deliver_orders(self) -> int:
        """Plans every box's view of the open orders, then sends what a box has not acked (`delivery`)."""
        now = self.clock()
        with self.db.write():
            delivery.plan(self.shop, self.secret, now)
            rows = delivery.due(self.shop, now, self.timing.orders_resend_s)
        sent = delivery.publish(self.shop, rows, self.publisher)
        if sent:  # timed after the broker's PUBACK, so its expiry clock started before this one
            with self.db.write():
                delivery.mark_sent(self.id, sent, self.clock())
        return len(sent)

    # --- store → shop --------------------------------------------------------------------------------------

    def ensure_baselines(self, skus: Iterable[str], now: float) -> None:
        """Gives skus the ledger has no baseline for one from the shop's current number, read at a quiet
        moment, so that each order is counted once: in the shop's number or as a reservation, never both.
        """
        unknown = set(skus) - self._parked_skus(now)
        wanted = sorted(unknown - ledger.known_skus(self.id, unknown))
        if not wanted:
            return
        found = self.quiet_read(wanted, now)
        with self.db.write():
            effect = shopside.order_effect(self.id, found)
            for sku, level in found.items():
                if level is None or level.quantity is None:
                    self._park_sku(sku, _missing(self.id, sku, level), now)
                else:
                    ledger.set_baseline(self.id, sku, level.quantity, now)
                    shopside.record(self.id, sku, level.quantity, effect[sku], now, caught_up=effect[sku])
                    self._unpark_sku(sku)

    def quiet_read(self, skus: Sequence[str], now: float) -> dict[str, StockLevel | None]:
        """The shop's numbers, each read at a quiet moment: the orders feed, read to its end after the read,
        brought no order for that sku. A sku an order touched is read again (a few times at most, then left
        for the next pass and absent here); a sku the shop does not know maps to None.
        """
        found: dict[str, StockLevel | None] = {}
        pending = list(skus)
        for _ in range(QUIET_TRIES):
            levels_now = self.connector.get_stock(pending)
            touched = self.drain_orders(now)
            found.update({sku: levels_now.get(sku) for sku in pending if sku not in touched})
            pending = [sku for sku in pending if sku in touched]
            if not pending:
                break
        if pending:
            log.info("shop %s: %d skus busy with orders; read again next pass", self.id, len(pending))
        return found

    def push(self, now: float) -> None:
        """Writes the stock changes the coalescing window lets go now (`shopplan`): claims their box
        movements, then writes what the shop must change. Delta writes due for a retry go in any case.
        """
        decision = self.plan_writes(now)
        started = time.monotonic()
        if decision.write:
            self.claim(now, decision.write)
        if self.absolute:
            self._push_absolute(now, decision.write)
        else:
            self._push_deltas(now)
        if decision.write:
            self._write_s = min(MAX_LEAD_S, time.monotonic() - started)

    def plan_writes(self, now: float) -> shopplan.Decision:
        """Which changed skus to write now: the window's decision, its opening time kept in the shop's
        state (so the next pass, in whichever worker, goes on with the same window).
        """
        waiting = self.store.unclaimed_skus()
        if self.absolute:
            waiting |= set(self.store.dirty_skus())
        waiting -= self._parked_skus(now)
        stored = state.get_time(self.id, Timer.WRITES_OPEN)
        opened = (
            stored
            if stored is not None or not waiting
            else shopplan.opens_at(now, self.store.oldest_unclaimed_at(), self.rules.window_s)
        )
        # the window closes early by the time the last write took, so a change is in the shop by the
        # window's end, not a write's length after it
        rules = replace(self.rules, tick_s=self.rules.tick_s + self._write_s)
        decision = shopplan.decide([shopplan.Pending(s, None) for s in waiting], opened, rules, now)
        if decision.reason is shopplan.Reason.WAITING or not rules.batch_writes:
            decision = shopplan.decide(self._pending(waiting), opened, rules, now)  # with the facts
        if decision.opened_at != stored:
            self._set_timer(Timer.WRITES_OPEN, decision.opened_at)
        self.next_look = decision.next_at
        return decision

    def _pending(self, skus: set[str]) -> list[shopplan.Pending]:
        """What the planner weighs per sku: its available level (the low-stock rule) and, where the API
        writes one sku per call, when it was last written (at most one write per sku per window).
        """
        found = ledger.levels(self.id, skus)
        written = {} if self.rules.batch_writes else self.store.written_at(skus)
        buffer = self.shop.safety_buffer
        return [
            shopplan.Pending(
                sku, found[sku].target(buffer, clamp=False) if sku in found else None, written.get(sku)
            )
            for sku in skus
        ]

    def claim(self, now: float, skus: Iterable[str] | None = None) -> list[int]:
        """Moves unclaimed box movements (of `skus`, default all, with a baseline) into new ShopWrites;
        returns their ids.

        A delta shop's write holds what one request carries (`BatchLimits.writes`), so it is sent as one
        request whose outcome is all or nothing: applied, refused, or in doubt as a whole.
        """
        unclaimed = self.store.unclaimed_skus()
        if skus is not None:
            unclaimed &= set(skus)
        self.ensure_baselines(unclaimed - ledger.known_skus(self.id, unclaimed), now)
        size = writes.write_size(self.absolute, self.connector.limits.writes)
        with self.db.write():
            known = ledger.known_skus(self.id, unclaimed)
            return [
                self._claim(list(chunk), now)
                for chunk in writes.claim_batches(known, self._parked_skus(now), size)
            ]

    def _claim(self, skus: list[str], now: float) -> int:
        claimed = self.store.unclaimed_moves(skus)
        totals = writes.coalesce((sku, delta) for _, sku, delta in claimed)
        # absolute shops only need the skus marked: their write is done at once
        moves = [move_id for move_id, _, _ in claimed]
        write_id = self.store.add_write(totals, now, done=self.absolute, moves=moves)
        if self.absolute:
            self.store.mark_dirty(totals)
        return write_id

    def _push_deltas(self, now: float) -> None:
        for write in self.store.pending_writes(now):
            deltas = writes.to_send(write.deltas)
            key = writes.idempotency_key(self.id, write.id)
            with self.db.write():
                self.store.count_attempt(write.id)
            results = (
                self.connector.adjust_stock([StockDelta(s, d) for s, d in deltas.items()], key)
                if deltas
                else []
            )
            doubt = writes.in_doubt(results)
            if doubt is not None:  # stays pending, to go again under the same key (applied at most once)
                raise doubt
            with self.db.write():
                self._settle_deltas(write.id, deltas, results, now)

    def _settle_deltas(
        self, write_id: int, deltas: Mapping[str, int], results: Sequence[ItemResult], now: float
    ) -> None:
        """Marks the write done; items refused for sure move, with their movements, into a new write."""
        settled = writes.settle_deltas(deltas, results)
        for result in results:
            if result.sku in settled.refused:
                self._park_sku(result.sku, settled.refused[result.sku], now)
            elif result.sku in settled.applied:
                self._unpark_sku(result.sku)
                shopside.shift(self.id, {result.sku: deltas[result.sku]})
        later = now + self.timing.parked_retry_s
        self.store.finish_write(write_id, [(settled.retry_now, now), (settled.retry_later, later)], now)

    def _push_absolute(self, now: float, wanted: Iterable[str]) -> None:
        """Writes the `wanted` skus an order or a movement marked, as many per read as one request holds."""
        parked = self._parked_skus(now)
        for batch in writes.absolute_batches(
            self.store.dirty_skus(), wanted, parked, self.connector.limits.reads
        ):
            again: set[str] = set(batch)
            for _ in range(2):  # a second round writes again what an order landing mid-write made wrong
                again = self.write_targets(sorted(again), now) if again else set()

    def write_targets(self, skus: Sequence[str], now: float, *, settled: bool = False) -> set[str]:
        """Reads the shop and moves each sku by the change the ledger wants (`cloud_bridge.shopside`), then
        reads the orders feed to its end: what the shop showed that the bridge could not explain, at a quiet
        moment, is an edit made in the shop and becomes a ledger movement. Returns the skus to write again
        now (an order landed between the shop's last read and our write, and the write overwrote it).
        """
        current = self.connector.get_stock(skus)
        plans: dict[str, shopside.Plan] = {}
        with self.db.write():
            effect = shopside.order_effect(self.id, skus)
            known = shopside.expected(self.id, skus, effect)
            ledger_levels = ledger.levels(self.id, skus, settled=settled)
            for sku in skus:
                level, target = current.get(sku), ledger_levels.get(sku)
                if level is None or level.quantity is None or target is None:
                    self._park_sku(sku, _missing(self.id, sku, level), now)
                    continue
                goal = target.target(self.shop.safety_buffer, clamp=self.absolute)
                plans[sku] = shopside.plan(
                    sku, level.quantity, known.get(sku), effect[sku], goal, clamp=self.absolute, now=now
                )
        # `expected`: WooCommerce and PrestaShop read again right before writing, Shopify compares and swaps
        changes = [StockChange(p.sku, p.write, p.read) for p in plans.values() if p.writes]
        if changes:  # written ahead: a worker that dies before settling leaves these writes in doubt
            with self.db.write():
                for p in plans.values():
                    if p.writes:
                        after = p.expected + (p.write - p.read)
                        shopside.record(self.id, p.sku, after, p.orders, now, now + IN_DOUBT_S)
        results = {r.sku: r for r in self.connector.set_stock(changes)} if changes else {}
        try:
            touched = self.drain_orders(now) & set(plans)
            reread = self.connector.get_stock(sorted(touched)) if touched else {}
        except ShopError:
            with self.db.write():  # what was written is recorded; every sku is looked at again
                self._settle_targets(plans, results, set(plans), {}, now, drained=False)
            raise
        with self.db.write():
            return self._settle_targets(plans, results, touched, reread, now, drained=True)

    def _settle_targets(
        self,
        plans: Mapping[str, shopside.Plan],
        results: Mapping[str, ItemResult],
        touched: set[str],
        reread: Mapping[str, StockLevel],
        now: float,
        *,
        drained: bool,
    ) -> set[str]:
        """`drained`: the orders feed was read to its end after the write, so a number seen before that
        read is caught up (one read again after it is not)."""
        effect = shopside.order_effect(self.id, plans)
        stock_unknown = self.store.stock_unknown()
        again: set[str] = set()
        for sku, p in plans.items():
            caught_up = effect[sku] if drained and sku not in reread else None
            outcome = self._outcome(p, results.get(sku), now)
            if outcome is Outcome.REFUSED:  # so not applied: undo the write-ahead doubt
                shopside.record(self.id, sku, p.expected, p.orders, now, p.doubt_until, caught_up)
                continue
            level = reread.get(sku)
            out = shopside.settle(
                p,
                outcome,
                touched=sku in touched,
                reread=None if level is None else level.quantity,
                orders_now=effect[sku],
                now=now,
                stock_unknown=stock_unknown,
                doubt_s=IN_DOUBT_S,
            )
            if out.edit:
                log.info("shop %s: %s was changed by %+d in the shop: kept", self.id, sku, out.edit)
                shopside.record_edit(self.id, sku, out.edit, now)
            if out.lost or (outcome is Outcome.FAILED and isinstance(results[sku].error, StaleStock)):
                log.info("shop %s: %s changed in the shop during our write; writing again", self.id, sku)
                again.add(sku)
            shopside.record(self.id, sku, out.level, out.orders, now, out.doubt_until, caught_up)
            # written_at: when the answer came, so one-sku-per-call shops space a sku's writes from it
            self.store.record_written(sku, p.write, self.clock(), again=out.again)
        return again

    def _outcome(self, p: shopside.Plan, result: ItemResult | None, now: float) -> Outcome:
        """The item's outcome (`core.writes.outcome`); a sku the shop took leaves the parked list, one it
        refused for good joins it."""
        found = writes.outcome(result)
        if found is Outcome.OK and result is not None:
            self._unpark_sku(p.sku)
        elif found is Outcome.REFUSED and result is not None:
            self._park_sku(p.sku, str(result.error), now)
        return found

    # --- reconciliation ------------------------------------------------------------------------------------

    def reconcile(self, now: float) -> bool:
        """Compares every sku with the ledger and corrects the shop; False if postponed.

        A delta shop is compared with the settled ledger (deltas not yet written left out), and not while a
        delta write is in doubt (sent, outcome unknown): correcting then would count it twice once the retry
        under the same idempotency key reports success.
        """
        in_doubt = not self.absolute and self.store.delta_in_doubt()
        stocked = () if in_doubt else self.store.stocked_skus()
        skus = writes.reconcile_skus(
            stocked, self._parked_skus(now), absolute=self.absolute, delta_in_doubt=in_doubt
        )
        if skus is None:
            return False
        if not skus:
            return True
        self.poll_orders(now)
        self.write_targets(list(skus), now, settled=not self.absolute)
        return True

    # --- errors --------------------------------------------------------------------------------------------

    def _back_off(self, exc: TransientShopError, now: float) -> None:
        failures = state.count(self.id, Counter.FAILURES)
        backoff = passes.back_off(failures, self.timing, exc.retry_after, self.rng.uniform)
        log.warning("shop %s: %s; next try in %.1f s", self.id, exc, backoff.wait)
        self._set_count(Counter.FAILURES, backoff.failures)
        self._set_timer(Timer.BACKOFF, now + backoff.wait)

    def _park_shop(self, exc: PermanentShopError, now: float) -> None:
        log.error("shop %s: %s; parked, next try in %.0f s", self.id, exc, self.timing.parked_retry_s)
        with self.db.write():
            self.store.park("shop", "shop", str(exc), now)
        self._set_timer(Timer.BACKOFF, now + self.timing.parked_retry_s)

    def _park_sku(self, sku: str, problem: str, now: float) -> None:
        log.warning("shop %s: sku %s parked: %s", self.id, sku, problem)
        self.store.park_sku(sku, problem, now)

    def _unpark_sku(self, sku: str) -> None:
        """A sku that was parked and now works leaves the parked list."""
        self.store.unpark_sku(sku)

    def _parked_skus(self, now: float) -> set[str]:
        """Skus with a permanent error, left alone until `parked_retry_s` has passed since the last try."""
        return self.store.parked_skus(now - self.timing.parked_retry_s)

    def _set_timer(self, timer: Timer, at: float | None) -> None:
        with self.db.write():
            state.set_time(self.id, timer, at)

    def _set_cursor(self, which: Cursor, value: str) -> None:
        with self.db.write():
            state.set_cursor(self.id, which, value)

    def _set_count(self, counter: Counter, value: int) -> None:
        with self.db.write():
            state.set_count(self.id, counter, value)


# --- facts ---------------------------------------------------------------------------------------------


def _missing(shop: str, sku: str, level: StockLevel | None) -> str:
    if level is None:
        return str(UnknownSku(shop, sku))
    return str(StockNotManaged(shop, f"sku {sku!r} has no stock count in the shop"))


def _fact(product: ShopProduct) -> catalog.CatalogFact:
    return catalog.CatalogFact(
        product.sku,
        product.name,
        product.price_cents,
        product.barcodes,
        product.product_id,
        product.problem,
        product.unit,
    )


__all__ = ["Publisher", "ShopDriver", "ShopError"]
