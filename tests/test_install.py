"""Native git hooks: where they go, what they refuse, chaining, uninstall, and real git runs."""

from __future__ import annotations

import os
import secrets
import stat
import string
import subprocess
import sys
from pathlib import Path

import pytest

import keytrap
from keytrap import install as inst
from keytrap.cli import main
from keytrap.errors import GitError, UsageError

SRC = str(Path(keytrap.__file__).resolve().parents[1])


@pytest.fixture(autouse=True)
def git_env(tmp_path, monkeypatch):
    """Hermetic git: no user/system config, no inherited GIT_* variables, this keytrap first."""
    for key in list(os.environ):
        if key.startswith("GIT_") or key == "KEYTRAP_SKIP":
            monkeypatch.delenv(key, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    pp = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", SRC + (os.pathsep + pp if pp else ""))
    monkeypatch.setenv("NO_COLOR", "1")


def git(repo: Path, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, **kw)
    if check and out.returncode != 0:
        raise AssertionError(f"git {args} failed: {out.stderr}")
    return out


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "commit.gpgsign", "false")
    return path


def commit(repo: Path, name: str, content: str, env: dict | None = None) -> subprocess.CompletedProcess:
    (repo / name).write_text(content)
    git(repo, "add", name)
    return git(repo, "commit", "-m", f"add {name}", check=False, env=env)


@pytest.fixture
def repo(tmp_path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def stub(tmp_path, monkeypatch) -> Path:
    """Hooks written while this is active run a stub keytrap instead of the real one.

    The stub logs its arguments and stdin to $STUB_LOG and exits with $STUB_EXIT (default 0).
    """
    path = tmp_path / "bin" / "keytrap"
    path.parent.mkdir()
    log = tmp_path / "stub.log"
    path.write_text(
        "#!/bin/sh\n"
        f"echo \"args: $*\" >> '{log}'\n"
        f"echo \"remote: $KEYTRAP_PUSH_REMOTE $KEYTRAP_PUSH_URL\" >> '{log}'\n"
        f"sed 's/^/stdin: /' >> '{log}'\n"
        "exit ${STUB_EXIT:-0}\n"
    )
    path.chmod(0o755)
    monkeypatch.setattr(inst, "_candidates", lambda: ([str(path)], []))
    monkeypatch.setenv("STUB_LOG", str(log))
    return log


def foreign_hook(path: Path, marker: Path, exit_code: int = 0) -> str:
    text = f"#!/bin/sh\necho \"ran $*\" >> '{marker}'\ncat >> '{marker}'\nexit {exit_code}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return text


def is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


# --- where the hooks go ----------------------------------------------------------------------


def test_install_writes_executable_marked_pre_commit(repo, capsys):
    assert inst.install(repo) == 0
    hook = repo / ".git" / "hooks" / "pre-commit"
    assert hook.is_file() and is_executable(hook)
    text = hook.read_text()
    assert text.startswith("#!/bin/sh\n") and inst.MARKER in text
    assert "keytrap_run hook" in text
    assert os.path.join(os.path.dirname(sys.executable), "keytrap") in text  # absolute entry point first
    assert not (repo / ".git" / "hooks" / "pre-push").exists()
    err = capsys.readouterr().err
    assert "installed pre-commit hook" in err and len(err.strip().splitlines()) == 1


def test_install_pre_push_too(repo):
    inst.install(repo, pre_push=True)
    hook = repo / ".git" / "hooks" / "pre-push"
    assert is_executable(hook) and inst.MARKER in hook.read_text()
    assert "hook --pre-push" in hook.read_text()


def test_reinstall_updates_in_place(repo, capsys):
    inst.install(repo)
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(hook.read_text().replace("keytrap_run hook", "old version"))
    capsys.readouterr()
    assert inst.install(repo) == 0
    assert "keytrap_run hook" in hook.read_text()
    assert "already installed, updated in place" in capsys.readouterr().err
    assert not (repo / ".git" / "hooks" / ("pre-commit" + inst.CHAINED_SUFFIX)).exists()


def test_install_from_subdirectory(repo):
    (repo / "a" / "b").mkdir(parents=True)
    inst.install(repo / "a" / "b")
    assert (repo / ".git" / "hooks" / "pre-commit").exists()


def test_relative_core_hooks_path_is_relative_to_work_tree_top(repo):
    git(repo, "config", "core.hooksPath", "githooks")
    (repo / "sub").mkdir()
    inst.install(repo / "sub")
    assert inst.MARKER in (repo / "githooks" / "pre-commit").read_text()
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert not (repo / "sub" / "githooks").exists()


def test_absolute_core_hooks_path(repo, tmp_path, capsys):
    shared = tmp_path / "shared-hooks"
    git(repo, "config", "core.hooksPath", str(shared))
    inst.install(repo)
    assert inst.MARKER in (shared / "pre-commit").read_text()
    assert "outside this repository" in capsys.readouterr().err


def test_linked_worktree_uses_common_hooks(repo, tmp_path):
    commit(repo, "README", "hello\n", env={**os.environ, "KEYTRAP_SKIP": "1"})
    wt = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(wt))
    inst.install(wt)
    assert (repo / ".git" / "hooks" / "pre-commit").exists()
    assert inst.hooks_dir(wt) == inst.hooks_dir(repo)


def test_not_a_repository(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError, match="not a git repository"):
        inst.install(plain)
    with pytest.raises(GitError):
        inst.uninstall(plain)


def test_missing_path(tmp_path):
    with pytest.raises(UsageError, match="path not found"):
        inst.install(tmp_path / "nope")


def test_cli_one_line_errors(tmp_path, repo, capsys):
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["install", "--repo", str(plain)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("keytrap: error: not a git repository") and len(err.strip().splitlines()) == 1
    assert main(["install", "--repo", str(repo), "--pre-push"]) == 0
    assert main(["uninstall", "--repo", str(repo)]) == 0
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()


# --- foreign hooks ---------------------------------------------------------------------------


def test_foreign_hook_refused_without_force(repo, tmp_path):
    hook = repo / ".git" / "hooks" / "pre-commit"
    text = foreign_hook(hook, tmp_path / "ran")
    with pytest.raises(UsageError) as err:
        inst.install(repo, pre_push=True)
    msg = str(err.value)
    assert str(hook) in msg and "--force" in msg and "pre-commit framework" in msg and "\n" not in msg
    assert hook.read_text() == text
    assert not (repo / ".git" / "hooks" / "pre-push").exists()  # nothing half-installed


def test_foreign_hook_chained_with_force_runs_first(repo, tmp_path, stub):
    hooks = repo / ".git" / "hooks"
    ran = tmp_path / "ran"
    text = foreign_hook(hooks / "pre-commit", ran)
    inst.install(repo, force=True)
    assert (hooks / ("pre-commit" + inst.CHAINED_SUFFIX)).read_text() == text
    assert inst.MARKER in (hooks / "pre-commit").read_text()

    out = commit(repo, "clean.txt", "nothing to see\n")
    assert out.returncode == 0, out.stderr
    assert ran.read_text().startswith("ran")
    assert "args: hook" in stub.read_text()


def test_failing_chained_hook_blocks_and_keytrap_does_not_run(repo, tmp_path, stub):
    hooks = repo / ".git" / "hooks"
    foreign_hook(hooks / "pre-commit", tmp_path / "ran", exit_code=3)
    inst.install(repo, force=True)
    out = commit(repo, "clean.txt", "x\n")
    assert out.returncode != 0
    assert "blocked by the chained hook" in out.stderr
    assert not stub.exists()


def test_force_refuses_when_chained_file_already_exists(repo, tmp_path):
    hooks = repo / ".git" / "hooks"
    foreign_hook(hooks / "pre-commit", tmp_path / "a")
    foreign_hook(hooks / ("pre-commit" + inst.CHAINED_SUFFIX), tmp_path / "b")
    with pytest.raises(UsageError, match="already exists"):
        inst.install(repo, force=True)


def test_force_with_our_hook_already_there_keeps_chain(repo, tmp_path):
    hooks = repo / ".git" / "hooks"
    text = foreign_hook(hooks / "pre-commit", tmp_path / "ran")
    inst.install(repo, force=True)
    inst.install(repo, force=True)  # second run: update in place, chain untouched
    assert (hooks / ("pre-commit" + inst.CHAINED_SUFFIX)).read_text() == text


# --- uninstall -------------------------------------------------------------------------------


def test_uninstall_restores_chained_original(repo, tmp_path, capsys):
    hooks = repo / ".git" / "hooks"
    text = foreign_hook(hooks / "pre-commit", tmp_path / "ran")
    inst.install(repo, pre_push=True, force=True)
    capsys.readouterr()
    assert inst.uninstall(repo) == 0
    assert (hooks / "pre-commit").read_text() == text and is_executable(hooks / "pre-commit")
    assert not (hooks / "pre-push").exists()
    assert not (hooks / ("pre-commit" + inst.CHAINED_SUFFIX)).exists()
    err = capsys.readouterr().err
    assert "removed pre-commit hook" in err and "restored the original pre-commit hook" in err
    assert "removed pre-push hook" in err


def test_uninstall_nothing_to_remove(repo, tmp_path, capsys):
    text = foreign_hook(repo / ".git" / "hooks" / "pre-commit", tmp_path / "ran")
    assert inst.uninstall(repo) == 0
    assert "nothing to remove" in capsys.readouterr().err
    assert (repo / ".git" / "hooks" / "pre-commit").read_text() == text  # foreign hook untouched


def test_uninstall_respects_core_hooks_path(repo):
    git(repo, "config", "core.hooksPath", ".githooks")
    inst.install(repo)
    assert (repo / ".githooks" / "pre-commit").exists()
    inst.uninstall(repo)
    assert not (repo / ".githooks" / "pre-commit").exists()


# --- script behaviour (stub keytrap) ---------------------------------------------------------


@pytest.mark.parametrize(("code", "message"), [(1, "Binance keys found"), (2, "keytrap failed (exit 2")])
def test_pre_commit_blocks_on_findings_and_errors(repo, stub, monkeypatch, code, message):
    inst.install(repo)
    monkeypatch.setenv("STUB_EXIT", str(code))
    out = commit(repo, "f.txt", "x\n")
    assert out.returncode != 0
    assert message in out.stderr and "KEYTRAP_SKIP=1" in out.stderr
    assert git(repo, "rev-list", "--all").stdout == ""  # nothing committed


def test_keytrap_skip_bypasses(repo, stub, monkeypatch):
    inst.install(repo)
    monkeypatch.setenv("STUB_EXIT", "1")
    monkeypatch.setenv("KEYTRAP_SKIP", "1")
    out = commit(repo, "f.txt", "x\n")
    assert out.returncode == 0, out.stderr
    assert "KEYTRAP_SKIP is set" in out.stderr
    assert not stub.exists()


def test_pre_push_passes_stdin_to_chained_hook_and_keytrap(repo, tmp_path, stub):
    hooks = repo / ".git" / "hooks"
    ran = tmp_path / "ran"
    foreign_hook(hooks / "pre-push", ran)
    inst.install(repo, pre_push=True, force=True)
    lines = "refs/heads/main 1111 refs/heads/main 0000\nrefs/heads/dev 2222 refs/heads/dev 3333\n"
    out = subprocess.run(
        [str(hooks / "pre-push"), "origin", "git@example.com:x.git"],
        cwd=repo, input=lines, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr
    assert ran.read_text() == "ran origin git@example.com:x.git\n" + lines
    log = stub.read_text()
    assert "args: hook --pre-push\n" in log
    assert "remote: origin git@example.com:x.git" in log
    assert "stdin: refs/heads/main 1111 refs/heads/main 0000\nstdin: refs/heads/dev 2222 refs/heads/dev 3333\n" in log


def test_pre_push_via_git_push(repo, tmp_path, stub, monkeypatch):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    inst.install(repo, pre_push=True)
    monkeypatch.setenv("STUB_EXIT", "0")
    assert commit(repo, "a.txt", "a\n").returncode == 0
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    stub.unlink()
    assert git(repo, "push", "-q", "origin", "main", check=False).returncode == 0
    log = stub.read_text()
    assert f"stdin: refs/heads/main {head} refs/heads/main {'0' * len(head)}" in log
    monkeypatch.setenv("STUB_EXIT", "1")
    assert commit(repo, "b.txt", "b\n", env={**os.environ, "STUB_EXIT": "0"}).returncode == 0
    out = git(repo, "push", "-q", "origin", "main", check=False)
    assert out.returncode != 0 and "push blocked" in out.stderr


# --- the real keytrap ------------------------------------------------------------------------


def test_real_keytrap_allows_clean_commit(repo, tmp_path):
    ran = tmp_path / "ran"
    foreign_hook(repo / ".git" / "hooks" / "pre-commit", ran)
    inst.install(repo, force=True)
    out = commit(repo, "clean.py", "print('hello')\n")
    assert ran.exists()
    assert out.returncode == 0, out.stderr


def test_real_keytrap_blocks_commit_with_key(repo):
    inst.install(repo)
    alphabet = string.ascii_letters + string.digits
    key = "".join(secrets.choice(alphabet) for _ in range(64))
    out = commit(repo, "settings.env", f"BINANCE_API_KEY={key}\n")
    output = out.stdout + out.stderr
    assert out.returncode != 0
    assert "Binance keys found" in output, output  # blocked by a finding, not by an error
    assert key not in output
    for i in range(len(key) - 8):
        assert key[i : i + 9] not in output  # never more than 8 characters of the key
    assert git(repo, "rev-list", "--all").stdout == ""
