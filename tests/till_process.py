"""A till in a child process: store, core loop, MQTT link and print worker, as the agent wires them.

One box per process, as in production (the store's tables are bound once per process), so a test can run
two tills side by side and kill -9 one of them. The counter scanner is the child's stdin: each line is a
scan; the child answers each with `scan <feedback> <message>` on stdout, the beep and what the till shows.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tests.process_helpers import ChildProcess

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 20.0


class TillProcess(ChildProcess):
    def __init__(self, data_dir: Path, port: int, box: str, printer_url: str, **mqtt: Any) -> None:
        self.data_dir, self.port, self.box, self.printer_url, self.mqtt = (
            data_dir,
            port,
            box,
            printer_url,
            mqtt,
        )
        self.process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str] = queue.Queue()

    def start(self) -> TillProcess:
        args = [sys.executable, "-m", "tests.till_process", str(self.data_dir), str(self.port), self.box]
        args += [self.printer_url, *(f"{k}={v}" for k, v in self.mqtt.items())]
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        line = self._lines.get(timeout=WAIT_S)
        assert line == "ready", f"the till did not start: {line!r}"
        return self

    def scan(self, code: str) -> tuple[str, str]:
        """(feedback, message) for a scan at this till's counter."""
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(code + "\n")
        self.process.stdin.flush()
        while True:
            line = self._lines.get(timeout=WAIT_S)
            if line.startswith("scan "):
                feedback, _, message = line[5:].partition(" ")
                return feedback, message

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._lines.put(line.rstrip("\n"))


def _child(argv: list[str]) -> int:
    import signal

    from devices.barcodes import BarcodeConfig
    from devices.printers import Printer
    from devices.readings import ScanRead
    from firmware_agent.core import Applied, CoreLoop
    from firmware_agent.events import Stop
    from firmware_agent.link import Link, on_order_printed
    from firmware_agent.printing import PrintService
    from firmware_agent.tickets.samples import SELFTEST
    from tests.mqtt_helpers import link_config
    from tests.store_helpers import open_store

    data_dir, port, box, printer_url = Path(argv[0]), int(argv[1]), argv[2], argv[3]
    mqtt: dict[str, Any] = {}
    for item in argv[4:]:
        key, value = item.split("=", 1)
        mqtt[key] = float(value) if "." in value else int(value)
    store = open_store(data_dir, catalog=not (data_dir / "tillbridge.db").exists())
    core = CoreLoop(store, BarcodeConfig())

    def answer(applied: Applied) -> None:
        if isinstance(applied.event, ScanRead):
            print(f"scan {applied.outcome.feedback.value} {applied.outcome.message}", flush=True)

    core.listeners.append(answer)
    link = Link(link_config(data_dir, f"mqtt://127.0.0.1:{port}", box, **mqtt))
    printing = PrintService(Printer.from_url(printer_url), selftest=lambda: SELFTEST, retry_s=0.1)
    printing.on_printed["order"] = on_order_printed
    link.on_order = printing.wake
    link.start(core)
    printing.start(core)
    signal.signal(signal.SIGTERM, lambda *_a: core.post(Stop()))

    def scanner() -> None:
        for line in sys.stdin:
            core.post(ScanRead("counter", line.strip()))

    threading.Thread(target=scanner, daemon=True).start()
    threading.Thread(target=lambda: (link.ready.wait(), print("ready", flush=True)), daemon=True).start()
    core.run()
    printing.stop()
    link.stop()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(_child(sys.argv[1:]))
