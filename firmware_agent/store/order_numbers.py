"""The short number every order is known by on the floor: on its tickets, its barcodes, the order board,
the journal and the customer's pickup code.

A shop's order id need not fit a barcode (a Shopify id is `gid://shopify/Order/5432109876543`, which the
command and pickup barcodes cannot carry), nor be something a person reads out on the phone. So the box
gives each order, when it first arrives, a number of at most `MAX_LEN` of letters, digits and `-`: the
shop's own order number when it is one (Shopify's `#1001` is `1001`, the number the customer's mail shows),
else the order id when it is short enough, else one the box counts itself (`B1`, `B2`, …). It is unique on
the box: a number another order has (two shops on one box may both have a `1001`) gets `-2`, `-3`, … The
number is kept with the order and never changes; the order's id keeps working wherever the number does.

The shop's number is what every box of the shop derives alike, so a customer's pickup code made with it
verifies at any till; only a box-counted number is the box's own.
"""

from __future__ import annotations

import re
from typing import Final

from firmware_agent.store.database import Store

MAX_LEN: Final = 12
"""Short enough to read out and to fit a CODE128 on 58 mm paper behind its `TBGO` prefix."""
_SHORT: Final = re.compile(rf"[A-Z0-9][A-Z0-9-]{{0,{MAX_LEN - 1}}}")
_COUNTER: Final = "order_number.counted"


def preferred(order_id: str, number: str) -> str | None:
    """The number an order would like, from what the shop says alone (None: the box must count one).

    The shop's number first (without its `#`), then the order id; as the shop writes it (the barcodes carry
    it upper case, and finding it back ignores case, as a scanner's Caps Lock does).
    """
    for said in (number, order_id):
        short = said.strip().lstrip("#")
        if short.isascii() and _SHORT.fullmatch(short.upper()):
            return short
    return None


def assign(store: Store, order_id: str, number: str) -> str:
    """The number of order `order_id` on this box: the one it was given, or a new one unique on the box
    (inside the caller's transaction, which stores it with the order)."""
    row = store.sql("SELECT number FROM inbound_order WHERE order_id = ?", (order_id,)).fetchone()
    if row is not None and row[0]:
        return str(row[0])
    base = preferred(order_id, number) or _counted(store)
    candidate, suffix = base, 1
    while _taken(store, candidate, order_id):
        suffix += 1
        candidate = f"{base[: MAX_LEN - len(str(suffix)) - 1]}-{suffix}"
    return candidate


def order_id_of(store: Store, key: str) -> str | None:
    """The order a scanned or typed `key` names: the one with that number, else with that id (as kept, or
    in any case: tickets printed before orders had numbers carry the id)."""
    for where in ("number = ? COLLATE NOCASE", "order_id = ?", "order_id = ? COLLATE NOCASE"):
        row = store.sql(f"SELECT order_id FROM inbound_order WHERE {where}", (key,)).fetchone()
        if row is not None:
            return str(row[0])
    return None


def _taken(store: Store, candidate: str, order_id: str) -> bool:
    """Another order is known by `candidate`: as its number, or as its id (which a scan tries first)."""
    row = store.sql(
        "SELECT 1 FROM inbound_order WHERE order_id != ? AND "
        "(number = ? COLLATE NOCASE OR order_id = ? COLLATE NOCASE)",
        (order_id, candidate, candidate),
    ).fetchone()
    return row is not None


def _counted(store: Store) -> str:
    count = int(store.setting(_COUNTER) or "0") + 1
    store.set_setting(_COUNTER, str(count))
    return f"B{count}"
