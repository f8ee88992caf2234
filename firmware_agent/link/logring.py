"""The last log lines in memory, for support's `logs` command: journald stays the full record on the box."""

from __future__ import annotations

import logging
import threading
from collections import deque

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RingLog(logging.Handler):
    """Keeps the last `capacity` formatted records; `lines()` filters them by level."""

    def __init__(self, capacity: int = 2000) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter(FORMAT))
        self._records: deque[tuple[int, str]] = deque(maxlen=capacity)
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a broken log call must not break whoever logged
            line = f"{record.levelname} {record.name}: {record.msg!r} (unformattable)"
        with self._guard:
            self._records.append((record.levelno, line))

    def lines(self, count: int, level: str = "debug") -> list[str]:
        """The last `count` lines at `level` or above, oldest first."""
        floor = LEVELS[level]
        with self._guard:
            chosen = [line for levelno, line in self._records if levelno >= floor]
        return chosen[-count:] if count > 0 else []
