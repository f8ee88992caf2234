"""`tillbridge demo` as a newcomer runs it, each run on a mosquitto port of its own."""

from __future__ import annotations

import subprocess
import sys

from simulators.broker import free_port

DEMO = [sys.executable, "-m", "tillbridge", "demo"]


def demo_output(*args: str, timeout: float = 120) -> str:
    """What the demo prints with `args`; a demo that fails fails the test."""
    command = [*DEMO, *args, "--mqtt-port", str(free_port())]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True).stdout
