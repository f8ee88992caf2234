"""The fleet view: every shop's boxes, what is still on its way, what is parked, and what each worker held
back (its queue, messages over a box's limits). Read-only.

Boxes and shops supply some of the text shown here (a version, a parked error), so every line is made
printable before it reaches a terminal: an escape sequence shows as `\x1b[2J` instead of clearing it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Final

from cloud_bridge import models as m
from cloud_bridge import state
from cloud_bridge.config import BridgeConfig
from cloud_bridge.parking import open_problems

WORKER_SHOWN_S: Final = 600.0  # workers that reported within this long are shown


@dataclass(frozen=True)
class LossView:
    """Journal entries of a box that will never arrive (see `models.LossWindow`)."""

    epoch: str | None  # the stream they belonged to (None: the box's unnamed stream)
    after_seq: int | None  # applied up to here
    upto_seq: int | None  # lost up to here; None: whatever the store held
    new_epoch: str | None
    reason: str
    at: float


@dataclass(frozen=True)
class BoxView:
    box: str
    configured: bool
    online: bool | None
    version: str | None
    last_seq: int
    applied: int
    waiting_batches: int
    backlog: int | None  # journal entries the box still holds, from its last telemetry
    seen_s_ago: float | None
    epoch: str | None = None  # the store epoch of the box's current journal stream
    store_lost: str | None = None  # what the box says its store lost, from its last telemetry
    losses: tuple[LossView, ...] = ()
    limited: tuple[
        tuple[str, int], ...
    ] = ()  # messages over this box's limits, by kind, since workers started


@dataclass(frozen=True)
class ShopView:
    shop: str
    platform: str
    skus: int
    open_orders: int
    pending_writes: int
    unsent_messages: int
    backing_off_s: float
    boxes: tuple[BoxView, ...]


@dataclass(frozen=True)
class ProblemView:
    shop: str
    key: str
    what: str
    error: str
    count: int
    last_at: float


@dataclass(frozen=True)
class WorkerView:
    """What one worker held back, from its last report (every few seconds while it runs)."""

    worker: str
    seen_s_ago: float
    queued: int
    capacity: int
    dropped: tuple[tuple[str, int], ...]  # why → messages
    webhooks_refused: int | None


@dataclass(frozen=True)
class FleetView:
    shops: tuple[ShopView, ...]
    parked: tuple[ProblemView, ...]
    workers: tuple[WorkerView, ...] = ()

    def to_json(self) -> str:
        text = json.dumps(asdict(self), indent=2, ensure_ascii=False)
        return "\n".join(printable(line) for line in text.split("\n"))


def fleet_view(config: BridgeConfig, now: float | None = None) -> FleetView:
    at = time.time() if now is None else now
    reports = _reports(at)
    limited: dict[str, dict[str, int]] = {}
    for report in reports.values():
        for box, kinds in report.get("limited", {}).items():
            for kind, count in kinds.items():
                limited.setdefault(box, {})[kind] = limited.get(box, {}).get(kind, 0) + int(count)
    shops = tuple(
        _with_limits(_shop(config, shop.id, shop.platform, set(shop.boxes), at), limited)
        for shop in config.shops
    )
    parked = tuple(ProblemView(p.shop, p.key, p.what, p.error, p.count, p.last_at) for p in open_problems())
    workers = tuple(_worker(name, report, at) for name, report in sorted(reports.items()))
    return FleetView(shops, parked, workers)


def printable(text: str) -> str:
    """`text` with every character a terminal would act on (escapes, controls, bidi overrides) spelled out."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _reports(now: float) -> dict[str, dict[str, Any]]:
    """Each worker's last report, for the workers that reported lately."""
    reports = {}
    for worker, text in state.worker_reports().items():
        try:
            report = json.loads(text)
        except ValueError:
            continue
        if isinstance(report, dict) and now - float(report.get("at", 0)) <= WORKER_SHOWN_S:
            reports[worker] = report
    return reports


def _worker(name: str, report: dict[str, Any], now: float) -> WorkerView:
    dropped = tuple(sorted((str(why), int(n)) for why, n in report.get("dropped", {}).items()))
    limited = sum(int(n) for kinds in report.get("limited", {}).values() for n in kinds.values())
    if limited:
        dropped += (("over a box's limits", limited),)
    return WorkerView(
        worker=name,
        seen_s_ago=round(now - float(report.get("at", now)), 1),
        queued=int(report.get("queued", 0)),
        capacity=int(report.get("capacity", 0)),
        dropped=dropped,
        webhooks_refused=report.get("webhooks_refused"),
    )


def _with_limits(shop: ShopView, limited: dict[str, dict[str, int]]) -> ShopView:
    boxes = tuple(
        replace(box, limited=tuple(sorted(limited.get(f"{shop.shop}/{box.box}", {}).items())))
        for box in shop.boxes
    )
    return replace(shop, boxes=boxes)


def retry_parked(shop: str, key: str | None = None) -> int:
    """Clears parked problems of a shop (all, or one key) so the next pass tries them at once. A parked
    order stays listed until it reads (only the shop can repair it): it is read again in the next pass.
    """
    scope = m.Parked.shop == shop
    if key is not None:
        scope &= m.Parked.key == key
    orders = scope & (m.Parked.what == "order") & m.Parked.key.startswith("order/")
    again = int(m.Parked.update(last_at=0.0).where(orders, m.Parked.resolved == False).execute())  # noqa: E712
    cleared = int(m.Parked.update(resolved=True).where(scope, ~orders).execute())
    m.ShopWrite.update(next_at=0).where(m.ShopWrite.shop == shop, m.ShopWrite.state == "pending").execute()
    state.set_time(shop, state.Timer.BACKOFF, None)
    return cleared + again


def _shop(config: BridgeConfig, shop: str, platform: str, configured: set[str], now: float) -> ShopView:
    rows = {row.box: row for row in m.Box.select().where(m.Box.shop == shop)}
    boxes = tuple(_box(rows.get(box), box, box in configured, now) for box in sorted(configured | set(rows)))
    return ShopView(
        shop=shop,
        platform=platform,
        skus=m.Stock.select().where(m.Stock.shop == shop).count(),
        open_orders=m.Reservation.select(m.Reservation.order_id)
        .where(m.Reservation.shop == shop, m.Reservation.state == "open")
        .distinct()
        .count(),
        pending_writes=m.ShopWrite.select()
        .where(m.ShopWrite.shop == shop, m.ShopWrite.state == "pending")
        .count(),
        unsent_messages=m.Outbound.select()
        .where(m.Outbound.shop == shop, m.Outbound.published_at.is_null())
        .count(),
        backing_off_s=round(max(0.0, state.load(shop).due(state.Timer.BACKOFF) - now), 1),
        boxes=boxes,
    )


def _box(row: Any, box: str, configured: bool, now: float) -> BoxView:
    if row is None:
        return BoxView(box, configured, None, None, 0, 0, 0, None, None)
    telemetry = json.loads(row.telemetry) if row.telemetry else {}
    current = m.Stream.get_or_none(m.Stream.shop == row.shop, m.Stream.box == box, m.Stream.current == True)  # noqa: E712
    losses = m.LossWindow.select().where(m.LossWindow.shop == row.shop, m.LossWindow.box == box)
    return BoxView(
        box=box,
        configured=configured,
        online=row.online,
        version=row.version,
        last_seq=row.last_seq,
        applied=row.applied,
        waiting_batches=row.pending,
        backlog=telemetry.get("backlog"),
        seen_s_ago=None if row.seen_at is None else round(now - row.seen_at, 1),
        epoch=current.epoch or None if current is not None else None,
        store_lost=telemetry.get("store_lost"),
        losses=tuple(
            LossView(w.epoch or None, w.after_seq, w.upto_seq, w.new_epoch or None, w.reason, w.at)
            for w in losses.order_by(m.LossWindow.id)
        ),
    )


def render(view: FleetView) -> str:
    """The fleet view as a person reads it in a terminal."""
    lines: list[str] = []
    for shop in view.shops:
        extra = f", backing off {shop.backing_off_s:.0f} s" if shop.backing_off_s else ""
        lines.append(
            f"shop {shop.shop} ({shop.platform}): {shop.skus} skus, {shop.open_orders} open orders, "
            f"{shop.pending_writes} writes pending, {shop.unsent_messages} messages unsent{extra}"
        )
        for box in shop.boxes:
            lines.append("  " + _box_line(box))
    lines.append(f"parked: {len(view.parked)}")
    for problem in view.parked:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(problem.last_at))
        lines.append(f"  {problem.shop} {problem.key}: {problem.error} (×{problem.count}, last {when})")
    for worker in view.workers:
        lines.append(_worker_line(worker))
    return "\n".join(printable(line) for line in lines)


def _worker_line(worker: WorkerView) -> str:
    parts = [f"queue {worker.queued}/{worker.capacity}"]
    if worker.dropped:
        parts.append("dropped: " + ", ".join(f"{why} ×{count}" for why, count in worker.dropped))
    if worker.webhooks_refused:
        parts.append(f"webhooks refused {worker.webhooks_refused}")
    return f"worker {worker.worker} (reported {worker.seen_s_ago:.0f} s ago): " + "; ".join(parts)


def _box_line(box: BoxView) -> str:
    state = {True: "online", False: "offline", None: "never seen"}[box.online]
    parts = [f"box {box.box}: {state}"]
    if box.version:
        parts.append(f"v{box.version}")
    parts.append(f"journal applied to seq {box.last_seq}")
    if box.epoch:
        parts.append(f"store {box.epoch}")
    if box.waiting_batches:
        parts.append(f"{box.waiting_batches} batches held behind a hole")
    if box.losses:
        parts.append(f"LOST ENTRIES: {len(box.losses)} loss windows")
    if box.store_lost:
        parts.append(f"the box says: {box.store_lost}")
    if box.backlog is not None:
        parts.append(f"backlog {box.backlog}")
    if box.seen_s_ago is not None:
        parts.append(f"seen {box.seen_s_ago:.0f} s ago")
    if box.limited:
        parts.append("rate-limited: " + ", ".join(f"{kind} ×{count}" for kind, count in box.limited))
    if not box.configured:
        parts.append("NOT IN THE CONFIG")
    return ", ".join(parts)


__all__ = ["FleetView", "WorkerView", "fleet_view", "printable", "render", "retry_parked"]
