"""The PrestaShop connector against the PrestaShop simulator, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from cloud_bridge.connectors import OrderState, StockChange
from cloud_bridge.errors import (
    MalformedResponse,
    ShopAuthError,
    StaleStock,
    UnknownSku,
    UnsupportedOperation,
)
from cloud_bridge.retry import NO_RETRY
from simulators.shops import Fault, ManualClock, PrestaShopSimulator
from tests.shop_helpers import SMALL, presta

XML_HEADERS = {"Content-Type": "text/xml"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator(SMALL) as shop:
        yield shop


def _stock_xml(row: dict[str, object], *, without: str) -> bytes:
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in row.items() if k != without)
    return f"<prestashop><stock_available>{inner}</stock_available></prestashop>".encode()


def test_a_write_puts_the_whole_row_back_with_only_the_quantity_changed(
    sim: PrestaShopSimulator, clock: ManualClock
) -> None:
    row_id = sim.stock_row("OIL-1L")["id"]
    sim.rows["stock_availables"][row_id] |= {
        "location": "Pasillo 3",
        "out_of_stock": "1",
        "id_shop_group": "2",
    }
    before = sim.stock_row("OIL-1L")
    connector = presta(sim, clock)
    assert connector.get_stock(["OIL-1L"])["OIL-1L"].quantity == 24
    [result] = connector.set_stock([StockChange("OIL-1L", 9)])
    assert result.ok and result.quantity == 9
    assert sim.stock_row("OIL-1L") == before | {"quantity": "9"}
    # the row read a moment ago (display=full) is what goes back: no read of its own before the PUT
    assert (
        sim.calls["GET /api/stock_availables/{id}"] == 0 and sim.calls["PUT /api/stock_availables/{id}"] == 1
    )


def test_reads_of_known_skus_take_one_request_for_many(sim: PrestaShopSimulator, clock: ManualClock) -> None:
    connector = presta(sim, clock)
    skus = ["OIL-1L", "MILK-1L", "BREAD"]
    first = connector.get_stock(skus)
    sim.edit_stock("MILK-1L", -3)
    before = sim.total_calls
    again = connector.get_stock(skus)
    assert again["MILK-1L"].quantity == (first["MILK-1L"].quantity or 0) - 3
    assert sim.total_calls - before == 1  # GET /stock_availables?filter[id]=[a|b|c]&display=full
    clock.advance(2)  # the read is no longer fresh: a write checks against the row read again, in one request
    before = sim.total_calls
    results = connector.set_stock([StockChange(s, 5, expected=again[s].quantity) for s in skus])
    assert all(r.ok for r in results) and [sim.stock(s) for s in skus] == [5, 5, 5]
    assert sim.total_calls - before == 1 + 3  # one read of the three rows, one PUT each


def test_the_simulator_breaks_rows_like_prestashop_when_a_put_omits_fields(
    sim: PrestaShopSimulator, clock: ManualClock
) -> None:
    row = sim.stock_row("BREAD")
    url, auth = f"{sim.url}/api/stock_availables/{row['id']}", (sim.key, "")
    missing_required = requests.put(url, data=_stock_xml(row, without="quantity"), auth=auth, timeout=5)
    assert missing_required.status_code == 400 and b"41" in missing_required.content
    assert sim.stock_row("BREAD") == row
    partial = requests.put(url, data=_stock_xml(row, without="id_shop"), auth=auth, timeout=5)
    assert partial.status_code == 200
    assert sim.stock_row("BREAD")["id_shop"] == "0"
    assert presta(sim, clock).get_stock(["BREAD"]) == {}  # the row left shop 1: the product lost its stock


def test_combinations_are_found_by_reference(sim: PrestaShopSimulator, clock: ManualClock) -> None:
    product = sim.add_product("TEE", "Camiseta", 1500, 0)
    sim.add_combination(product, "TEE-M", 6)
    connector = presta(sim, clock)
    assert connector.get_stock(["TEE-M"])["TEE-M"].quantity == 6
    assert connector.set_stock([StockChange("TEE-M", 2)])[0].ok
    assert sim.stock("TEE-M") == 2 and sim.stock("TEE") == 2  # the product's row: its combinations' sum


def test_unknown_references_survive_the_empty_list_quirk(
    sim: PrestaShopSimulator, clock: ManualClock
) -> None:
    connector = presta(sim, clock)
    assert connector.get_stock(["NOPE"]) == {}  # PrestaShop answers an empty JSON list as []
    [result] = connector.set_stock([StockChange("NOPE", 1)])
    assert isinstance(result.error, UnknownSku)


def test_patch_is_used_on_8x_and_the_full_put_on_17(clock: ManualClock) -> None:
    with PrestaShopSimulator(SMALL) as modern:
        assert presta(modern, clock, use_patch=True).set_stock([StockChange("MILK-1L", 3)])[0].ok
        assert modern.stock("MILK-1L") == 3 and modern.calls["PATCH /api/stock_availables/{id}"] == 1
        assert "GET /api/stock_availables/{id}" not in modern.calls
    with PrestaShopSimulator(SMALL, version="1.7.8.11") as old:
        connector = presta(old, clock, use_patch=True)
        assert connector.set_stock([StockChange("MILK-1L", 3)])[0].ok
        assert connector.set_stock([StockChange("MILK-1L", 4)])[0].ok
        assert old.stock("MILK-1L") == 4
        assert old.calls["PATCH /api/stock_availables/{id}"] == 1  # 405 once, then PUT only
        assert old.calls["PUT /api/stock_availables/{id}"] == 2


def test_expected_quantity_is_checked_on_the_fresh_row(sim: PrestaShopSimulator, clock: ManualClock) -> None:
    connector = presta(sim, clock)
    connector.get_stock(["OIL-1L"])
    sim.place_order("OIL-1L", 4)
    clock.advance(2)  # a read a moment old stands for the check (`ReadTimes`); this one is read again
    [result] = connector.set_stock([StockChange("OIL-1L", 30, expected=24)])
    assert isinstance(result.error, StaleStock) and result.error.current == 20
    assert sim.stock("OIL-1L") == 20


def test_a_wrong_key_is_a_permanent_error_naming_the_shop(
    sim: PrestaShopSimulator, clock: ManualClock
) -> None:
    connector = presta(sim, clock, key="WRONGKEY0000000000000000000000PS")
    with pytest.raises(ShopAuthError, match="demo-presta") as caught:
        connector.get_stock(["OIL-1L"])
    assert "WRONGKEY" not in str(caught.value)
    assert sim.total_calls == 1


def test_orders_are_polled_by_date_upd_and_completed_through_order_histories(
    sim: PrestaShopSimulator, clock: ManualClock
) -> None:
    connector = presta(sim, clock, pickup_carriers=(2,))
    order_id = sim.place_order("BREAD", 3, pickup=True)
    orders, cursor = connector.orders_since(None)
    assert [(o.order_id, o.state, o.pickup, o.lines[0].sku, o.lines[0].qty) for o in orders] == [
        (str(order_id), OrderState.PAID, True, "BREAD", 3)
    ]
    assert sim.stock("BREAD") == 12  # stock left at validation
    assert connector.orders_since(cursor)[0] == []
    done = connector.complete_order(str(order_id))
    assert done.state is OrderState.COMPLETED and sim.order_state(order_id) == 5
    changed, _ = connector.orders_since(cursor)
    assert [o.state for o in changed] == [OrderState.COMPLETED]


def test_prices_come_tax_excluded_with_the_name_in_the_shop_language(
    sim: PrestaShopSimulator, clock: ManualClock
) -> None:
    products, cursor = presta(sim, clock).products_since(None)
    oil = next(p for p in products if p.sku == "OIL-1L")
    assert (oil.name, oil.price_cents, oil.tax_included) == ("Aceite 1 L", 1095, False)
    sim.set_price("OIL-1L", 1150)
    changed, _ = presta(sim, clock).products_since(cursor)
    assert [(p.sku, p.price_cents) for p in changed] == [("OIL-1L", 1150)]


def test_xml_with_a_dtd_is_refused(sim: PrestaShopSimulator, clock: ManualClock) -> None:
    connector = presta(sim, clock, retry=NO_RETRY)
    connector.get_stock(["OIL-1L"])
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><prestashop>&a;</prestashop>'
    sim.inject(Fault(200, body=evil, match="PUT /api/stock_availables/{id}"))
    [result] = connector.set_stock([StockChange("OIL-1L", 1)])
    assert isinstance(result.error, MalformedResponse) and "DTD" in str(result.error)
    assert sim.stock("OIL-1L") == 24


def test_webhooks_are_unsupported(sim: PrestaShopSimulator, clock: ManualClock) -> None:
    with pytest.raises(UnsupportedOperation):
        presta(sim, clock).verify_webhook({}, b"{}")


def test_a_put_without_xml_is_refused_by_the_simulator(sim: PrestaShopSimulator) -> None:
    row_id = sim.stock_row("OIL-1L")["id"]
    reply = requests.put(
        f"{sim.url}/api/stock_availables/{row_id}", json={"quantity": 1}, auth=(sim.key, ""), timeout=5
    )
    assert reply.status_code == 400 and sim.stock("OIL-1L") == 24
    delete = requests.delete(f"{sim.url}/api/stock_availables/{row_id}", auth=(sim.key, ""), timeout=5)
    assert delete.status_code == 405
