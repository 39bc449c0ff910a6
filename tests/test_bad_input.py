"""Bad input through the real CLI: every case ends in one line and a documented exit code.

Each case is listed in docs/bad-input.md (case, expected message, exit code). No case may
print a traceback, exit 3 (internal error) or hang. Sizes are chosen to keep the module fast:
a 1 GB *sparse* file (no disk used), a 50 MB single line, 20,000 tiny files (100,000 take
~3 s to scan warm and ~4 s to create; 20,000 take ~0.6 s + 0.8 s).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import git
from helpers import ALNUM, random_secret
from test_cli import one_line_error, run

ROOT = os.geteuid() == 0



# --- helpers ----------------------------------------------------------------------------------


def scan_json(*args: str, cwd: Path | None = None) -> tuple[int, dict, str]:
    """Run ``keytrap scan ARGS -f json``; no traceback, no internal error; parsed stdout."""
    proc = run("scan", *args, "-f", "json", "--no-progress", cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1), (proc.returncode, proc.stderr)
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def expect_error(proc: subprocess.CompletedProcess, code: int, fragment: str) -> str:
    """Exit ``code`` with one line ``keytrap: error: ...`` that contains ``fragment``."""
    line = one_line_error(proc)
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert line.startswith("keytrap: error: "), line
    assert fragment in line, line
    assert proc.stdout == ""
    return line


def reasons(doc: dict) -> dict[str, str]:
    return {s["path"]: s["reason"] for s in doc["stats"]["skipped"]}


def env_line(key: str, name: str = "BINANCE_API_KEY") -> str:
    return f"{name}={key}\n"


def commit_all(repo: Path, msg: str = "c") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", msg)


def repo_with_key(path: Path, key: str) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "cfg.env").write_text(env_line(key))
    (path / "README").write_text("hello\n")
    commit_all(path, "add key")
    return path


def loose_object_path(repo: Path, oid: str) -> Path:
    return repo / ".git" / "objects" / oid[:2] / oid[2:]


# --- paths ------------------------------------------------------------------------------------


def test_nonexistent_path(tmp_path: Path) -> None:
    expect_error(run("scan", str(tmp_path / "nope")), 2, "path not found:")


def test_file_named_in_place_of_a_folder(tmp_path: Path) -> None:
    """Root-proof 'cannot access': a path under a regular file fails with ENOTDIR for anyone."""
    (tmp_path / "afile").write_text("x\n")
    expect_error(run("scan", str(tmp_path / "afile" / "sub")), 2, "path not found:")


def test_path_that_is_a_file(tmp_path: Path, key: str) -> None:
    f = tmp_path / "one.env"
    f.write_text(env_line(key))
    rc, doc, _ = scan_json(str(f))
    assert rc == 1 and doc["findings"][0]["line"] == 1


@pytest.mark.skipif(ROOT, reason="root reads every file: see the /proc/self/mem variant")
def test_permission_denied_file_and_folder(tmp_path: Path, key: str) -> None:
    (tmp_path / "locked.env").write_text(env_line(key))
    (tmp_path / "locked.env").chmod(0)
    (tmp_path / "closed").mkdir()
    (tmp_path / "closed" / "k.env").write_text(env_line(key))
    (tmp_path / "closed").chmod(0)
    try:
        rc, doc, _ = scan_json(str(tmp_path))
    finally:
        (tmp_path / "closed").chmod(0o700)
    assert rc == 0
    r = reasons(doc)
    assert r["locked.env"] == "unreadable: Permission denied"
    assert r["closed"] == "unreadable folder: Permission denied"


def test_unreadable_even_for_root(tmp_path: Path) -> None:
    """/proc/self/mem is a regular file whose read fails with EIO, whoever runs the scan."""
    if not os.path.exists("/proc/self/mem"):
        pytest.skip("no /proc")
    rc, doc, _ = scan_json("/proc/self/mem", cwd=tmp_path)
    assert rc == 0
    assert reasons(doc) == {"/proc/self/mem": "unreadable: Input/output error"}


def test_socket_and_fifo_are_skipped_not_read(tmp_path: Path) -> None:
    sock_path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(sock_path))
    except OSError as exc:  # path too long on some systems
        pytest.skip(f"cannot bind a unix socket: {exc}")
    os.mkfifo(tmp_path / "fifo")  # reading it would block forever
    try:
        rc, doc, _ = scan_json(str(tmp_path))
        assert rc == 0
        assert reasons(doc) == {"fifo": "not a regular file", "s.sock": "not a regular file"}
        for name in ("s.sock", "fifo"):  # named explicitly
            rc, doc, _ = scan_json(str(tmp_path / name), cwd=tmp_path)
            assert (rc, list(reasons(doc).values())) == (0, ["not a regular file"])
    finally:
        sock.close()


def test_symlink_loops(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "a").symlink_to("b")
    (loop / "b").symlink_to("a")
    (loop / "self").symlink_to(".")
    (loop / "up").symlink_to("..")
    rc, doc, _ = scan_json(str(loop))
    assert rc == 0
    assert set(reasons(doc).values()) == {"symlink (not followed)"}
    rc, doc, _ = scan_json(str(loop / "a"), cwd=tmp_path)
    assert (rc, list(reasons(doc).values())) == (0, ["broken symlink"])


# --- contents ---------------------------------------------------------------------------------


def test_nul_bytes(tmp_path: Path, key: str) -> None:
    (tmp_path / "head.bin").write_bytes(b"\x00\x01" + env_line(key).encode())
    # a NUL after the first 8 KiB does not make a file binary
    (tmp_path / "late.txt").write_bytes(b"a" * 9000 + b"\n\x00\n" + env_line(key).encode())
    rc, doc, _ = scan_json(str(tmp_path))
    assert reasons(doc) == {}  # the binary is read as its printable strings (as the hook reads it)
    assert [(f["path"], f["line"]) for f in doc["findings"]] == [("head.bin", 1), ("late.txt", 3)]


ENCODINGS = {
    "utf8-bom.env": lambda t: b"\xef\xbb\xbf" + t.encode(),
    "utf16le-bom.env": lambda t: t.encode("utf-16"),
    "utf16be-bom.env": lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
    "utf32-bom.env": lambda t: t.encode("utf-32"),
    "utf16-stray-byte.env": lambda t: t.encode("utf-16") + b"\x00",
    "utf16-lone-surrogate.env": lambda t: t.encode("utf-16") + b"\x00\xd8",
    "latin1.env": lambda t: "# café ñ\n".encode("latin-1") + t.encode(),
    "mixed.env": lambda t: "# café\n".encode("latin-1") + "# ключ\n".encode() + b"\xff\xfe\xfd\n" + t.encode()
    + "# 日本\n".encode("shift_jis"),
    "cp1252-crlf.env": lambda t: "# “quoted”\r\n".encode("cp1252") + t.replace("\n", "\r\n").encode(),
}


def test_invalid_and_mixed_encodings_still_find_the_key(tmp_path: Path, key: str) -> None:
    for name, encode in ENCODINGS.items():
        (tmp_path / name).write_bytes(encode(env_line(key)))
    (tmp_path / "utf16-no-bom.env").write_bytes(env_line(key).encode("utf-16-le"))
    (tmp_path / "utf16be-no-bom.env").write_bytes(env_line(key).encode("utf-16-be"))
    rc, doc, _ = scan_json(str(tmp_path))
    assert rc == 1
    # UTF-16 without a BOM is recognised by its NULs in alternate positions, and decoded
    assert sorted({f["path"] for f in doc["findings"]}) == sorted([*ENCODINGS, "utf16-no-bom.env", "utf16be-no-bom.env"])
    assert reasons(doc) == {}


def test_sparse_1gb_file_is_skipped_without_reading(tmp_path: Path) -> None:
    with open(tmp_path / "huge.img", "wb") as fh:
        fh.truncate(1 << 30)  # sparse: no disk used
    started = time.monotonic()
    rc, doc, _ = scan_json(str(tmp_path))
    assert time.monotonic() - started < 10
    assert rc == 0
    assert reasons(doc) == {"huge.img": "larger than the 10485760 byte limit (1073741824 bytes)"}


LONG_LINE = 50 * 1024 * 1024


def test_50mb_line_without_newline_key_near_the_end(tmp_path: Path, key: str) -> None:
    """Found, in bounded memory and time (measured: ~0.6 s and ~120 MB peak RSS)."""
    tail = f' "binance_secret": "{key}" }}'.encode()
    with open(tmp_path / "blob.json", "wb") as fh:
        fh.write(b'{"pad": "' + b"x" * (LONG_LINE - 9 - len(tail)) + b'",')
        fh.write(tail)
    assert (tmp_path / "blob.json").stat().st_size == LONG_LINE + 2
    started = time.monotonic()
    rc, doc, _ = scan_json(str(tmp_path), "--max-size", "60M")
    assert time.monotonic() - started < 20
    assert rc == 1
    (f,) = doc["findings"]
    assert (f["line"], f["kind"], f["confidence"]) == (1, "secret_key", "high")
    assert f["column"] == LONG_LINE + 2 - len(tail) + len(' "binance_secret": "') + 1
    # and the default limit skips it instead of reading it
    rc, doc, _ = scan_json(str(tmp_path))
    assert rc == 0 and "larger than" in reasons(doc)["blob.json"]


TINY_FILES = 20_000


def test_20k_tiny_files(tmp_path: Path, key: str) -> None:
    """20,000 files (100,000 measured at ~3 s warm; kept at 20k for CI)."""
    top = tmp_path / "many"
    top.mkdir()
    for d in range(TINY_FILES // 200):
        sub = top / f"d{d:03}"
        sub.mkdir()
        for i in range(200):
            (sub / f"f{i:03}.txt").write_bytes(b"hello world\n")
    (top / "d050" / "f100.txt").write_text(env_line(key))
    started = time.monotonic()
    rc, doc, _ = scan_json(str(top))
    assert time.monotonic() - started < 30
    assert rc == 1
    assert doc["stats"]["files_scanned"] == TINY_FILES
    assert [f["path"] for f in doc["findings"]] == ["d050/f100.txt"]


def test_non_utf8_file_names(tmp_path: Path, key: str) -> None:
    root = os.fsencode(tmp_path)
    os.mkdir(root + b"/d\xff")
    for raw in (b"/caf\xe9.env", b"/d\xff/\x80\x81.env", "/ユニ.env".encode()):
        with open(root + raw, "wb") as fh:
            fh.write(env_line(key).encode())
    for fmt in ("text", "json", "sarif", "github"):
        proc = run("scan", str(tmp_path), "-f", fmt, env={"PYTHONIOENCODING": "utf-8"})
        assert proc.returncode == 1, (fmt, proc.stderr)
        assert proc.stderr == "keytrap: config: defaults\n"  # the one line saying which settings applied
    out = tmp_path.parent / f"{tmp_path.name}-report.json"
    proc = run("scan", str(tmp_path), "-f", "json", "-o", str(out))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(out.read_bytes().decode("utf-8"))  # strictly valid UTF-8
    assert sorted(f["path"] for f in doc["findings"]) == ["caf\ufffd.env", "d\ufffd/\ufffd\ufffd.env", "ユニ.env"]


# --- settings ---------------------------------------------------------------------------------

BAD_CONFIGS = [
    (".keytrap.toml", b"min_confidence = [\n", "invalid TOML"),
    (".keytrap.toml", b'min_confidense = "high"\n', "unknown setting 'min_confidense'"),
    (".keytrap.toml", b'min_confidence = "extreme"\n', "'min_confidence' must be one of low, medium, high"),
    (".keytrap.toml", b"max_file_size = -5\n", "'max_file_size' must be positive"),
    (".keytrap.toml", b"max_file_size = true\n", "'max_file_size' must be a number of bytes"),
    (".keytrap.toml", b'exclude = "*.txt"\n', "'exclude' must be a list of glob strings"),
    (".keytrap.toml", b"allow_fingerprints = [1]\n", "'allow_fingerprints' must be a list of strings"),
    (".keytrap.toml", b"\xff\xfe\x00", "invalid TOML: not UTF-8"),
    ("pyproject.toml", b"[tool.keytrap\n", "invalid TOML"),
    ("pyproject.toml", b"[tool]\nkeytrap = 3\n", "[tool.keytrap] must be a table"),
    ("pyproject.toml", b"[tool.keytrap]\nexclude = [1]\n", "'exclude' must be a list of strings"),
    ("pyproject.toml", b'[tool.keytrap]\nmax_file_size = "10M"\n', "'max_file_size' must be a number of bytes"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_CONFIGS)
def test_broken_config(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    (tmp_path / "a.txt").write_text("x\n")
    expect_error(run("scan", str(tmp_path)), 2, message)


def test_config_flag_errors(tmp_path: Path) -> None:
    expect_error(run("scan", str(tmp_path), "--config", str(tmp_path / "missing.toml")), 2, "config file not found")
    expect_error(run("scan", str(tmp_path), "--config", str(tmp_path)), 2, "config file not found")


BAD_BASELINES = [
    (b"{not json", "malformed baseline: Expecting property name"),
    (b"[]", "malformed baseline: expected an object with a 'fingerprints' list"),
    (b'{"fingerprints": {}}', "malformed baseline: expected an object with a 'fingerprints' list"),
    (b'{"fingerprints": [1]}', "malformed baseline: bad entry 1"),
    (b'{"fingerprints": [{"rule": "x"}]}', "malformed baseline: bad entry"),
    (b'{"fingerprints": [""]}', "malformed baseline: bad entry ''"),
    (b"\xff\xfe", "cannot read baseline"),
    (b"", "malformed baseline: Expecting value"),
]


@pytest.mark.parametrize(("content", "message"), BAD_BASELINES)
def test_malformed_baseline(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "b.json").write_bytes(content)
    expect_error(run("scan", str(tmp_path), "--baseline", str(tmp_path / "b.json")), 2, message)


def test_baseline_missing_or_a_folder(tmp_path: Path) -> None:
    expect_error(run("scan", str(tmp_path), "--baseline", str(tmp_path / "none.json")), 2, "baseline not found")
    expect_error(run("scan", str(tmp_path), "--baseline", str(tmp_path)), 2, "cannot read baseline")


# --- command line -----------------------------------------------------------------------------

BAD_ARGS = [
    (("scan", "--bogus"), "unrecognized arguments: --bogus"),
    (("bogus",), "invalid choice: 'bogus'"),
    (("scan", "--format", "xml"), "invalid choice: 'xml'"),
    (("scan", "--max-size", "abc"), "not a size: 'abc'"),
    (("scan", "--max-size", "0"), "size must be positive"),
    (("scan", "--max-size", "1e400"), "not a size: '1e400'"),
    (("scan", "--min-confidence", "x"), "invalid choice: 'x'"),
    (("scan", "--verify-timeout", "soon"), "not a number of seconds"),
    (("scan", "--verify-deadline", "soon"), "not a number of seconds"),
    (("scan", "--verify-deadline", "3601"), "deadline must be between 0 and 3600 seconds"),
    (("scan", "--only-verified"), "--only-verified needs --verify"),
    (("scan", "--verify", "--binance-testnet-url", "http://testnet.binance.vision"), "refusing plain http"),
    (("scan", "--staged", "--history"), "--staged cannot be combined"),
    (("scan", "--staged", "somepath"), "--staged scans the index of the current repository; give no PATH"),
]


@pytest.mark.parametrize(("args", "message"), BAD_ARGS, ids=[" ".join(a) for a, _ in BAD_ARGS])
def test_bad_command_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    expect_error(run(*args, cwd=tmp_path), 2, message)


def test_no_command_prints_help_and_exits_2() -> None:
    proc = run()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "usage:" in proc.stderr


@pytest.mark.parametrize("target", ["missing-dir/out.json", ".", "/dev/full"])
def test_unwritable_output(tmp_path: Path, target: str) -> None:
    (tmp_path / "a.txt").write_text("x\n")
    if target == "/dev/full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    out = target if target.startswith("/") else str(tmp_path / target)
    expect_error(run("scan", str(tmp_path / "a.txt"), "-o", out, cwd=tmp_path), 2, f"cannot write {out}")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_ctrl_c_mid_scan(tmp_path: Path) -> None:
    """SIGINT during a long scan (~15 s of work, interrupted after 1 s): exit 130, one line, no
    report and no temp file left. The input is far larger than needed so a fast machine still
    has work left when the signal arrives."""
    big = tmp_path / "big"
    big.mkdir()
    import random

    rnd = random.Random(8)
    for i in range(40):  # ~0.4 s of engine work each: every line is a key-shaped token
        lines = ("v = " + "".join(rnd.choices(ALNUM, k=64)) for _ in range(10_000))
        (big / f"f{i:02}.txt").write_text("\n".join(lines))
    out = tmp_path / "out.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "keytrap", "scan", str(big), "-f", "json", "-o", str(out), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(1.0)  # start-up is ~0.2 s
    assert proc.poll() is None, "scan finished before the signal: make the input bigger"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert stderr == "keytrap: interrupted\n"
    assert stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big"]


# --- git repositories -------------------------------------------------------------------------


def test_empty_repo_staged(repo: Path) -> None:
    proc = run("scan", "--staged", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "No Binance secrets found" in proc.stdout
    assert run("hook", cwd=repo).returncode == 0


def test_empty_repo_history(repo: Path) -> None:
    rc, doc, _ = scan_json(str(repo), "--history")
    assert rc == 0 and doc["findings"] == []


def test_no_commits_staged_key_is_found(repo: Path, key: str) -> None:
    (repo / "cfg.env").write_text(env_line(key))
    git(repo, "add", "cfg.env")
    rc, doc, _ = scan_json("--staged", cwd=repo)
    assert rc == 1 and doc["findings"][0]["git_status"] == "staged"
    assert run("hook", "cfg.env", cwd=repo).returncode == 1


def test_no_commits_history_still_scans_worktree(repo: Path, key: str) -> None:
    (repo / "cfg.env").write_text(env_line(key))
    rc, doc, _ = scan_json(str(repo), "--history")
    assert rc == 1 and [f["path"] for f in doc["findings"]] == ["cfg.env"]


def test_not_a_repository_staged(tmp_path: Path) -> None:
    expect_error(run("scan", "--staged", cwd=tmp_path), 2, "not a git repository")
    expect_error(run("hook", cwd=tmp_path), 2, "not a git repository")


def test_bare_repo_staged_is_not_a_work_tree(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    expect_error(run("scan", "--staged", cwd=bare), 2, "not a git repository")


def test_bare_repo_history(tmp_path: Path, key: str) -> None:
    src = repo_with_key(tmp_path / "src", key)
    git(tmp_path, "clone", "-q", "--bare", str(src), str(tmp_path / "bare.git"))
    rc, doc, _ = scan_json(str(tmp_path / "bare.git"), "--history")
    assert rc == 1
    assert [f["path"] for f in doc["findings"]] == ["cfg.env"]
    assert doc["findings"][0]["commit"]


def test_empty_bare_repo_history(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "bare.git"))
    rc, doc, _ = scan_json(str(tmp_path / "bare.git"), "--history")
    assert rc == 0 and doc["findings"] == []


def _shallow(tmp_path: Path, key: str) -> Path:
    src = repo_with_key(tmp_path / "src", key)
    (src / "README").write_text("second\n")
    commit_all(src, "second")
    dst = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{src}", str(dst))
    assert (dst / ".git" / "shallow").exists()
    return dst


def test_shallow_clone_worktree_and_staged(tmp_path: Path, key: str) -> None:
    dst = _shallow(tmp_path, key)
    rc, doc, _ = scan_json(str(dst))
    assert rc == 1 and doc["findings"][0]["git_status"] == "tracked"
    (dst / "new.env").write_text(env_line(random_secret(), "BINANCE_API_SECRET"))
    git(dst, "add", "new.env")
    rc, doc, _ = scan_json("--staged", cwd=dst)
    assert rc == 1 and [f["path"] for f in doc["findings"]] == ["new.env"]


def test_shallow_clone_history(tmp_path: Path, key: str) -> None:
    dst = _shallow(tmp_path, key)
    rc, doc, _ = scan_json(str(dst), "--history", "--no-worktree")
    assert rc == 1
    assert any("shallow" in n for n in doc["stats"].get("notes", []))


def _partial(tmp_path: Path, key: str) -> Path:
    src = repo_with_key(tmp_path / "src", key)
    (src / "cfg.env").write_text("nothing here\n")
    commit_all(src, "remove key")
    git(src, "config", "uploadpack.allowFilter", "true")
    dst = tmp_path / "partial"
    git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{src}", str(dst))
    assert git(dst, "config", "remote.origin.promisor").strip() == "true"
    return dst


def test_partial_clone_worktree_and_staged(tmp_path: Path, key: str) -> None:
    dst = _partial(tmp_path, key)
    rc, doc, _ = scan_json(str(dst))
    assert rc == 0
    (dst / "cfg.env").write_text(env_line(key))
    git(dst, "add", "cfg.env")
    rc, doc, _ = scan_json("--staged", cwd=dst)
    assert rc == 1


def test_partial_clone_history_lists_missing_blobs(tmp_path: Path, key: str) -> None:
    """The old blob with the key was never fetched: listed as missing, never fetched silently."""
    dst = _partial(tmp_path, key)
    rc, doc, _ = scan_json(str(dst), "--history", "--no-worktree")
    assert rc == 0
    assert any("partial clone" in n for n in doc["stats"].get("notes", []))
    assert any("missing object" in r for r in reasons(doc).values())


def _corrupt_loose(repo: Path, oid: str) -> None:
    obj = loose_object_path(repo, oid)
    obj.chmod(0o644)
    obj.write_bytes(b"this is not zlib data")


def _corrupt_packed(repo: Path, oid: str) -> None:
    """Flip bytes inside the packed (zlib) data of one object; the pack index stays valid."""
    git(repo, "gc", "-q")
    (pack,) = (repo / ".git" / "objects" / "pack").glob("*.pack")
    offset = None
    for line in git(repo, "verify-pack", "-v", str(pack.with_suffix(".idx"))).splitlines():
        parts = line.split()
        if parts and parts[0] == oid:
            offset = int(parts[4])
    assert offset is not None
    data = bytearray(pack.read_bytes())
    for i in range(offset + 4, offset + 20):
        data[i] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["loose", "pack"])
def test_corrupt_object_staged_and_hook_fail_closed(repo: Path, key: str, how: str) -> None:
    """A staged key in a blob git cannot read must not pass a commit (was exit 0: fixed)."""
    (repo / "README").write_text("hi\n")
    commit_all(repo, "init")
    (repo / "cfg.env").write_text(env_line(key))
    git(repo, "add", "cfg.env")
    oid = git(repo, "rev-parse", ":cfg.env").strip()
    if how == "loose":
        _corrupt_loose(repo, oid)
    else:
        git(repo, "commit", "-qm", "key")  # pack it; then `hook cfg.env` reads the index blob
        _corrupt_packed(repo, oid)
    if how == "loose":
        expect_error(run("scan", "--staged", cwd=repo), 2, "corrupt git object store")
    expect_error(run("hook", "cfg.env", cwd=repo), 2, "corrupt git object store")


@pytest.mark.parametrize("how", ["loose", "pack"])
def test_corrupt_object_history_is_never_silent(repo: Path, key: str, how: str) -> None:
    (repo / "cfg.env").write_text(env_line(key))
    (repo / "README").write_text("hi\n")
    commit_all(repo, "init")
    oid = git(repo, "rev-parse", "HEAD:cfg.env").strip()
    (_corrupt_loose if how == "loose" else _corrupt_packed)(repo, oid)
    proc = run("scan", str(repo), "--history", "--no-worktree", "-f", "json")
    assert "Traceback" not in proc.stderr
    if proc.returncode == 2:
        assert "corrupt" in one_line_error(proc)
    else:
        assert proc.returncode in (0, 1), proc.stderr
        assert any("corrupt" in r for r in reasons(json.loads(proc.stdout)).values())


def test_corrupt_object_worktree_scan_still_works(repo: Path, key: str) -> None:
    """A working-tree scan reads files, not objects: it still finds the key."""
    (repo / "cfg.env").write_text(env_line(key))
    commit_all(repo, "init")
    _corrupt_loose(repo, git(repo, "rev-parse", "HEAD:cfg.env").strip())
    rc, doc, _ = scan_json(str(repo))
    assert rc == 1 and doc["findings"][0]["path"] == "cfg.env"


def test_detached_head(tmp_path: Path, key: str) -> None:
    repo = repo_with_key(tmp_path / "r", key)
    git(repo, "checkout", "-q", "--detach")
    (repo / "new.env").write_text(env_line(random_secret(), "BINANCE_API_SECRET"))
    git(repo, "add", "new.env")
    rc, doc, _ = scan_json("--staged", cwd=repo)
    assert rc == 1 and [f["path"] for f in doc["findings"]] == ["new.env"]
    rc, doc, _ = scan_json(str(repo))
    assert {f["path"]: f["git_status"] for f in doc["findings"]} == {"cfg.env": "tracked", "new.env": "tracked"}


def test_detached_head_history(tmp_path: Path, key: str) -> None:
    repo = repo_with_key(tmp_path / "r", key)
    git(repo, "checkout", "-q", "--detach")
    (repo / "cfg.env").write_text("gone\n")
    commit_all(repo, "detached commit")
    rc, doc, _ = scan_json(str(repo), "--history", "--no-worktree")
    assert rc == 1 and doc["findings"][0]["commit"]


def test_unborn_branch(tmp_path: Path, key: str) -> None:
    """An orphan branch has no HEAD commit: every staged file is new."""
    repo = repo_with_key(tmp_path / "r", key)
    git(repo, "checkout", "-q", "--orphan", "fresh")
    rc, doc, _ = scan_json("--staged", cwd=repo)
    assert rc == 1 and [f["path"] for f in doc["findings"]] == ["cfg.env"]
    git(repo, "rm", "-q", "--cached", "-r", ".")
    rc, doc, _ = scan_json("--staged", cwd=repo)
    assert rc == 0


def test_unborn_branch_history(tmp_path: Path, key: str) -> None:
    repo = repo_with_key(tmp_path / "r", key)
    git(repo, "checkout", "-q", "--orphan", "fresh")
    rc, doc, _ = scan_json(str(repo), "--history", "--no-worktree")
    assert rc == 1  # the key is on main, which --history covers


def _with_submodule(tmp_path: Path, key: str) -> Path:
    sub = repo_with_key(tmp_path / "sub", key)
    sup = tmp_path / "super"
    sup.mkdir()
    git(sup, "init", "-q", "-b", "main")
    (sup / "a.txt").write_text("x\n")
    subprocess.run(
        ["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q", f"file://{sub}", "vendor/sub"],
        cwd=sup, check=True, capture_output=True,
    )
    commit_all(sup, "add submodule")
    return sup


def test_submodule_worktree_and_staged(tmp_path: Path, key: str) -> None:
    sup = _with_submodule(tmp_path, key)
    assert (sup / "vendor" / "sub" / ".git").is_file()  # a gitfile, not a folder
    rc, doc, _ = scan_json(str(sup))
    assert rc == 1 and [f["path"] for f in doc["findings"]] == ["vendor/sub/cfg.env"]
    # a submodule pointer (mode 160000) that changes is staged but has nothing to read
    subrepo = sup / "vendor" / "sub"
    (subrepo / "x.txt").write_text("x\n")
    commit_all(subrepo, "bump")
    git(sup, "add", "vendor/sub")
    rc, doc, _ = scan_json("--staged", cwd=sup)
    assert rc == 0 and doc["findings"] == []


def test_submodule_history_is_noted(tmp_path: Path, key: str) -> None:
    sup = _with_submodule(tmp_path, key)
    rc, doc, _ = scan_json(str(sup), "--history", "--no-worktree")
    assert rc == 0
    assert any("submodule" in n for n in doc["stats"].get("notes", []))


def test_range_errors_are_one_line(repo: Path) -> None:
    (repo / "a").write_text("x\n")
    commit_all(repo)
    for bad in ("nope..HEAD", "HEAD"):
        proc = run("scan", str(repo), "--range", bad)
        assert proc.returncode == 2, proc.stderr
        one_line_error(proc)
