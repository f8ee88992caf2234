"""The tables of a provisioning file that set up the operating system rather than the agent.

`[wifi]` and `[system]` are not agent config (the agent's schema would reject them as unknown keys): the
first-boot command takes them out of the file, checks them like the rest, and writes what NetworkManager and
the C library read, under a root that tests point at a temporary folder.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_agent.config import InvalidConfig, Problem
from firmware_agent.config.atomic import atomic_write, fsync_dir

HOST_TABLES = ("wifi", "system")
WIFI_KEYFILE = Path("etc/NetworkManager/system-connections/tillbridge-wifi.nmconnection")
ZONEINFO = Path("usr/share/zoneinfo")
# One connection id whatever the SSID, so a second provisioning replaces the first instead of adding one.
WIFI_UUID = uuid.uuid5(uuid.NAMESPACE_URL, "tillbridge:wifi")

_TIMEZONE = re.compile(r"[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*")
_COUNTRY = re.compile(r"[A-Z]{2}")
_HEX_PSK = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class Wifi:
    ssid: str
    password: str | None = None  # None: an open network
    country: str | None = None
    hidden: bool = False

    def __repr__(self) -> str:  # the password never reaches a log line
        return f"Wifi(ssid={self.ssid!r}, country={self.country!r}, hidden={self.hidden})"


@dataclass(frozen=True)
class HostSettings:
    wifi: Wifi | None = None
    timezone: str | None = None


def split_host_tables(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the host tables, everything else) of a provisioning file."""
    host = {k: v for k, v in data.items() if k in HOST_TABLES}
    return host, {k: v for k, v in data.items() if k not in HOST_TABLES}


def parse_host(data: Mapping[str, Any], file: str, root: Path) -> HostSettings:
    """The settings, or an `InvalidConfig` naming every bad key; the time zone must exist under `root`."""
    problems = [Problem(path, message, file) for path, message in _problems(data, root)]
    if problems:
        raise InvalidConfig(problems)
    wifi, system = data.get("wifi"), data.get("system", {})
    return HostSettings(
        wifi=None if wifi is None else Wifi(**wifi),
        timezone=system.get("timezone"),
    )


def _problems(data: Mapping[str, Any], root: Path) -> Iterator[tuple[tuple[str, ...], str]]:
    checks: dict[str, dict[str, Callable[[Any], str | None]]] = {
        "wifi": {"ssid": _ssid, "password": _password, "country": _country, "hidden": _boolean},
        "system": {"timezone": lambda tz: _timezone(tz, root)},
    }
    for table, keys in checks.items():
        section = data.get(table)
        if section is None:
            continue
        if not isinstance(section, Mapping):
            yield (table,), "must be a table"
            continue
        if table == "wifi" and "ssid" not in section:
            yield (table, "ssid"), "missing: the name of the Wi-Fi network"
        for key, value in section.items():
            check = keys.get(key)
            reason = f"unknown key (known: {', '.join(keys)})" if check is None else check(value)
            if reason:
                yield (table, key), reason


def _ssid(value: Any) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value.encode()) <= 32:
        return "must be a string of 1 to 32 bytes"
    return "must not contain control characters" if _has_control(value) else None


def _password(value: Any) -> str | None:
    """WPA2/WPA3-Personal: a passphrase of 8-63 printable ASCII characters, or the 64-hex-digit key."""
    if not isinstance(value, str):
        return "must be a string"
    if _HEX_PSK.fullmatch(value) or (8 <= len(value) <= 63 and value.isascii() and value.isprintable()):
        return None
    return "must be 8 to 63 printable ASCII characters, or 64 hex digits"


def _country(value: Any) -> str | None:
    ok = isinstance(value, str) and _COUNTRY.fullmatch(value)
    return None if ok else "must be a two-letter country code in capitals, such as ES or GB"


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _timezone(value: Any, root: Path) -> str | None:
    if not isinstance(value, str) or not _TIMEZONE.fullmatch(value):
        return "must be a time zone name such as Europe/Madrid"
    return None if (root / ZONEINFO / value).is_file() else f"unknown time zone {value!r}"


def _has_control(text: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def apply_host(settings: HostSettings, root: Path) -> list[str]:
    """Write the settings under `root`; returns one line per thing done, for the journal."""
    done: list[str] = []
    if settings.wifi is not None:
        done += write_wifi(settings.wifi, root)
    if settings.timezone is not None:
        set_timezone(settings.timezone, root)
        done.append(f"time zone set to {settings.timezone}")
    return done


def write_wifi(wifi: Wifi, root: Path) -> list[str]:
    """A NetworkManager keyfile (root-owned, mode 0600, or NetworkManager ignores it)."""
    path = root / WIFI_KEYFILE
    atomic_write(path, nm_keyfile(wifi), default_mode=0o600)
    path.chmod(0o600)
    done = [f"Wi-Fi network {wifi.ssid!r} written to {path}"]
    if wifi.country is not None:
        done.append(set_wifi_country(wifi.country, root))
    return done


def nm_keyfile(wifi: Wifi) -> str:
    lines = ["[connection]", "id=tillbridge-wifi", f"uuid={WIFI_UUID}", "type=wifi", "autoconnect=true", ""]
    lines += ["[wifi]", "mode=infrastructure", f"ssid={_keyfile_string(wifi.ssid)}"]
    lines += ["hidden=true", ""] if wifi.hidden else [""]
    if wifi.password is not None:
        lines += ["[wifi-security]", "key-mgmt=wpa-psk", f"psk={_keyfile_string(wifi.password)}", ""]
    lines += ["[ipv4]", "method=auto", "", "[ipv6]", "method=auto", ""]
    return "\n".join(lines)


def _keyfile_string(value: str) -> str:
    """GKeyFile string escaping: backslash, and a leading space that the parser would otherwise strip."""
    escaped = value.replace("\\", "\\\\")
    return "\\s" + escaped[1:] if escaped.startswith(" ") else escaped


def set_wifi_country(country: str, root: Path) -> str:
    """Raspberry Pi OS keeps Wi-Fi blocked until a regulatory country is set; raspi-config sets it for good.

    Elsewhere (plain Debian, a test root) there is no such tool and the line says so.
    """
    tool = shutil.which("raspi-config")
    if root != Path("/") or tool is None:
        return f"Wi-Fi country {country} not set: no raspi-config on this system"
    try:
        done = subprocess.run([tool, "nonint", "do_wifi_country", country], check=False, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"Wi-Fi country {country} not set: raspi-config failed ({exc})"
    if done.returncode != 0:
        return f"Wi-Fi country {country} not set: raspi-config exited with {done.returncode}"
    return f"Wi-Fi country set to {country}"


def set_timezone(name: str, root: Path) -> None:
    """What `timedatectl set-timezone` writes, without needing D-Bus this early in the boot."""
    etc = root / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    link = etc / "localtime"
    tmp = etc / ".localtime.tillbridge.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(Path("/") / ZONEINFO / name)
    tmp.replace(link)
    atomic_write(etc / "timezone", f"{name}\n", default_mode=0o644)
    fsync_dir(etc)
