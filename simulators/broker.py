"""A real mosquitto on a free port with a generated config: the broker of the tests, benchmarks and demo.

It is not a fake: the box's link, the ACL file shipped in `systemd/mosquitto/` and TLS are exercised against
the same binary that runs in production. What it adds is a throw-away config (plain, with a password file and
an ACL, with TLS from certificates made on the spot by the `openssl` command), a free port, and `kill()` /
`restart()` on the same port for fault tests. There is no embedded fallback: without a mosquitto binary,
`Broker.start()` raises `BrokerUnavailable` saying how to install it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Self

from simulators.running import Running

START_TIMEOUT_S: Final = 10.0
_READY_LINE: Final = " running"  # "mosquitto version 2.0.11 running"
_SEARCH_PATH: Final = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")
# Found by the dynamic loader in the architecture's library folder (Debian: /usr/lib/<triplet>/), as the
# shipped systemd/mosquitto/mosquitto.conf names it.
DYNSEC_PLUGIN: Final = "mosquitto_dynamic_security.so"


class BrokerError(RuntimeError):
    """The broker could not be set up or did not start; the message holds its last log lines."""


class BrokerUnavailable(BrokerError):
    """There is no mosquitto binary on this machine."""


def find_mosquitto() -> Path:
    found = shutil.which("mosquitto") or next(
        (str(p) for d in _SEARCH_PATH if (p := Path(d) / "mosquitto").exists()), None
    )
    if found is None:
        raise BrokerUnavailable("no mosquitto binary found: install it (apt-get install mosquitto)")
    return Path(found)


def free_port() -> int:
    """A port nobody listens on right now (another process could take it before us: rare, and loud)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:`port` (a moment ago)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class TlsFiles:
    """A private CA, a server certificate for localhost / 127.0.0.1 and one client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_certs(folder: Path, client_name: str = "box-1") -> TlsFiles:
    """Certificates for a test broker, made with the `openssl` command (EC keys: fast, and what a Pi uses)."""
    if shutil.which("openssl") is None:
        raise BrokerUnavailable("no openssl command found: install it (apt-get install openssl)")
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.crt", folder / "ca.key"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=tillbridge test CA",
    )  # fmt: skip
    server = _signed(folder, "server", "localhost", ca, ca_key, "DNS:localhost,IP:127.0.0.1")
    client = _signed(folder, "client", client_name, ca, ca_key, None)
    return TlsFiles(ca, server[0], server[1], client[0], client[1])


def _signed(
    folder: Path, name: str, common_name: str, ca: Path, ca_key: Path, alt_names: str | None
) -> tuple[Path, Path]:
    key, csr, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.crt"
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", csr, "-subj", f"/CN={common_name}",
    )  # fmt: skip
    extra: list[str | Path] = []
    if alt_names:
        ext = folder / f"{name}.ext"
        ext.write_text(f"subjectAltName={alt_names}\n")
        extra = ["-extfile", ext]
    _openssl(
        "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", *extra,
    )  # fmt: skip
    return cert, key


def _openssl(*args: str | Path) -> None:
    done = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BrokerError(f"openssl {args[0]} failed: {done.stderr.strip()[-400:]}")


def password_line(username: str, password: str) -> str:
    """One line of a mosquitto 2.x password file (`$7$`: PBKDF2-SHA512, 101 rounds, as mosquitto_passwd)."""
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 101)
    return f"{username}:$7$101${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@dataclass
class _Run:
    """What one mosquitto process said: its log, and whether it came up."""

    ready: threading.Event = field(default_factory=threading.Event)
    up: bool = False
    lines: list[str] = field(default_factory=list)


def _read_log(process: subprocess.Popen[str], run: _Run) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        run.lines.append(line.rstrip("\n"))
        if line.rstrip().endswith(_READY_LINE) and "version" in line:
            run.up = True
            run.ready.set()
    process.wait()
    run.ready.set()  # it exited: let start() see that instead of waiting out its timeout


class Broker(Running):
    """One mosquitto process with its own folder (config, password file, persistence, log)."""

    def __init__(
        self,
        folder: Path,
        *,
        port: int = 0,
        users: Mapping[str, str] | None = None,
        acl_file: Path | None = None,
        tls: TlsFiles | None = None,
        require_certificate: bool = False,
        persistence: bool = True,
        extra: str = "",
        config: str | None = None,
        dynsec_file: Path | None = None,
    ) -> None:
        """`config` replaces the generated config (its first listener must be on `port`). `dynsec_file`: the
        accounts and ACLs come from this dynamic-security JSON (`tillbridge broker accounts`) instead of
        `users` and `acl_file`."""
        self.folder = folder
        self.port = port or free_port()
        self.users = dict(users or {})
        self.acl_file = acl_file
        self.tls = tls
        self.require_certificate = require_certificate
        self.persistence = persistence
        self.extra = extra
        self.config = config
        self.dynsec_file = dynsec_file
        self._process: subprocess.Popen[str] | None = None
        self._run = _Run()

    @property
    def host(self) -> str:
        return "localhost" if self.tls else "127.0.0.1"

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def config_text(self) -> str:
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'false' if self.users or self.dynsec_file else 'true'}",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "max_inflight_messages 20",
            "set_tcp_nodelay true",
            "max_queued_messages 100000",
        ]
        if os.getuid() == 0:  # as root mosquitto would switch to its own user and lose access to the folder
            lines.append(f"user {pwd.getpwuid(0).pw_name}")
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.folder}/"]
        if self.dynsec_file is not None:
            lines += [f"plugin {DYNSEC_PLUGIN}", f"plugin_opt_config_file {self.dynsec_file.resolve()}"]
        elif self.users:
            lines.append(f"password_file {self.folder / 'passwords'}")
        if self.acl_file is not None:
            lines.append(f"acl_file {self.acl_file.resolve()}")
        if self.tls:
            lines += [
                f"cafile {self.tls.ca}",
                f"certfile {self.tls.server_cert}",
                f"keyfile {self.tls.server_key}",
                f"require_certificate {'true' if self.require_certificate else 'false'}",
            ]
        return "\n".join([*lines, self.extra, ""])

    def start(self) -> Self:
        binary = find_mosquitto()
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.users:
            text = "\n".join(password_line(u, p) for u, p in self.users.items()) + "\n"
            (self.folder / "passwords").write_text(text)
            (self.folder / "passwords").chmod(0o600)
        conf = self.folder / "mosquitto.conf"
        conf.write_text(self.config if self.config is not None else self.config_text())
        self._run = run = _Run()  # this process's own: a reader of the previous one may still be finishing
        self._process = subprocess.Popen(
            [str(binary), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=_read_log, args=(self._process, run), daemon=True).start()
        if not run.ready.wait(START_TIMEOUT_S) or not run.up:
            self.stop()
            raise BrokerError(f"mosquitto did not start on port {self.port}: {self.log_tail()}")
        return self

    def log_tail(self, count: int = 8) -> str:
        return " | ".join(self._run.lines[-count:]) or "(no output)"

    def stop(self) -> None:
        """A clean stop: mosquitto saves its persistence file."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """kill -9: whatever mosquitto had not saved is gone, as after a crash."""
        self._end(signal.SIGKILL)

    def restart(self) -> Broker:
        self.stop()
        return self.start()

    def _end(self, how: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(how)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
