"""What the link needs from the box's config, in the link's own terms."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

from firmware_agent.config import AgentConfig, config_hash
from firmware_agent.config.schema import MqttConfig
from firmware_agent.link.client import ClientOptions


@dataclass(frozen=True)
class LinkSettings:
    shop: str
    box: str
    data_dir: Path
    client: ClientOptions
    batch_entries: int
    batch_bytes: int
    inflight_batches: int
    ack_timeout_s: float
    telemetry_s: float
    order_ttl_s: float
    command_key: bytes | None
    require_signed: bool
    command_window_s: float
    config_revert_s: float
    version: str
    config_hash: str


def link_settings(config: AgentConfig) -> LinkSettings | None:
    mqtt = config.mqtt
    if mqtt is None:
        return None
    return LinkSettings(
        shop=config.box.shop,
        box=config.box.id,
        data_dir=config.box.data_dir,
        client=client_options(mqtt, config.box.id),
        batch_entries=mqtt.batch_entries,
        batch_bytes=mqtt.batch_kb * 1024,
        inflight_batches=mqtt.inflight_batches,
        ack_timeout_s=mqtt.ack_timeout_s,
        telemetry_s=mqtt.telemetry_s,
        order_ttl_s=mqtt.order_ttl_h * 3600,
        command_key=mqtt.command_key.reveal().encode() if mqtt.command_key else None,
        require_signed=mqtt.require_signed_commands,
        command_window_s=mqtt.command_window_s,
        config_revert_s=mqtt.config_revert_s,
        version=software_version(),
        config_hash=config_hash(config),
    )


def client_options(mqtt: MqttConfig, box_id: str) -> ClientOptions:
    parts = urlsplit(mqtt.url)
    tls = parts.scheme == "mqtts"
    return ClientOptions(
        host=parts.hostname or "",
        port=parts.port or (8883 if tls else 1883),
        client_id=mqtt.client_id or box_id,
        tls=tls,
        ca_file=str(mqtt.ca_file) if mqtt.ca_file else None,
        cert_file=str(mqtt.cert_file) if mqtt.cert_file else None,
        key_file=str(mqtt.key_file) if mqtt.key_file else None,
        username=mqtt.username or box_id,
        password=mqtt.password.reveal() if mqtt.password else None,
        keepalive_s=mqtt.keepalive_s,
        session_expiry_s=round(mqtt.session_expiry_h * 3600),
        reconnect_min_s=mqtt.reconnect_min_s,
        reconnect_max_s=mqtt.reconnect_max_s,
    )


def software_version() -> str:
    try:
        return metadata.version("tillbridge")
    except metadata.PackageNotFoundError:
        return "unknown"
