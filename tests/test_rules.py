"""Each rule against its own examples and counter-examples (as gitleaks' Validate does)."""

from __future__ import annotations

import pytest
from helpers import random_secret

from keytrap.engine import scan_bytes
from keytrap.rules import HMAC_KEY, RULES


@pytest.mark.parametrize("example", HMAC_KEY.examples)
def test_examples_are_found(example: str) -> None:
    key, secret = random_secret(), random_secret()
    found = scan_bytes(example.format(key=key, secret=secret).encode(), "example.txt")
    secrets_found = {f.secret for f in found}
    assert key in secrets_found
    if "{secret}" in example:
        assert secret in secrets_found


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_counter_examples_are_not_found(rule) -> None:
    for counter in rule.counter_examples:
        text = counter.format(key=random_secret(), secret=random_secret())
        assert scan_bytes(text.encode(), "counter.txt") == [], counter


def test_rule_ids_unique() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
