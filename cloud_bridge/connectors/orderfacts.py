"""What the floor needs from an order beyond its stock facts, read the same way for every shop.

Shops keep a food order's details in free-form places: WooCommerce item and order `meta_data`, Shopify
line-item properties and note attributes, PrestaShop customizations and messages. Plugins name the keys
differently, so a key is recognised by its normalised name (case, accents, `_`, `-` and spaces ignored)
against the short lists below. Everything here is pure: values in, values out; nothing raises on odd input.

`screen` is the bridge's last look before an order prints: what is odd but printable becomes a warning
on the ticket (and a parked problem for the owner) instead of a refusal.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo

from cloud_bridge.connectors.base import LineOption, OrderLine, ShopOrder

MAX_SANE_QTY: Final = 50
"""More of one line than a take-away kitchen makes for one order: printed, with a warning to check."""

NOTE_KEYS: Final = frozenset({"note", "notes", "nota", "notas", "comment", "comments", "comentario"})
SLOT_KEYS: Final = frozenset(
    {
        "pickuptime",
        "pickupdatetime",
        "deliverytime",
        "deliverydatetime",
        "requestedtime",
        "horarecogida",
        "horaentrega",
        "slot",
        "timeslot",
    }
)
DATE_KEYS: Final = frozenset({"pickupdate", "deliverydate", "fecharecogida", "fechaentrega"})
ASAP: Final = frozenset({"asap", "assoonaspossible", "loantesposible", "ya", "now"})
ALLERGY_KEYS: Final = frozenset({"allergies", "allergy", "alergias", "alergia", "allergens", "alergenos"})
_ALLERGY_WORDS: Final = ("allerg", "alerg", "celiac", "celiaq", "gluten", "lactos")


def norm(key: str) -> str:
    """`_Pickup-Time` → `pickuptime`; `Alérgenos` → `alergenos`."""
    plain = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def text(value: Any) -> str:
    """A shop's value as one line of text: strings as they are, numbers written out, the rest empty."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return ", ".join(filter(None, (text(item) for item in value)))
    return ""


def split_line_meta(pairs: Iterable[tuple[str, Any]]) -> tuple[tuple[LineOption, ...], str]:
    """A line's visible (key, value) pairs as options, and its note (the value of a note key)."""
    options: list[LineOption] = []
    notes: list[str] = []
    for key, value in pairs:
        shown = text(value)
        if not shown or key.startswith("_"):
            continue  # `_`-keys are the shop's / plugins' own bookkeeping, not for the customer
        if norm(key) in NOTE_KEYS:
            notes.append(shown)
        else:
            options.append(LineOption(key.strip(), shown))
    return tuple(options), " / ".join(notes)


def slot_of(pairs: Iterable[tuple[str, Any]], zone: tzinfo) -> datetime | None:
    """The requested time among an order's (key, value) pairs: an ISO date-time, or a date key plus a
    time key ("2026-12-06" + "20:30"), naive values in the shop's `zone`; None for ASAP or none at all.
    """
    when: str | None = None
    day: str | None = None
    for key, value in pairs:
        name = norm(key)
        if name in SLOT_KEYS and text(value):
            when = text(value)
        elif name in DATE_KEYS and text(value):
            day = text(value)
    if when is None or norm(when) in ASAP:
        return None
    candidates = [when] if day is None or "T" in when or len(when) > 8 else [f"{day}T{when}", when]
    for candidate in candidates:
        try:
            moment = datetime.fromisoformat(candidate.replace(" ", "T", 1).replace("Z", "+00:00"))
        except ValueError:
            continue
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    return None


def allergies_of(pairs: Iterable[tuple[str, Any]], *notes: str) -> str:
    """What the customer said about allergies: an allergy key's value, else the sentences of their notes
    that mention one (so a note "sin gluten, soy celíaco" stands out on the ticket, not lost in the note).
    """
    said = [text(value) for key, value in pairs if norm(key) in ALLERGY_KEYS and text(value)]
    if said:
        return "; ".join(said)
    found = []
    for note in notes:
        for sentence in note.replace("\n", ". ").split("."):
            if any(word in norm(sentence) for word in _ALLERGY_WORDS) and sentence.strip():
                found.append(sentence.strip())
    return "; ".join(found)


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def screen(order: ShopOrder) -> ShopOrder:
    """The order with control characters taken out of its texts and a warning for each odd thing: a line
    that names no product the shop knows, an absurd quantity, text that had control characters."""
    warnings = list(order.warnings)
    dirty = False

    def clean(value: str) -> str:
        nonlocal dirty
        kept = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
        dirty = dirty or kept != value
        return kept

    lines = []
    for line in order.lines:
        name = clean(line.name) or line.sku or "?"
        if not line.sku:
            warnings.append(f"{name}: not a product the shop knows (no sku)")
        if line.qty > MAX_SANE_QTY:
            warnings.append(f"{line.qty} x {name}: check the quantity")
        lines.append(
            replace(
                line,
                name=name,
                note=clean(line.note),
                options=tuple(
                    LineOption(clean(o.name), value) for o in line.options if (value := clean(o.value))
                ),
            )
        )
    cleaned = replace(
        order,
        lines=tuple(lines),
        customer=clean(order.customer),
        note=clean(order.note),
        phone=clean(order.phone),
        address=clean(order.address),
        allergies=clean(order.allergies),
    )
    if dirty:
        warnings.append("control characters removed from the order's text")
    if not order.lines:
        warnings.append("the order has no lines")
    return replace(cleaned, warnings=tuple(dict.fromkeys(warnings)))


def line_with(
    line: OrderLine, options: tuple[LineOption, ...], note: str, tags: tuple[str, ...] = ()
) -> OrderLine:
    return replace(line, options=options, note=note, tags=tags or line.tags)
