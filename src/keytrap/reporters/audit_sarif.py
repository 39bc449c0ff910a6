"""``keytrap audit --format sarif``: SARIF 2.1.0, one run per repository.

Each run names its repository (``versionControlProvenance``, ``properties.target``); a result is
one secret in that repository at its oldest introduction, identified across runs and
repositories by ``partialFingerprints["keytrap/v1"]``. A repository that could not be audited is
a run with ``executionSuccessful: false`` and the reason as a notification.
"""

from __future__ import annotations

import json
import os
from typing import Any

import keytrap
from keytrap.audit.records import STATUS_SCANNED, AuditResult, RepoFinding, RepoReport
from keytrap.audit.targets import is_url
from keytrap.findings import scrub_keyshaped
from keytrap.reporters._common import SHORT_REMEDIATION, kind_label, level
from keytrap.reporters.sarif import (
    FINGERPRINT_KEY,
    SARIF_SCHEMA,
    SARIF_VERSION,
    SRCROOT,
    _rule,
    artifact_uri,
    root_uri,
)
from keytrap.rules import RULES


def _message(f: RepoFinding, severity: str | None) -> str:
    details = [f"confidence {f.confidence}"]
    if severity:
        details.append(f"severity {severity}")
    if f.commit:
        details.append(f"commit {f.commit[:12]}")
    details.append("still at HEAD" if f.at_head else "not at HEAD")
    return f"Binance {kind_label(f.kind)} {f.secret_redacted} leaked ({', '.join(details)}). {SHORT_REMEDIATION}"


def _run(r: RepoReport, severities: dict[tuple[str, str], str]) -> dict[str, Any]:
    rule_index = {rule.id: i for i, rule in enumerate(RULES)}
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "keytrap", "version": keytrap.__version__,
                            "semanticVersion": keytrap.__version__, "rules": [_rule(x) for x in RULES]}},
    }
    invocation: dict[str, Any] = {"executionSuccessful": r.status == STATUS_SCANNED}
    if r.error:
        invocation["toolExecutionNotifications"] = [
            {"level": "error" if r.status != STATUS_SCANNED else "warning", "message": {"text": r.error}}
        ]
    run["invocations"] = [invocation]
    if is_url(r.target):
        run["versionControlProvenance"] = [{"repositoryUri": r.target, **({"revisionId": r.head} if r.head else {})}]
    elif r.target:
        base = root_uri(os.path.abspath(r.target))
        if base:
            run["originalUriBaseIds"] = {SRCROOT: {"uri": base}}
    results = []
    for f in r.findings:
        sev = severities.get(f.key)
        res: dict[str, Any] = {"ruleId": f.rule}
        if f.rule in rule_index:
            res["ruleIndex"] = rule_index[f.rule]
        res["level"] = level(f.confidence, sev)
        res["message"] = {"text": _message(f, sev)}
        res["locations"] = [{"physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(f.path), "uriBaseId": SRCROOT},
            "region": {"startLine": max(1, f.line), "startColumn": max(1, f.column)},
        }}]
        res["partialFingerprints"] = {FINGERPRINT_KEY: f.fingerprint}
        props: dict[str, Any] = {"kind": f.kind, "confidence": f.confidence, "at_head": f.at_head}
        for name in ("commit", "date", "pair", "network", "removed_at"):
            value = getattr(f, name)
            if value is not None:
                props[name] = value
        if sev:
            props["severity"] = sev
        res["properties"] = props
        results.append(res)
    run["results"] = results
    run["columnKind"] = "unicodeCodePoints"
    run["properties"] = {"target": r.target, "status": r.status, "blobsScanned": r.stats.blobs_scanned,
                         "blobsTotal": r.stats.blobs_total, "commits": r.stats.commits}
    return run


def to_sarif(result: AuditResult) -> dict[str, Any]:
    severities = {(s.fingerprint, s.kind): s.severity for s in result.secrets}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION,
            "runs": [_run(r, severities) for r in result.repos]}


def render(result: AuditResult) -> str:
    from keytrap.safetext import json_safe

    text = scrub_keyshaped(json.dumps(to_sarif(result), indent=2, ensure_ascii=True))
    return json_safe(text.replace("\u2026", "\\u2026")) + "\n"  # pure ASCII, no DEL, no "##["
