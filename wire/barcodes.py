"""The one spelling of a catalog barcode that the cloud sends and the box looks up.

Shops keep barcodes however the merchant typed them: a UPC-A as 12 digits or as 13 with a leading zero, a
GTIN-14 with its leading zeros, an ISBN with hyphens, an ISBN-10. A scan, on the other side, is turned by
the box into every spelling of its number (`Barcode.lookup_keys`: as printed, GTIN-13, GTIN-14, …). So the
cloud stores each GTIN once, as its GTIN-13 (or GTIN-14 when the indicator digit is not zero), which is
always among a scan's keys: a UPC-A, an EAN-13, an ITF-14 of the same number all find the item.

Codes that are not GTINs pass unchanged when they are plain printable ASCII (a Code 128 in-store code, a
Shopify barcode that is free text), and short digit runs (1–6 digits) are kept as scale item codes (PLUs),
which variable-measure labels look up. Anything else is refused with the reason, so the bridge can park
the product instead of sending the box a code no scanner can produce.
"""

from __future__ import annotations

from typing import Final

from wire._fields import ID_LEN
from wire._text import show
from wire.errors import MalformedMessage

GTIN_LENGTHS: Final = frozenset({8, 12, 13, 14})
MAX_ITEM_CODE: Final = 6
_SEPARATORS: Final = str.maketrans("", "", " -")


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of `body`: weights 3, 1, 3, … from the right."""
    odd = sum(map(int, body[-1::-2]))
    even = sum(map(int, body[-2::-2]))
    return -(3 * odd + even) % 10


def catalog_barcode(text: str, path: str = "barcode") -> str:
    """`text` in the catalog's spelling; `MalformedMessage` naming `path` and the problem if it cannot be one.

    >>> catalog_barcode("012345678905"), catalog_barcode("978-0-306-40615-7"), catalog_barcode("0306406152")
    ('0012345678905', '9780306406157', '9780306406157')
    """
    code = text.strip()
    digits = code.translate(_SEPARATORS)
    if digits.isascii() and digits.isdigit():
        return _numeric(digits, code, path)
    if len(digits) == 10 and digits[:9].isascii() and digits[:9].isdigit() and digits[9] in "Xx":
        return _isbn10(digits, code, path)
    if not code:
        raise MalformedMessage(path, "empty")
    if len(code) > ID_LEN:
        raise MalformedMessage(path, f"{len(code)} characters, at most {ID_LEN}")
    if not (code.isascii() and code.isprintable() and " " not in code):
        raise MalformedMessage(path, f"{show(code)} holds spaces, control or non-ASCII characters")
    return code


def _numeric(digits: str, code: str, path: str) -> str:
    if len(digits) <= MAX_ITEM_CODE:
        return digits  # a scale item code (PLU)
    if len(digits) == 10:
        return _isbn10(digits, code, path)
    if len(digits) not in GTIN_LENGTHS:
        raise MalformedMessage(path, f"{show(code)}: {len(digits)} digits is no GTIN (8, 12, 13 or 14)")
    expected = check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise MalformedMessage(path, f"{show(code)}: check digit is {digits[-1]}, expected {expected}")
    gtin14 = digits.zfill(14)
    return gtin14[1:] if gtin14[0] == "0" else gtin14


def _isbn10(digits: str, code: str, path: str) -> str:
    """An ISBN-10 as the EAN-13 (978…) printed under it; its own mod-11 check digit is verified first."""
    total = sum((10 - i) * int(d) for i, d in enumerate(digits[:9]))
    expected = -total % 11
    last = 10 if digits[9] in "Xx" else int(digits[9])
    if last != expected:
        shown = "X" if expected == 10 else str(expected)
        raise MalformedMessage(path, f"{show(code)}: ISBN-10 check digit is {digits[9]}, expected {shown}")
    body = "978" + digits[:9]
    return body + str(check_digit(body))
