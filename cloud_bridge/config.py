"""The bridge's TOML config: the broker, the database, timings, and the shops with their boxes.

Every problem is collected and reported at once, each line naming the file and the key, like the box's own
config. Unknown keys are errors, so a typo is reported instead of silently ignored. Secrets (the broker
password, shop credentials, a password inside the database URL) never appear in a message or a repr.
"""

from __future__ import annotations

import os
import socket
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from cloud_bridge.errors import BridgeConfigError
from wire import BadTopic, check_id
from wire.secret import Secret

PLATFORMS: Final = ("woocommerce", "prestashop", "shopify")
DEFAULT_CONFIG_PATH: Final = Path("/etc/tillbridge/bridge.toml")
DEFAULT_DATABASE: Final = "sqlite:////var/lib/tillbridge/bridge.db"
_SECRET_WORDS: Final = ("secret", "password", "token", "key")


@dataclass(frozen=True)
class BrokerConfig:
    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: Secret | None = None  # never printed: repr, str and messages show ***
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = 30

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (8883 if self.tls else 1883)


@dataclass(frozen=True)
class Timing:
    """Seconds between the periodic jobs of the shop loop."""

    poll_s: float = 1.0  # pending writes and outbound messages (a new movement wakes the loop earlier)
    orders_s: float = 10.0  # the orders feed (a webhook makes it due at once)
    products_s: float = 60.0  # product and price changes
    reconcile_s: float = 900.0  # full comparison of the shop with the ledger
    parked_retry_s: float = 300.0  # a shop whose credentials were refused is tried again this late
    shop_timeout_s: float = 15.0  # one HTTP request to a shop
    retry_attempts: int = 5  # per shop request, the first try included
    retry_base_s: float = 0.5
    retry_max_s: float = 30.0
    orders_resend_s: float = 30.0  # an order a box has not acked is sent again this late
    history_days: float = 90.0  # settled movements older than this are folded into the balances


@dataclass(frozen=True)
class ShopConfig:
    id: str
    platform: str
    base_url: str
    boxes: tuple[str, ...]
    credentials: Mapping[str, Any] = field(default_factory=dict, repr=False)
    safety_buffer: int = 0
    catalog: Mapping[str, Any] = field(default_factory=dict)  # where the shop keeps barcodes and units
    orders_box: str | None = None  # the box holding the `orders` role (prints tickets); None: the first box
    orders_failover_s: float = 120.0  # the holder offline this long: its unprinted tickets go to another box
    pickup_key_id: int = 1  # the shop's current pickup key number (raise it to rotate the key)

    @property
    def orders_holder(self) -> str | None:
        return self.orders_box or (self.boxes[0] if self.boxes else None)

    def connector_settings(self) -> dict[str, Any]:
        """What `cloud_bridge.connectors.make_connector` takes: the base URL, the platform's keys and the
        catalog settings ([shop.catalog]: barcode_meta, unit_meta, unit_field, unit_metafield).
        """
        return {"base_url": self.base_url, **self.credentials, **self.catalog}


@dataclass(frozen=True)
class BridgeConfig:
    worker_id: str
    group: str = "bridge"
    database_url: str = field(default=DEFAULT_DATABASE, repr=False)
    pickup_secret: str = field(default="", repr=False)
    webhook_listen: str | None = None  # "127.0.0.1:8088": serve shop webhooks here
    broker: BrokerConfig = BrokerConfig()
    timing: Timing = Timing()
    shops: tuple[ShopConfig, ...] = ()

    def shop(self, shop_id: str) -> ShopConfig | None:
        return next((shop for shop in self.shops if shop.id == shop_id), None)

    @property
    def database_shown(self) -> str:
        """The database URL with any password masked, for logs and `bridge status`."""
        return mask_url(self.database_url)


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}".lower().replace("_", "-").replace(".", "-")[:64]


# --- loading -------------------------------------------------------------------------------------------


def load_config(path: Path) -> BridgeConfig:
    """The config in `path`, or `BridgeConfigError` listing every problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BridgeConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BridgeConfigError([f"{path}: invalid TOML: {exc}"]) from exc
    return parse_config(data, str(path))


def parse_config(data: Mapping[str, Any], file: str = "bridge.toml") -> BridgeConfig:
    problems: list[str] = []
    top = _Table(data, "", file, problems)
    bridge, database = top.table("bridge"), top.table("database")
    worker_id = bridge.get("worker_id", str, default_worker_id(), check=_id)
    group = bridge.get("group", str, "bridge", check=_id)
    pickup_secret = bridge.get("pickup_secret", str, "")
    webhook_listen = bridge.get("webhook_listen", str, None, check=_host_port)
    bridge.done()
    database_url = database.get("url", str, DEFAULT_DATABASE, check=_database_url)
    database.done()
    broker = _broker(top.table("broker"))
    timing = _timing(top.table("timing"))
    shops = [_shop(t) for t in top.tables("shop")]
    top.done()
    _cross_checks(top, shops)
    config = BridgeConfig(
        worker_id=worker_id,
        group=group,
        database_url=database_url,
        pickup_secret=pickup_secret,
        webhook_listen=webhook_listen,
        broker=broker,
        timing=timing,
        shops=tuple(s for s in shops if s is not None),
    )
    if problems:
        raise BridgeConfigError(problems)
    return config


def _secret(value: str | None) -> Secret | None:
    return None if value is None else Secret(value)


def _broker(t: _Table) -> BrokerConfig:
    broker = BrokerConfig(
        url=t.get("url", str, BrokerConfig.url, check=_broker_url),
        username=t.get("username", str, None),
        password=_secret(t.get("password", str, None)),
        ca_file=t.get("ca_file", Path, None),
        cert_file=t.get("cert_file", Path, None),
        key_file=t.get("key_file", Path, None),
        keepalive_s=t.get("keepalive_s", int, 30, check=_positive),
    )
    if (broker.cert_file is None) != (broker.key_file is None):
        t.problem("cert_file", "set together with key_file (a client certificate needs its key)")
    t.done()
    return broker


def _timing(t: _Table) -> Timing:
    base = Timing()
    values = {
        name: t.get(name, type(getattr(base, name)), getattr(base, name), check=_positive)
        for name in Timing.__dataclass_fields__
    }
    t.done()
    return Timing(**values)


def _shop(t: _Table) -> ShopConfig | None:
    shop_id = t.get("id", str, None, required=True, check=_id)
    platform = t.get("platform", str, None, required=True, check=_choice(PLATFORMS))
    base_url = t.get("base_url", str, None, required=True, check=_http_url)
    boxes = t.get("boxes", list, [], check=_box_list)
    buffer = t.get("safety_buffer", int, 0, check=_not_negative)
    credentials = t.table("credentials", secret=True)
    creds = dict(credentials.data)
    credentials.done(allow_any=True)
    orders_box = t.get("orders_box", str, None, check=_id)
    failover = t.get("orders_failover_s", float, 120.0, check=_at_least(5.0))
    key_id = t.get("pickup_key_id", int, 1, check=_positive)
    catalog = t.table("catalog")
    settings = dict(catalog.data)
    catalog.done(allow_any=True)
    if orders_box is not None and orders_box not in boxes:
        t.problem("orders_box", f"{orders_box!r} is not one of this shop's boxes")
    t.done()
    if shop_id is None:
        return None
    return ShopConfig(
        shop_id,
        platform or "",
        base_url or "",
        tuple(boxes),
        creds,
        buffer,
        settings,
        orders_box=orders_box,
        orders_failover_s=failover,
        pickup_key_id=key_id,
    )


def _cross_checks(top: _Table, shops: list[ShopConfig | None]) -> None:
    seen_shops: set[str] = set()
    owner: dict[str, str] = {}
    for index, shop in enumerate(shops):
        if shop is None:
            continue
        if shop.id in seen_shops:
            top.problem(f"shop[{index}].id", f"{shop.id!r} is used by another [[shop]]")
        seen_shops.add(shop.id)
        for box in shop.boxes:
            if box in owner:
                top.problem(f"shop[{index}].boxes", f"box {box!r} is already listed for shop {owner[box]!r}")
            owner[box] = shop.id


# --- the reader ------------------------------------------------------------------------------------------

_REQUIRED: Final[Any] = object()
_TYPE_NAMES: Final = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


class _Table:
    """One TOML table: typed reads that record problems under the key's full path, then `done()` to
    report the keys nobody asked for.
    """

    def __init__(
        self, data: object, path: str, file: str, problems: list[str], *, secret: bool = False
    ) -> None:
        self.path, self.file, self.problems, self.secret = path, file, problems, secret
        self.data: dict[str, Any] = {}
        self.used: set[str] = set()
        if isinstance(data, Mapping):
            self.data = dict(data)
        else:
            self.problem("", f"expected a table, got {_kind(data)}")

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path and name else (self.path or name)

    def problem(self, name: str, message: str) -> None:
        self.problems.append(f"{self.file}: {self.key(name)}: {message}")

    def get(
        self,
        name: str,
        kind: type[Any],
        default: Any,
        *,
        required: bool = False,
        check: Callable[[Any], str | None] | None = None,
    ) -> Any:
        self.used.add(name)
        if name not in self.data:
            if required:
                self.problem(name, "missing (required)")
            return default
        value = self.data[name]
        wanted, kind = kind, (str if kind is Path else kind)
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            shown = _kind(value) if self._is_secret(name) else f"{_kind(value)} ({value!r:.60})"
            self.problem(name, f"expected {_TYPE_NAMES.get(kind, kind.__name__)}, got {shown}")
            return default
        problem = check(value) if check else None
        if problem:
            self.problem(name, problem)
            return default
        return Path(value) if wanted is Path else value

    def table(self, name: str, *, secret: bool = False) -> _Table:
        self.used.add(name)
        return _Table(self.data.get(name, {}), self.key(name), self.file, self.problems, secret=secret)

    def tables(self, name: str) -> list[_Table]:
        self.used.add(name)
        items = self.data.get(name, [])
        if not isinstance(items, list):
            self.problem(name, f"expected an array of tables ([[{name}]]), got {_kind(items)}")
            return []
        return [
            _Table(item, f"{self.key(name)}[{i}]", self.file, self.problems) for i, item in enumerate(items)
        ]

    def done(self, *, allow_any: bool = False) -> None:
        if allow_any:
            return
        for name in sorted(set(self.data) - self.used):
            self.problem(name, "unknown key")

    def _is_secret(self, name: str) -> bool:
        return self.secret or any(word in name.lower() for word in _SECRET_WORDS)


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}.get(
        type(value), type(value).__name__
    )


# --- value checks: each returns a problem or None ---------------------------------------------------------


def _id(value: str) -> str | None:
    try:
        check_id("an", value)
    except BadTopic:
        return f"{value!r:.70} is not 1-64 characters of a-z, 0-9 and -"
    return None


def _box_list(value: list[Any]) -> str | None:
    for item in value:
        if not isinstance(item, str) or _id(item):
            return f"{item!r:.70} is not a box id (1-64 characters of a-z, 0-9 and -)"
    if len(set(value)) != len(value):
        return "a box is listed twice"
    return None


def _choice(choices: tuple[str, ...]) -> Callable[[str], str | None]:
    return lambda value: None if value in choices else f"{value!r:.40} is not one of {', '.join(choices)}"


def _positive(value: float) -> str | None:
    return None if value > 0 else f"{value} is not above 0"


def _at_least(low: float) -> Callable[[float], str | None]:
    return lambda value: None if value >= low else f"{value} is below {low:g}"


def _not_negative(value: int) -> str | None:
    return None if value >= 0 else f"{value} is below 0"


def _http_url(value: str) -> str | None:
    parts = urlsplit(value)
    return (
        None
        if parts.scheme in ("http", "https") and parts.hostname
        else f"{value!r:.80} is not an http(s) URL"
    )


def _broker_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        return f"{mask_url(value)!r:.80} is not mqtt://host[:port] or mqtts://host[:port]"
    return None


def _database_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme == "sqlite" and value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
        return None
    if parts.scheme in ("postgresql", "postgres") and parts.hostname and parts.path.strip("/"):
        return None
    return f"{mask_url(value)!r:.80} is not sqlite:///PATH or postgresql://[user@]host[:port]/database"


def _host_port(value: str) -> str | None:
    host, _, port = value.rpartition(":")
    return None if host and port.isdigit() and 0 < int(port) < 65536 else f"{value!r:.60} is not host:port"
