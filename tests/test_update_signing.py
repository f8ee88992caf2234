"""Release signatures: Ed25519 over the artifact's sha256, made and checked by every backend this
machine has (the `cryptography` package when installed, the openssl CLI otherwise)."""

from __future__ import annotations

import hashlib
import stat

import pytest

from firmware_agent.updates import BadSignature, UpdateError, UpdateRejected, signing

BACKENDS = signing.available_backends()
SHA = hashlib.sha256(b"a release").hexdigest()


def test_this_machine_has_an_ed25519_backend():
    assert [b.name for b in BACKENDS][-1:] == ["openssl"]  # the CLI fallback is always there


@pytest.fixture(params=BACKENDS, ids=lambda b: b.name)
def backend(request):
    return request.param


@pytest.fixture
def keypair(tmp_path, backend):
    private = tmp_path / "release.key"
    return private, signing.keygen(private, backend)


def test_a_signed_sha256_verifies_and_the_private_key_is_private(keypair, backend):
    private, public = keypair
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    signature = signing.sign(private, SHA, backend)
    assert signing.verify([public], SHA, signature, backend) == public


def test_a_signature_over_another_sha256_is_refused(keypair, backend):
    private, public = keypair
    signature = signing.sign(private, hashlib.sha256(b"another release").hexdigest(), backend)
    with pytest.raises(BadSignature, match=f"signature of sha256 {SHA} does not verify"):
        signing.verify([public], SHA, signature, backend)


def test_a_signature_by_an_untrusted_key_is_refused_and_a_second_trusted_key_accepted(tmp_path, backend):
    old, new = tmp_path / "old.key", tmp_path / "new.key"
    old_pub, new_pub = signing.keygen(old, backend), signing.keygen(new, backend)
    signature = signing.sign(new, SHA, backend)
    with pytest.raises(BadSignature):
        signing.verify([old_pub], SHA, signature, backend)
    keys = signing.trusted_keys(tmp_path)  # a folder of *.pub: the image ships the next key early
    assert keys == [new_pub, old_pub] and signing.verify(keys, SHA, signature, backend) == new_pub


def test_malformed_signatures_and_digests_are_refused_before_any_check(keypair):
    _, public = keypair
    with pytest.raises(UpdateRejected, match="not base64"):
        signing.verify([public], SHA, "not base64 at all!", None)
    with pytest.raises(UpdateRejected, match="has 3 bytes"):
        signing.verify([public], SHA, "AAAA", None)
    with pytest.raises(UpdateRejected, match="not 64 hexadecimal digits"):
        signing.verify([public], "abc", "A" * 86 + "==", None)


def test_a_file_that_is_no_key_is_named_in_the_error(tmp_path, backend):
    junk = tmp_path / "junk.pub"
    junk.write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    with pytest.raises(UpdateError, match=str(junk)):
        backend.verify(junk, signing.signed_message(SHA), bytes(64))


def test_keygen_never_overwrites_a_key(keypair, backend):
    private, _ = keypair
    before = private.read_bytes()
    with pytest.raises(UpdateError, match="refusing to overwrite"):
        signing.keygen(private, backend)
    assert private.read_bytes() == before


def test_every_backend_makes_and_accepts_the_same_signatures(tmp_path):
    """Ed25519 is deterministic: a release signed on a builder with one verifies on a box with the other."""
    private = tmp_path / "release.key"
    public = signing.keygen(private, BACKENDS[-1])
    [signature] = {signing.sign(private, SHA, b) for b in BACKENDS}
    assert all(signing.verify([public], SHA, signature, b) == public for b in BACKENDS)
