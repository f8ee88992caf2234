"""GS1 check digits and GTIN forms: the arithmetic every retail scan goes through.

Kept free of biip so the EAN-13 hot path is a few string operations, and so the error messages can say
which kind of code was wrong and what its check digit should have been.
"""

from __future__ import annotations

from devices.errors import BarcodeError

GTIN_LENGTHS = (8, 12, 13, 14)


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for `body` (all digits but the last): weights 3, 1, 3, … from the right."""
    odd = sum(map(int, body[-1::-2]))
    even = sum(map(int, body[-2::-2]))
    return -(3 * odd + even) % 10


def with_check_digit(body: str) -> str:
    return body + str(check_digit(body))


def verify_check_digit(code: str, name: str, *, shown: str | None = None) -> None:
    """Raise `BarcodeError` naming `name` ("EAN-13", "GTIN-14 in AI (01)") if the last digit is wrong.

    `shown` is the code as scanned when `code` is a derived form (a UPC-E's expanded UPC-A).
    """
    expected = check_digit(code[:-1])
    if int(code[-1]) != expected:
        raise BarcodeError(f"{name} check digit is {code[-1]}, expected {expected} (in {shown or code})")


def expand_upce(upce: str) -> str:
    """The UPC-A (12 digits) that an 8-digit UPC-E stands for; the check digit carries over unchanged.

    The last of the six data digits says where the manufacturer/product zeros were suppressed.
    """
    if len(upce) != 8 or not upce.isdigit() or upce[0] not in "01":
        raise BarcodeError(f"UPC-E must be 8 digits starting with 0 or 1, got {upce!r}")
    system, d, check = upce[0], upce[1:7], upce[7]
    last = d[5]
    if last in "012":
        middle = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        middle = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        middle = d[0:4] + "00000" + d[4]
    else:
        middle = d[0:5] + "0000" + last
    return system + middle + check


def shorter_forms(gtin14: str) -> tuple[str, ...]:
    """The GTIN-13, -12 and -8 spellings of a GTIN-14 that only differ by leading zeros, longest first.

    Catalogs store whichever form the shop typed in, so a lookup tries them all.
    """
    return tuple(gtin14[14 - n :] for n in (13, 12, 8) if gtin14[: 14 - n].strip("0") == "")
