"""A bridge on SQLite runs one worker: a second one on the same file refuses to start and says why.

The symptom it prevents: two workers on one SQLite file both drove every shop, so a sale at the till was
written to the shop twice (the drift test saw WooCommerce 6-8 units low).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from cloud_bridge.config import BridgeConfig
from cloud_bridge.errors import BridgeDatabaseError
from cloud_bridge.filelock import WorkerLock
from simulators.broker import Broker
from simulators.shops import WooCommerceSimulator
from tests.bridge_helpers import (
    PlayedBox,
    WorkerProcess,
    bridge_config,
    broker,
    config_toml,
    shop_config,
    wait_for,
    woo,
)

__all__ = ["broker", "woo"]  # fixtures


@pytest.fixture
def config(tmp_path: Path, broker: Broker, woo: WooCommerceSimulator) -> BridgeConfig:
    shop = shop_config("corner", woo, ["till-1"])
    return bridge_config(f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop], worker_id="first")


def _second_worker(config: BridgeConfig, folder: Path) -> subprocess.CompletedProcess[str]:
    path = folder / "second.toml"
    path.write_text(config_toml(replace(config, worker_id="second")))
    return subprocess.run(
        [sys.executable, "-m", "tillbridge", "bridge", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_second_worker_on_the_same_sqlite_file_refuses_so_a_sale_reaches_the_shop_once(
    tmp_path: Path, broker: Broker, woo: WooCommerceSimulator, config: BridgeConfig
) -> None:
    first = WorkerProcess(config, tmp_path / "first").start()
    till = PlayedBox("corner", "till-1", broker.url)
    try:
        second = _second_worker(config, tmp_path)
        assert second.returncode != 0
        said = second.stdout + second.stderr
        assert str(tmp_path / "bridge.db") in said and "'first'" in said, said
        assert "PostgreSQL" in said  # what to do instead

        till.sell("SKU-001", 3)
        till.wait_acked()
        wait_for(lambda: woo.stock("SKU-001") == 7, what="the shop to show 10 - 3")
    finally:
        till.close()
        first.stop()


def test_a_worker_killed_hard_leaves_no_lock_behind(tmp_path: Path, config: BridgeConfig) -> None:
    first = WorkerProcess(config, tmp_path / "first").start()
    first.kill()  # kill -9: the kernel drops the lock with the process
    second = WorkerProcess(replace(config, worker_id="second"), tmp_path / "second").start()
    second.stop()


def test_the_lock_is_taken_again_once_released(tmp_path: Path) -> None:
    database = tmp_path / "bridge.db"
    held = WorkerLock(database, "w1").acquire()
    with pytest.raises(BridgeDatabaseError, match="worker 'w1'"):
        WorkerLock(database, "w2").acquire()
    held.release()
    WorkerLock(database, "w2").acquire().release()
