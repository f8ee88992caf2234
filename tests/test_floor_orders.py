"""Orders on the shop floor, on a real core loop and store: the board lists them by stage, a move is journaled
once and in order, a step back or a cancelled order is refused by name, reprints come out marked."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import replace

import pytest

from firmware_agent.floor import FloorDesk
from firmware_agent.store.orders import StageRefused, release_due, store_order
from tests.core_helpers import running_core
from wire import Order, OrderLine

TS = "2024-05-01T12:34:56.789Z"


def order(order_id: str = "1042", **kw: object) -> Order:
    base = Order(order_id, TS, "pickup", (OrderLine("MARG", "Pizza Margarita", 1, 950),), 950, customer="Ana")
    return replace(base, **kw)  # type: ignore[arg-type]


def stages_journaled(tmp_path) -> list[dict[str, object]]:
    with sqlite3.connect(tmp_path / "tillbridge.db") as conn:
        rows = conn.execute("SELECT data FROM journal WHERE kind = 'order_stage' ORDER BY seq").fetchall()
    return [json.loads(row[0]) for row in rows]


def desk(box) -> FloorDesk:
    return FloorDesk(box.core.call, lambda o, n: {"": f"ticket {o.order_id}".encode()}, 3600)


def keep(box, *orders: Order) -> None:
    box.core.call(lambda store: [store_order(store, o.to_json(), b"ticket", 3600) for o in orders])


def test_an_order_moves_new_accepted_ready_collected_and_each_step_is_journaled_for_the_shop(tmp_path):
    with running_core(tmp_path) as box:
        keep(box, order("1042"), order("1043", kind="delivery"))
        floor = desk(box)
        assert [o.order_id for o in floor.orders(["new"])] == ["1042", "1043"]
        accepted = floor.move("1042", "accepted", eta_min=20, source="web")
        assert (accepted.stage, accepted.eta_min, accepted.next_stage) == ("accepted", 20, "ready")
        assert floor.move("1042", source="scan").stage == "ready"  # the ticket's barcode: the next stage
        assert [o.order_id for o in floor.orders(["ready"])] == ["1042"]
        assert floor.move("1042", source="button").stage == "collected"
        assert floor.move("1043", "ready").next_stage == "delivered"  # a delivery ends delivered
    assert stages_journaled(tmp_path) == [
        {"order_id": "1042", "stage": "accepted", "source": "web", "eta_min": 20},
        {"order_id": "1042", "stage": "ready", "source": "scan"},
        {"order_id": "1042", "stage": "collected", "source": "button"},
        {"order_id": "1043", "stage": "ready", "source": "web"},
    ]


def test_a_step_back_a_second_scan_and_a_cancelled_order_are_refused_by_name_and_journal_nothing(tmp_path):
    with running_core(tmp_path) as box:
        keep(box, order("1042"), order("1044"))
        keep(box, order("1044", rev=2, state="cancelled"))
        floor = desk(box)
        floor.move("1042", "ready")
        with pytest.raises(StageRefused, match="order 1042 is already ready: it cannot go to accepted"):
            floor.move("1042", "accepted")
        with pytest.raises(StageRefused, match="order 1044 was cancelled"):
            floor.move("1044", "accepted")
        with pytest.raises(StageRefused, match="order 9999 is not on this box"):
            floor.move("9999")
        with pytest.raises(StageRefused, match="unknown order stage 'cooking'"):
            floor.move("1042", "cooking")
        floor.move("1042")
        with pytest.raises(StageRefused, match="already collected: nothing follows"):
            floor.move("1042")
        assert [o.order_id for o in floor.orders(["cancelled"])] == ["1044"]
    assert [e["stage"] for e in stages_journaled(tmp_path)] == ["ready", "collected"]


def test_a_reprint_queues_each_station_s_ticket_again_marked_as_a_copy(tmp_path):
    with running_core(tmp_path) as box:
        box.core.call(
            lambda s: store_order(s, order().to_json(), {"": b"counter", "kitchen": b"pizzas"}, 3600)
        )
        floor = FloorDesk(box.core.call, lambda o, n: {"": b"counter", "kitchen": b"pizzas"}, 3600)
        kept = floor.order("1042")
        assert kept is not None and kept.printed == {"": False, "kitchen": False}
        [job] = floor.reprint("1042", "kitchen")
        jobs = box.core.call(lambda s: s.print_jobs(["queued"]))
        assert [(j.kind, j.payload, j.reprint) for j in jobs if j.id == job] == [
            ("order@kitchen", b"pizzas", True)
        ]
        with pytest.raises(StageRefused, match="no ticket for station 'bar'"):
            floor.reprint("1042", "bar")


def test_scanning_the_ticket_s_code_moves_the_order_on_and_its_copy_code_prints_the_tickets_again(tmp_path):
    with running_core(tmp_path) as box:
        box.core.call(
            lambda s: store_order(s, order("WC-9").to_json(), {"": b"counter", "kitchen": b"pizzas"}, 60)
        )
        box.next()  # the call's own notification
        [accepted, ready] = box.scan("TBGOWC-9", "tbgowc-9")  # a wedge with Caps Lock sends lower case
        assert (accepted.outcome.feedback.value, accepted.outcome.message) == ("ok", "order WC-9 accepted")
        assert ready.outcome.message == "order WC-9 ready"
        [copy] = box.scan("TBRPWC-9")
        assert copy.outcome.message == "order WC-9: 2 ticket(s) again"
        jobs = box.core.call(lambda s: s.print_jobs(["queued"]))
        assert sorted((j.kind, j.payload, j.reprint) for j in jobs if j.reprint) == [
            ("order", b"counter", True),
            ("order@kitchen", b"pizzas", True),
        ]
        box.next()
        [collected, again, unknown] = box.scan("TBGOWC-9", "TBGOWC-9", "TBGO404")
        assert collected.outcome.message == "order WC-9 collected"
        assert (again.outcome.feedback.value, again.outcome.message) == (
            "error",
            "order WC-9 is already collected: nothing follows",
        )
        assert unknown.outcome.message == "order 404 is not on this box"
    assert [e["source"] for e in stages_journaled(tmp_path)] == ["scan", "scan", "scan"]


def test_scanning_the_counter_ticket_s_qr_hands_the_order_over_from_any_stage(tmp_path):
    """The bag leaves the counter with its ticket: its QR (`TBOUT<number>`) collects a pickup order (or
    delivers a delivery) even when nobody marked it ready; once handed over, a second scan is refused."""
    with running_core(tmp_path) as box:
        keep(box, order("WC-9"), order("WC-10", kind="delivery"))
        box.next()
        [collected, delivered, again] = box.scan("TBOUTWC-9", "tboutwc-10", "TBOUTWC-9")
        assert (collected.outcome.feedback.value, collected.outcome.message) == ("ok", "order WC-9 collected")
        assert delivered.outcome.message == "order WC-10 delivered"
        assert (again.outcome.feedback.value, again.outcome.message) == (
            "error",
            "order WC-9 is already collected: it cannot go to collected",
        )
    assert [(e["order_id"], e["stage"]) for e in stages_journaled(tmp_path)] == [
        ("WC-9", "collected"),
        ("WC-10", "delivered"),
    ]


def test_a_timed_order_s_tickets_wait_in_the_store_until_their_print_time_and_are_queued_once(tmp_path):
    slot = time.time() + 3600  # the tickets print at the slot less the lead time: here, in an hour
    with running_core(tmp_path) as box:
        stored = box.core.call(
            lambda s: store_order(s, order("T-1").to_json(), {"": b"counter", "kitchen": b"pizzas"}, 60, slot)
        )
        assert stored.timed and stored.new_jobs == ()
        assert box.core.call(lambda s: release_due(s, slot - 1, 60)) == []  # not yet
        assert box.core.call(lambda s: s.print_jobs(["queued"])) == []
        first = box.core.call(lambda s: release_due(s, slot, 60))
        again = box.core.call(lambda s: release_due(s, slot + 60, 60))
        assert len(first) == 2 and again == []  # each station's ticket queued once
        kinds = sorted(j.kind for j in box.core.call(lambda s: s.print_jobs(["queued"])))
        assert kinds == ["order", "order@kitchen"]


def test_a_timed_order_cancelled_before_its_time_never_prints(tmp_path):
    slot = time.time() + 3600
    with running_core(tmp_path) as box:
        box.core.call(lambda s: store_order(s, order("T-2").to_json(), b"counter", 60, slot))
        box.core.call(
            lambda s: store_order(s, order("T-2", rev=2, state="cancelled").to_json(), b"counter", 60, slot)
        )
        assert box.core.call(lambda s: release_due(s, slot, 60)) == []


def test_a_phone_order_for_a_product_the_catalog_lacks_is_refused_at_once_naming_the_line(tmp_path):
    """It used to be journaled, and the bridge retried the shop's refusal for ever with nobody to hear it."""
    from firmware_agent.floor import FloorDesk
    from firmware_agent.store.orders import PhoneOrderRefused
    from tests.core_helpers import running_core

    with running_core(tmp_path) as box:
        desk = FloorDesk(box.core.call, lambda order, number: {}, 0.0)
        lines = [{"sku": "MILK", "qty": 1}, {"sku": "NOPE", "qty": 2}]
        with pytest.raises(
            PhoneOrderRefused, match="line 2: no product with sku 'NOPE' in this box's catalog"
        ):
            desk.phone_order({"lines": lines, "customer": "Luis", "phone": "600"})
        assert box.core.call(lambda store: store.journal_after(0, 10)) == []
        assert desk.phone_order({"lines": lines[:1], "customer": "Luis", "phone": "600"})
