"""GitLab secret-detection report: valid against GitLab's published schema, redacted, stable ids."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import assert_redacted, random_secret, sample_result
from keytrap.findings import Finding, ScanResult, ScanStats
from keytrap.reporters import gitlab

SCHEMA_FILE = Path(__file__).parent / "data" / f"gitlab-secret-detection-report-format-{gitlab.SCHEMA_VERSION}.json"


def _validate(doc: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_FILE.read_text())
    assert schema["self"]["version"] == gitlab.SCHEMA_VERSION == doc["version"]
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)


def test_sample_validates_against_gitlabs_schema() -> None:
    result, secrets = sample_result()
    text = gitlab.render(result, finished=1_700_000_000)
    doc = json.loads(text)
    _validate(doc)
    assert_redacted(text, secrets)
    assert doc["scan"]["type"] == "secret_detection" and doc["scan"]["status"] == "success"
    assert doc["scan"]["end_time"] == "2023-11-14T22:13:20"
    vulns = doc["vulnerabilities"]
    assert len(vulns) == len(result.findings)
    assert all(v["identifiers"][0]["value"] in ("binance-hmac-key", "binance-private-key") for v in vulns)
    assert "raw_source_code_extract" not in text
    committed = [v for v in vulns if v["location"]["commit"]["sha"] != gitlab.NO_COMMIT]
    assert [v["location"]["commit"]["sha"] for v in committed] == ["0123456789abcdef0123456789abcdef01234567"]


def test_head_commit_for_uncommitted_findings() -> None:
    result, _ = sample_result()
    doc = gitlab.to_gitlab(result, head="f" * 40)
    shas = {v["location"]["file"]: v["location"]["commit"]["sha"] for v in doc["vulnerabilities"]}
    assert shas["app/config.py"] == "f" * 40 and shas["old/settings.py"].startswith("0123456789")


def test_ids_are_stable_unique_uuids_from_fingerprints() -> None:
    result, _ = sample_result()
    a = [v["id"] for v in gitlab.to_gitlab(result)["vulnerabilities"]]
    b = [v["id"] for v in gitlab.to_gitlab(result._replace(findings=tuple(reversed(result.findings))))["vulnerabilities"]]
    assert a == b and len(set(a)) == len(a)
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i) for i in a)
    moved = result._replace(findings=tuple(f._replace(line=f.line + 10) for f in result.findings))
    assert [v["id"] for v in gitlab.to_gitlab(moved)["vulnerabilities"]] == a
    s = random_secret()
    twice = ScanResult(".", (Finding("binance-hmac-key", "api_key", "a.env", 1, 1, "high", s),
                             Finding("binance-hmac-key", "api_key", "a.env", 9, 1, "high", s)), ScanStats())
    ids = [v["id"] for v in gitlab.to_gitlab(twice)["vulnerabilities"]]
    assert len(set(ids)) == 2


def test_severity_mapping_and_solution_from_actions() -> None:
    s = random_secret()
    f = Finding("binance-hmac-key", "secret_key", "x.py", 1, 1, "high", s).with_extra(
        severity="critical", actions=["Delete the key now", "Move it out of x.py"])
    doc = gitlab.to_gitlab(ScanResult(".", (f,), ScanStats()))
    v = doc["vulnerabilities"][0]
    assert v["severity"] == "Critical" and v["solution"] == "1. Delete the key now. 2. Move it out of x.py."
    _validate(doc)


def test_empty_report_and_notes_validate() -> None:
    from keytrap.findings import Skipped

    stats = ScanStats(skipped=(Skipped("a.bin", "binary"),), notes=("shallow clone",))
    doc = gitlab.to_gitlab(ScanResult(".", (), stats))
    assert doc["vulnerabilities"] == [] and [m["level"] for m in doc["scan"]["messages"]] == ["info", "warn"]
    _validate(doc)


def test_secret_in_a_path_is_redacted() -> None:
    s = random_secret()
    f = Finding("binance-hmac-key", "api_key", f"keys/{s}.json", 1, 1, "high", s)
    text = gitlab.render(ScanResult(".", (f,), ScanStats()))
    assert_redacted(text, [s])
    _validate(json.loads(text))
