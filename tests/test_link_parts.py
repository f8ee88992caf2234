"""The link's smaller parts: catalog decisions, backoff, callbacks that cannot kill paho's loop, the log ring,
audit masking, config merging and the crash guard of config.set, order tickets."""

from __future__ import annotations

import difflib
import logging
import queue
import random
import tomllib
from pathlib import Path

import pytest

from devices.printers import PageSetup
from devices.printers.decode import decode_tickets
from firmware_agent.config import load_config
from firmware_agent.config.tomlfile import dumps, merged_text
from firmware_agent.link import configset
from firmware_agent.link.audit import masked
from firmware_agent.link.catalog import ApplyDelta, CatalogSync, RequestResync, StageChunk
from firmware_agent.link.client import Backoff, ClientOptions, MqttClient
from firmware_agent.link.commands import CommandFailed
from firmware_agent.link.events import Connected, Received, Subscribed
from firmware_agent.link.logring import RingLog
from firmware_agent.link.ticket import Routing, handover_code, station_tickets
from firmware_agent.store.catalog_stage import Staged
from tests.mqtt_helpers import FAST, SHOP, CloudPeer, LogWatch, broker, link_config, new_box_id, running_box
from wire import CatalogDelta, CatalogSnapshotChunk, Kind, Order, OrderLine, Product

__all__ = ["broker"]


def products(*skus: str) -> tuple[Product, ...]:
    return tuple(Product(sku, sku.title(), 100) for sku in skus)


# ---- catalog decisions -----------------------------------------------------------------------------------


def test_a_box_without_a_catalog_asks_at_every_connection():
    sync = CatalogSync(None)
    assert sync.on_connected(0.0) == RequestResync(None, "boot")
    assert sync.on_connected(1.0) == RequestResync(None, "boot")
    assert CatalogSync(5).on_connected(0.0) is None


def feed(sync: CatalogSync, chunk: CatalogSnapshotChunk, now: float = 0.0) -> StageChunk | None:
    """A chunk through the sync as the link does: decided, staged (committed), told."""
    decision = sync.on_snapshot(chunk, now)
    if decision is not None:
        sync.staged(decision)
    return decision


def test_a_snapshot_goes_live_only_with_its_last_chunk_in_any_order():
    sync = CatalogSync(None)
    first = feed(sync, CatalogSnapshotChunk(3, 1, 2, products("B")))
    assert first is not None and first.fresh and not first.completes
    again = feed(sync, CatalogSnapshotChunk(3, 1, 2, products("B")))  # a redelivery: staged again, harmless
    assert again is not None and not again.fresh and not again.completes
    last = feed(sync, CatalogSnapshotChunk(3, 0, 2, products("A")))
    assert last is not None and last.completes and sync.version == 3 and sync.staging is None


def test_a_newer_snapshot_restarts_the_stage_and_an_older_is_dropped():
    sync = CatalogSync(2)
    feed(sync, CatalogSnapshotChunk(4, 0, 2, products("OLD")))
    newer = feed(sync, CatalogSnapshotChunk(5, 0, 2, products("A")))
    assert newer is not None and newer.fresh
    assert feed(sync, CatalogSnapshotChunk(4, 1, 2, products("LATE"))) is None
    last = feed(sync, CatalogSnapshotChunk(5, 1, 2, products("B")))
    assert last is not None and last.completes and not last.fresh and sync.version == 5


def test_a_snapshot_older_than_the_catalog_is_ignored_unless_a_resync_was_asked_for():
    sync = CatalogSync(9)
    assert sync.on_snapshot(CatalogSnapshotChunk(8, 0, 1, products("A"))) is None
    sync.on_command(0.0)
    decision = sync.on_snapshot(CatalogSnapshotChunk(8, 0, 1, products("A")))
    assert decision == StageChunk(CatalogSnapshotChunk(8, 0, 1, products("A")), True, True)


def test_a_half_staged_snapshot_asks_for_exactly_its_missing_chunks_once_they_stop_coming():
    sync = CatalogSync(1, Staged(4, 5, frozenset({0, 2})), resync_every_s=30.0, missing_after_s=10.0)
    assert sync.on_connected(100.0) is None  # the broker's queue gets its chance first
    assert sync.tick(109.0) is None
    assert sync.tick(110.0) == RequestResync(1, "missing", 4, (1, 3, 4))
    assert sync.tick(119.0) is None  # asked 9 s ago
    feed(sync, CatalogSnapshotChunk(4, 1, 5, products("B")), 115.0)
    assert sync.tick(124.0) is None  # one came 9 s ago
    assert sync.tick(125.0) == RequestResync(1, "missing", 4, (3, 4))
    feed(sync, CatalogSnapshotChunk(4, 3, 5, products("D")), 126.0)
    done = feed(sync, CatalogSnapshotChunk(4, 4, 5, products("E")), 127.0)
    assert done is not None and done.completes and sync.tick(999.0) is None


def test_a_snapshot_missing_more_chunks_than_a_request_may_name_is_asked_for_whole():
    sync = CatalogSync(None, Staged(4, 5000, frozenset({0})), missing_after_s=1.0)
    sync.on_connected(0.0)
    assert sync.tick(2.0) == RequestResync(None, "missing")


def test_deltas_follow_the_version_redeliveries_are_ignored_gaps_ask_once_per_interval():
    sync = CatalogSync(7, resync_every_s=30.0)
    delta = CatalogDelta(7, 8, products("A"))
    assert sync.on_delta(delta, 0.0) == ApplyDelta(delta)
    sync.applied(8)
    assert sync.on_delta(delta, 1.0) is None
    assert sync.on_delta(CatalogDelta(9, 10), 2.0) == RequestResync(8, "gap")
    assert sync.on_delta(CatalogDelta(10, 11), 3.0) is None  # asked 1 s ago
    assert sync.on_delta(CatalogDelta(10, 11), 33.0) == RequestResync(8, "gap")


# ---- reconnect backoff -----------------------------------------------------------------------------------


def test_backoff_doubles_to_its_ceiling_with_jitter_and_resets():
    backoff = Backoff(1.0, 8.0, random.Random(7))
    delays = [backoff.next() for _ in range(6)]
    for delay, full in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert full / 2 <= delay <= full
    assert len(set(delays)) == 6  # jittered: a fleet does not reconnect in lockstep
    backoff.reset()
    assert backoff.next() <= 1.0


def test_an_exception_in_a_callback_never_stops_the_network_loop(broker, caplog):
    events: queue.Queue[object] = queue.Queue()
    calls = [0]

    def emit(event: object) -> None:
        calls[0] += 1
        if isinstance(event, Received) and event.payload == b"boom":
            raise RuntimeError("a bug in whoever receives")
        events.put(event)

    box = new_box_id()
    client = MqttClient(ClientOptions("127.0.0.1", broker.port, box, reconnect_min_s=0.05), emit)
    client.start()
    peer = CloudPeer(broker.port, box=box)
    try:
        assert isinstance(events.get(timeout=10), Connected)
        client.subscribe([(f"tillbridge/v1/{SHOP}/{box}/orders", 1)])
        assert isinstance(events.get(timeout=10), Subscribed)
        with caplog.at_level(logging.ERROR, "firmware_agent.link"):
            peer.send_raw(Kind.ORDERS, b"boom")
            peer.send_raw(Kind.ORDERS, b"after")
            after = events.get(timeout=10)
        assert isinstance(after, Received) and after.payload == b"after" and client.connected
        assert "callback _on_message failed" in caplog.text
    finally:
        peer.close()
        client.stop()


# ---- log ring and audit ----------------------------------------------------------------------------------


def test_the_log_ring_keeps_the_last_lines_and_filters_by_level():
    ring = RingLog(capacity=3)
    logger = logging.getLogger("ring-test")
    logger.addHandler(ring)
    try:
        for index in range(5):
            logger.warning("w%d", index)
        logger.info("quiet")
    finally:
        logger.removeHandler(ring)
    assert [line.split(": ")[-1] for line in ring.lines(10)] == ["w3", "w4", "quiet"]
    assert [line.split(": ")[-1] for line in ring.lines(10, "warning")] == ["w3", "w4"]
    assert ring.lines(0) == []


def test_audit_masks_secret_named_keys_at_any_depth():
    entry = {"args": {"values": {"mqtt": {"password": "p", "command_key": "k", "url": "mqtt://x"}}}}
    assert masked(entry) == {
        "args": {"values": {"mqtt": {"password": "***", "command_key": "***", "url": "mqtt://x"}}}
    }


# ---- config.set ------------------------------------------------------------------------------------------


def test_merge_replaces_values_merges_tables_and_null_removes():
    base = dumps({"box": {"id": "a", "shop": "s"}, "mqtt": {"url": "mqtt://x", "password": "p"}})
    text = merged_text(
        base, {"mqtt": {"password": None, "keepalive_s": 20}}, file="agent.toml", none_deletes=True
    )
    merged = tomllib.loads(text)
    assert merged == {"box": {"id": "a", "shop": "s"}, "mqtt": {"url": "mqtt://x", "keepalive_s": 20}}


def test_config_set_keeps_the_installers_comments_and_layout(tmp_path):
    sample = (Path(__file__).resolve().parent.parent / "firmware_agent" / "agent.sample.toml").read_text()
    path = tmp_path / "agent.toml"
    path.write_text(sample)
    new, new_text, old_text = configset.prepare(path, {"mqtt": {"keepalive_s": 20}}, load_config(path))
    assert old_text == sample and new.mqtt is not None and new.mqtt.keepalive_s == 20
    only_comments = [line for line in sample.splitlines() if line.startswith("#")]
    assert [line for line in new_text.splitlines() if line.startswith("#")] == only_comments
    changed = [line for line in difflib.ndiff(sample.splitlines(), new_text.splitlines()) if line[:1] in "+-"]
    assert len(changed) == 2 and all("keepalive_s" in line for line in changed), changed  # that line only


def test_prepare_refuses_what_the_validator_refuses(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(dumps({"box": {"id": "a", "shop": "s"}, "mqtt": {"url": "mqtt://x"}}))
    current = link_config(tmp_path, "mqtt://x", "a")
    with pytest.raises(CommandFailed, match=r"mqtt\.url"):
        configset.prepare(path, {"mqtt": {"url": "ftp://x"}}, current)
    with pytest.raises(CommandFailed, match="unknown key"):
        configset.prepare(path, {"mqtt": {"colour": "red"}}, current)


def test_a_box_restarted_in_the_middle_of_a_config_change_reverts_if_the_new_one_cannot_connect(
    tmp_path, broker
):
    """The crash guard: `agent.toml.previous` on disk means the config in place is still on trial."""
    box = new_box_id()
    good = {"box": {"id": box, "shop": SHOP, "data_dir": str(tmp_path)}, "mqtt": {"url": broker.url, **FAST}}
    bad = {**good, "mqtt": {**good["mqtt"], "url": "mqtt://127.0.0.1:9", "config_revert_s": 1.0}}
    path = tmp_path / "agent.toml"
    path.write_text(dumps(bad))
    configset.previous_path(path).write_text(dumps(good))
    reverted = LogWatch("reverted")
    unreachable = "mqtt://127.0.0.1:9"
    with (
        reverted,
        running_box(tmp_path, unreachable, box, path, online=False, config_revert_s=1.0) as running,
    ):
        reverted.wait()
        assert running.link.online.wait(10)
    assert path.read_text() == dumps(good) and not configset.previous_path(path).exists()


# ---- tickets ---------------------------------------------------------------------------------------------


def test_the_ticket_s_qr_code_holds_the_order_s_hand_over_code_never_a_pickup_code():
    order = Order(
        "wc-10023",
        "2024-05-01T08:55:12.000Z",
        "pickup",
        (OrderLine("A", "A", 1, 1),),
        1,
        pickup_hash="ab" * 32,
        pickup_key=1,
    )
    [ticket] = decode_tickets(station_tickets(order, Routing(PageSetup()))[""])
    assert "[QR: TBOUTWC-10023]" in ticket.text and "ab" * 32 not in ticket.text
    assert handover_code("gid://shopify/Order/1") == ""  # no floor number is one, but nothing breaks


def test_a_shop_catalog_keeps_the_box_s_weighed_units_and_barcodes(tmp_path):
    from firmware_agent.link.catalog import replace_catalog
    from tests.store_helpers import open_store
    from wire import Product

    store = open_store(tmp_path)  # HAM is sold by weight, with its scale-label barcode
    with store.transaction():
        replace_catalog(store, [Product("HAM", "Jamón", 2590, (), 4000)], version=3)  # the shop says no unit
    ham = store.find_product(["2000042000004"])
    assert ham is not None and (ham.unit, ham.price_cents, ham.stock) == ("kg", 2590, 4000)


def test_a_unit_the_shop_gives_replaces_the_box_s(tmp_path):
    from firmware_agent.link.catalog import apply_delta, replace_catalog
    from tests.store_helpers import open_store
    from wire import CatalogDelta, Product

    store = open_store(tmp_path)
    with store.transaction():
        replace_catalog(store, [Product("OIL-1L", "Aceite a granel", 890, (), 20_000, "l")], version=3)
        apply_delta(store, CatalogDelta(3, 4, (Product("HAM", "Jamón", 2590, (), None, "each"),)))
    oil, ham = store.product("OIL-1L"), store.product("HAM")
    assert oil is not None and (oil.unit, oil.stock) == ("l", 20_000)
    assert ham is not None and ham.unit == "each"
