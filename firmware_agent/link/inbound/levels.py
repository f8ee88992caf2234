"""`levels`: the cloud's stock truth, kept beside the box's own newer movements (store/levels.py)."""

from __future__ import annotations

import logging

from firmware_agent.link.events import Received
from firmware_agent.link.inbound.common import CoreCalls, decoded
from firmware_agent.store import levels
from wire import Kind, Levels

log = logging.getLogger(__name__)


def on_levels(link: CoreCalls, msg: Received) -> None:
    message = decoded(Kind.LEVELS, msg)
    if not isinstance(message, Levels):
        return
    taken = link.call(lambda s: levels.apply_levels(s, message))
    log.info(
        "levels version %d: %d of %d skus taken (journal included up to seq %d)",
        message.version,
        taken,
        len(message.levels),
        message.upto,
    )
