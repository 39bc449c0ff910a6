"""SARIF reporter: schema-valid, redacted, deterministic.

tests/data/sarif-schema-2.1.0.json is the official OASIS SARIF 2.1.0 schema (errata01), copied
unchanged from https://github.com/oasis-tcs/sarif-spec, file sarif-2.1/schema/sarif-schema-2.1.0.json
at commit e0583813964ec43cea53b6b531b402866095ed1f (sha256 c3b4bb2d6093897483348925aaa73af0
3b3e3f4bd4ca38cef26dcb4212a2682e). It declares JSON Schema draft-04.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest

import keytrap
from helpers import assert_redacted, random_secret, sample_result
from keytrap.findings import Finding, ScanResult, ScanStats
from keytrap.reporters import sarif
from keytrap.rules import RULES

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator  # the schema says draft-04
    cls.check_schema(schema)
    return cls(schema)


def _validate(validator, text: str) -> dict:
    log = json.loads(text)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    return log


def test_sample_is_schema_valid(validator):
    result, _ = sample_result()
    _validate(validator, sarif.render(result))


def test_empty_result_is_schema_valid(validator):
    log = _validate(validator, sarif.render(ScanResult(root="", findings=(), stats=ScanStats())))
    run = log["runs"][0]
    assert run["results"] == []
    assert "originalUriBaseIds" not in run
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_header_and_driver():
    result, _ = sample_result()
    log = json.loads(sarif.render(result))
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "keytrap"
    assert driver["version"] == keytrap.__version__
    assert "informationUri" not in driver  # no published project page yet: no made-up link
    assert [r["id"] for r in driver["rules"]] == [r.id for r in RULES]
    for rule, src in zip(driver["rules"], RULES):
        assert rule["shortDescription"]["text"] == src.description
        assert rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"] == {"level": "error"}
        help_text = rule["help"]["text"]
        for needle in ("API Management", "activity", "withdrawals", "IP", "60-90 days",
                       "version control"):
            assert needle in help_text, needle
        assert rule["help"]["markdown"]


def test_results(validator):
    result, _ = sample_result()
    log = _validate(validator, sarif.render(result))
    run = log["runs"][0]
    results = run["results"]
    assert len(results) == len(result.findings)
    by_fp = {r["partialFingerprints"]["keytrap/v1"]: r for r in results}
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for f in result.findings:
        r = by_fp[f.fingerprint]
        assert r["ruleId"] == f.rule
        assert rule_ids[r["ruleIndex"]] == f.rule
        assert r["level"] == {"high": "error", "medium": "error", "low": "warning"}[f.confidence]
        text = r["message"]["text"]
        assert f.secret_redacted in text
        assert {"api_key": "API key", "secret_key": "secret key",
                "private_key": "private key"}[f.kind] in text
        (loc,) = r["locations"]
        phys = loc["physicalLocation"]
        art = phys["artifactLocation"]
        assert art["uriBaseId"] == "%SRCROOT%"
        assert unquote(art["uri"]) == f.path.replace("\\", "/")
        assert urlsplit(art["uri"]).scheme == ""  # relative reference, ':' encoded
        assert "\\" not in art["uri"] and not art["uri"].startswith("/")
        assert phys["region"] == {"startLine": f.line, "startColumn": f.column}
        props = r["properties"]
        assert props["kind"] == f.kind and props["confidence"] == f.confidence
        for key in ("pair", "git_status", "commit", "encoding"):
            assert props.get(key) == getattr(f, key)
    hist = next(r for r in results if r["properties"].get("commit"))
    assert hist["properties"]["commit"][:12] in hist["message"]["text"]


def test_root_uri():
    result, _ = sample_result(root="/srv/repo")
    run = json.loads(sarif.render(result))["runs"][0]
    uri = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert uri.startswith("file:///") and uri.endswith("/")
    assert run["invocations"][0]["executionSuccessful"] is True


def test_no_secret_leaks():
    result, secrets = sample_result()
    out = sarif.render(result)
    assert_redacted(out, secrets)
    # the JSON-decoded text too (escapes could hide nothing, but check what a reader sees)
    assert_redacted(json.dumps(json.loads(out), ensure_ascii=False), secrets)


def test_secret_inside_path_is_scrubbed():
    s = random_secret()
    f = Finding("binance-hmac-key", "api_key", f"leaks/{s}.txt", 1, 1, "high", s)
    out = sarif.render(ScanResult(root=".", findings=(f,), stats=ScanStats()))
    assert_redacted(out, [s])


def test_deterministic():
    result, _ = sample_result()
    first = sarif.render(result)
    assert sarif.render(result) == first
    shuffled = list(result.findings)
    random.shuffle(shuffled)
    again = ScanResult(result.root, tuple(reversed(shuffled)), result.stats, result.mode)
    assert sarif.render(again) == first
    fps = [r["partialFingerprints"]["keytrap/v1"] for r in json.loads(first)["runs"][0]["results"]]
    assert fps == [f.fingerprint for f in sorted(result.findings, key=lambda f: (f.path, f.line))]


def test_validator_is_not_vacuous(validator):
    result, _ = sample_result()
    log = json.loads(sarif.render(result))
    log["runs"][0]["results"][0]["level"] = "fatal"
    log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(list(validator.iter_errors(log))) == 3
