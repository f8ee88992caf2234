"""Shop calls at a live till's pace: `shop_calls_live`, `shop_latency_live`, `shop_calls_scale`,
`shop_calls_burst` (issue 11).

Through the real parts: a bridge worker process (`tillbridge bridge`) on PostgreSQL, mosquitto, boxes
playing the wire contract (`tests.bridge_helpers.PlayedBox`), and the three shop simulators answering every
request in 20 ms. Live pace: 3 tills per shop, each selling one item every 1–3 s (uniform), skus picked
Zipf-like (weight 1/rank^1.1 over 200 skus). Ours is the default coalescing window (`write_window_s`, 10 s);
the baseline is window 0, the behaviour before it (a write at every pass), run alternately (ABAB) in the
same run. The three shops run side by side in one worker, so one round measures every connector.

Counted from the simulators' request log: stock calls are every request but the orders feed (reads and
writes of stock; the products feed is kept out of the round, `products_s` an hour); polling (the orders
feed, read every `orders_s` and after each absolute write) is reported beside. A sale's latency runs from
the box recording it to the shop showing it (the simulator's stock polled every 20 ms).

`TILLBRIDGE_BENCH_SHOP_S` sets the seconds of selling per round (default 60), `TILLBRIDGE_BENCH_SHOP_ROUNDS`
the rounds per side (default 2). Needs PostgreSQL on 127.0.0.1:5432 (trust auth) and mosquitto.
"""

from __future__ import annotations

import heapq
import itertools
import os
import random
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import Result, Rounds, alternate, percentile, running_broker
from cloud_bridge import models as m
from cloud_bridge.config import ShopConfig, Timing
from cloud_bridge.db import Database
from cloud_bridge.state import Timer
from simulators.broker import Broker
from tests.bridge_helpers import (
    PlayedBox,
    PostgresServer,
    Simulator,
    WorkerProcess,
    bridge_config,
    seed,
    shop_config,
    start_simulator,
)

SECONDS = float(os.environ.get("TILLBRIDGE_BENCH_SHOP_S", "60"))
ROUNDS = int(os.environ.get("TILLBRIDGE_BENCH_SHOP_ROUNDS", "2"))
PLATFORMS = ("woocommerce", "shopify", "prestashop")
SKUS, BURST_SKUS, BURST = 200, 50, 1000
START = 1_000_000
DELAY = 0.02  # every shop request answered in 20 ms
WINDOW = ShopConfig.write_window_s  # the default
TIMING = Timing(products_s=3600.0, reconcile_s=3600.0)  # defaults otherwise: passes 1 s, orders feed 10 s
WRITE_WORDS = ("batch", "inventoryAdjust", "inventorySet", "PUT ", "PATCH ")
_ids = itertools.count(1)


@dataclass
class Tally:
    """One shop's figures for one round."""

    movements: int = 0
    stock_calls: int = 0
    writes: int = 0
    polls: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    writes_in_window: int = 0  # the most writes one sku saw within any window-long span

    def per_100(self, calls: int) -> float:
        return 100.0 * calls / self.movements


class Watch:
    """Sales recorded at the tills, until each shows in its shop: the shop's number for the sku reaches
    its start less every sale of it up to that one. Polls only skus with a sale still on its way.
    """

    def __init__(self, sims: dict[str, Simulator]) -> None:
        self.sims = sims
        self.lock = threading.Lock()
        self.sold: Counter[tuple[str, str]] = Counter()
        self.waiting: dict[tuple[str, str], deque[tuple[int, float]]] = {}
        self.seen: dict[tuple[str, str], int] = {}
        self.changes: dict[tuple[str, str], list[float]] = {}
        self.latencies: dict[str, list[float]] = {shop: [] for shop in sims}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def sale(self, shop: str, sku: str) -> None:
        with self.lock:
            self.sold[(shop, sku)] += 1
            wanted = START - self.sold[(shop, sku)]
            self.waiting.setdefault((shop, sku), deque()).append((wanted, time.monotonic()))

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            with self.lock:
                keys = [key for key, queue in self.waiting.items() if queue]
            for shop, sku in keys:
                level = self.sims[shop].stock(sku)
                now = time.monotonic()
                with self.lock:
                    if level != self.seen.get((shop, sku), START):
                        self.changes.setdefault((shop, sku), []).append(now)
                        self.seen[(shop, sku)] = level if level is not None else START
                    queue = self.waiting[(shop, sku)]
                    while queue and level is not None and level <= queue[0][0]:
                        self.latencies[shop].append(now - queue.popleft()[1])

    def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                left = sum(len(q) for q in self.waiting.values())
            if not left:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{left} sales never showed in their shop within {timeout} s")
            self.stop.wait(0.05)

    def most_writes_in_window(self, shop: str, window: float) -> int:
        most = 0
        for (name, _), times in self.changes.items():
            if name != shop:
                continue
            for i, start in enumerate(times):
                most = max(most, sum(1 for t in times[i:] if t < start + window))
        return most

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)


def _zipf(count: int) -> list[float]:
    return [1.0 / (rank + 1) ** 1.1 for rank in range(count)]


def _play(boxes: dict[str, list[PlayedBox]], watch: Watch, seconds: float, rng: random.Random) -> None:
    """Every till sells one item every 1–3 s for `seconds`."""
    skus = [f"SKU-{i:03d}" for i in range(SKUS)]
    weights = _zipf(SKUS)
    started = time.monotonic()
    due = [(started + rng.uniform(0, 2), shop, n) for shop, tills in boxes.items() for n in range(len(tills))]
    heapq.heapify(due)
    while due:
        at, shop, n = heapq.heappop(due)
        if at > started + seconds:
            break
        watch.stop.wait(max(0.0, at - time.monotonic()))
        sku = rng.choices(skus, weights)[0]
        boxes[shop][n].sell(sku)
        watch.sale(shop, sku)
        heapq.heappush(due, (at + rng.uniform(1, 3), shop, n))


@dataclass
class Bridge:
    """One round's parts: fresh shops (their own ids, so no box session of an earlier round interferes),
    a worker process, and the boxes.
    """

    server: PostgresServer
    broker: Broker
    folder: Path
    platforms: Sequence[str]
    tills: int
    window: float
    skus: int = SKUS

    def __enter__(self) -> Bridge:
        self.server.truncate()
        round_id = next(_ids)
        self.sims = {p: start_simulator(p, seed(self.skus, START), delay=DELAY) for p in self.platforms}
        self.shops = {p: f"{p[:4]}-{round_id}" for p in self.platforms}
        configs = [
            shop_config(
                self.shops[p], sim, [f"{p[:4]}-till-{n}" for n in range(self.tills)], window=self.window
            )
            for p, sim in self.sims.items()
        ]
        config = bridge_config(
            self.server.url, self.broker.url, configs, worker_id=f"calls-{round_id}", timing=TIMING
        )
        self.worker = WorkerProcess(config, self.folder).start(timeout=60)
        self.db = Database(self.server.url).open()
        self._wait(self._initialised, 120, "every shop's first pass")
        self.boxes = {
            p: [PlayedBox(self.shops[p], box, self.broker.url, max_entries=100) for box in cfg.boxes]
            for p, cfg in zip(self.platforms, configs, strict=True)
        }
        self.before = {p: Counter(sim.calls) for p, sim in self.sims.items()}
        self.watch = Watch(self.sims)
        return self

    def __exit__(self, *exc: object) -> None:
        self.watch.close()
        for tills in self.boxes.values():
            for box in tills:
                box.close()
        self.worker.stop()
        self.db.close()
        for sim in self.sims.values():
            sim.stop()

    def _initialised(self) -> bool:
        done = m.ShopState.select().where(m.ShopState.name == Timer.RECONCILE.value).count()
        return bool(done >= len(self.platforms))

    def _wait(self, check: object, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not check():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} not done within {timeout} s: {self.worker.log_tail()}")
            threading.Event().wait(0.1)

    def tally(self, seconds: float) -> dict[str, Tally]:
        out = {}
        for p, sim in self.sims.items():
            calls = Counter(sim.calls)
            calls.subtract(self.before[p])
            polls = sum(n for label, n in calls.items() if "order" in label.lower())
            writes = sum(n for label, n in calls.items() if any(w in label for w in WRITE_WORDS))
            out[p] = Tally(
                movements=sum(n for (shop, _), n in self.watch.sold.items() if shop == p),
                stock_calls=sum(calls.values()) - polls,
                writes=writes,
                polls=polls,
                latencies=list(self.watch.latencies[p]),
                seconds=seconds,
                writes_in_window=self.watch.most_writes_in_window(p, WINDOW),
            )
        return out


def _live(
    server: PostgresServer,
    broker: Broker,
    folder: Path,
    tills: int,
    window: float,
    platforms: Sequence[str] = PLATFORMS,
) -> dict[str, Tally]:
    with Bridge(server, broker, folder, platforms, tills, window) as bridge:
        started = time.monotonic()
        _play(bridge.boxes, bridge.watch, SECONDS, random.Random(7))
        for tills_ in bridge.boxes.values():
            for box in tills_:
                box.wait_acked(timeout=60)
        bridge.watch.wait_all(timeout=window + 60)
        return bridge.tally(time.monotonic() - started)


def _burst(server: PostgresServer, broker: Broker, folder: Path, window: float) -> dict[str, Tally]:
    """1,000 sales recorded at one till at once (Zipf over 50 skus), until every shop shows them."""
    with Bridge(server, broker, folder, PLATFORMS, 1, window, skus=BURST_SKUS) as bridge:
        rng = random.Random(11)
        skus, weights = [f"SKU-{i:03d}" for i in range(BURST_SKUS)], _zipf(BURST_SKUS)
        started = time.monotonic()
        for p in PLATFORMS:
            for sku in rng.choices(skus, weights, k=BURST):
                bridge.boxes[p][0].sell(sku)
                bridge.watch.sale(p, sku)
        bridge.watch.wait_all(timeout=window + 120)
        return bridge.tally(time.monotonic() - started)


def run() -> list[Result]:
    server = PostgresServer()
    try:
        with tempfile.TemporaryDirectory() as tmp, running_broker(Path(tmp) / "broker") as broker:
            folder = Path(tmp)
            return [
                *live(server, broker, folder),
                scale(server, broker, folder),
                *burst(server, broker, folder),
            ]
    finally:
        server.drop()


def live(server: PostgresServer, broker: Broker, folder: Path) -> list[Result]:
    ours: list[dict[str, Tally]] = []
    base: list[dict[str, Tally]] = []

    def our_round() -> float:
        ours.append(_live(server, broker, folder, 3, WINDOW))
        return 0.0

    def base_round() -> float:
        base.append(_live(server, broker, folder, 3, 0.0))
        return 0.0

    alternate(ROUNDS, our_round, base_round)
    out = []
    for p in PLATFORMS:
        calls = Rounds(
            [t[p].per_100(t[p].stock_calls) for t in ours], [t[p].per_100(t[p].stock_calls) for t in base]
        )
        out.append(calls.duration(f"shop_calls_live.{p}", "stock calls per 100 movements"))
        polls = Rounds([t[p].per_100(t[p].polls) for t in ours], [t[p].per_100(t[p].polls) for t in base])
        out.append(polls.duration(f"shop_calls_live.{p}.polling", "orders-feed calls per 100 movements"))
        if p == "prestashop":
            reads = Rounds(
                [t[p].per_100(t[p].stock_calls - t[p].writes) for t in ours],
                [t[p].per_100(t[p].stock_calls - t[p].writes) for t in base],
            )
            out.append(reads.duration(f"shop_calls_live.{p}.reads", "stock reads per 100 movements"))
            writes = Rounds(
                [float(t[p].writes_in_window) for t in ours], [float(t[p].writes_in_window) for t in base]
            )
            out.append(
                writes.duration(
                    f"shop_calls_live.{p}.writes_per_sku_per_window", "most writes of one sku in 10 s"
                )
            )
        p99 = Rounds(
            [percentile(t[p].latencies, 99) for t in ours], [percentile(t[p].latencies, 99) for t in base]
        )
        out.append(p99.duration(f"shop_latency_live.{p}", "s, sale → shop, p99"))
    return out


def scale(server: PostgresServer, broker: Broker, folder: Path) -> Result:
    """Stock calls per minute of selling at 30 tills against 3, same (default) settings, WooCommerce."""

    def per_minute(tills: int) -> float:
        tally = _live(server, broker, folder, tills, WINDOW, ("woocommerce",))["woocommerce"]
        return tally.stock_calls / (tally.seconds / 60.0)

    rounds = alternate(ROUNDS, lambda: per_minute(30), lambda: per_minute(3))
    return rounds.duration("shop_calls_scale.woocommerce", "stock calls per minute at 30 tills (baseline: 3)")


def burst(server: PostgresServer, broker: Broker, folder: Path) -> list[Result]:
    ours: list[dict[str, Tally]] = []
    base: list[dict[str, Tally]] = []

    def our_round() -> float:
        ours.append(_burst(server, broker, folder, WINDOW))
        return 0.0

    def base_round() -> float:
        base.append(_burst(server, broker, folder, 0.0))
        return 0.0

    alternate(ROUNDS, our_round, base_round)
    return [
        Rounds(
            [t[p].movements / max(1, t[p].writes) for t in ours],
            [t[p].movements / max(1, t[p].writes) for t in base],
        ).throughput(f"shop_calls_burst.{p}", "movements per stock write call")
        for p in PLATFORMS
    ]


__all__ = ["run"]
