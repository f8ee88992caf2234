"""The wire contract's exception tree."""

from __future__ import annotations


class WireError(Exception):
    """Root of every error the wire contract raises: a message or topic that does not follow v1."""
