"""Ed25519 signatures over a release's sha256, with `cryptography` when importable, else the openssl CLI.

What is signed is not the artifact but one line naming its digest, `tillbridge-release-v1 sha256:<hex>\\n`:
the updater checks the bytes against the sha256 first, so the signature binds the bytes, and neither
backend has to hold a large artifact in memory. Ed25519 signatures are deterministic, so both backends
produce the same 64 bytes for the same key and line. Keys are PEM files (PKCS#8 private key,
SubjectPublicKeyInfo public key) that both backends and `openssl pkey` read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from firmware_agent.updates.errors import BadSignature, UpdateError, UpdateRejected

DOMAIN = b"tillbridge-release-v1 sha256:"
SIGNATURE_BYTES = 64
CHUNK = 1 << 16


def signed_message(sha256: str) -> bytes:
    return DOMAIN + check_sha256(sha256).encode() + b"\n"


def check_sha256(sha256: str) -> str:
    digest = sha256.strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise UpdateRejected(f"sha256 {sha256!r} is not 64 hexadecimal digits")
    return digest


def decode_signature(signature: str) -> bytes:
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UpdateRejected(f"signature is not base64: {exc}") from exc
    if len(raw) != SIGNATURE_BYTES:
        raise UpdateRejected(f"signature has {len(raw)} bytes, an Ed25519 signature has {SIGNATURE_BYTES}")
    return raw


def file_sha256(path: Path) -> str:
    try:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise UpdateError(f"{path}: cannot read ({exc.strerror})") from exc


class Backend(Protocol):
    name: str

    def generate(self, private: Path, public: Path) -> None: ...

    def sign(self, private: Path, message: bytes) -> bytes: ...

    def verify(self, public: Path, message: bytes, signature: bytes) -> bool:
        """False for a wrong signature; UpdateError when the key itself cannot be used."""
        ...


class CryptographyBackend:
    name = "cryptography"

    def __init__(self) -> None:
        self._ser: Any = importlib.import_module("cryptography.hazmat.primitives.serialization")
        self._ed: Any = importlib.import_module("cryptography.hazmat.primitives.asymmetric.ed25519")
        self._invalid: Any = importlib.import_module("cryptography.exceptions").InvalidSignature

    def generate(self, private: Path, public: Path) -> None:
        key = self._ed.Ed25519PrivateKey.generate()
        ser = self._ser
        pem = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
        _write_new(private, pem, 0o600)
        pub = key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
        _write_new(public, pub, 0o644)

    def sign(self, private: Path, message: bytes) -> bytes:
        key = self._load(private, self._ser.load_pem_private_key, password=None)
        return bytes(key.sign(message))

    def verify(self, public: Path, message: bytes, signature: bytes) -> bool:
        key = self._load(public, self._ser.load_pem_public_key)
        try:
            key.verify(signature, message)
        except self._invalid:
            return False
        return True

    def _load(self, path: Path, loader: Any, **kwargs: Any) -> Any:
        try:
            key = loader(path.read_bytes(), **kwargs)
        except (OSError, ValueError, TypeError) as exc:
            raise UpdateError(f"{path}: not a usable key ({exc})") from exc
        if not isinstance(key, self._ed.Ed25519PrivateKey | self._ed.Ed25519PublicKey):
            raise UpdateError(f"{path}: not an Ed25519 key")
        return key


class OpensslBackend:
    name = "openssl"

    def __init__(self, openssl: str = "openssl") -> None:
        found = shutil.which(openssl)
        if found is None:
            raise UpdateError(f"{openssl}: not found (install the Debian package openssl)")
        self._openssl = found

    def generate(self, private: Path, public: Path) -> None:
        _write_new(private, b"", 0o600)  # openssl then writes into a file already private
        self._run("genpkey", "-algorithm", "ed25519", "-out", str(private))
        _write_new(public, b"", 0o644)
        self._run("pkey", "-in", str(private), "-pubout", "-out", str(public))

    def sign(self, private: Path, message: bytes) -> bytes:
        with tempfile.TemporaryDirectory(prefix="tillbridge-sign-") as tmp:
            msg, sig = Path(tmp) / "message", Path(tmp) / "signature"
            msg.write_bytes(message)
            self._run("pkeyutl", "-sign", "-rawin", "-inkey", str(private), "-in", str(msg), "-out", str(sig))
            return sig.read_bytes()

    def verify(self, public: Path, message: bytes, signature: bytes) -> bool:
        with tempfile.TemporaryDirectory(prefix="tillbridge-verify-") as tmp:
            msg, sig = Path(tmp) / "message", Path(tmp) / "signature"
            msg.write_bytes(message)
            sig.write_bytes(signature)
            args = ("pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", str(public))
            done = self._call(*args, "-in", str(msg), "-sigfile", str(sig))
        if done.returncode == 0:
            return True
        if "Signature Verification Failure" in done.stdout + done.stderr:
            return False
        raise UpdateError(f"{public}: openssl cannot use this key: {done.stderr.strip()[-300:]}")

    def _run(self, *args: str) -> None:
        done = self._call(*args)
        if done.returncode != 0:
            raise UpdateError(f"openssl {args[0]} failed: {done.stderr.strip()[-300:]}")

    def _call(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self._openssl, *args], capture_output=True, text=True, timeout=30, check=False)


def available_backends() -> list[Backend]:
    """Every implementation this machine has, the in-process one first."""
    found: list[Backend] = []
    for make in (CryptographyBackend, OpensslBackend):
        try:
            found.append(make())
        except (ImportError, UpdateError):
            continue
    return found


def default_backend() -> Backend:
    found = available_backends()
    if not found:
        raise UpdateError("no Ed25519 implementation: install python3-cryptography or openssl")
    return found[0]


def keygen(private: Path, backend: Backend | None = None) -> Path:
    """A new key pair: `private` (mode 0600, never overwritten) and `<private>.pub` beside it."""
    public = private.with_name(private.name + ".pub")
    for path in (private, public):
        if path.exists():
            raise UpdateError(f"{path}: exists already; refusing to overwrite a key")
    try:
        (backend or default_backend()).generate(private, public)
    except BaseException:
        private.unlink(missing_ok=True)
        public.unlink(missing_ok=True)
        raise
    return public


def sign(private: Path, sha256: str, backend: Backend | None = None) -> str:
    """The base64 signature a release builder publishes with the artifact's sha256."""
    return base64.b64encode((backend or default_backend()).sign(private, signed_message(sha256))).decode()


def trusted_keys(location: Path) -> list[Path]:
    """A key file, or every `*.pub` in a folder (two keys side by side let the signing key be rotated)."""
    keys = sorted(location.glob("*.pub")) if location.is_dir() else [location]
    if not keys or not all(k.is_file() for k in keys):
        raise UpdateError(f"{location}: no public key to check update signatures with")
    return keys


def verify(keys: Sequence[Path], sha256: str, signature: str, backend: Backend | None = None) -> Path:
    """The key that signed this sha256; BadSignature when none of them did."""
    raw = decode_signature(signature)
    message = signed_message(sha256)
    backend = backend or default_backend()
    for key in keys:
        if backend.verify(key, message, raw):
            return key
    names = ", ".join(str(k) for k in keys)
    raise BadSignature(f"signature of sha256 {sha256} does not verify against {names}: refusing the update")


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise UpdateError(f"{path}: exists already; refusing to overwrite a key") from exc
    with os.fdopen(fd, "wb") as f:
        f.write(data)
