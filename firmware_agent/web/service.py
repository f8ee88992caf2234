"""The box's page as one of the agent's services: started with the core loop, served by waitress on the
LAN address of `[web] listen`, stopped with the agent. Every button goes through the core loop or the print
queue, as remote support's commands do; nothing here writes to the store itself.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from firmware_agent.config.check import check_config
from firmware_agent.config.schema import MqttConfig, WebConfig
from firmware_agent.core import CoreLoop
from firmware_agent.printing import PrintRequest
from firmware_agent.store.orders import PhoneOrderRefused, StageRefused
from firmware_agent.tickets import layouts
from firmware_agent.web.facts import Activity, Found, Pairing, Snapshot, search, snapshot
from firmware_agent.web.page import BoxActions, PhoneOrder, make_app
from firmware_agent.web.server import PageServer
from wire import MalformedMessage

if TYPE_CHECKING:
    from firmware_agent.wiring import Services

log = logging.getLogger(__name__)


class BoxPage:
    def __init__(
        self,
        web: WebConfig,
        box: str,
        shop: str,
        services: Services,
        config_path: Path | None = None,
        mqtt: MqttConfig | None = None,
        timezone: str = "",
    ) -> None:
        """`timezone`: the shop's (`[orders] timezone`; empty, the box's), for order slots."""
        self.web, self.box, self.shop, self.services, self.config_path = web, box, shop, services, config_path
        self.pairing = Pairing.of(shop, box, mqtt)
        self.timezone = timezone
        self.activity = Activity()
        self.server: PageServer | None = None
        self.core: CoreLoop | None = None

    @property
    def url(self) -> str:
        return self.server.url if self.server is not None else ""

    def start(self, core: CoreLoop) -> None:
        self.core = core
        core.listeners.append(self.activity)
        actions = BoxActions(
            self._snapshot,
            self._test_print,
            self._reprint,
            self._check_config,
            search=self._search,
            move=self._move,
            phone_order=self._phone_order if self.services.link is not None else None,
        )
        app = make_app(actions, self.activity, self.web.pin.reveal())
        self.server = PageServer(app, self.web.listen, threads=6, name="box-page").start()
        log.info("the box's page is on %s", self.server.url)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.activity.bump()

    def _snapshot(self) -> Snapshot:
        assert self.core is not None
        return snapshot(
            self.box, self.shop, self.core, self.services, self.activity, self.pairing, self.timezone
        )

    def _search(self, text: str) -> list[Found]:
        assert self.core is not None
        return search(self.core, text)

    def _test_print(self) -> str:
        """The self-test ticket, as the button's long press queues it: a `PrintRequest` on the core loop."""
        core, printing = self.core, self.services.printing
        if core is None or printing is None:
            return "This box has no printer configured."
        core.post(PrintRequest("selftest", layouts.selftest_ticket(printing.selftest(), printing.style)))
        return "Self-test queued for the printer."

    def _reprint(self, order_id: str) -> str:
        desk = self.services.floor()
        if desk is None:
            return "Orders come through the cloud link, and this box has none."
        try:
            jobs = desk.reprint(order_id)
        except StageRefused as exc:
            return f"Not reprinted: {exc}."
        self._wake_printers()
        return f"Order #{order_id} queued for printing again ({len(jobs)} of its tickets)."

    def _move(self, order_id: str, stage: str, eta_min: int | None) -> str:
        """`FloorDesk.move`: journaled in the commit that records it, so the shop hears it once, in order."""
        desk = self.services.floor()
        if desk is None:
            return "Orders come through the cloud link, and this box has none."
        try:
            moved = desk.move(order_id, stage, eta_min=eta_min, source="web")
        except StageRefused as exc:
            return f"Not moved: {exc}."
        self.activity.bump()
        eta = f", ready in about {moved.eta_min} min" if moved.eta_min and moved.stage == "accepted" else ""
        return f"Order #{moved.order.number or moved.order_id} is {moved.stage}{eta}."

    def _phone_order(self, order: PhoneOrder) -> str:
        """`FloorDesk.phone_order`: journaled for the bridge, which creates it in the online shop; it comes
        back and prints like an online order (offline, it waits in the journal)."""
        desk = self.services.floor()
        if desk is None:
            return "Phone orders go through the cloud link, and this box has none."
        request: dict[str, Any] = {
            "lines": [{"sku": sku, "qty": qty} for sku, qty in order.lines],
            "customer": order.customer,
            "phone": order.phone,
            "pickup": order.pickup,
            "address": order.address,
            "note": order.note,
            "allergies": order.allergies,
        }
        if order.at:
            due = _today_at(order.at, self.timezone)
            if due < datetime.now(UTC) - timedelta(minutes=1):
                return f"Not sent: {order.at} has passed today; leave the time empty for as soon as possible."
            request["due_at"] = due.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        try:
            ref = desk.phone_order(request)
        except (MalformedMessage, PhoneOrderRefused) as exc:
            return f"Not sent: {exc}."
        self.activity.bump()
        return (
            f"Phone order for {order.customer} sent to the shop (ref {ref}): it prints when the shop has it."
        )

    def _wake_printers(self) -> None:
        for service in (self.services.printing, *self.services.stations):
            if service is not None:
                service.wake()

    def _check_config(self) -> list[str]:
        if self.config_path is None:
            return ["this box runs without a config file"]
        return check_config(self.config_path)


def _today_at(hhmm: str, timezone: str) -> datetime:
    """Today at `hhmm` in the shop's zone (the box's when none is named), in UTC."""
    zone = ZoneInfo(timezone) if timezone else None
    now = datetime.now(zone) if zone else datetime.now().astimezone()
    hour, minute = int(hhmm[:2]), int(hhmm[3:])
    return now.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC)
