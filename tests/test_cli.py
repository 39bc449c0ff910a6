"""The CLI through a real subprocess: exit codes, one-line errors, stdout/stderr apart."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git
from helpers import assert_redacted, random_secret


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "keytrap", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(folder))] = (p.stat().st_mtime_ns, p.read_bytes())
    return out


def one_line_error(proc: subprocess.CompletedProcess, ignore: str | None = None) -> str:
    """The one line on stderr (besides lines starting with ``ignore``)."""
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not (ignore and ln.startswith(ignore))]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_clean_folder_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print('hello')\n")
    proc = run("scan", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "No Binance secrets found" in proc.stdout


def test_findings_exit_one_and_json_contract(tmp_path: Path, key: str, secret: str) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".env").write_text(f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n")
    proc = run("scan", str(tmp_path), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["version"] == 1
    assert set(doc["stats"]) >= {"files_scanned", "bytes_scanned", "skipped", "duration_s"}
    f1, f2 = doc["findings"]
    required = {"rule", "kind", "path", "line", "column", "confidence", "secret_redacted",
                "fingerprint", "pair", "git_status", "commit"}
    assert required <= set(f1)
    assert (f1["path"], f1["line"], f1["kind"]) == ("sub/.env", 1, "api_key")
    assert (f2["path"], f2["line"], f2["kind"]) == ("sub/.env", 2, "secret_key")
    assert f1["pair"] == f2["pair"] is not None
    assert f1["confidence"] == "high" and f1["commit"] is None and f1["git_status"] is None
    assert_redacted(proc.stdout, [key, secret])


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_every_format_redacts(tmp_path: Path, key: str, secret: str, fmt: str) -> None:
    (tmp_path / "bot.py").write_text(f'client = Client("{key}", "{secret}")\n')
    proc = run("scan", str(tmp_path), "--format", fmt)
    assert proc.returncode == 1
    assert_redacted(proc.stdout + proc.stderr, [key, secret])


def test_json_same_findings_as_text(tmp_path: Path, key: str) -> None:
    (tmp_path / "x.yaml").write_text(f"binance:\n  api_key: {key}\n")
    doc = json.loads(run("scan", str(tmp_path), "-f", "json").stdout)
    text = run("scan", str(tmp_path)).stdout
    assert len(doc["findings"]) == 1
    assert doc["findings"][0]["secret_redacted"] in text


def test_missing_path(tmp_path: Path) -> None:
    proc = run("scan", str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert "path not found" in one_line_error(proc)


def test_path_that_is_a_file(tmp_path: Path, key: str) -> None:
    f = tmp_path / "one.env"
    f.write_text(f"BINANCE_SECRET_KEY={key}\n")
    proc = run("scan", str(f), "-f", "json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["findings"][0]["kind"] == "secret_key"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read every file")
def test_unreadable_file_is_listed(tmp_path: Path) -> None:
    f = tmp_path / "locked.txt"
    f.write_text("x")
    f.chmod(0)
    proc = run("scan", str(tmp_path), "-f", "json")
    assert proc.returncode == 0
    assert any("unreadable" in s["reason"] for s in json.loads(proc.stdout)["stats"]["skipped"])


def test_binary_huge_symlink_invalid_utf8(tmp_path: Path, key: str) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01" + f"BINANCE_API_KEY={key}".encode())
    (tmp_path / "big.log").write_bytes(b"a" * 2048 + f"\nBINANCE_API_KEY={key}\n".encode())
    (tmp_path / "dangling").symlink_to(tmp_path / "does-not-exist")
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9 \xff\xfe\n" + f"binance secret={key}\n".encode())
    proc = run("scan", str(tmp_path), "-f", "json", "--max-size", "1K")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    reasons = {s["path"]: s["reason"] for s in doc["stats"]["skipped"]}
    assert "blob.bin" not in reasons  # a binary is read as its printable strings, as the hook reads it
    assert "larger than" in reasons["big.log"]
    assert "symlink" in reasons["dangling"]
    assert [(f["path"], f.get("encoding")) for f in doc["findings"]] == [("blob.bin", "strings"), ("latin1.txt", None)]
    assert doc["findings"][1]["line"] == 2


def test_broken_symlink_given_explicitly(tmp_path: Path) -> None:
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "missing")
    proc = run("scan", str(link), "-f", "json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["stats"]["skipped"][0]["reason"] == "broken symlink"


def test_symlink_out_of_root_not_followed(tmp_path: Path, key: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / ".env").write_text(f"BINANCE_API_KEY={key}\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside)
    proc = run("scan", str(root), "-f", "json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["findings"] == []


def test_utf16_with_bom(tmp_path: Path, key: str) -> None:
    (tmp_path / "win.env").write_bytes(f"x=1\r\nBINANCE_API_KEY={key}\r\n".encode("utf-16"))
    doc = json.loads(run("scan", str(tmp_path), "-f", "json").stdout)
    assert [(f["path"], f["line"]) for f in doc["findings"]] == [("win.env", 2)]


def test_unknown_flag_and_no_command() -> None:
    proc = run("scan", "--bogus")
    assert proc.returncode == 2
    assert "unrecognized arguments" in one_line_error(proc)
    assert run().returncode == 2


def test_broken_config_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".keytrap.toml").write_text("min_confidence = [\n")
    proc = run("scan", str(tmp_path))
    assert proc.returncode == 2
    assert "invalid TOML" in one_line_error(proc)
    (tmp_path / ".keytrap.toml").write_text('min_confidense = "high"\n')
    proc = run("scan", str(tmp_path))
    assert proc.returncode == 2
    assert "unknown setting 'min_confidense'" in one_line_error(proc)


def test_git_status_and_no_writes(repo: Path, key: str, secret: str) -> None:
    (repo / ".gitignore").write_text("ignored.env\n")
    (repo / "tracked.py").write_text(f"API_KEY = '{key}'\n")
    git(repo, "add", ".gitignore", "tracked.py")
    git(repo, "commit", "-qm", "init")
    (repo / "untracked.env").write_text(f"BINANCE_SECRET={secret}\n")
    (repo / "ignored.env").write_text(f"BINANCE_SECRET={secret}\n")
    before = snapshot(repo)
    proc = run("scan", str(repo), "-f", "json")
    assert snapshot(repo) == before
    status = {f["path"]: f["git_status"] for f in json.loads(proc.stdout)["findings"]}
    assert status == {"tracked.py": "tracked", "untracked.env": "untracked", "ignored.env": "ignored"}
    text = run("scan", str(repo)).stdout
    assert "one `git add .` away from a leak" in text


def test_output_file_written_atomically(tmp_path: Path, key: str) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "k.env").write_text(f"BINANCE_API_KEY={key}\n")
    out = tmp_path / "report.json"
    proc = run("scan", str(tmp_path / "src"), "-f", "json", "-o", str(out))
    assert proc.returncode == 1 and proc.stdout == ""
    assert json.loads(out.read_text())["findings"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


def test_baseline_roundtrip_survives_move_and_rename(repo: Path, key: str) -> None:
    (repo / "a.env").write_text(f"BINANCE_API_KEY={key}\n")
    proc = run("baseline", str(repo))
    assert proc.returncode == 0, proc.stderr
    base = repo / ".keytrap-baseline.json"
    assert key[:9] not in base.read_text()
    (repo / "a.env").unlink()
    (repo / "renamed.cfg").write_text(f"# moved\n\nBINANCE_API_KEY={key}\n")
    assert run("scan", str(repo), "--baseline", str(base)).returncode == 0
    (repo / "new.env").write_text(f"BINANCE_API_KEY={random_secret()}\n")
    assert run("scan", str(repo), "--baseline", str(base)).returncode == 1


def test_malformed_baseline(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text("{not json")
    proc = run("scan", str(tmp_path), "--baseline", str(tmp_path / "b.json"))
    assert proc.returncode == 2
    assert "malformed baseline" in one_line_error(proc)


def test_staged_reads_index_not_worktree(repo: Path, key: str) -> None:
    (repo / "cfg.py").write_text(f"BINANCE_API_KEY = '{key}'\n")
    git(repo, "add", "cfg.py")
    (repo / "cfg.py").write_text("BINANCE_API_KEY = os.environ['BINANCE_API_KEY']\n")
    proc = run("scan", "--staged", "-f", "json", cwd=repo)
    assert proc.returncode == 1, proc.stderr
    f = json.loads(proc.stdout)["findings"][0]
    assert (f["path"], f["git_status"]) == ("cfg.py", "staged")
    hook = run("hook", "cfg.py", cwd=repo)
    assert hook.returncode == 1
    assert "commit refused" in hook.stdout
    assert_redacted(hook.stdout + hook.stderr, [key])


def test_staged_ignores_preexisting_and_renamed(repo: Path, key: str) -> None:
    (repo / "old.py").write_text(f"BINANCE_API_KEY = '{key}'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "legacy")
    git(repo, "mv", "old.py", "new.py")
    (repo / "new.py").write_text(f"# comment\nBINANCE_API_KEY = '{key}'\n")
    git(repo, "add", ".")
    assert run("hook", "new.py", cwd=repo).returncode == 0


def test_staged_outside_repo(tmp_path: Path) -> None:
    proc = run("scan", "--staged", cwd=tmp_path)
    assert proc.returncode == 2
    assert "not a git repository" in one_line_error(proc)


def test_hook_imports_stay_light(repo: Path) -> None:
    (repo / "ok.py").write_text("x = 1\n")
    git(repo, "add", "ok.py")
    code = (
        "import sys; from keytrap.cli import main; rc = main(['hook', 'ok.py']);"
        "heavy = [m for m in ('rich', 'git', 'keytrap.sources.history', 'keytrap.verify', 'pathspec', 'tomli', 'yaml', 'keytrap.reporters.gitlab') if m in sys.modules];"
        "print(rc, heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True)
    assert proc.stdout.strip() == "0 []", proc.stdout + proc.stderr


def test_file_permissions_untouched(tmp_path: Path, key: str) -> None:
    f = tmp_path / "k.env"
    f.write_text(f"BINANCE_API_KEY={key}\n")
    mode = f.stat().st_mode
    run("scan", str(tmp_path))
    assert stat.S_IMODE(f.stat().st_mode) == stat.S_IMODE(mode)


def test_output_to_a_device_is_not_replaced(tmp_path: Path, key: str) -> None:
    (tmp_path / "k.env").write_text(f"BINANCE_API_KEY={key}\n")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    import threading

    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    proc = run("scan", str(tmp_path / "k.env"), "-f", "json", "-o", str(fifo))
    reader.join(timeout=30)
    assert proc.returncode == 1
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(got[0])["findings"]


def test_cli_sarif_validates_and_github_annotates(tmp_path: Path, key: str, secret: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "settings.py").write_text(f"BINANCE_API_KEY = '{key}'\nBINANCE_API_SECRET = '{secret}'\n")
    proc = run("scan", str(tmp_path), "-f", "sarif")
    assert proc.returncode == 1
    schema = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
    doc = json.loads(proc.stdout)
    jsonschema.Draft4Validator(schema).validate(doc)
    results = doc["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results] == ["app/settings.py"] * 2
    gh = run("scan", str(tmp_path), "-f", "github").stdout.splitlines()
    assert gh[0].startswith("::error file=app/settings.py,line=1,")


def test_progress_bar_on_a_terminal(tmp_path: Path, key: str) -> None:
    """stderr on a terminal gets a transient rich progress bar; stdout keeps the report."""
    import pty

    (tmp_path / "k.env").write_text(f"BINANCE_API_KEY={key}\n")
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "keytrap", "scan", str(tmp_path), "-f", "json"],
                              stdout=subprocess.PIPE, stderr=slave, timeout=120)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    tty_text = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 1, tty_text
    assert "internal error" not in tty_text and "Traceback" not in tty_text
    assert json.loads(proc.stdout)["findings"][0]["kind"] == "api_key"


def test_staged_many_files_and_oversize_blob(repo: Path, key: str) -> None:
    """Thousands of staged files stream through one cat-file without a pipe deadlock, and a
    blob over the size limit is streamed in windows, never skipped."""
    for i in range(2500):
        (repo / f"f{i}.txt").write_text(f"x{i}\n")
    (repo / "big.env").write_text("#" * 5000 + f"\nBINANCE_API_KEY={key}\n")
    (repo / "small.env").write_text(f"BINANCE_API_SECRET={key}\n")
    git(repo, "add", ".")
    proc = run("scan", "--staged", "-f", "json", "--max-size", "4K", cwd=repo)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["stats"]["files_scanned"] == 2502
    assert doc["stats"]["skipped"] == []
    assert [(f["path"], f["line"]) for f in doc["findings"]] == [("big.env", 2), ("small.env", 1)]


def test_filtered_secret_in_a_path_is_still_redacted(tmp_path: Path, key: str, secret: str) -> None:
    """A file named after its key: even when the key is baselined (so not a finding), no output
    may print it."""
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / f"{key}.json").write_text(f'{{"apiKey": "{key}", "secret": "{secret}"}}\n')
    assert run("baseline", str(tmp_path)).returncode == 0
    base = tmp_path / ".keytrap-baseline.json"
    assert_redacted(base.read_text(), [key, secret])
    (keys / f"{key}.json").write_text(f'{{"apiKey": "{key}", "secret": "{random_secret()}"}}\n')
    for fmt in ("text", "json", "sarif", "github"):
        proc = run("scan", str(tmp_path), "--baseline", str(base), "-f", fmt)
        assert proc.returncode == 1
        assert_redacted(proc.stdout + proc.stderr, [key, secret])


def test_broken_pipe_keeps_the_exit_code(tmp_path: Path, key: str) -> None:
    (tmp_path / "k.env").write_text(f"BINANCE_API_KEY={key}\n" * 200)
    proc = subprocess.run(
        f"{sys.executable} -m keytrap scan {tmp_path} -f json | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}",
        shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=120,
    )
    assert proc.stdout.strip() == "1", proc.stdout + proc.stderr


def test_doctor_with_explicit_baseline(repo: Path) -> None:
    (repo / "b.json").write_text('{"fingerprints": []}')
    proc = run("doctor", str(repo), "--baseline", str(repo / "b.json"))
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert "baseline" in proc.stdout


def test_staged_old_low_confidence_secret_is_not_new(repo: Path, key: str) -> None:
    (repo / "data.txt").write_text(f"{key}\n")  # bare token: low confidence
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "old")
    (repo / "data.txt").write_text(f"# binance\n{key}\n")  # now medium, but not new
    git(repo, "add", ".")
    assert run("hook", "--min-confidence", "medium", "data.txt", cwd=repo).returncode == 0


def test_output_file_still_says_what_happened_on_stderr(tmp_path: Path, key: str) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "k.env").write_text(f"BINANCE_API_KEY={key}\n")
    out = tmp_path / "report.sarif"
    proc = run("scan", str(tmp_path / "src"), "-f", "sarif", "-o", str(out))
    assert proc.returncode == 1 and proc.stdout == ""
    line = one_line_error(proc, ignore="keytrap: config:")
    assert line.startswith("keytrap: 1 Binance secret found (1 high, 0 medium, 0 low confidence)")
    assert f"sarif report written to {out}" in line and "Scanned 1 file " in line
    assert_redacted(proc.stderr, [key])
    (tmp_path / "empty").mkdir()
    proc = run("scan", str(tmp_path / "empty"), "-f", "json", "-o", str(out))
    assert proc.returncode == 0 and "no Binance secrets found" in one_line_error(proc, ignore="keytrap: config:")


def test_github_format_appends_the_step_summary(tmp_path: Path, key: str) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "k.env").write_text(f"BINANCE_API_KEY={key}\n")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    proc = run("scan", str(tmp_path / "src"), "-f", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n### keytrap: 1 leaked Binance secret found")
    assert "k\\.env" in text
    assert_redacted(text, [key])


def test_gitlab_format_through_the_cli(repo: Path, key: str, secret: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from keytrap.reporters import gitlab

    (repo / "settings.py").write_text(f"BINANCE_API_KEY = '{key}'\nBINANCE_API_SECRET = '{secret}'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "leak")
    head = git(repo, "rev-parse", "HEAD").strip()
    out = repo.parent / "gl-secret-detection-report.json"
    proc = run("scan", str(repo), "-f", "gitlab", "-o", str(out), env={"CI_COMMIT_SHA": head})
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(out.read_text())
    schema = json.loads((Path(__file__).parent / "data" / f"gitlab-secret-detection-report-format-{gitlab.SCHEMA_VERSION}.json").read_text())
    jsonschema.Draft7Validator(schema).validate(doc)
    assert [v["location"]["commit"]["sha"] for v in doc["vulnerabilities"]] == [head, head]
    assert {v["severity"] for v in doc["vulnerabilities"]} == {"High"}
    hist = run("scan", str(repo), "--history", "-f", "gitlab")
    jsonschema.Draft7Validator(schema).validate(json.loads(hist.stdout))
    assert_redacted(out.read_text() + hist.stdout + proc.stderr, [key, secret])


def test_scan_stdin(tmp_path: Path, key: str) -> None:
    def scan(data: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "keytrap", "scan", "-", *args], input=data,
                              capture_output=True, text=True, cwd=tmp_path, timeout=120)

    proc = scan(f"BINANCE_API_KEY={key}\n", "-f", "json")
    assert proc.returncode == 1, proc.stderr
    (f,) = json.loads(proc.stdout)["findings"]
    assert (f["path"], f["line"], f["kind"]) == ("-", 1, "api_key")
    proc = scan(f"BINANCE_API_KEY={key}\n", "-f", "json", "--stdin-name", "deploy/prod.env")
    assert json.loads(proc.stdout)["findings"][0]["path"] == "deploy/prod.env"
    assert scan("nothing here\n").returncode == 0
    assert scan("x" * 100, "--max-size", "10").returncode == 0
    assert "larger than" in scan("x" * 100, "--max-size", "10", "-f", "json").stdout
    assert_redacted(proc.stdout + proc.stderr, [key])
    bad = scan("", "other-path")
    assert bad.returncode == 2 and "standard input" in one_line_error(bad)
    assert scan("", "--history").returncode == 2
    lone = run("scan", str(tmp_path), "--stdin-name", "x")
    assert lone.returncode == 2 and "--stdin-name" in one_line_error(lone)


def test_dependency_folders_are_skipped_by_default(tmp_path: Path, key: str) -> None:
    import venv

    venv.create(tmp_path / "my-env", with_pip=False)
    for rel in ("my-env/lib/k.env", "node_modules/pkg/k.env", ".tox/py/k.env", ".mypy_cache/k.env",
                ".pytest_cache/k.env", "__pycache__/k.env", "dist/k.env", "build/k.env", "app/k.env",
                "app/.env"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"BINANCE_API_KEY={key}\n")
    doc = json.loads(run("scan", str(tmp_path), "-f", "json").stdout)
    assert sorted(f["path"] for f in doc["findings"]) == [
        "__pycache__/k.env", "app/.env", "app/k.env", "build/k.env", "dist/k.env"]
    skipped = {s["path"]: s["reason"] for s in doc["stats"]["skipped"]}
    assert skipped == {
        ".mypy_cache": "tool cache (--include-deps scans it)",
        ".pytest_cache": "tool cache (--include-deps scans it)",
        ".tox": "tool cache (--include-deps scans it)",
        "my-env": "virtualenv (--include-deps scans it)",
        "node_modules": "node_modules (--include-deps scans it)",
    }
    text = run("scan", str(tmp_path)).stdout
    assert "skipped 5 (3 tool cache, 1 virtualenv, 1 node_modules)" in text
    everything = json.loads(run("scan", str(tmp_path), "--include-deps", "-f", "json").stdout)
    assert len(everything["findings"]) == 10
    # named on the command line, a virtualenv is scanned
    assert run("scan", str(tmp_path / "my-env")).returncode == 1


def test_clean_scan_counts_skipped_files_by_reason(tmp_path: Path) -> None:
    for i in range(8):
        (tmp_path / f"b{i}.bin").write_bytes(b"\x00\x01")
    proc = run("scan", str(tmp_path))
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert "skipped 8 (8 binary)" in lines[0]
    assert not any(ln.strip().startswith("skipped b") for ln in lines) and "more" not in proc.stdout
    verbose = run("scan", str(tmp_path), "--verbose").stdout
    assert sum(ln.strip().startswith("skipped b") for ln in verbose.splitlines()) == 8


def test_bare_repository_has_no_working_tree_files(tmp_path: Path, repo: Path) -> None:
    (repo / "a.txt").write_text("hello\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "one")
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(tmp_path / "bare.git"))
    proc = run("scan", str(tmp_path / "bare.git"), "--history")
    assert proc.returncode == 0, proc.stderr
    assert "working-tree" not in proc.stdout and "1 blob in 1 commit" in proc.stdout


def test_text_report_explains_confidence_and_severity(tmp_path: Path, key: str) -> None:
    (tmp_path / "k.env").write_text(f"BINANCE_API_KEY={key}\n")
    out = run("scan", str(tmp_path)).stdout
    assert "confidence: how sure keytrap is" in out and "severity: how urgent it is" in out


def test_branch_scan_is_about_commits_not_the_working_tree(repo: Path, key: str) -> None:
    (repo / "a.txt").write_text("hello\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "one")
    (repo / "local.env").write_text(f"BINANCE_API_KEY={key}\n")  # never committed
    assert run("scan", str(repo), "--branch", "main").returncode == 0
    assert run("scan", str(repo), "--history").returncode == 1


def test_stdin_advice_names_the_input_not_a_dash(tmp_path: Path, key: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "keytrap", "scan", "-", "-f", "json"], input=f"BINANCE_API_KEY={key}\n",
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    (f,) = json.loads(proc.stdout)["findings"]
    assert any("the scanned input" in a for a in f["actions"]) and not any("out of -" in a for a in f["actions"])


# --- closed standard streams -------------------------------------------------------------------


@pytest.mark.parametrize("closed", ["stdout", "stderr", "both", "stdin"])
def test_closed_standard_streams_end_zero_one_or_two(tmp_path: Path, key: str, closed: str) -> None:
    """``keytrap scan . >&-`` and ``2>&-``: the exit code still tells findings from clean, no
    traceback, and a report written with -o is not corrupted by a closed descriptor reused."""
    (tmp_path / "prod.env").write_text(f"BINANCE_API_KEY={key}\n")
    redirect = {"stdout": ">&-", "stderr": "2>&-", "both": ">&- 2>&-", "stdin": "<&-"}[closed]
    cmd = f'"{sys.executable}" -m keytrap scan "{tmp_path}" -f json {redirect}'
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    if closed in ("stderr", "stdin"):
        assert json.loads(proc.stdout)["findings"]
    out = tmp_path.parent / f"{tmp_path.name}-report.json"
    cmd = f'"{sys.executable}" -m keytrap scan "{tmp_path}" -f json -o "{out}" {redirect}'
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and json.loads(out.read_text())["findings"]


# --- objects a scan cannot read -----------------------------------------------------------------


def test_range_with_unreadable_objects_fails_closed_history_warns(tmp_path: Path) -> None:
    """A range (CI) with an in-scope object it cannot read exits 2 with one line naming how many,
    after the report; a full --history audit goes on, warns, and lists each as skipped."""
    from gitrepo import GitRepo, env_file, fake_key
    from test_history import hostile_partial_clone

    repo = GitRepo(tmp_path / "src")
    repo.commit("one", {"a.env": env_file(fake_key(40))})
    repo.commit("two", {"a.env": env_file(fake_key(41))})
    clone, markers = hostile_partial_clone(repo, tmp_path)
    for args in (("--range", "HEAD~1..HEAD"), ("--since-commit", "HEAD~1")):
        proc = run("scan", str(clone), *args, "-f", "json")
        assert proc.returncode == 2, proc.stderr
        assert one_line_error(proc, ignore="keytrap: config") == (
            "keytrap: error: 1 object in scope could not be read (1 missing: a partial clone, "
            "not fetched): the range was not fully scanned")
        assert json.loads(proc.stdout)["stats"]["skipped"]  # the report still lists it
    proc = run("scan", str(clone), "--history", "--no-worktree")
    assert proc.returncode == 0, proc.stderr
    assert ("keytrap: warning: 2 objects in scope could not be read (2 missing: a partial clone, "
            "not fetched); each is listed as skipped") in proc.stderr.splitlines()
    assert os.listdir(markers) == []


def test_argument_errors_shorten_a_key_typed_in_the_wrong_place(tmp_path: Path) -> None:
    key = random_secret()
    for argv in (("scan", ".", "--format", key), ("scan", ".", "--min-confidence", key),
                 ("hook", f"--{key}"), ("audit", f"--{key}")):
        proc = run(*argv, cwd=tmp_path)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert_redacted(proc.stderr, [key])


def test_scan_stdin_closed_is_an_error_not_clean(tmp_path: Path) -> None:
    import sys

    import shlex

    proc = subprocess.run(["bash", "-c", f"exec {shlex.quote(sys.executable)} -m keytrap scan - <&-"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "standard input" in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr
