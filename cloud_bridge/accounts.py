"""The broker's accounts and ACLs for a fleet, as mosquitto's dynamic-security plugin reads them.

mosquitto 2.0's `acl_file` checks read rights only when a message is delivered, so a box could subscribe to
the bridge's shared subscription (`$share/bridge/…/journal`): the broker then gave the box its share of
other boxes' journals and dropped them. The dynamic-security plugin checks subscriptions when they are made
(`subscribeLiteral`/`subscribePattern`, denied by default), so a box's subscription to anything but its own
topics is refused with "Not authorized". It also pins a client id to an account: with box-a's password no
client can connect as box-b or as a bridge worker and so disconnect it and wipe its session.

mosquitto 2.0 has no `%u` in dynamic-security ACLs, so every box gets a role of its own with its shop and id
written out; the ACLs follow `wire.topics.ROUTES`, so a new message kind needs no change here. This module
is pure (no files, no randomness): `tillbridge broker accounts` does the I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cloud_bridge.errors import BridgeError
from wire import ROOT, ROUTES, Direction, Kind, build_topic, check_id
from wire.errors import BadTopic

ITERATIONS: Final = 101  # what mosquitto_ctrl uses; the hash is PBKDF2-SHA512
SALT_BYTES: Final = 12
WORKER_PREFIX: Final = "bridge_"
SUPPORT_PREFIX: Final = "support_"
REPLIES: Final = "support/reply"


class AccountsError(BridgeError, ValueError):
    """The fleet cannot be turned into accounts (a bad id, a clash); the message names it."""


@dataclass(frozen=True)
class Acl:
    kind: str  # publishClientSend, publishClientReceive, subscribeLiteral, subscribePattern
    topic: str

    def to_json(self) -> dict[str, Any]:
        return {"acltype": self.kind, "topic": self.topic, "priority": 0, "allow": True}


@dataclass(frozen=True)
class Account:
    """One login: `username`, the only client id it may use (None: any), and its rights."""

    username: str
    clientid: str | None
    what: str
    acls: tuple[Acl, ...]


@dataclass(frozen=True)
class Fleet:
    """Who logs in: the boxes of each shop, the bridge workers (by worker id), the support people."""

    shops: Mapping[str, tuple[str, ...]]
    workers: tuple[str, ...]
    support: tuple[str, ...] = ()
    group: str = "bridge"


def accounts(fleet: Fleet) -> list[Account]:
    """Every account of the fleet, boxes first; `AccountsError` for an id that cannot be one."""
    made = [_box(shop, box) for shop, boxes in sorted(fleet.shops.items()) for box in sorted(boxes)]
    made += [_worker(worker, fleet.group) for worker in fleet.workers]
    made += [_support(name) for name in fleet.support]
    seen: dict[str, Account] = {}
    for account in made:
        if account.username in seen:
            raise AccountsError(f"{account.username!r} would be two accounts ({seen[account.username].what}, "
                                f"{account.what}): box ids are unique across the fleet")  # fmt: skip
        seen[account.username] = account
    return made


def password_hash(password: str, salt: bytes, iterations: int = ITERATIONS) -> dict[str, Any]:
    """The three fields dynamic security keeps for a password (base64 PBKDF2-SHA512, 64 bytes)."""
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return {
        "password": base64.b64encode(digest).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": iterations,
    }


def password_matches(entry: Mapping[str, Any], password: str) -> bool:
    """True when `password` is the one hashed in a dynamic-security client entry."""
    salt = base64.b64decode(str(entry.get("salt", "")))
    again = password_hash(password, salt, int(entry.get("iterations", ITERATIONS)))
    return hmac.compare_digest(again["password"], str(entry.get("password", "")))


def document(made: Iterable[Account], hashes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The dynamic-security JSON: everything denied by default, one role per account.

    `hashes` maps every username to its `password_hash` fields; an account without one is an error (there
    are no default passwords).
    """
    clients, roles = [], []
    for account in made:
        if account.username not in hashes:
            raise AccountsError(f"{account.username!r} has no password")
        client: dict[str, Any] = {
            "username": account.username,
            "textname": account.what,
            "roles": [{"rolename": account.username}],
            **hashes[account.username],
        }
        if account.clientid is not None:
            client["clientid"] = account.clientid
        clients.append(client)
        roles.append({"rolename": account.username, "acls": [acl.to_json() for acl in account.acls]})
    return {
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": True,
        },
        "clients": clients,
        "groups": [],
        "roles": roles,
    }


# --- the three kinds of account ---------------------------------------------------------------------------


def _box(shop: str, box: str) -> Account:
    """A box: its own topics in its own shop, written out (no wildcard), and replies to support."""
    _check(shop, "shop")
    _check(box, "box")
    acls = [Acl("publishClientSend", f"{REPLIES}/#")]
    for kind, route in ROUTES.items():
        topic = build_topic(shop, box, kind)
        if route.direction is Direction.UP:
            acls.append(Acl("publishClientSend", topic))
        else:
            acls += [Acl("subscribeLiteral", topic), Acl("publishClientReceive", topic)]
    return Account(box, box, f"box {box} of shop {shop}", tuple(acls))


def _worker(worker: str, group: str) -> Account:
    """A bridge worker: reads what every box sends (shared, except `state`), writes what boxes read."""
    _check(worker, "worker")
    _check(group, "shared-subscription group")
    acls: list[Acl] = []
    for kind, route in ROUTES.items():
        pattern = _every_box(kind)
        if route.direction is Direction.UP:
            acls += [Acl("subscribePattern", pattern), Acl("publishClientReceive", pattern)]
            if kind is not Kind.STATE:  # mosquitto 2.0 checks a shared subscription with its prefix
                acls.append(Acl("subscribePattern", f"$share/{group}/{pattern}"))
        else:
            acls.append(Acl("publishClientSend", pattern))
    return Account(f"{WORKER_PREFIX}{worker}", f"tillbridge-{worker}", f"bridge worker {worker}", tuple(acls))


def _support(name: str) -> Account:
    """A support person: commands every box, reads replies, births and telemetry, and its own replies."""
    _check(name, "support person")
    username = f"{SUPPORT_PREFIX}{name}"
    own = f"{REPLIES}/{username}/#"
    acls = [Acl("publishClientSend", _every_box(Kind.CMD))]
    for pattern in (_every_box(Kind.CMD_REPLY), _every_box(Kind.STATE), _every_box(Kind.TELEMETRY), own):
        acls += [Acl("subscribePattern", pattern), Acl("publishClientReceive", pattern)]
    return Account(username, None, f"support person {name}", tuple(acls))


def _every_box(kind: Kind) -> str:
    return f"{ROOT}/+/+/{kind.value}"


def _check(value: str, what: str) -> None:
    try:
        check_id(what, value)
    except BadTopic as exc:
        raise AccountsError(str(exc)) from exc


__all__ = [
    "Account",
    "AccountsError",
    "Acl",
    "Fleet",
    "accounts",
    "document",
    "password_hash",
    "password_matches",
]
