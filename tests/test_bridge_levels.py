"""The bridge tells every box the stock truth after any channel's change: levels, versioned, batched."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import replace

import psycopg2  # type: ignore[import-untyped]
import pytest

from cloud_bridge import ledger, levels
from cloud_bridge import models as m
from cloud_bridge.db import Database
from cloud_bridge.state import Counter
from simulators.shops import WooCommerceSimulator
from tests.bridge_helpers import FAST, RecordingPublisher, database, postgres, run, sale, wait_for
from tests.test_bridge_sync import journal, shop
from wire import JSON, MAX_LEVELS, JournalEntry, Kind, Levels, now_ts

__all__ = ["database", "postgres"]  # fixtures


def latest(publisher: RecordingPublisher, box: str) -> dict[str, tuple[int, int, int, int]]:
    """sku → (version, upto, on_hand, reserved) as the box would keep it: the highest version wins."""
    seen: dict[str, tuple[int, int, int, int]] = {}
    for message in publisher.messages(box, Kind.LEVELS):
        assert isinstance(message, Levels)
        for level in message.levels:
            if level.sku not in seen or seen[level.sku][0] <= message.version:
                seen[level.sku] = (message.version, message.upto, level.on_hand, level.reserved)
    return seen


def test_another_till_s_sale_reaches_every_box_with_each_box_s_own_position(database) -> None:
    with shop("woocommerce", database) as (_, d, publisher, clock):
        journal(database, sale(1, "SKU-001", -3), box="till-2")
        journal(database, sale(1, "SKU-002", -1), sale(2, "SKU-002", -1), box="till-1")
        run(d, clock)
        one, two = latest(publisher, "till-1"), latest(publisher, "till-2")
        assert one["SKU-001"][2:] == two["SKU-001"][2:] == (17, 0)
        assert one["SKU-002"][2:] == two["SKU-002"][2:] == (18, 0)
        assert (one["SKU-002"][1], two["SKU-002"][1]) == (2, 1)  # what each box's own journal is in


def test_an_online_order_reaches_the_boxes_as_reserved_and_versions_only_grow(database) -> None:
    with shop("woocommerce", database) as (sim, d, publisher, clock):
        assert isinstance(sim, WooCommerceSimulator)
        before = levels.current_version("shop")
        sim.place_order("SKU-003", 2, pickup=True)
        run(d, clock)
        version, _, on_hand, reserved = latest(publisher, "till-1")["SKU-003"]
        assert (on_hand, reserved) == (20, 2) and version > before
        sent = len(publisher.messages("till-1", Kind.LEVELS))
        run(d, clock)  # the same order seen again by the next poll changes nothing: nothing is sent
        assert len(publisher.messages("till-1", Kind.LEVELS)) == sent
        versions = [msg.version for msg in publisher.messages("till-1", Kind.LEVELS)]
        assert versions == sorted(versions)


def test_levels_reach_the_boxes_while_the_shop_is_down(database) -> None:
    with shop("woocommerce", database) as (sim, d, publisher, clock):
        d.timing = replace(FAST, retry_base_s=300.0, retry_max_s=600.0)
        sim.fail_next(503, times=50)
        clock.advance(1)
        assert not d.run_pass()
        journal(database, sale(1, "SKU-000", -4), box="till-2")  # meanwhile, at another till
        assert not d.run_pass()  # backing off: the shop is not asked ...
        assert latest(publisher, "till-1")["SKU-000"][2] == 16  # ... but the other box hears of the sale


def test_many_changed_skus_are_split_into_messages_of_one_version(database) -> None:
    with shop("woocommerce", database, count=2) as (_, d, publisher, clock):
        count = MAX_LEVELS + 5
        with database.write():
            m.Stock.insert_many(
                [
                    {"shop": "shop", "sku": f"X-{i:05d}", "baseline": i, "baseline_at": 0.0}
                    for i in range(count)
                ]
            ).execute()
        for start in range(0, count, 500):
            journal(database, *(sale(i + 1, f"X-{i:05d}") for i in range(start, min(count, start + 500))))
        run(d, clock)
        messages = [
            msg for msg in publisher.messages("till-2", Kind.LEVELS) if msg.levels[0].sku.startswith("X")
        ]
        assert [len(msg.levels) for msg in messages] == [MAX_LEVELS, 5]
        assert len({msg.version for msg in messages}) == 1
        assert latest(publisher, "till-2")["X-00007"][2:] == (6, 0)


def test_a_box_back_online_gets_every_level_and_the_others_get_nothing(database) -> None:
    with shop("woocommerce", database) as (_, d, publisher, clock):
        journal(database, sale(1, "SKU-001", -5), box="till-2")
        run(d, clock)
        publisher.sent.clear()
        levels.push_all(database, "shop", ["till-1"], clock())
        d.publish_outbound()
        assert set(latest(publisher, "till-1")) == {f"SKU-00{i}" for i in range(4)}
        assert latest(publisher, "till-1")["SKU-001"][2] == 15
        assert publisher.messages("till-2", Kind.LEVELS) == []


def test_a_database_from_before_the_watermark_sends_what_it_had_not_sent_and_its_counts_stay_right(
    database,
) -> None:
    with shop("woocommerce", database) as (_, d, publisher, clock):
        journal(database, sale(1, "SKU-001", -1), box="till-2")
        run(d, clock)
        old = latest(publisher, "till-1")["SKU-001"][0]
        journal(database, sale(2, "SKU-002", -2), box="till-2")  # applied, not pushed yet, when ...
        with database.write():  # ... the bridge is upgraded from a release that stamped what it sent
            m.Movement.update(level_version=old).where(m.Movement.sku == "SKU-001").execute()
            database.db.drop_tables([m.MovementMark, m.LevelPush])
            m.ShopState.delete().where(m.ShopState.name == Counter.LEVELS_PUSHED.value).execute()
            database.db.execute_sql(
                'CREATE INDEX "movement_unsent" ON "movement" ("shop", "sku") WHERE "level_version" IS NULL'
            )
        database.close()
        database.open()
        publisher.sent.clear()
        run(d, clock)
        assert {sku: level[2] for sku, level in latest(publisher, "till-1").items()} == {"SKU-002": 18}
        journal(database, sale(3, "SKU-001", -3), box="till-2")  # sent in a version of this release
        run(d, clock)
        new = latest(publisher, "till-1")["SKU-001"][0]
        journal(database, count(1, "SKU-001", 10, old), box="till-1")  # the sale after `old` is kept
        assert on_hand("SKU-001") == 10 - 3
        journal(database, count(2, "SKU-001", 10, new), box="till-1")  # the till saw it at `new`
        assert on_hand("SKU-001") == 10
        assert "movement_unsent" not in {index.name for index in database.db.get_indexes("movement")}


def test_a_sale_whose_transaction_commits_after_a_later_one_still_reaches_every_box(
    postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers insert at once; the first to take its ids is held after its INSERT (as a large group's
    next statements hold it) and commits last. A push meanwhile must not carry the watermark past the held
    sale, or that sale never reaches the boxes."""
    postgres.truncate()
    database = Database(postgres.url).open()
    inserted, release, failures = threading.Event(), threading.Event(), []
    balances = ledger._add_to_balances

    def held_after_insert(moved: dict[tuple[str, str], int]) -> None:
        if threading.current_thread().name == "held":
            inserted.set()
            release.wait(60)
        balances(moved)

    def sell(sku: str, source: str) -> None:
        try:
            with database.write():
                ledger.add_movements(
                    [ledger.movement_row("shop", sku, source, "sale", -1, now_ts(), push=True)]
                )
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            database.close()

    monkeypatch.setattr(ledger, "_add_to_balances", held_after_insert)
    try:
        with shop("woocommerce", database) as (_, d, publisher, clock):
            first = threading.Thread(target=sell, args=("SKU-001", "b/till-1/1"), name="held")
            first.start()
            inserted.wait(60)
            second = threading.Thread(target=sell, args=("SKU-002", "b/till-2/1"))
            second.start()
            wait_for(lambda: not second.is_alive() or _waits_on_a_lock(postgres.url))
            levels.push_due(database, "shop", ["till-1", "till-2"], clock())  # the first still open
            release.set()
            first.join()
            second.join()
            run(d, clock)
            assert failures == []
            one = latest(publisher, "till-1")
            assert (one["SKU-001"][2], one["SKU-002"][2]) == (19, 19)
    finally:
        release.set()
        database.close()


def _waits_on_a_lock(url: str) -> bool:
    with contextlib.closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        row = cur.fetchone()
        return bool(row and row[0])


def count(seq: int, sku: str, counted: int, version: int | None, delta: int = 0) -> JournalEntry:
    data: dict[str, JSON] = {"sku": sku, "delta": delta, "stock_after": counted, "counted": counted}
    if version is not None:
        data["level_version"] = version
    return JournalEntry(seq, "count", now_ts(), data)


def on_hand(sku: str) -> int:
    return ledger.levels("shop", [sku])[sku].on_hand


def test_a_count_keeps_what_other_channels_did_after_the_level_it_was_counted_against(database) -> None:
    with shop("woocommerce", database) as (sim, d, publisher, clock):
        assert isinstance(sim, WooCommerceSimulator)
        journal(database, sale(1, "SKU-000", -1), box="till-1")
        run(d, clock)
        version, _, seen, _ = latest(publisher, "till-1")["SKU-000"]
        assert seen == 19  # what till-1 shows when it starts counting
        journal(database, sale(1, "SKU-000", -3), box="till-2")  # meanwhile: a sale at the other till ...
        sim.place_order("SKU-000", 2, status="completed")  # ... and an online order shipped
        run(d, clock)
        assert on_hand("SKU-000") == 14
        journal(database, sale(2, "SKU-000", -1), count(3, "SKU-000", 12, version), box="till-1")
        # 12 on the shelf as till-1 saw it (its own second sale included); the 5 units it did not know of
        # left after: neither erased (12) nor subtracted twice (12 - 5 - 5)
        assert on_hand("SKU-000") == 12 - 5
        run(d, clock)
        assert sim.stock("SKU-000") == 7 and latest(publisher, "till-2")["SKU-000"][2] == 7


def test_a_count_against_the_newest_level_sets_on_hand_and_one_without_a_level_is_a_delta(database) -> None:
    with shop("woocommerce", database) as (_, d, publisher, clock):
        journal(database, sale(1, "SKU-001", -4), box="till-2")
        run(d, clock)
        version = latest(publisher, "till-1")["SKU-001"][0]
        journal(database, count(1, "SKU-001", 30, version), box="till-1")
        assert on_hand("SKU-001") == 30
        journal(database, count(2, "SKU-001", 0, None, delta=-2), box="till-1")  # an older box: its delta
        assert on_hand("SKU-001") == 28


def test_pushes_of_one_shop_at_once_each_take_a_version_of_their_own(database) -> None:
    with shop("woocommerce", database) as (_, d, publisher, clock):
        publisher.sent.clear()  # the first start's levels
        failures: list[BaseException] = []

        def pushes(box: str) -> None:
            try:
                for _ in range(15):
                    levels.push_all(database, "shop", [box], clock())
            except BaseException as exc:  # reported below
                failures.append(exc)
            finally:
                database.close()  # this thread's connection

        threads = [threading.Thread(target=pushes, args=(box,)) for box in ("till-1", "till-2") * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        d.publish_outbound()
        versions = [
            msg.version for box in ("till-1", "till-2") for msg in publisher.messages(box, Kind.LEVELS)
        ]
        assert len(versions) == len(set(versions)) >= 60


def test_a_sale_sent_to_a_box_back_online_still_reaches_the_other_boxes(database) -> None:
    with shop("woocommerce", database) as (_, d, publisher, clock):
        publisher.sent.clear()
        journal(database, sale(1, "SKU-002", -6), box="till-2")  # applied, not pushed yet ...
        levels.push_all(database, "shop", ["till-1"], clock())  # ... when till-1 comes back and gets it all
        run(d, clock)
        assert latest(publisher, "till-1")["SKU-002"][2] == 14
        assert latest(publisher, "till-2")["SKU-002"][2:] == (14, 0)  # the other boxes get the sale too
