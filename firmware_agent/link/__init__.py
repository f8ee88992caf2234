"""The box's MQTT link to the cloud and remote support (wire contract v1, paho-mqtt 2.x, MQTT v5).

Public surface:
- `build_link(config, config_path=None) -> Link | None`: the link service (None without `[mqtt]`);
  hand it to `AgentSettings.services`. `config_path` is the file `config.set` edits (without it, that
  command is refused).
- `Link`: the `Service` (`start(core)`, `stop()`); `link.connected`, `link.ready` (an Event).
- `record_printed(store, job_id)`: for the print worker, on the core loop, after a job printed: journals
  `order_printed` for an order's first ticket.
- `Drain`, `CatalogSync`: the sans-IO state machines, for tests and the curious.

Only `client.py` imports paho.
"""

from __future__ import annotations

from pathlib import Path

from firmware_agent.config import AgentConfig
from firmware_agent.link.catalog import CatalogSync
from firmware_agent.link.drain import UNSENDABLE, Batch, Drain, Fetch
from firmware_agent.link.service import AUDIT_NAME, Link
from firmware_agent.store.orders import record_printed


def build_link(config: AgentConfig, config_path: Path | None = None) -> Link | None:
    return None if config.mqtt is None else Link(config, config_path)


__all__ = [
    "AUDIT_NAME",
    "UNSENDABLE",
    "Batch",
    "CatalogSync",
    "Drain",
    "Fetch",
    "Link",
    "build_link",
    "record_printed",
]
