"""`keytrap scan --verify` end to end, against the local fake of Binance on 127.0.0.1."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fakebinance import FakeBinance
from helpers import assert_redacted
from test_cli import run


def write_pair(folder: Path, name: str, key: str, secret: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n")


def test_verify_classifies_live_revoked_and_reports_permissions(tmp_path: Path) -> None:
    with FakeBinance() as fake:
        old = int((time.time() - 200 * 86400) * 1000)
        live = fake.new_account(enableWithdrawals=True, ipRestrict=False, enableFutures=True, createTime=old)
        dead = fake.new_account()
        fake.revoke(dead[0])
        write_pair(tmp_path / "a", "live.env", *live)
        write_pair(tmp_path / "b", "dead.env", *dead)
        proc = run("scan", str(tmp_path), "--verify", "--binance-url", fake.url, "-f", "json")
        text = run("scan", str(tmp_path), "--verify", "--binance-url", fake.url)
        log = list(fake.log)
    assert proc.returncode == 1, proc.stderr
    by_path = {f["path"]: f for f in json.loads(proc.stdout)["findings"]}
    live_f, dead_f = by_path["a/live.env"], by_path["b/dead.env"]
    assert live_f["verification_status"] == "live"
    assert "withdrawals ENABLED" in live_f["verification"] and "NO IP restriction" in live_f["verification"]
    assert live_f["severity"] == "critical"
    assert any("rotat" in a.lower() for a in live_f["actions"])
    assert dead_f["verification_status"] == "revoked"
    assert "critical" in text.stdout and "API Management" in text.stdout
    assert len(log) == 4  # one request per pair per run, never more
    secrets = [live[1], dead[1]]
    assert_redacted(proc.stdout + proc.stderr + text.stdout + text.stderr, [*live, *dead])
    for req in log:
        assert_redacted(req.raw(), secrets)


def test_unreachable_is_unverified(tmp_path: Path, key: str, secret: str) -> None:
    write_pair(tmp_path, "k.env", key, secret)
    proc = run("scan", str(tmp_path), "--verify", "--binance-url", "http://127.0.0.1:9", "-f", "json",
               "--verify-timeout", "2")
    assert proc.returncode == 1
    assert {f["verification_status"] for f in json.loads(proc.stdout)["findings"]} == {"unverified"}


def test_no_request_without_verify(tmp_path: Path) -> None:
    with FakeBinance() as fake:
        write_pair(tmp_path, "k.env", *fake.new_account())
        proc = run("scan", str(tmp_path), "-f", "json", env={"KEYTRAP_BINANCE_URL": fake.url})
        hook_env = {"KEYTRAP_BINANCE_URL": fake.url}
        run("scan", str(tmp_path), env=hook_env)
        assert fake.log == []
    assert "verification" not in proc.stdout
