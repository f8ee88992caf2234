"""The box shows the cloud's stock truth plus its own newer sales: levels over a real mosquitto."""

from __future__ import annotations

import pytest

from devices.readings import ScanRead
from firmware_agent.domain import Mode
from firmware_agent.events import ModeRequest
from tests.mqtt_helpers import CloudPeer, LogWatch, broker, command_request, rows, running_box, settle
from wire import CatalogSnapshotChunk, Command, Kind, Levels, Product, SkuLevel, Telemetry

__all__ = ["broker"]

MILK = "8410000000023"  # MILK: 24 in the sample catalog


@pytest.fixture
def cloud(broker):
    peer = CloudPeer(broker.port)
    yield peer
    peer.close()


def stock(box, sku: str = "MILK") -> int:
    return int(box.core.call(lambda store: store.product(sku).stock))


def sell(box, times: int = 1) -> None:
    for _ in range(times):
        box.core.post(ScanRead("front", MILK))


def shows(box, expected: int, sku: str = "MILK") -> None:
    settle(box, lambda: stock(box, sku) == expected, what=f"{sku} showing {expected}")


def test_an_online_order_and_another_till_s_sale_show_at_the_till_at_once(tmp_path, broker, cloud):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        cloud.send(Levels(1, (SkuLevel("MILK", 21, 2),)))  # another till sold 3; an online order holds 2
        shows(box, 19)
        sell(box)
        cloud.wait_applied(1)
        shows(box, 18)  # its own sale counts at once, before the cloud has it
        [entry] = [e for e in cloud.seen.entries.values() if e["kind"] == "sale"]
        assert entry["stock_after"] == 18
        cloud.send(Levels(2, (SkuLevel("MILK", 20, 2),), upto=1))  # the cloud has applied that sale
        settle(box, lambda: rows(tmp_path, "SELECT version FROM level") == [(2,)], what="level 2 kept")
        assert stock(box) == 18  # counted once: in the level now, no longer as a local move
        assert rows(tmp_path, "SELECT COUNT(*) FROM local_move") == [(0,)]


def test_a_late_or_redelivered_older_level_changes_nothing(tmp_path, broker, cloud):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        cloud.send(Levels(7, (SkuLevel("MILK", 30, 0),)))
        shows(box, 30)
        with LogWatch("levels version 6: 0 of 1 skus taken") as watch:
            cloud.send(Levels(6, (SkuLevel("MILK", 3, 0),)))
            watch.wait()
        assert stock(box) == 30


def test_a_sale_the_level_does_not_include_yet_is_kept_until_one_does(tmp_path, broker):
    cloud = CloudPeer(broker.port, auto_ack=False)
    try:
        with running_box(tmp_path, broker.url, cloud.box) as box:
            cloud.send(Levels(1, (SkuLevel("MILK", 24, 0),)))
            shows(box, 24)
            sell(box, 2)
            cloud.wait(lambda s: len(s.entries) >= 2, what="two sales")
            cloud.ack(2)  # the ack overtakes the level that includes the sales ...
            settle(box, lambda: rows(tmp_path, "SELECT COUNT(*) FROM journal") == [(0,)], what="acked")
            cloud.send(Levels(3, (SkuLevel("MILK", 24, 0),), upto=0))  # ... computed before they were applied
            settle(box, lambda: rows(tmp_path, "SELECT version FROM level") == [(3,)], what="level 3 kept")
            assert stock(box) == 22
            cloud.send(Levels(4, (SkuLevel("MILK", 22, 0),), upto=2))
            settle(box, lambda: rows(tmp_path, "SELECT version FROM level") == [(4,)], what="level 4 kept")
            assert stock(box) == 22
    finally:
        cloud.close()


def test_a_catalog_snapshot_keeps_the_sales_the_cloud_has_not_acknowledged(tmp_path, broker):
    cloud = CloudPeer(broker.port, auto_ack=False)
    try:
        with running_box(tmp_path, broker.url, cloud.box) as box:
            sell(box, 3)
            cloud.wait(lambda s: len(s.entries) >= 3, what="three sales")
            shows(box, 21)
            products = (Product("MILK", "Leche entera", 99, (MILK,), stock=24),)  # made before the sales
            cloud.send(CatalogSnapshotChunk(5, 0, 1, products))
            settle(
                box,
                lambda: rows(tmp_path, "SELECT value FROM setting WHERE key = 'catalog_version'") == [("5",)],
            )
            assert stock(box) == 21  # not 24: the three sales are still the box's
    finally:
        cloud.close()


def test_a_malformed_levels_message_is_refused_naming_the_field_and_the_next_one_applies(
    tmp_path, broker, cloud
):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        bad = b'{"v":1,"version":3,"levels":[{"sku":"MILK","on_hand":10,"reserved":2,"available":9}]}'
        with LogWatch("levels.levels[0].available: expected on_hand - reserved = 8, got 9") as watch:
            cloud.send_raw(Kind.LEVELS, bad)
            watch.wait()
        cloud.send(Levels(4, (SkuLevel("MILK", 10, 2),)))
        shows(box, 8)


def test_status_says_which_level_version_the_box_holds(tmp_path, broker, cloud):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        cloud.send(Levels(12, (SkuLevel("MILK", 5, 0), SkuLevel("OIL-1L", 9, 1))))
        shows(box, 8, "OIL-1L")
        sell(box)
        reply = command_request(broker.port, Command("s1", "status"), box=cloud.box)
        assert reply.ok
        assert {k: reply.result[k] for k in ("levels_version", "skus_with_level", "local_moves")} == {
            "levels_version": 12,
            "skus_with_level": 2,
            "local_moves": 1,
        }


def test_a_count_names_the_level_it_was_made_against_and_counts_the_reserved_units(tmp_path, broker, cloud):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        cloud.send(Levels(9, (SkuLevel("MILK", 20, 2),)))  # 18 for sale, 2 set aside for an online order
        shows(box, 18)
        box.core.post(ModeRequest(Mode.COUNT, "button"))
        for _ in range(19):
            box.core.post(ScanRead("front", MILK))  # 19 here, the order's 2 among them
        shows(box, 17)
        cloud.wait(lambda s: any(e.get("counted") == 19 for e in s.entries.values()), what="the count")
        last = max((e for e in cloud.seen.entries.values() if e["kind"] == "count"), key=lambda e: e["seq"])
        assert {k: last[k] for k in ("counted", "level_version", "stock_after")} == {
            "counted": 19,
            "level_version": 9,
            "stock_after": 17,
        }


def test_a_level_whose_position_counts_in_another_store_keeps_every_sale_of_this_one(tmp_path, broker):
    cloud = CloudPeer(broker.port, auto_ack=False)
    try:
        with running_box(tmp_path, broker.url, cloud.box) as box:
            sell(box, 2)
            cloud.wait(lambda s: len(s.entries) >= 2, what="two sales")
            mine = box.core.call(lambda store: store.epoch)
            old_store = "0123456789abcdef"
            cloud.send(Levels(5, (SkuLevel("MILK", 24, 0),), upto=40, epoch=old_store))  # up to seq 40 ... of
            settle(box, lambda: rows(tmp_path, "SELECT version FROM level") == [(5,)], what="level 5 kept")
            assert stock(box) == 22  # ... the store this box had before: its own two sales still count
            cloud.send(Levels(6, (SkuLevel("MILK", 22, 0),), upto=2, epoch=mine))
            settle(box, lambda: rows(tmp_path, "SELECT version FROM level") == [(6,)], what="level 6 kept")
            assert stock(box) == 22 and rows(tmp_path, "SELECT COUNT(*) FROM local_move") == [(0,)]
    finally:
        cloud.close()


def test_a_lookup_at_the_till_shows_the_cloud_level(tmp_path, broker, cloud):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        cloud.send(Levels(3, (SkuLevel("MILK", 21, 2),)))
        shows(box, 19)
        box.core.post(ModeRequest(Mode.LOOKUP, "button"))
        box.core.post(ScanRead("front", MILK))
        while True:
            applied = box.running.applied.get(timeout=20)
            if isinstance(applied.event, ScanRead):
                break
        assert applied.outcome.message == "Leche entera: 0,99 €, stock 19"


def test_telemetry_says_how_current_the_box_s_stock_numbers_are(tmp_path, broker, cloud):
    with running_box(tmp_path, broker.url, cloud.box, telemetry_s=0.2) as box:
        cloud.send(Levels(21, (SkuLevel("MILK", 5, 0),)))
        shows(box, 5)
        reports = cloud.wait(
            lambda s: any(
                isinstance(msg, Telemetry) and (msg.counters or {}).get("levels_version") == 21
                for _, msg, _ in s.messages
            ),
            what="telemetry with the level version",
        )
        assert reports


def test_a_product_whose_level_came_before_the_product_shows_that_level(tmp_path, broker, cloud):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        cloud.send(Levels(4, (SkuLevel("SOAP", 30, 1),)))  # the catalog that adds it comes later
        settle(box, lambda: rows(tmp_path, "SELECT sku FROM level") == [("SOAP",)], what="the level kept")
        soap = Product("SOAP", "Jabón", 250, ("8410000000115",))  # a shop that does not track its stock
        cloud.send(CatalogSnapshotChunk(3, 0, 1, (soap,)))
        settle(box, lambda: box.core.call(lambda store: store.product("SOAP")) is not None, what="soap")
        assert stock(box, "SOAP") == 29


def test_telemetry_says_how_many_shelf_labels_wait_so_the_owner_s_page_can_show_it(tmp_path, broker, cloud):
    with running_box(tmp_path, broker.url, cloud.box, telemetry_s=0.2) as box:
        dearer = Product("MILK", "Leche entera", 109, (MILK,))  # 0.99 in the sample catalog
        cloud.send(CatalogSnapshotChunk(3, 0, 1, (dearer,)))
        settle(box, lambda: box.core.call(lambda s: s.product("MILK")).price_cents == 109, what="new price")
        reports = cloud.wait(
            lambda s: any(
                isinstance(msg, Telemetry) and (msg.counters or {}).get("shelf_labels") == 1
                for _, msg, _ in s.messages
            ),
            what="telemetry counting the shelf label to change",
        )
        assert reports
