"""The records that flow between stages: Candidate (inside the engine) and Finding (out of it).

Everything here is immutable and free of I/O. A Finding carries the raw secret in a private
field that no reporter prints: reporters use ``secret_redacted`` and ``fingerprint`` only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Literal

Kind = Literal["api_key", "secret_key", "private_key"]
Confidence = Literal["high", "medium", "low"]

CONFIDENCE_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2}

#: The most characters of a secret any output may show (4 at each end).
REDACT_KEEP = 4


def redact(secret: str) -> str:
    """Show the first and last four characters only: never more than 8 of a secret."""
    if len(secret) <= 2 * REDACT_KEEP + 4:
        return "*" * len(secret)
    return f"{secret[:REDACT_KEEP]}…{secret[-REDACT_KEEP:]}"


def fingerprint(rule: str, secret: str) -> str:
    """A stable identity for a secret: no path, no line, so moves and renames keep it.

    The hash is salted with the rule id and a fixed prefix so that the baseline holds
    nothing that a plain sha256 lookup table could reverse.
    """
    digest = hashlib.sha256(f"keytrap:v1:{rule}:{secret}".encode()).hexdigest()
    return digest[:32]


@dataclass(frozen=True, slots=True)
class Finding:
    """One secret at one place. ``secret`` never leaves the process except as a hash."""

    rule: str
    kind: Kind
    path: str
    line: int
    column: int
    confidence: Confidence
    secret: str = field(repr=False, compare=False)
    name: str | None = None  # the variable/field name seen before the value, if any
    encoding: str | None = None  # "base64" when found inside an encoded value
    pair: str | None = None
    git_status: str | None = None
    commit: str | None = None
    extra: tuple[tuple[str, object], ...] = field(default=(), compare=False)

    @property
    def secret_redacted(self) -> str:
        return redact(self.secret)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule, self.secret)

    def with_(self, **changes: object) -> Finding:
        return replace(self, **changes)  # type: ignore[arg-type]

    def get(self, key: str, default: object = None) -> object:
        for k, v in self.extra:
            if k == key:
                return v
        return default

    def with_extra(self, **items: object) -> Finding:
        kept = tuple((k, v) for k, v in self.extra if k not in items)
        return replace(self, extra=kept + tuple(items.items()))


def sort_key(f: Finding) -> tuple[str, int, int, str]:
    return (f.path, f.line, f.column, f.rule)


def pair_id(api_secret: str, secret_secret: str) -> str:
    """Pair ids are derived from both secrets, so the same pair gets the same id anywhere."""
    return hashlib.sha256(f"keytrap:pair:{api_secret}:{secret_secret}".encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class ScanStats:
    files_scanned: int = 0
    bytes_scanned: int = 0
    skipped: tuple[Skipped, ...] = ()
    duration_s: float = 0.0
    blobs_scanned: int = 0  # history scans only
    commits: int = 0  # history scans only
    notes: tuple[str, ...] = ()  # e.g. "shallow clone: history before X is not available"


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What every reporter renders. ``root`` is the folder paths are relative to."""

    root: str
    findings: tuple[Finding, ...]
    stats: ScanStats
    mode: str = "worktree"  # worktree | history | staged | range
