"""`keytrap scan --verify` end to end, against the local fake of Binance on 127.0.0.1."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fakebinance import FakeBinance, all_requests, fake_networks, network_env, network_flags
from helpers import assert_redacted
from test_cli import run


def write_pair(folder: Path, name: str, key: str, secret: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={secret}\n")


def test_verify_classifies_live_revoked_and_reports_permissions(tmp_path: Path) -> None:
    with fake_networks() as fakes:
        fake = fakes["mainnet"]
        old = int((time.time() - 200 * 86400) * 1000)
        live = fake.new_account(enableWithdrawals=True, ipRestrict=False, enableFutures=True, createTime=old)
        dead = fake.new_account()
        fake.revoke(dead[0])
        write_pair(tmp_path / "a", "live.env", *live)
        write_pair(tmp_path / "b", "dead.env", *dead)
        proc = run("scan", str(tmp_path), "--verify", *network_flags(fakes), "-f", "json")
        text = run("scan", str(tmp_path), "--verify", *network_flags(fakes))
        log = all_requests(fakes)
    assert proc.returncode == 1, proc.stderr
    by_path = {f["path"]: f for f in json.loads(proc.stdout)["findings"]}
    live_f, dead_f = by_path["a/live.env"], by_path["b/dead.env"]
    assert live_f["verification_status"] == "live"
    assert "withdrawals ENABLED" in live_f["verification"] and "NO IP restriction" in live_f["verification"]
    assert live_f["severity"] == "critical"
    assert any("rotat" in a.lower() for a in live_f["actions"])
    assert dead_f["verification_status"] == "revoked"
    assert "critical" in text.stdout and "API Management" in text.stdout
    # one request per pair per network, never more: the live pair asked mainnet only, the
    # dead one every network (mainnet said "no such key"), in each of the two runs
    assert len(log) == 2 * (1 + 4)
    assert len(fake.log) == 4
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
    with fake_networks() as fakes:
        write_pair(tmp_path, "k.env", *fakes["mainnet"].new_account())
        env = network_env(fakes)
        proc = run("scan", str(tmp_path), "-f", "json", env=env)
        run("scan", str(tmp_path), env=env)
        assert all_requests(fakes) == []
    assert "verification" not in proc.stdout
