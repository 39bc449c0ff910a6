"""Baselines hold salted fingerprints only, and parse strictly."""

from __future__ import annotations

import json

import pytest
from helpers import random_secret

from keytrap.baseline import parse, render
from keytrap.errors import UsageError
from keytrap.findings import Finding


def test_render_holds_no_secret_and_no_path() -> None:
    key = random_secret()
    f = Finding("binance-hmac-key", "api_key", f"keys/{key}.json", 1, 1, "high", key)
    text = render([f, f])
    doc = json.loads(text)
    assert doc["fingerprints"] == [{"fingerprint": f.fingerprint, "rule": f.rule, "kind": "api_key"}]
    assert key[:9] not in text and key[-9:] not in text


def test_parse_roundtrip_and_plain_strings() -> None:
    f = Finding("binance-hmac-key", "api_key", "a", 1, 1, "high", random_secret())
    assert parse(render([f]), "b") == frozenset({f.fingerprint})
    assert parse('{"fingerprints": ["abc"]}', "b") == frozenset({"abc"})


@pytest.mark.parametrize("text", ["{", "[]", '{"fingerprints": 3}', '{"fingerprints": [""]}', '{"fingerprints": [{}]}'])
def test_malformed(text: str) -> None:
    with pytest.raises(UsageError, match="malformed baseline"):
        parse(text, "b")
