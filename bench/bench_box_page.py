"""What the box's page costs a Pi Zero 2 W in memory: the agent's resident set (VmRSS) with `[web]`, after
logging in and loading the page (order board, catalog search, live stream) five times, against the same
agent without `[web]` (sim scanner, virtual printer, a cloud link whose broker is away, so the order board
is read through `FloorDesk`; alternated rounds, medians).

`BENCH_BOX_PAGE_ROUNDS` shortens it while iterating.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import requests

from bench.common import Result, alternate
from simulators.broker import free_port
from simulators.printer import VirtualPrinter
from tests.agent_helpers import AgentProcess, seed_catalog, write_config

ROUNDS = int(os.environ.get("BENCH_BOX_PAGE_ROUNDS", "3"))
PIN = "975310"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SCANNER = '[[scanner]]\nname = "till"\ntype = "sim"\ninterval_s = 1.0\nbarcodes = ["8410000000030"]\n'


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _agent_rss(with_page: bool, printer_url: str) -> float:
    with tempfile.TemporaryDirectory(prefix="tillbridge-bench-page-") as folder:
        root = Path(folder)
        seed_catalog(root / "data")
        port = free_port()
        web = f'[web]\nlisten = "127.0.0.1:{port}"\npin = "{PIN}"\n' if with_page else ""
        link = f'[mqtt]\nurl = "mqtt://127.0.0.1:{free_port()}"\n'  # a link (the order board), offline
        agent = AgentProcess(write_config(root, f'{SCANNER}[printer]\nurl = "{printer_url}"\n{link}{web}'))
        try:
            agent.wait_ready()
            if with_page:
                url = f"http://127.0.0.1:{port}/"
                http = requests.Session()
                token = TOKEN.search(http.get(url + "login", timeout=10).text)
                assert token
                http.post(url + "login", data={"csrf_token": token.group(1), "pin": PIN}, timeout=10)
                for _ in range(5):
                    http.get(url, params={"q": "pan"}, timeout=10).raise_for_status()
                with http.get(url + "events", stream=True, timeout=10) as events:
                    next(events.iter_lines())
            return _rss_mib(agent.proc.pid)
        finally:
            agent.terminate()


def run() -> list[Result]:
    with VirtualPrinter() as printer:
        rounds = alternate(
            ROUNDS, lambda: _agent_rss(True, printer.url), lambda: _agent_rss(False, printer.url)
        )
    return [rounds.duration("box agent RSS with its page, after five loads (vs without [web])", "MiB")]
