"""keytrap.sources.staged.read_blobs: one reader or two side by side, the same answers."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from keytrap.errors import GitError
from keytrap.sources import staged


def _repo_with_blobs(tmp_path: Path, n: int) -> tuple[Path, list[str], dict[str, bytes]]:
    repo = tmp_path / "r"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    contents = {}
    for i in range(n):
        data = f"blob {i}\n".encode() * (i + 1)
        sha = subprocess.run(["git", "-C", str(repo), "hash-object", "-w", "--stdin"], input=data,
                             capture_output=True, check=True).stdout.decode().strip()
        contents[sha] = data
    return repo, list(contents), contents


@pytest.fixture(params=[10_000, 2], ids=["one reader", "two readers"])
def readers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(staged, "PARALLEL_MIN", request.param)
    monkeypatch.setattr("keytrap.childproc.available_cores", lambda: 2)
    return request.param


def test_contents_sizes_and_missing_objects(tmp_path: Path, readers: int) -> None:
    repo, shas, contents = _repo_with_blobs(tmp_path, 12)
    missing = "0" * 39 + "1"
    got = staged.read_blobs(str(repo), [*shas, missing], max_size=60)
    for sha in shas:
        data = contents[sha]
        assert got[sha] == (data if len(data) <= 60 else len(data))  # over the limit: its size
    assert got[missing] == "missing object"
    assert set(got) == {*shas, missing}


def test_a_corrupt_object_in_either_half_is_an_error(tmp_path: Path, readers: int) -> None:
    repo, shas, _contents = _repo_with_blobs(tmp_path, 8)
    victim = shas[-1]  # in the second half when two readers share the list
    path = repo / ".git" / "objects" / victim[:2] / victim[2:]
    os.chmod(path, 0o644)
    path.write_bytes(b"not zlib at all")
    with pytest.raises(GitError, match="corrupt"):
        staged.read_blobs(str(repo), shas, max_size=1 << 20)
