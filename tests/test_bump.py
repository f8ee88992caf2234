"""The kitchen's bump button (`[gpio] button_press = "bump"`) on gpiozero's mock pins and a real core loop and
store: a short press moves the oldest waiting order whose ticket came out to ready, journaled for the shop,
with a short beep; nothing waiting gives the error tone and moves nothing; an order for a later slot not
printed yet is not waiting; the long press still reaches the print service."""

from __future__ import annotations

import itertools
from typing import Any, Literal

from devices.gpio import BUZZ_TIMINGS, ButtonPressed, BuzzPattern, GpioConfig
from firmware_agent.bump import BumpButton
from firmware_agent.config import validate
from firmware_agent.indicators import Indicators
from firmware_agent.printing import PrintService
from firmware_agent.store import orders as order_store
from firmware_agent.store.orders import find_order, move_stage, record_printed, release_due, store_order
from firmware_agent.wiring import Services
from tests.core_helpers import running_core
from tests.gpio_helpers import TOLERANCE_S, mock_factory
from tests.test_floor_orders import keep as keep_unprinted
from tests.test_floor_orders import order, stages_journaled
from tests.test_printing import printer, service_for

__all__ = ["mock_factory", "printer"]

BUTTON, BUZZER = 27, 22


def bump_services(*before: Any) -> tuple[Indicators, list[Any]]:
    indicators = Indicators(GpioConfig(button_pin=BUTTON, buzzer_pin=BUZZER, hold_time_s=0.2))
    return indicators, [indicators, *before, BumpButton(indicators)]


def press(factory: Any, box: Any, kind: Literal["short", "long"] = "short") -> str:
    """Presses the button (held past the hold time for a long press) and returns what the box reported."""
    pin = factory.pin(BUTTON)
    pin.drive_low()
    if kind == "short":
        pin.drive_high()
    reported = handled(box, ButtonPressed(kind))  # a long press is posted at the hold time, while held
    pin.drive_high()
    return reported


def handled(box: Any, event: ButtonPressed) -> str:
    while True:
        applied = box.next()
        if applied.event == event:
            assert applied.error is None, applied.error
            return str(applied.outcome.message)


def last_tone_s(indicators: Indicators, factory: Any) -> float:
    """How long the buzzer's latest sound was on, once it has finished."""
    assert indicators.gpio is not None and indicators.gpio.buzzer.wait_done(timeout=5)
    states = factory.pin(BUZZER).states
    tones = [nxt.timestamp for s, nxt in itertools.pairwise(states) if s.state]
    assert tones, "the buzzer did not sound"
    return float(tones[-1])


def keep(box: Any, *orders: Any) -> None:
    """Keeps the orders and prints their tickets, in turn: what the kitchen has in hand."""
    keep_unprinted(box, *orders)
    printed(box, *(o.order_id for o in orders))


def printed(box: Any, *order_ids: str) -> None:
    def run(store: Any) -> None:
        for order_id in order_ids:
            kept = find_order(store, order_id)
            assert kept is not None and kept.print_job is not None
            record_printed(store, kept.print_job)

    box.core.call(run)


def stage(box: Any, order_id: str) -> str:
    kept = box.core.call(lambda store: find_order(store, order_id))
    return str(kept.stage)


def test_a_press_moves_the_oldest_waiting_order_to_ready_and_the_next_press_the_other(tmp_path, mock_factory):
    indicators, services = bump_services()
    confirm = BUZZ_TIMINGS[BuzzPattern.CONFIRM].steps[0][0]
    with running_core(tmp_path, services=services) as box:
        keep(box, order("1042"), order("1043"))
        assert press(mock_factory, box) == "button: order 1042 bumped to ready"
        assert (stage(box, "1042"), stage(box, "1043")) == ("ready", "new")
        assert abs(last_tone_s(indicators, mock_factory) - confirm) <= TOLERANCE_S
        assert press(mock_factory, box) == "button: order 1043 bumped to ready"
        assert stage(box, "1043") == "ready"
    assert stages_journaled(tmp_path) == [
        {"order_id": "1042", "stage": "ready", "source": "button"},
        {"order_id": "1043", "stage": "ready", "source": "button"},
    ]


def test_an_accepted_order_is_bumped_before_a_newer_one_and_a_ready_one_is_left_alone(tmp_path, mock_factory):
    _, services = bump_services()
    with running_core(tmp_path, services=services) as box:
        keep(box, order("1041"), order("1042"), order("1043"))
        box.core.call(lambda store: move_stage(store, "1041", "ready", source="web"))
        box.core.call(lambda store: move_stage(store, "1042", "accepted", eta_min=15, source="web"))
        assert press(mock_factory, box) == "button: order 1042 bumped to ready"
        assert stage(box, "1043") == "new"


def test_with_no_order_waiting_a_press_sounds_the_error_tone_and_moves_nothing(tmp_path, mock_factory):
    indicators, services = bump_services()
    error = BUZZ_TIMINGS[BuzzPattern.ERROR].steps[0][0]
    with running_core(tmp_path, services=services) as box:
        keep(box, order("1042"))
        box.core.call(lambda store: move_stage(store, "1042", "ready", source="web"))
        assert press(mock_factory, box) == "button: no order waiting to bump"
        assert abs(last_tone_s(indicators, mock_factory) - error) <= TOLERANCE_S
        assert stage(box, "1042") == "ready"
    assert [e["source"] for e in stages_journaled(tmp_path)] == ["web"]


def test_the_long_press_still_prints_the_self_test_when_the_short_press_bumps(
    tmp_path, mock_factory, printer
):
    printing: PrintService = service_for(printer)
    _, services = bump_services(printing)
    with running_core(tmp_path, services=services) as box:
        assert press(mock_factory, box, "long") == "button: self-test ticket and control sheet queued"
        kinds = box.core.call(
            lambda store: [job.kind for job in store.print_jobs(["queued", "printing", "done"])]
        )
        assert kinds == ["selftest", "control"]


def test_the_bump_is_wired_only_when_asked_for_and_takes_the_button_after_the_printer():
    def services(button_press: str) -> Services:
        gpio = {"button_pin": BUTTON, "button_press": button_press}
        config = validate(
            {"box": {"id": "b1", "shop": "s1"}, "gpio": gpio, "printer": {"url": "tcp://p:9100"}}, "t"
        )
        return Services.build(config, None)

    assert services("reprint").bump is None
    bumping = services("bump")
    order_of = [type(part) for part in bumping.in_start_order()]
    assert order_of.index(PrintService) < order_of.index(BumpButton)


class Clock:
    """The store's clock, moved by hand: a timed order's tickets are released when it says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def test_an_order_for_a_later_slot_not_printed_yet_is_not_what_the_button_bumps(
    tmp_path, mock_factory, monkeypatch
):
    """The bump used to take the oldest order received, even one for tonight whose ticket had not printed:
    the kitchen pressed for the pizza in front of it and an order nobody had seen went "ready"."""
    clock = Clock(1_800_000_000.0)
    monkeypatch.setattr(order_store, "time", clock)
    _, services = bump_services()
    slot = clock.now + 3 * 3600
    with running_core(tmp_path, services=services) as box:
        box.core.call(  # received first, for a slot three hours ahead: prints 20 minutes before it
            lambda store: store_order(store, order("1040").to_json(), b"ticket", 3600, slot - 1200)
        )
        clock.now += 600
        keep(box, order("1041"))  # as soon as possible: printed at once
        assert press(mock_factory, box) == "button: order 1041 bumped to ready"
        assert stage(box, "1040") == "new"
        assert press(mock_factory, box) == "button: no order waiting to bump"
        assert stage(box, "1040") == "new"

        clock.now = slot - 1200  # its print time comes
        box.core.call(lambda store: release_due(store, clock.now, 3600))
        printed(box, "1040")
        assert press(mock_factory, box) == "button: order 1040 bumped to ready"
    assert [e["order_id"] for e in stages_journaled(tmp_path)] == ["1041", "1040"]


def test_a_kitchen_s_button_bumps_only_orders_with_a_kitchen_ticket(tmp_path, mock_factory):
    """The button bumped the order printed first at any station: with the kitchen's button, a drinks-only
    order the counter printed went "ready" (and the shop mailed its customer) while the pizza in the
    kitchen's hands waited. With `[gpio] bump_station = "kitchen"` only orders whose kitchen ticket came
    out move, oldest kitchen ticket first."""
    config = validate(
        {
            "box": {"id": "b1", "shop": "s1"},
            "gpio": {"button_pin": BUTTON, "button_press": "bump", "bump_station": "kitchen"},
            "orders": {"station": [{"name": "kitchen", "url": "tcp://k:9100", "tags": ["Pizzas"]}]},
        },
        "t",
    )
    indicators = Indicators(GpioConfig(button_pin=BUTTON, buzzer_pin=BUZZER, hold_time_s=0.2))
    with running_core(
        tmp_path, services=[indicators, BumpButton(indicators, config.gpio.bump_station)]
    ) as box:

        def keep_printed(order_id: str, tickets: dict[str, bytes]) -> None:
            def run(store: Any) -> None:
                for job in store_order(store, order(order_id).to_json(), tickets, 3600).new_jobs:
                    record_printed(store, job)

            box.core.call(run)

        keep_printed("2001", {"": b"two beers"})  # drinks only: the counter's ticket, nothing for the kitchen
        keep_printed("2002", {"": b"pizza and beer", "kitchen": b"pizza"})
        assert press(mock_factory, box) == "button: order 2002 bumped to ready"
        assert press(mock_factory, box) == "button: no order waiting to bump"
        assert stage(box, "2001") == "new"
    assert [e["order_id"] for e in stages_journaled(tmp_path)] == ["2002"]


def test_the_button_takes_the_order_whose_ticket_came_out_first_not_the_one_received_first(
    tmp_path, mock_factory
):
    _, services = bump_services()
    with running_core(tmp_path, services=services) as box:
        keep_unprinted(box, order("1050"), order("1051"))
        printed(box, "1051")  # 1050's printer was out of paper: its ticket came out after 1051's
        printed(box, "1050")
        assert press(mock_factory, box) == "button: order 1051 bumped to ready"
