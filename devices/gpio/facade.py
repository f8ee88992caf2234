"""Builds the light, button and buzzer from a `GpioConfig`, tolerating hardware that is not there.

No pin configured gives null objects without touching gpiozero. gpiozero missing, or no usable GPIO chip,
gives one `DeviceStatus`, one warning and null objects: the box sells without its LED rather than not at all.
A pin that cannot be claimed costs only that one device. gpiozero is imported here, lazily, and nowhere else.
"""

from __future__ import annotations

import importlib.metadata
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from devices.errors import DeviceConfigError, DeviceUnavailable
from devices.gpio.button import Button
from devices.gpio.outputs import Buzzer, StatusLight
from devices.readings import DeviceState, DeviceStatus, Post

log = logging.getLogger(__name__)

_FACTORY_GROUP = "gpiozero_pin_factories"
T = TypeVar("T")


@dataclass(frozen=True)
class GpioConfig:
    """BCM pin numbers (None: not fitted); `pin_factory` names a gpiozero factory ("lgpio", "mock", …).

    With `pin_factory=None` gpiozero picks one itself (or uses `GPIOZERO_PIN_FACTORY`).
    """

    led_pin: int | None = None
    button_pin: int | None = None
    buzzer_pin: int | None = None
    hold_time_s: float = 2.0
    pin_factory: str | None = None

    def __post_init__(self) -> None:
        pins = [p for p in (self.led_pin, self.button_pin, self.buzzer_pin) if p is not None]
        if any(p < 0 for p in pins):
            raise DeviceConfigError(f"gpio: pin numbers must be >= 0, got {pins}")
        if len(set(pins)) != len(pins):
            raise DeviceConfigError(f"gpio: led_pin, button_pin and buzzer_pin must differ, got {pins}")
        if not self.hold_time_s > 0:
            raise DeviceConfigError(f"gpio: hold_time_s must be > 0, got {self.hold_time_s!r}")

    @property
    def any_pin(self) -> bool:
        return any(p is not None for p in (self.led_pin, self.button_pin, self.buzzer_pin))


class Gpio:
    """What the box sees of its GPIO; each part is real or a null stand-in (check `.present`)."""

    def __init__(self, light: StatusLight, button: Button, buzzer: Buzzer) -> None:
        self.light = light
        self.button = button
        self.buzzer = buzzer

    @classmethod
    def null(cls, post: Post) -> Gpio:
        return cls(StatusLight(None), Button(None, post), Buzzer(None))

    @classmethod
    def open(cls, config: GpioConfig, post: Post) -> Gpio:
        """Claims the configured pins; raises only `DeviceConfigError` (an unknown factory name)."""
        if not config.any_pin:
            return cls.null(post)
        try:
            gpiozero, factory = _load_gpiozero(config.pin_factory)
        except DeviceUnavailable as exc:
            log.warning("%s; the status light, button and buzzer are disabled", exc)
            post(DeviceStatus("gpio", DeviceState.ABSENT, str(exc)))
            return cls.null(post)
        claim = _Claimer(post, factory)
        light = claim("gpio.led", config.led_pin, gpiozero.LED)
        button = claim(
            "gpio.button", config.button_pin, gpiozero.Button, pull_up=True, hold_time=config.hold_time_s
        )
        buzzer = claim("gpio.buzzer", config.buzzer_pin, gpiozero.Buzzer)
        return cls(StatusLight(light), Button(button, post), Buzzer(buzzer))

    def close(self) -> None:
        self.light.close()
        self.button.close()
        self.buzzer.close()

    def __enter__(self) -> Gpio:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Claimer:
    """Creates one gpiozero device per configured pin and reports each one's fate as a `DeviceStatus`."""

    def __init__(self, post: Post, factory: Any) -> None:
        self._post = post
        self._factory = factory

    def __call__(self, device: str, pin: int | None, ctor: Callable[..., T], **kwargs: Any) -> T | None:
        if pin is None:
            return None
        try:
            made = ctor(pin, pin_factory=self._factory, **kwargs)
        except Exception as exc:  # gpiozero, lgpio and the kernel each raise their own types here
            log.warning("%s: cannot claim GPIO%d: %s; continuing without it", device, pin, exc)
            self._post(DeviceStatus(device, DeviceState.ERROR, f"GPIO{pin}: {exc}"))
            return None
        self._post(DeviceStatus(device, DeviceState.OK, f"GPIO{pin}"))
        return made


def _load_gpiozero(factory_name: str | None) -> tuple[Any, Any]:
    """gpiozero and the pin factory to use: the named one, or gpiozero's own choice."""
    try:
        import gpiozero
    except ImportError as exc:
        raise DeviceUnavailable(f"gpio: gpiozero is not installed ({exc})") from exc
    if factory_name is None:
        return gpiozero, _default_factory(gpiozero)
    return gpiozero, _named_factory(factory_name)


def _default_factory(gpiozero: Any) -> Any:
    with warnings.catch_warnings(record=True) as fallbacks:
        warnings.simplefilter("always", gpiozero.PinFactoryFallback)
        try:
            gpiozero.Device.ensure_pin_factory()
        except Exception as exc:  # BadPinFactory, or whatever the chosen backend raised
            tried = "; ".join(str(w.message) for w in fallbacks)
            raise DeviceUnavailable(
                f"gpio: no usable GPIO here: {exc}{f' ({tried})' if tried else ''}"
            ) from exc
    return gpiozero.Device.pin_factory


def _named_factory(name: str) -> Any:
    entry_points = {ep.name: ep for ep in importlib.metadata.entry_points(group=_FACTORY_GROUP)}
    entry = entry_points.get(name) or entry_points.get(name.lower())
    if entry is None:
        known = ", ".join(sorted(entry_points))
        raise DeviceConfigError(f"gpio: unknown pin_factory {name!r} (known: {known})")
    try:
        return entry.load()()
    except Exception as exc:  # a missing backend library or no GPIO chip
        raise DeviceUnavailable(f"gpio: pin factory {name!r} is not usable here: {exc}") from exc
