"""The cloud bridge's exception tree."""

from __future__ import annotations


class BridgeError(Exception):
    """Root of every error the cloud bridge raises on purpose."""
