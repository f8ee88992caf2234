"""The rule that keeps a rollback safe: a migration only adds (tables, indexes, columns the previous
release can ignore), so the previous release can still read and write a store the new one migrated.

Two real releases cannot be run against one store here, so the rule is checked on the migrations
themselves: every statement of every migration must be an additive form, and an added column must not
break the previous release's INSERTs (nullable, or NOT NULL with a DEFAULT).
"""

from __future__ import annotations

import re

import pytest

from firmware_agent.store.migrations import MIGRATIONS

NAME = r'(?:"[^"]+"|\w+)'
ADDITIVE = (
    re.compile(rf"CREATE TABLE (?:IF NOT EXISTS )?{NAME} ?\(.*\)(?: WITHOUT ROWID)?", re.S),
    re.compile(rf"CREATE (?:UNIQUE )?INDEX (?:IF NOT EXISTS )?{NAME} ON {NAME} ?\(.*\)(?: WHERE .*)?", re.S),
    # a new setting row: a previous release reads settings by key and never sees one it does not know
    re.compile(r"INSERT OR IGNORE INTO SETTING \(KEY, VALUE\) .*", re.S),
)
ADD_COLUMN = re.compile(rf"ALTER TABLE {NAME} ADD (?:COLUMN )?(?P<column>.*)", re.S)


def statements(script: str) -> list[str]:
    without_comments = re.sub(r"--[^\n]*", "", script)
    return [" ".join(s.split()) for s in without_comments.split(";") if s.strip()]


def why_not_additive(statement: str) -> str | None:
    """None when the previous release can live with `statement`; else what it would break."""
    upper = statement.upper()
    if any(form.fullmatch(upper) for form in ADDITIVE):
        return None
    added = ADD_COLUMN.fullmatch(upper)
    if added is None:
        return "not CREATE TABLE, CREATE INDEX or ALTER TABLE ... ADD COLUMN"
    column = added["column"]
    if "NOT NULL" in column and "DEFAULT" not in column:
        return "a NOT NULL column without a DEFAULT breaks the previous release's INSERTs"
    if "PRIMARY KEY" in column or "UNIQUE" in column:
        return "a key constraint on an added column can reject the previous release's rows"
    return None


@pytest.mark.parametrize("number", range(1, len(MIGRATIONS) + 1))
def test_every_migration_only_adds(number):
    problems = [(s, why) for s in statements(MIGRATIONS[number - 1]) if (why := why_not_additive(s))]
    assert not problems, f"migration {number} would strand a rollback: {problems}"


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE IF NOT EXISTS stock_take (id INTEGER PRIMARY KEY, at REAL NOT NULL)",
        "CREATE UNIQUE INDEX journal_kind ON journal (kind, seq)",
        "ALTER TABLE product ADD COLUMN vat_rate INTEGER",
        "ALTER TABLE journal ADD COLUMN origin TEXT NOT NULL DEFAULT 'till'",
        "INSERT OR IGNORE INTO setting (key, value) VALUES ('epoch', lower(hex(randomblob(8))))",
    ],
)
def test_the_check_accepts_what_a_previous_release_can_ignore(statement):
    assert why_not_additive(" ".join(statement.split())) is None


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ("DROP TABLE count_tally", "not CREATE TABLE"),
        ("ALTER TABLE product RENAME COLUMN name TO title", "not CREATE TABLE"),
        ("ALTER TABLE product DROP COLUMN unit", "not CREATE TABLE"),
        ("ALTER TABLE product RENAME TO item", "not CREATE TABLE"),
        ("UPDATE product SET unit = 'kg'", "not CREATE TABLE"),
        ("ALTER TABLE journal ADD COLUMN origin TEXT NOT NULL", "without a DEFAULT"),
        ("ALTER TABLE barcode ADD COLUMN alias TEXT UNIQUE", "key constraint"),
    ],
)
def test_the_check_refuses_what_would_break_the_previous_release(statement, why):
    assert why in (why_not_additive(statement) or "")
