"""Signed commands: a box runs only what the key signed, within the window, and only once."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from wire import (
    BadSignature,
    Command,
    CommandExpired,
    CommandReplayed,
    Kind,
    RecentNonces,
    SignatureError,
    canonical,
    decode,
    encode,
    sign_command,
    verify_command,
)

KEY = b"box-1 support key, 32 bytes long"
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
WINDOW = 300.0


def _signed() -> Command:
    return sign_command(Command("c-1", "mode.set", {"mode": "receive"}), KEY, NOW, "nonce-1")


def _never_seen(nonce: str) -> bool:
    return False


def test_a_signed_command_verifies_after_travelling() -> None:
    received = decode(Kind.CMD, encode(_signed()))
    assert isinstance(received, Command)
    verify_command(received, KEY, NOW + timedelta(seconds=30), WINDOW, _never_seen)


def test_the_mac_covers_the_canonical_json_with_sorted_keys_and_no_spaces() -> None:
    cmd = _signed()
    expected = (
        b'{"args":{"mode":"receive"},"cmd":"mode.set","id":"c-1",'
        b'"nonce":"nonce-1","ts":"2024-05-01T12:00:00.000Z","v":1}'
    )
    assert canonical(cmd) == expected
    assert cmd.sig == hmac.new(KEY, expected, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "tamper",
    [
        {"args": {"mode": "sale"}},
        {"args": {"mode": "receive", "extra": 1}},
        {"cmd": "restart"},
        {"id": "c-2"},
        {"ts": "2024-05-01T12:00:01.000Z"},
        {"nonce": "nonce-2"},
        {"sig": "0" * 64},
    ],
    ids=lambda t: next(iter(t)),
)
def test_a_tampered_command_is_refused_and_never_reaches_the_nonce_store(tamper: dict[str, object]) -> None:
    nonces = RecentNonces()
    with pytest.raises(BadSignature, match=r"'c-[12]': the signature does not match"):
        verify_command(replace(_signed(), **tamper), KEY, NOW, WINDOW, nonces)  # type: ignore[arg-type]
    assert not nonces("nonce-1") and not nonces("nonce-2")


def test_a_command_signed_with_another_key_is_refused() -> None:
    with pytest.raises(BadSignature):
        verify_command(_signed(), b"box-2 support key, 32 bytes long", NOW, WINDOW, _never_seen)


def test_an_unsigned_command_is_refused() -> None:
    with pytest.raises(BadSignature, match="not signed"):
        verify_command(Command("c-1", "restart"), KEY, NOW, WINDOW, _never_seen)


@pytest.mark.parametrize(("offset", "when"), [(WINDOW + 1, "ago"), (-(WINDOW + 1), "in the future")])
def test_a_command_signed_outside_the_window_has_expired(offset: float, when: str) -> None:
    with pytest.raises(CommandExpired, match=f"signed 301 s {when}, outside the 300 s window") as caught:
        verify_command(_signed(), KEY, NOW + timedelta(seconds=offset), WINDOW, _never_seen)
    assert caught.value.command_id == "c-1"


def test_a_replayed_command_is_refused_the_second_time() -> None:
    nonces = RecentNonces()
    verify_command(_signed(), KEY, NOW, WINDOW, nonces)
    with pytest.raises(CommandReplayed, match="nonce 'nonce-1' was already used") as caught:
        verify_command(decode(Kind.CMD, encode(_signed())), KEY, NOW, WINDOW, nonces)  # type: ignore[arg-type]
    assert caught.value.command_id == "c-1"


def test_recent_nonces_forgets_only_beyond_its_limit() -> None:
    nonces = RecentNonces(limit=2)
    assert [nonces(n) for n in ("a", "b", "a", "c", "b", "a")] == [False, False, True, False, True, False]


def test_fresh_nonces_differ_and_errors_never_show_the_key() -> None:
    first = sign_command(Command("c-1", "status"), KEY, NOW)
    second = sign_command(Command("c-1", "status"), KEY, NOW)
    assert first.nonce != second.nonce and first.sig != second.sig
    with pytest.raises(SignatureError) as caught:
        verify_command(first, KEY[:8], NOW, WINDOW, _never_seen)
    assert "shorter than 16 bytes" in str(caught.value)
    for error in (caught.value, _error(replace(first, sig="0" * 64))):
        assert KEY.decode() not in str(error) and KEY[:8].decode() not in str(error)
        assert first.sig is not None and first.sig not in str(error)


def _error(cmd: Command) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        verify_command(cmd, KEY, NOW, WINDOW, _never_seen)
    return caught.value
