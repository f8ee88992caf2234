"""Sales the box learns from the POS's receipts: lines mapped to skus and journaled once, on the core loop.

The receipt reader (`devices.receipts`) posts a `ReceiptRead` for each receipt it read; this module's
handler runs on the core loop inside its transaction, as a scan does, so a receipt's movements, its "seen"
mark and the scans it took up commit together or not at all:

- A receipt counts once: its key (`no:<number>`, or the content hash) is remembered (`first_time_seen`);
  a reprint, marked or not, is not a second sale. A receipt that could not be read journals nothing.
- Each line maps to a sku by code (a barcode or the sku itself), else by name (exact, then a unique
  prefix of at least 6 characters: POS shorten names). Lines that map to nothing go to the unmatched list
  for the owner (setting `receipts.unmatched`, newest first, with counts).
- How receipts and the box's own scans combine (`[receipts] combine`):
  `scans` — scans count, receipts are read and checked only; `receipts` — receipt lines count, and a
  line the box's scanner already sold since the last receipt takes that scan up instead of selling again;
  `confirm` — as `receipts`, and scans the next receipt does not show are taken back (`adjust`). Only the
  scanners named in `scanners` (default: all) are this POS's.
- With a serial tap on the POS's scale (`tap`), each weighed line is tied to a weighing the tap saw since
  the receipt before (`firmware_agent.scaletap`): a weighed line with none was keyed in by hand, and a
  weighing on no line was voided or never sold; both are counted and logged for the owner.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal
from urllib.parse import urlsplit

from devices.printers import PrinterConfig
from devices.printers.transports import TRANSPORTS
from devices.readings import ScanRead
from devices.receipts import (
    CapturedReceipt,
    LineKind,
    NotASale,
    Outcome,
    ParsedReceipt,
    ReceiptLine,
    ReceiptTemplate,
    Unreadable,
)
from devices.receipts.gadget import GadgetPrinterBridge
from devices.receipts.proxy import PrinterProxy
from devices.receipts.reader import ReaderProcess
from firmware_agent.core import Applied, CoreLoop
from firmware_agent.domain import StockMove
from firmware_agent.facts import apply_fact
from firmware_agent.scaletap import take_up_weighings
from firmware_agent.store import ProductRecord, Store
from wire import EntryKind, SaleEntry

log = logging.getLogger(__name__)

Combine = Literal["scans", "receipts", "confirm"]
PENDING = "receipts.pending_scans"
UNMATCHED = "receipts.unmatched"
UNMATCHED_KEEP = 100
MIN_PREFIX = 6
BASE_PER_UNIT = Decimal(1000)  # grams per kg, millilitres per litre, millimetres per metre


@dataclass(frozen=True)
class ReceiptRead:
    """A receipt the reader finished with, and what the template made of it."""

    outcome: Outcome
    text: str = ""


@dataclass(frozen=True)
class ScanSold:
    """The box's scanner sold `qty` (base units) of `sku`: a receipt line may take it up later."""

    sku: str
    qty: int


@dataclass
class ReceiptCounters:
    """What telemetry reports (`counters` of the box's telemetry, prefixed `receipts_`)."""

    read: int = 0
    unreadable: int = 0
    not_sales: int = 0
    reprints: int = 0
    unmatched_lines: int = 0
    weighed_on_tap: int = 0
    """Weighed lines the tapped scale weighed."""
    weighed_not_on_tap: int = 0
    """Weighed lines the tapped scale never weighed: a weight keyed in by hand at the POS."""
    tap_weighings_not_on_receipt: int = 0
    """Weighings at the POS's scale that the next receipt does not show: voided, or not sold."""

    def as_dict(self) -> dict[str, int]:
        return {f"receipts_{name}": value for name, value in vars(self).items()}


@dataclass
class ReceiptJournal:
    """The rules above, on the loop. `attach(core)` registers the handlers and the scan listener."""

    combine: Combine = "receipts"
    scanners: tuple[str, ...] | None = None
    """The scanners at this POS whose sales its receipts also show (None: every scanner of the box)."""
    counters: ReceiptCounters = field(default_factory=ReceiptCounters)
    dropped: Callable[[], int] = lambda: 0
    """Bytes of print data the reader could not keep up with (the capture queue's counter)."""
    tap: bool = False
    """A serial tap on this POS's scale witnesses the receipts' weighed lines."""
    _core: CoreLoop | None = field(default=None, init=False, repr=False)

    def attach(self, core: CoreLoop) -> None:
        core.on(ReceiptRead, lambda event: self.on_receipt(core.store, event))
        core.on(ScanSold, lambda event: self.on_scan(core.store, event))
        if self.combine != "scans":
            core.listeners.append(lambda applied: self._scan_listener(core, applied))
        self._core = core
        self._publish()

    # -- on the loop ------------------------------------------------------------------------------------

    def on_receipt(self, store: Store, event: ReceiptRead) -> str:
        message = self._receipt(store, event.outcome)
        self._publish()
        return message

    def _publish(self) -> None:
        if self._core is not None:
            self._core.counters.update(self.counters.as_dict(), receipts_bytes_dropped=self.dropped())

    def on_scan(self, store: Store, event: ScanSold) -> str:
        pending = _pending(store)
        pending[event.sku] += event.qty
        _save_pending(store, pending)
        return f"receipts: scan of {event.sku} waits for its receipt"

    def _receipt(self, store: Store, outcome: Outcome) -> str:
        if isinstance(outcome, Unreadable):
            self.counters.unreadable += 1
            log.warning("receipt not counted: %s", outcome.reason)
            return f"receipt unreadable: {outcome.reason}"
        if isinstance(outcome, NotASale):
            self.counters.not_sales += 1
            return f"receipt printed, not a sale ({outcome.reason})"
        if outcome.reprint or not store.first_time_seen("receipt", outcome.key):
            self.counters.reprints += 1
            return f"receipt {outcome.number or outcome.digest[:12]}: a reprint, not counted again"
        self.counters.read += 1
        sold, returned, unmatched, weighed = self._map(store, outcome)
        if unmatched:
            self.counters.unmatched_lines += len(unmatched)
            _remember_unmatched(store, unmatched, outcome)
        if self.tap:
            self._witness(store, outcome, weighed)
        if self.combine == "scans":
            return f"receipt {_name(outcome)}: {len(outcome.lines)} lines, checked (scans count)"
        moves = self._moves(store, outcome, sold, returned)
        for move in moves:
            apply_fact(store, move)
        return f"receipt {_name(outcome)}: {len(moves)} movement(s), {len(unmatched)} line(s) unmatched"

    def _map(
        self, store: Store, receipt: ParsedReceipt
    ) -> tuple[Counter[str], Counter[str], list[ReceiptLine], list[int]]:
        """Net units sold and returned per sku; lines that map to nothing or to a quantity that fits not;
        the grams of each weighed sale line."""
        sold: Counter[str] = Counter()
        returned: Counter[str] = Counter()
        unmatched: list[ReceiptLine] = []
        weighed: list[int] = []
        for line in receipt.lines:
            product = match_product(store, line)
            qty = None if product is None else base_quantity(product, line)
            if product is None or qty is None:
                unmatched.append(line)
                continue
            if line.kind is LineKind.SALE:
                sold[product.sku] += qty
                if product.unit == "kg":
                    weighed.append(qty)
            elif line.kind is LineKind.VOID:
                sold[product.sku] -= qty
            else:
                returned[product.sku] += qty
        return sold, returned, unmatched, weighed

    def _witness(self, store: Store, receipt: ParsedReceipt, weighed: list[int]) -> None:
        on_tap, not_on_tap, not_on_receipt = take_up_weighings(store, weighed)
        self.counters.weighed_on_tap += len(on_tap)
        self.counters.weighed_not_on_tap += len(not_on_tap)
        self.counters.tap_weighings_not_on_receipt += len(not_on_receipt)
        for grams in not_on_tap:
            log.warning(
                "receipt %s: %s weighed on no scale the box taps (keyed in by hand?)",
                _name(receipt),
                kg(grams),
            )
        for grams in not_on_receipt:
            log.warning(
                "the POS weighed %s that receipt %s does not show (voided, or not sold)",
                kg(grams),
                _name(receipt),
            )

    def _moves(
        self, store: Store, receipt: ParsedReceipt, sold: Counter[str], returned: Counter[str]
    ) -> list[StockMove]:
        pending = _pending(store)
        moves: list[StockMove] = []
        for sku, qty in sold.items():
            taken = min(max(qty, 0), pending[sku])
            pending[sku] -= taken
            if qty - taken:
                moves.append(StockMove(EntryKind.SALE, sku, -(qty - taken), "", price_cents=None))
        for sku, qty in returned.items():
            moves.append(StockMove(EntryKind.RETURN, sku, qty, ""))
        if self.combine == "confirm":
            reason = f"scanned but not on receipt {_name(receipt)}"
            moves += [
                StockMove(EntryKind.ADJUST, sku, qty, "", reason=reason)
                for sku, qty in pending.items()
                if qty > 0
            ]
        pending.clear()  # a scan waits for the next receipt only: an older one never takes up a later line
        _save_pending(store, pending)
        return moves

    def _scan_listener(self, core: CoreLoop, applied: Applied) -> None:
        """After a scan's sale committed: remember it, so that its receipt line takes it up."""
        if not isinstance(applied.event, ScanRead):
            return
        if self.scanners is not None and applied.event.source not in self.scanners:
            return
        for record in applied.records:
            body = record.body
            if isinstance(body, SaleEntry):
                core.post(ScanSold(body.sku, -body.delta))


# -- mapping ------------------------------------------------------------------------------------------------


def match_product(store: Store, line: ReceiptLine) -> ProductRecord | None:
    """By code (a barcode, else the sku), else by name: exact, then a unique prefix (POS shorten names)."""
    if line.code:
        product = store.find_product([line.code]) or store.product(line.code)
        if product is not None:
            return product
    if line.name:
        return store.product_named(line.name, min_prefix=MIN_PREFIX)
    return None


def base_quantity(product: ProductRecord, line: ReceiptLine) -> int | None:
    """The line's quantity in the product's base unit (units, or grams for weighed products)."""
    if product.unit == "each":
        return int(line.quantity) if line.quantity == line.quantity.to_integral() else None
    per = Decimal(1) if (line.unit or "").lower() in ("g", "ml", "mm") else BASE_PER_UNIT
    return int((line.quantity * per).to_integral())


def kg(grams: int) -> str:
    return f"{Decimal(grams) / BASE_PER_UNIT:.3f} kg"


def _name(receipt: ParsedReceipt) -> str:
    return receipt.number or receipt.digest[:12]


def _pending(store: Store) -> Counter[str]:
    return Counter({str(k): int(v) for k, v in json.loads(store.setting(PENDING) or "{}").items()})


def _save_pending(store: Store, pending: Counter[str]) -> None:
    store.set_setting(PENDING, json.dumps({k: v for k, v in sorted(pending.items()) if v > 0}))


def _remember_unmatched(store: Store, lines: Iterable[ReceiptLine], receipt: ParsedReceipt) -> None:
    entries = unmatched_lines(store)
    for line in lines:
        key = line.code or line.name or line.text
        found = next((e for e in entries if e["key"] == key), None)
        if found is None:
            found = {"key": key, "text": line.text, "count": 0}
        else:
            entries.remove(found)
        found["count"] = int(str(found["count"])) + 1
        found["receipt"] = _name(receipt)
        entries.insert(0, found)
        log.warning("receipt %s: line %r matches no product (code or name)", _name(receipt), line.text)
    store.set_setting(UNMATCHED, json.dumps(entries[:UNMATCHED_KEEP], ensure_ascii=False))


def unmatched_lines(store: Store) -> list[dict[str, object]]:
    """The owner's list: receipt lines the box could not map to a product, newest first."""
    entries: list[dict[str, object]] = json.loads(store.setting(UNMATCHED) or "[]")
    return entries


class ReceiptService:
    """The box between the POS and its receipt printer — as a network printer (`PrinterProxy` on
    `listen`) or, with `gadget`, as a USB printer (`GadgetPrinterBridge` on the gadget node) — with the
    reader process and the journal."""

    def __init__(
        self,
        printer: str,
        listen: tuple[str, int],
        template: ReceiptTemplate,
        combine: Combine = "receipts",
        gadget: str | None = None,
        scanners: tuple[str, ...] | None = None,
        pos: tuple[str, ...] | None = None,
    ) -> None:
        self.pos = None if pos is None else frozenset(pos)
        self.printer, self.listen, self.template, self.gadget = printer, listen, template, gadget
        self.journal = ReceiptJournal(combine, scanners)
        self.reader: ReaderProcess | None = None
        self.proxy: PrinterProxy | None = None
        self.bridge: GadgetPrinterBridge | None = None
        self._thread: threading.Thread | None = None

    def start(self, core: CoreLoop) -> None:
        self.journal.attach(core)

        def on_outcome(captured: CapturedReceipt, outcome: Outcome) -> None:
            core.post(ReceiptRead(outcome, captured.text))

        reader = self.reader = ReaderProcess(self.template, on_outcome).start()
        self.journal.dropped = lambda: reader.tap.counters.bytes_dropped
        if self.gadget is None:
            self.proxy = PrinterProxy(address(self.printer), reader.tap, self.listen, self.pos).start()
            return
        url = self.printer if "://" in self.printer else f"tcp://{self.printer}"
        config = PrinterConfig.from_url(url)
        self.bridge = GadgetPrinterBridge(TRANSPORTS[config.kind](config), reader.tap, self.gadget)
        self._thread = threading.Thread(target=self.bridge.run, name="printer-gadget", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Forwarding first (no new print jobs are taken), then the reader reads what is queued."""
        if self.proxy is not None:
            self.proxy.stop()
        if self.bridge is not None:
            self.bridge.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.reader is not None:
            self.reader.stop()


def address(text: str) -> tuple[str, int]:
    """`host:port` or `tcp://host:port` (validated by the config) as a socket address."""
    parts = urlsplit(text if "://" in text else f"tcp://{text}")
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port
