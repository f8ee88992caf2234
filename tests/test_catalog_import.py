"""`tillbridge catalog import FILE.csv` as a shop owner runs it on a box with no shop connected: a POS's
export, guessed and previewed, applied all or nothing, and then sold at the till.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_agent.store import Store
from tests.core_helpers import running_core
from wire.catalog_csv import read_catalog
from wire.errors import CatalogFileError

SPANISH_EXPORT = (
    "Referencia;Descripción;PVP;EAN;Unidad;IVA;Existencias;Familia\r\n"
    "OIL-1L;Aceite de oliva 1 L;10,95;8410000000016;ud;10;24;Aceites\r\n"
    "HAM;Jamón serrano al corte;24,90 €;2000042000004;kg;10;5,250;Charcutería\r\n"
    "SOUP;Sopa;1,99;036000291452 | 8410000000023;;10;;Conservas\r\n"
).encode("cp1252")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tillbridge", "catalog", "import", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_spanish_export_is_read_with_its_encoding_delimiter_and_decimal_commas() -> None:
    plan = read_catalog(SPANISH_EXPORT)
    assert (plan.encoding, plan.delimiter, plan.ok) == ("cp1252", ";", True)
    assert (
        plan.columns["price"] == "PVP" and plan.columns["barcodes"] == "EAN" and plan.ignored == ("Familia",)
    )
    oil, ham, soup = (row.product for row in plan.rows)
    assert (oil.sku, oil.price_cents, oil.unit, oil.stock) == ("OIL-1L", 1095, "each", 24)
    assert (ham.name, ham.price_cents, ham.unit, ham.stock) == ("Jamón serrano al corte", 2490, "kg", 5250)
    assert soup.barcodes == ("0036000291452", "8410000000023") and soup.stock is None


def test_every_bad_row_is_reported_by_its_row_number(tmp_path: Path) -> None:
    bad = (
        b"sku,name,price,barcode\n"
        b"A,Good,1.00,8410000000016\n"
        b"B,Price in words,twelve,\n"
        b",No sku,1.00,\n"
        b"C,Negative,-2.00,\n"
        b"D,Bad check digit,1.00,8410000000017\n"
        b"E,Shared barcode,1.00,8410000000016\n"
        b"A,Again,1.00,\n"
    )
    plan = read_catalog(bad)
    assert plan.errors == (
        "row 3: price: 'twelve' is not a number",
        "row 4: sku: expected a non-empty string, got ''",
        "row 5: price: '-2.00' is negative",
        "row 6: barcode: '8410000000017': check digit is 7, expected 6",
        "row 7: barcode 8410000000016 belongs to sku 'A' (row 2)",
        "row 8: sku 'A' is already on row 2",
    )


def test_a_file_with_problems_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"sku,name,price\nA,Apple,1.00\nB,Pear,abc\n")
    out = run(str(path), "--data-dir", str(tmp_path))
    assert out.returncode == 1
    assert (
        "row 3: price: 'abc' is not a number" in out.stdout and "nothing imported: 1 problems" in out.stderr
    )
    store = Store.open(tmp_path / "tillbridge.db")
    try:
        assert store.product_count() == 0
    finally:
        store.close()


def test_a_dry_run_previews_and_the_import_then_sells_at_the_till_offline(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(SPANISH_EXPORT)
    preview = run(str(path), "--data-dir", str(tmp_path), "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert "read " in preview.stdout and "cp1252, delimiter ';'" in preview.stdout
    assert "row 3: new     HAM  Jamón serrano al corte  24.90/kg  2000042000004  stock 5250" in preview.stdout
    assert "3 products: 3 new, 0 changed, 0 unchanged; dry run, nothing changed" in preview.stdout
    done = run(str(path), "--data-dir", str(tmp_path))
    assert done.returncode == 0 and "3 products: 3 new" in done.stdout and "; imported" in done.stdout
    again = run(str(path), "--data-dir", str(tmp_path))
    assert "0 new, 0 changed, 3 unchanged" in again.stdout
    with running_core(tmp_path, store=Store.open(tmp_path / "tillbridge.db")) as box:
        soup, ham = box.scan("036000291452", "2000042003500")  # a UPC-A and a 350 g scale label
    assert soup.records[0].data["stock_after"] == -1 and soup.records[0].data["sku"] == "SOUP"
    assert ham.records[0].data["stock_after"] == 5250 - 350


def test_a_column_map_names_columns_the_reader_does_not_know(tmp_path: Path) -> None:
    data = b"Art|Text|Euro\nX1|Thing|2.50\n"
    with pytest.raises(CatalogFileError, match="no column for sku, name, price"):
        read_catalog(data)
    plan = read_catalog(data, column_map={"sku": "Art", "name": "Text", "price": "Euro"})
    assert plan.delimiter == "|" and [(r.product.sku, r.product.price_cents) for r in plan.rows] == [
        ("X1", 250)
    ]


@settings(max_examples=200)
@given(data=st.binary(max_size=400) | st.text(max_size=300).map(str.encode))
def test_any_file_is_a_plan_or_a_named_refusal(data: bytes) -> None:
    try:
        plan = read_catalog(b"sku;name;price;ean;stock;unit\n" + data)
    except CatalogFileError as exc:
        assert str(exc)
        return
    assert all(error.startswith("row ") for error in plan.errors)
    assert all(row.product.price_cents >= 0 for row in plan.rows)
