"""The status LED, button and buzzer as a service beside the core loop.

The LED shows the box's health, worked out by `light_for` from facts the core already has; the button's
presses arrive as events and the print service (when there is a printer) acts on them.
"""

from __future__ import annotations

import logging

from devices.gpio import ButtonPressed, BuzzPattern, Gpio, GpioConfig, LightPattern
from devices.readings import DeviceState
from firmware_agent.core import Applied, CoreLoop
from firmware_agent.domain import Feedback
from firmware_agent.link import Link

log = logging.getLogger(__name__)


def light_for(journal_level: str, link_up: bool | None, device_errors: int) -> LightPattern:
    """The LED pattern for a health picture; `link_up` is None while the box has no cloud link."""
    if journal_level == "full" or device_errors:
        return LightPattern.ERROR
    if journal_level == "warning":
        return LightPattern.WARNING
    if link_up is False:
        return LightPattern.OFFLINE_BACKLOG
    return LightPattern.ONLINE


class Indicators:
    def __init__(self, config: GpioConfig) -> None:
        self.config = config
        self.gpio: Gpio | None = None
        self.core: CoreLoop | None = None
        self.link: Link | None = None  # set when the box has a cloud link: the LED shows its state

    def start(self, core: CoreLoop) -> None:
        self.core = core
        self.gpio = Gpio.open(self.config, core.post)
        self.gpio.light.set_pattern(LightPattern.STARTING)
        core.listeners.append(self.on_applied)
        core.on(ButtonPressed, lambda press: f"button: {press.kind} press")

    def stop(self) -> None:
        if self.gpio is not None:
            self.gpio.close()

    def new_order(self) -> None:
        """An online order arrived: the shop floor should hear it."""
        self.beep(BuzzPattern.NEW_ORDER)

    def beep(self, pattern: BuzzPattern) -> None:
        """Acknowledge something done on the loop (a bump: CONFIRM; nothing to bump: ERROR)."""
        if self.gpio is not None:
            self.gpio.buzzer.alert(pattern)

    def on_applied(self, applied: Applied) -> None:
        """Runs after every commit: keep the LED true and sound an error for a scan that was not recorded."""
        if self.gpio is None or self.core is None:
            return
        errors = sum(1 for s in self.core.devices.values() if s.state is DeviceState.ERROR)
        link_up = None if self.link is None else self.link.online.is_set()
        self.gpio.light.set_pattern(light_for(self.core.store.journal_level(), link_up, errors))
        if applied.outcome.feedback is Feedback.ERROR:
            self.gpio.buzzer.alert(BuzzPattern.ERROR)
