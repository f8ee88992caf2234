"""Release artifacts: a gzip'd tar of one release folder, fetched, checked against its sha256, unpacked.

The folder holds `release.json` (`{"format": 1, "version": "…"}`) and `bin/tillbridge`, an executable that
runs the agent (a shell wrapper over `lib/`, a tree `pip install --target` filled from wheels; see
docs/updates.md). The artifact is copied into the updater's own folder while it is hashed, so the bytes that
get unpacked are the bytes that were checked, whoever can write the source file. It is unpacked into a
hidden folder beside the releases and renamed into place, so `releases/<version>` is whole or absent.
"""

from __future__ import annotations

import compileall
import hashlib
import http.client
import json
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from firmware_agent.updates.errors import ChecksumMismatch, DownloadError, UpdateError, UpdateRejected
from firmware_agent.updates.layout import INCOMING_PREFIX, Layout, check_version, version_key
from firmware_agent.updates.signing import CHUNK, check_sha256, file_sha256

log = logging.getLogger(__name__)

MANIFEST = "release.json"
FORMAT = 1
ENTRY = "bin/tillbridge"
MAX_BYTES = 512 * 1024 * 1024  # far above a release (tens of MB), far below a full data partition


@dataclass(frozen=True)
class Source:
    """Where an artifact comes from: an http(s) URL or a file on the box (a USB stick, a scp'd file)."""

    url: str | None = None
    file: Path | None = None

    def __post_init__(self) -> None:
        if (self.url is None) == (self.file is None):
            raise UpdateRejected("an update needs exactly one of a URL and a file")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise UpdateRejected(f"{self.url}: only http:// and https:// URLs are fetched")

    def __str__(self) -> str:
        return self.url or str(self.file)


@dataclass(frozen=True)
class Release:
    version: str
    path: Path


def fetch(source: Source, sha256: str, into: Path, max_bytes: int = MAX_BYTES) -> Path:
    """Copy the artifact into `into` while hashing it; ChecksumMismatch (and no file left) if it differs."""
    want = check_sha256(sha256)
    into.mkdir(parents=True, exist_ok=True)
    target = into / f"{want}.tar.gz"
    try:
        with _open(source) as chunks:
            got = _copy(chunks, target, max_bytes, source)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if got != want:
        target.unlink(missing_ok=True)
        raise ChecksumMismatch(f"{source}: sha256 is {got}, the update names {want}: refusing it")
    return target


@contextmanager
def _open(source: Source) -> Iterator[Iterator[bytes]]:
    if source.file is not None:
        try:
            f = source.file.open("rb")
        except OSError as exc:
            raise DownloadError(f"{source.file}: cannot read the artifact ({exc.strerror})") from exc
        with f:
            yield iter(lambda: f.read(CHUNK), b"")
        return
    assert source.url is not None
    # The standard library's HTTP client: the box's installables carry no `requests` (docs/architecture.md).
    try:
        response = urllib.request.urlopen(source.url, timeout=60)  # Source allows http(s) only
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(f"{source.url}: download failed ({exc})") from exc
    with response:
        yield _guarded(iter(lambda: response.read(CHUNK), b""), source.url)


def _guarded(chunks: Iterator[bytes], url: str) -> Iterator[bytes]:
    try:
        yield from chunks
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(f"{url}: download broke off ({exc})") from exc


def _copy(chunks: Iterator[bytes], target: Path, max_bytes: int, source: Source) -> str:
    digest, size = hashlib.sha256(), 0
    try:
        with target.open("wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise UpdateRejected(f"{source}: larger than {max_bytes} bytes, not a release")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise DownloadError(f"{target}: cannot store the artifact ({exc.strerror})") from exc
    return digest.hexdigest()


def unpack(artifact: Path, layout: Layout, *, allow_downgrade: bool = False) -> Release:
    """Extract into a hidden folder, check it is a release, rename it to releases/<version>.

    A release older than the committed one is refused unless `allow_downgrade`: a signed old release may
    carry a fixed hole, and replaying it must not be enough to bring the hole back.
    """
    layout.releases.mkdir(parents=True, exist_ok=True)
    layout.remove_leftovers()
    incoming = Path(tempfile.mkdtemp(prefix=INCOMING_PREFIX, dir=layout.releases))
    try:
        _extract(artifact, incoming)
        version = read_manifest(incoming, str(artifact))
        if layout.version_of("current") == version:
            raise UpdateRejected(f"release {version} is the one running already")
        committed = layout.version_of("committed")
        if committed and not allow_downgrade and version_key(version) < version_key(committed):
            raise UpdateRejected(
                f"release {version} is older than the committed {committed}: a downgrade is refused "
                "unless asked for (--allow-downgrade, or the update command's args.force)"
            )
        _compile(incoming / "lib")
        incoming.chmod(0o755)  # mkdtemp made it private
        _put_in_place(incoming, layout, version)
    except BaseException:
        shutil.rmtree(incoming, ignore_errors=True)
        raise
    return Release(version, layout.release(version))


def _compile(lib: Path) -> None:
    """The release's byte code, compiled here by the interpreter that will run it (a release carries none:
    the machine that built it has another Python). The agent may not write beside its code, so without it
    every start of the agent compiled every module again, seconds on a Pi. A module that does not compile
    is left to fail where it is imported, as it would have without this."""
    if lib.is_dir() and not compileall.compile_dir(lib, quiet=2):
        log.warning("%s: some modules did not compile", lib)


def _extract(artifact: Path, into: Path) -> None:
    try:
        with tarfile.open(artifact, "r:gz") as tar:
            # "data": no absolute paths, nothing outside the folder, no devices, no owners from the archive
            tar.extractall(into, filter="data")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise UpdateRejected(f"{artifact}: not a release archive ({exc})") from exc


def read_manifest(folder: Path, where: str) -> str:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UpdateRejected(f"{where}: no readable {MANIFEST} ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UpdateRejected(f"{where}: {MANIFEST} is not format {FORMAT}")
    version = manifest.get("version")
    if not isinstance(version, str):
        raise UpdateRejected(f"{where}: {MANIFEST} has no version")
    check_version(version, f"{where}: {MANIFEST}")
    entry = folder / ENTRY
    if not entry.is_file() or not os.access(entry, os.X_OK):
        raise UpdateRejected(f"{where}: {ENTRY} is missing or not executable")
    return version


def _put_in_place(incoming: Path, layout: Layout, version: str) -> None:
    """A version names one build: a copy a link still leads to (the previous release) is kept as it is;
    one nothing leads to (a failed try) is replaced."""
    target = layout.release(version)
    if target.exists() and version in layout.linked():
        log.info("release %s is on the box already: keeping that copy", version)
        shutil.rmtree(incoming)
        return
    old = None
    if target.exists():
        old = target.with_name(f"{INCOMING_PREFIX}old-{version}")
        target.rename(old)
    incoming.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def pack(folder: Path, version: str, out: Path) -> str:
    """Write `release.json` into `folder` and tar the folder to `out`; returns the artifact's sha256."""
    check_version(version, str(folder))
    manifest = json.dumps({"format": FORMAT, "version": version}, sort_keys=True) + "\n"
    (folder / MANIFEST).write_text(manifest, encoding="utf-8")
    read_manifest(folder, str(folder))
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(out, "w:gz") as tar:
            for path in sorted(folder.rglob("*")):
                tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False, filter=_as_root)
    except OSError as exc:
        raise UpdateError(f"{out}: cannot write the artifact ({exc.strerror})") from exc
    return file_sha256(out)


def _as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """The builder's user means nothing on the box (and the updater ignores owners anyway)."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info
