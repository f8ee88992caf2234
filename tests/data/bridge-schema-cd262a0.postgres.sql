-- The bridge's schema as release cd262a0 (version 0.1.0) created it on PostgreSQL (pg_dump --schema-only,
-- its SET lines left out): tests/test_bridge_upgrade.py opens a database made from it.
CREATE TABLE public.balance (
    shop text NOT NULL,
    sku text NOT NULL,
    moved bigint NOT NULL
);
CREATE TABLE public.box (
    shop text NOT NULL,
    box text NOT NULL,
    last_seq bigint NOT NULL,
    pending integer NOT NULL,
    applied bigint NOT NULL,
    online boolean,
    boot bigint,
    version text,
    config_hash text,
    state_ts text,
    mode text,
    telemetry text,
    telemetry_at double precision,
    seen_at double precision
);
CREATE TABLE public.catalog_item (
    shop text NOT NULL,
    sku text NOT NULL,
    name text NOT NULL,
    price_cents bigint NOT NULL,
    barcodes text NOT NULL,
    unit text NOT NULL,
    version bigint NOT NULL,
    deleted boolean NOT NULL
);
CREATE TABLE public.delivery (
    shop text NOT NULL,
    box text NOT NULL,
    ref text NOT NULL,
    rev bigint NOT NULL,
    payload bytea,
    acked bigint NOT NULL,
    sent bigint NOT NULL,
    sent_at double precision,
    refused text
);
CREATE TABLE public.held_batch (
    shop text NOT NULL,
    box text NOT NULL,
    epoch text NOT NULL,
    first_seq bigint NOT NULL,
    last_seq bigint NOT NULL,
    payload bytea NOT NULL,
    received_at double precision NOT NULL
);
CREATE TABLE public.level_due (
    shop text NOT NULL,
    sku text NOT NULL
);
CREATE TABLE public.loss_window (
    id integer NOT NULL,
    shop text NOT NULL,
    box text NOT NULL,
    epoch text NOT NULL,
    after_seq bigint,
    upto_seq bigint,
    new_epoch text,
    reason text NOT NULL,
    at double precision NOT NULL
);
CREATE SEQUENCE public.loss_window_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.loss_window_id_seq OWNED BY public.loss_window.id;
CREATE TABLE public.meta (
    key text NOT NULL,
    value text NOT NULL
);
CREATE TABLE public.movement (
    id bigint NOT NULL,
    shop text NOT NULL,
    sku text NOT NULL,
    source text NOT NULL,
    kind text NOT NULL,
    delta bigint NOT NULL,
    at text NOT NULL,
    push boolean NOT NULL,
    write bigint,
    level_version bigint
);
CREATE SEQUENCE public.movement_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.movement_id_seq OWNED BY public.movement.id;
CREATE TABLE public.order_ticket (
    shop text NOT NULL,
    order_id text NOT NULL,
    box text,
    assigned_at double precision,
    created_at double precision NOT NULL,
    done boolean NOT NULL
);
CREATE TABLE public.outbound (
    id bigint NOT NULL,
    shop text NOT NULL,
    box text NOT NULL,
    kind text NOT NULL,
    payload bytea NOT NULL,
    created_at double precision NOT NULL,
    published_at double precision
);
CREATE SEQUENCE public.outbound_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.outbound_id_seq OWNED BY public.outbound.id;
CREATE TABLE public.owner_login (
    "user" text NOT NULL,
    shop text NOT NULL,
    password_hash text NOT NULL,
    created_at double precision NOT NULL
);
CREATE TABLE public.parked (
    id integer NOT NULL,
    shop text NOT NULL,
    box text,
    key text NOT NULL,
    what text NOT NULL,
    error text NOT NULL,
    payload text,
    count integer NOT NULL,
    first_at double precision NOT NULL,
    last_at double precision NOT NULL,
    resolved boolean NOT NULL
);
CREATE SEQUENCE public.parked_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.parked_id_seq OWNED BY public.parked.id;
CREATE TABLE public.presence (
    shop text NOT NULL,
    box text NOT NULL,
    online boolean NOT NULL,
    since double precision NOT NULL
);
CREATE TABLE public.reservation (
    shop text NOT NULL,
    order_id text NOT NULL,
    line_id text NOT NULL,
    sku text NOT NULL,
    qty bigint NOT NULL,
    state text NOT NULL
);
CREATE TABLE public.shop_order (
    shop text NOT NULL,
    order_id text NOT NULL,
    state text NOT NULL,
    status text NOT NULL,
    pickup_code text,
    message text,
    sent boolean NOT NULL,
    printed_by text,
    collected_by text,
    completion text NOT NULL,
    updated_at double precision NOT NULL
);
CREATE TABLE public.shop_side (
    shop text NOT NULL,
    sku text NOT NULL,
    level bigint NOT NULL,
    orders bigint NOT NULL,
    doubt_until double precision NOT NULL,
    at double precision NOT NULL
);
CREATE TABLE public.shop_state (
    shop text NOT NULL,
    name text NOT NULL,
    value text NOT NULL
);
CREATE TABLE public.shop_write (
    id bigint NOT NULL,
    shop text NOT NULL,
    deltas text NOT NULL,
    state text NOT NULL,
    attempts integer NOT NULL,
    next_at double precision NOT NULL,
    created_at double precision NOT NULL,
    last_error text
);
CREATE SEQUENCE public.shop_write_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.shop_write_id_seq OWNED BY public.shop_write.id;
CREATE TABLE public.stock (
    shop text NOT NULL,
    sku text NOT NULL,
    baseline bigint NOT NULL,
    baseline_at double precision NOT NULL,
    counted bigint,
    counted_at text,
    written bigint,
    written_at double precision,
    dirty boolean NOT NULL
);
CREATE TABLE public.stream (
    shop text NOT NULL,
    box text NOT NULL,
    epoch text NOT NULL,
    last_seq bigint,
    first_seq bigint,
    pending integer NOT NULL,
    applied bigint NOT NULL,
    current boolean NOT NULL,
    started_at double precision NOT NULL
);
CREATE TABLE public.webhook_seen (
    shop text NOT NULL,
    event_id text NOT NULL,
    at double precision NOT NULL
);
ALTER TABLE ONLY public.loss_window ALTER COLUMN id SET DEFAULT nextval('public.loss_window_id_seq'::regclass);
ALTER TABLE ONLY public.movement ALTER COLUMN id SET DEFAULT nextval('public.movement_id_seq'::regclass);
ALTER TABLE ONLY public.outbound ALTER COLUMN id SET DEFAULT nextval('public.outbound_id_seq'::regclass);
ALTER TABLE ONLY public.parked ALTER COLUMN id SET DEFAULT nextval('public.parked_id_seq'::regclass);
ALTER TABLE ONLY public.shop_write ALTER COLUMN id SET DEFAULT nextval('public.shop_write_id_seq'::regclass);
ALTER TABLE ONLY public.balance
    ADD CONSTRAINT balance_pkey PRIMARY KEY (shop, sku);
ALTER TABLE ONLY public.box
    ADD CONSTRAINT box_pkey PRIMARY KEY (shop, box);
ALTER TABLE ONLY public.catalog_item
    ADD CONSTRAINT catalog_item_pkey PRIMARY KEY (shop, sku);
ALTER TABLE ONLY public.delivery
    ADD CONSTRAINT delivery_pkey PRIMARY KEY (shop, box, ref);
ALTER TABLE ONLY public.held_batch
    ADD CONSTRAINT held_batch_pkey PRIMARY KEY (shop, box, epoch, first_seq);
ALTER TABLE ONLY public.level_due
    ADD CONSTRAINT level_due_pkey PRIMARY KEY (shop, sku);
ALTER TABLE ONLY public.loss_window
    ADD CONSTRAINT loss_window_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.meta
    ADD CONSTRAINT meta_pkey PRIMARY KEY (key);
ALTER TABLE ONLY public.movement
    ADD CONSTRAINT movement_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.order_ticket
    ADD CONSTRAINT order_ticket_pkey PRIMARY KEY (shop, order_id);
ALTER TABLE ONLY public.outbound
    ADD CONSTRAINT outbound_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.owner_login
    ADD CONSTRAINT owner_login_pkey PRIMARY KEY ("user");
ALTER TABLE ONLY public.parked
    ADD CONSTRAINT parked_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.presence
    ADD CONSTRAINT presence_pkey PRIMARY KEY (shop, box);
ALTER TABLE ONLY public.reservation
    ADD CONSTRAINT reservation_pkey PRIMARY KEY (shop, order_id, line_id);
ALTER TABLE ONLY public.shop_order
    ADD CONSTRAINT shop_order_pkey PRIMARY KEY (shop, order_id);
ALTER TABLE ONLY public.shop_side
    ADD CONSTRAINT shop_side_pkey PRIMARY KEY (shop, sku);
ALTER TABLE ONLY public.shop_state
    ADD CONSTRAINT shop_state_pkey PRIMARY KEY (shop, name);
ALTER TABLE ONLY public.shop_write
    ADD CONSTRAINT shop_write_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.stock
    ADD CONSTRAINT stock_pkey PRIMARY KEY (shop, sku);
ALTER TABLE ONLY public.stream
    ADD CONSTRAINT stream_pkey PRIMARY KEY (shop, box, epoch);
ALTER TABLE ONLY public.webhook_seen
    ADD CONSTRAINT webhook_seen_pkey PRIMARY KEY (shop, event_id);
CREATE INDEX loss_window_shop_box ON public.loss_window USING btree (shop, box);
CREATE INDEX movement_shop_sku ON public.movement USING btree (shop, sku);
CREATE UNIQUE INDEX movement_shop_source ON public.movement USING btree (shop, source);
CREATE INDEX movement_shop_write_push ON public.movement USING btree (shop, write, push);
CREATE INDEX movement_unsent ON public.movement USING btree (shop, sku) WHERE (level_version IS NULL);
CREATE INDEX order_ticket_shop_done ON public.order_ticket USING btree (shop, done);
CREATE INDEX outbound_shop_published_at ON public.outbound USING btree (shop, published_at);
CREATE UNIQUE INDEX parked_shop_key ON public.parked USING btree (shop, key);
CREATE INDEX reservation_shop_sku_state ON public.reservation USING btree (shop, sku, state);
CREATE INDEX shop_write_shop_state ON public.shop_write USING btree (shop, state);
