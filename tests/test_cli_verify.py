"""`keytrap scan --verify` end to end, against the local fake of Binance on 127.0.0.1."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fakebinance import all_requests, fake_networks, network_env, network_flags
from helpers import assert_redacted, random_secret
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


# ------------------------------------------------------------------------------ v2 end to end

import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402


def pem_body(pem: str) -> str:
    return "".join(ln for ln in pem.splitlines() if not ln.startswith("-----"))


def scan_json(root: Path, fakes, *extra: str) -> tuple[dict[str, list[dict]], subprocess.CompletedProcess]:
    proc = run("scan", str(root), "--verify", *network_flags(fakes), "-f", "json", *extra)
    assert proc.returncode in (0, 1), proc.stderr
    by_path: dict[str, list[dict]] = {}
    for f in json.loads(proc.stdout)["findings"]:
        by_path.setdefault(f["path"], []).append(f)
    return by_path, proc


def test_ed25519_freqtrade_config_and_rsa_python_pairs_are_live(tmp_path: Path) -> None:
    with fake_networks() as fakes:
        ed_key, ed_pem = fakes["mainnet"].new_ed25519_account(enableWithdrawals=True)
        rsa_key, rsa_pem = fakes["mainnet"].new_rsa_account(ipRestrict=True)
        (tmp_path / "user_data").mkdir()
        config = {"exchange": {"name": "binance", "key": ed_key, "secret": ed_pem,
                               "pair_whitelist": ["BTC/USDT"]}, "dry_run": False}
        (tmp_path / "user_data" / "config.json").write_text(json.dumps(config, indent=4))
        assert "\\n" in (tmp_path / "user_data" / "config.json").read_text()  # the PEM is \n-escaped
        (tmp_path / "trader.py").write_text(
            f'from binance.spot import Spot\n\nAPI_KEY = "{rsa_key}"\nPRIVATE_KEY = """{rsa_pem}"""\n'
            "client = Spot(api_key=API_KEY, private_key=PRIVATE_KEY)\n"
        )
        by_path, proc = scan_json(tmp_path, fakes)
        outputs = [proc.stdout + proc.stderr]
        for fmt in ("text", "sarif", "github"):
            p = run("scan", str(tmp_path), "--verify", *network_flags(fakes), "-f", fmt)
            assert p.returncode == 1, p.stderr
            outputs.append(p.stdout + p.stderr)
        log = all_requests(fakes)
    ed = by_path["user_data/config.json"]
    assert {f["kind"] for f in ed} == {"api_key", "private_key"}
    assert {f["verification_status"] for f in ed} == {"live"}
    assert {f["network"] for f in ed} == {"mainnet"} and {f["severity"] for f in ed} == {"critical"}
    rsa = by_path["trader.py"]
    assert {f["verification_status"] for f in rsa} == {"live"} and {f["severity"] for f in rsa} == {"high"}
    # the secrets never left the process: only signatures, in every request
    secrets = [ed_key, pem_body(ed_pem), rsa_key, pem_body(rsa_pem)]
    for req in log:
        assert_redacted(req.raw(), [pem_body(ed_pem), pem_body(rsa_pem)])
        assert re.fullmatch(r"timestamp=\d+&recvWindow=5000&signature=[A-Za-z0-9%]+", req.query), req.query
        assert {k.lower() for k, _v in req.headers} >= {"x-mbx-apikey"} and req.body == b""
    for out in outputs:
        assert_redacted(out, secrets)


def test_testnet_pair_next_to_testnet_true_is_live_on_the_testnet(tmp_path: Path) -> None:
    with fake_networks() as fakes:
        key, secret = fakes["testnet"].new_account()
        (tmp_path / "paper.py").write_text(
            f'from binance.client import Client\nclient = Client("{key}", "{secret}", testnet=True)\n'
        )
        (tmp_path / "b").mkdir()
        (tmp_path / "b" / "bot.py").write_text(  # a pair whose own file says nothing of its network
            'from binance.client import Client\nclient = Client("%s", "%s")\n' % fakes["testnet"].new_account()
        )
        by_path, proc = scan_json(tmp_path, fakes)
        text = run("scan", str(tmp_path / "paper.py"), "--verify", *network_flags(fakes))
        mainnet_asked = [r for r in fakes["mainnet"].log]
    paper = by_path["paper.py"]
    assert {f["verification_status"] for f in paper} == {"live"}
    assert {f["network"] for f in paper} == {"testnet"} and {f["severity"] for f in paper} == {"low"}
    assert any("no real funds" in a or "no real funds" in f["verification"] for f in paper for a in f["actions"])
    bot = by_path["b/bot.py"]
    assert {f["verification_status"] for f in bot} == {"live"} and {f["network"] for f in bot} == {"testnet"}
    # bot.py takes the network the repository's other Binance code points to (testnet=True in
    # paper.py), so the testnet is asked first for both pairs and mainnet never
    assert mainnet_asked == []
    assert "LIVE on the spot testnet" in text.stdout and "testnet key" in text.stdout


def test_testnet_context_without_verify_is_low_and_says_why(tmp_path: Path, key: str, secret: str) -> None:
    (tmp_path / "config.yaml").write_text(f"binance:\n  testnet: true\n  api_key: {key}\n  api_secret: {secret}\n")
    proc = run("scan", str(tmp_path), "-f", "json")
    findings = json.loads(proc.stdout)["findings"]
    assert {f["network"] for f in findings} == {"testnet"} and {f["severity"] for f in findings} == {"low"}
    assert any("holds no real funds" in a for f in findings for a in f["actions"])
    sarif = json.loads(run("scan", str(tmp_path), "-f", "sarif").stdout)
    assert {r["properties"]["network"] for r in sarif["runs"][0]["results"]} == {"testnet"}


def test_region_block_and_clock_skew_verdicts_end_to_end(tmp_path: Path) -> None:
    with fake_networks() as fakes:
        write_pair(tmp_path / "a", "k.env", *fakes["mainnet"].new_account())
        fakes["mainnet"].behaviour.region_block = 451
        by_path, _ = scan_json(tmp_path, fakes)
        assert {f["verification"] for f in by_path["a/k.env"]} == {
            "unverified: region blocked (HTTP 451): the Binance mainnet does not serve this location"}
        fakes["mainnet"].behaviour.region_block = None
        fakes["mainnet"].server_time = lambda: time.time() + 90  # Binance's clock is 90 s ahead
        by_path, _ = scan_json(tmp_path, fakes)
    (summary,) = {f["verification"] for f in by_path["a/k.env"]}
    assert re.match(r"unverified: clock skew (89|90|91) s: this machine's clock is behind", summary), summary
    assert {f["verification_status"] for f in by_path["a/k.env"]} == {"unverified"}


def test_trickling_server_and_total_deadline_end_to_end(tmp_path: Path) -> None:
    with fake_networks() as fakes:
        for i in range(3):
            write_pair(tmp_path / f"d{i}", "k.env", *fakes["mainnet"].new_account())
        fakes["mainnet"].behaviour.trickle = 0.05
        t0 = time.monotonic()
        by_path, _ = scan_json(tmp_path, fakes, "--verify-timeout", "1", "--verify-deadline", "1.5")
        elapsed = time.monotonic() - t0
        sent = len(fakes["mainnet"].log)
    verdicts = [f["verification"] for fs in by_path.values() for f in fs]
    assert elapsed < 6  # interpreter start + a 1.5 s deadline, not 3 x 15 s of trickle
    assert sent == 2  # the first pair timed out after 1 s, the second was cut by the deadline
    assert sum(v.startswith("unverified: no answer in time") for v in verdicts) == 2
    assert sum(v.startswith("unverified: deadline") for v in verdicts) == 4


def test_only_verified_shows_only_live_findings(tmp_path: Path) -> None:
    with fake_networks() as fakes:
        live = fakes["mainnet"].new_account()
        write_pair(tmp_path / "a", "live.env", *live)
        write_pair(tmp_path / "b", "dead.env", random_secret(), random_secret())
        by_path, proc = scan_json(tmp_path, fakes, "--only-verified")
        none_live = run("scan", str(tmp_path / "b"), "--verify", "--only-verified", *network_flags(fakes))
    assert proc.returncode == 1 and list(by_path) == ["a/live.env"]
    assert none_live.returncode == 0 and "No Binance secrets found" in none_live.stdout
    usage = run("scan", str(tmp_path), "--only-verified")
    assert usage.returncode == 2 and "--only-verified needs --verify" in usage.stderr


def test_no_request_of_any_kind_without_verify(tmp_path: Path) -> None:
    with fake_networks() as fakes:
        ed_key, ed_pem = fakes["mainnet"].new_ed25519_account()
        (tmp_path / "c.json").write_text(json.dumps({"exchange": {"name": "binance", "key": ed_key, "secret": ed_pem}}))
        (tmp_path / "t.py").write_text('Client("%s", "%s", testnet=True)\n' % fakes["testnet"].new_account())
        env = network_env(fakes)
        for fmt in ("json", "text", "sarif", "github"):
            assert run("scan", str(tmp_path), "-f", fmt, *network_flags(fakes), env=env).returncode == 1
        assert all_requests(fakes) == []


def test_hook_verify_reports_the_network(repo: Path) -> None:
    from conftest import git

    with fake_networks() as fakes:
        key, secret = fakes["testnet"].new_account()
        (repo / "bot.py").write_text(f'client = Client("{key}", "{secret}", testnet=True)\n')
        git(repo, "add", "bot.py")
        proc = run("hook", "--verify", "bot.py", cwd=repo, env=network_env(fakes))
    assert proc.returncode == 1
    assert "testnet key" in proc.stdout and "binance says: live: on the Binance spot testnet" in proc.stdout
    assert_redacted(proc.stdout + proc.stderr, [key, secret])


def test_help_documents_networks_env_vars_severities_and_what_is_sent() -> None:
    out = run("scan", "--help").stdout
    for words in ("--binance-testnet-url", "KEYTRAP_BINANCE_TESTNET_URL", "--binance-futures-testnet-url",
                  "KEYTRAP_BINANCE_FUTURES_TESTNET_URL", "--binance-demo-url", "KEYTRAP_BINANCE_DEMO_URL",
                  "--verify-deadline", "--only-verified", "/sapi/v1/account/apiRestrictions",
                  "/api/v3/account", "/fapi/v3/account", "X-MBX-APIKEY", "signature", "critical",
                  "info = revoked", "keytrap[verify]"):
        assert words in out, words


@pytest.mark.parametrize("bad", ["0", "-1", "inf", "nan", "soon", "3601"])
def test_bad_deadline_is_a_usage_error(bad: str, tmp_path: Path) -> None:
    proc = run("scan", str(tmp_path), "--verify-deadline", bad)
    assert proc.returncode == 2 and "--verify-deadline" in proc.stderr


def test_verify_imports_stay_off_the_hook_path(repo: Path) -> None:
    from conftest import git

    (repo / "ok.py").write_text("x = 1\n")
    git(repo, "add", "ok.py")
    code = (
        "import sys; from keytrap.cli import main; rc = main(['hook', 'ok.py']);"
        "heavy = [m for m in ('keytrap.network', 'keytrap.verify_signing', 'keytrap.verify_transport',"
        " 'cryptography', 'http.client', 'ssl') if m in sys.modules];"
        "print(rc, heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True)
    assert proc.stdout.strip() == "0 []", proc.stdout + proc.stderr


def test_library_api_verifies_on_every_network(tmp_path: Path) -> None:
    """``keytrap.api.verify`` takes the same URLs as the flags; ``assess`` moves a live
    finding's network to where Binance accepted it."""
    from keytrap import api

    with fake_networks() as fakes:
        key, secret = fakes["futures-testnet"].new_account()
        write_pair(tmp_path, "k.env", key, secret)
        result = api.scan_paths([str(tmp_path)])
        verdicts = api.verify(
            result, base_url=fakes["mainnet"].url, testnet_url=fakes["testnet"].url,
            futures_testnet_url=fakes["futures-testnet"].url, demo_url=fakes["demo"].url,
            timeout=2, deadline=10,
        )
        assessed = api.assess(result, verdicts)
    assert {f.get("verification_status") for f in assessed.findings} == {"live"}
    assert {f.get("network") for f in assessed.findings} == {"testnet"}
    assert {f.get("verified_on") for f in assessed.findings} == {"futures-testnet"}
    assert {f.get("severity") for f in assessed.findings} == {"low"}


def test_one_url_given_asks_that_network_only(tmp_path: Path, key: str, secret: str) -> None:
    # --binance-url at a local server: a key it does not know is never sent on to the real
    # testnet, futures testnet or demo hosts (a proxy on a dead local port catches any try)
    from fakebinance import FakeBinance

    write_pair(tmp_path, "k.env", key, secret)
    env = {name: "" for name in ("KEYTRAP_BINANCE_URL", "KEYTRAP_BINANCE_TESTNET_URL",
                                 "KEYTRAP_BINANCE_FUTURES_TESTNET_URL", "KEYTRAP_BINANCE_DEMO_URL")}
    env |= {"HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    with FakeBinance(network="mainnet") as fake:
        proc = run("scan", str(tmp_path), "--verify", "--binance-url", fake.url, "-f", "json",
                   "--verify-timeout", "3", env=env)
    assert proc.returncode == 1, proc.stderr
    (status,) = {f["verification_status"] for f in json.loads(proc.stdout)["findings"]}
    assert status == "revoked", proc.stdout
    assert len(fake.log) == 1
