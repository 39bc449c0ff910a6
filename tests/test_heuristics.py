"""Unit tests per heuristic: each rejects what it names and keeps random keys."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from helpers import random_secret

from keytrap.filters import heuristics as h


@pytest.fixture
def keys() -> list[str]:
    return [random_secret() for _ in range(300)]


def test_random_keys_survive_every_filter(keys: list[str]) -> None:
    rejected = [h.reject_token(k) for k in keys]
    # each filter is tuned for < 1e-3 false rejections on random keys; 300 keys allow a couple
    assert sum(r is not None for r in rejected) <= 2


def test_hex_digest() -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    assert h.reject_token(digest)
    mixed_case = "".join(c.upper() if i % 3 else c for i, c in enumerate(digest))
    assert h.hex_only(mixed_case)


def test_not_mixed() -> None:
    assert h.not_mixed(random_secret(alphabet="abcdefghijklmnopqrstuvwxyz0123456789"))
    assert h.not_mixed(random_secret(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    assert h.not_mixed("aB3") is None


def test_entropy_floor() -> None:
    low = ("aB1c" * 16)
    assert h.low_entropy(low)
    assert h.shannon_entropy("aaaa") == 0
    assert h.shannon_entropy("ab") == 1


def test_repeated_and_sequential() -> None:
    base = random_secret(60)
    assert h.repeated_or_sequential(base[:30] + "QQQQQ" + base[30:59]) == "repeated characters"
    assert h.repeated_or_sequential(base[:30] + "abcdef" + base[30:58]) in (
        "sequential characters", "repeated characters")
    assert h.repeated_or_sequential("aB3dE5" * 11)  # few distinct characters


def test_wordy_identifier() -> None:
    assert h.wordy_identifier("getBinanceAccountBalanceForUserWithRetriesAndTimeout2Seconds")
    assert h.wordy_identifier("ThisIsAVeryLongFunctionNameThatKeepsGoingForeverAndEverAndEver1")


@pytest.mark.parametrize(
    "token",
    ["YourBinanceApiKeyGoesHere1234567890abcdefghijklmnopqrstuvwxyzABCDE",
     "xxxxXXXXxxxx1234" * 4,
     "EXAMPLEkey0" + random_secret(53)],
)
def test_placeholders(token: str) -> None:
    assert h.reject_token(token[:64])


def test_doc_examples_and_extra() -> None:
    assert h.doc_example("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A")
    k = random_secret()
    assert h.doc_example(k) is None
    assert h.doc_example(k, frozenset({k}))


def test_base64_body_lines() -> None:
    assert h.looks_like_base64_body(b"MIIB" + random_secret(56).encode() + b"+/ab")
    assert h.looks_like_base64_body(random_secret(60).encode() + b"==")
    assert not h.looks_like_base64_body(random_secret(64).encode())
    assert not h.looks_like_base64_body(b"short+/")


def test_jwt_segment() -> None:
    k = random_secret().encode()
    jwt = b"eyJhbGciOiJIUzI1NiJ9." + k + b".c2lnbmF0dXJl"
    start = jwt.index(k)
    assert h.jwt_segment(jwt, start, start + 64)
    sentence = b"the key is " + k + b". Done"
    start = sentence.index(k)
    assert h.jwt_segment(sentence, start, start + 64) is None


def test_lockfiles() -> None:
    assert h.is_lockfile("web/package-lock.json")
    assert h.is_lockfile("poetry.lock")
    assert not h.is_lockfile("config.json")


def test_false_rejection_rate_is_tiny() -> None:
    n = 20000
    rejected = sum(h.reject_token("".join(secrets.choice(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(64))) is not None
        for _ in range(n))
    assert rejected / n < 0.003


def test_comment_lead() -> None:
    token = random_secret().encode()
    for lead in (b"# ", b"// ", b" * ", b"-- ", b"; ", b"' ", b"# SIG # ", b"REM "):
        line = lead + token
        assert h.comment_lead(line, len(lead), len(line)) == lead.strip()[:1], lead
    for lead in (b"API_KEY = ", b"key: ", b"# key: ", b"MIIB"):
        line = lead + token
        assert h.comment_lead(line, len(lead), len(line)) is None, lead
    line = b"# " + token + b" trailing"
    assert h.comment_lead(line, 2, 66) is None


def test_commented_rest() -> None:
    body = random_secret(56).encode() + b"+/ab"
    assert h.commented_rest(b"# " + body, b"#") == body
    assert h.commented_rest(b"# SIG # " + body, b"#") == body
    assert h.commented_rest(b"  // " + body, b"/") == body
    assert h.commented_rest(b"// " + body, b"#") is None  # another marker
    assert h.commented_rest(b"key = " + body, b"#") is None
