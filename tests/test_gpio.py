"""The status light, button and buzzer on gpiozero's mock pins, driven through the public facade."""

from __future__ import annotations

import logging
import queue
from pathlib import Path
from typing import Any

import pytest

from devices.errors import DeviceConfigError
from devices.gpio import (
    BUZZ_TIMINGS,
    LIGHT_TIMINGS,
    ButtonPressed,
    BuzzPattern,
    Gpio,
    GpioConfig,
    LightPattern,
    StatusLight,
)
from devices.readings import DeviceState, DeviceStatus
from tests.gpio_helpers import assert_plays, expected_changes, mock_factory, next_event

__all__ = ["mock_factory"]

LED, BUTTON, BUZZER = 17, 27, 22


@pytest.fixture
def posted() -> queue.Queue[object]:
    return queue.Queue()


@pytest.fixture
def gpio(mock_factory: Any, posted: queue.Queue[object]) -> Any:
    config = GpioConfig(led_pin=LED, button_pin=BUTTON, buzzer_pin=BUZZER, hold_time_s=0.2)
    with Gpio.open(config, posted.put) as opened:
        yield opened


def drain(posted: queue.Queue[object]) -> list[object]:
    items = []
    while not posted.empty():
        items.append(posted.get_nowait())
    return items


def test_every_light_pattern_blinks_as_its_table_says(mock_factory: Any) -> None:
    # All patterns play at once on separate pins, so the test takes two of the longest cycle, not the sum.
    import gpiozero

    lights = {p: StatusLight(gpiozero.LED(5 + i)) for i, p in enumerate(LightPattern)}
    try:
        for pattern, light in lights.items():
            light.set_pattern(pattern)
        for light in lights.values():
            assert light.wait_cycles(2, timeout=10)
    finally:
        for light in lights.values():
            light.close()
    for i, pattern in enumerate(LightPattern):
        assert_plays(mock_factory.pin(5 + i), expected_changes(LIGHT_TIMINGS[pattern]))


def test_online_is_steady_and_error_blinks(gpio: Any, mock_factory: Any) -> None:
    pin = mock_factory.pin(LED)
    gpio.light.set_pattern(LightPattern.ONLINE)
    assert gpio.light.wait_cycles(1, timeout=5)
    assert [s.state for s in pin.states] == [False, True]
    gpio.light.set_pattern(LightPattern.ERROR)
    assert gpio.light.wait_cycles(3, timeout=5)
    assert [s.state for s in pin.states[2:8]] == [False, True, False, True, False, True]


def test_setting_the_same_pattern_again_keeps_its_rhythm(gpio: Any, mock_factory: Any) -> None:
    pin = mock_factory.pin(LED)
    gpio.light.set_pattern(LightPattern.ERROR)
    assert gpio.light.wait_cycles(1, timeout=5)
    for _ in range(20):
        gpio.light.set_pattern(LightPattern.ERROR)  # the core loop re-asserts its state every tick
    assert gpio.light.wait_cycles(3, timeout=5)
    assert_plays(pin, expected_changes(LIGHT_TIMINGS[LightPattern.ERROR]) * 3)


def test_closing_turns_the_light_off(mock_factory: Any, posted: queue.Queue[object]) -> None:
    with Gpio.open(GpioConfig(led_pin=LED), posted.put) as gpio:
        gpio.light.set_pattern(LightPattern.ONLINE)
        assert gpio.light.wait_cycles(1, timeout=5)
        assert mock_factory.pin(LED).state
    assert not mock_factory.pin(LED).state


def test_short_press_asks_for_a_reprint(gpio: Any, mock_factory: Any, posted: queue.Queue[object]) -> None:
    drain(posted)
    pin = mock_factory.pin(BUTTON)
    pin.drive_low()
    pin.drive_high()
    assert next_event(posted) == ButtonPressed("short")


def test_long_press_is_reported_at_the_hold_time_and_only_once(
    gpio: Any, mock_factory: Any, posted: queue.Queue[object]
) -> None:
    drain(posted)
    pin = mock_factory.pin(BUTTON)
    pin.drive_low()
    assert next_event(posted) == ButtonPressed("long")  # while still held: the person may let go
    pin.drive_high()
    pin.drive_low()
    pin.drive_high()
    assert next_event(posted) == ButtonPressed("short")  # the release after a long press added nothing
    assert posted.empty()


def test_new_order_alert_beeps_as_its_table_says(gpio: Any, mock_factory: Any) -> None:
    gpio.buzzer.alert(BuzzPattern.NEW_ORDER)
    assert gpio.buzzer.wait_done(timeout=5)
    pin = mock_factory.pin(BUZZER)
    assert_plays(pin, expected_changes(BUZZ_TIMINGS[BuzzPattern.NEW_ORDER]))
    assert [s.state for s in pin.states] == [False, True, False, True, False, True, False]


def test_a_new_alert_cuts_the_playing_one_short(gpio: Any, mock_factory: Any) -> None:
    gpio.buzzer.alert(BuzzPattern.ERROR)
    gpio.buzzer.alert(BuzzPattern.CONFIRM)
    assert gpio.buzzer.wait_done(timeout=5)
    assert not mock_factory.pin(BUZZER).state
    assert mock_factory.pin(BUZZER).states[-1].timestamp < 0.5  # the 0.6 s error tone was not played out


def test_opening_reports_each_fitted_device(gpio: Any, posted: queue.Queue[object]) -> None:
    assert drain(posted) == [
        DeviceStatus("gpio.led", DeviceState.OK, f"GPIO{LED}"),
        DeviceStatus("gpio.button", DeviceState.OK, f"GPIO{BUTTON}"),
        DeviceStatus("gpio.buzzer", DeviceState.OK, f"GPIO{BUZZER}"),
    ]
    assert gpio.light.present and gpio.button.present and gpio.buzzer.present


def test_no_pins_configured_gives_null_devices_that_accept_every_call(posted: queue.Queue[object]) -> None:
    with Gpio.open(GpioConfig(), posted.put) as gpio:
        assert not (gpio.light.present or gpio.button.present or gpio.buzzer.present)
        gpio.light.set_pattern(LightPattern.ERROR)
        assert gpio.light.pattern is LightPattern.ERROR
        assert gpio.light.wait_cycles(1, timeout=0)
        gpio.buzzer.alert(BuzzPattern.NEW_ORDER)
        assert gpio.buzzer.wait_done(timeout=0)
    assert posted.empty()


def test_no_gpio_chip_gives_one_status_one_warning_and_null_devices(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, posted: queue.Queue[object]
) -> None:
    # gpiozero raises BadPinFactory when no factory is usable, as on a PC or a Pi without /dev/gpiochip*.
    from gpiozero import Device

    monkeypatch.setattr(Device, "pin_factory", None)
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-chip")
    config = GpioConfig(led_pin=LED, button_pin=BUTTON, buzzer_pin=BUZZER)
    with caplog.at_level(logging.WARNING), Gpio.open(config, posted.put) as gpio:
        gpio.light.set_pattern(LightPattern.ONLINE)
        gpio.buzzer.alert()
        assert not (gpio.light.present or gpio.button.present or gpio.buzzer.present)
    (status,) = drain(posted)
    assert isinstance(status, DeviceStatus)
    assert (status.device, status.state) == ("gpio", DeviceState.ABSENT)
    assert "no-such-chip" in status.detail
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_a_pin_that_cannot_be_claimed_costs_only_that_device(
    mock_factory: Any, posted: queue.Queue[object]
) -> None:
    with Gpio.open(GpioConfig(led_pin=LED, buzzer_pin=99), posted.put) as gpio:
        assert gpio.light.present and not gpio.buzzer.present
        gpio.buzzer.alert()
    statuses = drain(posted)
    assert statuses[0] == DeviceStatus("gpio.led", DeviceState.OK, f"GPIO{LED}")
    assert isinstance(statuses[1], DeviceStatus) and statuses[1].state is DeviceState.ERROR
    assert statuses[1].device == "gpio.buzzer" and "GPIO99" in statuses[1].detail


def test_a_named_mock_factory_works_without_a_default_factory(
    monkeypatch: pytest.MonkeyPatch, posted: queue.Queue[object]
) -> None:
    from gpiozero import Device

    monkeypatch.setattr(Device, "pin_factory", None)
    with Gpio.open(GpioConfig(led_pin=LED, pin_factory="mock"), posted.put) as gpio:
        gpio.light.set_pattern(LightPattern.ERROR)
        assert gpio.light.wait_cycles(1, timeout=5)
    assert drain(posted) == [DeviceStatus("gpio.led", DeviceState.OK, f"GPIO{LED}")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"led_pin": 17, "button_pin": 17}, "must differ"),
        ({"led_pin": -1}, ">= 0"),
        ({"hold_time_s": 0}, "hold_time_s"),
    ],
)
def test_bad_config_is_refused_with_the_key_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(DeviceConfigError, match=message):
        GpioConfig(**kwargs)


def test_an_unknown_factory_name_is_a_config_error(posted: queue.Queue[object]) -> None:
    with pytest.raises(DeviceConfigError, match=r"'lgpoi'.*known:.*lgpio"):
        Gpio.open(GpioConfig(led_pin=LED, pin_factory="lgpoi"), posted.put)


def test_the_docs_tables_match_the_timing_tables() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "gpio.md").read_text()
    for light, timing in LIGHT_TIMINGS.items():
        assert f"| {light.name} | {timing.describe()} |" in docs
    for sound, timing in BUZZ_TIMINGS.items():
        assert f"| {sound.name} | {timing.describe()} |" in docs
