"""The link against a real mosquitto: journal out, state and telemetry, orders and catalog in, bad input."""

from __future__ import annotations

import logging
import os
from dataclasses import replace

import pytest

from devices.barcodes import encode_pickup
from devices.printers.decode import decode_tickets
from devices.readings import DeviceState, DeviceStatus, ScanRead
from firmware_agent.link import build_link, on_order_printed, record_printed
from firmware_agent.store.orders import check_pickup
from firmware_agent.updates.health import link_up_pid
from tests.mqtt_helpers import (
    CloudPeer,
    LogWatch,
    broker,
    journal_seqs,
    link_config,
    rows,
    running_box,
    settle,
)
from tests.store_helpers import SAMPLE
from wire import (
    MAX_MESSAGE_BYTES,
    Ack,
    CatalogDelta,
    CatalogRequest,
    CatalogSnapshotChunk,
    JournalBatch,
    Kind,
    Order,
    OrderAck,
    OrderLine,
    PickupKey,
    Product,
    State,
    Telemetry,
    pickup_hash,
)

__all__ = ["broker"]

MILK = "8410000000023"
PICKUP_KEY = bytes(range(32))


@pytest.fixture
def cloud(broker):
    peer = CloudPeer(broker.port)
    yield peer
    peer.close()


def sell(box, code: str = MILK, times: int = 1) -> None:
    for _ in range(times):
        box.core.post(ScanRead("front", code))


def order(order_id: str = "wc-10023", **kw) -> Order:
    fields = {
        "order_id": order_id,
        "placed_at": "2024-05-01T08:55:12.000Z",
        "kind": "pickup",
        "lines": (OrderLine("MILK", "Leche entera", 2, 99),),
        "total_cents": 198,
        "customer": "Ana Martín",
    }
    code = kw.pop("pickup_code", "K7Q2")
    order = Order(**{**fields, **kw})
    if code is None:
        return order
    return replace(order, pickup_hash=pickup_hash(PICKUP_KEY, order.order_id, code), pickup_key=1)


# ---- journal ----------------------------------------------------------------------------------------------


def test_scans_reach_the_cloud_in_order_and_leave_the_store_only_after_its_ack(tmp_path, broker):
    cloud = CloudPeer(broker.port, auto_ack=False)
    try:
        with running_box(tmp_path, broker.url, cloud.box) as box:
            sell(box, times=30)
            cloud.wait(lambda s: len(s.entries) >= 30, what="30 entries")
            assert list(cloud.seen.entries) == list(range(1, 31))
            assert cloud.seen.entries[1] | {"ts": "-"} == {
                "seq": 1, "kind": "sale", "ts": "-", "sku": "MILK", "delta": -1, "stock_after": 23,
                "barcode": MILK,
            }  # fmt: skip
            assert journal_seqs(tmp_path) == list(range(1, 31))  # PUBACKs came long ago: not enough
            cloud.ack(20)
            settle(box, lambda: journal_seqs(tmp_path) == list(range(21, 31)), what="forget up to 20")
            cloud.ack(30)
            settle(box, lambda: journal_seqs(tmp_path) == [], what="an empty journal")
    finally:
        cloud.close()


def test_a_backlog_built_offline_drains_in_batches_when_the_link_starts(tmp_path, broker, cloud):
    from tests.mqtt_helpers import seed_journal
    from tests.store_helpers import open_store

    store = open_store(tmp_path)
    seed_journal(store, 2500)
    store.close()
    with running_box(tmp_path, broker.url, cloud.box, batch_entries=100) as box:
        cloud.wait_applied(2500)
        settle(box, lambda: journal_seqs(tmp_path) == [], what="an empty journal")
    assert cloud.seen.arrivals[:2500] == list(range(1, 2501))
    batches = [m for m in cloud.of_kind(Kind.JOURNAL)]
    assert max(len(b.entries) for b in batches) == 100


def test_the_box_names_its_store_everywhere_and_ignores_an_ack_of_another_store(tmp_path, broker):
    cloud = CloudPeer(broker.port, auto_ack=False)
    try:
        with running_box(tmp_path, broker.url, cloud.box, telemetry_s=0.2) as box:
            epoch = box.link.epoch
            assert epoch is not None and len(epoch) == 16
            [born] = cloud.wait_for(Kind.STATE)
            assert born.epoch == epoch  # the birth comes before any batch
            sell(box, times=3)
            cloud.wait(lambda s: len(s.entries) == 3)
            [batch, *_] = cloud.of_kind(Kind.JOURNAL)
            assert (batch.epoch, batch.acked) == (epoch, 0)
            with LogWatch("is for store epoch 0f1e2d3c4b5a6978") as ignored:
                cloud.send(Ack(3, "0f1e2d3c4b5a6978"))
                ignored.wait()
            assert journal_seqs(tmp_path) == [1, 2, 3]  # an ack about another store forgets nothing
            cloud.send(Ack(3, epoch))
            settle(box, lambda: journal_seqs(tmp_path) == [], what="an empty journal")
            health = cloud.wait(lambda s: any(isinstance(m, Telemetry) for _, m, _ in s.messages))
            [report, *_] = [m for _, m, _ in health.messages if isinstance(m, Telemetry)]
            assert report.epoch == epoch and report.store_lost is None
    finally:
        cloud.close()


def test_a_deleted_store_comes_back_as_a_new_stream_that_says_what_was_lost(tmp_path, broker):
    """Issue 13 finding 10: the box restarted at seq 1 and logged "ack … clamped"; nothing else said so."""
    cloud = CloudPeer(broker.port, auto_ack=False)
    try:
        with running_box(tmp_path, broker.url, cloud.box) as box:
            first = box.link.epoch
            sell(box, times=2)
            cloud.wait(lambda s: len(s.entries) == 2)
            cloud.send(Ack(2, first))
            settle(box, lambda: journal_seqs(tmp_path) == [], what="an empty journal")
            sell(box, times=1)  # seq 3: never acknowledged, lost with the store
            cloud.wait(lambda s: 3 in s.entries)
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"tillbridge.db{suffix}").unlink(missing_ok=True)
        with running_box(tmp_path, broker.url, cloud.box, telemetry_s=0.2) as box:
            assert box.link.epoch not in (None, first)
            born = cloud.wait_for(Kind.STATE, 3)[-1]
            assert born.epoch == box.link.epoch
            batch = cloud.wait(
                lambda s: any(
                    isinstance(m, JournalBatch) and m.epoch == box.link.epoch for _, m, _ in s.messages
                )
            )
            [recovered] = [
                m for _, m, _ in batch.messages if isinstance(m, JournalBatch) and m.epoch != first
            ]
            entry = recovered.entries[0]
            assert entry.kind == "store_recovered" and entry.seq > 3 and entry.data["lost_after_seq"] == 2
            epoch = box.link.epoch
            health = cloud.wait(
                lambda s: any(isinstance(m, Telemetry) and m.epoch == epoch for _, m, _ in s.messages)
            )
            [report, *_] = [m for _, m, _ in health.messages if isinstance(m, Telemetry) and m.epoch == epoch]
            assert report.store_lost is not None and "after seq 2" in report.store_lost
    finally:
        cloud.close()


# ---- state and telemetry -----------------------------------------------------------------------------------


def test_birth_is_retained_with_a_boot_counter_and_a_clean_stop_says_offline(tmp_path, broker, cloud):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        [born] = cloud.wait_for(Kind.STATE)
        assert born.online and born.boot == 1 and born.config_hash == box.link.settings.config_hash[:64]
        assert link_up_pid(tmp_path) == os.getpid()  # the updater's health gate reads it
    [_, gone] = cloud.wait_for(Kind.STATE, 2)
    assert gone == State(False, boot=1)
    late = CloudPeer(
        broker.port, box=cloud.box, client_id="late"
    )  # a cloud worker starting later sees the retained state
    try:
        assert late.wait_for(Kind.STATE)[0].online is False
    finally:
        late.close()
    with running_box(tmp_path, broker.url, cloud.box):
        assert cloud.wait_for(Kind.STATE, 3)[2].boot == 2


def test_telemetry_reports_backlog_devices_disk_and_journal_size(tmp_path, broker):
    cloud = CloudPeer(broker.port, auto_ack=False)
    try:
        with running_box(tmp_path, broker.url, cloud.box, telemetry_s=0.2) as box:
            box.core.post(DeviceStatus("printer", DeviceState.ERROR, "paper out"))
            sell(box, times=3)
            cloud.wait(lambda s: len(s.entries) == 3)
            health = cloud.wait(
                lambda s: any(
                    isinstance(m, Telemetry) and m.backlog == 3 and m.devices for _, m, _ in s.messages
                )
            )
            report = [m for _, m, _ in health.messages if isinstance(m, Telemetry) and m.backlog == 3][-1]
            assert report.devices == {"printer": "error", "mqtt": "ok"}
            assert report.disk_free_mb > 0 and report.journal_mb > 0
    finally:
        cloud.close()


# ---- orders ------------------------------------------------------------------------------------------------


def test_an_order_is_stored_and_queued_for_printing_once_even_when_delivered_twice(tmp_path, broker, cloud):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        cloud.wait_for(Kind.STATE)
        cloud.send(order())
        cloud.send(order())  # a redelivery
        cloud.send(order("wc-10024"))
        settle(box, lambda: len(rows(tmp_path, "SELECT 1 FROM inbound_order")) == 2, what="two orders")
        jobs = rows(tmp_path, "SELECT id, kind, payload FROM print_job ORDER BY id")
        assert [kind for _, kind, _ in jobs] == ["order", "order"]
        (ticket,) = decode_tickets(jobs[0][2])
        assert "#wc-10023" in ticket.text and "Ana Martín" in ticket.text and "1,98" in ticket.text
        assert "Leche entera" in ticket.text
        assert "[QR: TBOUTWC-10023]" in ticket.text and "K7Q2" not in ticket.text  # never the pickup code
        acks = cloud.wait_for(Kind.ORDERS_ACK, 3)  # each copy acked once it is on disk: the bridge stops
        assert acks == [OrderAck("wc-10023", 1), OrderAck("wc-10023", 1), OrderAck("wc-10024", 1)]


def test_a_pickup_scan_is_verified_with_the_shop_s_key_and_collects_once(tmp_path, broker, cloud):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        cloud.wait_for(Kind.STATE)
        cloud.send(PickupKey(1, PICKUP_KEY.hex()))
        cloud.send(order("WC-7", pickup_code="K7Q2"))
        assert OrderAck(key_id=1) in cloud.wait_for(Kind.ORDERS_ACK, 2)
        settle(box, lambda: len(rows(tmp_path, "SELECT 1 FROM print_job")) == 1, what="a print job")
        [(job,)] = rows(tmp_path, "SELECT id FROM print_job")
        first = box.link.call(lambda s: record_printed(s, job))  # what the print worker calls
        again = box.link.call(lambda s: record_printed(s, job))
        assert (
            first is not None
            and first.kind == "order_printed"
            and first.data == {"order_id": "WC-7"}
            and again is None
        )
        cloud.wait(lambda s: any(e["kind"] == "order_printed" for e in s.entries.values()))
        sell(box, encode_pickup("WC-8", "ZZZZ"))  # an order this box never got: refused, not journaled
        sell(box, encode_pickup("WC-7", "K7Q2"))
        sell(box, encode_pickup("WC-7", "K7Q2"))  # the second time: already collected
        cloud.wait(lambda s: any(e["kind"] == "order_collected" for e in s.entries.values()))
        sell(box)
        seen = cloud.wait(lambda s: any(e["kind"] == "sale" for e in s.entries.values()))
        collected = [e for e in seen.entries.values() if e["kind"] == "order_collected"]
        assert [(e["order_id"], e["pickup_code"]) for e in collected] == [("WC-7", "K7Q2")]


def test_a_cancellation_from_the_shop_withdraws_an_unprinted_ticket_and_refuses_the_pickup(
    tmp_path, broker, cloud
):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        cloud.wait_for(Kind.STATE)
        cloud.send(PickupKey(1, PICKUP_KEY.hex()))
        cloud.send(order("WC-9"))
        cloud.send(replace(order("WC-9"), rev=2, state="cancelled"))
        cloud.wait(lambda s: OrderAck("WC-9", 2) in [m for t, m, _ in s.messages])
        assert rows(tmp_path, "SELECT state FROM print_job") == [("withdrawn",)]
        problem = box.link.call(lambda s: check_pickup(s, "WC-9", "K7Q2"))
        assert problem == ("WC-9", "order WC-9 was cancelled: do not hand it over")


def test_an_order_comes_out_of_the_printer_and_the_cloud_hears_it_was_printed(tmp_path, broker, cloud):
    from devices.printers import Printer
    from firmware_agent.printing import PrintService
    from firmware_agent.tickets.samples import SELFTEST
    from simulators.printer import VirtualPrinter

    with VirtualPrinter() as printer:
        service = PrintService(Printer.from_url(printer.url), selftest=lambda: SELFTEST, retry_s=0.05)
        service.on_printed["order"] = on_order_printed  # how the agent wires the print worker to the link
        with running_box(tmp_path, broker.url, cloud.box) as box:
            service.start(box.core)
            try:
                cloud.send(order("wc-77", pickup_code="ZX12"))
                [ticket] = printer.wait_for_tickets(1)
                assert "#wc-77" in ticket.text and "[QR: TBOUTWC-77]" in ticket.text
                printed = cloud.wait(lambda s: any(e["kind"] == "order_printed" for e in s.entries.values()))
                assert [e["order_id"] for e in printed.entries.values() if e["kind"] == "order_printed"] == [
                    "wc-77"
                ]
            finally:
                service.stop()


def test_bad_orders_are_logged_and_dropped_and_the_next_good_one_still_prints(
    tmp_path, broker, cloud, caplog
):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        cloud.wait_for(Kind.STATE)
        with caplog.at_level(logging.WARNING, "firmware_agent.link"):
            cloud.send_raw(Kind.ORDERS, b"{not json")
            cloud.send_raw(Kind.ORDERS, b'{"v": 1, "type": "order", "order_id": "x"}')
            cloud.send_raw(Kind.ORDERS, b'{"v": 2}')
            cloud.send_raw(Kind.ORDERS, b"x" * (MAX_MESSAGE_BYTES + 1))
            cloud.send_raw(Kind.ACK, b'{"v": 1, "upto": -5}')
            cloud.send(order("wc-ok"))
            settle(
                box, lambda: len(rows(tmp_path, "SELECT 1 FROM inbound_order")) == 1, what="the good order"
            )
            acks = cloud.wait_for(Kind.ORDERS_ACK, 2)  # the bridge hears why, and parks instead of resending
        assert box.link.connected
        assert acks[0].order_id == "x" and acks[0].refused.startswith("orders.placed_at: required field")
        assert acks[1] == OrderAck("wc-ok", 1)
    bad = [r.getMessage() for r in caplog.records if "dropped a bad message" in r.getMessage()]
    refused = [r.getMessage() for r in caplog.records if "order refused" in r.getMessage()]
    assert len(bad) == 1 and len(refused) == 4
    assert any("orders.placed_at: required field is missing" in line for line in refused)
    bad += refused
    assert any("over the limit" in line for line in bad) and any("not valid JSON" in line for line in bad)
    assert any("wire version 2" in line for line in bad)


# ---- catalog -----------------------------------------------------------------------------------------------


def products(first: int, count: int, price: int = 100) -> tuple[Product, ...]:
    return tuple(
        Product(f"SKU-{n}", f"Product {n}", price, (f"{2_000_000_000_000 + n}",), stock=n)
        for n in range(first, first + count)
    )


def catalog_state(tmp_path):
    [(version,)] = rows(tmp_path, "SELECT value FROM setting WHERE key = 'catalog_version'") or [(None,)]
    return version, rows(tmp_path, "SELECT COUNT(*) FROM product")[0][0]


def test_a_snapshot_goes_live_only_when_every_chunk_is_there_then_deltas_follow(tmp_path, broker, cloud):
    with running_box(tmp_path, broker.url, cloud.box) as box:
        [request] = cloud.wait_for(Kind.CATALOG_REQUEST)
        assert request == CatalogRequest(None, "boot")
        part = products(0, 300)
        cloud.send(CatalogSnapshotChunk(7, 2, 3, part[200:]))
        cloud.send(CatalogSnapshotChunk(7, 0, 3, part[:100]))
        cloud.send(CatalogDelta(7, 8, (Product("NEW", "New", 5),)))  # no base yet; a snapshot is on its way
        with LogWatch("chunk of old version 6 ignored") as ignored:
            cloud.send(CatalogSnapshotChunk(6, 0, 1, part[:1]))  # complete, but older than the one staged
            ignored.wait()  # so the box has seen everything before it, too
        assert catalog_state(tmp_path) == (None, len(SAMPLE))  # still the old catalog: 2 of 3 chunks
        cloud.send(CatalogSnapshotChunk(7, 1, 3, part[100:200]))
        settle(box, lambda: catalog_state(tmp_path) == ("7", 300), what="snapshot 7 live")
        cloud.send(CatalogDelta(7, 8, (Product("SKU-1", "Renamed", 250, ("123",)),), ("SKU-2",)))
        settle(box, lambda: catalog_state(tmp_path) == ("8", 299), what="delta 8")
        assert rows(tmp_path, "SELECT name, price_cents FROM product WHERE sku = 'SKU-1'") == [
            ("Renamed", 250)
        ]
        assert rows(tmp_path, "SELECT sku FROM barcode WHERE code = '123'") == [("SKU-1",)]
        cloud.send(CatalogDelta(9, 10, ()))  # a gap: 9 never came
        assert cloud.wait_for(Kind.CATALOG_REQUEST, 2)[-1] == CatalogRequest(8, "gap")
        assert catalog_state(tmp_path) == ("8", 299)


def test_fifty_thousand_products_apply_in_seconds(tmp_path, broker, cloud, caplog):
    chunk = 2000  # ~230 KB: what fits the wire's 256 KiB limit
    with (
        running_box(tmp_path, broker.url, cloud.box) as box,
        caplog.at_level(logging.INFO, "firmware_agent.link"),
    ):
        for index in range(25):
            cloud.send(CatalogSnapshotChunk(3, index, 25, products(index * chunk, chunk)))
        settle(box, lambda: catalog_state(tmp_path) == ("3", 50_000), timeout=60, what="50,000 products")
    [line] = [r.getMessage() for r in caplog.records if "catalog version 3 live" in r.getMessage()]
    print(line)


def test_build_link_is_none_without_an_mqtt_table(tmp_path):
    from firmware_agent.config import validate

    assert build_link(validate({"box": {"id": "b", "shop": "s"}}, "t")) is None
    assert build_link(link_config(tmp_path, "mqtt://127.0.0.1:1", "b")) is not None
