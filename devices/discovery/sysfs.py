"""Reading sysfs and udev's /dev links under a configurable root, so a fake tree in a test reads the same."""

from __future__ import annotations

from pathlib import Path

LINK_KINDS = ("by-path", "by-id")  # by-path first: it tells identical devices apart; by-id can collide


def read_attr(path: Path) -> str:
    """A sysfs attribute's text, or "" when the attribute does not exist (many are optional)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        return ""


def list_dir(path: Path) -> list[Path]:
    """A directory's entries, sorted; none if it is missing (e.g. no usbmisc class without usblp loaded)."""
    try:
        return sorted(path.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def link_name(path: Path) -> str:
    """The last component a sysfs symlink points to (a driver or subsystem name), or ""."""
    try:
        return path.readlink().name
    except OSError:
        return ""


def usb_device_of(node: Path, sysfs_root: Path) -> Path | None:
    """The USB device directory (the one with `idVendor`) above a resolved sysfs node, or None if not USB."""
    root = sysfs_root.resolve()
    for parent in (node, *node.parents):
        if parent == root or root not in parent.parents:
            return None
        if (parent / "idVendor").is_file():
            return parent
    return None


def usb_details(usb: Path | None) -> dict[str, str]:
    if usb is None:
        return {}
    details = {
        "usb_id": f"{read_attr(usb / 'idVendor')}:{read_attr(usb / 'idProduct')}",
        "usb_port": usb.name,
    }
    for key in ("manufacturer", "product", "serial"):
        if value := read_attr(usb / key):
            details[key] = value
    return details


def usb_name(usb: Path | None, fallback: str) -> str:
    if usb is None:
        return fallback
    words = [read_attr(usb / "manufacturer"), read_attr(usb / "product")]
    return " ".join(w for w in words if w) or fallback


class NodeLinks:
    """udev's by-path and by-id links under one /dev directory (input/, serial/), by the node they name."""

    def __init__(self, base: Path) -> None:
        self._links: dict[str, dict[str, Path]] = {}
        for kind in LINK_KINDS:
            for link in list_dir(base / kind):
                try:
                    target = link.readlink().name
                except OSError:
                    continue  # not a symlink: not udev's
                self._links.setdefault(target, {}).setdefault(kind, link)

    def path_for(self, node: Path) -> tuple[str, dict[str, str]]:
        """The path to report for a device node, and details naming the node and each of its links."""
        links = self._links.get(node.name, {})
        details = {"node": str(node)} | {kind.replace("-", "_"): str(link) for kind, link in links.items()}
        best = next((links[kind] for kind in LINK_KINDS if kind in links), node)
        return str(best), details
