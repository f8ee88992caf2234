"""Each station's ticket prints once per order, through kill -9: the box is killed after the counter's
ticket printed and while the kitchen's printer was unplugged; started again, the kitchen's ticket prints
(not lost) and the counter's does not print again (not twice)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from simulators.broker import free_port
from simulators.printer import VirtualPrinter
from tests.bridge_helpers import wait_for
from tests.mqtt_helpers import rows

ROOT = Path(__file__).resolve().parent.parent


def start(data_dir: Path, counter: str, kitchen: str, *extra: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "tests.floor_box_process", str(data_dir), counter, kitchen, *extra]
    child = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    return child


def printed(data_dir: Path) -> list[tuple[str, int]]:
    found = rows(data_dir, "SELECT station, printed_seq IS NOT NULL FROM order_ticket ORDER BY station")
    return [(str(station), int(done)) for station, done in found]


def test_kill_9_between_two_stations_prints_neither_twice_nor_loses_one(tmp_path: Path) -> None:
    unplugged = f"tcp://127.0.0.1:{free_port()}"
    with VirtualPrinter() as counter, VirtualPrinter() as kitchen:
        child = start(tmp_path, counter.url, unplugged, "order")
        try:
            [first] = counter.wait_for_tickets(1, timeout=20)
            assert "COUNTER TICKET" in first.text
            wait_for(
                lambda: printed(tmp_path) == [("", 1), ("kitchen", 0)], what="the counter's print recorded"
            )
        finally:
            child.kill()  # kill -9: nothing in memory survives
            child.wait(10)
        child = start(tmp_path, counter.url, kitchen.url)
        try:
            [second] = kitchen.wait_for_tickets(1, timeout=20)
            assert "KITCHEN TICKET" in second.text and "REPRINT" not in second.text
            wait_for(
                lambda: printed(tmp_path) == [("", 1), ("kitchen", 1)], what="the kitchen's print recorded"
            )
            journaled = rows(tmp_path, "SELECT data FROM journal WHERE kind = 'order_printed' ORDER BY seq")
            assert [data for (data,) in journaled] == [
                '{"order_id":"1042"}',
                '{"order_id":"1042","station":"kitchen"}',
            ]
            assert len(counter.tickets) == 1  # the counter's ticket did not print again
        finally:
            child.kill()
            child.wait(10)
