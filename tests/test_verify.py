"""Verification against a local fake Binance: no internet, no real keys."""

from __future__ import annotations

import json
import time

import pytest
from fakebinance import ENDPOINT, FakeBinance, random_key, restrictions
from hypothesis import given
from hypothesis import strategies as st

from keytrap import verify
from keytrap.errors import UsageError
from keytrap.findings import Finding, pair_id
from keytrap.verify import (
    LIVE,
    NO_PAIR,
    REVOKED,
    UNVERIFIED,
    Verification,
    build_request,
    classify,
    pairs_from_findings,
    resolve_base_url,
    sign,
    verification_for,
    verify_pairs,
)

DAY_MS = 86_400_000


@pytest.fixture
def fake():
    with FakeBinance() as server:
        yield server


class FakeClock:
    """Real wall time plus a fixed offset; sleep() only records (so nothing actually waits)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def run(fake: FakeBinance, pairs, **kw) -> dict[str, Verification]:
    clock = kw.pop("clock", None) or FakeClock()
    return verify_pairs(pairs, fake.url, clock=clock, sleep=clock.sleep, **kw)


# ------------------------------------------------------------------------------ pure core


def test_sign_matches_binance_documentation_example():
    # Binance's public "SIGNED endpoint" example: secret, query and the signature it gives.
    from corpus import DOC_SECRET_KEY as secret
    query = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    expected = "c8db56825ae71d6d79447849e617115f" + "4a920fa2acdcab2b053c4b2838bd6b71"
    assert sign(query, secret) == expected


def test_build_request_shape_and_no_secret():
    api_key, secret = random_key(), random_key()
    req = build_request("https://api.binance.com/", api_key, secret, 1_700_000_000_000)
    query = "timestamp=1700000000000&recvWindow=5000"
    assert req.url == (
        f"https://api.binance.com{ENDPOINT}?{query}&signature={sign(query, secret)}"
    )
    assert dict(req.headers)["X-MBX-APIKEY"] == api_key
    assert secret not in req.url and all(secret not in v for _, v in req.headers)
    assert api_key not in repr(req)  # headers are kept out of repr


def _body(**kw: object) -> bytes:
    return json.dumps(restrictions(**kw)).encode()


def test_classify_live_reports_permissions_and_age():
    now = 1_700_000_000_000
    v = classify(
        200,
        _body(
            createTime=now - 120 * DAY_MS - 5,
            enableWithdrawals=True,
            ipRestrict=False,
            enableFutures=True,
            enableSpotAndMarginTrading=True,
            enableInternalTransfer=True,
            tradingAuthorityExpirationTime=now + DAY_MS,
        ),
        now_ms=now,
    )
    assert v.status == LIVE and v.live
    assert v.withdrawals is True and v.ip_restricted is False and v.reading is True
    assert v.trading == ("spot", "futures")
    assert v.transfers == ("internal",)
    assert v.age_days == 120
    assert "withdrawals ENABLED" in v.summary() and "NO IP restriction" in v.summary()


def test_classify_live_without_clock_has_no_age():
    v = classify(200, _body(ipRestrict=True))
    assert v.live and v.ip_restricted is True and v.age_days is None and v.trading == ()


@pytest.mark.parametrize("code", [-2014, -2015, -1022, -2008])
@pytest.mark.parametrize("status", [400, 401])
def test_classify_rejections_are_revoked(code, status):
    v = classify(status, json.dumps({"code": code, "msg": "nope"}))
    assert v.status == REVOKED and v.code == code and str(code) in v.detail
    assert v.ambiguous == (code in (-2015, -1022))


@pytest.mark.parametrize(
    "status, body, words",
    [
        (200, b"not json", "malformed"),
        (200, b'{"ipRestrict": tru', "malformed"),
        (200, b"[1, 2]", "malformed"),
        (200, json.dumps({"ipRestrict": "false", "createTime": 1, "enableReading": True,
                          "enableWithdrawals": False}), "malformed"),
        (200, json.dumps({"enableReading": True}), "malformed"),
        (200, json.dumps({"code": -2015, "msg": "x"}), "malformed"),
        (500, b"<html>", "server error"),
        (503, b"", "server error"),
        (429, b'{"code": -1003, "msg": "Too many requests"}', "rate limited"),
        (418, b"", "banned"),
        (400, b'{"code": -1021, "msg": "Timestamp outside"}', "clock"),
        (403, b"<html>waf</html>", "region blocked"),
        (451, b'{"code": 0, "msg": "Service unavailable from a restricted location"}', "region blocked"),
        (404, b'{"code": -1000, "msg": "x"}', "unexpected"),
        (None, None, "no answer"),
    ],
)
def test_classify_unverified(status, body, words):
    v = classify(status, body, now_ms=0)
    assert v.status == UNVERIFIED
    assert words in v.detail


def test_classify_does_not_echo_long_tokens_from_server():
    token = random_key()
    v = classify(400, json.dumps({"code": -9999, "msg": f"key {token} bad"}))
    assert token not in v.detail and token[:16] not in v.detail


@given(st.one_of(st.none(), st.integers(100, 599)), st.one_of(st.none(), st.binary(), st.text()))
def test_classify_never_raises(status, body):
    v = classify(status, body, now_ms=0)
    assert v.status in verify.STATUSES


@given(
    st.dictionaries(
        st.sampled_from(["ipRestrict", "createTime", "enableReading", "enableWithdrawals",
                         "enableFutures", "code", "msg"]),
        st.one_of(st.booleans(), st.integers(), st.text(max_size=5), st.none()),
    ),
    st.sampled_from([200, 400, 401]),
)
def test_classify_json_objects_never_raise(data, status):
    assert classify(status, json.dumps(data), now_ms=10**13).status in verify.STATUSES


def test_resolve_base_url_precedence():
    env = {"KEYTRAP_BINANCE_URL": "https://env.example/"}
    assert resolve_base_url(None, {}) == "https://api.binance.com"
    assert resolve_base_url(None, env) == "https://env.example"
    assert resolve_base_url("https://flag.example", env) == "https://flag.example"
    assert resolve_base_url("http://127.0.0.1:8080", {}) == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    "url",
    ["http://api.binance.com", "ftp://x", "https://", "https://u:p@host", "https://h/?a=1",
     "https://h:99999", "nonsense"],
)
def test_resolve_base_url_rejects(url):
    with pytest.raises(UsageError):
        resolve_base_url(url, {})


# ------------------------------------------------------------------------------ against the fake


def test_live_key_full_report(fake):
    created = int(time.time() * 1000) - 200 * DAY_MS
    key, secret = fake.new_account(
        createTime=created, enableWithdrawals=True, enableMargin=True, ipRestrict=False
    )
    result = run(fake, [("p1", key, secret)])
    v = result["p1"]
    assert v.status == LIVE, v
    assert v.withdrawals is True and v.ip_restricted is False
    assert v.trading == ("margin",) and v.reading is True
    assert v.age_days in (199, 200)
    (req,) = fake.log
    assert req.method == "GET" and req.path == ENDPOINT
    assert req.header("X-MBX-APIKEY") == key


def test_unknown_revoked_wrong_secret_bad_format(fake):
    live_key, live_secret = fake.new_account()
    gone_key, gone_secret = fake.new_account()
    fake.revoke(gone_key)
    unknown = (random_key(), random_key())
    short = (random_key(40), random_key())
    result = run(
        fake,
        [
            ("wrong-secret", live_key, random_key()),
            ("revoked", gone_key, gone_secret),
            ("unknown", *unknown),
            ("short", *short),
        ],
    )
    assert result["wrong-secret"].status == REVOKED and result["wrong-secret"].code == -1022
    assert result["revoked"].status == REVOKED and result["revoked"].code == -2015
    assert result["unknown"].code == -2015
    assert result["short"].status == REVOKED and result["short"].code == -2014
    assert len(fake.log) == 4


def test_ip_restricted_elsewhere_is_revoked_but_ambiguous(fake):
    key, secret = fake.new_account(ipRestrict=True)
    fake.block_ip(key)
    v = run(fake, [("p", key, secret)])["p"]
    assert v.status == REVOKED and v.ambiguous


def test_clock_skew_is_unverified(fake):
    key, secret = fake.new_account()
    v = run(fake, [("p", key, secret)], clock=FakeClock(offset=-30))["p"]
    assert v.status == UNVERIFIED and v.code == -1021
    v = run(fake, [("p", key, secret)], clock=FakeClock(offset=+30))["p"]
    assert v.status == UNVERIFIED and v.code == -1021


def test_timeout_is_unverified_and_fast(fake):
    key, secret = fake.new_account()
    fake.behaviour.delay = 5.0
    t0 = time.monotonic()
    v = run(fake, [("p", key, secret)], timeout=0.3)["p"]
    assert v.status == UNVERIFIED and "timeout" in v.detail
    assert time.monotonic() - t0 < 3


@pytest.mark.parametrize(
    "switch, value, words",
    [
        ("malformed", True, "malformed"),
        ("wrong_shape", True, "malformed"),
        ("status", 500, "server error"),
        ("status", 502, "server error"),
        ("status", 429, "rate limited"),
        ("status", 418, "banned"),
    ],
)
def test_bad_answers_are_unverified_and_not_retried(fake, switch, value, words):
    key, secret = fake.new_account()
    setattr(fake.behaviour, switch, value)
    v = run(fake, [("p", key, secret)])["p"]
    assert v.status == UNVERIFIED and words in v.detail
    assert len(fake.log) == 1  # no retry


def test_redirect_is_not_followed():
    with FakeBinance() as first, FakeBinance() as other:
        key, secret = first.new_account()
        first.behaviour.redirect_to = other.url + ENDPOINT
        v = run(first, [("p", key, secret)])["p"]
        assert v.status == UNVERIFIED
        assert other.log == []  # the API key header never reached the other host


def test_connection_refused_is_unverified():
    with FakeBinance() as server:
        url = server.url
    key, secret = random_key(), random_key()
    clock = FakeClock()
    v = verify_pairs([("p", key, secret)], url, clock=clock, sleep=clock.sleep, timeout=1)["p"]
    assert v.status == UNVERIFIED and "network error" in v.detail


def test_rate_limit_spaces_requests(fake):
    pairs = [(f"p{i}", *fake.new_account()) for i in range(4)]
    clock = FakeClock()
    result = run(fake, pairs, clock=clock)
    assert all(v.live for v in result.values())
    assert len(clock.sleeps) == 3
    assert all(s > 0 and s <= verify.MIN_INTERVAL for s in clock.sleeps)
    assert verify.MIN_INTERVAL >= 0.2


def test_rate_limit_with_real_sleep(fake):
    pairs = [(f"p{i}", *fake.new_account()) for i in range(3)]
    t0 = time.monotonic()
    verify_pairs(pairs, fake.url, min_interval=0.2)
    assert time.monotonic() - t0 >= 0.4


def test_upper_bound_of_pairs_per_run(fake):
    pairs = [(f"p{i}", *fake.new_account()) for i in range(verify.MAX_PAIRS + 5)]
    result = run(fake, pairs)
    assert len(fake.log) == verify.MAX_PAIRS
    assert sum(v.live for v in result.values()) == verify.MAX_PAIRS
    skipped = [v for v in result.values() if not v.live]
    assert len(skipped) == 5 and all("at most" in v.detail for v in skipped)
    assert list(result) == [p[0] for p in pairs]


def test_duplicate_pairs_one_request(fake):
    key, secret = fake.new_account()
    result = run(fake, [("p", key, secret), ("p", key, secret)])
    assert len(fake.log) == 1 and result["p"].live


def test_no_secret_or_malformed_key_sends_nothing(fake):
    bad_key = random_key(30) + "\r\nX-Evil: 1"
    result = run(fake, [("a", random_key(), ""), ("b", "", random_key()), ("c", bad_key, "s")])
    assert result["a"] == NO_PAIR and result["b"] == NO_PAIR
    assert result["c"].status == UNVERIFIED
    assert fake.log == []


def test_nothing_sent_when_not_requested(fake):
    def transport(*_a):
        raise AssertionError("no connection may be opened")

    assert verify_pairs([], fake.url, transport=transport) == {}
    assert verify_pairs([], fake.url) == {}
    assert fake.log == []


def test_only_the_one_endpoint_is_ever_called(fake):
    pairs = [(f"p{i}", *fake.new_account()) for i in range(3)]
    pairs.append(("x", random_key(), random_key()))
    run(fake, pairs)
    assert {(r.method, r.path) for r in fake.log} == {("GET", ENDPOINT)}
    assert all(r.body == b"" for r in fake.log)
    for r in fake.log:
        params = [p.split("=")[0] for p in r.query.split("&")]
        assert params == ["timestamp", "recvWindow", "signature"]


def test_secret_never_sent_and_output_redacted(fake, capsys):
    live_key, live_secret = fake.new_account(enableWithdrawals=True)
    dead_key, dead_secret = random_key(), random_key()
    pairs = [("live", live_key, live_secret), ("dead", dead_key, dead_secret)]
    result = run(fake, pairs)
    assert result["live"].live and result["dead"].status == REVOKED
    assert len(fake.log) == 2
    for req in fake.log:
        raw = req.raw()
        for secret in (live_secret, dead_secret):
            assert secret not in raw
            assert secret[:16] not in raw and secret[-16:] not in raw
        # the API key travels in its header, and only there
        assert live_key not in req.request_line and dead_key not in req.request_line
    # nothing printed, and nothing printable holds a key or secret
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    shown = repr(result) + "".join(v.summary() for v in result.values())
    for s in (live_key, live_secret, dead_key, dead_secret):
        assert s not in shown and s[:8] not in shown


def test_env_var_base_url_used_by_resolve(fake, monkeypatch):
    monkeypatch.setenv("KEYTRAP_BINANCE_URL", fake.url)
    key, secret = fake.new_account()
    clock = FakeClock()
    v = verify_pairs([("p", key, secret)], resolve_base_url(), clock=clock, sleep=clock.sleep)
    assert v["p"].live


# ------------------------------------------------------------------------------ findings glue


def _finding(kind: str, secret: str, pair: str | None, rule: str = "binance-hmac-key") -> Finding:
    return Finding(rule, kind, "cfg.py", 1, 1, "high", secret, pair=pair)  # type: ignore[arg-type]


def test_pairs_from_findings_dedupes_and_skips_incomplete():
    k, s = random_key(), random_key()
    pid = pair_id(k, s)
    lone = random_key()
    pem_pid = pair_id(random_key(), "pem")
    findings = [
        _finding("api_key", k, pid),
        _finding("secret_key", s, pid),
        _finding("api_key", k, pid),  # same pair again (history)
        _finding("secret_key", s, pid),
        _finding("api_key", lone, None),
        _finding("api_key", random_key(), pem_pid),
        _finding("private_key", "MIIB", pem_pid, rule="binance-private-key"),
    ]
    assert pairs_from_findings(findings) == [(pid, k, s)]
    results = {pid: Verification(LIVE, "ok")}
    assert verification_for(findings[1], results).live
    assert verification_for(findings[4], results) == NO_PAIR
    assert verification_for(findings[5], results).status == UNVERIFIED


# ------------------------------------------------------------------------------ v2: networks, keys, deadlines

from fakebinance import (  # noqa: E402
    ENDPOINTS,
    all_requests,
    fake_networks,
    new_ed25519_key,
)
from helpers import assert_redacted  # noqa: E402

from keytrap.verify import (  # noqa: E402
    DEADLINE,
    NETWORKS,
    Pair,
    credentials_from_findings,
    finding_extras,
    network_order,
)


@pytest.fixture
def nets():
    with fake_networks() as fakes:
        yield fakes


def urls_of(fakes) -> dict[str, str]:
    return {name: fake.url for name, fake in fakes.items()}


def vrun(fakes, pairs, **kw) -> dict[str, Verification]:
    clock = kw.pop("clock", None) or FakeClock()
    return verify_pairs(pairs, urls=urls_of(fakes), clock=clock, sleep=clock.sleep, **kw)


def body_of(pem: str) -> tuple[str, str]:
    import re

    name = re.search(r"-----BEGIN ([A-Z ]+)-----", pem).group(1)
    return name, "".join(ln for ln in pem.splitlines() if not ln.startswith("-----"))


def test_networks_table_matches_the_fake_and_the_docs():
    assert {n: NETWORKS[n].endpoint for n in NETWORKS} == ENDPOINTS
    assert NETWORKS["testnet"].default_url == "https://testnet.binance.vision"
    assert NETWORKS["futures-testnet"].default_url == "https://testnet.binancefuture.com"
    assert NETWORKS["demo"].default_url == "https://demo-api.binance.com"
    assert [NETWORKS[n].env_var for n in NETWORKS] == [
        "KEYTRAP_BINANCE_URL", "KEYTRAP_BINANCE_TESTNET_URL",
        "KEYTRAP_BINANCE_FUTURES_TESTNET_URL", "KEYTRAP_BINANCE_DEMO_URL",
    ]


def test_resolve_urls_defaults_when_none_is_given():
    assert verify.resolve_urls({}, {}) == {name: net.default_url for name, net in NETWORKS.items()}
    assert verify.resolve_urls({"mainnet": None, "demo": ""}, {"KEYTRAP_BINANCE_URL": ""}) == {
        name: net.default_url for name, net in NETWORKS.items()}


def test_resolve_urls_asks_only_the_networks_given_once_one_is():
    # one URL given, by flag or environment: no other network falls back to its real default
    env = {"KEYTRAP_BINANCE_TESTNET_URL": "http://127.0.0.1:1234/"}
    urls = verify.resolve_urls({"demo": "https://demo.example"}, env)
    assert urls == {"testnet": "http://127.0.0.1:1234", "demo": "https://demo.example"}
    assert verify.resolve_urls({"mainnet": "http://127.0.0.1:9"}, {}) == {"mainnet": "http://127.0.0.1:9"}
    assert verify.resolve_urls({}, env) == {"testnet": "http://127.0.0.1:1234"}
    with pytest.raises(UsageError, match="plain http"):
        verify.resolve_urls({}, {"KEYTRAP_BINANCE_DEMO_URL": "http://demo-api.binance.com"})


@pytest.mark.parametrize("hint", [None, "mainnet", "testnet", "demo"])
def test_a_local_mainnet_url_never_sends_a_key_to_binance(hint):
    # a key the local server does not know: "no such key" would move on to the next network;
    # with only --binance-url given there is none, whatever the context says
    with FakeBinance(network="mainnet") as fake:
        sent: list[str] = []

        def transport(request, timeout):
            sent.append(request.url)
            assert request.url.startswith(fake.url + "/"), request.url
            return verify.http_transport(request, timeout)

        clock = FakeClock()
        urls = verify.resolve_urls({"mainnet": fake.url}, {})
        v = verify_pairs([Pair("p", random_key(), random_key(), network=hint)], urls=urls,
                         clock=clock, sleep=clock.sleep, transport=transport)["p"]
    assert v.status == REVOKED and v.network == "mainnet"
    assert len(sent) == len(fake.log) == 1


@pytest.mark.parametrize(
    "hint, first", [(None, "mainnet"), ("mainnet", "mainnet"), ("testnet", "testnet"), ("demo", "demo")]
)
def test_context_network_is_asked_first(hint, first):
    order = network_order(hint, NETWORKS)
    assert order[0] == first and sorted(order) == sorted(NETWORKS)


def test_testnet_context_asks_the_testnet_only(nets):
    key, secret = nets["testnet"].new_account()
    v = vrun(nets, [Pair("p", key, secret, network="testnet")])["p"]
    assert v.live and v.network == "testnet" and v.family == "testnet"
    assert "no real funds" in v.summary()
    assert [len(f.log) for f in nets.values()] == [0, 1, 0, 0]
    (req,) = nets["testnet"].log
    assert req.path == "/api/v3/account"
    assert [p.split("=")[0] for p in req.query.split("&")] == [
        "omitZeroBalances", "timestamp", "recvWindow", "signature"]


@pytest.mark.parametrize("where, asked", [("testnet", 2), ("futures-testnet", 3), ("demo", 4)])
def test_other_networks_are_asked_only_after_a_no_such_key(nets, where, asked):
    key, secret = nets[where].new_account()
    v = vrun(nets, [Pair("p", key, secret)])["p"]
    assert v.live and v.network == where
    assert len(all_requests(nets)) == asked  # one per network, in order, stopping at the answer
    assert len(nets["mainnet"].log) == 1


def test_rejected_everywhere_is_revoked_after_one_request_per_network(nets):
    v = vrun(nets, [Pair("p", random_key(), random_key())])["p"]
    assert v.status == REVOKED and "every network" in v.detail
    assert [len(f.log) for f in nets.values()] == [1, 1, 1, 1]


def test_wrong_secret_stops_at_the_network_that_knows_the_key(nets):
    key, _secret = nets["mainnet"].new_account()
    v = vrun(nets, [Pair("p", key, random_key())])["p"]
    assert v.status == REVOKED and v.code == -1022 and v.ambiguous
    assert len(all_requests(nets)) == 1


def test_ed25519_and_rsa_pairs_are_live(nets):
    ed_key, ed_pem = nets["mainnet"].new_ed25519_account(enableWithdrawals=True)
    rsa_key, rsa_pem = nets["mainnet"].new_rsa_account()
    pk1_key, pk1_pem = nets["demo"].new_rsa_account(pkcs1=True)
    result = vrun(nets, [
        Pair("ed", ed_key, private_key=body_of(ed_pem)),
        Pair("rsa", rsa_key, private_key=body_of(rsa_pem)),
        Pair("pkcs1", pk1_key, private_key=body_of(pk1_pem), network="demo"),
    ])
    assert result["ed"].live and result["ed"].withdrawals is True
    assert result["rsa"].live and result["pkcs1"].live and result["pkcs1"].network == "demo"
    for req in all_requests(nets):  # only the signature left the process
        for pem in (ed_pem, rsa_pem, pk1_pem):
            assert_redacted(req.raw(), [body_of(pem)[1]])


def test_wrong_private_key_is_revoked_only_when_binance_says_so(nets):
    key, _pem = nets["mainnet"].new_ed25519_account()
    _public, other = new_ed25519_key()
    v = vrun(nets, [Pair("p", key, private_key=body_of(other))])["p"]
    assert v.status == REVOKED and v.code == -1022  # Binance: "signature not valid"
    nets["mainnet"].behaviour.status = 500
    v = vrun(nets, [Pair("p", key, private_key=body_of(other))])["p"]
    assert v.status == UNVERIFIED and "server error" in v.detail  # no code: no verdict


def test_encrypted_or_unusable_private_keys_send_nothing(nets):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    enc = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    ).decode()
    result = vrun(nets, [
        Pair("enc", random_key(), private_key=body_of(enc)),
        Pair("junk", random_key(), private_key=("PRIVATE KEY", random_key(120))),
    ])
    assert result["enc"].summary().startswith("unverified: encrypted private key")
    assert result["junk"].status == UNVERIFIED and "could not be read" in result["junk"].detail
    assert all_requests(nets) == []


@pytest.mark.parametrize("code", [451, 403])
def test_region_block_is_unverified_never_revoked(nets, code):
    key, secret = nets["mainnet"].new_account()
    nets["mainnet"].behaviour.region_block = code
    v = vrun(nets, [Pair("p", key, secret)])["p"]
    assert v.status == UNVERIFIED and v.summary().startswith("unverified: region blocked")
    assert len(all_requests(nets)) == 1  # not a rejection: no other network is asked


@pytest.mark.parametrize("offset", [-30, +30])
def test_clock_skew_is_measured_from_the_date_header(nets, offset):
    key, secret = nets["mainnet"].new_account()
    v = vrun(nets, [Pair("p", key, secret)], clock=FakeClock(offset=offset))["p"]
    assert v.status == UNVERIFIED and v.code == -1021
    assert v.skew_s is not None and abs(v.skew_s - offset) <= 2
    assert v.summary().startswith(f"unverified: clock skew {abs(v.skew_s)} s")
    assert ("ahead of" if offset > 0 else "behind") in v.detail


def test_clock_skew_without_server_time_says_unknown(nets):
    key, secret = nets["mainnet"].new_account()
    nets["mainnet"].behaviour.no_date = True
    v = vrun(nets, [Pair("p", key, secret)], clock=FakeClock(offset=-30))["p"]
    assert v.summary().startswith("unverified: clock skew unknown") and v.skew_s is None


def test_classify_reads_server_time_from_the_body():
    v = classify(400, json.dumps({"code": -1021, "msg": "x", "serverTime": 1_700_000_000_000}),
                 now_ms=1_700_000_012_400)
    assert v.skew_s == 12 and "clock skew 12 s" in v.detail


def test_a_trickling_server_holds_a_pair_no_longer_than_the_timeout(nets):
    key, secret = nets["mainnet"].new_account()
    nets["mainnet"].behaviour.trickle = 0.05
    t0 = time.monotonic()
    v = vrun(nets, [Pair("p", key, secret)], timeout=1.0)["p"]
    assert v.status == UNVERIFIED and "timeout" in v.detail
    assert time.monotonic() - t0 < 1.8


def test_the_total_deadline_leaves_the_rest_unverified(nets):
    pairs = [Pair(f"p{i}", *nets["mainnet"].new_account()) for i in range(4)]
    nets["mainnet"].behaviour.trickle = 0.05
    t0 = time.monotonic()
    result = vrun(nets, pairs, timeout=5.0, deadline=1.0)
    assert time.monotonic() - t0 < 1.8
    assert all(v.summary().startswith("unverified: deadline") for v in result.values())
    assert len(nets["mainnet"].log) == 1  # the first was cut by the deadline; the rest never sent
    assert result["p1"] is DEADLINE


def test_legacy_tuple_pairs_ask_mainnet_only(nets):
    key, secret = nets["testnet"].new_account()
    clock = FakeClock()
    v = verify_pairs([("p", key, secret)], nets["mainnet"].url, clock=clock, sleep=clock.sleep)["p"]
    assert v.status == REVOKED
    assert [len(f.log) for f in nets.values()] == [1, 0, 0, 0]


def test_credentials_from_findings_links_private_keys_and_network():
    from keytrap.engine import scan_bytes

    _public, pem = new_ed25519_key()
    key = random_key()
    text = '{"exchange": {"name": "binance", "key": "%s", "secret": "%s", "testnet": true}}\n' % (
        key, pem.replace("\n", "\\n"))
    findings = scan_bytes(text.encode(), "config.json")
    (pair,) = credentials_from_findings(findings)
    assert pair.api_key == key and pair.secret == "" and pair.network == "testnet"
    assert pair.private_key is not None and pair.private_key[0] == "PRIVATE KEY"
    assert pairs_from_findings(findings) == []  # the HMAC-only view
    assert key not in repr(pair) and pair.private_key[1][:20] not in repr(pair)


def test_finding_extras_move_the_network_to_where_binance_said_live():
    v = Verification(LIVE, "ok", trading=("futures",), network="futures-testnet")
    assert finding_extras(v) == {
        "verification": v.summary(), "verification_status": "live",
        "network": "testnet", "verified_on": "futures-testnet",
    }
    assert "network" not in finding_extras(Verification(REVOKED, "x", code=-2015, network="mainnet"))


def test_secret_or_private_key_alone_says_what_is_missing():
    f = _finding("private_key", "MIIB", None, rule="binance-private-key")
    assert "no API key" in verification_for(f, {}).detail
