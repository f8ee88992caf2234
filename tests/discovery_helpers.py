"""A fake /sys and /dev laid out as on a Raspberry Pi 4 (symlinks and all), plus pty and TCP peers.

Only what discovery reads is built: the sysfs class/bus symlinks into a devices/ hierarchy, the attributes of
USB devices, interfaces, input devices and ttys, and udev's /dev links (relative, as udev makes them).
"""

from __future__ import annotations

import os
import select
import socket
import threading
from pathlib import Path

from devices.discovery.toledo_probe import with_even_parity

KEYBOARD_KEYS = "1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe"  # a full USB keyboard
KEYBOARD_EV = "120013"  # EV_SYN, EV_KEY, EV_MSC, EV_LED, EV_REP
CONSUMER_KEYS = "1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 3000000 0 0 0 0 0"  # media keys, no digits
CONSUMER_EV = "1b"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def _symlink(link: Path, target: Path) -> None:
    """A relative symlink, as sysfs and udev make them."""
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(target, link.parent))


class FakeBox:
    def __init__(self, root: Path) -> None:
        self.sys = root / "sys"
        self.dev = root / "dev"
        self._hub = self.sys / "devices/platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/0000:01:00.0/usb1"
        self._count = 0
        _write(self._hub / "idVendor", "1d6b")  # the root hub is a USB device too
        _write(self._hub / "idProduct", "0002")

    def usb_device(self, port: str, vid: str, pid: str, manufacturer: str = "", product: str = "") -> Path:
        device = self._hub / port
        attrs = {"idVendor": vid, "idProduct": pid, "manufacturer": manufacturer, "product": product}
        for name, value in attrs.items():
            if value:
                _write(device / name, value)
        return device

    def interface(self, device: Path, number: int = 0, cls: str = "03", driver: str = "") -> Path:
        iface = device / f"{device.name}:1.{number}"
        _write(iface / "bInterfaceClass", cls)
        if driver:
            _symlink(iface / "driver", self.sys / "bus/usb/drivers" / driver)
        _symlink(self.sys / "bus/usb/devices" / iface.name, iface)
        return iface

    def input_node(
        self,
        iface: Path,
        name: str,
        vendor: str,
        keys: str = KEYBOARD_KEYS,
        ev: str = KEYBOARD_EV,
        by_path: str = "",
        by_id: str = "",
    ) -> str:
        """An input device with one event node under a USB HID interface; returns the node's name."""
        self._count += 1
        n = self._count
        input_dir = iface / f"0003:{vendor.upper()}:0001.{n:04X}" / "input" / f"input{n}"
        attrs = {"name": name, "id/vendor": vendor, "capabilities/key": keys, "capabilities/ev": ev}
        for attr, value in attrs.items():
            _write(input_dir / attr, value)
        event = input_dir / f"event{n}"
        _symlink(event / "device", input_dir)
        _symlink(self.sys / "class/input" / event.name, event)
        self._node(f"input/{event.name}", "input", by_path, by_id)
        return event.name

    def usb_tty(self, iface: Path, name: str, driver: str, by_path: str = "", by_id: str = "") -> Path:
        """A USB serial tty: a usb-serial port (ttyUSB*) or, for cdc_acm, the interface itself (ttyACM*)."""
        port = iface / name if name.startswith("ttyUSB") else iface
        if port is not iface:
            _symlink(port / "subsystem", self.sys / "bus/usb-serial")
            _symlink(port / "driver", self.sys / "bus/usb-serial/drivers" / driver)
        tty = port / "tty" / name
        _symlink(tty / "device", port)
        _symlink(self.sys / "class/tty" / name, tty)
        return self._node(name, "serial", by_path, by_id)

    def platform_tty(self, name: str, uart_type: str, console: bool = False) -> None:
        """A serial-core port; `uart_type` "0" is a placeholder 8250 with no UART behind it."""
        ctrl = self.sys / "devices/platform/serial8250/serial8250:0" / f"serial8250:0.{name[-1]}"
        tty = ctrl / "tty" / name
        _write(tty / "type", uart_type)
        _write(tty / "console", "Y" if console else "N")
        _symlink(tty / "device", ctrl)
        _symlink(self.sys / "class/tty" / name, tty)
        self._node(name, "serial", "", "")

    def virtual_tty(self, name: str) -> None:
        tty = self.sys / "devices/virtual/tty" / name
        _write(tty / "dev", "4:0")
        _symlink(self.sys / "class/tty" / name, tty)

    def usblp(self, iface: Path, n: int, ieee1284_id: str) -> Path:
        _write(iface / "ieee1284_id", ieee1284_id)
        lp = iface / "usbmisc" / f"lp{n}"
        _symlink(lp / "device", iface)
        _symlink(self.sys / "class/usbmisc" / lp.name, lp)
        return self._node(f"usb/lp{n}", "", "", "")

    def _node(self, rel: str, links_dir: str, by_path: str, by_id: str) -> Path:
        node = self.dev / rel
        node.parent.mkdir(parents=True, exist_ok=True)
        node.touch()
        for kind, name in (("by-path", by_path), ("by-id", by_id)):
            link = self.dev / links_dir / kind / name
            if name:
                link.unlink(missing_ok=True)  # identical devices: udev's link names the last one, like here
                _symlink(link, node)
        return node


class Pty:
    """A real pseudo-terminal pair; the box side is reached through a fake /dev node symlinked to it."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        self.slave_path = os.ttyname(self._slave)

    def close(self) -> None:
        os.close(self.master)
        os.close(self._slave)


class EchoScale:
    """A Toledo 8217 that answers only the echo probe, and records what the host sent afterwards.

    It speaks 7E1 as a UART would see it on an 8N1 pty: parity arrives in bit 7 and is checked, then
    stripped; replies go out with even parity in bit 7.
    """

    def __init__(self, pty: Pty) -> None:
        self._pty = pty
        self.after_reply = bytearray()
        self.left_echo_mode = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        received = bytearray()
        replied = False
        while not self._stop.is_set():
            if not select.select([self._pty.master], [], [], 0.05)[0]:
                continue
            data = _strip_even_parity(os.read(self._pty.master, 64))
            if replied:
                self.after_reply += data
                if b"F" in self.after_reply:
                    self.left_echo_mode.set()
                continue
            received += data
            if b"Ehello" in received:
                os.write(self._pty.master, with_even_parity(b"\x02E\rhello"))
                replied = True


def _strip_even_parity(data: bytes) -> bytes:
    if any(bin(b).count("1") % 2 for b in data):
        raise AssertionError(f"parity error in {data!r}: the scale would ignore it")
    return bytes(b & 0x7F for b in data)


class StatusPrinter:
    """A TCP listener on 127.0.0.1 answering ESC/POS DLE EOT 1 with a fixed status byte."""

    def __init__(self, status: int) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._status = status
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._server.accept()
        with conn:
            if conn.recv(3) == b"\x10\x04\x01":
                conn.sendall(bytes([self._status]))

    def close(self) -> None:
        self._server.close()
        self._thread.join(timeout=5)


def closed_port() -> int:
    """A port nothing listens on: bound, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
