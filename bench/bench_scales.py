"""Scale poll → reading latency over a pty, against a raw pty write → read of the same bytes.

Ours: one `exchange()` (what the driver does per poll: flush, send the poll, read and frame until the codec
has a reading) through pyserial against `VirtualScale`. Baseline: the same poll and answer bytes through
bare `os.write`/`os.read` on a pty with an echo thread — the floor any driver on this machine can reach.
Streaming protocols (cas22) have no poll and are left out.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from decimal import Decimal

from bench.common import Result, duration, percentile
from devices.scales import PROTOCOLS, make_codec
from devices.scales.transport import exchange, open_port
from simulators.scales import ScaleState, VirtualScale, make_responder

SAMPLES = 1000
WARM_UP = 20  # first polls pay for imports, allocations and the pty's first wake-ups


def _answer_bytes(protocol: str, weight: Decimal) -> tuple[bytes, bytes]:
    """The poll and the whole answer for one reading (ENQ/ACK/DC1 and Dialog 06 EOT folded in)."""
    responder, state, codec = make_responder(protocol), ScaleState(weight_kg=weight), make_codec(protocol)
    poll, answer = codec.request(), b""
    to_scale = poll
    while to_scale:
        reply = b"".join(responder.receive(to_scale, state))
        answer += reply
        codec.feed(reply)
        to_scale = codec.data_to_send()
    return poll, answer


def _ours(protocol: str, weight: Decimal) -> list[float]:
    samples: list[float] = []
    with VirtualScale(protocol) as sim:
        sim.set_weight(weight)
        codec = make_codec(protocol)
        port = open_port(sim.port_path, type(codec).defaults)
        try:
            for _ in range(WARM_UP + SAMPLES):
                start = time.perf_counter()
                result = exchange(port, codec, 1.0)
                samples.append(time.perf_counter() - start)
                if not result.readings or result.readings[-1].weight_kg is None:
                    raise RuntimeError(f"{protocol}: no weight in {result.events}")
        finally:
            port.close()
    return samples[WARM_UP:]


def _raw_echo(poll: bytes, answer: bytes) -> list[float]:
    master, slave = os.openpty()
    tty.setraw(slave)
    stop = threading.Event()

    def scale() -> None:
        while not stop.is_set():
            if select.select([master], [], [], 0.05)[0]:
                os.read(master, 256)
                os.write(master, answer)

    thread = threading.Thread(target=scale, daemon=True)
    thread.start()
    samples: list[float] = []
    try:
        for _ in range(WARM_UP + SAMPLES):
            start = time.perf_counter()
            os.write(slave, poll)
            got = b""
            while len(got) < len(answer):
                got += os.read(slave, 256)
            samples.append(time.perf_counter() - start)
    finally:
        stop.set()
        thread.join()
        os.close(master)
        os.close(slave)
    return samples[WARM_UP:]


def run() -> list[Result]:
    results: list[Result] = []
    weight = Decimal("1.234")
    for protocol, codec in sorted(PROTOCOLS.items()):
        if codec.continuous:
            continue
        ours = _ours(protocol, weight)
        base = _raw_echo(*_answer_bytes(protocol, weight))
        for pct in (50, 99):
            results.append(
                duration(
                    f"scales.poll_to_reading.p{pct}.{protocol}",
                    percentile(ours, pct) * 1000,
                    percentile(base, pct) * 1000,
                    "ms",
                )
            )
    return results
