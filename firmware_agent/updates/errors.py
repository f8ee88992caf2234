"""The updater's exceptions, split by what the caller should do next.

`UpdateRejected`: this artifact must never be installed (bad hash, bad signature, malformed); sending it
again will not help. `UpdateDeferred`: not now (a sale is being scanned, a backlog is draining, another
update runs); the same request may succeed later. `DownloadError`: the artifact could not be fetched.
"""

from __future__ import annotations

from firmware_agent.errors import AgentError


class UpdateError(AgentError):
    """Root of every error the updater raises on purpose; nothing was switched when one escapes."""


class UpdateRejected(UpdateError):
    """The artifact or the request is bad; retrying it unchanged is pointless."""


class ChecksumMismatch(UpdateRejected):
    """The bytes received are not the ones the sha256 of the request names."""


class BadSignature(UpdateRejected):
    """No trusted key signed this sha256: the artifact is not an official release."""


class UpdateDeferred(UpdateError):
    """The box is busy (a sale, a backlog, another update); the same request may be sent again later."""


class DownloadError(UpdateError):
    """The artifact could not be fetched (network, HTTP status, disk): nothing was installed."""
