"""Fixtures shared by every test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# Property tests check behaviour, not speed: on a loaded machine (CI beside other jobs, a Pi) an example may
# take long, and that is no failure. Each test still sets its own number of examples.
settings.register_profile("tillbridge", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tillbridge")


class _FormatCheckingHandler(logging.Handler):
    """Formats every record, so a log call whose arguments do not match its format string fails the test."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.broken: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.getMessage()
        except (TypeError, ValueError) as exc:
            self.broken.append(f"{record.pathname}:{record.lineno}: {record.msg!r} {record.args!r}: {exc}")


@pytest.fixture(autouse=True)
def _fail_on_bad_log_calls() -> Iterator[None]:
    handler = _FormatCheckingHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert not handler.broken, "badly formatted log calls:\n" + "\n".join(handler.broken)
