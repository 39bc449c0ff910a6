"""The records an audit returns: per repository, per secret, and the whole result.

None of them holds a secret: a secret is known by its fingerprint (a salted hash), shown by its
redacted form, and can be read again from the blob (``RepoFinding.blob``) that holds it. That
is what crosses process and machine boundaries (pool workers, Dask) and what the cache keeps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATUS_SCANNED = "scanned"
STATUS_FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RepoStats:
    blobs_scanned: int = 0  # read in this run
    blobs_total: int = 0  # in scope: this run's plus the ones an earlier audit read
    bytes_scanned: int = 0
    commits: int = 0
    duration_s: float = 0.0  # clone/fetch + scan
    fetch_s: float = 0.0
    incremental: bool = False  # an earlier audit's results were reused
    unreadable: int = 0  # objects in scope that could not be read (missing or corrupt)


@dataclass(frozen=True, slots=True)
class RepoFinding:
    """One secret in one repository, placed at its oldest introduction. No secret inside."""

    fingerprint: str
    rule: str
    kind: str
    confidence: str
    secret_redacted: str
    path: str
    line: int
    column: int
    commit: str | None = None
    date: str | None = None  # author date of the introducing commit (ISO 8601)
    at_head: bool = False
    removed_commit: str | None = None  # the commit that took it out of HEAD's history
    removed_at: str | None = None
    reachable: bool = True
    pair: str | None = None
    network: str | None = None
    name: str | None = None
    encoding: str | None = None
    blob: str | None = None  # where the secret can be read again (verification)
    blob_ids: tuple[str, ...] = ()  # every blob holding it: at_head is recomputed from these
    occurrences: int = 1
    commits: int = 1

    @property
    def key(self) -> tuple[str, str]:
        return (self.fingerprint, self.kind)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["blob_ids"] = list(self.blob_ids)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RepoFinding:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        known["blob_ids"] = tuple(known.get("blob_ids", ()))
        return cls(**known)


@dataclass(frozen=True, slots=True)
class RepoReport:
    """What one repository gave: scanned (with findings) or failed (with the reason)."""

    target: str  # as the user named it, credentials removed
    status: str  # scanned | failed
    error: str | None = None  # why it failed, or a warning (a fetch failed, the old mirror was scanned)
    stats: RepoStats = field(default_factory=RepoStats)
    findings: tuple[RepoFinding, ...] = ()
    key: str = ""  # the cache key
    head: str | None = None
    location: str | None = None  # the git directory or work tree that was scanned (on its machine)
    host: str | None = None  # the machine that scanned it (Dask)


@dataclass(frozen=True, slots=True)
class SecretLocation:
    repo: str
    commit: str | None
    path: str
    line: int
    at_head: bool
    date: str | None = None
    removed_at: str | None = None
    column: int = 1


@dataclass(frozen=True, slots=True)
class Secret:
    """One secret, wherever it was found: its locations, earliest introduction first."""

    kind: str
    fingerprint: str
    secret_redacted: str
    rule: str
    confidence: str
    severity: str
    network: str | None
    verification_status: str | None  # live | revoked | unverified; None when not asked
    verification: str | None  # one line
    pair: str | None
    repos: tuple[str, ...]
    locations: tuple[SecretLocation, ...]
    introduced_at: str | None  # the oldest introduction
    removed_at: str | None  # when it left the last HEAD that held it; None while still there
    at_head: bool  # still at HEAD in some repository

    @property
    def live(self) -> bool:
        return self.verification_status == "live"


@dataclass(frozen=True, slots=True)
class AuditStats:
    repos: int = 0
    repos_scanned: int = 0
    repos_failed: int = 0
    secrets: int = 0
    live: int = 0
    blobs_scanned: int = 0
    blobs_total: int = 0
    bytes_scanned: int = 0
    duration_s: float = 0.0
    jobs: int = 1
    backend: str = "local"  # local | dask


@dataclass(frozen=True, slots=True)
class AuditResult:
    repos: tuple[RepoReport, ...]
    secrets: tuple[Secret, ...]
    stats: AuditStats
    started: str = ""  # ISO 8601, UTC: "now" on the report's timeline
    notes: tuple[str, ...] = ()
