"""Receipt capture: what the box in front of the printer costs the POS.

`receipt_forward_added_latency`: a POS sends a 4 KB receipt and then a real-time status query, and waits
for the printer's reply, so the round trip covers every byte of the receipt reaching the printer. Rounds
alternate a direct connection to the virtual printer (baseline) and the same through the box's 9100 proxy
with the box's reader process parsing every receipt on the side (ours); the figure is the median over
rounds of our p99 minus the direct p99, with the spread of those differences. Goal: ≤ 5 ms.

The printer, the box and the POS each run in a process of their own, as they are three machines: in one
process they would take turns on one interpreter lock and measure each other rather than the box.
"""

from __future__ import annotations

import multiprocessing
import time
from decimal import Decimal
from multiprocessing.connection import Connection

from bench.common import Result, alternate, percentile
from devices.receipts import CapturedReceipt, Outcome, ParsedReceipt, preset
from devices.receipts.proxy import PrinterProxy
from devices.receipts.reader import ReaderProcess
from simulators.pos import Item, PosClient, Sale, receipt_bytes
from simulators.printer import VirtualPrinter

RECEIPTS = 300
ROUNDS = 5
STATUS = b"\x10\x04\x01"


def four_kb_receipt() -> bytes:
    items = tuple(Item(f"{1000 + i}", f"Artículo {i}", 100 + i, Decimal(1 + i % 3)) for i in range(80))
    return receipt_bytes(Sale("000001", items))


def _printer(pipe: Connection) -> None:
    with VirtualPrinter() as printer:
        pipe.send(printer.address)
        pipe.recv()  # until told to stop


def _box(printer: tuple[str, int], pipe: Connection) -> None:
    parsed = [0]

    def on_outcome(captured: CapturedReceipt, outcome: Outcome) -> None:
        if isinstance(outcome, ParsedReceipt):
            parsed[0] += 1

    reader = ReaderProcess(preset("code-columns"), on_outcome).start()
    with PrinterProxy(printer, reader.tap, listen=("127.0.0.1", 0)) as proxy:
        pipe.send(proxy.address)
        pipe.recv()
    reader.stop()
    pipe.send(parsed[0])


def p99_ms(address: tuple[str, int], receipt: bytes) -> float:
    samples: list[float] = []
    with PosClient(address) as pos:
        pos.status()
        for _ in range(RECEIPTS):
            started = time.perf_counter()
            pos.send(receipt)
            pos.status(STATUS)
            samples.append((time.perf_counter() - started) * 1000)
    return percentile(samples, 99)


def run() -> list[Result]:
    receipt = four_kb_receipt()
    assert len(receipt) >= 4096, len(receipt)
    context = multiprocessing.get_context("fork")
    printer_pipe, printer_end = context.Pipe()
    box_pipe, box_end = context.Pipe()
    printer_process = context.Process(target=_printer, args=(printer_end,), daemon=True)
    printer_process.start()
    printer = printer_pipe.recv()
    box_process = context.Process(target=_box, args=(printer, box_end))
    box_process.start()
    proxy = box_pipe.recv()
    try:
        rounds = alternate(ROUNDS, lambda: p99_ms(proxy, receipt), lambda: p99_ms(printer, receipt))
    finally:
        box_pipe.send("stop")
        parsed = box_pipe.recv()
        printer_pipe.send("stop")
        box_process.join(10)
        printer_process.join(10)
    assert parsed == ROUNDS * RECEIPTS, f"the box read {parsed} receipts of {ROUNDS * RECEIPTS}"
    return [
        rounds.duration("receipts.forward_status_roundtrip_p99_ms", "ms"),
        rounds.added("receipt_forward_added_latency", "ms", budget=5.0),
    ]
