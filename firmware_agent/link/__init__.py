"""The box's MQTT link to the cloud and remote support (wire contract v1, paho-mqtt 2.x, MQTT v5).

Public surface:
- `build_link(config, config_path=None) -> Link | None`: the link service (None without `[mqtt]`);
  hand it to `AgentSettings.services`. `config_path` is the file `config.set` edits (without it, that
  command is refused).
- `Link`: the `Service` (`start(core)`, `stop()`); `link.connected`, `link.ready` (an Event).
- `on_order_printed(store, job)`: the print worker's hook (`PrintService.on_printed["order"]`); it journals
  `order_printed` once per order (`record_printed(store, job_id)` underneath).
- `Drain`, `CatalogSync`: the sans-IO state machines, for tests and the curious.

Only `client.py` imports paho; the rest of the link reaches MQTT through `mqttport.py`. The parts import
downwards only (docs/architecture.md, "The box's MQTT link").
"""

from __future__ import annotations

from pathlib import Path

from firmware_agent.config import AgentConfig
from firmware_agent.link.catalog import CatalogSync
from firmware_agent.link.drain import UNSENDABLE, Batch, Drain, Fetch
from firmware_agent.link.service import AUDIT_NAME, Link
from firmware_agent.store.orders import on_order_printed, record_printed


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
    "on_order_printed",
    "record_printed",
]
