"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF consumers.

One run, one result per finding. A result shows the secret only as ``secret_redacted``; its
identity across runs is ``partialFingerprints["keytrap/v1"]`` (a salted hash, no path or line,
so moving a key keeps its fingerprint). The output is a pure function of the ScanResult: no
timestamps, findings in a fixed order, so identical scans give byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import keytrap
from keytrap.findings import Finding, ScanResult
from keytrap.reporters._common import (
    REMEDIATION_STEPS,
    display_path,
    level,
    message,
    ordered,
    Scrubber,
)
from keytrap.rules import RULES, Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "keytrap/v1"


#: GitHub code scanning reads these: 0-10, >= 9.0 shows as "critical".
SECURITY_SEVERITY = "9.5"


def _rule_name(rule: Rule) -> str:
    return "".join(part.capitalize() for part in rule.id.replace("_", "-").split("-"))


def _help_text() -> str:
    steps = "\n".join(f"{i}. {s}" for i, s in enumerate(REMEDIATION_STEPS, 1))
    return f"A leaked Binance key gives control of the account it belongs to. Act now:\n{steps}"


def _help_markdown() -> str:
    steps = "\n".join(f"{i}. {s}" for i, s in enumerate(REMEDIATION_STEPS, 1))
    return (
        "A leaked Binance key gives control of the account it belongs to. **Act now:**\n\n"
        f"{steps}\n"
    )


def _rule(rule: Rule) -> dict[str, Any]:
    kinds = ", ".join(rule.kinds)
    return {
        "id": rule.id,
        "name": _rule_name(rule),
        "shortDescription": {"text": rule.description},
        "fullDescription": {
            "text": (
                f"{rule.description}. keytrap reports these kinds: {kinds}. Confidence rises "
                "with a key-like variable name, a matching key/secret pair nearby and Binance "
                "context (e.g. 'binance', 'X-MBX-APIKEY')."
            )
        },
        "help": {"text": _help_text(), "markdown": _help_markdown()},
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["security", "secret", "binance"],
            "precision": "high",
            "security-severity": SECURITY_SEVERITY,
        },
    }


def artifact_uri(path: str) -> str:
    """A relative URI reference for ``path``: / separators, percent-encoded.

    Everything but unreserved characters and / is encoded, so a ``:`` in the first segment
    cannot be read as a URI scheme.
    """
    return quote(display_path(path), safe="/")


def root_uri(root: str) -> str | None:
    """The absolute ``file:`` URI of the scan root, ending in / as SARIF requires."""
    if not root:
        return None
    uri = Path(root).resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _properties(f: Finding) -> dict[str, Any]:
    props: dict[str, Any] = {"kind": f.kind, "confidence": f.confidence}
    for key in ("pair", "git_status", "commit", "encoding"):
        value = getattr(f, key)
        if value is not None:
            props[key] = value
    for key in ("network", "severity", "verification_status"):
        value = f.get(key)
        if value is not None:
            props[key] = value
    return props


def _result(f: Finding, rule_index: dict[str, int], scrub: Scrubber) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": f.rule}
    if f.rule in rule_index:
        result["ruleIndex"] = rule_index[f.rule]
    result["level"] = level(f.confidence, f.get("severity"))
    result["message"] = {"text": scrub(message(f))}
    result["locations"] = [
        {
            "physicalLocation": {
                "artifactLocation": {
                    "uri": scrub(artifact_uri(f.path)),
                    "uriBaseId": SRCROOT,
                },
                "region": {"startLine": max(1, f.line), "startColumn": max(1, f.column)},
            }
        }
    ]
    result["partialFingerprints"] = {FINGERPRINT_KEY: f.fingerprint}
    result["properties"] = _properties(f)
    return result


def to_sarif(result: ScanResult) -> dict[str, Any]:
    """The SARIF log as a dict (``render`` serialises it)."""
    findings = ordered(result.findings)
    rule_index = {r.id: i for i, r in enumerate(RULES)}
    stats = result.stats

    scrub = Scrubber(findings)  # a root folder or a submodule path can be named after a key
    invocation: dict[str, Any] = {"executionSuccessful": True}
    notes = [{"level": "note", "message": {"text": scrub(n)}} for n in stats.notes]
    if notes:
        invocation["toolExecutionNotifications"] = notes

    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "keytrap",
                "version": keytrap.__version__,
                "semanticVersion": keytrap.__version__,
                "rules": [_rule(r) for r in RULES],
            }
        },
        "invocations": [invocation],
    }
    base = root_uri(result.root)
    if base is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": scrub(base)}}
    run["results"] = [_result(f, rule_index, scrub) for f in findings]
    run["columnKind"] = "unicodeCodePoints"
    run["properties"] = {
        "mode": result.mode,
        "filesScanned": stats.files_scanned,
        "bytesScanned": stats.bytes_scanned,
        "filesSkipped": len(stats.skipped),
        "blobsScanned": stats.blobs_scanned,
        "commits": stats.commits,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(result: ScanResult) -> str:
    """SARIF 2.1.0 JSON text, ending in a newline. Pure ASCII (non-ASCII is \\u-escaped).

    The whole text is scrubbed once more (every string in it, not only the ones ``to_sarif``
    knows to come from the repository), then DEL and ``##[`` are escaped (``json_safe``).
    """
    from keytrap.safetext import json_safe

    text = json.dumps(to_sarif(result), indent=2, ensure_ascii=True)
    text = Scrubber(result.findings)(text).replace("\u2026", "\\u2026")  # keep it pure ASCII
    return json_safe(text) + "\n"
