"""The side channel from the forwarding path to the receipt reader: a bounded queue that never blocks.

Forwarding calls `offer()` with every chunk it has just passed on; when the reader has fallen behind and the
queue is full, the chunk is dropped and counted instead of making the POS wait. The reader learns of the
gap with the next chunk of that stream, and the receipt it was in the middle of is reported as unreadable
("bytes lost"), never half-counted.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from devices.receipts.capture import CapturedReceipt, ReceiptReader

log = logging.getLogger(__name__)

DEFAULT_CHUNKS = 4096
"""Chunks the queue holds: a recv() is at most 64 kB, so a few megabytes at most, many receipts' worth."""


@dataclass(frozen=True)
class Chunk:
    stream: int
    data: bytes | None  # None: the stream ended
    lost: int = 0  # bytes of this stream dropped just before this chunk


class ChunkQueue(Protocol):
    """`queue.Queue` within a process, `multiprocessing.Queue` to a reader process (`ReaderProcess`)."""

    def put_nowait(self, item: Chunk, /) -> None: ...
    def put(self, item: Chunk, block: bool = ..., timeout: float | None = ..., /) -> None: ...
    def get(self, block: bool = ..., timeout: float | None = ..., /) -> Chunk: ...


@dataclass
class TapCounters:
    """What telemetry shows: how much was captured and how much the reader could not keep up with."""

    bytes_captured: int = 0
    bytes_dropped: int = 0
    streams: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


class CaptureQueue:
    """Many forwarding threads offer, one reader takes. Thread-safe, never blocks the offering side."""

    def __init__(self, max_chunks: int = DEFAULT_CHUNKS, chunks: ChunkQueue | None = None) -> None:
        self._queue: ChunkQueue = queue.Queue(max_chunks) if chunks is None else chunks
        self._ids = itertools.count(1)
        self._lost: dict[int, int] = {}
        self.counters = TapCounters()

    def open_stream(self) -> int:
        with self.counters.lock:
            self.counters.streams += 1
        return next(self._ids)

    def offer(self, stream: int, data: bytes) -> None:
        self._put(stream, data)

    def close_stream(self, stream: int, timeout: float = 2.0) -> None:
        """The end of a stream. Called after its sockets are closed, so waiting here holds up no printing;
        the end must arrive, or the reader would keep the stream's unfinished receipt for ever."""
        with self.counters.lock:
            lost = self._lost.pop(stream, 0)
        try:
            self._queue.put(Chunk(stream, None, lost), True, timeout)
        except queue.Full:
            log.error("receipt capture: the reader is stuck; the end of print stream %d was not read", stream)

    def take(self, timeout: float | None = None) -> Chunk | None:
        try:
            return self._queue.get(True, timeout)
        except queue.Empty:
            return None

    def _put(self, stream: int, data: bytes) -> None:
        size = len(data)
        with self.counters.lock:
            lost = self._lost.pop(stream, 0)
            try:
                self._queue.put_nowait(Chunk(stream, data, lost))
            except queue.Full:
                self._lost[stream] = lost + size
                self.counters.bytes_dropped += size
                if not lost:
                    log.warning(
                        "receipt capture: the reader fell behind; dropping print data (printing goes on)"
                    )
                return
            self.counters.bytes_captured += size


class ReceiptWorker:
    """Reads captured streams into receipts on its own thread and hands each to `on_receipt`.

    `on_receipt` runs on this thread; an exception in it is logged and the worker goes on.
    """

    def __init__(self, tap: CaptureQueue, on_receipt: Callable[[CapturedReceipt], None]) -> None:
        self._tap = tap
        self._on_receipt = on_receipt
        self._readers: dict[int, ReceiptReader] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ReceiptWorker:
        self._thread = threading.Thread(target=self._run, name="receipt-reader", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Reads what is already queued, then ends the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def handle(self, chunk: Chunk) -> None:
        """One chunk, on the caller's thread (the worker's loop, or a test driving it directly)."""
        reader = self._readers.setdefault(chunk.stream, ReceiptReader())
        if chunk.lost:
            self._deliver(reader.finish(), f"{chunk.lost} bytes of print data lost: the box fell behind")
            reader = self._readers[chunk.stream] = ReceiptReader()
        if chunk.data is None:
            self._deliver(reader.finish())
            del self._readers[chunk.stream]
            return
        for receipt in reader.feed(chunk.data):
            self._deliver(receipt)

    def _run(self) -> None:
        """Until stopped, and then until what is queued has been read (the last receipts count too)."""
        while True:
            chunk = self._tap.take(timeout=0 if self._stop.is_set() else 0.2)
            if chunk is not None:
                self.handle(chunk)
            elif self._stop.is_set():
                return

    def _deliver(self, receipt: CapturedReceipt | None, problem: str | None = None) -> None:
        if receipt is None:
            return
        if problem is not None:
            receipt = replace(receipt, problems=(*receipt.problems, problem))
        try:
            self._on_receipt(receipt)
        except Exception:
            log.exception("receipt capture: handling a receipt failed; printing is not affected")
