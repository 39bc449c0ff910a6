"""Redaction, fingerprints and the scrubber that guards every output."""

from __future__ import annotations

import hashlib

from helpers import random_secret

from keytrap.findings import Finding, fingerprint, redact, scrub_keyshaped


def test_redact_shows_at_most_eight() -> None:
    k = random_secret()
    assert redact(k) == f"{k[:4]}…{k[-4:]}"
    assert redact("short") == "*****"


def test_fingerprint_is_stable_and_salted() -> None:
    k = random_secret()
    assert fingerprint("r", k) == fingerprint("r", k) != fingerprint("other", k)
    assert fingerprint("r", k) not in hashlib.sha256(k.encode()).hexdigest()


def test_scrub_keyshaped_runs() -> None:
    k = random_secret()
    digest = hashlib.sha256(b"x").hexdigest()
    text = f"keys/{k}.json keys/{k}backup.bin commit {digest} ok"
    out = scrub_keyshaped(text)
    assert k[:9] not in out and k[-9:] not in out
    assert digest in out and out.endswith("ok")


def test_repr_is_redacted() -> None:
    k = random_secret()
    f = Finding("binance-hmac-key", "api_key", "a.env", 1, 1, "high", k)
    assert k[:9] not in repr(f) and f.secret_redacted in repr(f)
