"""Each rule against its own examples and counter-examples (as gitleaks' Validate does)."""

from __future__ import annotations

import pytest
from helpers import random_secret

from keytrap.engine import scan_bytes
from keytrap.rules import HMAC_KEY, RULES


def _path_and_text(sample: str, default: str) -> tuple[str, str]:
    """``@PATH\n`` at the start of a sample says which file it is (a test, a doc)."""
    if sample.startswith("@"):
        path, _, text = sample[1:].partition("\n")
        return path, text
    return default, sample


def _values() -> dict[str, str]:
    """Fresh values for a sample: alnum keys, and 64-digit hex keys (futures testnet)."""
    import secrets

    from keytrap.filters.heuristics import hex_key

    def hexkey() -> str:
        while True:
            value = secrets.token_hex(32)
            if hex_key(value) is None:
                return value

    return {"key": random_secret(), "secret": random_secret(), "hkey": hexkey(), "hsecret": hexkey()}


@pytest.mark.parametrize("example", HMAC_KEY.examples)
def test_examples_are_found(example: str) -> None:
    values = _values()
    path, example = _path_and_text(example, "example.txt")
    found = scan_bytes(example.format(**values).encode(), path)
    secrets_found = {f.secret for f in found}
    wanted = [n for n in values if "{" + n + "}" in example]
    assert wanted and all(values[n] in secrets_found for n in wanted), wanted


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_counter_examples_are_not_found(rule) -> None:
    for counter in rule.counter_examples:
        path, counter = _path_and_text(counter, "counter.txt")
        text = counter.format(**_values())
        assert scan_bytes(text.encode(), path) == [], counter


def test_rule_ids_unique() -> None:
    assert len({r.id for r in RULES}) == len(RULES)


def test_published_examples_are_hashes_with_provenance() -> None:
    import re

    from keytrap.rules import BINANCE_EXAMPLE_SHA256, BINANCE_PUBLISHED_EXAMPLES, published_example

    assert len(BINANCE_EXAMPLE_SHA256) == len(BINANCE_PUBLISHED_EXAMPLES) >= 30
    for e in BINANCE_PUBLISHED_EXAMPLES:
        assert re.fullmatch(r"[0-9a-f]{64}", e.sha256), e
        assert e.kind in ("key", "private_key") and e.why in ("doc-example", "test-vector") and e.source
    assert not published_example(random_secret())


def test_rules_module_holds_no_raw_value_but_the_counter_example() -> None:
    import re
    from pathlib import Path

    import keytrap.rules as rules
    from keytrap.filters.heuristics import wordy_identifier

    text = Path(rules.__file__).read_text()
    runs = {m for m in re.findall(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])", text)
            if not re.fullmatch(r"[0-9a-f]{64}", m) and wordy_identifier(m) is None and len(set(m)) > 8}
    assert len(runs) <= 1, "only the documentation apiKey of the counter-example may be raw"
