"""A POS's catalog export (CSV) read into products, all or nothing: `tillbridge catalog import FILE.csv` on a
box, `tillbridge bridge import SHOP FILE.csv` for every box of a shop. Both sides read a file the same way,
into the wire's `Product`s under the wire's limits, so it lives with the catalog contract.

Sans-IO: bytes in, `ImportPlan` out; the caller shows it (a dry run) or applies it in one transaction. POS
exports differ in everything, so the reader guesses what it can and says what it guessed:
- encoding: UTF-8 (with or without a BOM), else Windows-1252 (what Spanish and French tills write);
- delimiter: `,` `;` tab or `|`, whichever splits the header and the first rows into the same number of
  columns (a `;` file with decimal commas is the usual European export);
- columns: by header name in English, Spanish, French, German or Italian, or by an explicit map
  (`sku=Ref`), which wins.
Every row is checked on its own and every problem is reported with its row number (the header is row 1);
a file with any problem changes nothing. Prices take a decimal comma or point and a currency sign; barcodes
may be several in a cell (separated by `|`, `,` or spaces) and are stored in the catalog spelling; stock of
an item sold by measure is given in kg, l or m and kept in grams, millilitres or millimetres.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

from wire.barcodes import catalog_barcode
from wire.catalog import BASE_UNITS, CatalogDelta, Product
from wire.codec import encode
from wire.errors import CatalogFileError, MalformedMessage

FIELDS: Final = ("sku", "barcodes", "name", "price", "unit", "tax", "stock")
REQUIRED: Final = ("sku", "name", "price")
SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "sku": (
        "sku",
        "reference",
        "ref",
        "code",
        "item code",
        "article",
        "referencia",
        "código",
        "codigo",
        "référence",
        "artikelnummer",
        "art.-nr.",
        "codice",
        "plu",
    ),
    "barcodes": (
        "barcode",
        "barcodes",
        "ean",
        "ean13",
        "gtin",
        "upc",
        "código de barras",
        "codigo de barras",
        "code-barres",
        "code barre",
        "strichcode",
        "codice a barre",
    ),
    "name": (
        "name",
        "description",
        "product",
        "nombre",
        "descripción",
        "descripcion",
        "désignation",
        "designation",
        "libellé",
        "bezeichnung",
        "artikel",
        "descrizione",
        "nome",
    ),
    "price": (
        "price",
        "retail price",
        "sale price",
        "pvp",
        "precio",
        "prix",
        "prix ttc",
        "preis",
        "verkaufspreis",
        "prezzo",
    ),
    "unit": ("unit", "unidad", "unité", "unite", "einheit", "unità", "unita", "uom"),
    "tax": ("tax", "vat", "tax rate", "iva", "tva", "mwst", "ust"),
    "stock": (
        "stock",
        "quantity",
        "qty",
        "on hand",
        "existencias",
        "cantidad",
        "quantité",
        "bestand",
        "menge",
        "giacenza",
        "quantità",
    ),
}
UNITS: Final = {
    "each": "each",
    "unit": "each",
    "ud": "each",
    "u": "each",
    "pc": "each",
    "pcs": "each",
    "kg": "kg",
    "g": "g",
    "l": "l",
    "m": "m",
}
DELIMITERS: Final = ",;\t|"
MAX_BYTES: Final = 64 * 1024 * 1024
_MONEY: Final = re.compile(r"[€$£\s]|EUR|USD|GBP")


@dataclass(frozen=True)
class Row:
    """One product as read from a row; `line` is its row number in the file (the header is 1)."""

    line: int
    product: Product
    tax: str = ""


@dataclass(frozen=True)
class ImportPlan:
    """What the file holds: products, or problems by row number. `encoding`, `delimiter` and `columns`
    say what was guessed, so a person can check them in the preview.
    """

    encoding: str
    delimiter: str
    columns: Mapping[str, str]
    rows: tuple[Row, ...] = ()
    errors: tuple[str, ...] = ()
    ignored: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.errors


def read_catalog(
    data: bytes,
    *,
    column_map: Mapping[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> ImportPlan:
    """The plan for `data`; raises `CatalogFileError` only when the file as a whole cannot be a catalog."""
    if len(data) > MAX_BYTES:
        raise CatalogFileError(f"the file is {len(data)} bytes; at most {MAX_BYTES} are read")
    text, used = _decode(data, encoding)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise CatalogFileError("the file is empty or its first line (the header) is blank")
    sep = delimiter or _delimiter(lines[:20])
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    header = [cell.strip() for cell in records[0]]
    columns = _columns(header, column_map or {})
    ignored = tuple(name for name in header if name and name not in columns.values())
    index = {field_: header.index(name) for field_, name in columns.items()}
    rows: list[Row] = []
    errors: list[tuple[int, str]] = []
    for line, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        try:
            rows.append(_row(line, cells, index))
        except MalformedMessage as exc:
            errors.append((line, str(exc)))
    errors += _clashes(rows)
    shown = tuple(f"row {line}: {problem}" for line, problem in sorted(errors, key=lambda e: e[0]))
    return ImportPlan(used, sep, columns, tuple(rows), shown, ignored)


def _decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise CatalogFileError(f"the file is not {encoding}: {exc}") from exc
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace"), "utf-8 (BOM)"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace"), "cp1252"


def _delimiter(lines: Sequence[str]) -> str:
    """The delimiter that gives the header several columns and every sample row as many."""
    best, best_score = ",", -1
    for sep in DELIMITERS:
        widths = [len(next(csv.reader([line], delimiter=sep))) for line in lines if line.strip()]
        if not widths or widths[0] < 2:
            continue
        score = widths[0] * 10 + sum(width == widths[0] for width in widths)
        if score > best_score:
            best, best_score = sep, score
    return best


def _columns(header: Sequence[str], explicit: Mapping[str, str]) -> dict[str, str]:
    folded = {name.casefold(): name for name in header if name}
    columns: dict[str, str] = {}
    for field_, name in explicit.items():
        if field_ not in FIELDS:
            raise CatalogFileError(f"--map {field_}=…: the fields are {', '.join(FIELDS)}")
        if name.casefold() not in folded:
            raise CatalogFileError(f"--map {field_}={name}: the header has no column {name!r}")
        columns[field_] = folded[name.casefold()]
    for field_, names in SYNONYMS.items():
        if field_ not in columns:
            found = next(
                (folded[n] for n in names if n in folded and folded[n] not in columns.values()), None
            )
            if found is not None:
                columns[field_] = found
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise CatalogFileError(
            f"no column for {', '.join(missing)} in the header ({', '.join(header)[:200]}); "
            "name it with --map FIELD=COLUMN"
        )
    return columns


def _row(line: int, cells: Sequence[str], index: Mapping[str, int]) -> Row:
    def cell(name: str) -> str:
        at = index.get(name)
        return cells[at].strip() if at is not None and at < len(cells) else ""

    unit = _unit(cell("unit"))
    price = _decimal(cell("price"), "price")
    if price < 0:
        raise MalformedMessage("price", f"{cell('price')!r} is negative")
    if unit == "g":  # a price per gram: the catalog keeps prices per kilogram, stock in grams either way
        unit, price, per_base = "kg", price * 1000, Decimal(1)
    else:
        per_base = Decimal(1000) if BASE_UNITS.get(unit) else Decimal(1)
    stock = None
    if cell("stock"):
        stock = _whole(_decimal(cell("stock"), "stock") * per_base, "stock")
    codes = tuple(
        dict.fromkeys(catalog_barcode(code) for code in re.split(r"[|,;\s]+", cell("barcodes")) if code)
    )
    product = Product(cell("sku"), cell("name"), _whole(price * 100, "price"), codes, stock, unit)
    try:
        encode(CatalogDelta(0, 1, (product,)))
    except MalformedMessage as exc:
        raise MalformedMessage(exc.path.removeprefix("catalog.upserts[0]."), exc.problem) from exc
    return Row(line, product, cell("tax"))


def _unit(text: str) -> str:
    if not text:
        return "each"
    unit = UNITS.get(text.casefold().rstrip("."))
    if unit is None:
        raise MalformedMessage("unit", f"{text[:20]!r} is not one of each, kg, g, l, m")
    return unit


def _decimal(text: str, what: str) -> Decimal:
    """`1.234,56`, `1,234.56`, `12,5`, `€ 3.20`: the last `,` or `.` is the decimal mark."""
    plain = _MONEY.sub("", text)
    mark = max(plain.rfind(","), plain.rfind("."))
    if mark >= 0:
        plain = re.sub(r"[.,']", "", plain[:mark]) + "." + plain[mark + 1 :]
    try:
        value = Decimal(plain)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or abs(value) > Decimal(10) ** 12:
        raise MalformedMessage(what, f"{text[:30]!r} is not a number" if text else "is empty")
    return value


def _whole(value: Decimal, what: str) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _clashes(rows: Sequence[Row]) -> list[tuple[int, str]]:
    """A sku twice, or one barcode on two skus: which one a scan sells would be an accident of order."""
    errors: list[tuple[int, str]] = []
    skus: dict[str, int] = {}
    codes: dict[str, tuple[str, int]] = {}
    for row in rows:
        sku = row.product.sku
        if sku in skus:
            errors.append((row.line, f"sku {sku!r} is already on row {skus[sku]}"))
        skus.setdefault(sku, row.line)
        for code in row.product.barcodes:
            owner = codes.setdefault(code, (sku, row.line))
            if owner[0] != sku:
                errors.append((row.line, f"barcode {code} belongs to sku {owner[0]!r} (row {owner[1]})"))
    return errors
