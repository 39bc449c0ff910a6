"""`keytrap hook --pre-push` with git's stdin protocol, and a real push through the native hook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git
from helpers import assert_redacted, random_secret
from test_cli import run

from keytrap.hook import _push_ranges

ZERO = "0" * 40


def push_line(local_sha: str, remote_sha: str) -> str:
    return f"refs/heads/main {local_sha} refs/heads/main {remote_sha}\n"


def hook_push(repo: Path, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "keytrap", "hook", "--pre-push"], cwd=repo,
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_push_ranges_protocol(monkeypatch) -> None:
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    monkeypatch.delenv("PRE_COMMIT_TO_REF", raising=False)
    a, b = "a" * 40, "b" * 40
    text = push_line(a, b) + push_line(ZERO, b) + push_line(a, ZERO) + "garbage\n"
    assert _push_ranges(text) == [f"{b}..{a}", a]
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "0" * 64)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", a)
    assert _push_ranges(None) == [a]


def test_pre_push_blocks_new_commits_only(repo: Path, key: str, secret: str) -> None:
    (repo / "README.md").write_text("bot\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    base = git(repo, "rev-parse", "HEAD").strip()
    # a brand-new branch: everything not on a remote is checked
    assert hook_push(repo, push_line(base, ZERO)).returncode == 0
    (repo / "config.py").write_text(f"BINANCE_API_KEY = '{key}'\nBINANCE_API_SECRET = '{secret}'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "add bot config")
    (repo / "config.py").write_text("import os\nBINANCE_API_KEY = os.environ['BINANCE_API_KEY']\n")
    git(repo, "commit", "-qam", "move keys to env")  # deleted again, still in the pushed history
    tip = git(repo, "rev-parse", "HEAD").strip()
    proc = hook_push(repo, push_line(tip, base))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "push refused: 2 Binance secrets found" in proc.stdout
    assert "The push was refused" in proc.stdout
    assert_redacted(proc.stdout + proc.stderr, [key, secret])
    # the remote already has everything: nothing new to refuse
    assert hook_push(repo, push_line(tip, tip)).returncode == 0


def test_real_push_through_installed_hook(tmp_path: Path, repo: Path, key: str) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    (repo / "a.txt").write_text("hello\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    assert run("install", "--pre-push", "--repo", str(repo)).returncode == 0
    ok = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=repo, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    (repo / "b.env").write_text(f"BINANCE_API_KEY={key}\n")
    git(repo, "add", ".")
    commit = subprocess.run(["git", "commit", "-qm", "leak"], cwd=repo, capture_output=True, text=True)
    assert commit.returncode == 1 and "commit refused" in commit.stdout + commit.stderr
    git(repo, "commit", "-qm", "leak", "--no-verify")
    push = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=repo, capture_output=True, text=True)
    assert push.returncode != 0
    assert "push refused" in push.stdout + push.stderr
    assert_redacted(push.stdout + push.stderr + commit.stdout + commit.stderr, [key])


def test_commit_all_uses_the_temporary_index(repo: Path, key: str) -> None:
    """`git commit -a` stages into a temporary index (GIT_INDEX_FILE): the hook must read it."""
    (repo / "settings.py").write_text("DEBUG = True\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    assert run("install", "--repo", str(repo)).returncode == 0
    (repo / "settings.py").write_text(f"DEBUG = True\nBINANCE_API_KEY = '{key}'\n")
    proc = subprocess.run(["git", "commit", "-qam", "oops"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "commit refused" in proc.stdout + proc.stderr
    assert git(repo, "log", "--oneline").count("\n") == 1


def test_hook_reads_files_over_the_size_limit_and_dash_names(repo: Path, key: str) -> None:
    """A staged file over max_file_size is streamed, not skipped; a file named like an option
    is scanned with everything staged (no FILE, as pre-commit runs the hook), or named after
    ``--``."""
    (repo / "big.env").write_text("#" * 3000 + f"\nBINANCE_API_KEY={key}\n")
    (repo / "-dash.env").write_text(f"BINANCE_API_SECRET={key}\n")
    (repo / ".keytrap.toml").write_text("max_file_size = 2048\n")
    git(repo, "add", "--", "big.env", "-dash.env", ".keytrap.toml")
    for argv in ([], ["--", "big.env", "-dash.env"], ["--min-confidence", "low", "--", "-dash.env", "big.env"],
                 ["--min-confidence", "low"]):
        proc = subprocess.run([sys.executable, "-m", "keytrap", "hook", *argv],
                              cwd=repo, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, (argv, proc.stderr)
        assert "commit refused: 2 Binance secrets found" in proc.stdout
        assert "big.env:2:17" in proc.stdout and "-dash.env:1:20" in proc.stdout, proc.stdout
        assert proc.stderr == "keytrap: config: .keytrap.toml\n"
        assert_redacted(proc.stdout + proc.stderr, [key])


def test_hook_finds_a_key_deep_in_a_long_base64_file(repo: Path, key: str, secret: str) -> None:
    """A key file base64-encoded on one line, over 256 KiB and over max_file_size (streamed):
    the key past the first 256 KiB, and past the first window, is found."""
    import base64

    filler = "".join(f"setting_{i} = value number {i}\n" for i in range(30_000))
    text = filler + f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n"
    (repo / "env.b64").write_bytes(base64.b64encode(text.encode()))
    (repo / ".keytrap.toml").write_text("max_file_size = 100000\n")
    git(repo, "add", "--", "env.b64", ".keytrap.toml")
    proc = subprocess.run([sys.executable, "-m", "keytrap", "hook"], cwd=repo, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "commit refused: 2 Binance secrets found" in proc.stdout
    assert proc.stdout.count("env.b64:1:1:") == 2 and "base64-encoded" in proc.stdout
    assert_redacted(proc.stdout + proc.stderr, [key, secret])


def test_hook_reads_the_target_of_a_staged_symlink(repo: Path, key: str, secret: str) -> None:
    """A symlink is committed as a blob holding its target text (mode 120000): a key written
    as the target is committed as surely as one in a file."""
    (repo / "README.md").write_text("hello\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    (repo / "link").symlink_to(f"BINANCE_API_SECRET={secret}")
    (repo / "bare").symlink_to(key)  # dangling, as such links are
    git(repo, "add", "--", "link", "bare")
    for argv in ([], ["--", "link", "bare"]):
        proc = subprocess.run([sys.executable, "-m", "keytrap", "hook", "--min-confidence", "low", *argv],
                              cwd=repo, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, (argv, proc.stdout, proc.stderr)
        assert "commit refused: 2 Binance secrets found" in proc.stdout, proc.stdout
        assert "link:1:20" in proc.stdout and "bare:1:1" in proc.stdout
        assert_redacted(proc.stdout + proc.stderr, [key, secret])
    git(repo, "commit", "-qm", "links", "--no-verify")
    (repo / "link").unlink()
    (repo / "link").symlink_to(f"x/BINANCE_API_SECRET={secret}")  # the same key, moved: not new
    git(repo, "add", "--", "link")
    proc = subprocess.run([sys.executable, "-m", "keytrap", "hook"], cwd=repo, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout


def test_hook_options_do_not_depend_on_files_on_disk(repo: Path, key: str) -> None:
    """A repository that commits files named `--no-config`, `--exclude` and `*` next to a
    weakening config cannot turn the user's `args: [--no-config]` into file names: options
    are parsed as options, whatever exists on disk."""
    (repo / ".keytrap.toml").write_text('exclude = ["*"]\n')
    for name in ("--no-config", "--exclude", "*"):
        (repo / name).write_text("x\n")
    (repo / "prod.env").write_text(f"BINANCE_API_KEY={key}\n")
    git(repo, "add", "-A")
    hook = [sys.executable, "-m", "keytrap", "hook"]
    weak = subprocess.run(hook, cwd=repo, capture_output=True, text=True, timeout=120)
    assert weak.returncode == 0, weak.stdout + weak.stderr  # the repository's config, as asked
    proc = subprocess.run([*hook, "--no-config"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "commit refused: 1 Binance secret found" in proc.stdout and "prod.env:1" in proc.stdout
    assert proc.stderr == "keytrap: config: defaults (--no-config)\n"
    files = subprocess.run([*hook, "--no-config", "--", "--no-config", "prod.env"], cwd=repo,
                           capture_output=True, text=True, timeout=120)
    assert files.returncode == 1, files.stdout + files.stderr  # names after -- are files
    bogus = subprocess.run([*hook, "--bogus"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert bogus.returncode == 2 and "unrecognized arguments: --bogus" in bogus.stderr
    assert_redacted(proc.stdout + proc.stderr + files.stdout, [key])


def test_pre_commit_first_push_of_a_new_repository_is_checked(repo: Path, key: str) -> None:
    """pre-commit gives a pre-push hook neither refs nor stdin when the pushed branch shares no
    commit with the remote (a new repository's first push): the whole branch is being pushed."""
    import os

    (repo / "config.py").write_text(f"BINANCE_API_KEY = '{key}'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "root commit with a key")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRE_COMMIT")}
    env.update(PRE_COMMIT="1", PRE_COMMIT_REMOTE_NAME="origin", PRE_COMMIT_REMOTE_URL="/nowhere.git",
               PRE_COMMIT_LOCAL_BRANCH="refs/heads/main", PRE_COMMIT_REMOTE_BRANCH="refs/heads/main")
    proc = subprocess.run([sys.executable, "-m", "keytrap", "hook"], cwd=repo, input="", capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "push refused: 1 Binance secret found" in proc.stdout
    assert_redacted(proc.stdout + proc.stderr, [key])


@pytest.mark.parametrize("case", ["split", "renamed"])
def test_proportional_path_misses_nothing_a_full_scan_finds(repo: Path, case: str) -> None:
    """A run that HEAD held only inside a longer one, or a value HEAD held under another name,
    is new: the file is scanned, and the hook reports what a full scan reports."""
    import secrets

    from keytrap.config import DEFAULT
    from keytrap.sources import staged

    if case == "split":
        k, s = random_secret(), random_secret()
        old = f'# binance client\nblob = "{k}{s}"\n'
    else:
        k, s = secrets.token_hex(32), secrets.token_hex(32)
        old = f'# client\ndigest_a = "{k}"\ndigest_b = "{s}"\n'
    (repo / "cfg.py").write_text(old)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "old")
    (repo / "cfg.py").write_text(f'# binance client\nBINANCE_API_KEY = "{k}"\nBINANCE_API_SECRET = "{s}"\n')
    git(repo, "add", "cfg.py")
    got = sorted(f.secret for f in staged.scan_staged(str(repo), DEFAULT).findings)
    assert got == sorted([k, s])


def test_staged_work_is_proportional_to_the_change(repo: Path, key: str, secret: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A modified file whose every candidate token is already in its HEAD version is not run
    through the engine; a new token, a new file or a PEM marker still is."""
    from keytrap.config import DEFAULT
    from keytrap.sources import staged

    vectors = "".join(f"VECTOR_{i} = '{random_secret()}'\n" for i in range(20))
    (repo / "vectors.py").write_text(f"BINANCE_API_KEY = '{key}'\n" + vectors)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "vectors")
    scanned: list[str] = []
    real = staged.scan_blob

    def counting(data: bytes, path: str, config, **kw):  # type: ignore[no-untyped-def]
        scanned.append(path)
        return real(data, path, config, **kw)

    monkeypatch.setattr(staged, "scan_blob", counting)
    with open(repo / "vectors.py", "a") as fh:
        fh.write("# one more line\n")
    git(repo, "add", "vectors.py")
    result = staged.scan_staged(str(repo), DEFAULT)
    assert result.findings == () and scanned == [] and result.stats.files_scanned == 1

    with open(repo / "vectors.py", "a") as fh:
        fh.write(f"BINANCE_SECRET_KEY = '{secret}'\n")  # a new token: the whole file is read
    git(repo, "add", "vectors.py")
    result = staged.scan_staged(str(repo), DEFAULT)
    # the staged version, then its HEAD version to tell which findings are new
    assert scanned == ["vectors.py", "vectors.py"] and [f.secret for f in result.findings] == [secret]

    scanned.clear()
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "reset", "-q")
    (repo / "vectors.py").write_text(f"BINANCE_API_KEY = '{key}'\n" + vectors + "x = 1\n")
    (repo / "new.py").write_text(f"BINANCE_API_KEY = '{key}'\n")
    git(repo, "add", "-A")
    result = staged.scan_staged(str(repo), DEFAULT)
    assert scanned == ["new.py"]  # a new file has no HEAD version: scanned
    assert [f.path for f in result.findings] == ["new.py"]


def test_pre_push_refuses_when_pushed_objects_cannot_be_read(tmp_path: Path) -> None:
    """A partial clone lacks the blobs of commits about to be pushed: refused, with how many,
    and nothing fetched from the promisor remote (whose programs would leave a marker)."""
    from gitrepo import GitRepo, env_file, fake_key
    from test_history import hostile_partial_clone

    repo = GitRepo(tmp_path / "src")
    repo.commit("one", {"a.env": env_file(fake_key(50))})
    repo.commit("two", {"a.env": env_file(fake_key(51)), "b.txt": "x\n"})
    clone, markers = hostile_partial_clone(repo, tmp_path)
    head = git(clone, "rev-parse", "HEAD").strip()
    base = git(clone, "rev-parse", "HEAD~1").strip()
    proc = hook_push(clone, push_line(head, base))
    assert proc.returncode == 2, proc.stderr
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("keytrap: error:")]
    assert len(line) == 1 and "push refused: 2 objects in scope could not be read (2 missing" in line[0]
    assert os.listdir(markers) == []
