"""The bridge's TOML config: the broker, the database, timings, and the shops with their boxes.

Declared like the box's own config, with the same validator (`configspec`): one frozen dataclass per table,
every problem reported at once, each line naming the file and the key (`bridge.toml: shop[1].id: missing
(required)`), unknown keys are errors. Secrets are typed: the broker password and `pickup_secret` are
`Secret`s, the database URL a `SecretUrl` (shown with its password masked), a shop's credentials a
`SecretTable`; none of them shows its value in a message, a log line or a repr.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from cloud_bridge.errors import BridgeConfigError
from configspec import (
    ConfigFileError,
    KeyPath,
    Secret,
    SecretTable,
    SecretUrl,
    Section,
    build,
    mask_url,
    rule,
)
from configspec.rules import (
    at_least,
    between,
    host_port,
    http_url,
    ident,
    mqtt_url,
    nonempty,
    not_negative,
    one_of,
    positive,
)

PLATFORMS: Final = ("woocommerce", "prestashop", "shopify", "oscar", "magento")
DEFAULT_CONFIG_PATH: Final = Path("/etc/tillbridge/bridge.toml")
DEFAULT_DATABASE: Final = "sqlite:////var/lib/tillbridge/bridge.db"
_DEFAULT_DATABASE_URL: Final = SecretUrl(DEFAULT_DATABASE)

__all__ = ["mask_url"]  # db.py masks the URLs it logs with it


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}".lower().replace("_", "-").replace(".", "-")[:64]


def _database_url(value: SecretUrl) -> str | None:
    url = value.reveal()
    parts = urlsplit(url)
    if parts.scheme == "sqlite" and url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return None
    if parts.scheme in ("postgresql", "postgres") and parts.hostname and parts.path.strip("/"):
        return None
    return "is not sqlite:///PATH or postgresql://[user@]host[:port]/database"


def _secret_nonempty(value: Secret) -> str | None:
    return None if value.reveal() else "must not be empty (leave the key out for a random key)"


@dataclass(frozen=True, kw_only=True)
class BrokerConfig(Section):
    """[broker]: the MQTT broker the boxes publish to."""

    url: str = field(default="mqtt://127.0.0.1:1883", metadata=rule(mqtt_url))
    username: str | None = field(default=None, metadata=rule(nonempty))
    password: Secret | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = field(default=30, metadata=rule(positive))

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (8883 if self.tls else 1883)

    def files(self) -> Iterator[tuple[str, Path]]:
        """The TLS files `bridge run` opens (with an mqtts:// url)."""
        for name in ("ca_file", "cert_file", "key_file"):
            path = getattr(self, name)
            if path is not None:
                yield name, path

    def problems(self) -> Iterator[tuple[str | KeyPath, str]]:
        for name, _ in self.files():
            if not self.tls:
                yield name, "is only used with an mqtts:// url"
        if (self.cert_file is None) != (self.key_file is None):
            yield "key_file" if self.key_file is None else "cert_file", "set cert_file and key_file together"


@dataclass(frozen=True, kw_only=True)
class Timing(Section):
    """[timing]: seconds between the periodic jobs of the shop loop."""

    poll_s: float = field(default=1.0, metadata=rule(positive))  # pending writes and outbound messages
    orders_s: float = field(default=10.0, metadata=rule(positive))  # the orders feed (a webhook: at once)
    products_s: float = field(default=60.0, metadata=rule(positive))  # product and price changes
    reconcile_s: float = field(default=900.0, metadata=rule(positive))  # the shop compared with the ledger
    parked_retry_s: float = field(default=300.0, metadata=rule(positive))  # refused credentials: try again
    shop_timeout_s: float = field(default=15.0, metadata=rule(positive))  # one HTTP request to a shop
    retry_attempts: int = field(default=5, metadata=rule(positive))  # per shop request, the first included
    retry_base_s: float = field(default=0.5, metadata=rule(positive))
    retry_max_s: float = field(default=30.0, metadata=rule(positive))
    orders_resend_s: float = field(default=30.0, metadata=rule(positive))  # an order a box has not acked
    history_days: float = field(default=90.0, metadata=rule(positive))  # settled history kept row by row


@dataclass(frozen=True)
class ShopConfig(Section):
    """[[shop]]: one online shop and the boxes of its stores. Positional, as the tests build it."""

    id: str = field(metadata=rule(ident))
    platform: str = field(metadata=rule(one_of(PLATFORMS)))
    base_url: str = field(metadata=rule(http_url))
    boxes: tuple[str, ...] = field(default=(), metadata=rule(each=ident))
    # the platform's keys (docs/shops.md), checked by its connector; every value is secret
    credentials: Mapping[str, Any] = field(default_factory=SecretTable, metadata=rule(secret=True))
    safety_buffer: int = field(default=0, metadata=rule(not_negative))
    catalog: Mapping[str, Any] = field(default_factory=dict)  # where the shop keeps barcodes and units
    orders_box: str | None = field(default=None, metadata=rule(ident))  # prints tickets; None: the first box
    # the holder offline this long: its unprinted tickets go to another box
    orders_failover_s: float = field(default=120.0, metadata=rule(at_least(5)))
    pickup_key_id: int = field(default=1, metadata=rule(positive))  # raise it to rotate the shop's pickup key
    # stock changes wait this long to reach the shop together (`cloud_bridge.shopplan`); 0: at every pass
    write_window_s: float = field(default=10.0, metadata=rule(between(0, 3600)))
    # a changed sku at or below this many available units is written at once, whatever the window
    low_stock: int = field(default=2, metadata=rule(not_negative))
    # the language of what the shop tells the customer about their order (docs/orders.md)
    language: str = field(default="es", metadata=rule(one_of(("es", "en"))))

    def __post_init__(self) -> None:
        if not isinstance(self.credentials, SecretTable):  # built in code from a plain dict
            object.__setattr__(self, "credentials", SecretTable(self.credentials))

    @property
    def orders_holder(self) -> str | None:
        return self.orders_box or (self.boxes[0] if self.boxes else None)

    def connector_settings(self) -> dict[str, Any]:
        """What `cloud_bridge.connectors.make_connector` takes: the base URL, the platform's keys and the
        catalog settings ([shop.catalog]: barcode_meta, unit_meta, unit_field, unit_metafield).
        """
        return {"base_url": self.base_url, **self.credentials, **self.catalog}

    def problems(self) -> Iterator[tuple[str | KeyPath, str]]:
        twice = sorted({box for box in self.boxes if self.boxes.count(box) > 1})
        if twice:
            yield "boxes", f"lists {', '.join(map(repr, twice))} twice"
        if self.orders_box is not None and self.orders_box not in self.boxes:
            yield "orders_box", f"{self.orders_box!r} is not one of this shop's boxes"


@dataclass(frozen=True, kw_only=True)
class BridgeTable(Section):
    """[bridge]: this worker."""

    worker_id: str = field(default_factory=default_worker_id, metadata=rule(ident))
    group: str = field(default="bridge", metadata=rule(ident))  # the shared-subscription group
    pickup_secret: Secret | None = field(default=None, metadata=rule(_secret_nonempty))
    webhook_listen: str | None = field(default=None, metadata=rule(host_port))  # "127.0.0.1:8088"


@dataclass(frozen=True, kw_only=True)
class DatabaseTable(Section):
    """[database]"""

    url: SecretUrl = field(default=_DEFAULT_DATABASE_URL, metadata=rule(_database_url))


@dataclass(frozen=True, kw_only=True)
class BridgeFile(Section):
    """bridge.toml as written: its tables. `BridgeConfig` is what the bridge's code receives."""

    bridge: BridgeTable = field(default_factory=BridgeTable)
    database: DatabaseTable = DatabaseTable()
    broker: BrokerConfig = BrokerConfig()
    timing: Timing = Timing()
    shop: tuple[ShopConfig, ...] = field(default=(), metadata=rule(unique="id"))

    def problems(self) -> Iterator[tuple[str | KeyPath, str]]:
        owner: dict[str, str] = {}
        for index, shop in enumerate(self.shop):
            for box in shop.boxes:
                if box in owner and owner[box] != shop.id:
                    yield ("shop", index, "boxes"), f"box {box!r} is already listed for shop {owner[box]!r}"
                owner.setdefault(box, shop.id)


@dataclass(frozen=True)
class BridgeConfig:
    worker_id: str
    group: str = "bridge"
    database_url: SecretUrl = _DEFAULT_DATABASE_URL
    pickup_secret: Secret | None = None  # None: a random key kept in the database
    webhook_listen: str | None = None  # "127.0.0.1:8088": serve shop webhooks here
    broker: BrokerConfig = BrokerConfig()
    timing: Timing = Timing()
    shops: tuple[ShopConfig, ...] = ()

    def shop(self, shop_id: str) -> ShopConfig | None:
        return next((shop for shop in self.shops if shop.id == shop_id), None)

    @property
    def database_shown(self) -> str:
        """The database URL with any password masked, for logs and `bridge status`."""
        return self.database_url.shown()


# --- loading -------------------------------------------------------------------------------------------


def load_config(path: Path) -> BridgeConfig:
    """The config in `path`, or `BridgeConfigError` listing every problem."""
    from configspec import read_toml

    try:
        data = read_toml(path)
    except ConfigFileError as exc:
        raise BridgeConfigError([str(exc.problem)]) from exc
    return parse_config(data, str(path))


def parse_config(data: Mapping[str, Any], file: str = "bridge.toml") -> BridgeConfig:
    built, problems = build(BridgeFile, data)
    if built is None:
        raise BridgeConfigError([str(replace(p, file=file)) for p in problems])
    return BridgeConfig(
        worker_id=built.bridge.worker_id,
        group=built.bridge.group,
        database_url=built.database.url,
        pickup_secret=built.bridge.pickup_secret,
        webhook_listen=built.bridge.webhook_listen,
        broker=built.broker,
        timing=built.timing,
        shops=built.shop,
    )
