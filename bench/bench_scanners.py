"""Scanner benchmarks: wedge decoding per scan, and serial scan latency over a pty, each against a baseline.

- `wedge_decode_*`: the key events of one 13-digit EAN and its Enter through `WedgeDecoder.feed`, against
  the least a decoder can do (one dict lookup per key-down, no modifiers, no key strokes kept).
- `serial_latency_*`: from writing a scan into a pty to its `ScanRead` arriving on the core's queue,
  against a thread that reads the raw pty and splits on CR.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import tty
from collections.abc import Callable

from bench.common import Result, duration, percentile, throughput
from devices.readings import ScanRead
from devices.scanners import SerialScanner, WedgeDecoder
from devices.scanners.keycodes import EV_KEY, KEY_DOWN, KEY_ENTER
from devices.scanners.layouts import Level, get_layout
from simulators.scanner import Event, VirtualSerialScanner, key_events_for

EAN = "5901234123457"
DECODE_SCANS = 20_000
SERIAL_SCANS = 300


def _baseline_decode(events: list[Event], table: dict[int, str]) -> str:
    text: list[str] = []
    for event_type, code, value in events:
        if event_type == EV_KEY and value == KEY_DOWN:
            if code == KEY_ENTER:
                return "".join(text)
            ch = table.get(code)
            if ch:
                text.append(ch)
    return ""


def _ours_decode(events: list[Event], decoder: WedgeDecoder) -> str:
    for event in events:
        scan = decoder.feed(*event)
        if scan is not None:
            return scan.data
    return ""


def _time_per_scan(decode: Callable[[], str]) -> list[float]:
    samples = []
    for _ in range(DECODE_SCANS):
        start = time.perf_counter_ns()
        text = decode()
        samples.append((time.perf_counter_ns() - start) / 1000)
        assert text == EAN
    return samples


def bench_wedge() -> list[Result]:
    events = key_events_for(EAN)
    layout = get_layout("us")
    table = {code: ch for (code, level), ch in layout.chars.items() if level is Level.PLAIN}
    decoder = WedgeDecoder(layout)
    base = _time_per_scan(lambda: _baseline_decode(events, table))
    ours = _time_per_scan(lambda: _ours_decode(events, decoder))
    return [
        duration("wedge_decode_p50", percentile(ours, 50), percentile(base, 50), "us/scan"),
        duration("wedge_decode_p99", percentile(ours, 99), percentile(base, 99), "us/scan"),
        throughput("wedge_decode_rate", 1e6 * len(ours) / sum(ours), 1e6 * len(base) / sum(base), "scans/s"),
    ]


def _latencies(send: Callable[[str], object], arrivals: queue.Queue[str]) -> list[float]:
    samples = []
    for n in range(SERIAL_SCANS):
        text = f"{n:013d}"
        start = time.perf_counter()
        send(text)
        assert arrivals.get(timeout=5) == text
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _raw_pty_latencies() -> list[float]:
    master, slave = os.openpty()
    tty.setraw(slave)
    arrivals: queue.Queue[str] = queue.Queue()

    def reader() -> None:
        pending = b""
        while True:
            try:
                pending += os.read(slave, 4096)
            except OSError:
                return
            *lines, pending = pending.split(b"\r")
            for line in lines:
                arrivals.put(line.decode())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        return _latencies(lambda text: os.write(master, text.encode() + b"\r"), arrivals)
    finally:
        os.close(master)
        thread.join(2)
        os.close(slave)


def _serial_scanner_latencies() -> list[float]:
    arrivals: queue.Queue[str] = queue.Queue()
    ready = threading.Event()

    def post(item: object) -> None:
        if isinstance(item, ScanRead):
            arrivals.put(item.data)
        else:
            ready.set()

    stop = threading.Event()
    with VirtualSerialScanner("CR") as device:
        thread = threading.Thread(target=SerialScanner("bench", url=device.port_path).run, args=(post, stop))
        thread.start()
        try:
            if not ready.wait(5):
                raise RuntimeError("the serial scanner did not connect to the pty")
            return _latencies(device.scan, arrivals)
        finally:
            stop.set()
            thread.join(5)


def bench_serial() -> list[Result]:
    base, ours = _raw_pty_latencies(), _serial_scanner_latencies()
    return [
        duration("serial_latency_p50", percentile(ours, 50), percentile(base, 50), "ms"),
        duration("serial_latency_p99", percentile(ours, 99), percentile(base, 99), "ms"),
    ]


def run() -> list[Result]:
    return bench_wedge() + bench_serial()
