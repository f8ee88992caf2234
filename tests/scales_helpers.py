"""Shared by the scale tests: feeding codecs every way, an independent oracle, driver plumbing."""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from devices.readings import DeviceState, DeviceStatus
from devices.scales import PROTOCOLS, ScaleCodec, ScaleDriver, ScaleEvent, ScaleReading, make_codec
from devices.scales.framing import MASK_7BIT
from devices.scales.reading import KG_PER_UNIT
from simulators.scales import ScaleState, make_responder

JUNK = b"\x00\xff#~\x7f%"
"""Noise that holds no frame start in any protocol, even with bit 7 masked."""

SAFE_JUNK_ALPHABET = sorted(set(b"\x00#%&~!'*/:;<=>@[]^_`{|}\x7f") | {b | 0x80 for b in b"#%&~!*/:;"})


def decode(protocol: str, data: bytes, chunk: int | None = None, **options: Any) -> list[ScaleEvent]:
    codec = make_codec(protocol, **options)
    if chunk is None:
        return codec.feed(data)
    events: list[ScaleEvent] = []
    for i in range(0, len(data), chunk):
        events += codec.feed(data[i : i + chunk])
    return events


def decode_every_way(protocol: str, data: bytes, **options: Any) -> list[ScaleEvent]:
    """Decode whole, byte by byte and wrapped in junk; assert all three agree; return the events."""
    whole = decode(protocol, data, **options)
    assert decode(protocol, data, chunk=1, **options) == whole, "byte-by-byte differs from whole"
    assert decode(protocol, JUNK + data + JUNK, **options) == whole, "junk around the data changes the result"
    assert decode(protocol, JUNK + data + JUNK, chunk=1, **options) == whole
    return whole


def readings(events: list[ScaleEvent]) -> list[ScaleReading]:
    return [e for e in events if isinstance(e, ScaleReading)]


def only_reading(protocol: str, data: bytes, **options: Any) -> ScaleReading:
    found = readings(decode_every_way(protocol, data, **options))
    assert len(found) == 1, found
    return found[0]


def weights(events: list[ScaleEvent]) -> list[Decimal]:
    return [r.weight_kg for r in readings(events) if r.weight_kg is not None]


# -- scale-side frames, from the simulator's responders ---------------------------------------------

_POLL = {"enq": b"\x11"}  # ENQ only earns an ACK; DC1 brings the weight


def scale_frames(protocol: str, weight_kg: Decimal, *, stable: bool = True) -> bytes:
    """What the simulated scale sends for this load when polled (or on its next tick)."""
    responder = make_responder(protocol)
    state = ScaleState(weight_kg=weight_kg, stable=stable)
    if responder.continuous:
        return b"".join(responder.tick(state))
    poll = _POLL.get(protocol, make_codec(protocol).request())
    return b"".join(responder.receive(poll, state))


# -- an oracle that shares no code with the codecs ---------------------------------------------------

_NUM = rb" *[-+]? *(?:\d+\.?\d*|\.\d+) *"


def _number(text: bytes) -> Decimal:
    return Decimal(text.replace(b" ", b"").decode())


def _kg(value: Decimal, unit: bytes) -> set[Decimal]:
    factor = KG_PER_UNIT.get(unit.strip().decode("latin-1"))
    return {value * factor} if factor is not None else set()


def _dialog(data: bytes, places: dict[bytes, tuple[bytes, int]]) -> set[Decimal]:
    found: set[Decimal] = set()
    for m in re.finditer(rb"\x0202\x1b([0-3])\x1b(\d{1,8})\x1b\d{1,8}\x1b\d{1,8}\x03", data):
        unit, exp = places[m[1]]
        found |= _kg(Decimal(m[2].decode()).scaleb(-exp), unit)
    return found


def _enq(data: bytes) -> set[Decimal]:
    found: set[Decimal] = set()
    for m in re.finditer(rb"(?=\x02([SU])([ -])([\s\S]{6})([\s\S]{2})([\s\S])\x03)", data):
        body = m[1] + m[2] + m[3] + m[4]
        check = 0
        for b in body:
            check ^= b
        if check == m[5][0] and re.fullmatch(_NUM, m[3]):
            found |= _kg(_number(m[2].strip() + m[3]), m[4])
    return found


def _pattern(regex: bytes, unit: bytes | None = None) -> Callable[[bytes], set[Decimal]]:
    def oracle(data: bytes) -> set[Decimal]:
        found: set[Decimal] = set()
        for m in re.finditer(regex, data):
            if re.fullmatch(_NUM, m[1]):
                found |= _kg(_number(m[1]), unit if unit is not None else m[2])
        return found

    return oracle


ORACLES: dict[str, Callable[[bytes], set[Decimal]]] = {
    "toledo8217": _pattern(rb"\x02( *[\d.]+) *N?\r", b"kg"),
    "toledo8213": _pattern(rb"\x02( *[\d.]+) *N?\r", b"lb"),
    "dialog06": lambda d: _dialog(
        d, {b"0": (b"lb", 2), b"1": (b"lb", 2), b"2": (b"lb", 3), b"3": (b"kg", 3)}
    ),
    "casecr12": lambda d: _dialog(d, {b"3": (b"kg", 3), b"2": (b"g", 3), b"1": (b"oz", 3), b"0": (b"lb", 3)}),
    "cas22": _pattern(rb"(?=(?:ST|US),(?:GS|NT),[\s\S]{2},([\s\S]{8}) ([\s\S]{2})\r\n)"),
    "mtsics": _pattern(rb"S [SD] +([-+]? *[\d.]+) +([A-Za-z]+) *\r?\n"),
    "enq": _enq,
}
assert set(ORACLES) == set(PROTOCOLS)


def oracle_weights(protocol: str, data: bytes) -> set[Decimal]:
    """Every weight a well-formed frame somewhere in `data` could stand for (bit 7 masked where due)."""
    seven_bit = PROTOCOLS[protocol].defaults.bytesize == 7
    return ORACLES[protocol](data.translate(MASK_7BIT) if seven_bit else data)


# -- driver plumbing ---------------------------------------------------------------------------------


class Inbox:
    """What a driver posted, with waiting on a predicate (no sleeping)."""

    def __init__(self) -> None:
        self.queue: queue.Queue[object] = queue.Queue()
        self.seen: list[object] = []

    def post(self, item: object) -> None:
        self.queue.put(item)

    def wait_for(self, predicate: Callable[[object], bool], timeout: float = 5.0) -> object:
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while not deadline.is_set():
                try:
                    item = self.queue.get(timeout=0.05)
                except queue.Empty:
                    continue
                self.seen.append(item)
                if predicate(item):
                    return item
        finally:
            timer.cancel()
        raise AssertionError(f"nothing matched within {timeout} s; seen: {self.seen[-10:]}")

    def reading(self, weight: Decimal | None = None, timeout: float = 5.0) -> ScaleReading:
        def matches(item: object) -> bool:
            return isinstance(item, ScaleReading) and (weight is None or item.value == weight)

        found = self.wait_for(matches, timeout)
        assert isinstance(found, ScaleReading)
        return found

    def status(self, state: DeviceState, timeout: float = 5.0) -> DeviceStatus:
        found = self.wait_for(lambda i: isinstance(i, DeviceStatus) and i.state is state, timeout)
        assert isinstance(found, DeviceStatus)
        return found


@contextmanager
def running_driver(
    protocol: str | ScaleCodec, port: str, **options: Any
) -> Iterator[tuple[Inbox, ScaleDriver]]:
    inbox = Inbox()
    kwargs: dict[str, Any] = {
        "response_timeout": 0.15,
        "misses_before_error": 2,
        "min_backoff": 0.02,
        "max_backoff": 0.2,
    }
    kwargs.update(options)
    driver = ScaleDriver("scale-1", protocol, port, None, inbox.post, 0.02, **kwargs)
    driver.start()
    try:
        yield inbox, driver
    finally:
        driver.stop()
