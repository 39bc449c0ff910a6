"""Severity and advice per finding: pure, table-driven."""

from __future__ import annotations

import pytest
from fakebinance import random_key
from hypothesis import given
from hypothesis import strategies as st

from keytrap.findings import Finding
from keytrap.remediation import (
    CHECKLIST,
    DELETE_NOW,
    SEVERITIES,
    Assessment,
    assess,
    exposure,
    worst,
)
from keytrap.verify import NO_PAIR, Verification


def finding(git_status=None, commit=None, confidence="high", path="app/.env", **extra) -> Finding:
    f = Finding(
        "binance-hmac-key", "api_key", path, 3, 9, confidence, random_key(),
        git_status=git_status, commit=commit,
    )
    return f.with_extra(**extra) if extra else f


def live(withdrawals=False, ip=False, age=10) -> Verification:
    return Verification(
        "live", "ok", withdrawals=withdrawals, ip_restricted=ip, trading=("spot",),
        reading=True, age_days=age, network="mainnet",
    )


REVOKED = Verification("revoked", "rejected by Binance (-2014: API-key format invalid)", code=-2014)
IP_ELSEWHERE = Verification("revoked", "rejected (-2015)", code=-2015)
UNVERIFIED = Verification("unverified", "no answer in time (timeout)")
WRONG_SECRET = Verification("revoked", "rejected (-1022)", code=-1022, network="mainnet")
WRONG_SECRET_TESTNET = Verification("revoked", "rejected (-1022)", code=-1022, network="testnet")
LIVE_TESTNET = Verification("live", "ok", trading=("spot",), reading=True, network="testnet")


@pytest.mark.parametrize(
    "f, v, expected",
    [
        (finding("untracked"), live(withdrawals=True, ip=False), "critical"),
        (finding(commit="abc123"), live(withdrawals=True, ip=False), "critical"),
        (finding("ignored"), live(withdrawals=True, ip=False), "critical"),
        (finding("untracked"), live(withdrawals=True, ip=True), "critical"),  # withdrawals on
        (finding("untracked"), live(withdrawals=False, ip=False), "critical"),  # from anywhere
        (finding(commit="abc123"), live(ip=True), "high"),  # trade/read only, IP-restricted
        (finding("untracked"), live(withdrawals=False, ip=True), "high"),
        (finding(commit="abc123"), None, "high"),
        (finding("tracked"), None, "high"),
        (finding("tracked"), UNVERIFIED, "high"),
        (finding("untracked"), None, "medium"),
        (finding("ignored"), None, "medium"),
        (finding("staged"), None, "medium"),
        (finding(None), None, "medium"),
        (finding(None), NO_PAIR, "medium"),
        (finding(commit="abc123"), REVOKED, "info"),
        (finding("untracked"), REVOKED, "info"),
        (finding(commit="abc123"), IP_ELSEWHERE, "info"),
        (finding(commit="abc123"), WRONG_SECRET, "medium"),  # the key exists: its secret may leak too
        (finding(commit="abc123"), WRONG_SECRET_TESTNET, "low"),
        (finding(commit="abc123", network="testnet"), None, "low"),
        (finding("untracked", network="demo"), UNVERIFIED, "low"),
        (finding(commit="abc123", network="testnet"), REVOKED, "info"),
        (finding(commit="abc123", network="mainnet"), None, "high"),
        (finding(commit="abc123"), LIVE_TESTNET, "low"),
        (finding(commit="abc123", network="testnet"), live(withdrawals=True), "critical"),  # mainnet said live
        (finding("tracked", confidence="low"), None, "medium"),
        (finding("untracked", confidence="low"), None, "low"),
        (finding("untracked", confidence="low"), live(withdrawals=True), "critical"),
    ],
)
def test_severity_table(f, v, expected):
    assert assess(f, v).severity == expected


def test_committed_is_worse_than_untracked_or_ignored():
    committed = assess(finding(commit="abc"), None)
    for status in ("untracked", "ignored"):
        assert committed.rank > assess(finding(status), None).rank


def test_exposure():
    assert exposure(finding("untracked", commit="abc")) == "committed"
    assert exposure(finding("untracked", pushed=True)) == "committed"
    assert exposure(finding("tracked")) == "tracked"
    assert exposure(finding("ignored")) == "ignored"
    assert exposure(finding("weird")) == "unknown"


def test_committed_actions_start_with_delete_now():
    a = assess(finding(commit="abc123"), None)
    assert a.actions[0] == DELETE_NOW
    assert "forks and clones keep it" in a.actions[0]


def test_tracked_actions():
    a = assess(finding("tracked", path="conf/keys.py"), None)
    assert a.actions[0] == DELETE_NOW
    assert any("environment variables or a secret manager" in x for x in a.actions)
    assert not any(".gitignore" in x for x in a.actions)  # a source file is not to be ignored
    b = assess(finding("tracked", path="deploy/.env"), None)
    assert any("git rm --cached deploy/.env" in x and ".gitignore" in x for x in b.actions)


def test_untracked_actions():
    a = assess(finding("untracked", path=".env"), None)
    assert a.actions == ("Add .env to .gitignore before the next `git add`",)


@pytest.mark.parametrize("path", ["bot.py", "src/trade.js", "main.go", "notebook.ipynb", ".env.example"])
def test_untracked_source_file_is_not_to_be_ignored(path):
    (action,) = assess(finding("untracked", path=path), None).actions
    assert ".gitignore" not in action and "Move the key out of" in action and "source code" in action


@pytest.mark.parametrize("path", [".env", "prod.env", ".env.local", "user_data/config.json", "k.pem",
                                  "settings.local.json", "app.ini", "secrets.yaml"])
def test_untracked_config_file_is_to_be_ignored(path):
    (action,) = assess(finding("untracked", path=path), None).actions
    assert action == f"Add {path} to .gitignore before the next `git add`"


def test_history_findings_get_purge_steps_after_rotation():
    a = assess(finding(commit="abc123"), None)
    assert a.actions[0] == DELETE_NOW
    text = " ".join(a.actions)
    assert "git filter-repo --replace-text" in text
    assert "Rotate first" in a.actions[1]
    assert all(w in text for w in ("Forks", "pull-request refs", "caches"))
    assert text.index("Rotate first") < text.index("git filter-repo")


def test_ignored_actions():
    (action,) = assess(finding("ignored", path=".env"), None).actions
    assert "plain text" in action and "secret manager" in action


def test_staged_actions():
    (action,) = assess(finding("staged", path="k.py"), None).actions
    assert "git restore --staged k.py" in action


def test_live_critical_actions_are_specific():
    a = assess(finding(commit="abc"), live(withdrawals=True, ip=False, age=200))
    assert a.severity == "critical"
    assert a.actions[0] == DELETE_NOW
    assert any("Withdrawals are enabled" in x for x in a.actions)
    assert any("no IP restriction" in x for x in a.actions)
    assert any("200 days old" in x and "rotate" in x for x in a.actions)
    assert a.reasons == ("live", "withdrawals enabled", "no IP restriction")


def test_live_untracked_says_live_first():
    a = assess(finding("untracked"), live(ip=True))
    assert a.actions[0].startswith("Binance confirms this key is live")
    assert not any("IP restriction" in x for x in a.actions)


@pytest.mark.parametrize("age, rotate", [(None, False), (10, False), (90, False), (91, True)])
def test_rotation_advice_from_age(age, rotate):
    a = assess(finding("untracked"), live(age=age))
    assert any("rotate" in x for x in a.actions) == rotate


def test_revoked_advice():
    a = assess(finding("untracked"), REVOKED)
    assert "no longer works" in a.actions[0]
    b = assess(finding("untracked"), IP_ELSEWHERE)
    assert "may still be live" in b.actions[0]


def test_checklist_covers_the_basics():
    text = " ".join(CHECKLIST).lower()
    for words in ("permissions", "withdrawals off", "ip", "60-90 days", "plain text",
                  "version control"):
        assert words in text


def test_no_secret_in_advice():
    f = finding(commit="abc")
    a = assess(f, live(withdrawals=True))
    shown = repr(a) + " ".join(a.actions)
    assert f.secret not in shown and f.secret[:8] not in shown


def test_worst():
    assert worst([]) is None
    assert worst([Assessment("low", ()), Assessment("high", ()), Assessment("medium", ())]) == "high"


@given(
    st.sampled_from([None, "tracked", "staged", "untracked", "ignored", "other"]),
    st.one_of(st.none(), st.just("deadbeef")),
    st.sampled_from(["low", "medium", "high"]),
    st.one_of(
        st.none(),
        st.builds(
            Verification,
            st.sampled_from(["live", "revoked", "unverified"]),
            st.just("d"),
            st.one_of(st.none(), st.booleans()),
            st.one_of(st.none(), st.booleans()),
            age_days=st.one_of(st.none(), st.integers(0, 5000)),
            code=st.one_of(st.none(), st.sampled_from([-2014, -2015, -1022, -2008])),
            network=st.sampled_from([None, "mainnet", "testnet", "futures-testnet", "demo"]),
        ),
    ),
    st.sampled_from([None, "mainnet", "testnet", "demo"]),
)
def test_assess_total(status, commit, confidence, v, network):
    a = assess(finding(status, commit=commit, confidence=confidence, network=network), v)
    assert a.severity in SEVERITIES and a.actions
    assert len(set(a.actions)) == len(a.actions)


def test_testnet_and_demo_keys_are_low_and_say_why():
    a = assess(finding("tracked", network="testnet"), None)
    assert a.severity == "low" and "testnet key: holds no real funds, rotate it anyway" in a.reasons
    assert "rotate it anyway" in a.actions[0]
    live_demo = Verification("live", "ok", network="demo")
    b = assess(finding(commit="abc", network="demo"), live_demo)
    assert b.severity == "low" and "live on the demo trading" in b.reasons[0]
    assert b.actions[0].startswith("Binance confirms this key is live on the demo trading")


def test_info_is_the_bottom_of_the_scale():
    assert SEVERITIES[0] == "info"
    assert worst([Assessment("info", ()), Assessment("low", ())]) == "low"
    assert assess(finding("untracked", confidence="low"), REVOKED).severity == "info"
