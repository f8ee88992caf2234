"""The serial tap as a service: the box between the POS and its scale, forwarding both ways and counting
what the POS weighed.

The tap itself (`devices.scales.tap`) forwards every byte unchanged and decodes the scale's answers; this
service opens the two ports, keeps the tap running (a port that vanishes — a USB adapter pulled — is
reopened with a backoff, with one log line per outage), and posts each sellable weighing to the core loop,
where it is counted (`scale_tap_weighings` in telemetry) and logged. It never sends anything of its own.
"""

from __future__ import annotations

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

log = logging.getLogger(__name__)

DEVICE = "scale-tap"
OPEN_ERRORS: tuple[type[Exception], ...] = (DeviceError, *PORT_ERRORS)
BACKOFF_S = (0.5, 1.0, 2.0, 5.0)


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
        reading = event.reading
        if not reading.sellable or reading.weight_kg is None:
            return "scale tap: the POS's scale answered with no sellable weight"
        self.weighings += 1
        core.counters["scale_tap_weighings"] = self.weighings
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
