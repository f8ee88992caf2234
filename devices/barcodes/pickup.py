"""Order pickup codes: the QR code on an online order that the customer shows at the till.

Format: `TBPICKUP`, the order id's length as two digits, the order id, then the pickup code, e.g.
`TBPICKUP041001K7Q2XZ` for order `1001`, code `K7Q2XZ`. The length prefix keeps the two apart without a
separator character, so order ids may contain `-` (as some shops number them) and nothing else needs
punctuation, which keyboard layouts scatter (see `commands`). Letters are upper case only, because the
reader ignores case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from devices.barcodes.commands import PREFIX
from devices.errors import BarcodeError

PICKUP_PREFIX = PREFIX + "PICKUP"
_ORDER_ID = re.compile(r"[A-Z0-9][A-Z0-9-]{0,39}")
_CODE = re.compile(r"[A-Z0-9]{4,16}")


@dataclass(frozen=True)
class Pickup:
    """An order id (1–40 of `A`–`Z`, `0`–`9`, `-`; not `-` first) and its code (4–16 `A`–`Z`, `0`–`9`)."""

    order_id: str
    code: str

    def __post_init__(self) -> None:
        if not _ORDER_ID.fullmatch(self.order_id):
            raise BarcodeError(
                f"order id {self.order_id!r} must be 1 to 40 of A-Z, 0-9 and '-' (not first), upper case"
            )
        if not _CODE.fullmatch(self.code):
            raise BarcodeError(f"pickup code {self.code!r} must be 4 to 16 of A-Z and 0-9, upper case")


def encode_pickup(order_id: str, code: str) -> str:
    """The text to print as a QR code on the order ticket; raises `BarcodeError` for ids it cannot carry."""
    pickup = Pickup(order_id, code)
    return f"{PICKUP_PREFIX}{len(pickup.order_id):02d}{pickup.order_id}{pickup.code}"


def decode_pickup(text: str) -> Pickup:
    """Read an upper-cased text that starts with `PICKUP_PREFIX`; `BarcodeError` says what is broken."""
    rest = text[len(PICKUP_PREFIX) :]
    length = rest[:2]
    if len(length) != 2 or not length.isdigit() or length == "00":
        raise BarcodeError(
            f"pickup code {text!r}: expected the order id's length as two digits after {PICKUP_PREFIX}"
        )
    size = int(length)
    order_id, code = rest[2 : 2 + size], rest[2 + size :]
    if len(order_id) != size:
        raise BarcodeError(f"pickup code {text!r} is cut short: the order id should have {size} characters")
    try:
        return Pickup(order_id, code)
    except BarcodeError as exc:
        raise BarcodeError(f"pickup code {text!r}: {exc}") from exc
