"""The cat-file reader: repository checks, object listing, streaming, bad objects."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gitrepo import GitRepo
from keytrap.errors import GitError
from keytrap.sources.files import decode_for_scan
from keytrap.sources.gitcat import CatFile, iter_objects, open_repo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "repo")
    r.commit("one", {"a.txt": "alpha\n", "dir with space/b.txt": "beta\n"})
    return r


def test_not_a_repo_is_one_line_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError) as exc:
        open_repo(tmp_path)
    assert "not a git repository" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_missing_path_is_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="does not exist"):
        open_repo(tmp_path / "nope")


def test_open_repo_describes_normal_bare_and_linked(repo: GitRepo, tmp_path: Path) -> None:
    info = open_repo(repo.path)
    assert info.work_tree == repo.path.resolve() and not info.bare and not info.shallow
    assert not info.partial and not info.linked_worktree
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(tmp_path / "bare.git")], check=True)
    assert open_repo(tmp_path / "bare.git").bare
    repo.git("worktree", "add", "-q", str(tmp_path / "linked"), "-b", "other")
    linked = open_repo(tmp_path / "linked")
    assert linked.linked_worktree and linked.work_tree == (tmp_path / "linked").resolve()


def test_iter_objects_lists_blobs_with_sizes(repo: GitRepo) -> None:
    blobs = {o.oid: o.size for o in iter_objects(repo.path)}
    assert blobs == {repo.git("rev-parse", "HEAD:a.txt"): 6, repo.git("rev-parse", "HEAD:dir with space/b.txt"): 5}
    kinds = {o.type for o in iter_objects(repo.path, None)}
    assert kinds == {"blob", "tree", "commit"}


def test_read_many_in_order_with_missing(repo: GitRepo) -> None:
    a = repo.git("rev-parse", "HEAD:a.txt")
    with CatFile(repo.path) as cat:
        answers = list(cat.read_many([a, "0" * 40, "HEAD:dir with space/b.txt"]))
    assert [b.status for b in answers] == ["ok", "missing", "ok"]
    assert answers[0].data == b"alpha\n" and answers[0].type == "blob"
    assert answers[2].data == b"beta\n"


def test_read_index_paths_with_spaces_newlines_and_latin1(repo: GitRepo) -> None:
    odd = b"caf\xe9 \nname.txt"
    repo.write(odd, "gamma\n")
    repo.git("add", "-A")
    with CatFile(repo.path) as cat:
        assert cat.read(":" + os.fsdecode(odd)).data == b"gamma\n"
        assert cat.read(":a.txt").data == b"alpha\n"
        assert cat.read(":nope").status == "missing"
        assert cat.read(":dir with space/b.txt").data == b"beta\n"  # same process, still alive


def test_max_size_skips_large_objects_and_keeps_streaming(repo: GitRepo) -> None:
    repo.commit("big", {"big.txt": "x" * 5000})
    ids = [repo.git("rev-parse", f"HEAD:{p}") for p in ("big.txt", "a.txt")]
    with CatFile(repo.path, max_size=1000) as cat:
        big, small = cat.read_many(ids)
    assert big.status == "too_large" and big.data is None and big.size == 5000
    assert small.data == b"alpha\n"


def test_corrupt_loose_object_is_reported_not_raised(repo: GitRepo) -> None:
    a = repo.git("rev-parse", "HEAD:a.txt")
    b = repo.git("rev-parse", "HEAD:dir with space/b.txt")
    loose = repo.path / ".git" / "objects" / a[:2] / a[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not zlib at all")
    with CatFile(repo.path) as cat:
        answers = list(cat.read_many([a, b]))
    assert answers[0].status in ("missing",) or answers[0].status.startswith("corrupt")
    assert answers[1].data == b"beta\n"
    assert {o.oid: o.type for o in iter_objects(repo.path)}[a] == "corrupt"


def test_abandoned_stream_does_not_hang(repo: GitRepo) -> None:
    for i in range(50):
        repo.write(f"f{i}.txt", f"{i}\n" * 1000)
    repo.commit("many")
    ids = [o.oid for o in iter_objects(repo.path)]
    with CatFile(repo.path) as cat:
        stream = cat.read_many(ids * 20)
        next(stream)
        stream.close()
        assert cat.read(":a.txt").data == b"alpha\n"


def test_binary_rule_is_gits() -> None:
    assert decode_for_scan(b"abc\0def") is None
    assert decode_for_scan(b"abc" * 4000) is not None
    assert decode_for_scan(b"x" * 8000 + b"\0") is not None


def test_in_halves_reads_both_halves_and_raises_either_error() -> None:
    from keytrap.sources.gitcat import in_halves

    seen: list[list[str]] = []

    def read(part: list[str]) -> list[str]:
        seen.append(part)
        return [p.upper() for p in part]

    assert in_halves(read, ["a", "b", "c"]) == (["A"], ["B", "C"])
    assert sorted(seen) == [["a"], ["b", "c"]]

    def fail_second(part: list[str]) -> list[str]:
        if part == ["y"]:
            raise GitError("the second half failed")
        return part

    with pytest.raises(GitError, match="second half"):
        in_halves(fail_second, ["x", "y"])
