"""`tillbridge bridge`: run a cloud bridge worker, or look at (and unpark) what the bridge is doing."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("tillbridge.bridge")

ACTIONS = ("run", "status", "check-config", "retry", "import", "web", "login")


def register(sub: Any) -> None:
    from cloud_bridge.config import DEFAULT_CONFIG_PATH

    parser: argparse.ArgumentParser = sub.add_parser(
        "bridge",
        help="run the cloud bridge (journals in, shops in step), or show the fleet",
        description="run: a worker (any number may share the database and broker); status: the fleet view "
        "and parked problems; check-config: validate the file; retry SHOP [KEY]: clear parked problems; "
        "import SHOP FILE.csv: a catalog export for every box of the shop (docs/catalog.md); web: the "
        "owner's page; login SHOP USER: set an owner's password (from stdin or asked for; docs/web.md).",
    )
    parser.add_argument("action", nargs="?", default="run", choices=ACTIONS, help="what to do (default: run)")
    parser.add_argument(
        "target", nargs="*", help="retry: the shop id and optionally the parked key; login: shop and user"
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="bridge.toml (%(default)s)")
    parser.add_argument("--json", action="store_true", help="status as JSON")
    parser.add_argument(
        "--dry-run", action="store_true", help="import: show what would change, change nothing"
    )
    parser.add_argument(
        "--map", action="append", default=[], metavar="FIELD=COLUMN", help="import: take FIELD from COLUMN"
    )
    parser.add_argument(
        "--listen",
        default="127.0.0.1:8480",
        type=_listen_address,
        help="web: address of the owner's page (%(default)s)",
    )
    parser.add_argument(
        "--plain-http",
        action="store_true",
        help="web: session cookies over plain HTTP too (only without the TLS proxy, e.g. on localhost)",
    )
    parser.set_defaults(func=run)


def _listen_address(text: str) -> str:
    """`--listen HOST:PORT`, checked before anything opens (a bad port was a traceback, 99999 another)."""
    from tillbridge.cli import port_number

    host, _, port = text.rpartition(":")
    try:
        port_number(port)
    except argparse.ArgumentTypeError:
        host = ""
    if not host:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not HOST:PORT with a port 0-65535, e.g. 127.0.0.1:8480"
        )
    return text


def run(args: argparse.Namespace) -> int:
    from cloud_bridge.config import load_config

    config = load_config(args.config)
    if args.action == "check-config":
        from cloud_bridge.preflight import check_openable

        _check_shops(config)
        check_openable(config, str(args.config))
        print(f"{args.config}: OK ({len(config.shops)} shops, database {config.database_shown})")
        return 0
    if args.action == "run":
        return _serve(config)
    if args.action == "web":
        return _web(config, args)
    return _inspect(config, args)


def _check_shops(config: Any) -> None:
    """Each shop's platform settings, checked by its connector (no request is sent)."""
    from cloud_bridge.connectors import make_connector

    for shop in config.shops:
        make_connector(shop.id, shop.platform, shop.connector_settings()).close()


def _serve(config: Any) -> int:
    from cloud_bridge.worker import Worker

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1: every thread's stack to stderr
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info(
        "bridge worker %s: database %s, broker %s", config.worker_id, config.database_shown, config.broker.url
    )
    return Worker(config).run(stop)


def _web(config: Any, args: argparse.Namespace) -> int:
    from cloud_bridge.db import Database
    from cloud_bridge.owner.app import make_app
    from firmware_agent.web.server import PageServer
    from tillbridge.cli import UserError

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    db = Database(config.database_url.reveal()).open()
    try:
        page = PageServer(make_app(config, db, secure_cookies=not args.plain_http), args.listen).start()
    except OSError as exc:
        db.close()
        raise UserError(f"web: cannot listen on {args.listen}: {exc.strerror or exc}") from exc
    print(f"owner's page on {page.url}", flush=True)
    stop.wait()
    page.stop()
    db.close()
    return 0


def _shop_of(config: Any, args: argparse.Namespace, usage: str) -> Any:
    """The shop the command names; a `UserError` that says which shops the config has when it names none."""
    from tillbridge.cli import UserError

    if not args.target:
        raise UserError(f"{args.action}: give {usage}")
    shop = config.shop(args.target[0])
    if shop is None:
        known = ", ".join(s.id for s in config.shops) or "no shops"
        raise UserError(f"{args.action}: no shop {args.target[0]!r} in {args.config} (it has: {known})")
    return shop


def _login(db: Any, config: Any, args: argparse.Namespace) -> int:
    import getpass

    from cloud_bridge.owner.logins import set_login

    _shop_of(config, args, "a shop id from the config and a user name")
    if len(args.target) != 2:
        print("tillbridge bridge login: give a shop id from the config and a user name", file=sys.stderr)
        return 2
    shop, user = args.target
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {user} (shop {shop}): ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    with db.write():
        set_login(user, shop, password)
    print(f"{user} can log in to the owner's page of shop {shop}")
    return 0


def _inspect(config: Any, args: argparse.Namespace) -> int:
    from cloud_bridge.db import Database
    from cloud_bridge.status import fleet_view, render, retry_parked

    db = Database(config.database_url.reveal()).open()
    try:
        if args.action == "import":
            return _import(db, config, args)
        if args.action == "login":
            return _login(db, config, args)
        if args.action == "retry":
            _shop_of(config, args, "the shop id and optionally the parked key")
            if len(args.target) > 2:
                print("tillbridge bridge retry: give the shop id and at most one parked key", file=sys.stderr)
                return 2
            with db.write():
                cleared = retry_parked(*args.target)
            print(f"{cleared} parked problems cleared; the next pass tries again")
            return 0
        view = fleet_view(config)
        print(view.to_json() if args.json else render(view))
        return 0
    finally:
        db.close()


def _import(db: Any, config: Any, args: argparse.Namespace) -> int:
    """A catalog file for a whole shop: checked as the shop's own products are, applied all or nothing, and
    queued as catalog deltas for every box of the shop (the workers send them).
    """
    import time

    from cloud_bridge import catalog
    from tillbridge.commands.catalog import read_plan

    shop = _shop_of(config, args, "a shop id from the config and the file, e.g. import corner x.csv")
    if len(args.target) != 2:
        print(
            "tillbridge bridge import: give a shop id from the config and the file, e.g. import corner x.csv",
            file=sys.stderr,
        )
        return 2
    plan = read_plan(Path(args.target[1]), args.map)
    if plan is None:
        return 1
    facts = [
        catalog.CatalogFact(p.sku, p.name, p.price_cents, p.barcodes, f"import/{p.sku}", None, p.unit)
        for p in (row.product for row in plan.rows)
    ]
    with db.write():
        good, bad = catalog.judge(shop.id, facts)
        verdicts = catalog.changes(shop.id, good)
        for _, problem in bad:
            print(f"{problem} (against the shop's catalog)")
        if bad:
            print(f"nothing imported: {len(bad)} problems", file=sys.stderr)
            return 1
        if not args.dry_run:
            version = catalog.apply_products(shop.id, good, shop.boxes, time.time())
    for fact in good:
        print(f"{verdicts[fact.sku]:<7} {fact.sku}  {fact.name}  {fact.price_cents / 100:.2f}")
    counts = [list(verdicts.values()).count(v) for v in ("new", "changed", "same")]
    summary = f"{len(good)} products: {counts[0]} new, {counts[1]} changed, {counts[2]} unchanged"
    if args.dry_run:
        print(summary + "; dry run, nothing changed")
    else:
        boxes = len(shop.boxes)
        sent = f"catalog version {version} queued for {boxes} boxes" if version else "nothing to send"
        print(f"{summary}; {sent}")
    return 0
