"""`bridge check-config` beyond the file's syntax: everything `bridge run` opens at start, opened the same way
and closed again, so a check that passes means the service starts (and a failed one names what to fix).

Nothing is created or kept: the database is reached but not written (`check_reachable`), the broker's TLS
files are loaded into a throwaway context, the webhook address is bound and released.
"""

from __future__ import annotations

import socket
import ssl

from cloud_bridge.config import BridgeConfig
from cloud_bridge.db import check_reachable
from cloud_bridge.errors import BridgeConfigError


def check_openable(config: BridgeConfig, file: str = "") -> None:
    """Raises `BridgeDatabaseError` for the database, `BridgeConfigError` listing every other problem."""
    check_reachable(config.database_url.reveal())
    prefix = f"{file}: " if file else ""
    problems = [f"{prefix}{key}: {problem}" for key, problem in _tls_problems(config)]
    if config.webhook_listen is not None and (problem := _bind_problem(config.webhook_listen)):
        problems.append(f"{prefix}bridge.webhook_listen: {problem}")
    if problems:
        raise BridgeConfigError(problems)


def _tls_problems(config: BridgeConfig) -> list[tuple[str, str]]:
    """The broker's TLS files as paho loads them (`tls_set`): readable, a CA, a certificate and its key."""
    broker = config.broker
    found: list[tuple[str, str]] = []
    for name, path in broker.files():
        try:
            path.open("rb").close()
        except OSError as exc:
            found.append((f"broker.{name}", f"{path}: cannot read: {exc.strerror or exc}"))
    if found or not broker.tls:
        return found
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if broker.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(broker.ca_file))
        except ssl.SSLError as exc:
            found.append(("broker.ca_file", f"{broker.ca_file}: not a CA certificate (PEM): {exc.reason}"))
    if broker.cert_file is not None and broker.key_file is not None:
        try:
            context.load_cert_chain(str(broker.cert_file), str(broker.key_file), password=_no_password)
        except (ssl.SSLError, _EncryptedKey) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            found.append(("broker.cert_file", f"{broker.cert_file} with {broker.key_file}: {reason}"))
    return found


class _EncryptedKey(Exception):
    pass


def _no_password() -> str:
    """paho loads the key without a password: an encrypted key would stop `bridge run` at a prompt."""
    raise _EncryptedKey("the key is encrypted (the bridge cannot type its password)")


def _bind_problem(listen: str) -> str | None:
    host, _, port = listen.rpartition(":")
    try:
        infos = socket.getaddrinfo(host.strip("[]"), int(port), type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"{host} is not an address of this host: {exc.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the webhook server binds
        try:
            probe.bind(address)
        except OSError as exc:
            return f"cannot listen there: {exc.strerror or exc}"
    return None
