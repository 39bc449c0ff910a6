"""The one door to git: a repository whose start-up files could hang git is refused, and every
captured git command has a time limit."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import git
from test_cli import one_line_error, run

from keytrap import gitrun
from keytrap.errors import GitError, UsageError


@pytest.fixture
def committed(repo: Path, key: str) -> Path:
    (repo / "prod.env").write_text(f"BINANCE_API_KEY={key}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    return repo


def _fresh(path: Path) -> gitrun.Location:
    gitrun._ACCEPTED.clear()  # the check runs once per repository and process
    return gitrun.Location(top=str(path))


def _include(repo: Path, target: str, key: str = "include.path") -> None:
    git(repo, "config", key, target)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge", "folder"])
def test_config_include_that_could_hang_git_is_refused(committed: Path, tmp_path: Path, kind: str) -> None:
    target = tmp_path / "inc"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "huge":
        with open(target, "wb") as fh:
            fh.truncate(gitrun.CONFIG_LIMIT + 1)
    elif kind == "folder":
        target.mkdir()
    _include(committed, "/dev/zero" if kind == "dev-zero" else str(target))
    with pytest.raises(GitError, match="refusing to run git in .*: the included config file"):
        gitrun.run(_fresh(committed), "rev-parse", "HEAD")
    for args in (("scan", "."), ("scan", ".", "--history"), ("scan", ".", "--range", "HEAD..HEAD"),
                 ("scan", "--staged"), ("hook",)):
        proc = run(*args, cwd=committed)  # run() has a 120 s timeout: a hang fails the test
        assert proc.returncode == 2, (args, proc.stderr)
        assert "refusing to run git" in one_line_error(proc, ignore="keytrap: config")


def test_include_chain_is_followed_relative_to_each_file(committed: Path) -> None:
    """config -> a (relative to .git/) -> sub/b (relative to a's folder) -> FIFO; includeIf too."""
    gd = committed / ".git"
    (gd / "sub").mkdir()
    (gd / "a").write_text("[include]\n\tpath = sub/b\n")
    (gd / "sub" / "b").write_text('[includeIf "gitdir:/nowhere/"]\n\tpath = ../fifo\n')
    os.mkfifo(gd / "fifo")
    _include(committed, "a")
    with pytest.raises(GitError, match=r"included config file .*sub/\.\./fifo is a FIFO"):
        gitrun.run(_fresh(committed), "rev-parse", "HEAD")


def test_ordinary_includes_and_missing_ones_are_accepted(committed: Path, tmp_path: Path) -> None:
    (tmp_path / "extra.cfg").write_text("[core]\n\tquotepath = off\n")
    _include(committed, str(tmp_path / "extra.cfg"))
    git(committed, "config", "--add", "include.path", "does-not-exist")
    proc = gitrun.run(_fresh(committed), "rev-parse", "HEAD")
    assert proc.returncode == 0 and len(proc.stdout.strip()) == 40


def test_include_cycle_and_depth(committed: Path) -> None:
    gd = committed / ".git"
    plain = (gd / "config").read_text()
    (gd / "loop").write_text("[include]\n\tpath = loop\n")  # a file including itself: seen once
    (gd / "config").write_text(plain + "[include]\n\tpath = loop\n")
    gitrun.check_repository(_fresh(committed))
    for i in range(gitrun.INCLUDE_DEPTH + 2):
        (gd / f"d{i}").write_text(f"[include]\n\tpath = d{i + 1}\n")
    (gd / "config").write_text(plain + "[include]\n\tpath = d0\n")
    with pytest.raises(GitError, match="nested more than 10 deep"):
        gitrun.check_repository(_fresh(committed))


def test_config_itself_and_a_loose_ref_that_is_a_fifo(committed: Path) -> None:
    os.mkfifo(committed / ".git" / "refs" / "heads" / "evil")
    with pytest.raises(GitError, match="the ref .*evil is a FIFO"):
        gitrun.run(_fresh(committed), "for-each-ref")
    proc = run("scan", ".", "--history", cwd=committed)
    assert proc.returncode == 2 and "is a FIFO" in one_line_error(proc, ignore="keytrap: config")
    os.unlink(committed / ".git" / "refs" / "heads" / "evil")
    config = committed / ".git" / "config"
    config.unlink()
    os.mkfifo(config)
    with pytest.raises(GitError, match="the config file .*config is a FIFO"):
        gitrun.run(_fresh(committed), "rev-parse", "HEAD")


def test_captured_git_commands_time_out_and_their_helpers_die(committed: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    slow = f"!sh -c 'echo $$ > {pidfile}; exec sleep 60'"
    start = time.monotonic()
    with pytest.raises(gitrun.GitTimeout, match="did not finish within 1 s") as err:
        gitrun.run(_fresh(committed), "-c", f"alias.slow={slow}", "slow", timeout=1)
    assert isinstance(err.value, subprocess.TimeoutExpired) and isinstance(err.value, GitError)
    assert time.monotonic() - start < 30
    pid = int(pidfile.read_text())
    for _ in range(100):  # the shell git started is killed with it (same process group)
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except OSError:
            break
        if state == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail("the helper git started still runs")


def test_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, committed: Path) -> None:
    monkeypatch.setenv("KEYTRAP_GIT_TIMEOUT", "0.5")
    assert gitrun.default_timeout() == 0.5
    with pytest.raises(gitrun.GitTimeout, match="within 0.5 s"):
        gitrun.run(_fresh(committed), "-c", "alias.slow=!sleep 5", "slow")
    for bad in ("soon", "0", "-1", "inf", "nan"):
        monkeypatch.setenv("KEYTRAP_GIT_TIMEOUT", bad)
        with pytest.raises(UsageError, match="KEYTRAP_GIT_TIMEOUT must be a positive number"):
            gitrun.default_timeout()
    monkeypatch.delenv("KEYTRAP_GIT_TIMEOUT")
    assert gitrun.default_timeout() == gitrun.GIT_TIMEOUT


def test_clone_from_a_local_repository_with_a_fifo_include_is_refused(committed: Path, tmp_path: Path) -> None:
    """upload-pack runs in the source repository and reads its config: checked first, so an
    audit of ``file://REPO`` fails at once instead of waiting for the clone's timeout."""
    os.mkfifo(committed / ".git" / "fifo")
    _include(committed, "fifo")
    gitrun._ACCEPTED.clear()
    for url in (f"file://{committed}", str(committed)):
        with pytest.raises(GitError, match="refusing to run git in .*is a FIFO"):
            gitrun.clone_mirror(url, str(tmp_path / "mirror.git"), timeout=60)
    assert not (tmp_path / "mirror.git").exists()


def test_no_git_on_path_is_one_error_from_the_runner(committed: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Every start of git goes through the runner, which turns "no git" into one GitError
    (``GitNotStarted``): every command exits 2 with one line, the hook fails closed, and the
    git status of files (an extra of working-tree reports) is left out instead."""
    empty = tmp_path / "no-git"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    loc = _fresh(committed)
    for start in (lambda: gitrun.run(loc, "status"),
                  lambda: gitrun.popen(loc, "status", stdout=subprocess.PIPE),
                  lambda: gitrun.popen_logged(loc, "status", stdout=subprocess.PIPE)):
        with pytest.raises(gitrun.GitNotStarted, match="^git is not installed or not on PATH$"):
            start()
    from keytrap.sources import gitstatus

    assert gitstatus._git_z(str(committed), ["ls-files", "-z"]) == set()
    for args in (["scan", str(committed), "--history"], ["scan", "--staged"], ["hook"],
                 ["scan", str(committed), "--range", "HEAD~1..HEAD"]):
        proc = run(*args, cwd=committed, env={"PATH": str(empty)})
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "git is not installed or not on PATH" in one_line_error(proc), args
    tree = run("scan", str(committed), "--format", "json", cwd=committed, env={"PATH": str(empty)})
    assert tree.returncode == 1 and "Traceback" not in tree.stderr  # the working tree needs no git


def test_no_git_on_path_is_the_same_error_for_transfers_and_config_reads(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way the runner starts git (captured, streamed, transfers, its own config reads)
    turns "no git" into the same GitNotStarted."""
    empty = tmp_path / "no-git"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(gitrun.GitNotStarted, match="^git is not installed or not on PATH$"):
        gitrun.clone_mirror("https://example.invalid/r.git", str(tmp_path / "m.git"))
    config = tmp_path / "config"
    config.write_text("[include]\n\tpath = other\n")
    assert gitrun._includes(str(config)) == []  # no git to read includes with: none followed
