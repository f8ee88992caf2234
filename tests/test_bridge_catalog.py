"""A real shop's catalog reaching the boxes through the bridge: one bad product is parked with its reason and
the rest of the catalog still syncs (issue 13 High 2, issue 12 "bad input").
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from cloud_bridge import ledger, state
from cloud_bridge import models as m
from cloud_bridge.catalog import CatalogFact, answer_requests, apply_products, snapshot
from cloud_bridge.config import ShopConfig
from cloud_bridge.db import Database
from cloud_bridge.journal import apply_batch
from cloud_bridge.parking import open_problems
from cloud_bridge.status import fleet_view, render
from cloud_bridge.sync import ShopDriver
from devices.barcodes import with_check_digit
from simulators.shops import PrestaShopSimulator, WooCommerceSimulator
from simulators.shops.seed import Item
from tests.bridge_helpers import (
    Clock,
    RecordingPublisher,
    Simulator,
    batch,
    bridge_config,
    config_toml,
    database,
    driver,
    postgres,
    sale,
    seed,
    shop_config,
    start_simulator,
)
from wire import CatalogDelta, CatalogRequest, CatalogSnapshotChunk, Kind, Product, decode

__all__ = ["database", "postgres"]  # fixtures

LONG_SKU = "S" * 129
LONG_NAME = "N" * 1025


@contextmanager
def woocommerce(db: Database) -> Iterator[tuple[WooCommerceSimulator, ShopDriver, RecordingPublisher, Clock]]:
    sim = start_simulator("woocommerce", seed(3, 20))
    assert isinstance(sim, WooCommerceSimulator)
    try:
        publisher, clock = RecordingPublisher(), Clock()
        yield sim, driver(db, shop_config("shop", sim, ["till-1"]), publisher, clock), publisher, clock
    finally:
        sim.stop()


def synced_skus() -> set[str]:
    return {p.sku for chunk in snapshot("shop") for p in chunk.products}


def problems() -> dict[str, str]:
    return {p.key: p.error for p in open_problems("shop")}


def test_a_sku_or_name_past_the_wire_limits_at_first_start_is_parked_and_the_shop_initialises(
    database: Database,
) -> None:
    with woocommerce(database) as (sim, d, _, _):
        long_sku = sim.add_product(LONG_SKU, "Too long a sku", 100, 5)
        long_name = sim.add_product("LONG-NAME", LONG_NAME, 100, 5)
        assert d.run_pass(force=True)  # before: "pass failed" for ever, the shop never initialised
        assert state.load("shop").initialised
        assert synced_skus() == {"SKU-000", "SKU-001", "SKU-002"}
        found = problems()
        assert "sku: expected at most 128 characters" in found[f"product/{long_sku}"]
        assert "name: expected at most 1024 characters" in found[f"product/{long_name}"]
        assert "'LONG-NAME'" in found[f"product/{long_name}"]


def test_unreadable_or_negative_prices_are_parked_and_shown_in_bridge_status(database: Database) -> None:
    with woocommerce(database) as (sim, d, _, _):
        words = sim.add_product("WORDS", "Price in words", 100, 5)
        negative = sim.add_product("NEGATIVE", "Negative price", 100, 5)
        sim.products[words].regular_price = "twelve"
        sim.products[negative].regular_price = "-1.50"
        assert d.run_pass(force=True)
        assert synced_skus() == {"SKU-000", "SKU-001", "SKU-002"}
        config = bridge_config("sqlite://", "mqtt://127.0.0.1:1", [d.shop])
        text = render(fleet_view(config))
        assert f"shop product/{words}: sku 'WORDS': product price: 'twelve' is not an amount" in text
        assert (
            f"shop product/{negative}: sku 'NEGATIVE': price_cents: expected an integer ≥ 0, got -150" in text
        )


def test_a_product_fixed_in_the_shop_reaches_the_boxes_and_leaves_the_parked_list(database: Database) -> None:
    with woocommerce(database) as (sim, d, publisher, clock):
        bad = sim.add_product("FIXME", LONG_NAME, 100, 5)
        assert d.run_pass(force=True)
        assert f"product/{bad}" in problems()
        sim.set_price("SKU-001", 250)  # a change of a good product still goes out meanwhile
        clock.advance(1)
        assert d.run_pass(force=True)
        [first, delta] = publisher.messages("till-1", Kind.CATALOG)
        assert isinstance(first, CatalogSnapshotChunk)  # at the first start, every box gets the catalog
        assert isinstance(delta, CatalogDelta) and [p.sku for p in delta.upserts] == ["SKU-001"]
        sim.products[bad].name = "Fixed name"
        sim.set_price("FIXME", 300)
        clock.advance(1)
        assert d.run_pass(force=True)
        last = publisher.messages("till-1", Kind.CATALOG)[-1]
        assert isinstance(last, CatalogDelta)
        assert [(p.sku, p.name) for p in last.upserts] == [("FIXME", "Fixed name")]
        assert problems() == {}


@pytest.mark.parametrize(
    ("codes", "reason"),
    [
        (("8410000000017",), "barcode: '8410000000017': check digit is 7, expected 6"),
        (("84100000",), "barcode: '84100000': check digit is 0, expected 9"),
        (("841000000001",), "barcode: '841000000001': check digit is 1, expected 9"),
        (("12345678901",), "barcode: '12345678901': 11 digits is no GTIN"),
        (("caf\u00e9 1",), "holds spaces, control or non-ASCII characters"),
        (("X" * 129,), "barcode: 129 characters, at most 128"),
        (("8410000000016",), "barcode: 8410000000016 belongs to sku 'SKU-000' already"),
    ],
)
def test_bad_or_shared_barcodes_are_parked_with_the_reason(
    database: Database, codes: tuple[str, ...], reason: str
) -> None:
    from cloud_bridge.catalog import CatalogFact, accept, apply_products

    with database.write():
        apply_products(
            "shop", accept("shop", [CatalogFact("SKU-000", "Oil", 100, ("8410000000016",))], 1.0), (), 1
        )
        good = accept(
            "shop", [CatalogFact("BAD", "Bad", 100, codes, ref="7"), CatalogFact("OK", "Ok", 1)], 2.0
        )
    assert [f.sku for f in good] == ["OK"]
    assert reason in problems()["product/7"]


def test_barcodes_are_kept_in_one_spelling_whatever_the_shop_typed(database: Database) -> None:
    from cloud_bridge.catalog import CatalogFact, accept

    typed = ("012345678905", "00012345678905", "978-0-306-40615-7", "0306406152", "ABC-123", "42")
    with database.write():
        [fact] = accept("shop", [CatalogFact("A", "A", 1, typed)], 1.0)
    assert fact.barcodes == ("0012345678905", "9780306406157", "ABC-123", "42")
    assert m.Parked.select().count() == 0


# --- barcodes, variants and units from every shop -------------------------------------------------------

PLATFORMS = ["woocommerce", "prestashop", "shopify"]
CATALOG_SETTINGS: dict[str, dict[str, Any]] = {
    "woocommerce": {"barcode_meta": ["_ean", "_barcode"], "unit_meta": "_unit"},
    "prestashop": {"unit_field": "unity"},
    "shopify": {"unit_metafield": "custom.unit"},
}
UPC_A = "036000291452"  # a 12-digit UPC-A, as a US supplier prints it
UPC_B = with_check_digit("04963406001")
SHIRT_S, SHIRT_M, APPLES = (with_check_digit(f"84100000010{i}") for i in range(3))


@contextmanager
def any_shop(
    db: Database, platform: str, items: list[Item]
) -> Iterator[tuple[Simulator, ShopDriver, RecordingPublisher, Clock]]:
    sim = start_simulator(platform, items)
    try:
        publisher, clock = RecordingPublisher(), Clock()
        config = shop_config("shop", sim, ["till-1"], catalog=CATALOG_SETTINGS[platform])
        yield sim, driver(db, config, publisher, clock), publisher, clock
    finally:
        sim.stop()


def synced() -> dict[str, Product]:
    return {p.sku: p for chunk in snapshot("shop") for p in chunk.products}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_barcodes_and_units_from_every_shop_reach_the_boxes(database: Database, platform: str) -> None:
    items = [
        Item("OIL-1L", "Aceite", 1095, 24, ("8410000000016",)),
        Item("SOUP", "Soup", 199, 10, (UPC_A,)),
        Item("WATER", "Agua", 55, 60, ("8410000000061", UPC_B)),
        Item("HAM", "Jamón", 2490, 5000, ("2000042000004",), "kg"),
    ]
    with any_shop(database, platform, items) as (_, d, _, _):
        assert d.run_pass(force=True)
        products = synced()
    assert products["OIL-1L"].barcodes == ("8410000000016",)
    assert products["SOUP"].barcodes == ("0" + UPC_A,)  # one spelling: a scan of the UPC-A finds it
    water = ("8410000000061",) if platform == "shopify" else ("8410000000061", "0" + UPC_B)
    assert products["WATER"].barcodes == water  # Shopify has one barcode per variant
    assert products["HAM"].unit == "kg" and products["OIL-1L"].unit is None  # None: the box keeps its own
    assert problems() == {}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_variant_is_an_item_with_its_own_barcode_price_and_stock(
    database: Database, platform: str
) -> None:
    with any_shop(database, platform, []) as (sim, d, _, _):
        if isinstance(sim, WooCommerceSimulator):
            sim.add_variable_product(
                "Camiseta", [("TS-S", "S", 1500, 3), ("TS-M", "M", 1600, 4)], [SHIRT_S, SHIRT_M]
            )
            sim.add_product("", "Manzanas sueltas", 199, 20, barcode=APPLES)
        elif isinstance(sim, PrestaShopSimulator):
            shirt = sim.add_product("", "Camiseta", 1500, 0)
            sim.add_combination(shirt, "TS-S", 3, ean13=SHIRT_S)
            sim.add_combination(shirt, "TS-M", 4, ean13=SHIRT_M, price_impact_cents=100)
            sim.add_product("", "Manzanas sueltas", 199, 20, ean13=APPLES)
        else:
            sim.add_variants("Camiseta", [("TS-S", "S", 1500, 3, SHIRT_S), ("TS-M", "M", 1600, 4, SHIRT_M)])
            sim.add_variants("Manzanas sueltas", [("", "Default Title", 199, 20, APPLES)])
        assert d.run_pass(force=True)
        products = synced()
        stock = ledger.levels("shop", ["TS-S", "TS-M"])
    assert {sku: (p.price_cents, p.barcodes) for sku, p in products.items() if sku.startswith("TS-")} == {
        "TS-S": (1500, (SHIRT_S,)),
        "TS-M": (1600, (SHIRT_M,)),
    }
    assert "Camiseta" in products["TS-M"].name and products["TS-M"].name != "Camiseta"
    assert (stock["TS-S"].on_hand, stock["TS-M"].on_hand) == (3, 4)
    [apples] = [p for p in products.values() if APPLES in p.barcodes]  # no SKU: sold by its barcode
    assert apples.sku.startswith("id:") and apples.name == "Manzanas sueltas" and apples.price_cents == 199
    assert len(products) == 3  # the parent of the variants is not sellable


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_item_without_a_sku_sold_at_the_till_lowers_the_shop_stock(
    database: Database, platform: str
) -> None:
    with any_shop(database, platform, []) as (sim, d, _, clock):
        if isinstance(sim, WooCommerceSimulator):
            sim.add_product("", "Manzanas sueltas", 199, 20, barcode=APPLES)
        elif isinstance(sim, PrestaShopSimulator):
            sim.add_product("", "Manzanas sueltas", 199, 20, ean13=APPLES)
        else:
            sim.add_variants("Manzanas sueltas", [("", "Default Title", 199, 20, APPLES)])
        assert d.run_pass(force=True)
        [key] = synced()
        assert ledger.levels("shop", [key])[key].on_hand == 20 and problems() == {}
        entries, payload = batch(sale(1, key, -3))
        apply_batch(database, "shop", "till-1", entries, payload, time.time())
        clock.advance(1)
        assert d.run_pass(force=True)
        assert d.connector.get_stock([key])[key].quantity == 17 and problems() == {}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_unknown_unit_is_parked_with_the_value_the_shop_gave(database: Database, platform: str) -> None:
    with any_shop(database, platform, [Item("FLOUR", "Harina", 120, 10, (), "lb"), *seed(1, 5)]) as (
        _,
        d,
        _,
        _,
    ):
        assert d.run_pass(force=True)
        assert set(synced()) == {"SKU-000"}
        [reason] = problems().values()
    assert "sku 'FLOUR': unit 'lb' is not one of each, g, kg, l, m" in reason


def test_a_price_per_gram_becomes_a_price_per_kilogram_and_litres_stay_litres(database: Database) -> None:
    with any_shop(database, "woocommerce", []) as (sim, d, _, _):
        assert isinstance(sim, WooCommerceSimulator)
        saffron = sim.add_product("SAFFRON", "Azafrán", 0, 50, meta={"_unit": "g"})
        sim.products[saffron].regular_price = "4.1234"  # per gram, more digits than cents
        sim.add_product("OIL-BULK", "Aceite a granel", 890, 20_000, meta={"_unit": "L"})
        assert d.run_pass(force=True)
        products = synced()
    assert (products["SAFFRON"].unit, products["SAFFRON"].price_cents) == ("kg", 412_340)
    assert (products["OIL-BULK"].unit, products["OIL-BULK"].price_cents, products["OIL-BULK"].stock) == (
        "l",
        890,
        20_000,
    )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_catalog_longer_than_a_page_arrives_whole(database: Database, platform: str) -> None:
    """Each API pages its own way: WooCommerce `page`/`per_page` (also a product's variations), PrestaShop
    `limit=offset,count`, Shopify `after` cursors; 100 per page here."""
    codes = [with_check_digit(f"8420000{i:05d}") for i in range(130)]
    with any_shop(database, platform, []) as (sim, d, _, clock):
        if isinstance(sim, WooCommerceSimulator):
            sizes = [(f"V-{i:03d}", f"T{i}", 100 + i, 1) for i in range(130)]
            sim.add_variable_product("Tornillo", sizes, codes)
        elif isinstance(sim, PrestaShopSimulator):
            for i, code in enumerate(codes):
                sim.add_product(f"V-{i:03d}", f"Tornillo {i}", 100 + i, 1, ean13=code)
        else:
            sim.add_variants(
                "Tornillo", [(f"V-{i:03d}", f"T{i}", 100 + i, 1, c) for i, c in enumerate(codes)]
            )
        for _ in range(3):  # a pass reads a bounded number of pages; the next goes on from its cursor
            assert d.run_pass(force=True)
            clock.advance(1)
        products = synced()
    assert len(products) == 130
    assert (products["V-129"].price_cents, products["V-129"].barcodes) == (229, (codes[129],))


def test_a_catalog_file_imported_through_the_bridge_goes_to_every_box_of_the_shop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tillbridge.cli import main

    url = f"sqlite:///{tmp_path / 'bridge.db'}"
    shop = ShopConfig(
        "corner",
        "woocommerce",
        "http://127.0.0.1:9",
        ("till-1", "till-2"),
        {"consumer_key": "k", "consumer_secret": "s"},
    )
    config = tmp_path / "bridge.toml"
    config.write_text(config_toml(bridge_config(url, "mqtt://127.0.0.1:1883", [shop])))
    good = tmp_path / "good.csv"
    good.write_bytes(
        "Referencia;Descripción;PVP;EAN\nOIL-1L;Aceite 1 L;10,95;8410000000016\n".encode("cp1252")
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,price,barcode\nMILK,Leche,0.99,8410000000016\n")
    assert main(["bridge", "import", "corner", str(good), "--config", str(config), "--dry-run"]) == 0
    assert "1 products: 1 new, 0 changed, 0 unchanged; dry run" in capsys.readouterr().out
    assert main(["bridge", "import", "corner", str(good), "--config", str(config)]) == 0
    assert "catalog version 1 queued for 2 boxes" in capsys.readouterr().out
    assert main(["bridge", "import", "corner", str(bad), "--config", str(config)]) == 1  # the oil's barcode
    assert "sku 'MILK': barcode: 8410000000016 belongs to sku 'OIL-1L' already" in capsys.readouterr().out
    db = Database(url).open()
    try:
        queued = [decode(Kind.CATALOG, bytes(row.payload)) for row in m.Outbound.select()]
        assert sorted(row.box for row in m.Outbound.select()) == ["till-1", "till-2"]
        assert all(isinstance(d, CatalogDelta) and [p.sku for p in d.upserts] == ["OIL-1L"] for d in queued)
        assert [item.sku for item in m.CatalogItem.select()] == ["OIL-1L"]  # nothing of the bad file
    finally:
        db.close()


def test_a_box_missing_chunks_of_the_current_snapshot_gets_only_those(database: Database) -> None:
    """A box resuming a streamed snapshot (after a restart or a broker drop) names the chunks it lacks: the
    bridge sends it those alone, while a box asking about another version, or for all, gets every chunk."""
    facts = [CatalogFact(f"P-{i:05d}", f"Product {i}", 100 + i) for i in range(2500)]
    with database.write():
        apply_products("shop", facts, [], time.time())
        chunks = snapshot("shop")
        version = chunks[0].version
        assert len(chunks) == 3
        requests = {
            "resuming": CatalogRequest(version, "missing", version, (1,)),
            "behind": CatalogRequest(None, "missing", version - 1, (1,)),  # the bridge moved on since
            "new": CatalogRequest(None, "boot"),
        }
        m.Outbound.delete().execute()
        answer_requests("shop", requests, time.time())
    sent: dict[str, list[int]] = {}
    for row in m.Outbound.select().order_by(m.Outbound.id):
        chunk = decode(Kind.CATALOG, bytes(row.payload))
        assert isinstance(chunk, CatalogSnapshotChunk) and chunk.version == version
        sent.setdefault(row.box, []).append(chunk.chunk)
    assert sent == {"resuming": [1], "behind": [0, 1, 2], "new": [0, 1, 2]}
    again = snapshot("shop")[1]  # cut the same way each time: chunk 1 holds the same skus
    assert [p.sku for p in again.products] == [p.sku for p in chunks[1].products]
