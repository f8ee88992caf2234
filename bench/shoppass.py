"""A ShopDriver pass, timed from two source trees (issue 18's pure core: nothing got slower).

Usage: python -m bench.shoppass BASELINE_TREE OURS_TREE [--rounds N] [--passes N] [--db sqlite|postgres]

Each round runs a child process per tree (ABAB, `bench.common.alternate`), with that tree first on the
import path: for each shop simulator (answering at once, so the bridge's own work is what is timed) a
fresh database, a driver that initialises, then `passes` passes, each after five box sales on skus
picked at random (seeded), with the clock moved one second. A pass's time is `run_pass` alone. The
child prints the median milliseconds and SQL statements per pass for each platform; this prints, per
platform, both sides' medians of the rounds with min–max beside them, and the statements per pass (which
the machine's load does not move). Not run by `python -m bench`: it needs two trees.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.common import Rounds, alternate

PLATFORMS = ("woocommerce", "shopify", "prestashop")

CHILD = r"""
import json, logging, random, statistics, sys, tempfile, time
from pathlib import Path
from cloud_bridge.db import Database
from cloud_bridge.journal import apply_batch
from tests.bridge_helpers import (
    Clock, PostgresServer, RecordingPublisher, batch, driver, sale, seed, shop_config, start_simulator,
)

class Count(logging.Handler):
    n = 0

    def emit(self, record):
        Count.n += 1


statements = logging.getLogger("peewee")  # peewee logs each statement it sends at DEBUG
statements.addHandler(Count())
statements.setLevel(logging.DEBUG)
statements.propagate = False
passes, kind = int(sys.argv[1]), sys.argv[2]
out, queries = {}, {}
for platform in sys.argv[3:]:
    rng = random.Random(7)
    sim = start_simulator(platform, seed(40, 10_000))
    server = PostgresServer() if kind == "postgres" else None
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(server.url if server else f"sqlite:///{Path(tmp) / 'bridge.db'}")
        db.open()
        try:
            clock = Clock()
            d = driver(db, shop_config("shop", sim, ["till-1"]), RecordingPublisher(), clock)
            d.run_pass(force=True)
            times, counts, seq = [], [], 0
            for _ in range(passes):
                entries = []
                for _ in range(5):
                    seq += 1
                    entries.append(sale(seq, f"SKU-{rng.randrange(40):03d}"))
                b, payload = batch(*entries)
                apply_batch(db, "shop", "till-1", b, payload, time.time())
                clock.advance(1.0)
                Count.n, started = 0, time.perf_counter()
                assert d.run_pass(force=True)
                times.append(time.perf_counter() - started)
                counts.append(Count.n)
            out[platform] = statistics.median(times) * 1000
            queries[platform] = statistics.median(counts)
        finally:
            db.close()
            sim.stop()
            if server:
                server.drop()
print(json.dumps({"ms": out, "queries": queries}))
"""


def _side(
    tree: Path, passes: int, db: str, results: dict[str, list[float]], queries: dict[str, list[float]]
) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(passes), db, *PLATFORMS],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    found: dict[str, dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    for platform, ms in found["ms"].items():
        results.setdefault(platform, []).append(ms)
        queries.setdefault(platform, []).append(found["queries"][platform])
    return sum(found["ms"].values())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path)
    parser.add_argument("ours", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--passes", type=int, default=60)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args(argv)
    ours: dict[str, list[float]] = {}
    base: dict[str, list[float]] = {}
    ours_q: dict[str, list[float]] = {}
    base_q: dict[str, list[float]] = {}
    alternate(
        args.rounds,
        lambda: _side(args.ours.resolve(), args.passes, args.db, ours, ours_q),
        lambda: _side(args.baseline.resolve(), args.passes, args.db, base, base_q),
    )
    for platform in PLATFORMS:
        result = Rounds(ours[platform], base[platform]).duration(f"shop_pass.{args.db}.{platform}", "ms")
        print(result.to_json(), flush=True)
        # statements per pass hardly move with the machine's load (only where a pass's path depends on time)
        q = Rounds(ours_q[platform], base_q[platform])
        print(q.duration(f"shop_pass.{args.db}.{platform}.statements", "statements").to_json(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
