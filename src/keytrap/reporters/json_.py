"""``--format json``: the stable machine contract (version 1). Secrets appear redacted only."""

from __future__ import annotations

import json
from typing import Any

from keytrap.findings import Finding, ScanResult

VERSION = 1


def finding_dict(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule,
        "kind": f.kind,
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "confidence": f.confidence,
        "secret_redacted": f.secret_redacted,
        "fingerprint": f.fingerprint,
        "pair": f.pair,
        "git_status": f.git_status,
        "commit": f.commit,
    }
    if f.name:
        out["name"] = f.name
    if f.encoding:
        out["encoding"] = f.encoding
    for key, value in f.extra:
        out.setdefault(key, value)
    return out


def render(result: ScanResult) -> str:
    stats = result.stats
    doc: dict[str, Any] = {
        "version": VERSION,
        "mode": result.mode,
        "findings": [finding_dict(f) for f in result.findings],
        "stats": {
            "files_scanned": stats.files_scanned,
            "bytes_scanned": stats.bytes_scanned,
            "skipped": [{"path": s.path, "reason": s.reason} for s in stats.skipped],
            "duration_s": round(stats.duration_s, 3),
        },
    }
    if result.mode != "worktree":
        doc["stats"]["blobs_scanned"] = stats.blobs_scanned
        doc["stats"]["commits"] = stats.commits
    if stats.notes:
        doc["stats"]["notes"] = list(stats.notes)
    from keytrap.reporters._common import Scrubber
    from keytrap.safetext import json_safe

    text = Scrubber(result.findings)(json.dumps(doc, indent=2, ensure_ascii=False, default=str))
    return json_safe(text) + "\n"  # no raw C1/bidi/DEL characters, no "##[" (same parsed values)
