"""Nothing stalls the feeds: an order or a sku the bridge cannot read is parked with its reason, the rest
goes on, and a parked item leaves the parked list once its retry succeeds.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from cloud_bridge import ledger
from cloud_bridge.db import Database
from cloud_bridge.parking import open_problems
from cloud_bridge.status import fleet_view, retry_parked
from simulators.shops import WooCommerceSimulator
from tests.bridge_helpers import FAST, RecordingPublisher, bridge_config, database, postgres, run, sale
from tests.test_bridge_sync import journal, shop
from wire import Kind, Order

__all__ = ["database", "postgres"]  # fixtures


def printed(publisher: RecordingPublisher, box: str) -> list[str]:
    """The orders sent to `box`, once each (an order goes again until the box acknowledges it)."""
    sent = [o.order_id for o in publisher.messages(box, Kind.ORDERS) if isinstance(o, Order)]
    return list(dict.fromkeys(sent))


def parked_keys() -> list[str]:
    return sorted(p.key for p in open_problems("shop"))


def test_an_order_without_a_total_is_parked_and_the_next_order_still_arrives(database: Database) -> None:
    with shop("woocommerce", database) as (sim, d, publisher, clock):
        assert isinstance(sim, WooCommerceSimulator)
        broken = sim.place_order("SKU-000", 2)
        sim.damage_order(broken, "total")
        good = sim.place_order("SKU-001", 1)
        run(d, clock)
        run(d, clock)
        tickets = printed(publisher, "till-1")
        assert tickets == [str(good)]
        [problem] = open_problems("shop")
        assert problem.key == f"order/{broken}" and "'total' is missing" in problem.error
        levels = ledger.levels("shop", ["SKU-000", "SKU-001"])
        # the shop took the broken order's units: the ledger holds them too, so no write puts them back
        assert (levels["SKU-000"].reserved, levels["SKU-001"].reserved) == (2, 1)
        journal(database, sale(1, "SKU-000", -1))
        run(d, clock)
        assert sim.stock("SKU-000") == 17  # 20, less the broken order's 2, less the till's 1

        sim.damage_order(broken)  # someone repairs the order in the shop
        run(d, clock)
        assert parked_keys() == []
        tickets = printed(publisher, "till-1")
        assert tickets == [str(good), str(broken)]
        assert ledger.levels("shop", ["SKU-000"])["SKU-000"].reserved == 2  # counted once


def test_a_parked_order_is_tried_again_and_leaves_the_list(database: Database) -> None:
    with shop("woocommerce", database) as (sim, d, publisher, clock):
        assert isinstance(sim, WooCommerceSimulator)
        d.timing = replace(FAST, parked_retry_s=60.0)
        first = sim.place_order("SKU-002", 1, pickup=True)
        second = sim.place_order("SKU-003", 1)
        for order_id in (first, second):
            sim.damage_order(order_id, "date_created_gmt")
        run(d, clock)
        assert parked_keys() == [f"order/{first}", f"order/{second}"]
        with sim.lock:  # repaired, and its modified date out of the feed's reach: only a retry sees it
            for order_id in (first, second):
                sim.orders[order_id].omitted = frozenset()
                sim.orders[order_id].modified -= timedelta(hours=1)
        run(d, clock)
        assert parked_keys() == [f"order/{first}", f"order/{second}"]  # not before parked_retry_s
        with database.write():
            retry_parked("shop", f"order/{second}")  # `tillbridge bridge retry shop order/…`
        assert parked_keys() == [f"order/{first}", f"order/{second}"]  # listed until it reads
        run(d, clock)
        assert parked_keys() == [f"order/{first}"]
        run(d, clock, 61)
        assert parked_keys() == []
        tickets = printed(publisher, "till-2")
        assert tickets == [str(second), str(first)]


def test_a_parked_sku_leaves_the_list_when_its_retry_succeeds(database: Database) -> None:
    with shop("woocommerce", database) as (sim, d, _, clock):
        assert isinstance(sim, WooCommerceSimulator)
        d.timing = replace(FAST, parked_retry_s=60.0)
        sim.reject_writes("SKU-003")
        journal(database, sale(1, "SKU-003", -2))
        run(d, clock)
        assert parked_keys() == ["sku/SKU-003"]
        sim.rejected_skus.clear()
        run(d, clock, 61)
        assert sim.stock("SKU-003") == 18
        assert parked_keys() == []


def test_bridge_status_lists_a_parked_order_with_its_reason(database: Database) -> None:
    with shop("woocommerce", database) as (sim, d, _, clock):
        assert isinstance(sim, WooCommerceSimulator)
        broken = sim.place_order("SKU-000", 1)
        sim.damage_order(broken, "line_items")
        run(d, clock)
        config = bridge_config(database.url, "mqtt://127.0.0.1:1", [d.shop])
        [problem] = fleet_view(config).parked
        assert (problem.key, problem.what) == (f"order/{broken}", "order")
        assert "line_items" in problem.error
        assert '"key": "order/' in fleet_view(config).to_json()
