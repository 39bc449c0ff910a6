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


class Hostile:
    """One hostile repository, built once for the module; every key made at test time."""

    def __init__(self, base: Path) -> None:
        self.keys: dict[str, str] = {n: random_secret() for n in (
            "api", "secret", "path", "env", "name", "value", "subject", "author", "branch", "submodule",
            "config", "baseline", "hooks", "root", "staged", *HOSTILE_NAMES)}
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
        self.config = base / "benign.toml"  # scans read this; doctor reads the hostile one
        self.config.write_text("min_confidence = \"low\"\n")
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


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
@pytest.mark.parametrize("command", sorted(SCAN_COMMANDS))
def test_every_scan_format_is_redacted_and_escaped(hostile: Hostile, command: str, fmt: str) -> None:
    args = SCAN_COMMANDS[command]
    proc = hostile.run(*args, "--config", str(hostile.config), "--format", fmt)
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
    proc = hostile.run("scan", ".", "--config", str(hostile.config))
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
    out = hostile.run("scan", ".", "--history", "--config", str(hostile.config)).stdout
    s, a = hostile.keys["subject"], hostile.keys["author"]
    assert f'"\\x1b]0;pwned\\x07\\x1b[2Jfix ::set-output name=x::y ##\\x5badd-mask]z {s[:4]}…{s[-4:]}"' in out
    from keytrap.findings import redact

    assert f"note: submodules not followed: vendor/\\x1b[{redact('31m' + hostile.keys['submodule'])}" in out
    assert a[:9] not in out


def test_hook_reports_and_warnings_are_escaped(hostile: Hostile) -> None:
    keys = list(hostile.keys.values())
    proc = hostile.run("hook", "--config", str(hostile.config))
    assert proc.returncode == 1, proc.stderr
    k = hostile.keys["staged"]
    assert f"  \\x1b[31mstaged.env:1:17: api key {k[:4]}…{k[-4:]} as BINANCE_API_KEY [high confidence]" in proc.stdout.splitlines()
    assert_safe_output(proc.stdout + proc.stderr, keys)
    warned = hostile.run("hook", "--config", str(hostile.config), "--max-size", "10")
    assert "keytrap: warning: \\x1b[31mstaged.env not scanned: " in warned.stderr
    assert_safe_output(warned.stdout + warned.stderr, keys)
    push = hostile.run("hook", "--pre-push", "--config", str(hostile.config),
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
    outputs.append(hostile.run("scan", ".", "--config", str(hostile.config), "--baseline", ".keytrap-baseline.json"))
    assert outputs[-1].returncode == 2 and outputs[-1].stderr.count("\n") == 1
    outputs.append(hostile.run("baseline", ".", "--config", str(hostile.config), "-o", str(tmp_path / "b.json")))
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
@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_a_stdout_that_cannot_encode_the_ellipsis_degrades_to_ascii(hostile: Hostile, encoding: str, fmt: str) -> None:
    proc = hostile.run("scan", ".", "--config", str(hostile.config), "--format", fmt,
                       env={"PYTHONIOENCODING": encoding, "PYTHONUTF8": "0"})
    assert proc.returncode == 1, proc.stderr
    k = hostile.keys["api"]
    dots = "\\u2026" if fmt == "sarif" else "..."  # SARIF is pure ASCII JSON in any locale
    assert f"{k[:4]}{dots}{k[-4:]}" in proc.stdout
    assert "\u2026" not in proc.stdout
    if fmt in ("json", "sarif"):
        json.loads(proc.stdout)
    assert_safe_output(proc.stdout, list(hostile.keys.values()), fmt)


@pytest.mark.parametrize("args", [("hook",), ("hook", "--pre-push"), ("doctor", "."), ("scan", ".", "--history")])
def test_every_command_degrades_to_ascii(hostile: Hostile, args: tuple[str, ...]) -> None:
    extra = () if args[0] == "doctor" else ("--config", str(hostile.config))
    proc = hostile.run(*args, *extra, env={"PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0", "LC_ALL": "C"},
                       stdin=f"refs/heads/main {hostile.head} refs/heads/main {'0' * 40}\n")
    assert proc.returncode == 1, proc.stderr
    assert (proc.stdout + proc.stderr).isascii()
    assert "..." in proc.stdout
