"""A scan never writes to what it scans: not the working tree, not ``.git``.

Every file, folder and symlink of the repository (``.git`` included) is fingerprinted by
path, type, mode, mtime (ns) and content before and after each kind of run; they must be
identical. Folder mtimes catch a temporary file created and removed again.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from conftest import git
from fakebinance import fake_networks, network_flags
from helpers import random_secret
from test_cli import run


def tree_state(top: Path) -> dict[str, tuple]:
    state: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(top, followlinks=False):
        for name in [*dirs, *files, "."]:
            p = os.path.join(folder, name)
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                digest = os.readlink(p)
            else:
                digest = ""
            state[os.path.relpath(p, top)] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_mtime_ns, digest)
    return state


@pytest.fixture
def busy_repo(tmp_path: Path) -> tuple[Path, str, str]:
    """History with a removed key, a tag, a stash, a staged key, untracked and ignored files."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    old_key = random_secret()
    (repo / ".gitignore").write_text("local.env\n")
    (repo / "bot.py").write_text(f"client = Client('{old_key}', 'x')  # binance\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first")
    (repo / "bot.py").write_text("client = Client(os.environ['K'], os.environ['S'])\n")
    git(repo, "commit", "-qam", "remove key")
    git(repo, "tag", "v1")
    (repo / "bot.py").write_text("# stashed work\n")
    git(repo, "stash", "-q")
    (repo / "README.md").write_text("bot\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-qm", "readme")
    (repo / "local.env").write_text(f"BINANCE_API_KEY={random_secret()}\n")  # ignored
    (repo / "notes.txt").write_text(f"binance secret: {random_secret()}\n")  # untracked
    (repo / "link").symlink_to("bot.py")
    (repo / "staged.env").write_text(f"BINANCE_API_SECRET={random_secret()}\n")
    git(repo, "add", "staged.env")
    (repo / "staged.env").write_text("BINANCE_API_SECRET=${FROM_ENV}\n")  # worktree differs
    return repo, git(repo, "rev-parse", "HEAD~2").strip(), git(repo, "rev-parse", "HEAD").strip()


def assert_untouched(repo: Path, *args: str, cwd: Path | None = None, codes: tuple[int, ...] = (0, 1)) -> None:
    before = tree_state(repo)
    proc = run(*args, cwd=cwd)
    assert proc.returncode in codes, (args, proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    after = tree_state(repo)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"{' '.join(args)} changed {changed}"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_worktree_scan(busy_repo: tuple[Path, str, str], fmt: str) -> None:
    repo, _, _ = busy_repo
    assert_untouched(repo, "scan", str(repo), "-f", fmt)


def test_worktree_scan_from_inside_with_output_elsewhere(busy_repo: tuple[Path, str, str], tmp_path: Path) -> None:
    repo, _, _ = busy_repo
    assert_untouched(repo, "scan", ".", "-o", str(tmp_path / "report.json"), "-f", "json", cwd=repo)
    assert (tmp_path / "report.json").exists()


def test_staged_scan(busy_repo: tuple[Path, str, str]) -> None:
    repo, _, _ = busy_repo
    assert_untouched(repo, "scan", "--staged", cwd=repo, codes=(1,))


def test_hook_with_and_without_files(busy_repo: tuple[Path, str, str]) -> None:
    repo, _, _ = busy_repo
    assert_untouched(repo, "hook", "staged.env", "README.md", cwd=repo, codes=(1,))
    assert_untouched(repo, "hook", cwd=repo, codes=(1,))


def test_doctor(busy_repo: tuple[Path, str, str]) -> None:
    repo, _, _ = busy_repo
    assert_untouched(repo, "doctor", str(repo))


def test_baseline_written_elsewhere(busy_repo: tuple[Path, str, str], tmp_path: Path) -> None:
    repo, _, _ = busy_repo
    assert_untouched(repo, "baseline", str(repo), "-o", str(tmp_path / "b.json"), codes=(0,))


def test_history_scan(busy_repo: tuple[Path, str, str]) -> None:
    repo, _, _ = busy_repo
    assert_untouched(repo, "scan", str(repo), "--history", "-f", "json", codes=(1,))


def test_range_scan(busy_repo: tuple[Path, str, str]) -> None:
    repo, first, head = busy_repo
    assert_untouched(repo, "scan", str(repo), "--range", f"{first}..{head}", "-f", "json")
    assert_untouched(repo, "scan", str(repo), "--since-commit", first, "--branch", "main", codes=(0, 1, 2))


def test_verify_against_the_fake_server(busy_repo: tuple[Path, str, str]) -> None:
    repo, _, _ = busy_repo
    with fake_networks() as fakes:
        key, secret = fakes["mainnet"].new_account()
        (repo / "live.env").write_text(f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n")
        assert_untouched(repo, "scan", str(repo), "--verify", *network_flags(fakes), "-f", "json")
        assert fakes["mainnet"].log, "the pair was not verified"


def test_the_fingerprint_sees_a_created_and_removed_temp_file(tmp_path: Path) -> None:
    """Self-check: folder mtimes reveal a file that came and went; contents and modes count."""
    (tmp_path / "a").write_text("x")
    before = tree_state(tmp_path)
    os.utime(tmp_path, ns=(1, 1))
    assert tree_state(tmp_path) != before
    before = tree_state(tmp_path)
    (tmp_path / "a").chmod(0o600)
    assert tree_state(tmp_path) != before
