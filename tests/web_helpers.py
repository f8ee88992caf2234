"""A shop's floor for the web pages' tests: its online shop (the WooCommerce simulator), a real mosquitto,
the bridge, and a real `tillbridge agent` with its page and a virtual ESC/POS printer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from cloud_bridge.worker import Worker
from simulators.broker import Broker, free_port
from simulators.printer import VirtualPrinter
from simulators.shops import WooCommerceSimulator
from tests.agent_helpers import AgentProcess, write_config
from tests.bridge_helpers import FAST, bridge_config, seed, shop_config, start_simulator

PIN = "135790"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Floor:
    url: str
    woo: WooCommerceSimulator
    printer: VirtualPrinter
    worker: Worker
    agent: AgentProcess
    data_dir: Path

    def session(self) -> requests.Session:
        http = requests.Session()
        token = TOKEN.search(http.get(self.url + "login", timeout=5).text)
        assert token
        answer = http.post(self.url + "login", data={"csrf_token": token.group(1), "pin": PIN}, timeout=5)
        assert answer.status_code == 200, answer.text
        return http

    def token(self, http: requests.Session) -> str:
        found = TOKEN.search(http.get(self.url, timeout=5).text)
        assert found
        return found.group(1)


@pytest.fixture
def floor(tmp_path: Path) -> Iterator[Floor]:
    broker = Broker(tmp_path / "broker").start()
    woo = start_simulator("woocommerce", seed(3, 10))
    assert isinstance(woo, WooCommerceSimulator)
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}",
        broker.url,
        [shop_config("test", woo, ["test-box"])],
        timing=FAST,
    )
    worker = Worker(config).start()
    port = free_port()
    try:
        with VirtualPrinter() as printer:
            box_config = write_config(
                tmp_path,
                f'[printer]\nurl = "{printer.url}"\n'
                f'[web]\nlisten = "127.0.0.1:{port}"\npin = "{PIN}"\n'
                f'[mqtt]\nurl = "{broker.url}"\n',
            )
            agent = AgentProcess(box_config)
            try:
                agent.wait_ready()
                yield Floor(f"http://127.0.0.1:{port}/", woo, printer, worker, agent, tmp_path / "data")
            finally:
                agent.terminate()
    finally:
        worker.stop()
        woo.stop()
        broker.stop()
