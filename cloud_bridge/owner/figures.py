"""What the owner's page shows, read from the bridge's tables for ONE shop (every query names it, so a
login never sees another shop's boxes, skus or orders). Read-only, apart from nothing: actions live in
`app.py` and go through the same functions as the `tillbridge bridge` commands.

Sales by channel: the till's are the box journals' sales and returns (`b/…` movements) valued at the
catalog's current prices; online (and phone, for orders whose message says so) are the paid orders sent to
the boxes, at what the customer paid. Days are the bridge's local days.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.config import BridgeConfig
from cloud_bridge.status import BoxView, fleet_view
from wire import EntryKind

CHANNELS: Final = ("till", "online", "phone")
LOW_STOCK: Final = 5  # available units (kg, l, m of a measured product) at or below this are listed as low
MEASURED: Final = frozenset({"kg", "l", "m"})  # deltas in grams (millilitres, millimetres), prices per unit
STOCK_SHOWN: Final = 200


@dataclass(frozen=True)
class Takings:
    """One channel's sales over a period."""

    channel: str
    count: int  # till: items (lines) sold; online/phone: orders
    cents: int


@dataclass(frozen=True)
class Day:
    label: str  # "Mon 30"
    cents: dict[str, int]  # channel → cents


@dataclass(frozen=True)
class Sales:
    today: tuple[Takings, ...]
    week: tuple[Takings, ...]
    days: tuple[Day, ...]  # the last seven days, oldest first


@dataclass(frozen=True)
class StockRow:
    sku: str
    name: str
    on_hand: int
    reserved: int
    available: int
    unit: str
    low: bool

    def amount(self, base_units: int) -> str:
        """A level as the shop floor says it: `4.650 kg` for a weighed product (kept in grams), `12` else."""
        if self.unit in MEASURED:
            return f"{base_units / 1000:.3f} {self.unit}"
        return str(base_units)


@dataclass(frozen=True)
class Waiting:
    order_id: str
    customer: str
    total_cents: int
    placed_at: str
    age_s: float
    printed: bool
    stage: str = ""  # where the floor has it (accepted, ready), from the box's last move; "" none yet
    eta_min: int | None = None


@dataclass(frozen=True)
class Problem:
    key: str
    what: str
    error: str
    box: str | None
    count: int
    last_at: float


def sales(shop: str, now: float) -> Sales:
    days = [_midnight(now) - timedelta(days=back) for back in range(6, -1, -1)]
    per_day: dict[str, dict[str, list[int]]] = {d.strftime("%Y-%m-%d"): {} for d in days}
    for day_key, channel, cents in (*_till_sales(shop, days[0]), *_order_sales(shop, days[0])):
        if day_key in per_day:
            counts = per_day[day_key].setdefault(channel, [0, 0])
            counts[0] += 1
            counts[1] += cents
    today_key = days[-1].strftime("%Y-%m-%d")

    def total(keys: list[str]) -> tuple[Takings, ...]:
        return tuple(
            Takings(
                c,
                sum(per_day[k].get(c, [0, 0])[0] for k in keys),
                sum(per_day[k].get(c, [0, 0])[1] for k in keys),
            )
            for c in CHANNELS
        )

    return Sales(
        today=total([today_key]),
        week=total(list(per_day)),
        days=tuple(
            Day(d.strftime("%a %d"), {c: per_day[d.strftime("%Y-%m-%d")].get(c, [0, 0])[1] for c in CHANNELS})
            for d in days
        ),
    )


def _midnight(now: float) -> datetime:
    local = datetime.fromtimestamp(now).astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _local_day(ts: str) -> str:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d")


def _till_sales(shop: str, since: datetime) -> list[tuple[str, str, int]]:
    prices = {
        row.sku: (row.price_cents, row.unit)
        for row in m.CatalogItem.select(
            m.CatalogItem.sku, m.CatalogItem.price_cents, m.CatalogItem.unit
        ).where(m.CatalogItem.shop == shop)
    }
    start = since.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    rows = m.Movement.select(m.Movement.sku, m.Movement.delta, m.Movement.at).where(
        m.Movement.shop == shop,
        m.Movement.kind.in_((EntryKind.SALE.value, EntryKind.RETURN.value)),
        m.Movement.source.startswith("b/"),
        m.Movement.at >= start,
    )
    found = []
    for row in rows:
        price, unit = prices.get(row.sku, (0, "each"))
        amount = -row.delta * price
        found.append((_local_day(row.at), "till", amount // 1000 if unit in MEASURED else amount))
    return found


def _order_sales(shop: str, since: datetime) -> list[tuple[str, str, int]]:
    rows = m.ShopOrder.select(m.ShopOrder.message).where(
        m.ShopOrder.shop == shop,
        m.ShopOrder.message.is_null(False),
        m.ShopOrder.state.not_in(("cancelled", "refunded")),
        m.ShopOrder.updated_at >= since.timestamp(),
    )
    found = []
    for row in rows:
        message = _message(row.message)
        if message.get("placed_at"):
            channel = "phone" if message.get("channel") == "phone" else "online"
            found.append((_local_day(message["placed_at"]), channel, int(message.get("total_cents", 0))))
    return found


def stock(shop: str, search: str = "") -> tuple[list[StockRow], list[StockRow]]:
    """(matching rows, low rows): the skus whose name, sku or barcode contains `search`, and every sku
    at or below LOW_STOCK, each sorted by name."""
    items = {
        row.sku: row
        for row in m.CatalogItem.select().where(m.CatalogItem.shop == shop, ~m.CatalogItem.deleted)
    }
    skus = [row.sku for row in m.Stock.select(m.Stock.sku).where(m.Stock.shop == shop)]
    rows = []
    for sku, level in ledger.levels(shop, skus).items():
        item = items.get(sku)
        rows.append(
            StockRow(
                sku=sku,
                name=item.name if item else sku,
                on_hand=level.on_hand,
                reserved=level.reserved,
                available=level.available,
                unit=item.unit if item else "each",
                low=level.available <= LOW_STOCK * (1000 if item and item.unit in MEASURED else 1),
            )
        )
    rows.sort(key=lambda r: (r.name.casefold(), r.sku))
    wanted = search.strip().casefold()

    def matches(row: StockRow) -> bool:
        item = items.get(row.sku)
        barcodes = json.loads(item.barcodes) if item else []
        return wanted in row.name.casefold() or wanted in row.sku.casefold() or wanted in " ".join(barcodes)

    found = [r for r in rows if matches(r)] if wanted else rows
    return found[:STOCK_SHOWN], [r for r in rows if r.low][:STOCK_SHOWN]


def waiting_orders(shop: str, now: float) -> list[Waiting]:
    """Paid click & collect orders not handed over yet, oldest first."""
    rows = m.ShopOrder.select().where(
        m.ShopOrder.shop == shop,
        m.ShopOrder.state == "paid",
        m.ShopOrder.pickup_code.is_null(False),
        m.ShopOrder.collected_by.is_null(),
        m.ShopOrder.completion == "none",
    )
    rows = list(rows)
    stages = _floor_stages(shop, [row.order_id for row in rows])
    found = []
    for row in rows:
        message = _message(row.message)
        placed = message.get("placed_at")
        at = datetime.fromisoformat(placed.replace("Z", "+00:00")).timestamp() if placed else row.updated_at
        found.append(
            Waiting(
                order_id=row.order_id,
                customer=str(message.get("customer", "")),
                total_cents=int(message.get("total_cents", 0)),
                placed_at=time.strftime("%a %H:%M", time.localtime(at)),
                age_s=max(0.0, now - at),
                printed=row.printed_by is not None,
                stage=stages.get(row.order_id, ("", None))[0],
                eta_min=stages.get(row.order_id, ("", None))[1],
            )
        )
    return sorted(found, key=lambda w: -w.age_s)


def _floor_stages(shop: str, order_ids: list[str]) -> dict[str, tuple[str, int | None]]:
    """order id → (stage, estimate) of the last move a box made on the floor (its notices to the shop)."""
    if not order_ids:
        return {}
    notices = m.OrderNotice.select().where(
        m.OrderNotice.shop == shop, m.OrderNotice.order_id.in_(order_ids), m.OrderNotice.stage != "code"
    )
    return {n.order_id: (n.stage, n.eta_min) for n in notices.order_by(m.OrderNotice.id)}


def problems(shop: str) -> list[Problem]:
    rows = m.Parked.select().where(m.Parked.shop == shop, m.Parked.resolved == False)  # noqa: E712
    return [
        Problem(r.key, r.what, r.error, r.box, r.count, r.last_at)
        for r in rows.order_by(m.Parked.last_at.desc())
    ]


@dataclass(frozen=True)
class Labels:
    """Price changes a box noted whose shelf labels are not printed yet (`tillbridge labels`, or the box's
    page), as its last telemetry said."""

    box: str
    count: int
    said_s_ago: float


def shelf_labels(config: BridgeConfig, shop: str, now: float) -> list[Labels]:
    boxes = [box for one in config.shops if one.id == shop for box in one.boxes]
    rows = m.Box.select().where(m.Box.shop == shop, m.Box.box.in_(boxes or [""]))
    found = []
    for row in rows.order_by(m.Box.box):
        counters = _message(row.telemetry).get("counters")
        count = counters.get("shelf_labels") if isinstance(counters, dict) else None
        if isinstance(count, int) and count > 0:
            found.append(Labels(row.box, count, max(0.0, now - (row.telemetry_at or now))))
    return found


def fleet(config: BridgeConfig, shop: str, now: float) -> list[BoxView]:
    view = fleet_view(config, now)
    return [box for one in view.shops if one.shop == shop for box in one.boxes]


def _message(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
