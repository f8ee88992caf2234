"""Release artifacts: packed from a folder, copied while hashed, unpacked whole or not at all."""

from __future__ import annotations

import io
import sys
import tarfile

import pytest

from firmware_agent.updates import ChecksumMismatch, Layout, Source, UpdateRejected
from firmware_agent.updates.artifact import fetch, pack, unpack
from firmware_agent.updates.signing import file_sha256
from tests.update_helpers import make_release


@pytest.fixture
def layout(tmp_path):
    return Layout(tmp_path / "root")


def packed(tmp_path, version="2.0"):
    out = tmp_path / f"{version}.tar.gz"
    sha = pack(make_release(tmp_path / f"src-{version}", version), version, out)
    return out, sha


def test_a_packed_release_unpacks_to_its_versioned_folder_with_its_entry_executable(tmp_path, layout):
    out, sha = packed(tmp_path)
    assert sha == file_sha256(out)
    release = unpack(out, layout)
    assert (release.version, release.path) == ("2.0", layout.releases / "2.0")
    assert (release.path / "bin/tillbridge").stat().st_mode & 0o111
    assert (release.path / "lib/README").read_text() == "the libraries of 2.0\n"
    assert [p.name for p in layout.releases.iterdir()] == ["2.0"]  # no temporary folder left


def test_an_unpacked_release_carries_its_byte_code_so_the_agent_does_not_compile_at_every_start(
    tmp_path, layout
):
    source = make_release(tmp_path / "src-2.0", "2.0")
    (source / "lib" / "shopmod").mkdir()
    (source / "lib" / "shopmod" / "__init__.py").write_text("ANSWER = 42\n")
    out = tmp_path / "2.0.tar.gz"
    pack(source, "2.0", out)
    release = unpack(out, layout)
    [compiled] = (release.path / "lib" / "shopmod" / "__pycache__").glob("__init__.*.pyc")
    assert compiled.name == f"__init__.{sys.implementation.cache_tag}.pyc"


def evil_archive(tmp_path, *members):
    """A gzip'd tar with a valid manifest and entry plus `members`: (name, data) or (name, "-> target")."""
    out = tmp_path / "evil.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        for member, data in [
            ("release.json", b'{"format": 1, "version": "6.6.6"}'),
            ("bin/tillbridge", b"#!/bin/sh\n"),
            *members,
        ]:
            info = tarfile.TarInfo(member)
            if isinstance(data, str):
                info.type, info.linkname = tarfile.SYMTYPE, data.removeprefix("-> ")
                tar.addfile(info)
                continue
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return out


@pytest.mark.parametrize(
    "member", [("../escaped", b"owned"), ("lib/passwd", "-> /etc/passwd"), ("lib/up", "-> ../../../x")]
)
def test_an_archive_reaching_outside_its_folder_is_refused_and_leaves_nothing(tmp_path, layout, member):
    with pytest.raises(UpdateRejected, match="not a release archive"):
        unpack(evil_archive(tmp_path, member), layout)
    assert list(layout.releases.iterdir()) == [] and not (layout.root / "escaped").exists()


def test_an_absolute_name_lands_inside_the_release(tmp_path, layout):
    release = unpack(evil_archive(tmp_path, ("/etc/escaped", b"inside")), layout)
    assert (release.path / "etc/escaped").read_bytes() == b"inside"


def test_a_folder_without_an_executable_entry_or_manifest_is_not_a_release(tmp_path, layout):
    folder = tmp_path / "not-a-release"
    folder.mkdir()
    with pytest.raises(UpdateRejected, match="bin/tillbridge is missing"):
        pack(folder, "1.0", tmp_path / "x.tar.gz")
    out = tmp_path / "no-manifest.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        tar.add(make_release(tmp_path / "r", "1.0") / "bin", arcname="bin")
    with pytest.raises(UpdateRejected, match=r"no readable release\.json"):
        unpack(out, layout)
    assert list(layout.releases.iterdir()) == []


def test_junk_is_not_a_release_archive(tmp_path, layout):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b" + bytes(200))
    with pytest.raises(UpdateRejected, match="not a release archive"):
        unpack(junk, layout)


def test_fetch_copies_while_hashing_and_keeps_nothing_that_does_not_match(tmp_path, layout):
    out, sha = packed(tmp_path)
    copy = fetch(Source(file=out), sha, layout.downloads)
    assert copy.read_bytes() == out.read_bytes() and copy.parent == layout.downloads
    copy.unlink()
    with pytest.raises(ChecksumMismatch, match=f"sha256 is {sha}"):
        fetch(Source(file=out), "0" * 64, layout.downloads)
    with pytest.raises(UpdateRejected, match="larger than 100 bytes"):
        fetch(Source(file=out), sha, layout.downloads, max_bytes=100)
    assert list(layout.downloads.iterdir()) == []


def test_a_source_is_one_url_or_one_file(tmp_path):
    with pytest.raises(UpdateRejected, match="exactly one"):
        Source()
    with pytest.raises(UpdateRejected, match="exactly one"):
        Source(url="https://example.invalid/a.tar.gz", file=tmp_path)
    with pytest.raises(UpdateRejected, match="only http:// and https://"):
        Source(url="ftp://example.invalid/a.tar.gz")


def test_a_version_the_links_still_lead_to_is_kept_as_it_is(tmp_path, layout):
    out, _ = packed(tmp_path, "1.0")
    unpack(out, layout)
    layout.point("previous", "1.0")
    marker = layout.releases / "1.0" / "lib" / "kept"
    marker.touch()
    unpack(out, layout)  # a downgrade to the previous release reuses it
    assert marker.exists()
    layout.point("previous", None)
    unpack(out, layout)  # nothing leads to it: a fresh copy
    assert not marker.exists()


def test_links_are_relative_and_switched_without_a_moment_missing(tmp_path, layout):
    for version in ("1.0", "2.0"):
        unpack(packed(tmp_path, version)[0], layout)
    layout.point("current", "1.0")
    layout.point("current", "2.0")
    assert str((layout.root / "current").readlink()) == "releases/2.0"
    assert sorted(p.name for p in layout.root.iterdir()) == ["current", "releases"]
    with pytest.raises(UpdateRejected, match="no such release"):
        layout.point("current", "3.0")
    with pytest.raises(UpdateRejected, match="not a valid release name"):
        layout.point("current", "../../etc")
