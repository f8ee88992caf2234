"""`levels_growth`: the time to compute a levels push after 1M historical movements against after 1k.

Two shops in one PostgreSQL database, each with 50 skus: one with 1,000,000 movements of history, one with
1,000 (loaded in bulk, their running balances built as a database upgrade builds them). Each round gives
every sku of both shops one new sale and times `levels.push_due` for each shop (the push the bridge makes
after a sale: due skus, their levels, the messages to the boxes), the two shops alternated. The figure is the
long history's time; `ratio` is the short history's time over it (1 would be flat; the goal, a push at most
1.5× slower, is a ratio ≥ 0.67).
"""

from __future__ import annotations

import contextlib
import itertools
import time

import psycopg2  # type: ignore[import-untyped]

from bench.common import Result, alternate
from cloud_bridge import ledger, levels
from cloud_bridge.db import Database
from tests.bridge_helpers import PostgresServer

SKUS = 50
LONG, SHORT = 1_000_000, 1_000
ROUNDS = 5
BOXES = ("till-1", "till-2", "till-3")


def run() -> list[Result]:
    server = PostgresServer()
    try:
        return [levels_growth(server)]
    finally:
        server.drop()


def levels_growth(server: PostgresServer) -> Result:
    db = Database(server.url).open()
    for shop, count in (("long", LONG), ("short", SHORT)):
        _history(server, shop, count)
    with db.write():
        ledger.rebuild_balances()  # as an upgrade builds them from a history kept before balances
        ledger.start_marks()  # and the levels watermark at the newest movement (the history was sent)
    seq = itertools.count(1)

    def push(shop: str) -> float:
        with db.write():
            ledger.add_movements(
                [
                    ledger.movement_row(
                        shop, f"SKU-{n:02d}", f"b/{BOXES[0]}/{next(seq)}", "sale", -1, "t", push=True
                    )
                    for n in range(SKUS)
                ]
            )
        started = time.perf_counter()
        sent = levels.push_due(db, shop, BOXES, time.time())
        elapsed = time.perf_counter() - started
        assert sent == SKUS, f"shop {shop}: a push sent {sent} skus, not {SKUS}"
        return elapsed * 1000

    try:
        push("long")
        push("short")  # both shops' first push (every sku's baseline and history) out of the way
        rounds = alternate(ROUNDS, lambda: push("long"), lambda: push("short"))
    finally:
        db.close()
    return rounds.duration("levels_growth", "ms")


def _history(server: PostgresServer, shop: str, count: int) -> None:
    """`count` movements over the shop's skus, and the skus' baselines, inserted in bulk, already pushed."""
    with contextlib.closing(psycopg2.connect(server.url)) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO stock (shop, sku, baseline, baseline_at, written, written_at, dirty) "
            "SELECT %s, 'SKU-' || lpad(n::text, 2, '0'), 1000000, 0, 0, 0, false "
            "FROM generate_series(0, %s) n",
            (shop, SKUS - 1),
        )
        cur.execute(
            'INSERT INTO movement (shop, sku, source, kind, delta, "at", push, "write", level_version) '
            "SELECT %s, 'SKU-' || lpad((n %% %s)::text, 2, '0'), 'h/' || n, 'sale', -1, 't', false, NULL, 1 "
            "FROM generate_series(1, %s) n",
            (shop, SKUS, count),
        )
        conn.commit()
        cur.execute("ANALYZE")
        conn.commit()
