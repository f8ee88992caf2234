"""Schema history. Each entry moves the database one version forward; the version is `PRAGMA user_version`.

Migrations are frozen SQL: once released, an entry never changes, so a box on any older version reaches the
same schema as a new one. Add a new entry instead. Every migration runs in one transaction with the version
bump, so a power cut leaves the database on the old version or the new one, never in between.
Later releases must keep the journal readable by the previous release (columns are added, never renamed).
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: catalog, journal, settings.
    """
    CREATE TABLE product (
        sku TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        price_cents INTEGER NOT NULL,
        unit TEXT NOT NULL DEFAULT 'each',
        stock INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE barcode (
        code TEXT PRIMARY KEY,
        sku TEXT NOT NULL REFERENCES product (sku) ON DELETE CASCADE
    );
    CREATE INDEX barcode_sku ON barcode (sku);
    CREATE TABLE journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        ts TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: durable print queue, inbound de-duplication, stock-count tallies.
    """
    CREATE TABLE print_job (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        payload BLOB NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued',
        attempts INTEGER NOT NULL DEFAULT 0,
        reprint INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE INDEX print_job_state ON print_job (state, id);
    CREATE TABLE inbound_seen (
        channel TEXT NOT NULL,
        ref TEXT NOT NULL,
        seen_at REAL NOT NULL,
        PRIMARY KEY (channel, ref)
    ) WITHOUT ROWID;
    CREATE TABLE count_tally (sku TEXT PRIMARY KEY, counted INTEGER NOT NULL);
    """,
    # 3: online orders received from the cloud, kept until handed over (see store/orders.py).
    """
    CREATE TABLE inbound_order (
        order_id TEXT PRIMARY KEY,
        payload TEXT NOT NULL,
        received_at REAL NOT NULL,
        print_job INTEGER,
        printed_seq INTEGER,
        collected_seq INTEGER
    );
    CREATE INDEX inbound_order_print_job ON inbound_order (print_job);
    """,
    # 4: the cloud's stock levels, and this box's own stock movements they may not include yet
    # (see store/levels.py).
    """
    CREATE TABLE level (
        sku TEXT PRIMARY KEY,
        on_hand INTEGER NOT NULL,
        reserved INTEGER NOT NULL,
        version INTEGER NOT NULL,
        upto INTEGER NOT NULL
    );
    CREATE TABLE local_move (
        seq INTEGER PRIMARY KEY,
        sku TEXT NOT NULL,
        delta INTEGER NOT NULL
    );
    CREATE INDEX local_move_sku ON local_move (sku, seq);
    """,
    # 5: the store's epoch, which names its journal stream (see store/epochmark.py). A store that has been
    # used already predates epochs: it gets the all-zero epoch, the stream the cloud knew it by.
    """
    INSERT OR IGNORE INTO setting (key, value) SELECT 'epoch', CASE
        WHEN EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'journal')
            OR EXISTS (SELECT 1 FROM setting WHERE key = 'boot_counter')
        THEN '0000000000000000' ELSE lower(hex(randomblob(8))) END;
    """,
    # 6: orders on the shop floor (see store/orders.py): where each order is (new, accepted, ready,
    # collected, delivered) and its ticket for each station's printer, printed once per station.
    """
    ALTER TABLE inbound_order ADD COLUMN stage TEXT NOT NULL DEFAULT 'new';
    ALTER TABLE inbound_order ADD COLUMN stage_at REAL;
    ALTER TABLE inbound_order ADD COLUMN eta_min INTEGER;
    CREATE TABLE order_ticket (
        order_id TEXT NOT NULL,
        station TEXT NOT NULL,
        print_at REAL NOT NULL,
        payload BLOB NOT NULL,
        print_job INTEGER,
        printed_seq INTEGER,
        PRIMARY KEY (order_id, station)
    );
    CREATE INDEX order_ticket_job ON order_ticket (print_job);
    CREATE INDEX order_ticket_due ON order_ticket (print_at) WHERE print_job IS NULL;
    """,
    # 7: a catalog snapshot staged chunk by chunk beside the live catalog until it is whole (see
    # store/catalog_stage.py). `barcodes` is a JSON list; NULL `stock` or `unit` means the shop did not say.
    """
    CREATE TABLE catalog_stage (
        sku TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        price_cents INTEGER NOT NULL,
        barcodes TEXT NOT NULL,
        stock INTEGER,
        unit TEXT
    );
    CREATE TABLE catalog_stage_chunk (
        chunk INTEGER PRIMARY KEY,
        version INTEGER NOT NULL,
        chunks INTEGER NOT NULL
    );
    """,
    # 8: the short number each order is known by on the floor (see store/order_numbers.py), found back
    # from a scan whatever its case, as the id is; and what finds the handed-over orders a box no longer
    # keeps (store/orders.py, `prune`: by the time of their last move).
    """
    ALTER TABLE inbound_order ADD COLUMN number TEXT;
    CREATE INDEX inbound_order_number ON inbound_order (number COLLATE NOCASE);
    CREATE INDEX inbound_order_id_nocase ON inbound_order (order_id COLLATE NOCASE);
    CREATE INDEX inbound_order_stage_at ON inbound_order (stage_at);
    """,
    # 9: the mark of a journal row whose entry passed the wire's checks when it was written
    # (`wire.SPELLING`), so the link frames its data as stored; NULL in rows of older releases.
    """
    ALTER TABLE journal ADD COLUMN spelled INTEGER;
    """,
)

LATEST = len(MIGRATIONS)

READABLE_FROM: tuple[int, ...] = (1, 1, 1, 1, 1, 1, 1, 1, 1)
"""For each schema version, the oldest release schema that can still read and write it. Additive migrations
keep it unchanged, so a release rolled back after an update still opens the store the new one migrated;
a migration that breaks older readers must raise it. Stored in the database as the `readable_from` setting."""
