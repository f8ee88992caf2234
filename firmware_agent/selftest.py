"""What the self-test ticket says about the box: who it is, where it is, what it found."""

from __future__ import annotations

import socket
import time

from firmware_agent.core import CoreLoop
from firmware_agent.tickets.model import SelfTest
from firmware_agent.version import VERSION

UNKNOWN_IP = "no network"


def local_ip() -> str:
    """The address the box would use to reach the outside; a UDP connect sends no packet, it only routes."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never answered, only used to pick a route
            return str(probe.getsockname()[0])
        except OSError:
            return UNKNOWN_IP


def selftest(box_id: str, core: CoreLoop | None, link: str) -> SelfTest:
    devices = tuple(core.devices.values()) if core is not None else ()
    return SelfTest(
        box_id=box_id,
        ip=local_ip(),
        version=VERSION,
        devices=devices,
        link=link,
        printed_at=time.strftime("%Y-%m-%d %H:%M"),
    )
