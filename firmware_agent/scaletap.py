"""The serial tap as a service: the box between the POS and its scale, forwarding both ways and counting
what the POS weighed.

The tap itself (`devices.scales.tap`) forwards every byte unchanged and decodes the scale's answers; this
service opens the two ports, keeps the tap running (a port that vanishes — a USB adapter pulled — is
reopened with a backoff, with one log line per outage), and posts each reading to the core loop, where each
new weighing is counted (`scale_tap_weighings` in telemetry), logged, and kept until the next receipt: the
scale is a second witness of the receipt's weighed lines (`firmware_agent.receipts`), since the tap sees the
weight but never which product the POS sold. It never sends anything of its own.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from devices.errors import DeviceError
from devices.readings import DeviceState, DeviceStatus
from devices.scales import ScaleReading, SerialSettings, make_codec
from devices.scales.tap import SerialTap
from devices.scales.transport import PORT_ERRORS, SerialPort, open_port
from firmware_agent.core import CoreLoop
from firmware_agent.store import Store

log = logging.getLogger(__name__)

DEVICE = "scale-tap"
OPEN_ERRORS: tuple[type[Exception], ...] = (DeviceError, *PORT_ERRORS)
BACKOFF_S = (0.5, 1.0, 2.0, 5.0)
PENDING = "scale_tap.pending"
"""Store setting: the grams of each weighing since the last receipt, oldest first (JSON list)."""
PENDING_KEEP = 50
"""Weighings kept for the next receipt; a POS that prints no receipt for longer drops the oldest."""
TOLERANCE_G = 1
"""A receipt prints the weight the scale gave, rounded to the gram at most."""


@dataclass(frozen=True)
class TappedWeighing:
    """A reading the scale gave the POS, seen on the tap."""

    reading: ScaleReading


class ScaleTapService:
    def __init__(self, protocol: str, pos_port: str, scale_port: str, settings: SerialSettings) -> None:
        self.protocol, self.pos_port, self.scale_port, self.settings = (
            protocol,
            pos_port,
            scale_port,
            settings,
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.weighings = 0
        self._on_scale: int | None = None  # grams of the sellable weight on the scale now, on the loop only

    def start(self, core: CoreLoop) -> None:
        core.on(TappedWeighing, lambda event: self._on_weighing(core, event))
        core.counters["scale_tap_weighings"] = 0
        self._thread = threading.Thread(target=self._run, args=(core,), name="scale-tap", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _on_weighing(self, core: CoreLoop, event: TappedWeighing) -> str:
        """A POS polls while the goods lie on the scale: the same stable weight again is the same weighing;
        a new weight, or one after the scale was emptied or unsteady, is the next."""
        reading = event.reading
        if not reading.sellable or reading.weight_kg is None:
            self._on_scale = None
            return "scale tap: the POS's scale answered with no sellable weight"
        grams = int(reading.weight_kg * 1000)
        if grams == self._on_scale:
            return f"scale tap: the same {reading.weight_kg} kg read again"
        self._on_scale = grams
        self.weighings += 1
        core.counters["scale_tap_weighings"] = self.weighings
        remember_weighing(core.store, grams)
        return f"scale tap: the POS weighed {reading.weight_kg} kg"

    def _run(self, core: CoreLoop) -> None:
        failures = 0
        while not self._stop.is_set():
            ports: list[SerialPort] = []
            try:
                ports = [open_port(self.pos_port, self.settings), open_port(self.scale_port, self.settings)]
            except OPEN_ERRORS as exc:  # termios.error too: a pty or an adapter half gone
                if failures == 0:
                    log.warning("scale tap: %s; retrying", exc)
                    core.post(DeviceStatus(DEVICE, DeviceState.ABSENT, str(exc)))
                failures += 1
            else:
                if failures:
                    log.info("scale tap: both ports open again")
                failures = 0
                core.post(DeviceStatus(DEVICE, DeviceState.OK))
                tap = SerialTap(ports[0], ports[1], make_codec(self.protocol), self._post(core), self._stop)
                tap.run()
                if not self._stop.is_set():
                    log.warning("scale tap: a port failed; reopening both")
                    core.post(DeviceStatus(DEVICE, DeviceState.ERROR, "a serial port failed"))
                    failures = 1
            finally:
                for port in ports:
                    port.close()
            self._stop.wait(BACKOFF_S[min(failures, len(BACKOFF_S)) - 1] if failures else 0)

    @staticmethod
    def _post(core: CoreLoop) -> Callable[[ScaleReading], None]:
        return lambda reading: core.post(TappedWeighing(reading))


# -- the scale as the receipts' witness (on the loop, in its transaction) ------------------------------------


def remember_weighing(store: Store, grams: int) -> None:
    """Keep a weighing for the next receipt (durably, with the loop's commit, like a scan waiting for one)."""
    pending = pending_weighings(store)
    pending.append(grams)
    store.set_setting(PENDING, json.dumps(pending[-PENDING_KEEP:]))


def pending_weighings(store: Store) -> list[int]:
    return [int(grams) for grams in json.loads(store.setting(PENDING) or "[]")]


def take_up_weighings(store: Store, lines_g: list[int]) -> tuple[list[int], list[int], list[int]]:
    """Tie a receipt's weighed lines to the weighings since the receipt before; forget those weighings.

    Returns (lines the scale weighed, lines it did not, weighings on no line). A weighing waits for the
    next receipt only, as a scan does, so an old one never vouches for a later line."""
    result = match_weighings(lines_g, pending_weighings(store))
    store.set_setting(PENDING, "[]")
    return result


def match_weighings(lines_g: list[int], weighings_g: list[int]) -> tuple[list[int], list[int], list[int]]:
    """Pair each line with an unused weighing within `TOLERANCE_G` (each weighing vouches for one line)."""
    left = sorted(weighings_g)
    witnessed: list[int] = []
    unwitnessed: list[int] = []
    for line in sorted(lines_g):
        match = next((w for w in left if abs(w - line) <= TOLERANCE_G), None)
        if match is None:
            unwitnessed.append(line)
        else:
            left.remove(match)
            witnessed.append(line)
    return witnessed, unwitnessed, left
