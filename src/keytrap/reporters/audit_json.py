"""``keytrap audit --format json``: the audit contract (version 1). Secrets appear redacted only.

    {"version": 1,
     "repos": [{"target", "status": "scanned|failed", "error",
                "stats": {"blobs_scanned", "blobs_total", "duration_s", …}, "findings": […]}],
     "secrets": [{"kind", "fingerprint", "secret_redacted", "network", "severity",
                  "verification_status", "repos": […],
                  "locations": [{"repo", "commit", "path", "line", "at_head", …}]}],
     "stats": {…}}

Extra keys can appear; consumers should ignore keys they do not know.
"""

from __future__ import annotations

import json
from typing import Any

from keytrap.audit.records import AuditResult, RepoFinding, RepoReport, Secret
from keytrap.findings import scrub_keyshaped

VERSION = 1


def repo_finding(f: RepoFinding) -> dict[str, Any]:
    return {
        "kind": f.kind, "fingerprint": f.fingerprint, "secret_redacted": f.secret_redacted,
        "rule": f.rule, "confidence": f.confidence, "path": f.path, "line": f.line, "column": f.column,
        "commit": f.commit, "date": f.date, "at_head": f.at_head, "removed_commit": f.removed_commit,
        "removed_at": f.removed_at, "reachable": f.reachable, "pair": f.pair, "network": f.network,
        "occurrences": f.occurrences,
    }


def repo_dict(r: RepoReport) -> dict[str, Any]:
    s = r.stats
    return {
        "target": r.target,
        "status": r.status,
        "error": r.error,
        "head": r.head,
        "stats": {
            "blobs_scanned": s.blobs_scanned, "blobs_total": s.blobs_total,
            "bytes_scanned": s.bytes_scanned, "commits": s.commits,
            "duration_s": round(s.duration_s, 3), "fetch_s": round(s.fetch_s, 3),
            "incremental": s.incremental,
        },
        "findings": [repo_finding(f) for f in r.findings],
    }


def secret_dict(s: Secret) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "fingerprint": s.fingerprint,
        "secret_redacted": s.secret_redacted,
        "network": s.network,
        "severity": s.severity,
        "verification_status": s.verification_status,
        "verification": s.verification,
        "rule": s.rule,
        "confidence": s.confidence,
        "pair": s.pair,
        "introduced_at": s.introduced_at,
        "removed_at": s.removed_at,
        "at_head": s.at_head,
        "repos": list(s.repos),
        "locations": [
            {"repo": loc.repo, "commit": loc.commit, "path": loc.path, "line": loc.line,
             "at_head": loc.at_head, "date": loc.date, "removed_at": loc.removed_at}
            for loc in s.locations
        ],
    }


def to_dict(result: AuditResult) -> dict[str, Any]:
    st = result.stats
    return {
        "version": VERSION,
        "started": result.started,
        "repos": [repo_dict(r) for r in result.repos],
        "secrets": [secret_dict(s) for s in result.secrets],
        "stats": {
            "repos": st.repos, "repos_scanned": st.repos_scanned, "repos_failed": st.repos_failed,
            "secrets": st.secrets, "live": st.live, "blobs_scanned": st.blobs_scanned,
            "blobs_total": st.blobs_total, "bytes_scanned": st.bytes_scanned,
            "duration_s": round(st.duration_s, 3), "jobs": st.jobs, "backend": st.backend,
        },
        "notes": list(result.notes),
    }


def render(result: AuditResult) -> str:
    # no record holds a secret; the scrub is the last line of defence for repository-made strings
    from keytrap.safetext import json_safe

    return json_safe(scrub_keyshaped(json.dumps(to_dict(result), indent=2, ensure_ascii=False))) + "\n"
