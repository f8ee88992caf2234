"""Variable-measure (in-store, RCN) EAN-13 layouts: which digits of a `2x…` label are item, weight, price.

Each country, and in Spain each scale vendor, lays these labels out its own way, and biip knows only the
Nordic, Baltic, German and British rules; so the shop describes its labels with a 13-character layout
string, which is compiled once into a `Layout` and then only sliced on every scan.

Layout letters: leading digits are the literal prefix, `I` item code, `W` weight in grams, `$` price in
cents, `V` the GS1 price/weight check digit over a 4- or 5-digit `W`/`$` field, `C` the EAN-13 check digit.
"""

from __future__ import annotations

from dataclasses import dataclass

from biip.checksums import gs1_price_weight_check_digit

from devices.barcodes.gtin import with_check_digit
from devices.errors import BarcodeError

DEFAULT_LAYOUTS = ("20IIIIIWWWWWC", "21IIIII$$$$$C")
"""A common scale-label convention in Spain (prefix 20 weight in grams, 21 price in cents); unverified
against AECOC, so every shop can replace it."""

PRESETS: dict[str, tuple[str, ...]] = {
    "ES": DEFAULT_LAYOUTS,
    # GS1 rules as biip implements them (biip/rcn.py): verified against its test vectors.
    "DE": ("22IIIIV$$$$$C", "23IIIIV$$$$$C", "28IIIIVWWWWWC", "29IIIIVWWWWWC"),
    "GB": ("20IIIIIV$$$$C",),
    "SE": ("20IIIIII$$$$C", "23IIIIIIWWWWC"),  # 21/22 (price in tenths, units) and 24/25 are left out
    # Common scale defaults, not confirmed against the national GS1 office: check a printed label.
    "FR": ("2IIIIII$$$$$C",),
    "IT": ("2IIIIII$$$$$C",),
    "NL": ("22IIIII$$$$$C", "23IIIIIWWWWWC"),
    "US": ("02IIIIIV$$$$C",),  # UPC-A number system 2: item, price check digit, price in cents
}
"""Variable-measure layouts by country (ISO 3166 code). A shop's own layouts are added to its preset's."""

_LETTERS = "IW$VC"


def preset_layouts(preset: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The layouts of country `preset` followed by the shop's own `extra` ones; without a preset, the
    defaults. A preset replaces the defaults (a British 20 price label is not a Spanish 20 weight label), so
    the defaults in `extra` are dropped. `BarcodeError` names the presets there are.
    """
    if not preset:
        return (*DEFAULT_LAYOUTS, *(layout for layout in extra if layout not in DEFAULT_LAYOUTS))
    layouts = PRESETS.get(preset.upper())
    if layouts is None:
        raise BarcodeError(f"no variable-measure preset {preset!r}: there are {', '.join(sorted(PRESETS))}")
    own = (layout for layout in extra if layout not in layouts and layout not in DEFAULT_LAYOUTS)
    return (*layouts, *own)


@dataclass(frozen=True)
class Measure:
    """What a variable-measure label says; `key` is the label with its value zeroed (see `Layout.key`)."""

    item_code: str
    weight_g: int | None
    price_cents: int | None
    key: str


@dataclass(frozen=True)
class Layout:
    """A compiled layout string; build it with `parse_layout`."""

    text: str
    prefix: str
    item: slice
    weight: slice | None
    price: slice | None
    value_check: int | None

    def matches(self, code13: str) -> bool:
        return code13.startswith(self.prefix)

    def read(self, code13: str) -> Measure:
        """Read a 13-digit code whose EAN check digit is already verified; raise if `V` disagrees."""
        if self.value_check is not None:
            self._verify_value_check(code13)
        return Measure(
            item_code=code13[self.item],
            weight_g=None if self.weight is None else int(code13[self.weight]),
            price_cents=None if self.price is None else int(code13[self.price]),
            key=self.key(code13),
        )

    def key(self, code13: str) -> str:
        """The label with weight, price and their check digit zeroed: one code per item, for the catalog."""
        digits = list(code13[:12])
        for field in (self.weight, self.price):
            if field is not None:
                digits[field] = "0" * (field.stop - field.start)
        if self.value_check is not None:
            digits[self.value_check] = "0"
        return with_check_digit("".join(digits))

    def encode(self, item_code: str, *, weight_g: int | None = None, price_cents: int | None = None) -> str:
        """The label a scale would print (for simulators and tests); raises if a value does not fit."""
        digits = list(self.prefix.ljust(12, "0"))
        digits[self.item] = _fit("item code", item_code, self.item)
        for name, field, value in (("weight", self.weight, weight_g), ("price", self.price, price_cents)):
            if field is not None:
                if value is None or value < 0:
                    raise BarcodeError(f"layout {self.text}: a {name} (>= 0) is required")
                digits[field] = _fit(name, str(value).zfill(field.stop - field.start), field)
        if self.value_check is not None:
            digits[self.value_check] = str(gs1_price_weight_check_digit(self._value(digits)))
        return with_check_digit("".join(digits))

    def _value(self, digits: str | list[str]) -> str:
        field = self.weight if self.weight is not None else self.price
        assert field is not None  # parse_layout guarantees a value field
        return "".join(digits[field])

    def _verify_value_check(self, code13: str) -> None:
        assert self.value_check is not None
        value = self._value(code13)
        expected = gs1_price_weight_check_digit(value)
        found = code13[self.value_check]
        if int(found) != expected:
            raise BarcodeError(
                f"variable-measure check digit for value {value} is {found}, expected {expected} "
                f"(layout {self.text})"
            )


def _fit(name: str, value: str, field: slice) -> list[str]:
    width = field.stop - field.start
    if len(value) != width or not value.isdigit():
        raise BarcodeError(f"{name} {value!r} does not fit a {width}-digit field")
    return list(value)


def parse_layout(text: str) -> Layout:
    """Compile a layout string such as `20IIIIIWWWWWC`; raise `BarcodeError` saying what is wrong with it."""
    where = f"variable-measure layout {text!r}"
    _check_characters(text, where)
    prefix = text[: len(text) - len(text.lstrip("0123456789"))]
    _check_prefix(prefix, text, where)
    runs = {letter: _run(text, letter, where) for letter in "IW$V"}
    item, weight, price, check = runs["I"], runs["W"], runs["$"], runs["V"]
    if item is None:
        raise BarcodeError(f"{where} has no item code field (I)")
    if weight is None and price is None:
        raise BarcodeError(f"{where} has neither a weight (W) nor a price ($) field")
    if check is not None:
        _check_value_check(weight, price, check, where)
    return Layout(
        text=text,
        prefix=prefix,
        item=item,
        weight=weight,
        price=price,
        value_check=None if check is None else check.start,
    )


def _check_characters(text: str, where: str) -> None:
    if len(text) != 13:
        raise BarcodeError(f"{where} has {len(text)} characters, expected 13 (one per EAN-13 digit)")
    for position, char in enumerate(text, start=1):
        if not (char in _LETTERS or (char.isascii() and char.isdigit())):
            raise BarcodeError(f"{where}: {char!r} at position {position} is not a digit or one of I W $ V C")
    if text[-1] != "C" or text.count("C") != 1:
        raise BarcodeError(f"{where} must end with the EAN-13 check digit C, and have no other C")


def _check_prefix(prefix: str, text: str, where: str) -> None:
    if not (prefix.startswith("2") or prefix.startswith("02")):
        raise BarcodeError(
            f"{where} must start with a literal prefix in the in-store range: 2 (EAN-13 20–29) "
            "or 02 (UPC-A number system 2)"
        )
    stray = next((i for i, c in enumerate(text[len(prefix) :], len(prefix)) if c.isdigit()), None)
    if stray is not None:
        raise BarcodeError(
            f"{where}: digit {text[stray]!r} at position {stray + 1} comes after the fields; "
            "literal digits belong in the prefix"
        )


def _run(text: str, letter: str, where: str) -> slice | None:
    start = text.find(letter)
    if start < 0:
        return None
    stop = text.rfind(letter) + 1
    if text[start:stop] != letter * (stop - start):
        raise BarcodeError(f"{where}: the {letter} field must be one unbroken run of {letter}s")
    return slice(start, stop)


def _check_value_check(weight: slice | None, price: slice | None, check: slice, where: str) -> None:
    if check.stop - check.start != 1:
        raise BarcodeError(f"{where} has more than one V (price/weight check digit)")
    if weight is not None and price is not None:
        raise BarcodeError(f"{where}: V is ambiguous with both a weight (W) and a price ($) field")
    value = weight if weight is not None else price
    assert value is not None
    if value.stop - value.start not in (4, 5):
        raise BarcodeError(
            f"{where}: V checks a 4- or 5-digit W or $ field, this one has {value.stop - value.start}"
        )
