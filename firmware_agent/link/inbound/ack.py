"""`ack`: the cloud applied the journal up to a seq; the drain moves on and the outbox may delete."""

from __future__ import annotations

from typing import Protocol

from firmware_agent.link.drain import Drain
from firmware_agent.link.events import Received
from firmware_agent.link.inbound.common import decoded
from wire import Ack, Kind


class AckSide(Protocol):
    @property
    def drain(self) -> Drain: ...

    def clock(self) -> float: ...

    def acked(self, upto: int) -> None:
        """The outbox hears that entries up to `upto` may go (link/service.py)."""
        ...


def on_ack(link: AckSide, msg: Received) -> None:
    ack = decoded(Kind.ACK, msg)
    if not isinstance(ack, Ack):
        return
    upto = link.drain.on_ack(ack.upto, link.clock(), ack.epoch)
    if upto is not None:
        link.acked(upto)
