"""Per-POS receipt templates: line rules that turn a receipt's text into sale lines, voids, returns, its
number and its total, and the check that the lines add up. Sans-IO and product-blind: mapping a line to a
sku is the box's job (`firmware_agent.receipts`).

A rule is a regular expression with named groups, matched against a whole line (`re.fullmatch`, after
trailing spaces are stripped). A rule whose pattern contains `\\n` matches that many consecutive lines
joined by newlines, for POS that print the name on one line and `2 x 1,20  2,40` under it. Groups:

| group | meaning |
|---|---|
| `code` | the POS's article code, a PLU or a barcode |
| `name` | the article's name as printed |
| `qty` | the quantity (`2`, `0,412`); 1 when the rule has no such group |
| `unit` | the quantity's unit as printed (`kg`), informative |
| `unit_price` | the price of one unit |
| `amount` | the line total; required in every line rule |
| `number` | the receipt number (in `number` rules) |
| `total` | the receipt total (in `total` rules) |

Only the lines before the total are read for sale lines (what follows is payment, change, VAT), and
`ignore` patterns take lines such as a subtotal out of the reading.

Money is read exactly as printed, with the template's decimal separator (the other of `.`/`,` may group
thousands), an optional currency sign and a sign either side (`-2,50`, `2,50-`); it becomes integer cents.
`parse()` never raises: a receipt that cannot be read is an `Unreadable` whose `reason` names the line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum

from devices.errors import DeviceConfigError
from devices.receipts.capture import CapturedReceipt

LINE_GROUPS = frozenset({"code", "name", "qty", "unit", "unit_price", "amount"})
_WINDOW_MAX = 4
_CURRENCY = re.compile(r"[€$£¥]|EUR|GBP|USD|CHF|\s")


class TemplateError(DeviceConfigError):
    """A template that cannot be used: the message names the template and the field (also in `field`)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class LineKind(Enum):
    SALE = "sale"
    VOID = "void"  # a line taken back before the receipt was closed
    RETURN = "return"  # goods brought back: stock comes back in


@dataclass(frozen=True)
class ReceiptLine:
    kind: LineKind
    amount_cents: int
    """What the line adds to the total: negative for voids and returns."""
    quantity: Decimal
    """Always positive: the kind says which way the goods went."""
    code: str | None = None
    name: str | None = None
    unit_price_cents: int | None = None
    unit: str | None = None
    text: str = ""
    """The printed line(s) the rule matched, for the log and the owner's unmatched list."""


@dataclass(frozen=True)
class ParsedReceipt:
    lines: tuple[ReceiptLine, ...]
    total_cents: int
    number: str | None
    digest: str
    """sha256 of the receipt's text without its reprint marks: the identity of a receipt with no number."""
    reprint: bool = False

    @property
    def key(self) -> str:
        """What makes a reprint the same receipt: its number when it has one, else its content."""
        return f"no:{self.number}" if self.number else f"sha256:{self.digest}"


@dataclass(frozen=True)
class Unreadable:
    reason: str


@dataclass(frozen=True)
class NotASale:
    """Printed by the POS but no sale: a report, a drawer opening, a test page (nothing to count)."""

    reason: str


Outcome = ParsedReceipt | Unreadable | NotASale


@dataclass(frozen=True)
class Rule:
    kind: LineKind
    pattern: re.Pattern[str]
    window: int  # lines the pattern spans


@dataclass(frozen=True)
class ReceiptTemplate:
    """How one POS prints its receipts. Build it with `ReceiptTemplate.build()` (checks every pattern)."""

    name: str
    rules: tuple[Rule, ...]
    total: tuple[re.Pattern[str], ...]
    number: tuple[re.Pattern[str], ...] = ()
    reprint: tuple[re.Pattern[str], ...] = ()
    ignore: tuple[re.Pattern[str], ...] = ()
    decimal: str = ","
    description: str = ""

    @classmethod
    def build(
        cls,
        name: str,
        *,
        sale: Sequence[str],
        total: Sequence[str],
        void: Sequence[str] = (),
        returns: Sequence[str] = (),
        number: Sequence[str] = (),
        reprint: Sequence[str] = (),
        ignore: Sequence[str] = (),
        decimal: str = ",",
        description: str = "",
    ) -> ReceiptTemplate:
        if decimal not in (",", "."):
            raise TemplateError(
                f"receipt template {name!r}: decimal must be ',' or '.', not {decimal!r}", "decimal"
            )
        if not sale:
            raise TemplateError(f"receipt template {name!r}: sale needs at least one line rule", "sale")
        rules = [
            _rule(name, field_name, kind, pattern)
            for field_name, kind, patterns in (
                ("void", LineKind.VOID, void),
                ("returns", LineKind.RETURN, returns),
                ("sale", LineKind.SALE, sale),
            )
            for pattern in patterns
        ]
        return cls(
            name,
            tuple(rules),
            _patterns(name, "total", total, "total", required=True),
            _patterns(name, "number", number, "number"),
            _patterns(name, "reprint", reprint, None),
            _patterns(name, "ignore", ignore, None),
            decimal,
            description,
        )

    @classmethod
    def from_mapping(cls, name: str, rules: Mapping[str, object]) -> ReceiptTemplate:
        """A template written as data (the config's `[receipts.rules]`, a TOML file for `learn --rules`):
        the keys of `build()`, each pattern list a list of strings."""
        known = {"sale", "total", "void", "returns", "number", "reprint", "ignore", "decimal", "description"}
        unknown = sorted(set(rules) - known)
        if unknown:
            raise TemplateError(f"receipt template {name!r}: unknown key(s) {', '.join(unknown)}", unknown[0])
        lists: dict[str, tuple[str, ...]] = {}
        for key in known - {"decimal", "description"}:
            value = rules.get(key, ())
            if isinstance(value, str) or not isinstance(value, list | tuple):
                raise TemplateError(f"receipt template {name!r}: {key} must be a list of patterns", key)
            if not all(isinstance(item, str) for item in value):
                raise TemplateError(f"receipt template {name!r}: {key} patterns must be strings", key)
            lists[key] = tuple(value)
        decimal, description = rules.get("decimal", ","), rules.get("description", "")
        return cls.build(
            name,
            sale=lists["sale"],
            total=lists["total"],
            void=lists["void"],
            returns=lists["returns"],
            number=lists["number"],
            reprint=lists["reprint"],
            ignore=lists["ignore"],
            decimal=str(decimal),
            description=str(description),
        )

    # -- reading a receipt ------------------------------------------------------------------------------

    def parse(self, receipt: CapturedReceipt) -> Outcome:
        """The receipt's lines and total, checked; or why it cannot be counted."""
        if receipt.problems:
            return Unreadable("; ".join(receipt.problems))
        lines = [line.rstrip() for line in receipt.lines]
        reprint = any(p.search(line) for p in self.reprint for line in lines)
        number = _first(self.number, lines, "number")
        total_at, total_text = _find(self.total, lines, "total")
        found, problem = self._lines(lines[:total_at])
        if problem is not None:
            return Unreadable(problem)
        if total_text is None:
            if not found:
                return NotASale("no sale line and no total")
            how = "the receipt ends without a cut" if not receipt.cut else "no line matches a total rule"
            return Unreadable(f"no total: {how}")
        total = parse_money(total_text, self.decimal)
        if total is None:
            return Unreadable(f"total {total_text!r} is not an amount")
        if not found:
            return Unreadable(f"a total of {format_cents(total)} but no line matches a sale rule")
        added = sum(line.amount_cents for line in found)
        if added != total:
            return Unreadable(
                f"the lines add up to {format_cents(added)}, the receipt's total is {format_cents(total)}"
            )
        kept = [line for line in lines if not any(p.search(line) for p in self.reprint)]
        digest = hashlib.sha256("\n".join(kept).encode("utf-8", "surrogatepass")).hexdigest()
        return ParsedReceipt(tuple(found), total, number, digest, reprint)

    def _lines(self, lines: Sequence[str]) -> tuple[list[ReceiptLine], str | None]:
        found: list[ReceiptLine] = []
        index = 0
        while index < len(lines):
            if any(p.fullmatch(lines[index]) for p in self.ignore):
                index += 1
                continue
            for rule in self.rules:
                window = "\n".join(lines[index : index + rule.window])
                match = rule.pattern.fullmatch(window) if index + rule.window <= len(lines) else None
                if match is None:
                    continue
                line, problem = self._line(rule.kind, match, window)
                if problem is not None:
                    return found, f"line {index + 1} ({window!r}): {problem}"
                assert line is not None
                found.append(line)
                index += rule.window
                break
            else:
                index += 1
        return found, None

    def _line(self, kind: LineKind, match: re.Match[str], text: str) -> tuple[ReceiptLine | None, str | None]:
        groups = {k: (v.strip() if v else None) for k, v in match.groupdict().items()}
        amount = parse_money(groups.get("amount") or "", self.decimal)
        if amount is None:
            return None, f"amount {groups.get('amount')!r} is not an amount"
        quantity = parse_quantity(groups.get("qty"), self.decimal)
        if quantity is None:
            return None, f"quantity {groups.get('qty')!r} is not a quantity"
        unit_price = None
        if groups.get("unit_price") is not None:
            unit_price = parse_money(groups["unit_price"] or "", self.decimal)
            if unit_price is None:
                return None, f"unit price {groups['unit_price']!r} is not an amount"
            expected = (quantity * abs(unit_price)).quantize(Decimal(1), ROUND_HALF_UP)
            if expected != abs(amount):
                return None, (
                    f"{quantity} x {format_cents(abs(unit_price))} is {format_cents(int(expected))}, "
                    f"the line says {format_cents(abs(amount))}"
                )
        if not (groups.get("code") or groups.get("name")):
            return None, "neither a code nor a name"
        signed = abs(amount) if kind is LineKind.SALE else -abs(amount)
        if kind is LineKind.SALE and amount < 0:
            kind, signed = LineKind.RETURN, amount  # a negative sale line is goods coming back
        return (
            ReceiptLine(
                kind,
                signed,
                quantity,
                groups.get("code"),
                groups.get("name"),
                None if unit_price is None else abs(unit_price),
                groups.get("unit"),
                text,
            ),
            None,
        )


# -- helpers ------------------------------------------------------------------------------------------------


def _rule(template: str, field_name: str, kind: LineKind, pattern: str) -> Rule:
    compiled = _compile(template, field_name, pattern)
    names = set(compiled.groupindex)
    if "amount" not in names:
        raise TemplateError(
            f"receipt template {template!r}: {field_name} rule {pattern!r} has no (?P<amount>…)",
            field=field_name,
        )
    if not names & {"code", "name"}:
        raise TemplateError(
            f"receipt template {template!r}: {field_name} rule {pattern!r} needs (?P<code>…) or (?P<name>…)",
            field=field_name,
        )
    unknown = names - LINE_GROUPS
    if unknown:
        raise TemplateError(
            f"receipt template {template!r}: {field_name} rule {pattern!r} has unknown group(s) "
            f"{', '.join(sorted(unknown))}; known: {', '.join(sorted(LINE_GROUPS))}",
            field=field_name,
        )
    window = pattern.count("\\n") + 1
    if window > _WINDOW_MAX:
        raise TemplateError(
            f"receipt template {template!r}: {field_name} rule spans more than {_WINDOW_MAX} lines",
            field=field_name,
        )
    return Rule(kind, compiled, window)


def _patterns(
    template: str, field_name: str, patterns: Iterable[str], group: str | None, *, required: bool = False
) -> tuple[re.Pattern[str], ...]:
    compiled = tuple(_compile(template, field_name, p) for p in patterns)
    if group is not None:
        if required and not compiled:
            raise TemplateError(
                f"receipt template {template!r}: {field_name} needs at least one pattern", field=field_name
            )
        for pattern in compiled:
            if group not in pattern.groupindex:
                raise TemplateError(
                    f"receipt template {template!r}: {field_name} pattern {pattern.pattern!r} "
                    f"has no (?P<{group}>…)",
                    field=field_name,
                )
    return compiled


def _compile(template: str, field_name: str, pattern: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise TemplateError(
            f"receipt template {template!r}: {field_name} patterns must be strings", field_name
        )
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise TemplateError(
            f"receipt template {template!r}: {field_name} pattern {pattern!r}: {exc}",
            field=field_name,
        ) from None


def _first(patterns: Sequence[re.Pattern[str]], lines: Sequence[str], group: str) -> str | None:
    return _find(patterns, lines, group)[1]


def _find(patterns: Sequence[re.Pattern[str]], lines: Sequence[str], group: str) -> tuple[int, str | None]:
    """The index and group text of the first line a pattern matches (len(lines), None if none does)."""
    for index, line in enumerate(lines):
        for pattern in patterns:
            match = pattern.fullmatch(line)
            if match is not None and match.group(group):
                return index, match.group(group).strip()
    return len(lines), None


_MONEY = re.compile(r"([-+]?)(\d{1,3}(?:[ .,'’]\d{3})+|\d+)(?:[.,](\d{1,2}))?([-+]?)")
_QUANTITY = re.compile(r"\d{1,6}(?:[.,]\d{1,3})?")


def parse_money(text: str, decimal: str) -> int | None:
    """`12,50` → 1250 (with `,` as the decimal mark); None when `text` is not exactly an amount."""
    cleaned = _CURRENCY.sub("", text)
    match = _MONEY.fullmatch(cleaned)
    if match is None:
        return None
    lead, whole, fraction, trail = match.groups()
    if lead and trail:
        return None
    if fraction is not None and cleaned[match.end(2)] != decimal:
        return None  # `1.50` on a template whose decimal mark is `,`: a thousands group cut short
    grouped = re.sub(r"[ .,'’]", "", whole)
    if grouped != whole and decimal in whole:
        return None  # `1,234,50`: the decimal mark used to group thousands
    cents = int(grouped) * 100 + int((fraction or "0").ljust(2, "0"))
    return -cents if "-" in (lead, trail) else cents


def parse_quantity(text: str | None, decimal: str) -> Decimal | None:
    """`2` → 2, `0,412` → 0.412; None when not a positive quantity (1 when there is no quantity)."""
    if text is None:
        return Decimal(1)
    cleaned = text.strip()
    if _QUANTITY.fullmatch(cleaned) is None:
        return None
    if any(mark in cleaned for mark in ".,") and decimal not in cleaned:
        return None
    try:
        value = Decimal(cleaned.replace(decimal, "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None
    return value if value > 0 else None


def format_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
