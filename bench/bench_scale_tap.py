"""The serial tap: what the box on the cable between a POS and its scale costs each weighing.

`scale_tap_added_latency`: a POS polls a Toledo 8217 scale (`W` → `STX weight CR`) and waits for the
answer. Rounds alternate the POS on the scale's own port (baseline) and the POS on its cable through the
box's tap, which forwards both ways and decodes the weights (ours); the figure is the median over rounds
of our p99 minus the direct p99, with the spread. Scale, box and POS run in processes of their own, as
they are three devices. Pseudo-terminals have no line time: on a real 9600-baud line each byte takes about
1 ms more on both paths alike.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from decimal import Decimal
from multiprocessing.connection import Connection

from bench.common import Result, alternate, percentile
from devices.scales import codec_class, make_codec
from devices.scales.tap import SerialTap
from devices.scales.transport import open_port
from simulators.pos import PtyEnd, ScalePos
from simulators.scales import VirtualScale

PROTOCOL = "mtsics"  # 8N1: a pty cannot be reopened with 7E1, and the rounds reopen the ports
POLLS = 300
ROUNDS = 5


def _scales(pipe: Connection) -> None:
    """Two identical scales: one behind the tap, one the POS reads directly (a pty has one reader)."""
    with VirtualScale(PROTOCOL) as tapped, VirtualScale(PROTOCOL) as direct:
        for scale in (tapped, direct):
            scale.set_weight(Decimal("1.234"), stable=True)
        pipe.send((tapped.port_path, direct.port_path))
        pipe.recv()


def _tap(pos_path: str, scale_path: str, pipe: Connection) -> None:
    settings = codec_class(PROTOCOL).defaults
    pos, scale = open_port(pos_path, settings), open_port(scale_path, settings)
    seen = [0]

    def count(reading: object) -> None:
        seen[0] += 1

    tap = SerialTap(pos, scale, make_codec(PROTOCOL), count)
    thread = threading.Thread(target=tap.run, daemon=True)
    thread.start()
    pipe.send("ready")
    pipe.recv()
    tap.stop.set()
    thread.join(5)
    pipe.send(seen[0])


def p99_ms(pos: ScalePos) -> float:
    samples: list[float] = []
    for _ in range(POLLS):
        started = time.perf_counter()
        reading = pos.weigh(timeout=2)
        samples.append((time.perf_counter() - started) * 1000)
        assert reading is not None and reading.weight_kg == Decimal("1.234"), reading
    return percentile(samples, 99)


def run() -> list[Result]:
    context = multiprocessing.get_context("fork")
    scale_pipe, scale_end = context.Pipe()
    scale_process = context.Process(target=_scales, args=(scale_end,), daemon=True)
    scale_process.start()
    scale_path, direct_path = scale_pipe.recv()
    cable = PtyEnd()
    cable.timeout = 2
    tap_pipe, tap_end = context.Pipe()
    tap_process = context.Process(target=_tap, args=(cable.path, scale_path, tap_end), daemon=True)
    tap_process.start()
    tap_pipe.recv()
    settings = codec_class(PROTOCOL).defaults
    through = ScalePos(cable, PROTOCOL)
    try:
        ours_first = p99_ms(through)  # warm up both paths outside the figures
        assert ours_first > 0

        def direct() -> float:
            port = open_port(direct_path, settings)
            try:
                return p99_ms(ScalePos(port, PROTOCOL))
            finally:
                port.close()

        rounds = alternate(ROUNDS, lambda: p99_ms(through), direct)
    finally:
        tap_pipe.send("stop")
        seen = tap_pipe.recv()
        scale_pipe.send("stop")
        tap_process.join(10)
        scale_process.join(10)
        cable.close()
    assert seen == POLLS * (ROUNDS + 1), f"the tap saw {seen} weighings of {POLLS * (ROUNDS + 1)}"
    return [
        rounds.duration("scale_tap.poll_p99_ms", "ms"),
        rounds.added("scale_tap_added_latency", "ms"),
    ]
