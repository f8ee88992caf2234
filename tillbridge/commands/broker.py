"""`tillbridge broker accounts`: the broker's accounts and ACLs for the fleet in the bridge's config, as the
JSON file of mosquitto's dynamic-security plugin. Run it again after adding or removing a box: accounts that
stay keep their password, new ones get a random password (written once, to a file only root reads), and
accounts no longer in the fleet are gone. See docs/mqtt-security.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

PASSWORD_BYTES: Final = 24


def register(sub: Any) -> None:
    from cloud_bridge.config import DEFAULT_CONFIG_PATH

    parser: argparse.ArgumentParser = sub.add_parser(
        "broker",
        help="make the broker's accounts and ACLs for the fleet (mosquitto dynamic security)",
        description="accounts: write the dynamic-security JSON for every box of every shop in the bridge's "
        "config, each bridge worker and each support person. Existing accounts keep their passwords; new "
        "(or --rotate'd) accounts get random ones, written to --passwords.",
    )
    parser.add_argument("action", choices=("accounts",), help="what to do")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="bridge.toml (%(default)s)")
    parser.add_argument("--workers", required=True, help="bridge worker ids, comma separated (w1,w2)")
    parser.add_argument("--support", default="", help="support people, comma separated (alice,bob)")
    parser.add_argument("--out", type=Path, required=True, help="the dynamic-security JSON file to write")
    parser.add_argument("--passwords", type=Path, help="where new passwords go (TOML, mode 0600; new file)")
    parser.add_argument(
        "--rotate", action="append", default=[], metavar="USER", help="give USER a new password"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cloud_bridge.accounts import Fleet, accounts, document, password_hash
    from cloud_bridge.config import load_config
    from tillbridge.cli import UserError

    config = load_config(args.config)
    fleet = Fleet(
        shops={shop.id: shop.boxes for shop in config.shops},
        workers=_names(args.workers),
        support=_names(args.support),
        group=config.group,
    )
    made = accounts(fleet)
    names = {a.username for a in made}
    unknown = sorted(set(args.rotate) - names)
    if unknown:
        raise UserError(f"--rotate {', '.join(unknown)}: no such account in this fleet")
    old = _old_hashes(args.out)
    hashes = {n: old[n] for n in names if n in old and n not in args.rotate}
    fresh = {n: secrets.token_urlsafe(PASSWORD_BYTES) for n in sorted(names - set(hashes))}
    if fresh and args.passwords is None:
        raise UserError(f"{len(fresh)} accounts need a password: give --passwords FILE to receive them")
    for name, password in fresh.items():
        hashes[name] = password_hash(password, secrets.token_bytes(12))
    if fresh:
        _write_new(args.passwords, "".join(f"{json.dumps(n)} = {json.dumps(p)}\n" for n, p in fresh.items()))
    _write_atomic(args.out, json.dumps(document(made, hashes), indent=2) + "\n")
    gone = sorted(set(old) - names)
    print(
        f"{args.out}: {len(made)} accounts; {len(fresh)} new passwords"
        + (f" in {args.passwords}" if fresh else "")
        + (f"; removed {', '.join(gone)}" if gone else "")
        + ". Restart mosquitto to apply."
    )
    return 0


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _old_hashes(path: Path) -> Mapping[str, dict[str, Any]]:
    """The password fields of the accounts already in `path` (none if it does not exist yet)."""
    from tillbridge.cli import UserError

    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            str(c["username"]): {k: c[k] for k in ("password", "salt", "iterations")}
            for c in data.get("clients", [])
            if "password" in c
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"{path}: not a dynamic-security file this command can update: {exc}") from exc


def _write_new(path: Path, text: str) -> None:
    """A new file only its owner reads; an existing one is never overwritten (it may hold passwords)."""
    from tillbridge.cli import UserError

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise UserError(f"--passwords {path}: exists; move it away (it may hold passwords)") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)
