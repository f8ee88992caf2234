"""What a scan means, as plain functions of (state, input) -> outcome. No I/O, no store, no clock.

The core loop looks the product up, calls these functions, then carries the decided facts out in one
transaction. Keeping the decision pure makes every rule here a one-line test.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from devices.barcodes import (
    Mode as Mode,
)  # sale: stock - qty; receive: + qty; count: := counted; lookup: none
from firmware_agent.store.records import ProductRecord
from firmware_agent.tickets.measure import stock_text
from firmware_agent.tickets.money import EUR
from wire import EntryKind

MEASURES = {"kg": ("weight", "weight"), "l": ("the litre", "quantity"), "m": ("the metre", "length")}


class Feedback(enum.Enum):
    """How the box acknowledges a scan: a beep and an LED blink per kind."""

    OK = "ok"
    INFO = "info"  # lookup, mode change, quantity prefix
    WARN = "warn"  # recorded, but look at it: unknown barcode, negative stock, no weight
    ERROR = "error"  # not recorded


@dataclass(frozen=True)
class BoxState:
    mode: Mode = Mode.SALE
    quantity: int = 1  # a pending quantity prefix multiplies the next scan
    returning: bool = False  # a pending "return" prefix turns the next sale into a return


# ---- facts: what the core loop writes --------------------------------------------------------------


@dataclass(frozen=True)
class StockMove:
    kind: EntryKind  # one of wire's STOCK_KINDS but count (a count is `Counted`)
    sku: str
    delta: int  # in the product's base unit: units, or grams for weighed products
    barcode: str
    weight_g: int | None = None
    price_cents: int | None = None
    reason: str | None = None  # why stock was adjusted by hand (breakage, theft, a correction)


@dataclass(frozen=True)
class Counted:
    sku: str
    qty: int
    barcode: str


@dataclass(frozen=True)
class ModeChanged:
    mode: Mode
    previous: Mode
    source: str  # "barcode", "button", "remote"


@dataclass(frozen=True)
class UnknownBarcode:
    raw: str
    mode: Mode
    reason: str


@dataclass(frozen=True)
class OrderCollected:
    order_id: str
    pickup_code: str
    number: str = ""  # its floor number (store/order_numbers.py), what staff see: in the journal too


Fact = StockMove | Counted | ModeChanged | UnknownBarcode | OrderCollected


@dataclass(frozen=True)
class Outcome:
    state: BoxState
    facts: tuple[Fact, ...] = ()
    feedback: Feedback = Feedback.OK
    message: str = ""


# ---- decisions -------------------------------------------------------------------------------------


def change_mode(state: BoxState, mode: Mode, source: str) -> Outcome:
    """Switch modes; pending prefixes are dropped so they never leak into the new mode."""
    cleared = BoxState(mode=mode)
    if mode == state.mode:
        return Outcome(cleared, feedback=Feedback.INFO, message=f"mode {mode} (unchanged)")
    return Outcome(cleared, (ModeChanged(mode, state.mode, source),), Feedback.INFO, f"mode {mode}")


def set_quantity(state: BoxState, quantity: int) -> Outcome:
    return Outcome(
        replace(state, quantity=quantity), feedback=Feedback.INFO, message=f"next scan ×{quantity}"
    )


def cancel_prefixes(state: BoxState) -> Outcome:
    return Outcome(BoxState(state.mode), feedback=Feedback.INFO, message="cancelled")


def mark_return(state: BoxState) -> Outcome:
    return Outcome(replace(state, returning=True), feedback=Feedback.INFO, message="next scan is a return")


def collect_order(
    state: BoxState, order_id: str, pickup_code: str, problem: str | None, number: str = ""
) -> Outcome:
    """A customer's pickup code was scanned at the till: the online order is handed over, once, if the
    code verifies (`problem` is None); anything else is refused at once with the reason, nothing recorded.
    """
    fresh = BoxState(state.mode)
    if problem is not None:
        return Outcome(fresh, feedback=Feedback.ERROR, message=problem)
    fact = OrderCollected(order_id, pickup_code, "" if number == order_id else number)
    return Outcome(fresh, (fact,), message=f"order {number or order_id} collected")


def adjust(state: BoxState, product: ProductRecord, delta: int, reason: str) -> Outcome:
    """A correction by hand (remote support or the shop): no scan, so no barcode; the reason is kept."""
    move = StockMove(EntryKind.ADJUST, product.sku, delta, "", reason=reason)
    return Outcome(state, (move,), Feedback.INFO, f"adjust {product.name} by {delta:+d}: {reason}")


def unknown(state: BoxState, raw: str, reason: str) -> Outcome:
    """Unknown or unreadable scans are kept, never dropped: someone may add the product later."""
    fresh = BoxState(state.mode)
    return Outcome(fresh, (UnknownBarcode(raw, state.mode, reason),), Feedback.WARN, f"unknown: {reason}")


def product_scanned(
    state: BoxState,
    product: ProductRecord,
    barcode: str,
    *,
    weight_g: int | None = None,
    price_cents: int | None = None,
) -> Outcome:
    """A known product was scanned: what it does depends on the mode and the pending prefixes."""
    fresh = BoxState(state.mode)
    if state.mode is Mode.LOOKUP:
        return Outcome(fresh, feedback=Feedback.INFO, message=_describe(product))
    measured, warning = _measure(product, weight_g, price_cents)
    qty = state.quantity if product.unit == "each" else (measured or 0) * state.quantity
    if state.mode is Mode.COUNT:
        return Outcome(fresh, (Counted(product.sku, qty, barcode),), message=f"counted {product.name}")
    kind, delta = _movement(state, qty)
    weighed = measured if product.unit == "kg" else weight_g if product.unit == "each" else None
    move = StockMove(kind, product.sku, delta, barcode, weighed, price_cents)
    if not warning and product.stock + delta < 0:
        warning = f"{kind} {product.name}: stock below zero"
    return Outcome(
        fresh, (move,), Feedback.WARN if warning else Feedback.OK, warning or f"{kind} {product.name}"
    )


def _measure(product: ProductRecord, measured: int | None, price_cents: int | None) -> tuple[int | None, str]:
    """For a product sold by measure (kg, l, m): the grams, millilitres or millimetres from the label or
    the scale, or from a price-embedded label the price over the unit price (0.872 € of ham at 24.90 €/kg
    is 35 g). Counted products need none.
    """
    if product.unit == "each":
        return None, ""
    if measured is None and price_cents is not None and product.price_cents > 0:
        measured = (price_cents * 1000 + product.price_cents // 2) // product.price_cents
    if measured is None:
        what = MEASURES.get(product.unit, ("weight", "weight"))
        return None, f"{product.name} is sold by {what[0]} but no {what[1]} came with the scan"
    return measured, ""


def _movement(state: BoxState, qty: int) -> tuple[EntryKind, int]:
    if state.mode is Mode.RECEIVE:
        return EntryKind.RECEIVE, qty
    if state.returning:
        return EntryKind.RETURN, qty
    return EntryKind.SALE, -qty


def _describe(product: ProductRecord) -> str:
    """The price as a shelf label shows it: per kilogram, litre or metre for what is sold by measure."""
    per = "" if product.unit == "each" else f"/{product.unit}"
    return f"{product.name}: {EUR(product.price_cents)}{per}, stock {stock_text(product.stock, product.unit)}"
