"""peewee models over the tables that `migrations.py` creates (the migrations own the DDL)."""

from __future__ import annotations

from typing import Any

import peewee as pw

# Bound to a concrete database when a Store opens; the agent has exactly one store per process.
database = pw.DatabaseProxy()


class _Model(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Product(_Model):
    sku = pw.TextField(primary_key=True)
    name = pw.TextField()
    price_cents = pw.IntegerField()
    unit = pw.TextField(default="each")
    stock = pw.IntegerField(default=0)


class Barcode(_Model):
    code = pw.TextField(primary_key=True)
    sku = pw.TextField()


class Journal(_Model):
    seq = pw.AutoField()
    kind = pw.TextField()
    ts = pw.TextField()
    data = pw.TextField()


class Setting(_Model):
    key = pw.TextField(primary_key=True)
    value = pw.TextField()


class PrintJob(_Model):
    id = pw.AutoField()
    kind = pw.TextField()
    payload = pw.BlobField()
    created_at = pw.FloatField()
    expires_at = pw.FloatField()
    state = pw.TextField(default="queued")
    attempts = pw.IntegerField(default=0)
    reprint = pw.BooleanField(default=False)
    last_error = pw.TextField(null=True)


class InboundSeen(_Model):
    channel = pw.TextField()
    ref = pw.TextField()
    seen_at = pw.FloatField()

    class Meta:
        primary_key = pw.CompositeKey("channel", "ref")


class CountTally(_Model):
    sku = pw.TextField(primary_key=True)
    counted = pw.IntegerField()


MODELS: tuple[type[Any], ...] = (Product, Barcode, Journal, Setting, PrintJob, InboundSeen, CountTally)
