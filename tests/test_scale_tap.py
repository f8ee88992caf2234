"""The serial tap between a POS and its scale: a POS simulator polls a virtual scale through the box over
pty pairs; every byte passes both ways unchanged and in time, and the box sees the weights."""

import logging
import threading
from decimal import Decimal

import pytest

from devices.readings import DeviceState, DeviceStatus
from devices.scales import ScaleReading, codec_class, make_codec
from devices.scales.tap import SerialTap
from devices.scales.transport import open_port
from simulators.pos import PtyEnd, ScalePos
from simulators.scales import VirtualScale


class Tapped:
    def __init__(self, protocol, **scale_options):
        self.scale = VirtualScale(protocol, **scale_options).start()
        self.cable = PtyEnd()  # the POS's cable; the box holds its other end
        settings = codec_class(protocol).defaults
        self.pos_port = open_port(self.cable.path, settings)
        self.scale_port = open_port(self.scale.port_path, settings)
        self.seen: list[ScaleReading] = []
        self._seeing = threading.Condition()
        self.tap = SerialTap(self.pos_port, self.scale_port, make_codec(protocol), self._saw)
        self.result = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.result = self.tap.run()

    def _saw(self, reading):
        with self._seeing:
            self.seen.append(reading)
            self._seeing.notify_all()

    def seen_once_weighed(self, count, timeout=5.0):
        """Every reading the box decoded, once `count` of them carry a weight: the tap forwards a reply to
        the POS first and decodes it after, so the POS can hold a weight a moment before the box does."""
        with self._seeing:
            self._seeing.wait_for(lambda: sum(r.weight_kg is not None for r in self.seen) >= count, timeout)
            return list(self.seen)

    def close(self):
        self.tap.stop.set()
        self.thread.join(5)
        assert not self.thread.is_alive()
        for port in (self.pos_port, self.scale_port):
            port.close()
        self.cable.close()
        self.scale.stop()


@pytest.fixture
def tapped(request):
    box = Tapped(*request.param[:1], **(request.param[1] if len(request.param) > 1 else {}))
    yield box
    box.close()


@pytest.mark.parametrize("tapped", [("toledo8217",)], indirect=True)
def test_the_pos_reads_the_scale_through_the_box_and_the_box_sees_the_same_weight(tapped):
    pos = ScalePos(tapped.cable, "toledo8217")
    tapped.scale.set_weight(Decimal("1.234"), stable=True)
    reading = pos.weigh(timeout=2)
    assert reading is not None and reading.weight_kg == Decimal("1.234") and reading.sellable
    assert [r.raw for r in tapped.seen_once_weighed(1)] == [reading.raw]  # the box saw the bytes the POS got
    assert bytes(tapped.scale.received) == b"W"  # the POS's poll reached the scale unchanged


@pytest.mark.parametrize(
    "tapped", [("dialog06", {"require_price": True, "checksum_every": 2})], indirect=True
)
def test_a_dialog06_price_and_checksum_handshake_passes_through_untouched(tapped):
    from devices.scales.dialog06 import Article

    pos = ScalePos(tapped.cable, "dialog06", article=Article(unit_price=Decimal("2.50")))
    tapped.scale.set_weight(Decimal("1.000"), stable=True)
    got = [pos.weigh(timeout=2) for _ in range(3)]  # the second weighing triggers the checksum exchange
    assert all(r is not None and r.amount == Decimal("2.50") for r in got), got
    weights = [r.weight_kg for r in tapped.seen_once_weighed(3) if r.weight_kg is not None]
    assert weights == [Decimal("1.000")] * 3


@pytest.mark.parametrize("tapped", [("toledo8217",)], indirect=True)
def test_a_scale_that_is_unplugged_ends_the_tap_with_a_log_line_and_no_hang(tapped, caplog):
    caplog.set_level(logging.DEBUG)
    tapped.scale.unplug()
    tapped.thread.join(5)
    assert not tapped.thread.is_alive()
    assert any("scale serial port" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


def test_the_tap_service_counts_what_the_pos_weighed_and_reopens_a_vanished_scale(tmp_path):
    from firmware_agent.scaletap import ScaleTapService, TappedWeighing
    from tests.core_helpers import running_core

    link = tmp_path / "ttyScale"  # an 8N1 protocol: a pty cannot be reopened with 7E1 (a pty limit)
    with VirtualScale("mtsics", link=link) as scale:
        cable = PtyEnd()
        service = ScaleTapService("mtsics", cable.path, str(link), codec_class("mtsics").defaults)
        try:
            with running_core(tmp_path, services=[service]) as box:
                pos = ScalePos(cable, "mtsics")
                scale.set_weight(Decimal("0.412"), stable=True)

                def weighed():
                    while True:
                        applied = box.next()
                        if isinstance(applied.event, TappedWeighing):
                            return applied

                while not (
                    isinstance(status := box.next().event, DeviceStatus) and status.state is DeviceState.OK
                ):
                    pass  # the box has both ports open (opening a port drops what waits in it)
                assert pos.weigh(timeout=5) is not None
                assert weighed().outcome.message == "scale tap: the POS weighed 0.412 kg"
                scale.unplug()
                scale.plug()
                scale.set_weight(Decimal("1.5"), stable=True)
                reading = None
                for _ in range(40):  # the POS retries, as till software does, while the box reopens
                    reading = pos.weigh(timeout=0.25)
                    if reading is not None:
                        break
                assert reading is not None and reading.weight_kg == Decimal("1.5")
                assert weighed().outcome.message == "scale tap: the POS weighed 1.500 kg"
                assert box.core.counters["scale_tap_weighings"] == 2
        finally:
            cable.close()
