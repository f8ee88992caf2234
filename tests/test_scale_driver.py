"""The driver against virtual scales on real pseudo-terminals, one per protocol."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from devices.errors import DeviceConfigError, DeviceTimeout
from devices.readings import DeviceState, DeviceStatus
from devices.scales import PROTOCOLS, ScaleDriver, ScaleReading, SerialSettings, read_once
from devices.scales.dialog06 import Article, Dialog06Codec
from devices.scales.driver import LINE_NOISE, NOT_ANSWERING
from simulators.scales import Fault, VirtualScale
from tests.scales_helpers import Inbox, running_driver

PROTOCOL_NAMES = sorted(PROTOCOLS)


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_readings_arrive_and_follow_the_load(protocol):
    with VirtualScale(protocol) as sim, running_driver(protocol, sim.port_path) as (inbox, _):
        sim.set_weight(Decimal("1.234"))
        inbox.status(DeviceState.OK)
        assert inbox.reading(weight=_shown(protocol, "1.234")).sellable
        sim.set_weight(Decimal("2.500"))
        assert inbox.reading(weight=_shown(protocol, "2.500")).sellable


def _shown(protocol: str, kg: str) -> Decimal:
    """The figure the scale displays for `kg` (the 8213 shows pounds to 0.01)."""
    if protocol == "toledo8213":
        return (Decimal(kg) / Decimal("0.45359237")).quantize(Decimal("0.01"))
    return Decimal(kg)


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_switched_off_scale_is_not_answering_and_recovers(protocol):
    with VirtualScale(protocol) as sim, running_driver(protocol, sim.port_path) as (inbox, _):
        sim.set_weight(Decimal("0.750"))
        inbox.reading(weight=_shown(protocol, "0.750"))
        sim.switch_off()
        assert inbox.status(DeviceState.ERROR).detail == NOT_ANSWERING
        sim.switch_on()
        inbox.status(DeviceState.OK)
        inbox.reading(weight=_shown(protocol, "0.750"))


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_garbage_on_the_line_is_an_error_and_never_a_weight(protocol):
    with VirtualScale(protocol) as sim:
        sim.set_weight(Decimal("1.000"))
        with running_driver(protocol, sim.port_path) as (inbox, _):
            _garbage_then_corrupt_then_good(sim, inbox, protocol)


def _garbage_then_corrupt_then_good(sim: VirtualScale, inbox: Inbox, protocol: str) -> None:
    inbox.reading(weight=_shown(protocol, "1.000"))
    sim.set_fault(Fault.GARBAGE)
    sim.set_weight(Decimal("3.000"))
    assert inbox.status(DeviceState.ERROR).detail == LINE_NOISE
    sim.set_fault(Fault.CORRUPT)
    corrupt = inbox.reading()
    assert corrupt.weight_kg is None and corrupt.error and not corrupt.sellable
    sim.set_fault(Fault.NONE)
    inbox.reading(weight=_shown(protocol, "3.000"))
    posted = [i for i in inbox.seen if isinstance(i, ScaleReading) and i.value is not None]
    assert {r.value for r in posted} == {_shown(protocol, "1.000"), _shown(protocol, "3.000")}


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
def test_noise_around_good_frames_still_gives_readings(protocol):
    with VirtualScale(protocol) as sim, running_driver(protocol, sim.port_path) as (inbox, _):
        sim.set_fault(Fault.NOISE)
        sim.set_weight(Decimal("0.420"))
        assert inbox.reading(weight=_shown(protocol, "0.420")).sellable


def test_partial_frames_are_line_noise():
    with VirtualScale("toledo8217") as sim:
        sim.set_fault(Fault.PARTIAL)
        with running_driver("toledo8217", sim.port_path) as (inbox, _):
            assert inbox.status(DeviceState.ERROR).detail == LINE_NOISE
            assert not any(isinstance(i, ScaleReading) for i in inbox.seen)


def test_motion_is_reported_but_not_sellable():
    with VirtualScale("toledo8217") as sim:
        sim.set_weight(Decimal("1.000"), stable=False)
        with running_driver("toledo8217", sim.port_path) as (inbox, _):
            reading = inbox.reading()
            assert (reading.stable, reading.weight_kg, reading.sellable) == (False, None, False)


def test_unplugged_adapter_is_absent_then_found_again(tmp_path):
    link = tmp_path / "ttyScale"
    with VirtualScale("toledo8217", link=link) as sim, running_driver("toledo8217", str(link)) as (inbox, _):
        sim.set_weight(Decimal("1.111"))
        inbox.reading(weight=Decimal("1.111"))
        sim.unplug()
        assert "lost" in inbox.status(DeviceState.ABSENT).detail
        sim.plug()
        inbox.status(DeviceState.OK)
        inbox.reading(weight=Decimal("1.111"))


def test_missing_port_is_absent_and_the_driver_stops_promptly(tmp_path):
    inbox = Inbox()
    driver = ScaleDriver("s", "toledo8217", str(tmp_path / "nope"), None, inbox.post, min_backoff=0.01)
    thread = driver.start()
    assert "cannot open" in inbox.status(DeviceState.ABSENT).detail
    driver.stop()
    assert not thread.is_alive()


def test_status_changes_are_posted_once_and_steady_readings_once():
    with VirtualScale("toledo8217") as sim:
        sim.set_weight(Decimal("1.500"))
        with running_driver("toledo8217", sim.port_path) as (inbox, _):
            _steady_then_changed(sim, inbox)


def _steady_then_changed(sim: VirtualScale, inbox: Inbox) -> None:
    inbox.reading(weight=Decimal("1.500"))
    start = sim.total_received
    assert sim.wait_for_input(start + 10)  # ten more polls of the same load
    sim.set_weight(Decimal("1.600"))
    inbox.reading(weight=Decimal("1.600"))
    posted = [i for i in inbox.seen if isinstance(i, ScaleReading | DeviceStatus)]
    assert [type(i).__name__ for i in posted] == ["DeviceStatus", "ScaleReading", "ScaleReading"]


def test_a_stop_event_shared_by_the_owner_stops_the_driver():
    stop = threading.Event()
    with VirtualScale("mtsics") as sim:
        inbox = Inbox()
        driver = ScaleDriver("s", "mtsics", sim.port_path, None, inbox.post, 0.01, stop=stop)
        thread = driver.start()
        inbox.reading()
        stop.set()
        thread.join(2)
        assert not thread.is_alive()


def test_dialog06_through_the_driver_with_a_price_and_checksum_handshakes():
    with VirtualScale("dialog06", require_price=True, checksum_every=2) as sim:
        codec = Dialog06Codec(article=Article(Decimal("3.00")))
        with running_driver(codec, sim.port_path) as (inbox, _):
            sim.set_weight(Decimal("0.500"))
            reading = inbox.reading(weight=Decimal("0.500"))
            assert reading.amount == Decimal("1.50")
            sim.set_weight(Decimal("0.600"))
            assert inbox.reading(weight=Decimal("0.600")).amount == Decimal("1.80")
        assert sim.responder.checksum_ok is True  # type: ignore[attr-defined]


def test_serial_settings_are_passed_to_the_port_and_overridable():
    with VirtualScale("enq") as sim:
        sim.set_weight(Decimal("0.100"))
        settings = SerialSettings.parse("19200 8N2")
        assert read_once("enq", sim.port_path, settings).weight_kg == Decimal("0.100")


def test_read_once_on_loop_url_hears_only_its_own_poll_and_says_so():
    with pytest.raises(DeviceTimeout, match="1 bytes of noise"):
        read_once("toledo8217", "loop://", timeout=0.1)


def test_read_once_through_spy_url_logs_the_traffic(tmp_path):
    log = tmp_path / "spy.txt"
    with VirtualScale("toledo8217") as sim:
        sim.set_weight(Decimal("1.234"))
        reading = read_once("toledo8217", f"spy://{sim.port_path}?file={log}", timeout=1.0)
    assert reading.weight_kg == Decimal("1.234")
    traffic = log.read_text()
    assert "TX   0000  57 " in traffic  # the poll, "W"
    assert "RX   0000  " in traffic  # the answer, parity bits and all, for an installer to read


def test_silent_scale_read_once_times_out_with_a_clear_message():
    with VirtualScale("mtsics") as sim:
        sim.switch_off()
        with pytest.raises(DeviceTimeout, match="not answering"):
            read_once("mtsics", sim.port_path, timeout=0.1)


def test_bad_driver_settings_are_rejected():
    with pytest.raises(DeviceConfigError):
        ScaleDriver("s", "toledo8217", "loop://", None, print, response_timeout=0)
