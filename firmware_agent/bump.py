"""The kitchen's bump button: with `[gpio] button_press = "bump"` a short press of the box's button moves
the oldest order waiting in the kitchen (new or accepted) to ready, as a kitchen display's bump bar does.
"Waiting in the kitchen" means its ticket came out: an order for a later slot that has not printed yet
(it prints a lead time before its slot) is not in anybody's hands, so the press never takes it; among the
printed ones it takes the one that printed first. With `[gpio] bump_station = "kitchen"` it looks only at
orders whose kitchen ticket came out (by when it did): the drinks order the counter poured is not the
kitchen's to bump.

The move goes through `FloorDesk`, so it is journaled (`order_stage`, source "button") and reaches the shop
like a move from the web page. The press is handled on the core loop, inside its transaction, so the desk
runs its work in place instead of posting it (posting to the loop from the loop would wait on itself).
The beep that answers the press sounds after the loop committed, as every acknowledgement on the box does:
a move a power cut could still take back is never confirmed. The long press keeps doing what it did before
(the print service's self-test ticket).
"""

from __future__ import annotations

from typing import Any, Final

from devices.gpio import ButtonPressed, BuzzPattern
from firmware_agent.core import Applied, CoreLoop, Handler
from firmware_agent.floor import FloorDesk
from firmware_agent.indicators import Indicators
from firmware_agent.store.orders import first_printed
from wire import Order

WAITING: Final = ("new", "accepted")  # the kitchen's queue: what a bump moves on
BUMPED_TO: Final = "ready"


class BumpButton:
    """A service started after the print service: it takes the short press over and hands the long press
    to whoever had the button before (None: a box without a printer, where a long press only reports)."""

    def __init__(self, indicators: Indicators, station: str | None = None) -> None:
        """`station` (`[gpio] bump_station`): only orders with a ticket printed there; None: any."""
        self.indicators = indicators
        self.station = station
        self.core: CoreLoop | None = None
        self.long_press: Handler | None = None
        self.desk = FloorDesk(self._in_place, _no_tickets, 0.0)  # a bump never reprints
        self._answer: tuple[ButtonPressed, BuzzPattern] | None = None  # the press's beep, once committed

    def start(self, core: CoreLoop) -> None:
        self.core = core
        self.long_press = core.handler(ButtonPressed)
        core.on(ButtonPressed, self._press)
        core.listeners.append(self._after_commit)

    def stop(self) -> None:
        """Nothing of its own to close: the button and buzzer belong to the indicators."""

    def _in_place(self, fn: Any) -> Any:
        assert self.core is not None
        return fn(self.core.store)

    def _press(self, press: ButtonPressed) -> str:
        if press.kind == "long":
            return self.long_press(press) if self.long_press is not None else "button: long press"
        oldest = first_printed(self.core.store, WAITING, self.station) if self.core is not None else None
        if oldest is None:
            self._answer = (press, BuzzPattern.ERROR)
            return "button: no order waiting to bump"
        moved = self.desk.move(oldest, BUMPED_TO, source="button")
        self._answer = (press, BuzzPattern.CONFIRM)
        return f"button: order {moved.number or moved.order_id} bumped to {moved.stage}"

    def _after_commit(self, applied: Applied) -> None:
        """Sound the press's answer once its move is on disk (a failed one beeps through the indicators)."""
        if self._answer is None or applied.event is not self._answer[0]:
            return
        pattern = self._answer[1]
        self._answer = None
        if applied.error is None:
            self.indicators.beep(pattern)


def _no_tickets(order: Order, number: str) -> dict[str, bytes]:
    return {}
