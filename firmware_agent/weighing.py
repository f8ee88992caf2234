"""The scale as a service: its readings reach the core loop, and a weighed product sells the weight on it.

Legal-for-trade: only a stable, positive, in-range weight (`ScaleReading.sellable`) may enter a sale, and each
weighing sells once — a scan takes the weight, so scanning twice without a new weighing sells nothing twice.
"""

from __future__ import annotations

import threading
from decimal import Decimal

from devices.scales import ScaleDriver, ScaleReading, SerialSettings
from firmware_agent.core import CoreLoop

GRAMS_PER_KG = Decimal(1000)


class ScaleService:
    def __init__(
        self, protocol: str, port: str, settings: SerialSettings | None, poll_interval_s: float
    ) -> None:
        self.protocol, self.port, self.settings, self.poll_interval_s = (
            protocol,
            port,
            settings,
            poll_interval_s,
        )
        self.driver: ScaleDriver | None = None
        self._weight_g: int | None = None
        self._stop = threading.Event()

    def start(self, core: CoreLoop) -> None:
        core.on(ScaleReading, self.on_reading)
        core.take_weight = self.take_weight
        self.driver = ScaleDriver(
            "scale", self.protocol, self.port, self.settings, core.post, self.poll_interval_s, stop=self._stop
        )
        self.driver.start()

    def stop(self) -> None:
        if self.driver is not None:
            self.driver.stop()

    def on_reading(self, reading: ScaleReading) -> str:
        """On the loop: remember what may be sold; anything else only shows as a status."""
        if reading.sellable and reading.weight_kg is not None:
            self._weight_g = int(reading.weight_kg * GRAMS_PER_KG)
            return f"scale: {self._weight_g} g, stable"
        self._weight_g = None
        return f"scale: {_describe(reading)}"

    def take_weight(self) -> int | None:
        weight, self._weight_g = self._weight_g, None
        return weight


def _describe(reading: ScaleReading) -> str:
    if reading.error:
        return reading.error
    flags = [name for name in ("over", "under", "zero") if getattr(reading, name)]
    return ", ".join(flags or ["in motion" if not reading.stable else "no weight"])
