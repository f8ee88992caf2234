"""The status LED, the push button and the buzzer, behind an interface that never shows a pin.

Use `Gpio.open(GpioConfig(...), post)`; see docs/gpio.md for wiring and what each pattern means.
"""

from devices.gpio.button import Button, ButtonPressed
from devices.gpio.facade import Gpio, GpioConfig
from devices.gpio.outputs import Buzzer, StatusLight
from devices.gpio.patterns import BUZZ_TIMINGS, LIGHT_TIMINGS, BuzzPattern, LightPattern, Timing

__all__ = [
    "BUZZ_TIMINGS",
    "LIGHT_TIMINGS",
    "Button",
    "ButtonPressed",
    "BuzzPattern",
    "Buzzer",
    "Gpio",
    "GpioConfig",
    "LightPattern",
    "StatusLight",
    "Timing",
]
