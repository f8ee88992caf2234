"""The bridge's tables (peewee models), the same on PostgreSQL and SQLite.

Everything a worker knows lives here, so workers are stateless and interchangeable. The stock truth is
`Stock` (the counted baseline per shop and sku) plus `Movement` (every change from every channel, one row
per box journal entry or order line, unique per source so a replay cannot count twice) minus the open
`Reservation`s. `ShopWrite` and `Outbound` are outboxes: what must still reach a shop and the boxes.
Columns are only ever added, nullable or with a default, so `Database.open` adds them to an older database.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

database = pw.DatabaseProxy()

SCHEMA_VERSION = 1


class _Model(pw.Model):  # type: ignore[misc]  # peewee has no type hints
    class Meta:
        database = database
        legacy_table_names = False


class Meta(_Model):
    key = pw.TextField(primary_key=True)
    value = pw.TextField()


class Box(_Model):
    """A box of a shop: where its journal stands, and what it last said about itself (the fleet view)."""

    shop = pw.TextField()
    box = pw.TextField()
    last_seq = pw.BigIntegerField(default=0)  # the current stream's position, mirrored for the fleet view
    pending = pw.IntegerField(default=0)  # batches of the current stream held in HeldBatch
    applied = pw.BigIntegerField(default=0)  # entries applied over all streams, for the fleet view
    online = pw.BooleanField(null=True)
    boot = pw.BigIntegerField(null=True)
    version = pw.TextField(null=True)
    config_hash = pw.TextField(null=True)
    state_ts = pw.TextField(null=True)
    mode = pw.TextField(null=True)
    telemetry = pw.TextField(null=True)  # the last Telemetry as JSON
    telemetry_at = pw.DoubleField(null=True)
    seen_at = pw.DoubleField(null=True)

    class Meta:
        primary_key = pw.CompositeKey("shop", "box")


class Stream(_Model):
    """One journal stream of a box: the entries of one store, named by its epoch (`""` for a box that sends
    none, or the all-zero epoch of a store older than epochs). Each stream is applied in its own seq order,
    so a box whose store was deleted and starts again at seq 1 is a new stream, never a replay.

    `last_seq` is NULL while the stream is only announced (a birth named it, no batch came yet); `first_seq`
    is where this bridge started applying it. `current` marks the stream the box writes now.
    """

    shop = pw.TextField()
    box = pw.TextField()
    epoch = pw.TextField()
    last_seq = pw.BigIntegerField(null=True)  # every entry of the stream up to here is applied (or lost)
    first_seq = pw.BigIntegerField(null=True)
    pending = pw.IntegerField(default=0)  # batches held in HeldBatch, waiting for a hole to fill
    applied = pw.BigIntegerField(default=0)
    current = pw.BooleanField(default=True)
    started_at = pw.DoubleField()

    class Meta:
        primary_key = pw.CompositeKey("shop", "box", "epoch")


class HeldBatch(_Model):
    """Entries of a journal batch that lie past a hole in their stream (another worker may hold the batch
    that fills it); `first_seq` is the first held entry, `payload` the whole batch as it came.
    """

    shop = pw.TextField()
    box = pw.TextField()
    epoch = pw.TextField()
    first_seq = pw.BigIntegerField()
    last_seq = pw.BigIntegerField()
    payload = pw.BlobField()
    received_at = pw.DoubleField()

    class Meta:
        primary_key = pw.CompositeKey("shop", "box", "epoch", "first_seq")


class LossWindow(_Model):
    """Journal entries of a box that will never arrive, and why: its store was replaced (a new epoch), or
    the box deleted entries on an ack this database has no record of. Kept for `bridge status`.
    """

    id = pw.AutoField()
    shop = pw.TextField()
    box = pw.TextField()
    epoch = pw.TextField()  # the stream the entries belonged to
    after_seq = pw.BigIntegerField(null=True)  # applied up to here (NULL: nothing of it was ever applied)
    upto_seq = pw.BigIntegerField(null=True)  # lost up to here (NULL: unknown, whatever the store held)
    new_epoch = pw.TextField(null=True)  # the stream that replaced it
    reason = pw.TextField()
    at = pw.DoubleField()

    class Meta:
        indexes = ((("shop", "box"), False),)


class Movement(_Model):
    """One change of a sku's stock. `source` is `b/<box>/<seq>` or `o/<order id>/<line id>`; `push` says
    the shop does not know about it yet (box movements); `write` is the ShopWrite that carried it.
    """

    id = pw.BigAutoField()
    shop = pw.TextField()
    sku = pw.TextField()
    source = pw.TextField()
    kind = pw.TextField()
    delta = pw.BigIntegerField()
    at = pw.TextField()
    push = pw.BooleanField(default=True)
    write = pw.BigIntegerField(null=True)
    # The first level version sent to the boxes with it, as releases before `MovementMark` stamped it (an
    # UPDATE of every movement); still read for a count against a level of those releases (`count_delta`).
    level_version = pw.BigIntegerField(null=True)

    class Meta:
        indexes = ((("shop", "source"), True), (("shop", "sku"), False), (("shop", "write", "push"), False))


class MovementMark(_Model):
    """The newest movement id of a shop. `ledger.add_movements` inserts a shop's movements under the shop's
    lock and moves this row in the same transaction, so a shop's movement ids are taken in commit order: a
    snapshot that sees `last_id` sees every movement of the shop up to it and none after, which makes it an
    exact watermark for the levels pushes (`cloud_bridge/levels.py`) without writing any movement twice.
    """

    shop = pw.TextField(primary_key=True)
    last_id = pw.BigIntegerField(default=0)


class LevelPush(_Model):
    """A levels version and the movements it holds: exactly those of the shop with an id up to `upto` (a
    count made against `version` keeps the ones after it, `ledger.count_delta`).
    """

    shop = pw.TextField()
    version = pw.BigIntegerField()
    upto = pw.BigIntegerField()
    at = pw.DoubleField()

    class Meta:
        primary_key = pw.CompositeKey("shop", "version")


class Balance(_Model):
    """The running sum of a sku's movements, kept by `ledger.add_movements` in the transaction that inserts
    them: a level costs one row however long the sku's history is (summing the history made every push
    slower with the shop's age: 5.7x after 1M movements, see docs/performance.md, `levels_growth`).
    """

    shop = pw.TextField()
    sku = pw.TextField()
    moved = pw.BigIntegerField(default=0)
    # The part of `moved` whose movements were compacted away (`ledger.compact`): settled, sent to the boxes
    # and older than the retention, so their sum is all that anything still reads of them.
    compacted = pw.BigIntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])  # raw inserts leave it out

    class Meta:
        primary_key = pw.CompositeKey("shop", "sku")


class LevelDue(_Model):
    """A sku whose level changed since the last push to the boxes (see cloud_bridge/levels.py)."""

    shop = pw.TextField()
    sku = pw.TextField()

    class Meta:
        primary_key = pw.CompositeKey("shop", "sku")


class Stock(_Model):
    """The ledger head of one sku in one shop: the counted baseline and what was last written."""

    shop = pw.TextField()
    sku = pw.TextField()
    baseline = pw.BigIntegerField()
    baseline_at = pw.DoubleField()
    counted = pw.BigIntegerField(null=True)  # the last count at a till, for the fleet view
    counted_at = pw.TextField(null=True)
    written = pw.BigIntegerField(null=True)  # the quantity last written to (or confirmed in) the shop
    written_at = pw.DoubleField(null=True)
    dirty = pw.BooleanField(default=False)  # an absolute-write shop must be checked (an order touched it)

    class Meta:
        primary_key = pw.CompositeKey("shop", "sku")


class ShopSide(_Model):
    """What the bridge expects the shop to show for one sku (`cloud_bridge.shopside`): `level` when the
    orders the bridge knew had taken `orders` units (a negative sum); `doubt_until`: a write whose answer
    never came may still land until then; `caught_up`: what the known orders had taken once the orders feed
    had been read to its end after `level` was seen (NULL until then): an order learned by then may be in
    `level` already, one learned later cannot be.
    """

    shop = pw.TextField()
    sku = pw.TextField()
    level = pw.BigIntegerField()
    orders = pw.BigIntegerField()
    doubt_until = pw.DoubleField(default=0.0)
    at = pw.DoubleField()
    caught_up = pw.BigIntegerField(null=True)

    class Meta:
        primary_key = pw.CompositeKey("shop", "sku")
        indexes = ((("shop", "caught_up"), False),)


class Reservation(_Model):
    """Units an online order holds until they are collected or shipped (`consumed`) or the order is
    cancelled (`released`), or while its part here is moved to another location (`moved`: held again if
    it comes back, `ledger.hold_again`).
    """

    shop = pw.TextField()
    order_id = pw.TextField()
    line_id = pw.TextField()
    sku = pw.TextField()
    qty = pw.BigIntegerField()
    state = pw.TextField(default="open")

    class Meta:
        primary_key = pw.CompositeKey("shop", "order_id", "line_id")
        indexes = ((("shop", "sku", "state"), False),)


class ShopOrder(_Model):
    """An online order as the bridge knows it; `message` is the wire `Order` sent to the boxes."""

    shop = pw.TextField()
    order_id = pw.TextField()
    state = pw.TextField()
    status = pw.TextField()
    pickup_code = pw.TextField(null=True)
    message = pw.TextField(null=True)
    sent = pw.BooleanField(default=False)
    printed_by = pw.TextField(null=True)
    collected_by = pw.TextField(null=True)
    completion = pw.TextField(default="none")  # none, wanted (collected at a till), done
    updated_at = pw.DoubleField()
    # the shop's version (its update time, Unix s) last applied while part of the order here was moved to
    # another location: an older read is stale, a newer one showing lines here again holds them again
    moved_at = pw.DoubleField(null=True)

    class Meta:
        primary_key = pw.CompositeKey("shop", "order_id")


class ShopWrite(_Model):
    """Outbox to a shop: the movements claimed in one pass, coalesced to one delta per sku (`deltas`, JSON).
    Delta shops send it under the idempotency key `tillbridge-<shop>-<id>`, so a retry is never counted twice.
    """

    id = pw.BigAutoField()
    shop = pw.TextField()
    deltas = pw.TextField()
    state = pw.TextField(default="pending")  # pending, done
    attempts = pw.IntegerField(default=0)
    next_at = pw.DoubleField(default=0.0)
    created_at = pw.DoubleField()
    last_error = pw.TextField(null=True)

    class Meta:
        indexes = ((("shop", "state"), False),)


class Outbound(_Model):
    """Outbox to the boxes: orders and catalog messages, published in id order, marked once the broker
    has them.
    """

    id = pw.BigAutoField()
    shop = pw.TextField()
    box = pw.TextField()
    kind = pw.TextField()
    payload = pw.BlobField()
    created_at = pw.DoubleField()
    published_at = pw.DoubleField(null=True)

    class Meta:
        indexes = ((("shop", "published_at"), False),)


class Parked(_Model):
    """Work that cannot go on without a person: a permanent shop error, an unknown journal kind, a loss
    window. Shown by `tillbridge bridge status`; `count` says how often it happened again.
    """

    id = pw.AutoField()
    shop = pw.TextField()
    box = pw.TextField(null=True)
    key = pw.TextField()
    what = pw.TextField()
    error = pw.TextField()
    payload = pw.TextField(null=True)
    count = pw.IntegerField(default=1)
    first_at = pw.DoubleField()
    last_at = pw.DoubleField()
    resolved = pw.BooleanField(default=False)

    class Meta:
        indexes = ((("shop", "key"), True),)


class ShopState(_Model):
    """Small per-shop values: polling cursors, the catalog version, whether the shop was initialised."""

    shop = pw.TextField()
    name = pw.TextField()
    value = pw.TextField()

    class Meta:
        primary_key = pw.CompositeKey("shop", "name")


class CatalogItem(_Model):
    shop = pw.TextField()
    sku = pw.TextField()
    name = pw.TextField()
    price_cents = pw.BigIntegerField()
    barcodes = pw.TextField(default="[]")  # JSON list
    unit = pw.TextField(default="each")
    version = pw.BigIntegerField()  # the catalog version that last changed it
    deleted = pw.BooleanField(default=False)

    class Meta:
        primary_key = pw.CompositeKey("shop", "sku")


class WebhookSeen(_Model):
    shop = pw.TextField()
    event_id = pw.TextField()
    at = pw.DoubleField()

    class Meta:
        primary_key = pw.CompositeKey("shop", "event_id")


class OrderTicket(_Model):
    """An order on its way to the shop's boxes: which box prints its ticket (`box`, the `orders` role or its
    failover). `done` once its final state reached every box.
    """

    shop = pw.TextField()
    order_id = pw.TextField()
    box = pw.TextField(null=True)
    assigned_at = pw.DoubleField(null=True)
    created_at = pw.DoubleField()
    done = pw.BooleanField(default=False)
    # the highest revision its boxes had when it was done: one back on the floor goes on above it
    rev = pw.BigIntegerField(default=0)

    class Meta:
        primary_key = pw.CompositeKey("shop", "order_id")
        indexes = ((("shop", "done"), False),)


class Delivery(_Model):
    """What one box must hold: an order's view for that box (`ref` = `order/<id>`) or the shop's pickup key
    (`ref` = `key`), at revision `rev`. Delivered only once the box acked that revision (`acked`); until
    then the bridge sends it again. `refused` holds the box's reason when it will never take it.
    """

    shop = pw.TextField()
    box = pw.TextField()
    ref = pw.TextField()
    rev = pw.BigIntegerField(default=0)
    payload = pw.BlobField(null=True)
    acked = pw.BigIntegerField(default=0)
    sent = pw.BigIntegerField(default=0)
    sent_at = pw.DoubleField(null=True)
    refused = pw.TextField(null=True)

    class Meta:
        primary_key = pw.CompositeKey("shop", "box", "ref")


class Presence(_Model):
    """Whether a box is online (its retained birth) or offline (its Last Will), and since when."""

    shop = pw.TextField()
    box = pw.TextField()
    online = pw.BooleanField()
    since = pw.DoubleField()

    class Meta:
        primary_key = pw.CompositeKey("shop", "box")


class OwnerLogin(_Model):
    """A login to the owner's web page: one shop per login, the password as an argon2 hash (never the
    password itself). Set by `tillbridge bridge login SHOP USER`.
    """

    user = pw.TextField(primary_key=True)
    shop = pw.TextField()
    password_hash = pw.TextField()
    created_at = pw.DoubleField()


class OrderNotice(_Model):
    """Outbox to a shop of what happened to an order on the floor (docs/orders.md): a stage the box moved
    it to (`stage`), or the pickup code for the customer (`stage` "code"). Sent in `id` order, so an
    offline box's moves reach the shop in the order they were made; `text` is the pickup code ("code") or
    the phone order ("create"): the customer's line is written when sent, in the shop's language."""

    id = pw.BigAutoField()
    shop = pw.TextField()
    order_id = pw.TextField()
    stage = pw.TextField()
    eta_min = pw.IntegerField(null=True)
    text = pw.TextField()
    source = pw.TextField()  # entry/<box>/<seq> or "bridge": one notice per cause
    state = pw.TextField(default="pending")  # pending, done, parked
    created_at = pw.DoubleField()

    class Meta:
        indexes = ((("shop", "source"), True), (("shop", "state", "id"), False))


MODELS: tuple[type[Any], ...] = (
    Meta,
    Box,
    Stream,
    HeldBatch,
    LossWindow,
    Movement,
    MovementMark,
    LevelPush,
    Balance,
    Stock,
    ShopSide,
    Reservation,
    ShopOrder,
    ShopWrite,
    Outbound,
    Parked,
    ShopState,
    CatalogItem,
    WebhookSeen,
    LevelDue,
    OrderTicket,
    Delivery,
    Presence,
    OwnerLogin,
    OrderNotice,
)
