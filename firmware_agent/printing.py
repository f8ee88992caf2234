"""The durable print queue and the worker that empties it.

Durability: a ticket is a row in the store before anyone is told it will print, so it waits through paper-out,
an unplugged printer and restarts. Each kind has a time limit: an order ticket still matters hours later, a
test ticket does not. Exactly-once on paper is impossible to promise (a printer can die mid-ticket), so the
promise is: nothing prints twice *unmarked*. A job is marked `printing` before its bytes go out; one found
in that state after a crash — or a printer that reports a fault right after the job — prints again with a
REPRINT banner, so the kitchen knows it is a copy.

Only the core loop touches the store; the worker thread holds the printer and uses `core.call`.
"""

from __future__ import annotations

import datetime
import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from devices.errors import DeviceError, DeviceUnavailable
from devices.gpio import ButtonPressed
from devices.printers import Printer
from devices.readings import DeviceState, DeviceStatus
from firmware_agent import labels
from firmware_agent.core import CoreLoop
from firmware_agent.events import PrintShelfLabels
from firmware_agent.store import PrintJobRecord, Store
from firmware_agent.store.orders import ORDER_JOB_KIND, release_due
from firmware_agent.tickets import layouts
from firmware_agent.tickets.control import default_control_sheet
from firmware_agent.tickets.model import PriceChangeList, SelfTest, TicketStyle

log = logging.getLogger(__name__)

HOUR = 3600.0
TTL_S: Mapping[str, float] = {
    "order": 12 * HOUR,
    "handover": 2 * HOUR,
    "prices": 24 * HOUR,
    "selftest": 600.0,
    "control": 600.0,
    "test": 300.0,
}
DEFAULT_TTL_S = HOUR
PRINTER = "printer"

OnPrinted = Callable[[Store, PrintJobRecord], None]
SelfTestSource = Callable[[], SelfTest]


@dataclass(frozen=True)
class PrintRequest:
    """Queue a rendered ticket (posted by the button, remote support, an inbound order)."""

    kind: str
    payload: bytes
    reprint: bool = False


class PrintService:
    def __init__(
        self,
        printer: Printer,
        *,
        selftest: SelfTestSource,
        retry_s: float = 2.0,
        status_timeout_s: float = 1.0,
        station: str = "",
        stations: frozenset[str] = frozenset(),
    ) -> None:
        """`station` names the order station this printer serves ("" the box's own printer, which takes
        every other job too); `stations` are all the stations with a printer of their own, so the box's
        printer leaves their tickets to them (and prints those of a station without one)."""
        self.printer = printer
        self.station = station
        self.stations = stations
        self.selftest = selftest
        self.retry_s = retry_s
        self.status_timeout_s = status_timeout_s
        self.on_printed: dict[str, OnPrinted] = {}
        self.core: CoreLoop | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._work, name=f"printer{'-' + station if station else ''}", daemon=True
        )
        self._last_status: DeviceStatus | None = None
        self._printing_labels: dict[str, dict[str, Any]] = {}  # what the queued label list shows

    @property
    def style(self) -> TicketStyle:
        return TicketStyle(page=self.printer.config.page)

    # ---- the service ---------------------------------------------------------------------------------

    def start(self, core: CoreLoop) -> None:
        self.core = core
        if not self.station:  # a station's printer only prints its tickets
            core.on(PrintRequest, self._enqueue)
            core.on(ButtonPressed, self._button)
            core.on(PrintShelfLabels, self._labels)
        self.on_printed["labels"] = self._labels_printed
        self._thread.start()

    def serves(self, kind: str) -> bool:
        """Whether this printer prints jobs of `kind` (an order ticket for a station is "order@station")."""
        _, _, station = kind.partition("@")
        if self.station:
            return station == self.station
        return station not in self.stations

    def wake(self) -> None:
        """A job was queued outside `PrintRequest` (an inbound order): look now, not at the next retry."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        self.printer.close()

    # ---- on the core loop ----------------------------------------------------------------------------

    def _enqueue(self, request: PrintRequest) -> str:
        assert self.core is not None
        ttl = TTL_S.get(request.kind.partition("@")[0], DEFAULT_TTL_S)
        job = self.core.store.enqueue_print(request.kind, request.payload, ttl, reprint=request.reprint)
        self._wake.set()
        return f"print job {job} queued ({request.kind})"

    def _button(self, press: ButtonPressed) -> str:
        """Short press: the last ticket again. Long press: self-test ticket and control sheet."""
        if press.kind == "long":
            self._enqueue(PrintRequest("selftest", layouts.selftest_ticket(self.selftest(), self.style)))
            self._enqueue(PrintRequest("control", layouts.control_sheet(default_control_sheet(), self.style)))
            return "button: self-test ticket and control sheet queued"
        assert self.core is not None
        done = self.core.store.print_jobs(["done"])
        if not done:
            return "button: nothing printed yet to reprint"
        last = done[-1]
        return self._enqueue(PrintRequest(last.kind, last.payload, reprint=True))

    def _labels(self, _: PrintShelfLabels) -> str:
        """The shelf label list as one ticket; what it lists is cleared once the printer has it."""
        assert self.core is not None
        pending = labels.pending(self.core.store)
        if not pending:
            return "shelf labels: none to change"
        listing = PriceChangeList(labels.changes(pending), datetime.date.today().isoformat())
        message = self._enqueue(PrintRequest("labels", layouts.price_list(listing, self.style)))
        self._printing_labels = pending
        return message

    def _labels_printed(self, store: Store, job: PrintJobRecord) -> None:
        cleared = labels.clear(store, self._printing_labels)
        self._printing_labels = {}
        log.info("shelf labels printed (job %d): %d cleared", job.id, cleared)

    def _recover(self, store: Store) -> None:
        """Jobs found `printing` at start were cut short by a crash or power cut: they go again, marked."""
        for job in store.print_jobs(["printing"]):
            if not self.serves(job.kind):
                continue
            store.mark_reprint(job.id)
            log.warning(
                "print job %d (%s) was cut short by a restart: it prints again as a REPRINT", job.id, job.kind
            )

    def _claim(self, store: Store) -> PrintJobRecord | None:
        """Queue the timed orders' tickets now due, expire what is too old, then take the oldest waiting job
        of this printer's and mark it `printing`."""
        now = time.time()
        release_due(store, now, TTL_S[ORDER_JOB_KIND])
        for job in store.print_jobs(["queued"]):
            if not self.serves(job.kind):
                continue
            if job.expires_at < now:
                store.set_print_state(job.id, "expired", "not printed in time")
                log.warning("print job %d (%s) expired unprinted", job.id, job.kind)
                continue
            store.set_print_state(job.id, "printing")
            return job
        return None

    def _settle(self, store: Store, job: PrintJobRecord, error: str | None, reprint: bool) -> None:
        if error is None:
            store.set_print_state(job.id, "done")
            hook = self.on_printed.get(job.kind.partition("@")[0])
            if hook is not None:
                hook(store, job)
        elif reprint:
            store.mark_reprint(job.id)
        else:
            store.set_print_state(job.id, "queued", error)

    # ---- on the printer thread -----------------------------------------------------------------------

    def _work(self) -> None:
        assert self.core is not None
        try:
            self.core.call(self._recover)
        except Exception:
            log.exception("could not look for print jobs cut short by a restart")
        while not self._stop.is_set():
            try:
                job = self.core.call(self._claim)
            except Exception:  # the loop is stopping, or the store failed: retry later
                log.exception("could not take the next print job")
                job = None
            if job is None:
                self._wake.wait(self.retry_s)
                self._wake.clear()
                continue
            error, reprint = self._print(job)
            self.core.call(functools.partial(self._settle, job=job, error=error, reprint=reprint))
            if error is not None:
                log.warning("print job %d (%s) waits: %s", job.id, job.kind, error)
                self._stop.wait(self.retry_s)

    def _print(self, job: PrintJobRecord) -> tuple[str | None, bool]:
        """(error or None, whether a retry must be marked as a reprint)."""
        before = self._status()
        if before is not None:
            return before, False
        try:
            self.printer.print_bytes(self._banner() + job.payload if job.reprint else job.payload)
        except DeviceError as exc:
            self._report(DeviceStatus(PRINTER, _state_of(exc), str(exc)))
            return str(exc), True  # some of it may be on paper already
        after = self._status()
        return after, after is not None

    def _status(self) -> str | None:
        """Why the printer cannot print now, or None (ready, or it does not answer status queries)."""
        try:
            status = self.printer.query_status(self.status_timeout_s)
        except DeviceError as exc:
            self._report(DeviceStatus(PRINTER, _state_of(exc), str(exc)))
            return str(exc)
        self._report(status.device_status(PRINTER))
        return None if not status.answered or status.ready else status.describe()

    def _report(self, status: DeviceStatus) -> None:
        if status != self._last_status and self.core is not None:
            self._last_status = status
            self.core.post(status)

    def _banner(self) -> bytes:
        ticket = self.printer.builder()
        ticket.line("*** REPRINT / COPIA ***", bold=True, size="tall", align="center")
        return ticket.getvalue()


def _state_of(exc: DeviceError) -> DeviceState:
    return DeviceState.ABSENT if isinstance(exc, DeviceUnavailable) else DeviceState.ERROR
