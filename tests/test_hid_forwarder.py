"""The HID forwarder: reports written to a file (standing in for /dev/hidg0) type the scan back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devices.errors import DeviceIOError, DeviceTimeout, DeviceUnavailable
from devices.hid import HidForwarder, decode_reports
from devices.readings import DeviceState, ScanRead
from devices.scanners.layouts import GS
from simulators.scanner import SimulatedScanner, key_events_for
from tests.scanner_helpers import Collector, decode, running

GS1 = "]C1010950600013435210ABC123" + GS + "3103000250"


@pytest.mark.parametrize("layout", ["us", "uk", "es", "fr", "de", "it", "pt"])
def test_a_wedge_scan_written_to_the_gadget_types_back(tmp_path: Path, layout: str) -> None:
    gadget = tmp_path / "hidg0"
    gadget.touch()
    [scan] = decode(key_events_for(GS1 + "@", layout), layout)
    forwarder = HidForwarder(str(gadget), layout="us")  # wedge scans carry their own keys
    forwarder.send(scan)
    forwarder.send(scan)
    forwarder.close()
    assert decode_reports(gadget.read_bytes(), layout) == (GS1 + "@\n") * 2


def test_a_serial_scan_is_typed_with_the_pcs_layout(tmp_path: Path) -> None:
    gadget = tmp_path / "hidg0"
    gadget.touch()
    forwarder = HidForwarder(str(gadget), layout="fr")
    forwarder.send(ScanRead("serial", "1234@"))
    forwarder.close()
    assert decode_reports(gadget.read_bytes(), "fr") == "1234@\n"
    assert decode_reports(gadget.read_bytes(), "us") != "1234@\n"  # a US PC would type something else


def test_a_missing_gadget_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    forwarder = HidForwarder(str(tmp_path / "hidg0"))
    with pytest.raises(DeviceUnavailable, match="no HID gadget"):
        forwarder.send(ScanRead("s", "1"))
    post = Collector()
    with running(forwarder, post):
        assert "hid-gadget-setup.sh" in post.status(DeviceState.ABSENT).detail
        (tmp_path / "hidg0").touch()  # the gadget appears (setup ran late)
        forwarder.forward(ScanRead("s", "2"))
        post.status(DeviceState.OK)
    assert decode_reports((tmp_path / "hidg0").read_bytes(), "us") == "2\n"


def test_the_run_thread_forwards_scans_from_a_simulated_scanner(tmp_path: Path) -> None:
    gadget = tmp_path / "hidg0"
    gadget.touch()
    forwarder = HidForwarder(str(gadget))
    scans, status = Collector(), Collector()
    simulated = SimulatedScanner("sim", barcodes=["5901234123457", GS1], layout="de")
    with running(forwarder, status), running(simulated, scans):
        status.status(DeviceState.OK)
        for _ in range(2):
            forwarder.forward(scans.scan())
    assert decode_reports(gadget.read_bytes(), "de") == "5901234123457\n" + GS1 + "\n"


def test_an_unwritable_gadget_is_an_error(tmp_path: Path) -> None:
    forwarder = HidForwarder(str(tmp_path))  # a directory cannot be opened for writing
    with pytest.raises(DeviceIOError, match="cannot open"):
        forwarder.send(ScanRead("s", "1"))


def test_a_host_that_reads_nothing_times_out(tmp_path: Path) -> None:
    fifo = tmp_path / "hidg0"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # opened, never read: like a sleeping PC
    try:
        forwarder = HidForwarder(str(fifo), write_timeout=0.05)
        with pytest.raises(DeviceTimeout, match="the host took no report"):
            forwarder.send(ScanRead("s", "9" * 10_000))
    finally:
        os.close(reader)
