"""Hostile repositories: scanning one runs none of its code.

Each case builds a repository an attacker controls (a committed ``keytrap/`` package, a bare
repository committed inside the tree, a ``.git/config`` naming programs) and runs keytrap on it
the way a user would: the installed console script, from inside the repository. A program the
repository names would create a marker file; the tests assert it never exists.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitrepo import GitRepo

KEYTRAP = str(Path(sys.executable).with_name("keytrap"))


def keytrap(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k.startswith("GIT_CONFIG")}
    return subprocess.run(
        [KEYTRAP, *args], cwd=cwd, capture_output=True, text=True, input=stdin, env=env, timeout=300,
    )


def evil_program(tmp_path: Path, name: str = "evil") -> tuple[Path, Path]:
    """An executable that leaves a marker file when anything runs it."""
    marker = tmp_path / f"{name}-ran"
    script = tmp_path / f"{name}.sh"
    script.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 0\n")
    script.chmod(0o755)
    return script, marker


@pytest.fixture
def leaky(tmp_path: Path, key: str, secret: str) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("keys", {".env": f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n"})
    return repo


def test_history_workers_never_import_a_committed_keytrap_package(tmp_path: Path, key: str, secret: str) -> None:
    """Enough blobs for worker processes; a ``keytrap/`` package at the top of the scanned repo."""
    marker = tmp_path / "imported"
    repo = GitRepo(tmp_path / "repo")
    files: dict[str, str] = {
        "keytrap/__init__.py": f"open({str(marker)!r}, 'w').write('pwned')\n",
        "keytrap/sources/__init__.py": f"open({str(marker)!r}, 'w').write('pwned')\n",
        "keytrap/sources/history.py": f"open({str(marker)!r}, 'w').write('pwned')\n",
        ".env": f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n",
    }
    for i in range(5):  # > 8 MiB of blobs: the scan starts worker processes
        files[f"data/blob{i}.txt"] = secrets.token_urlsafe(2 * 1024 * 1024)
    repo.commit("bot", files)
    for args in (("scan", ".", "--history"), ("scan", ".", "--history", "--no-worktree"),
                 ("scan", ".", "--range", "HEAD~0..HEAD")):
        proc = keytrap(repo.path, *args, "--format", "json")
        assert proc.returncode in (0, 1), proc.stderr
        assert not marker.exists(), f"{args}: the scanned repository's keytrap package was imported"
    assert keytrap(repo.path, "scan", ".", "--history", "--format", "json").returncode == 1


def test_installed_hook_fallback_runs_python_isolated(tmp_path: Path) -> None:
    from keytrap.install import render_hook

    text = render_hook("pre-commit")
    for line in text.splitlines():
        if "import keytrap" in line:
            assert "-I -c 'import keytrap'" in line and "-I -m keytrap" in line, line


def _nested_bare_repo(top: Path, program: Path) -> None:
    """``vendor/lib/``: a git directory (``HEAD``, ``objects/``, ``refs/``, ``index``) committed as
    ordinary files, whose config makes it its own work tree and names a program for git to run."""
    lib = top / "vendor" / "lib"
    inner = GitRepo(lib)
    inner.commit("inner", {"a.txt": "hello\n"})
    for entry in (lib / ".git").iterdir():
        entry.rename(lib / entry.name)
    (lib / ".git").rmdir()
    shutil.rmtree(lib / "hooks", ignore_errors=True)
    with open(lib / "config", "a") as fh:
        fh.write(f"[core]\n\tbare = false\n\tworktree = .\n\tfsmonitor = {program}\n")


def test_a_repository_committed_inside_the_tree_is_never_asked(tmp_path: Path, key: str, secret: str) -> None:
    program, marker = evil_program(tmp_path)
    repo = GitRepo(tmp_path / "repo")
    _nested_bare_repo(repo.path, program)
    repo.write("vendor/lib/.env", f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n")
    repo.write("vendor/lib/sub/keys.env", f"BINANCE_API_KEY={key}\n")
    repo.commit("vendor a library")
    for args in (("scan", "."), ("scan", "vendor/lib"), ("scan", "vendor/lib/sub/keys.env"),
                 ("scan", ".", "--history"), ("baseline", "."), ("doctor", ".")):
        proc = keytrap(repo.path, *args)
        assert proc.returncode in (0, 1), (args, proc.stderr)
        assert not marker.exists(), f"{args}: git ran a program named by a nested repository"
    for args in (("scan", "."), ("scan", "lib"), ("scan", "lib/sub/keys.env")):
        proc = keytrap(repo.path / "vendor", *args)
        assert proc.returncode in (0, 1), (args, proc.stderr)
        assert not marker.exists(), f"{args} from vendor/: git ran a nested repository's program"


def _signed_commit(repo: GitRepo) -> None:
    """A commit carrying a (fake) signature, so ``log --show-signature`` would call gpg."""
    tree = repo.git("write-tree")
    parent = repo.head()
    body = (
        f"tree {tree}\nparent {parent}\nauthor A <a@example.com> 1700000000 +0000\n"
        "committer A <a@example.com> 1700000000 +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nsigned\n"
    )
    proc = subprocess.run(["git", "hash-object", "-w", "-t", "commit", "--stdin"], cwd=repo.path,
                          input=body.encode(), capture_output=True, check=True, env=repo.env())
    repo.git("update-ref", "refs/heads/main", proc.stdout.decode().strip())


def test_the_scanned_repositorys_own_config_runs_nothing(leaky: GitRepo, tmp_path: Path, key: str) -> None:
    program, marker = evil_program(tmp_path)
    _signed_commit(leaky)
    leaky.write("staged.env", f"BINANCE_API_KEY={key}\n")
    leaky.git("add", "staged.env")
    leaky.git("config", "core.fsmonitor", str(program))  # set last: the setup's own git runs it
    leaky.git("config", "log.showSignature", "true")
    leaky.git("config", "gpg.program", str(program))
    assert not marker.exists()
    for args in (("scan", "."), ("scan", "--staged"), ("hook",), ("hook", "staged.env"), ("doctor",),
                 ("baseline", "."), ("scan", ".", "--history"), ("scan", ".", "--range", "HEAD~1..HEAD"),
                 ("scan", ".", "--since-commit", "HEAD~1")):
        proc = keytrap(leaky.path, *args)
        assert proc.returncode in (0, 1), (args, proc.stderr)
        assert not marker.exists(), f"{args}: git ran a program named in .git/config"
    # the baseline written above is not the repository's business: leave the tree as it was
    (leaky.path / ".keytrap-baseline.json").unlink(missing_ok=True)


def test_git_is_pointed_at_the_repository_top_only() -> None:
    from keytrap import gitrun

    cmd = gitrun.argv("/some/top", "ls-files")
    assert cmd[:3] == ["git", "-C", "/some/top"]
    joined = " ".join(cmd)
    for setting in ("core.fsmonitor=false", "log.showSignature=false", "safe.bareRepository=explicit",
                    "protocol.allow=never"):
        assert setting in joined
    bare = gitrun.argv(gitrun.Location(git_dir="/m/repo.git"), "log")
    assert bare[:3] == ["git", "--git-dir", "/m/repo.git"]


def test_every_git_call_goes_through_the_runner() -> None:
    """No module but gitrun builds a ``git`` command line."""
    src = Path(__file__).resolve().parents[1] / "src" / "keytrap"
    offenders = []
    for path in src.rglob("*.py"):
        if path.name == "gitrun.py":
            continue
        text = path.read_text()
        if '["git",' in text or "['git'," in text or '"git", "-C"' in text:
            offenders.append(str(path.relative_to(src)))
    assert offenders == []
