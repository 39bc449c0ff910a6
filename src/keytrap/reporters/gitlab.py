"""``--format gitlab``: GitLab's secret-detection report (``artifacts: reports: secret_detection``).

The document follows GitLab's published schema, version ``SCHEMA_VERSION``
(gitlab-org/security-products/security-report-schemas, ``dist/secret-detection-report-format.json``;
a copy is in ``tests/data`` and every test run validates against it). GitLab reads only this
format for secret detection; it ignores SARIF.

* Secrets appear redacted only (``secret_redacted``); there is no ``raw_source_code_extract``.
* Each vulnerability ``id`` is a UUID derived from the finding's fingerprint and path, so the
  same secret in the same file keeps its id across runs, line moves and re-runs.
* ``location.commit.sha`` is required by the schema: the introducing commit for history
  findings, else the commit being tested (``head``, from ``$CI_COMMIT_SHA`` in a pipeline), else
  ``0000000`` (the placeholder GitLab's own analyzer writes for uncommitted content).
"""

from __future__ import annotations

import json
from typing import Any

import keytrap
from keytrap.findings import Finding, ScanResult
from keytrap.reporters._common import Scrubber, display_path, kind_label, message, ordered

SCHEMA_VERSION = "15.0.7"
SCHEMA_URL = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
    f"v{SCHEMA_VERSION}/dist/secret-detection-report-format.json"
)
#: What GitLab writes when a finding is not tied to a commit.
NO_COMMIT = "0000000"
#: keytrap severity -> GitLab severity.
SEVERITIES: dict[str, str] = {
    "critical": "Critical",
    "high": "High",
    "medium": "Medium",
    "low": "Low",
    "info": "Info",
}
_TOOL = {"id": "keytrap", "name": "keytrap", "version": keytrap.__version__, "vendor": {"name": "keytrap"}}


def vulnerability_id(f: Finding, occurrence: int = 0) -> str:
    """A UUID (version 5 layout) from the fingerprint, the path and, for a secret repeated in one
    file, its occurrence: stable across runs; never derived from the secret alone."""
    import hashlib
    import uuid

    seed = f"keytrap:gitlab:{f.fingerprint}:{display_path(f.path)}:{occurrence}"
    digest = bytearray(hashlib.sha256(seed.encode("utf-8", "surrogateescape")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5 (name-based)
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return str(uuid.UUID(bytes=bytes(digest)))


def _timestamp(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def _vulnerability(f: Finding, vid: str, scrub: Scrubber, head: str | None) -> dict[str, Any]:
    from keytrap.reporters._common import REMEDIATION_STEPS

    label = kind_label(f.kind)
    commit: dict[str, Any] = {"sha": f.commit or head or NO_COMMIT}
    if f.commit:
        for key, field in (("commit_author", "author"), ("commit_date", "date"), ("commit_subject", "message")):
            value = f.get(key)
            if isinstance(value, str) and value:
                commit[field] = scrub(value)
    actions = f.get("actions")
    steps = [str(a) for a in actions] if isinstance(actions, (list, tuple)) and actions else list(REMEDIATION_STEPS)
    solution = scrub(" ".join(f"{i}. {s.rstrip('.')}." for i, s in enumerate(steps, 1)))[:7000]
    severity = SEVERITIES.get(str(f.get("severity") or ""), "Unknown")
    return {
        "id": vid,
        "category": "secret_detection",
        "name": f"Binance {label}",
        "description": scrub(message(f)),
        "severity": severity,
        "solution": solution,
        "identifiers": [
            {"type": "keytrap_rule_id", "name": f"keytrap rule {f.rule}", "value": f.rule},
        ],
        "location": {
            "file": scrub(display_path(f.path)),
            "start_line": max(1, f.line),
            "end_line": max(1, f.line),
            "commit": commit,
        },
    }


def to_gitlab(result: ScanResult, *, head: str | None = None, finished: float | None = None) -> dict[str, Any]:
    """The report as a dict. ``head``: the commit under test; ``finished``: epoch seconds of
    the end of the scan (default: now)."""
    import time

    findings = ordered(result.findings)
    scrub = Scrubber(findings)
    end = time.time() if finished is None else finished
    seen: dict[tuple[str, str], int] = {}
    vulns = []
    for f in findings:
        key = (f.fingerprint, display_path(f.path))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        vulns.append(_vulnerability(f, vulnerability_id(f, occurrence), scrub, head))
    scan: dict[str, Any] = {
        "analyzer": dict(_TOOL),
        "scanner": dict(_TOOL),
        "type": "secret_detection",
        "start_time": _timestamp(end - max(0.0, result.stats.duration_s)),
        "end_time": _timestamp(end),
        "status": "success",
    }
    messages = [{"level": "info", "value": scrub(n)} for n in result.stats.notes if n]
    if result.stats.skipped:
        n = len(result.stats.skipped)
        messages.append({"level": "warn", "value": f"{n} file{'s' if n != 1 else ''} skipped (run keytrap with --verbose to list them)"})
    if messages:
        scan["messages"] = messages
    return {"version": SCHEMA_VERSION, "schema": SCHEMA_URL, "scan": scan, "vulnerabilities": vulns}


def render(result: ScanResult, *, head: str | None = None, finished: float | None = None) -> str:
    doc = to_gitlab(result, head=head, finished=finished)
    from keytrap.safetext import json_safe

    return json_safe(Scrubber(result.findings)(json.dumps(doc, indent=2, ensure_ascii=False))) + "\n"
