"""Reading receipts in a process of its own, so that printing never waits for parsing.

Decoding and matching a 4 KB receipt costs several milliseconds of CPU. On the forwarding process's
interpreter lock that time would fall on the relay threads (and the POS would wait for its printer's status
reply behind a regular expression). So the forwarding side only offers chunks to a bounded
`multiprocessing.Queue` (dropping and counting when it is full), a child process decodes them and applies
the template, and the outcomes come back to `on_outcome` on a thread of the parent.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
from collections.abc import Callable
from typing import Any

from devices.receipts.capture import CapturedReceipt
from devices.receipts.tap import DEFAULT_CHUNKS, CaptureQueue, Chunk, ReceiptWorker
from devices.receipts.template import Outcome, ReceiptTemplate

log = logging.getLogger(__name__)

OnOutcome = Callable[[CapturedReceipt, Outcome], None]


class ReaderProcess:
    """`tap` is what the forwarding side offers to; `on_outcome` gets each receipt and what it reads as."""

    def __init__(
        self, template: ReceiptTemplate, on_outcome: OnOutcome, max_chunks: int = DEFAULT_CHUNKS
    ) -> None:
        context = multiprocessing.get_context("spawn")  # not fork: the parent has threads holding locks
        self._chunks: Any = context.Queue(max_chunks)
        self._results: Any = context.Queue()
        self.tap = CaptureQueue(max_chunks, self._chunks)
        self._on_outcome = on_outcome
        self._process = context.Process(
            target=_read, args=(self._chunks, self._results, template), name="receipt-reader", daemon=True
        )
        self._thread = threading.Thread(target=self._deliver, name="receipt-outcomes", daemon=True)

    def start(self) -> ReaderProcess:
        self._process.start()
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Reads what is queued, then ends the child and the delivering thread."""
        try:
            self._chunks.put(None, True, timeout)
        except queue.Full:
            log.error("receipt reader: still busy after %.0f s; stopping it unread", timeout)
            self._process.terminate()
            self._results.put(None)
        self._thread.join(timeout)
        self._process.join(timeout)

    def _deliver(self) -> None:
        while True:
            item = self._results.get()
            if item is None:
                return
            captured, outcome = item
            try:
                self._on_outcome(captured, outcome)
            except Exception:
                log.exception("receipt reader: handling a receipt failed; printing is not affected")


def _read(chunks: Any, results: Any, template: ReceiptTemplate) -> None:
    """The child: chunks in, (receipt, outcome) out, until the None that `stop()` sends."""

    def parse(captured: CapturedReceipt) -> None:
        results.put((captured, template.parse(captured)))

    worker = ReceiptWorker(CaptureQueue(1), parse)
    while True:
        chunk: Chunk | None = chunks.get()
        if chunk is None:
            results.put(None)
            return
        worker.handle(chunk)
