"""The agent's exception tree. Messages name the file, the key or the device, so a log line is enough."""

from __future__ import annotations


class AgentError(Exception):
    """Root of every error the box daemon raises on purpose."""


class ConfigError(AgentError):
    """The configuration is invalid: the message names the file and the key."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        where = ": ".join(part for part in (file, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class StoreError(AgentError):
    """The offline store cannot be opened, migrated or written."""


class StoreTooNewError(StoreError):
    """The database was written by a newer release; refusing it keeps that release's data intact."""


class StoreFullError(StoreError):
    """The journal reached its configured size bound; new facts cannot be recorded."""


class DiskFullError(StoreError):
    """The data partition has no room left: what was being recorded was rolled back, nothing else."""


class StoreUnavailable(StoreError):
    """The store cannot be opened for a reason that is not its content (a read-only folder, permissions):
    it is left exactly as it is, never moved aside as if it were corrupt."""
