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


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
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
    assert reasons["blob.bin"] == "binary"
    assert "larger than" in reasons["big.log"]
    assert "symlink" in reasons["dangling"]
    assert [f["path"] for f in doc["findings"]] == ["latin1.txt"]
    assert doc["findings"][0]["line"] == 2


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
        "heavy = [m for m in ('rich', 'git', 'keytrap.sources.history', 'keytrap.verify') if m in sys.modules];"
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
