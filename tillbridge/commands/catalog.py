"""`tillbridge catalog import FILE.csv`: a POS's catalog export into the box's store, all or nothing.

Works on the box without any shop or network: the store is opened directly (SQLite serialises it with a
running agent). `--dry-run` shows what would change and changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wire.catalog_csv import ImportPlan


def register(subparsers: Any) -> None:
    from firmware_agent.config import DEFAULT_CONFIG_PATH

    parser = subparsers.add_parser("catalog", help="import a catalog file into the box")
    sub = parser.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    imp = sub.add_parser(
        "import",
        help="import a CSV catalog export (sku, barcodes, name, price, unit, tax, stock)",
        description="Read a POS's CSV export into the box's catalog. Encoding, delimiter and columns are "
        "guessed and shown; every problem is listed with its row number, and a file with any problem "
        "changes nothing.",
    )
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    where = imp.add_mutually_exclusive_group()
    where.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="agent.toml (%(default)s)")
    where.add_argument("--data-dir", type=Path, help="the box's data folder, instead of the config's")
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="take FIELD (sku, barcodes, name, price, unit, tax, stock) from COLUMN (repeatable)",
    )
    imp.add_argument("--encoding", help="the file's encoding (default: UTF-8, else Windows-1252)")
    imp.add_argument("--delimiter", help="the column separator (default: guessed among , ; tab |)")
    imp.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    imp.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    from firmware_agent.catalog import compare, import_products
    from firmware_agent.store import Store

    delimiter = "\t" if args.delimiter in ("tab", "\\t") else args.delimiter
    plan = read_plan(args.file, args.map, encoding=args.encoding, delimiter=delimiter)
    if plan is None:
        return 1
    store = Store.open(_data_dir(args) / "tillbridge.db")
    try:
        products = [row.product for row in plan.rows]
        verdicts = compare(store, products) if args.dry_run else import_products(store, products)
    finally:
        store.close()
    for row in plan.rows:
        print(f"row {row.line}: {verdicts[row.product.sku]:<7} {_shown(row.product)}")
    counts = [list(verdicts.values()).count(v) for v in ("new", "changed", "same")]
    summary = f"{len(products)} products: {counts[0]} new, {counts[1]} changed, {counts[2]} unchanged"
    print(summary + ("; dry run, nothing changed" if args.dry_run else "; imported"))
    return 0


def read_plan(
    path: Path, mapping: list[str], *, encoding: str | None = None, delimiter: str | None = None
) -> ImportPlan | None:
    """The file read and its guesses shown; None (the problems printed by row) when any row is wrong."""
    from wire.catalog_csv import read_catalog
    from wire.errors import CatalogFileError

    column_map = dict(_pair(item) for item in mapping)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogFileError(f"cannot read {path}: {exc.strerror}") from exc
    plan = read_catalog(data, column_map=column_map, encoding=encoding, delimiter=delimiter)
    columns = ", ".join(f"{k}={v}" for k, v in plan.columns.items())
    ignored = f" (ignored: {', '.join(plan.ignored)})" if plan.ignored else ""
    print(f"read {path}: {plan.encoding}, delimiter {plan.delimiter!r}, columns {columns}{ignored}")
    if plan.ok:
        return plan
    for error in plan.errors:
        print(error)
    print(f"nothing imported: {len(plan.errors)} problems in {path}", file=sys.stderr)
    return None


def _shown(p: Any) -> str:
    per = "" if p.unit in (None, "each") else f"/{p.unit}"
    stock = "" if p.stock is None else f"  stock {p.stock}"
    return f"{p.sku}  {p.name}  {p.price_cents / 100:.2f}{per}  {' '.join(p.barcodes)}{stock}"


def _pair(item: str) -> tuple[str, str]:
    from wire.errors import CatalogFileError

    field, sep, column = item.partition("=")
    if not sep or not field or not column:
        raise CatalogFileError(f"--map {item!r}: expected FIELD=COLUMN, e.g. price=PVP")
    return field.strip(), column.strip()


def _data_dir(args: argparse.Namespace) -> Path:
    if args.data_dir is not None:
        return Path(args.data_dir)
    from firmware_agent.config import load_config

    return Path(load_config(args.config).box.data_dir)
