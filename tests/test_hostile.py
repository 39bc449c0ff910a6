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
from helpers import assert_redacted

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


# --- the hook fails closed (issue 11.8) -------------------------------------------------------


def _staged(repo: GitRepo, files: dict[str, bytes]) -> None:
    repo.commit("init", {"README.md": "hello\n"})
    for name, data in files.items():
        repo.write(name, data)
        repo.git("add", "--", name)


def test_hook_refuses_a_key_in_a_file_over_the_size_limit(tmp_path: Path, key: str) -> None:
    """11 MB staged (over the 10 MiB default): streamed in windows, never let through."""
    repo = GitRepo(tmp_path / "repo")
    filler = ("x = 1  # padding\n" * (11 * 1024 * 1024 // 17)).encode()
    _staged(repo, {"data/big.py": filler + f"BINANCE_API_KEY = '{key}'\n".encode()})
    line = filler.count(b"\n") + 1
    for args in (("hook",), ("hook", "data/big.py"), ("scan", "--staged", "--format", "json")):
        proc = keytrap(repo.path, *args)
        assert proc.returncode == 1, (args, proc.stderr)
        assert f"data/big.py:{line}:" in proc.stdout or f'"line": {line}' in proc.stdout, proc.stdout[-500:]
        assert "not scanned" not in proc.stderr and "skipped data" not in proc.stdout and "\"skipped\": [{" not in proc.stdout
        assert_redacted(proc.stdout + proc.stderr, [key])


@pytest.mark.parametrize("kind", ["binary", "utf16-le", "utf16-be", "utf32-le", "utf32-be"])
def test_hook_refuses_a_key_in_binary_and_bomless_utf16_or_utf32(tmp_path: Path, key: str, kind: str) -> None:
    text = f"BINANCE_API_KEY={key}\n"
    data = {
        "binary": b"\x89BIN\x00\x01\x02\x00" * 40 + b"\n" + text.encode() + b"\x00\xff\x00",
        "utf16-le": ("# settings\n" + text).encode("utf-16-le"),
        "utf16-be": ("# settings\n" + text).encode("utf-16-be"),
        "utf32-le": ("# settings\n" + text).encode("utf-32-le"),
        "utf32-be": ("# settings\n" + text).encode("utf-32-be"),
    }[kind]
    repo = GitRepo(tmp_path / "repo")
    _staged(repo, {"blob.dat": data})
    for args in (("hook", "blob.dat"), ("hook",)):
        proc = keytrap(repo.path, *args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert "commit refused: 1 Binance secret found" in proc.stdout
        assert "blob.dat:2:" in proc.stdout  # the file's own line number, binary or not
        assert_redacted(proc.stdout + proc.stderr, [key])


def _break_object(repo: GitRepo, oid: str) -> None:
    obj = repo.path / ".git" / "objects" / oid[:2] / oid[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"this is not zlib data")


@pytest.mark.parametrize(("env", "override"), [
    ({}, "to bypass it once: KEYTRAP_SKIP=1 git commit ..., or git commit --no-verify"),
    ({"PRE_COMMIT": "1"}, "to bypass it once: SKIP=keytrap git commit ..."),
])
def test_hook_refuses_what_it_cannot_read_and_names_the_override(
    tmp_path: Path, key: str, env: dict[str, str], override: str
) -> None:
    repo = GitRepo(tmp_path / "repo")
    _staged(repo, {"cfg.env": f"BINANCE_API_KEY={key}\n"})
    _break_object(repo, repo.git("rev-parse", ":cfg.env"))
    # and a staged entry whose object does not exist at all
    repo.git("update-index", "--add", "--cacheinfo", f"100644,{'ab' * 20},ghost.env")
    for args in (("hook",), ("hook", "cfg.env"), ("hook", "ghost.env")):
        proc = subprocess.run([KEYTRAP, *args], cwd=repo.path, capture_output=True, text=True,
                              env={**os.environ, **env}, timeout=120)
        lines = proc.stderr.splitlines()
        assert proc.returncode == 2 and len(lines) == 1, (args, proc.stderr)
        assert lines[0].startswith("keytrap: error: commit refused: "), lines
        assert lines[0].endswith(override), lines
        assert ("corrupt" in lines[0]) or ("ghost.env: missing object" in lines[0]), lines
        assert_redacted(proc.stdout + proc.stderr, [key])


# --- pre-push checks what is new to the remote pushed to (issue 11.7) ----------------------------


def test_pre_push_to_a_second_remote_is_refused(tmp_path: Path, key: str, secret: str) -> None:
    """A key pushed to a private `origin` must not go on to a new `public` remote unchecked."""
    origin = GitRepo(tmp_path / "origin.git", bare=True)
    public = GitRepo(tmp_path / "public.git", bare=True)
    repo = GitRepo(tmp_path / "repo")
    repo.git("remote", "add", "origin", str(origin.path))
    repo.git("remote", "add", "public", str(public.path))
    repo.commit("init", {"README.md": "bot\n"})
    # a file named like the hook's option: it must not turn the push check into something else
    repo.commit("keys", {"bot/keys.py": f"BINANCE_API_KEY = '{key}'\nBINANCE_API_SECRET = '{secret}'\n",
                         "--pre-push": "x\n"})
    repo.git("push", "-q", "origin", "main")  # no hook yet: the key is on origin
    tip = repo.head()
    line = f"refs/heads/main {tip} refs/heads/main {'0' * 40}\n"
    # the way git runs it (remote name exported by the native hook / given by pre-commit)
    for env in ({"KEYTRAP_PUSH_REMOTE": "public"}, {"PRE_COMMIT_REMOTE_NAME": "public"}):
        proc = subprocess.run([KEYTRAP, "hook", "--pre-push"], cwd=repo.path, input=line, text=True,
                              capture_output=True, env={**os.environ, **env}, timeout=120)
        assert proc.returncode == 1, (env, proc.stdout, proc.stderr)
        assert "push refused: 2 Binance secrets found" in proc.stdout
        assert f"(commit {tip[:10]})" in proc.stdout
        assert "git commit --amend" in proc.stdout and f"git rebase -i {tip[:12]}^" in proc.stdout
        assert "Remove the key from the file" not in proc.stdout
        assert_redacted(proc.stdout + proc.stderr, [key, secret])
    # to origin, which already has it, nothing is new
    proc = subprocess.run([KEYTRAP, "hook", "--pre-push"], cwd=repo.path, input=line, text=True,
                          capture_output=True, env={**os.environ, "KEYTRAP_PUSH_REMOTE": "origin"}, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # a real `git push public` through the installed native hook
    assert keytrap(repo.path, "install", "--pre-push").returncode == 0
    push = subprocess.run(["git", "push", "-q", "public", "main"], cwd=repo.path, capture_output=True,
                          text=True, env=repo.env(), timeout=120)
    assert push.returncode != 0 and "push refused: 2 Binance secrets found" in push.stdout + push.stderr
    assert public.git("for-each-ref") == ""  # nothing reached the public remote
    assert_redacted(push.stdout + push.stderr, [key, secret])


# --- a range applies the settings of its base side (issue 11.9) ---------------------------------


def _pr_with(tmp_path: Path, key: str, secret: str, extra: dict[str, str], base_files: dict[str, str] | None = None):
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit("base", {"README.md": "bot\n", **(base_files or {})})
    keys = f"api_key = '{key}'\napi_secret = '{secret}'\n"  # named, paired, no Binance word: medium
    repo.commit("pr", {"bot/keys.py": keys, **extra})
    return repo, base


def _weakening(key: str, secret: str) -> dict[str, dict[str, str]]:
    from keytrap.findings import fingerprint

    fps = ", ".join(f'"{fingerprint("binance-hmac-key", s)}"' for s in (key, secret))
    return {
        "example_keys": {".keytrap.toml": f'example_keys = ["{key}", "{secret}"]\n'},
        "exclude": {".keytrap.toml": 'exclude = ["*"]\n'},
        "allow_fingerprints": {".keytrap.toml": f"allow_fingerprints = [{fps}]\n"},
        "max_file_size": {".keytrap.toml": "max_file_size = 1\n"},
        "min_confidence": {".keytrap.toml": 'min_confidence = "high"\n'},
        "pyproject": {"pyproject.toml": '[project]\nname = "bot"\n\n[tool.keytrap]\nexclude = ["bot/**"]\n'},
        "baseline": {".keytrap-baseline.json": '{"version": 1, "fingerprints": [%s]}\n' % fps},
        "config_baseline": {".keytrap.toml": 'baseline = "ok.json"\n',
                            "ok.json": '{"version": 1, "fingerprints": [%s]}\n' % fps},
    }


@pytest.mark.parametrize("case", sorted(_weakening("k", "s")))
def test_a_pull_request_cannot_weaken_its_own_scan(tmp_path: Path, key: str, secret: str, case: str) -> None:
    import json

    extra = _weakening(key, secret)[case]
    repo, base = _pr_with(tmp_path, key, secret, extra)
    # the working tree (the PR's head) would silence it: that is what the PR is trying
    assert keytrap(repo.path, "scan", ".").returncode == 0, case
    for rng in (f"{base}..HEAD", f"{base}..{repo.head()}"):
        proc = keytrap(repo.path, "scan", ".", "--range", rng, "--format", "json")
        assert proc.returncode == 1, (case, proc.stderr)
        doc = json.loads(proc.stdout)
        assert {f["kind"] for f in doc["findings"]} == {"api_key", "secret_key"}, case
        first = sorted(extra)[0]
        assert any(n.startswith(f"config changed: the scanned commits add {first}") for n in doc["stats"]["notes"]), doc["stats"]["notes"]
        err = proc.stderr.splitlines()
        assert err[0] == f"keytrap: config: defaults (no config file at {base[:12]})", err
        assert (f"keytrap: warning: config changed: the scanned commits add {first}; not applied "
                f"(keytrap used the settings of the base commit {base[:12]})") in err
        assert_redacted(proc.stdout + proc.stderr, [key, secret])
    # the same through --since-commit, and with the GitHub annotations format
    proc = keytrap(repo.path, "scan", ".", "--since-commit", base, "--format", "github")
    assert proc.returncode == 1 and "config changed" in proc.stderr


def test_a_pull_request_changing_the_base_config_uses_the_base_one(tmp_path: Path, key: str, secret: str) -> None:
    base_cfg = {".keytrap.toml": 'exclude = ["docs/**"]\n'}
    repo, base = _pr_with(tmp_path, key, secret, {".keytrap.toml": 'exclude = ["docs/**", "bot/**"]\n'}, base_cfg)
    proc = keytrap(repo.path, "scan", ".", "--range", f"{base}..HEAD")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines()[0] == f"keytrap: config: .keytrap.toml@{base[:12]}"
    assert "config changed: the scanned commits change .keytrap.toml" in proc.stderr
    # an unrelated pyproject.toml change is not a config change
    repo.commit("deps", {"pyproject.toml": '[project]\nname = "bot"\nversion = "2"\n'})
    proc = keytrap(repo.path, "scan", ".", "--range", "HEAD~1..HEAD")
    assert proc.returncode == 0 and "config changed" not in proc.stderr, proc.stderr


def test_no_config_and_the_applied_config_line(tmp_path: Path, key: str, secret: str) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("keys", {"bot/keys.py": f"api_key = '{key}'\n", ".keytrap.toml": 'exclude = ["bot/**"]\n'})
    proc = keytrap(repo.path, "scan", ".")
    assert proc.returncode == 0 and proc.stderr == "keytrap: config: .keytrap.toml\n"
    proc = keytrap(repo.path, "scan", ".", "--no-config")
    assert proc.returncode == 1 and proc.stderr == "keytrap: config: defaults (--no-config)\n"
    assert keytrap(repo.path, "baseline", ".", "--no-config").returncode == 0
    proc = keytrap(repo.path, "scan", ".", "--no-config")  # nor the default baseline
    assert proc.returncode == 1, proc.stderr
    proc = keytrap(repo.path, "scan", ".", "--no-config", "--history", "--format", "json")
    assert proc.returncode == 1 and proc.stderr == "keytrap: config: defaults (--no-config)\n"
    proc = keytrap(repo.path, "scan", ".", "--range", "HEAD~0..HEAD", "--no-config")
    assert proc.returncode == 0 and proc.stderr == "keytrap: config: defaults (--no-config)\n"
    proc = keytrap(repo.path, "scan", ".", "--no-config", "--config", ".keytrap.toml")
    assert proc.returncode == 2 and "cannot be combined" in proc.stderr


# --- CI ranges never end in exit 2 without a scan (issue 13.2) -----------------------------------


def test_null_base_missing_base_and_first_baseline_still_scan(tmp_path: Path, key: str) -> None:
    origin = GitRepo(tmp_path / "origin")
    first = origin.commit("one", {"README.md": "bot\n"})
    origin.commit("two", {"notes.txt": "more\n"})
    origin.commit("leak", {"bot/keys.py": f"BINANCE_API_KEY = '{key}'\n"})
    zero = "0" * 40
    # a CI checkout: the pushed branch is itself a remote-tracking ref
    ci = GitRepo(tmp_path / "ci", init=False)
    ci.git("clone", "-q", str(origin.path), str(ci.path), cwd=tmp_path)
    for repo in (origin, ci):
        proc = keytrap(repo.path, "scan", ".", "--range", f"{zero}..HEAD")
        assert proc.returncode == 1, proc.stderr
        assert "the range base is the null commit" in proc.stderr
    # a shallow clone lacks the base commit: a one-line instruction, and the new commit is scanned
    shallow = GitRepo(tmp_path / "shallow", init=False)
    shallow.git("clone", "-q", "--depth", "1", f"file://{origin.path}", str(shallow.path), cwd=tmp_path)
    proc = keytrap(shallow.path, "scan", ".", "--range", f"{first}..HEAD")
    assert proc.returncode == 1, proc.stderr
    warning = [ln for ln in proc.stderr.splitlines() if ln.startswith("keytrap: warning: base commit")]
    assert len(warning) == 1 and "fetch-depth: 0" in warning[0] and first in warning[0]
    mirror = GitRepo(tmp_path / "mirror.git", init=False)
    mirror.git("clone", "-q", "--mirror", str(origin.path), str(mirror.path), cwd=tmp_path)
    proc = keytrap(mirror.path, "scan", ".", "--range", f"{zero}..HEAD")
    assert proc.returncode == 1, proc.stderr
    # the first run of the documented recipe: no baseline committed yet
    for repo in (origin, ci, shallow, mirror):
        proc = keytrap(repo.path, "scan", ".", "--range", "HEAD~0..HEAD", "--baseline", ".keytrap-baseline.json")
        assert proc.returncode in (0, 1), proc.stderr
        head = repo.head()[:12]
        assert proc.stderr.splitlines()[0] == (
            f"keytrap: config: defaults (no config file at {head}), "
            f"no baseline (.keytrap-baseline.json is not in {head} yet)"), proc.stderr
        if repo is mirror:
            continue  # no working tree
        proc = keytrap(repo.path, "scan", ".", "--baseline", ".keytrap-baseline.json")
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr == "keytrap: config: defaults, no baseline (.keytrap-baseline.json does not exist yet)\n"
    proc = keytrap(origin.path, "scan", ".", "--range", "HEAD~1..HEAD", "--baseline", ".keytrap-baseline.json")
    assert proc.returncode == 1, proc.stderr
    # a baseline named on purpose must exist
    proc = keytrap(origin.path, "scan", ".", "--baseline", "other.json")
    assert proc.returncode == 2 and "baseline not found" in proc.stderr
    # a typo in a name is still an error, not a silent fallback
    proc = keytrap(origin.path, "scan", ".", "--range", "mian..HEAD")
    assert proc.returncode == 2 and "unknown revision" in proc.stderr


# --- settings come from a commit reviewers trust (red team 09) ---------------------------------


def test_two_pushes_and_a_stacked_branch_cannot_choose_their_settings(tmp_path: Path, key: str, secret: str) -> None:
    """Push 1 adds `exclude = ["*"]` and passes; push 2 adds a key with push 1 as its base. With
    the default branch known (origin/HEAD), a base that is not on it, or a boundary keytrap
    computed for a null base, gives the defaults; `--settings-from REV` names the trusted
    commit (0000…: none); an unknown REV is an error, never a silent fall back."""
    key2 = random_secret()
    origin = GitRepo(tmp_path / "origin.git", bare=True)
    repo = GitRepo(tmp_path / "repo")
    repo.git("remote", "add", "origin", str(origin.path))
    main = repo.commit("base", {"README.md": "bot\n"})
    repo.git("push", "-q", "origin", "main")
    repo.git("checkout", "-q", "-b", "feature")
    p1 = repo.commit("chore: tooling", {"pyproject.toml": '[tool.keytrap]\nexclude = ["*"]\n'})
    repo.git("push", "-q", "origin", "feature")
    p2 = repo.commit("feat", {"prod.env": f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n"})
    zero = "0" * 40
    # no default branch known yet: the range's own BASE applies (the caller chose it) ...
    proc = keytrap(repo.path, "scan", ".", "--range", f"{p1}..{p2}")
    assert proc.returncode == 0 and proc.stderr == f"keytrap: config: pyproject.toml [tool.keytrap]@{p1[:12]}\n"
    # ... but a boundary keytrap computed for a null base (a branch stacked on feature) does not
    repo.git("checkout", "-q", "-b", "feature2")
    p3 = repo.commit("more", {"more.env": f"BINANCE_API_SECRET={key2}\n"})
    proc = keytrap(repo.path, "scan", ".", "--range", f"{zero}..HEAD")
    assert proc.returncode == 1, proc.stderr
    assert (f"keytrap: config: defaults (no config file, the range has no base commit of its own and no default "
            f"branch is known (origin/HEAD): the nearest pushed commit {p1[:12]} may be anyone's)") in proc.stderr
    assert "keytrap: warning: settings: the defaults apply: the range has no base commit of its own" in proc.stderr
    stdin = f"refs/heads/feature2 {p3} refs/heads/feature2 {zero}\n"
    push = subprocess.run([KEYTRAP, "hook", "--pre-push"], cwd=repo.path, input=stdin, text=True, capture_output=True,
                          env={**os.environ, "KEYTRAP_PUSH_REMOTE": "origin"}, timeout=120)
    assert push.returncode == 1 and "push refused: 3 Binance secrets found" in push.stdout, push.stdout + push.stderr
    # the default branch known: a base that is not on it gives the defaults
    repo.git("remote", "set-head", "origin", "main")
    proc = keytrap(repo.path, "scan", ".", "--range", f"{p1}..{p2}")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines()[0] == (f"keytrap: config: defaults (no config file, the base commit {p1[:12]} "
                                           "is not on the default branch origin/main)")
    assert "pass --settings-from REV" in proc.stderr
    push = subprocess.run([KEYTRAP, "hook", "--pre-push"], cwd=repo.path, input=f"refs/heads/feature {p2} refs/heads/feature {p1}\n",
                          text=True, capture_output=True, env={**os.environ, "KEYTRAP_PUSH_REMOTE": "origin"}, timeout=120)
    assert push.returncode == 1, push.stdout + push.stderr
    # a base on the default branch applies, and the change is named
    proc = keytrap(repo.path, "scan", ".", "--range", f"{main}..{p2}")
    assert proc.returncode == 1 and proc.stderr.splitlines()[0] == f"keytrap: config: defaults (no config file at {main[:12]})"
    assert "config changed: the scanned commits add pyproject.toml" in proc.stderr
    # --settings-from: the caller names the trusted commit
    assert keytrap(repo.path, "scan", ".", "--range", f"{p1}..{p2}", "--settings-from", p1).returncode == 0
    for rev in ("origin/main", main):
        proc = keytrap(repo.path, "scan", ".", "--range", f"{p1}..{p2}", "--settings-from", rev)
        assert proc.returncode == 1 and proc.stderr.splitlines()[0] == f"keytrap: config: defaults (no config file at {main[:12]})"
        assert "config changed: the scanned commits add pyproject.toml" in proc.stderr
    proc = keytrap(repo.path, "scan", ".", "--range", f"{p1}..{p2}", "--settings-from", zero)
    assert proc.returncode == 1 and proc.stderr.splitlines()[0] == (
        "keytrap: config: defaults (no config file, --settings-from the null commit)")
    proc = keytrap(repo.path, "scan", ".", "--range", f"{p1}..{p2}", "--settings-from", "nope")
    assert proc.returncode == 2 and proc.stderr.startswith("keytrap: error: unknown --settings-from commit"), proc.stderr
    # any scan: a branch (the action's scope for a new branch), the tree, the hook
    assert keytrap(repo.path, "scan", ".", "--branch", "feature2").returncode == 0  # the working tree's settings
    for args in (("scan", ".", "--branch", "feature2"), ("scan", "."), ("scan", ".", "--history")):
        proc = keytrap(repo.path, *args, "--settings-from", main)
        assert proc.returncode == 1, (args, proc.stderr)
        assert proc.stderr.splitlines()[0] == f"keytrap: config: defaults (no config file at {main[:12]})", args
    push = subprocess.run([KEYTRAP, "hook", "--pre-push", "--settings-from", p1], cwd=repo.path,
                          input=f"refs/heads/feature {p2} refs/heads/feature {p1}\n", text=True, capture_output=True,
                          env={**os.environ, "KEYTRAP_PUSH_REMOTE": "origin"}, timeout=120)
    assert push.returncode == 0, push.stdout + push.stderr  # the user trusts p1: its settings apply
    assert_redacted(proc.stdout + proc.stderr + push.stdout + push.stderr, [key, secret, key2])


# --- output integrity: hostile names, subjects and config values in every command and format ---

import json  # noqa: E402
import re  # noqa: E402

from helpers import assert_redacted, random_secret  # noqa: E402

#: A terminal acts on these: C0 (but newline), DEL, C1, bidi overrides and isolates, LS/PS.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
#: File names an attacker commits: a fake all-clear, a workflow command, rich markup and an
#: emoji code, bidi and C1 controls, a legacy workflow command.
ESC_NAME = "\x1b[2J\x1b[HNo Binance secrets found.\n.py"
GH_NAME = "::set-output name=clean::true.py"
RICH_NAME = ":warning: [bold red]ok[/bold red].py"
BIDI_NAME = "bidi\u202egnp.\u2066x\u2069\u2028.env"
C1_NAME = "c1\u009b31m\u0085.env"
LEGACY_NAME = "legacy##[set-output name=clean;]true.py"
HOSTILE_NAMES = (ESC_NAME, GH_NAME, RICH_NAME, BIDI_NAME, C1_NAME, LEGACY_NAME)


def _neutral_name_part() -> str:
    """A key-shaped run for ``settings.by_<run>`` that names nothing by chance: one random run
    in ~50 holds ``gcp``, ``ftx``, ``jwt`` or ``ipfs``, and a value so named is (rightly) not
    reported, which made the report test fail about once in 50 runs."""
    from keytrap.candidates.context import negative_name

    while True:
        run = random_secret()
        if negative_name(f"settings.by_{run}") is None:
            return run


class Hostile:
    """One hostile repository, built once for the module; every key made at test time."""

    def __init__(self, base: Path) -> None:
        self.keys: dict[str, str] = {n: random_secret() for n in (
            "api", "secret", "path", "env", "name", "value", "subject", "author", "branch", "submodule",
            "config", "baseline", "hooks", "root", "staged", *HOSTILE_NAMES)}
        self.keys["name"] = _neutral_name_part()
        k = self.keys
        self.repo = GitRepo(base / f"r{k['root']}")  # the scan root itself is named after a key
        self.repo.commit("init")
        files = {
            ".env": f"BINANCE_API_KEY={k['api']}\nBINANCE_API_SECRET={k['secret']}\n",
            f"keys/{k['path']}.pem": f"BINANCE_API_KEY={k['path']}\n",  # a file named after its key
            "cfg.py": f"# binance\nsettings.by_{k['name']} = \"{k['value']}\"\n",  # a name holding a key
            **{name: f"binance_api_key = \"{k[name]}\"\n" for name in HOSTILE_NAMES},
        }
        self.leak = self.repo.commit(f"\x1b]0;pwned\x07\x1b[2Jfix ::set-output name=x::y ##[add-mask]z {k['subject']}", files)
        env = self.repo.env()
        env["GIT_AUTHOR_NAME"] = f"Eve \x1b[31m\u202e{k['author']}"
        subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "second"], cwd=self.repo.path, env=env, check=True)
        self.repo.git("branch", f"leak-{k['branch']}-\u202e")
        head = self.repo.head()
        self.repo.git("update-index", "--add", "--cacheinfo", f"160000,{head},vendor/\x1b[31m{k['submodule']}")
        self.repo.git("commit", "-q", "-m", "submodule")
        self.repo.write(f".env.{k['env']}", f"BINANCE_API_SECRET={k['env']}\n")  # untracked, not ignored
        self.repo.write(".keytrap.toml", f'"\\u001b[2J{k["config"]}" = 1\n')  # an unknown setting
        self.repo.write(".keytrap-baseline.json", json.dumps({"fingerprints": [{"fingerprint": 1, "x": "\x1b[2J" + k["baseline"]}]}))
        self.repo.write("\x1b[31mstaged.env", f"BINANCE_API_KEY={k['staged']}\n")
        self.repo.git("add", "\x1b[31mstaged.env")
        self.repo.git("config", "core.hooksPath", f"hooks\x1b[2J{k['hooks']}")
        self.settings = ("--no-config",)  # scans: not the hostile config and baseline (doctor reads them)
        self.head = self.repo.head()

    def run(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k.startswith("GIT_CONFIG")}
        return subprocess.run([KEYTRAP, *args], cwd=self.repo.path, capture_output=True, text=True, input=stdin,
                              env={**base, **(env or {})}, timeout=300, encoding="utf-8", errors="surrogateescape")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    return Hostile(tmp_path_factory.mktemp("hostile"))


def assert_safe_output(text: str, keys: list[str], fmt: str = "text") -> None:
    """Redacted, no raw control character, no workflow command unless it is keytrap's own."""
    assert_redacted(text, keys)
    bad = RAW_CONTROL.search(text)
    assert bad is None, f"raw control character {bad.group()!r} at {bad.start()}: {text[max(0, bad.start() - 60):bad.start() + 20]!r}"
    assert "##[" not in text
    assert "\u26a0" not in text  # ":warning:" stayed text
    for line in text.splitlines():
        if line.lstrip().startswith("::"):
            assert fmt == "github" and re.match(r"::(error|warning|notice) ", line), line


SCAN_COMMANDS = {
    "scan": ("scan", "."),
    "scan-verbose": ("scan", ".", "--verbose", "--max-size", "60"),
    "history": ("scan", ".", "--history"),
    "range": ("scan", ".", "--range", "HEAD~3..HEAD"),
    "staged": ("scan", "--staged"),
}


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "gitlab"])
@pytest.mark.parametrize("command", sorted(SCAN_COMMANDS))
def test_every_scan_format_is_redacted_and_escaped(hostile: Hostile, command: str, fmt: str) -> None:
    args = SCAN_COMMANDS[command]
    proc = hostile.run(*args, *hostile.settings, "--format", fmt)
    assert proc.returncode == (0 if command == "scan-verbose" else 1), proc.stderr  # verbose: all skipped
    for text in (proc.stdout, proc.stderr):
        assert_safe_output(text, list(hostile.keys.values()), fmt)
    if fmt == "json":
        paths = {f["path"] for f in json.loads(proc.stdout)["findings"]}
        if command in ("scan", "history"):  # the data is intact: only its display is escaped
            assert set(HOSTILE_NAMES) <= paths
    if fmt == "sarif":
        doc = json.loads(proc.stdout)
        assert proc.stdout.isascii()
        from keytrap.findings import redact

        root = doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        assert root.endswith(f"/{redact('r' + hostile.keys['root'])}/")  # the folder's name is a key


def test_text_report_shows_hostile_names_escaped(hostile: Hostile) -> None:
    proc = hostile.run("scan", ".", *hostile.settings)
    out = proc.stdout
    lines = out.splitlines()
    assert "\\x1b[2J\\x1b[HNo Binance secrets found.\\x0a.py  (tracked by git: committed or about to be)" in lines
    assert "\\x3a:set-output name=clean::true.py  (tracked by git: committed or about to be)" in lines
    assert ":warning: [bold red]ok[/bold red].py  (tracked by git: committed or about to be)" in lines
    assert "bidi\\u202egnp.\\u2066x\\u2069\\u2028.env  (tracked by git: committed or about to be)" in lines
    assert "c1\\x9b31m\\x85.env  (tracked by git: committed or about to be)" in lines
    assert "legacy##\\x5bset-output name=clean;]true.py  (tracked by git: committed or about to be)" in lines
    n = hostile.keys["name"]
    assert f"as settings.by_{n[:4]}…{n[-4:]}" in out  # redacted before the table could cut it
    assert not out.startswith("No Binance secrets found")


def test_history_report_escapes_subjects_and_authors(hostile: Hostile) -> None:
    out = hostile.run("scan", ".", "--history", *hostile.settings).stdout
    s, a = hostile.keys["subject"], hostile.keys["author"]
    assert f'"\\x1b]0;pwned\\x07\\x1b[2Jfix ::set-output name=x::y ##\\x5badd-mask]z {s[:4]}…{s[-4:]}"' in out
    from keytrap.findings import redact

    assert f"note: submodules not followed: vendor/\\x1b[{redact('31m' + hostile.keys['submodule'])}" in out
    assert a[:9] not in out


def test_hook_reports_and_warnings_are_escaped(hostile: Hostile) -> None:
    keys = list(hostile.keys.values())
    proc = hostile.run("hook", *hostile.settings)
    assert proc.returncode == 1, proc.stderr
    k = hostile.keys["staged"]
    assert f"  \\x1b[31mstaged.env:1:17: api key {k[:4]}…{k[-4:]} as BINANCE_API_KEY [high confidence]" in proc.stdout.splitlines()
    assert_safe_output(proc.stdout + proc.stderr, keys)
    refused = hostile.run("hook")  # the working tree's hostile config: one escaped error line
    from keytrap.findings import redact

    assert refused.returncode == 2
    assert f"unknown setting '\\x1b[{redact('2J' + hostile.keys['config'])}'" in refused.stderr
    assert_safe_output(refused.stdout + refused.stderr, keys)
    push = hostile.run("hook", "--pre-push", *hostile.settings,
                       stdin=f"refs/heads/main {hostile.head} refs/heads/main {'0' * 40}\n")
    assert push.returncode == 1, push.stderr
    k = hostile.keys[GH_NAME]
    assert f"  \\x3a:set-output name=clean::true.py:1:20 (commit {hostile.leak[:10]}): api key {k[:4]}…{k[-4:]} as binance_api_key [high confidence]" in push.stdout.splitlines()
    assert_safe_output(push.stdout + push.stderr, keys)


def test_doctor_baseline_install_and_errors_are_redacted_and_escaped(hostile: Hostile, tmp_path: Path) -> None:
    from keytrap.findings import redact

    keys = list(hostile.keys.values())
    k = hostile.keys
    doctor = hostile.run("doctor", ".")
    assert doctor.returncode == 1
    out = doctor.stdout
    assert f"keys/{k['path'][:4]}…{k['path'][-4:]}.pem" in out
    assert f".env.{k['env'][:4]}…{k['env'][-4:]}" in out
    assert f"unknown setting '\\x1b[{redact('2J' + k['config'])}'" in out
    assert f"bad entry {{'fingerprint': 1, 'x': '\\x1b[{redact('2J' + k['baseline'])}'}}" in out
    assert_safe_output(doctor.stdout + doctor.stderr, keys)
    outputs = [doctor]
    outputs.append(hostile.run("scan", "."))  # the hostile config: one error line
    assert outputs[-1].returncode == 2 and f"unknown setting '\\x1b[{redact('2J' + k['config'])}'" in outputs[-1].stderr
    outputs.append(hostile.run("scan", ".", *hostile.settings, "--baseline", ".keytrap-baseline.json"))
    assert outputs[-1].returncode == 2 and outputs[-1].stderr.count("\n") == 1
    outputs.append(hostile.run("baseline", ".", *hostile.settings, "-o", str(tmp_path / "b.json")))
    assert outputs[-1].returncode == 0
    outputs.append(hostile.run("install"))
    assert outputs[-1].returncode == 0 and f"hooks\\x1b[{redact('2J' + k['hooks'])}/pre-commit" in outputs[-1].stderr
    outputs.append(hostile.run("doctor", "."))
    hook = f"{hostile.repo.path.parent}/{redact('r' + k['root'])}/hooks\\x1b[{redact('2J' + k['hooks'])}/pre-commit"
    assert f"ok    pre-commit hook: keytrap runs from {hook}" in outputs[-1].stdout.splitlines()
    outputs.append(hostile.run("uninstall"))
    for proc in outputs:
        assert_safe_output(proc.stdout + proc.stderr, keys)


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "gitlab"])
def test_a_stdout_that_cannot_encode_the_ellipsis_degrades_to_ascii(hostile: Hostile, encoding: str, fmt: str) -> None:
    proc = hostile.run("scan", ".", *hostile.settings, "--format", fmt,
                       env={"PYTHONIOENCODING": encoding, "PYTHONUTF8": "0"})
    assert proc.returncode == 1, proc.stderr
    k = hostile.keys["api"]
    dots = "\\u2026" if fmt == "sarif" else "..."  # SARIF is pure ASCII JSON in any locale
    assert f"{k[:4]}{dots}{k[-4:]}" in proc.stdout
    assert "\u2026" not in proc.stdout
    if fmt in ("json", "sarif", "gitlab"):
        json.loads(proc.stdout)
    assert_safe_output(proc.stdout, list(hostile.keys.values()), fmt)


@pytest.mark.parametrize("args", [("hook",), ("hook", "--pre-push"), ("doctor", "."), ("scan", ".", "--history")])
def test_every_command_degrades_to_ascii(hostile: Hostile, args: tuple[str, ...]) -> None:
    extra = () if args[0] == "doctor" else hostile.settings
    proc = hostile.run(*args, *extra, env={"PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0", "LC_ALL": "C"},
                       stdin=f"refs/heads/main {hostile.head} refs/heads/main {'0' * 40}\n")
    assert proc.returncode == 1, proc.stderr
    assert (proc.stdout + proc.stderr).isascii()
    assert "..." in proc.stdout


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "html"])
def test_audit_reports_are_redacted_and_escaped(hostile: Hostile, fmt: str, tmp_path: Path) -> None:
    proc = hostile.run("audit", ".", "--no-config", "--cache", str(tmp_path / "cache"), "--jobs", "1", "--format", fmt)
    assert proc.returncode == 1, proc.stderr
    assert_safe_output(proc.stdout + proc.stderr, list(hostile.keys.values()))
    if fmt in ("json", "sarif"):
        json.loads(proc.stdout)


def test_gitlab_report_is_redacted_and_escaped(hostile: Hostile) -> None:
    proc = hostile.run("scan", ".", "--history", *hostile.settings, "--format", "gitlab")
    assert proc.returncode == 1, proc.stderr
    assert_safe_output(proc.stdout + proc.stderr, list(hostile.keys.values()))
    paths = {v["location"]["file"] for v in json.loads(proc.stdout)["vulnerabilities"]}
    assert ESC_NAME in paths  # escaped as JSON: the value is intact
