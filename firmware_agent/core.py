"""The core loop: the single owner of the box's state.

Threads (scanners, scale, button, MQTT link) only `post()` events. The loop takes whatever is queued,
applies it in ONE transaction (group commit: a burst of scans costs one fsync, not one each), and only after
the commit tells the listeners — the beep, the LED, the HID forward, the log line. So nothing is
acknowledged that a power cut could still take back. In a burst each event runs in its own savepoint: one bad
event rolls back alone and is reported, the rest of the batch commits.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from devices.barcodes import (
    Barcode,
    BarcodeConfig,
    Cancel,
    Command,
    OrderCopy,
    OrderHandOver,
    OrderStep,
    PrintLabels,
    Quantity,
    Return,
    SetMode,
    interpret,
)
from devices.readings import DeviceStatus, ScanRead
from firmware_agent import domain
from firmware_agent.domain import BoxState, Feedback, Mode, Outcome
from firmware_agent.errors import AgentError, StoreError
from firmware_agent.events import Call, ModeRequest, PrintShelfLabels, StockAdjust, Stop
from firmware_agent.facts import apply_fact
from firmware_agent.store import JournalRecord, Store, orders
from firmware_agent.store.orders import check_pickup

log = logging.getLogger(__name__)

MAX_BATCH = 256  # events per transaction; bounds the time one commit keeps acknowledgements waiting


@dataclass(frozen=True)
class Applied:
    """What one event did, handed to listeners after its transaction committed."""

    event: object
    outcome: Outcome
    records: tuple[JournalRecord, ...] = ()
    barcode: Barcode | None = None
    received_at: float = 0.0  # monotonic clock when the event was posted
    committed_at: float = 0.0
    error: str | None = None
    result: Any = None  # what a `Call` returned; handed back only once it has committed

    @property
    def acknowledged(self) -> bool:
        return self.error is None and self.outcome.feedback is not Feedback.ERROR


Listener = Callable[[Applied], None]
Handler = Callable[[Any], str]
"""Handles an event type the core does not know itself (a button press, an inbound order) on the loop,
inside the transaction; returns the line to report."""


@dataclass
class _Posted:
    event: object
    at: float = field(default_factory=time.monotonic)


class CoreLoop:
    def __init__(
        self,
        store: Store,
        barcodes: BarcodeConfig,
        listeners: Iterable[Listener] = (),
        tick_s: float = 1.0,
        on_tick: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.barcodes = barcodes
        self.listeners = list(listeners)
        self.state = BoxState(mode=Mode(store.setting("mode") or Mode.SALE))
        self.devices: dict[str, DeviceStatus] = {}
        self.counters: dict[str, int] = {}
        """Counters services keep for telemetry (receipts read, unreadable, …); written on the loop."""
        self._handlers: dict[type, Handler] = {}
        self._closed = False
        self.take_weight: Callable[[], int | None] = lambda: None  # the scale service replaces this
        self._queue: queue.SimpleQueue[_Posted] = queue.SimpleQueue()
        self._tick_s = tick_s
        self._on_tick = on_tick

    def post(self, event: object) -> None:
        """Thread-safe and safe from a signal handler: the only way into the loop."""
        self._queue.put(_Posted(event))

    def on(self, event_type: type, handler: Handler) -> None:
        """Let a service handle its own event type on the loop (registered before the loop runs)."""
        self._handlers[event_type] = handler

    def handler(self, event_type: type) -> Handler | None:
        """The handler `event_type` has now: a service taking over part of another's events (the bump
        button's short press) hands the rest on to it."""
        return self._handlers.get(event_type)

    def handles(self, event_type: type) -> bool:
        """Whether a service answers `event_type` (a print request without a printer is only queued)."""
        return event_type in self._handlers

    def call(self, fn: Callable[[Store], Any], timeout: float = 10.0) -> Any:
        """Run `fn(store)` on the loop (from another thread) and wait for its result."""
        if self._closed:
            raise AgentError("the box is stopping")
        event = Call(fn)
        self.post(event)
        return event.result.result(timeout)

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Process events until a `Stop` arrives; with `until`, until it returns True (Stops ignored).

        The agent uses `until` while its services shut down: they may still need the loop to finish.
        """
        next_tick = time.monotonic()
        while until is None or not until():
            now = time.monotonic()
            if now >= next_tick:
                self._safe(self._on_tick)
                next_tick = now + self._tick_s
            timeout = max(0.0, next_tick - now) if until is None else min(0.05, max(0.0, next_tick - now))
            batch = self._take_batch(timeout=timeout)
            if batch and not self.run_batch(batch) and until is None:
                return

    def close(self) -> None:
        """After the last `run`: calls still waiting, and any that come later, fail at once."""
        self._closed = True
        for posted in self._take_batch(timeout=0):
            if isinstance(posted.event, Call):
                posted.event.result.set_exception(AgentError("the box is stopping"))

    def run_batch(self, batch: list[_Posted]) -> bool:
        """Apply a batch in one transaction, then tell the listeners. False once a Stop was seen.

        Events after a Stop in the same batch are in hand already: they still commit.
        """
        events = [posted for posted in batch if not isinstance(posted.event, Stop)]
        applied = self._apply_alone(events[0]) if len(events) == 1 else self._apply_together(events)
        committed = time.monotonic()
        for item in applied:
            if isinstance(item.event, Call) and not item.event.result.done():
                item.event.result.set_result(item.result)
            self._notify(replace(item, committed_at=committed))
        return len(events) == len(batch)

    def _apply_alone(self, posted: _Posted) -> list[Applied]:
        """A lone event (one cashier, one scan): the batch transaction isolates it, no savepoint needed."""
        try:
            with self.store.transaction():
                return [self._dispatch(posted.event, posted.at)]
        except Exception as exc:
            return [self._error(posted.event, exc)]

    def _apply_together(self, events: list[_Posted]) -> list[Applied]:
        """A burst: one commit for all, a savepoint each, so one bad event rolls back alone."""
        applied: list[Applied] = []
        try:
            with self.store.transaction():
                for posted in events:
                    applied.append(self._apply_one(posted))
        except Exception as exc:  # the commit itself failed: nothing in this batch happened
            log.error("transaction failed, %d events not recorded: %s", len(applied), exc)
            applied = [self._failed(a, str(exc)) for a in applied]
        return applied

    # ---- one event -----------------------------------------------------------------------------------

    def _apply_one(self, posted: _Posted) -> Applied:
        try:
            with self.store.transaction():
                return self._dispatch(posted.event, posted.at)
        except Exception as exc:  # one bad event must not take the batch (or the box) down
            return self._error(posted.event, exc)

    def _error(self, event: object, exc: Exception) -> Applied:
        # A store that cannot record (a full disk, the journal's bound) is a state, not a bug: one line per
        # event, no traceback; anything else is a bug and keeps its traceback.
        trace = None if isinstance(exc, StoreError) else exc
        log.error("event %r failed and was rolled back: %s", event, exc, exc_info=trace)
        if isinstance(event, Call):
            event.result.set_exception(exc)
        return Applied(event, Outcome(self.state, feedback=Feedback.ERROR, message=str(exc)), error=str(exc))

    def _dispatch(self, event: object, at: float) -> Applied:
        match event:
            case ScanRead():
                barcode = interpret(event.data, self.barcodes)
                return self._carry_out(event, self._decide_scan(barcode), at, barcode)
            case ModeRequest():
                return self._carry_out(event, domain.change_mode(self.state, event.mode, event.source), at)
            case StockAdjust():
                product = self.store.product(event.sku)
                if product is None:
                    raise StoreError(f"cannot adjust {event.sku!r}: not in the catalog")
                return self._carry_out(
                    event, domain.adjust(self.state, product, event.delta, event.reason), at
                )
            case DeviceStatus():
                self.devices[event.device] = event
                return Applied(event, Outcome(self.state, feedback=Feedback.INFO), received_at=at)
            case Call():
                result = event.fn(self.store)
                return Applied(
                    event, Outcome(self.state, feedback=Feedback.INFO), received_at=at, result=result
                )
        handler = self._handlers.get(type(event))
        if handler is None:
            raise TypeError(f"the core loop does not know events of type {type(event).__name__}")
        message = handler(event)
        return Applied(event, Outcome(self.state, feedback=Feedback.INFO, message=message), received_at=at)

    def _decide_scan(self, barcode: Barcode) -> Outcome:
        state = self.state
        if barcode.command is not None:
            if isinstance(barcode.command, PrintLabels):
                return self._print_labels(state)
            if isinstance(barcode.command, OrderStep | OrderCopy | OrderHandOver):
                return self._order_code(state, barcode.command)
            return _command_outcome(state, barcode.command)
        if barcode.pickup is not None:
            order_id, problem = check_pickup(self.store, barcode.pickup.order_id, barcode.pickup.code)
            number = orders.number_of(self.store, order_id) or order_id
            return domain.collect_order(state, order_id, barcode.pickup.code, problem, number)
        if not barcode.valid:
            return domain.unknown(state, barcode.raw, barcode.error or "unreadable barcode")
        product = self.store.find_product(barcode.lookup_keys())
        if product is None and barcode.item_code is not None:  # a scale label: name what the scale printed
            return domain.unknown(state, barcode.raw, f"scale item {barcode.item_code} is not in the catalog")
        if product is None:
            return domain.unknown(state, barcode.raw, "not in the catalog")
        weight_g = barcode.weight_g
        price_label = barcode.price_cents is not None  # the label's price says the weight
        if weight_g is None and product.unit == "kg" and not price_label and state.mode is not Mode.LOOKUP:
            weight_g = self.take_weight()
        return domain.product_scanned(
            state, product, barcode.raw, weight_g=weight_g, price_cents=barcode.price_cents
        )

    def _order_code(self, state: BoxState, command: OrderStep | OrderCopy | OrderHandOver) -> Outcome:
        """An order ticket's code: the order to its next stage, or handed over (the counter ticket's QR;
        journaled with the scan, in this transaction), or its tickets again as copies. A refusal says why,
        with the error beep."""
        try:
            if isinstance(command, OrderCopy):
                jobs = orders.copy_tickets(self.store, command.order_id)
                return Outcome(
                    state, feedback=Feedback.INFO, message=f"order {command.order_id}: {jobs} ticket(s) again"
                )
            if isinstance(command, OrderHandOver):
                stage = orders.hand_over(self.store, command.order_id, source="scan")
            else:
                stage = orders.step(self.store, command.order_id, source="scan")
        except orders.StageRefused as exc:
            return Outcome(state, feedback=Feedback.ERROR, message=str(exc))
        return Outcome(state, feedback=Feedback.OK, message=f"order {command.order_id} {stage}")

    def _print_labels(self, state: BoxState) -> Outcome:
        """`TBLABELS`: the print service prints the shelf label list (posted: it runs after this scan)."""
        if PrintShelfLabels not in self._handlers:
            return Outcome(state, feedback=Feedback.WARN, message="shelf labels: no printer configured")
        self.post(PrintShelfLabels())
        return Outcome(state, feedback=Feedback.INFO, message="shelf labels: printing the list")

    def _carry_out(
        self, event: object, outcome: Outcome, at: float, barcode: Barcode | None = None
    ) -> Applied:
        records = tuple(apply_fact(self.store, fact) for fact in outcome.facts)
        self.state = outcome.state
        return Applied(event, outcome, records, barcode, received_at=at)

    # ---- plumbing ------------------------------------------------------------------------------------

    def _take_batch(self, timeout: float) -> list[_Posted]:
        try:
            batch = [self._queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _failed(self, item: Applied, error: str) -> Applied:
        if isinstance(item.event, Call):
            item.event.result.set_exception(StoreError(error))
        return Applied(item.event, Outcome(self.state, feedback=Feedback.ERROR, message=error), error=error)

    def _notify(self, applied: Applied) -> None:
        for listener in self.listeners:
            self._safe(listener, applied)

    @staticmethod
    def _safe(fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("listener %r failed", fn)


def _command_outcome(state: BoxState, command: Command) -> Outcome:
    """Command barcodes from the control sheet: modes and prefixes."""
    match command:
        case SetMode():
            return domain.change_mode(state, command.mode, "barcode")
        case Quantity():
            return domain.set_quantity(state, command.count)
        case Return():
            return domain.mark_return(state)
        case Cancel():
            return domain.cancel_prefixes(state)
        case PrintLabels() | OrderStep() | OrderCopy() | OrderHandOver():  # the loop handled these already
            return Outcome(state, feedback=Feedback.INFO)
