"""Running `tillbridge agent` as a real child process and reading what it acknowledges from its log."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from firmware_agent.catalog import load_products
from firmware_agent.store import Store
from simulators.catalog import SAMPLE_CATALOG

ACK = re.compile(r"scan (\S+) '([^']*)' .* ack seq=([\d,]+)$")


def write_config(folder: Path, extra: str = "") -> Path:
    config = folder / "agent.toml"
    config.write_text(f'[box]\nid = "test-box"\nshop = "test"\ndata_dir = "{folder / "data"}"\n{extra}')
    return config


def seed_catalog(data_dir: Path) -> dict[str, int]:
    """The sample catalog in the box's store; returns the starting stock per sku."""
    store = Store.open(data_dir / "tillbridge.db")
    load_products(store, SAMPLE_CATALOG)
    store.close()
    return {p.sku: p.stock for p in SAMPLE_CATALOG}


class AgentProcess:
    """A child `tillbridge agent`; `acks` yields (barcode, seq) for every scan it acknowledged."""

    def __init__(
        self, config: Path, env: dict[str, str] | None = None, provisioning: Path | None = None
    ) -> None:
        provisioning = provisioning or config.with_name("no-provisioning.toml")
        self.lines: list[str] = []
        self.acks: queue.Queue[tuple[str, int]] = queue.Queue()
        self.ready = threading.Event()
        self.devices_ok = threading.Event()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tillbridge",
                "agent",
                "--config",
                str(config),
                "--provisioning",
                str(provisioning),
            ],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            if "ready in" in line:
                self.ready.set()
            if " ok: " in line and "tillbridge.events: device" in line:
                self.devices_ok.set()
            match = ACK.search(line.rstrip("\n"))
            if match:
                for seq in match.group(3).split(","):
                    self.acks.put((match.group(2), int(seq)))

    def wait_ready(self, timeout: float = 20) -> None:
        if not self.ready.wait(timeout):
            raise AssertionError("agent never became ready:\n" + "\n".join(self.lines))

    def wait_device_ok(self, timeout: float = 20) -> None:
        """Wait for a device to report OK: a serial port flushes its input when opened, so write after."""
        if not self.devices_ok.wait(timeout):
            raise AssertionError("no device came up:\n" + "\n".join(self.lines))

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._reader.join(timeout=10)

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=20)
        self._reader.join(timeout=10)
        return code
