"""History scans on scripted repositories: attribution, grouping, ranges, odd repositories."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitrepo import GitRepo, env_file, fake_key
from keytrap.config import DEFAULT, Config
from keytrap.errors import GitError, UsageError
from keytrap.sources import history
from keytrap.sources.history import scan_history


def keys(result, kind: str = "api_key"):  # type: ignore[no-untyped-def]
    return [f for f in result.findings if f.kind == kind]


def one(result, kind: str = "api_key"):  # type: ignore[no-untyped-def]
    found = keys(result, kind)
    assert len(found) == 1, [(f.path, f.secret_redacted) for f in result.findings]
    return found[0]


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "repo")
    r.commit("initial", {"README.md": "# demo\n"})
    return r


def test_deleted_key_is_attributed_to_the_commit_that_added_it(repo: GitRepo) -> None:
    key, secret = fake_key(1), fake_key(2)
    added = repo.commit("add config", {"config/.env": env_file(key, secret)})
    repo.commit("remove config", remove=("config/.env",))
    repo.commit("later", {"README.md": "# demo 2\n"})
    result = scan_history(repo.path, DEFAULT)
    assert result.mode == "history"
    f = one(result)
    assert f.secret == key and f.commit == added
    assert (f.path, f.line, f.confidence) == ("config/.env", 1, "high")
    assert f.get("at_head") is False and f.get("in_worktree") is False
    assert f.get("commit_subject") == "add config"
    assert f.get("commit_author") == "Alice Example"
    assert f.get("commit_date") == "2024-01-01T00:00:02+00:00"
    assert f.get("refs") == ("refs/heads/main",) and f.get("refs_total") == 1
    assert one(result, "secret_key").secret == secret
    assert result.stats.commits == 4 and result.stats.blobs_scanned >= 3


def test_key_still_present_is_at_head_and_in_worktree(repo: GitRepo) -> None:
    key = fake_key(3)
    added = repo.commit("add", {"settings.py": f'BINANCE_API_KEY = "{key}"\n'})
    f = one(scan_history(repo.path, DEFAULT))
    assert f.commit == added and f.get("at_head") is True and f.get("in_worktree") is True


def test_key_only_on_a_side_branch(repo: GitRepo) -> None:
    key = fake_key(4)
    repo.git("checkout", "-q", "-b", "side")
    added = repo.commit("side work", {"side.env": env_file(key)})
    repo.git("checkout", "-q", "main")
    repo.commit("main work", {"README.md": "# main\n"})
    f = one(scan_history(repo.path, DEFAULT))
    assert f.commit == added and f.get("at_head") is False and f.get("in_worktree") is False
    assert f.get("refs") == ("refs/heads/side",)
    assert keys(scan_history(repo.path, DEFAULT, branch="main")) == []
    assert one(scan_history(repo.path, DEFAULT, branch="side")).commit == added


def test_key_only_on_a_tag(repo: GitRepo) -> None:
    key = fake_key(5)
    repo.git("checkout", "-q", "-b", "release")
    added = repo.commit("release with key", {"deploy/.env": env_file(key)})
    repo.git("tag", "-a", "-m", "v1", "v1.0")
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-q", "-D", "release")
    f = one(scan_history(repo.path, DEFAULT))
    assert f.commit == added and f.get("refs") == ("refs/tags/v1.0",)


def test_renamed_and_moved_key_is_one_finding_at_its_first_commit(repo: GitRepo) -> None:
    key = fake_key(6)
    added = repo.commit("add", {"a.env": env_file(key)})
    repo.git("mv", "a.env", "b.env")
    repo.commit("rename")
    (repo.path / "deep" / "dir").mkdir(parents=True)
    repo.git("mv", "b.env", "deep/dir/c.env")
    repo.commit("move")
    repo.commit("edit", {"deep/dir/c.env": "# moved\n" + env_file(key)})
    f = one(scan_history(repo.path, DEFAULT))
    assert f.commit == added and f.path == "a.env" and f.line == 1
    assert set(f.get("paths")) == {"a.env", "b.env", "deep/dir/c.env"}
    assert f.get("blobs") == 2 and f.get("occurrences") == 4
    assert f.get("at_head") is True


def test_merge_attributes_to_side_commit_and_evil_merge_to_the_merge(repo: GitRepo) -> None:
    key, evil = fake_key(7), fake_key(8)
    repo.git("checkout", "-q", "-b", "feature")
    side = repo.commit("feature key", {"feature.env": env_file(key)})
    repo.git("checkout", "-q", "main")
    repo.commit("main change", {"README.md": "# changed\n"})
    repo.git("merge", "-q", "--no-ff", "--no-commit", "feature")
    repo.write("merge.env", env_file(evil))
    repo.git("add", "merge.env")
    repo.git("commit", "-q", "-m", "merge feature")
    merge = repo.head()
    found = {f.secret: f for f in keys(scan_history(repo.path, DEFAULT))}
    assert found[key].commit == side and found[key].get("occurrences") == 1
    assert found[evil].commit == merge and found[evil].path == "merge.env"


def test_same_key_in_many_commits_is_one_grouped_finding(repo: GitRepo) -> None:
    key = fake_key(9)
    first = repo.commit("c0", {"app.cfg": env_file(key) + "version=0\n"})
    for i in range(1, 30):
        repo.commit(f"c{i}", {"app.cfg": env_file(key) + f"version={i}\n", f"copy{i % 3}.cfg": env_file(key) + f"x={i}\n"})
    result = scan_history(repo.path, DEFAULT)
    f = one(result)
    assert f.commit == first and f.get("commits") == 30
    assert f.get("occurrences") == 59 and f.get("blobs") == 59
    assert len(f.get("introduced_in")) == history.MAX_OCCURRENCES_LISTED


def test_range_sees_only_new_commits(repo: GitRepo) -> None:
    old, new = fake_key(10), fake_key(11)
    repo.commit("old key", {"old.env": env_file(old)})
    base = repo.head()
    added = repo.commit("new key", {"new.env": env_file(new)})
    repo.commit("unrelated", {"README.md": "# x\n"})
    for result in (
        scan_history(repo.path, DEFAULT, rev_range=f"{base}..HEAD"),
        scan_history(repo.path, DEFAULT, since_commit=base),
    ):
        assert result.mode == "range"
        f = one(result)
        assert f.secret == new and f.commit == added
        assert result.stats.commits == 2
    assert keys(scan_history(repo.path, DEFAULT, rev_range="HEAD..HEAD")) == []


def test_bad_range_and_unknown_revisions(repo: GitRepo) -> None:
    with pytest.raises(UsageError):
        scan_history(repo.path, DEFAULT, rev_range="--output=/tmp/x")
    with pytest.raises(UsageError):
        scan_history(repo.path, DEFAULT, rev_range="main")
    with pytest.raises(GitError, match="unknown"):
        scan_history(repo.path, DEFAULT, since_commit="deadbeef")
    with pytest.raises(GitError, match="unknown branch"):
        scan_history(repo.path, DEFAULT, branch="nope")
    with pytest.raises(UsageError):
        scan_history(repo.path, DEFAULT, branch="main", since_commit="HEAD")


def test_not_a_repo(tmp_path: Path) -> None:
    with pytest.raises(GitError) as exc:
        scan_history(tmp_path, DEFAULT)
    assert str(exc.value).startswith("not a git repository") and "\n" not in str(exc.value)


def test_bare_repo(repo: GitRepo, tmp_path: Path) -> None:
    key = fake_key(12)
    added = repo.commit("add", {"k.env": env_file(key)})
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(tmp_path / "b.git")], check=True)
    f = one(scan_history(tmp_path / "b.git", DEFAULT))
    assert f.commit == added and f.get("at_head") is True and f.get("in_worktree") is None


def test_linked_worktree(repo: GitRepo, tmp_path: Path) -> None:
    key = fake_key(13)
    added = repo.commit("add", {"k.env": env_file(key)})
    repo.git("worktree", "add", "-q", str(tmp_path / "linked"), "-b", "other")
    f = one(scan_history(tmp_path / "linked", DEFAULT))
    assert f.commit == added and f.get("in_worktree") is True


def test_shallow_clone_scans_what_is_there(repo: GitRepo, tmp_path: Path) -> None:
    old, new = fake_key(14), fake_key(15)
    repo.commit("old", {"old.env": env_file(old)})
    repo.commit("drop old", remove=("old.env",))
    repo.commit("new", {"new.env": env_file(new)})
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True)
    result = scan_history(clone, DEFAULT)
    assert [f.secret for f in keys(result)] == [new]
    assert any(n.startswith("shallow clone") for n in result.stats.notes)


def test_partial_clone_never_fetches_and_lists_missing_blobs(repo: GitRepo, tmp_path: Path) -> None:
    old, new = fake_key(16), fake_key(17)
    repo.commit("old", {"old.env": env_file(old)})
    repo.commit("drop old", remove=("old.env",))
    repo.commit("new", {"new.env": env_file(new)})
    repo.git("config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", "--no-local", f"file://{repo.path}", str(clone)],
        check=True, capture_output=True,
    )
    packs = sorted(os.listdir(clone / ".git" / "objects" / "pack"))
    result = scan_history(clone, DEFAULT)
    assert sorted(os.listdir(clone / ".git" / "objects" / "pack")) == packs  # nothing fetched
    assert [f.secret for f in keys(result)] == [new]
    missing = [s for s in result.stats.skipped if "partial clone" in s.reason]
    assert [s.path.split("@")[0] for s in missing] == ["old.env"]
    assert any(n.startswith("partial clone") for n in result.stats.notes)
    # a log pass for a few blobs never lets git filter by object there: git would try to
    # fetch every blob a diff lacks first (and fail, fetches being forbidden)
    loc = history.open_repo(clone).loc
    old_blob = repo.git("rev-parse", "HEAD~2:old.env")
    log = history.read_log(loc, ["--all"], {old_blob}, partial=True)
    assert [raw for _, raw in log.blobs[old_blob]] == [b"old.env"]
    with pytest.raises(GitError):
        history.read_log(loc, ["--all"], {old_blob})
    assert sorted(os.listdir(clone / ".git" / "objects" / "pack")) == packs


def test_corrupt_object_is_skipped_with_a_reason(repo: GitRepo) -> None:
    key = fake_key(18)
    repo.commit("add", {"k.env": env_file(key), "other.txt": "hello\n"})
    bad = repo.git("rev-parse", "HEAD:other.txt")
    loose = repo.path / ".git" / "objects" / bad[:2] / bad[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"garbage")
    result = scan_history(repo.path, DEFAULT)
    assert one(result).secret == key
    assert [s for s in result.stats.skipped if s.reason.startswith("corrupt")][0].path.startswith("other.txt@")


def test_huge_binary_and_unreachable_blobs(repo: GitRepo) -> None:
    big, binary, loose = fake_key(19), fake_key(20), fake_key(21)
    repo.commit("big", {"big.env": env_file(big) + "#" * 5000 + "\n"})
    repo.commit("bin", {"blob.bin": b"\0\1\2" + env_file(binary).encode()})
    oid = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=repo.path, input=env_file(loose).encode(),
        capture_output=True, check=True,
    ).stdout.decode().strip()
    repo.commit("png", {"logo.png": b"\x89PNG\r\n\x1a\n\0\0" + b"\x01\xfe" * 300})
    result = scan_history(repo.path, DEFAULT.with_(max_file_size=1000))
    found = {f.secret: f for f in keys(result)}
    # a binary is read as the working tree and the hook read it (its printable strings); an
    # image with nothing key-shaped in it is counted
    assert set(found) == {loose, binary}
    assert found[binary].encoding == "strings" and found[binary].path == "blob.bin"
    assert found[loose].get("reachable") is False and found[loose].commit is None
    assert oid[:12] in found[loose].path
    assert [s.reason for s in result.stats.skipped if s.path.startswith("big.env@")] == [
        f"larger than max_file_size ({len(env_file(big)) + 5001} bytes)"
    ]
    assert "1 binary blobs read (compiled Python, archives, printable strings)" in result.stats.notes
    assert "1 binary blobs skipped (nothing key-shaped in them)" in result.stats.notes


def test_odd_paths_submodules_and_lfs_pointers(repo: GitRepo) -> None:
    key = fake_key(22)
    odd = b"dir with space/caf\xe9.env"
    repo.write(odd, env_file(key))
    repo.write(".gitattributes", "*.bin filter=lfs\n")
    repo.write("asset.bin", "version https://git-lfs.github.com/spec/v1\noid sha256:"
               + "a" * 64 + "\nsize 12345\n")
    repo.git("add", "-A")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{repo.head()},vendor/lib")
    repo.git("commit", "-q", "-m", "odd things")  # not commit(): add -A would drop the gitlink
    added = repo.head()
    result = scan_history(repo.path, DEFAULT)
    f = one(result)
    assert f.commit == added and f.path == "dir with space/caf\\xe9.env"
    assert f.get("in_worktree") is True
    assert "submodules not followed: vendor/lib" in result.stats.notes


def test_excluded_paths_and_confidence_floor(repo: GitRepo) -> None:
    key = fake_key(23)
    repo.commit("add", {"fixtures/k.env": env_file(key), "notes.txt": f"value {fake_key(24)}\n"})
    assert keys(scan_history(repo.path, Config(exclude=("fixtures",), min_confidence="medium"))) == []
    assert len(keys(scan_history(repo.path, DEFAULT))) == 2


def test_worker_processes_and_progress(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "INLINE_BYTES", 0)
    monkeypatch.setattr(history, "MIN_CHUNK_BYTES", 1)
    monkeypatch.setattr(history, "STREAM_CHUNK_BYTES", 1)
    secrets = [fake_key(100 + i) for i in range(12)]
    for i, k in enumerate(secrets):
        repo.commit(f"c{i}", {f"k{i}.env": env_file(k)})
    seen: list[tuple[int, int]] = []
    result = scan_history(repo.path, DEFAULT, jobs=2, progress=lambda d, t: seen.append((d, t)))
    assert sorted(f.secret for f in keys(result)) == sorted(secrets)
    total = result.stats.blobs_scanned
    # the workers start while the listing runs: the total grows until it is known
    assert seen[0][0] == 0 and seen[-1] == (total, total) and len(seen) > 2
    assert all(d <= t for d, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert [t for _, t in seen] == sorted(t for _, t in seen)


def test_scan_writes_nothing_to_the_repository(repo: GitRepo) -> None:
    repo.commit("add", {"k.env": env_file(fake_key(25))})
    (repo.path / "README.md").write_text("dirty\n")  # an index refresh would want to write

    def snapshot() -> dict[str, tuple[int, int]]:
        out = {}
        for dirpath, _dirs, files in os.walk(repo.path / ".git"):
            for name in files:
                st = os.stat(os.path.join(dirpath, name))
                out[os.path.join(dirpath, name)] = (st.st_size, st.st_mtime_ns)
        return out

    before = snapshot()
    scan_history(repo.path, DEFAULT)
    scan_history(repo.path, DEFAULT, since_commit="HEAD~1")
    assert snapshot() == before


def test_workers_start_cleanly_from_a_script_with_threads_and_no_main_guard(
    repo: GitRepo, tmp_path: Path
) -> None:
    """Workers are fresh interpreters: no fork of a threaded parent (a rich progress bar has a
    thread), no re-run of the caller's script (what multiprocessing's spawn would do)."""
    secrets = [fake_key(200 + i) for i in range(4)]
    for i, k in enumerate(secrets):
        repo.commit(f"c{i}", {f"k{i}.env": env_file(k)})
    script = tmp_path / "no_guard.py"
    script.write_text(
        "import threading, sys\n"
        "from pathlib import Path\n"
        "from keytrap.config import DEFAULT\n"
        "from keytrap.sources import history\n"
        "history.INLINE_BYTES = 0\n"
        "history.MIN_CHUNK_BYTES = 1\n"
        "stop = threading.Event()\n"
        "threading.Thread(target=stop.wait, daemon=True).start()\n"
        "r = history.scan_history(Path(sys.argv[1]), DEFAULT, jobs=2)\n"
        "stop.set()\n"
        "print(' '.join(sorted(f.secret for f in r.findings if f.kind == 'api_key')))\n"
    )
    src = str(Path(history.__file__).resolve().parents[2])
    proc = subprocess.run(
        [sys.executable, str(script), str(repo.path)], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": src},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == sorted(secrets)


def test_a_dead_worker_is_an_error_not_a_hang(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "INLINE_BYTES", 0)
    monkeypatch.setattr(history, "MIN_CHUNK_BYTES", 1)
    monkeypatch.setattr(history, "_WORKER_CODE", "import sys; sys.stderr.write('boom\\n'); sys.exit(9)")
    for i in range(4):
        repo.commit(f"c{i}", {f"f{i}.txt": f"{i}\n"})
    with pytest.raises(GitError, match=r"a scan worker exited \(code 9\): boom"):
        scan_history(repo.path, DEFAULT, jobs=2)


def test_range_scans_keep_keys_found_in_executables(repo: GitRepo) -> None:
    """A range (as CI and the pre-push hook run it) reads executables as their strings, as the
    hook does, in its first pass and when it attributes the hits."""
    k, s = fake_key(901), fake_key(902)
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 57 + env_file(k).encode() + f"BINANCE_API_SECRET={s}\n".encode() + b"\x00" * 64
    repo.commit("base", {"README": "x\n"})
    repo.commit("bin", {"bot": elf})
    found = scan_history(repo.path, DEFAULT, rev_range="HEAD~1..HEAD", jobs=1).findings
    assert {f.secret for f in found} >= {k, s}


def test_workers_never_wait_on_each_other_with_large_messages() -> None:
    """The parent writes two chunks ahead while a worker writes a large answer: neither may
    block the other (the worker's input pipe holds both chunks)."""
    code = (
        "from keytrap.sources import history\n"
        "from keytrap.config import Config\n"
        "history._WORKER_CODE = (\"exec('from keytrap import childproc\\\\nfrom keytrap.sources.history import _ChunkResult\\\\n\"\n"
        "    \"i,o=childproc.child_streams()\\\\nchildproc.recv(i)\\\\nwhile True:\\\\n c=childproc.recv(i)\\\\n if c is None: break\\\\n\"\n"
        "    \" childproc.send(o,_ChunkResult(blobs=len(c),problems=[(x,x*3) for x in c]))')\")\n"
        "chunks = [[f'{i:08x}{j:032x}' for j in range(4096)] for i in range(6)]\n"
        "got = []\n"
        "history._run_workers(None, Config(), False, 1, lambda: chunks.pop() if chunks else None,\n"
        "                     lambda: True, lambda part, n: got.append(n))\n"
        "print(len(got))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.split() == ["6"], proc.stderr[-500:]


def test_empty_repository(tmp_path: Path) -> None:
    empty = GitRepo(tmp_path / "empty")
    result = scan_history(empty.path, DEFAULT)
    assert result.findings == () and result.stats.commits == 0 and result.stats.blobs_scanned == 0
    with pytest.raises(GitError, match="unknown"):
        scan_history(empty.path, DEFAULT, since_commit="HEAD")


def test_utf16_blob_in_history_is_found(tmp_path) -> None:
    import subprocess

    from helpers import random_secret

    from keytrap.config import DEFAULT
    from keytrap.sources.history import scan_history

    repo = tmp_path / "r"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    key = random_secret()
    (repo / "config.ini").write_bytes(f"[binance]\r\napi_key = {key}\r\n".encode("utf-16"))
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "utf16"], cwd=repo, check=True)
    (repo / "config.ini").unlink()
    subprocess.run(["git", "commit", "-qam", "rm"], cwd=repo, check=True)
    result = scan_history(repo, DEFAULT)
    assert [(f.path, f.line, f.kind) for f in result.findings] == [("config.ini", 2, "api_key")]


def test_jobs_sets_the_worker_processes(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "INLINE_BYTES", 0)
    monkeypatch.setattr(history, "MIN_CHUNK_BYTES", 1)
    secrets = [fake_key(500 + i) for i in range(8)]
    for i, k in enumerate(secrets):
        repo.commit(f"c{i}", {f"k{i}.env": env_file(k)})
    started: list[int] = []
    real = history._Worker

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, *a, **k) -> None:  # type: ignore[no-untyped-def]
            started.append(1)
            super().__init__(*a, **k)

    monkeypatch.setattr(history, "_Worker", Counting)
    found = {}
    for jobs in (1, 3):
        started.clear()
        found[jobs] = sorted(f.secret for f in keys(scan_history(repo.path, DEFAULT, jobs=jobs)))
        assert len(started) == (0 if jobs == 1 else 3)
    assert found[1] == found[3] == sorted(secrets)
    monkeypatch.setattr(history, "available_cores", lambda: 2)
    started.clear()
    scan_history(repo.path, DEFAULT)  # default: the available cores
    assert len(started) == 2
    with pytest.raises(UsageError, match="--jobs"):
        scan_history(repo.path, DEFAULT, jobs=0)


def test_cli_jobs_option(repo: GitRepo) -> None:
    repo.commit("add", {"k.env": env_file(fake_key(520))})
    run = lambda *a: subprocess.run([sys.executable, "-m", "keytrap", "scan", str(repo.path), "--history",  # noqa: E731
                                     "--no-worktree", "-f", "json", *a], capture_output=True, text=True, timeout=120)
    ok = run("--jobs", "1")
    assert ok.returncode == 1 and '"api_key"' in ok.stdout
    bad = run("--jobs", "0")
    assert bad.returncode == 2 and "--jobs must be between 1 and 256" in bad.stderr


# --- a partial clone: nothing fetched, no promisor command, unreadable objects counted ----------


def hostile_partial_clone(repo: GitRepo, tmp_path: Path) -> tuple[Path, Path]:
    """A blob:none clone of ``repo`` whose promisor remote would run programs if fetched from:
    an ssh:// URL with core.sshCommand, a remote uploadpack, core.fsmonitor. Returns the clone
    and the folder where those programs would leave a marker."""
    repo.git("config", "uploadpack.allowFilter", "true")
    clone, markers = tmp_path / "partial", tmp_path / "markers"
    markers.mkdir()
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", "--no-local", "--no-checkout",
                    f"file://{repo.path}", str(clone)], check=True, capture_output=True)
    for name in ("ssh", "uploadpack"):
        prog = tmp_path / f"{name}.sh"
        prog.write_text(f"#!/bin/sh\ntouch {markers}/{name}\n")
        prog.chmod(0o755)
    for k, v in (("core.sshCommand", f"{tmp_path}/ssh.sh"), ("remote.origin.url", "ssh://127.0.0.1/x.git"),
                 ("remote.origin.uploadpack", f"{tmp_path}/uploadpack.sh"), ("core.fsmonitor", f"{tmp_path}/ssh.sh")):
        subprocess.run(["git", "-C", str(clone), "config", k, v], check=True)
    return clone, markers


def test_partial_clone_unreadable_objects_are_counted_and_never_fetched(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("one", {"a.env": env_file(fake_key(30))})
    repo.commit("two", {"a.env": env_file(fake_key(31)), "b.txt": "hello\n"})
    clone, markers = hostile_partial_clone(repo, tmp_path)
    packs = sorted(os.listdir(clone / ".git" / "objects" / "pack"))
    ranged = scan_history(clone, DEFAULT, rev_range="HEAD~1..HEAD")
    assert ranged.mode == "range" and ranged.stats.unreadable == 2  # a.env and b.txt of "two"
    assert sum("partial clone, not fetched" in s.reason for s in ranged.stats.skipped) == 2
    full = scan_history(clone, DEFAULT)
    assert full.stats.unreadable == sum("not fetched" in s.reason for s in full.stats.skipped) >= 3
    assert sorted(os.listdir(clone / ".git" / "objects" / "pack")) == packs  # nothing fetched
    assert os.listdir(markers) == []  # no promisor command, no fsmonitor ran
