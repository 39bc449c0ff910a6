"""The records that flow out of the engine: Finding, and the ScanResult every reporter renders.

Everything here is immutable and free of I/O. A Finding carries the raw secret in a field
that no reporter prints: reporters use ``secret_redacted`` and ``fingerprint`` only.

The records are typed ``collections.namedtuple`` subclasses rather than dataclasses: the hook
imports this module on every commit, and ``dataclasses`` plus ``typing`` cost ~15 ms there.
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
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


def scrub_keyshaped(text: str) -> str:
    """Redact every run of 64+ ``[A-Za-z0-9]`` characters that mixes upper and lower case.

    A key glued to other letters (``<key>backup.bin``) is inside a longer run, so the whole
    run is redacted: over-redacting a long identifier in a path is the safe side.

    The last line of defence for anything printed that is not a finding's own redacted form:
    paths, names, error messages, skipped-file lists. It also catches secrets that were
    filtered out (baseline, allow-list, confidence floor) and so are not known to a report.
    Hex digests (sha256, commit ids) never mix cases and pass through.
    """
    if len(text) < 64:
        return text
    import re

    def sub(m: re.Match[str]) -> str:
        run = m.group(0)
        has_digit = any(c.isdigit() for c in run)
        has_upper = any(c.isupper() for c in run)
        has_lower = any(c.islower() for c in run)
        return redact(run) if (has_digit + has_upper + has_lower) >= 2 and has_upper and has_lower else run

    return re.sub(r"[A-Za-z0-9]{64,}", sub, text)


def fingerprint(rule: str, secret: str) -> str:
    """A stable identity for a secret: no path, no line, so moves and renames keep it.

    The hash is salted with the rule id and a fixed prefix so that the baseline holds
    nothing that a plain sha256 lookup table could reverse.
    """
    import hashlib

    digest = hashlib.sha256(f"keytrap:v1:{rule}:{secret}".encode()).hexdigest()
    return digest[:32]


_FINDING_FIELDS = (
    "rule kind path line column confidence secret name encoding pair git_status commit extra"
)


class Finding(
    namedtuple(
        "Finding",
        _FINDING_FIELDS,
        defaults=(None, None, None, None, None, ()),
    )
):
    """One secret at one place. ``secret`` never leaves the process except as a hash.

    ``repr`` is redacted; still, never ``json.dumps`` a Finding or its ``_asdict()``: being a
    tuple, it would serialise the secret. Reporters build their documents field by field.
    """

    __slots__ = ()
    rule: str
    kind: Kind
    path: str
    line: int
    column: int
    confidence: Confidence
    secret: str
    name: str | None  # the variable/field name seen before the value, if any
    encoding: str | None  # "base64" when found inside an encoded value
    pair: str | None
    git_status: str | None
    commit: str | None
    extra: tuple[tuple[str, object], ...]

    def __repr__(self) -> str:  # never show the secret, even in a debugger or a test failure
        return (
            f"Finding({self.rule}, {self.kind}, {self.path}:{self.line}:{self.column}, "
            f"{self.confidence}, {self.secret_redacted})"
        )

    @property
    def secret_redacted(self) -> str:
        return redact(self.secret)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule, self.secret)

    def with_(self, **changes: object) -> Finding:
        return self._replace(**changes)

    def get(self, key: str, default: object = None) -> object:
        for k, v in self.extra:
            if k == key:
                return v
        return default

    def with_extra(self, **items: object) -> Finding:
        kept = tuple((k, v) for k, v in self.extra if k not in items)
        return self._replace(extra=kept + tuple(items.items()))


def printable(path: str) -> str:
    """``path`` as valid Unicode for a report: an undecodable file-name byte shows as U+FFFD."""
    if path.isascii():
        return path
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = path.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "replace")


def sort_key(f: Finding) -> tuple[str, int, int, str]:
    return (f.path, f.line, f.column, f.rule)


def pair_id(api_secret: str, secret_secret: str) -> str:
    """Pair ids are derived from both secrets, so the same pair gets the same id anywhere."""
    import hashlib

    return hashlib.sha256(f"keytrap:pair:{api_secret}:{secret_secret}".encode()).hexdigest()[:12]


class Skipped(namedtuple("Skipped", "path reason")):
    __slots__ = ()
    path: str
    reason: str


class ScanStats(
    namedtuple(
        "ScanStats",
        "files_scanned bytes_scanned skipped duration_s blobs_scanned commits notes unreadable",
        defaults=(0, 0, (), 0.0, 0, 0, (), 0),
    )
):
    """``unreadable``: objects in scope that could not be read (missing, as in a partial clone
    that fetches nothing, or corrupt); each is also in ``skipped``. History scans only."""

    __slots__ = ()
    files_scanned: int
    bytes_scanned: int
    skipped: tuple[Skipped, ...]
    duration_s: float
    blobs_scanned: int  # history scans only
    commits: int  # history scans only
    notes: tuple[str, ...]  # e.g. "shallow clone: history before X is not available"
    unreadable: int


def unreadable_summary(stats: ScanStats) -> str:
    """``3 objects in scope could not be read (2 missing: a partial clone, not fetched; 1 corrupt)``."""
    n = stats.unreadable
    corrupt = sum(s.reason.startswith("corrupt object") for s in stats.skipped)
    missing = sum(s.reason.startswith("missing object") for s in stats.skipped)
    partial = any(s.reason.endswith("(partial clone, not fetched)") for s in stats.skipped)
    parts = []
    if missing:
        parts.append(f"{missing} missing" + (": a partial clone, not fetched" if partial else ""))
    if corrupt:
        parts.append(f"{corrupt} corrupt")
    detail = f" ({'; '.join(parts)})" if parts else ""
    return f"{n} object{'s' if n != 1 else ''} in scope could not be read{detail}"


class ScanResult(namedtuple("ScanResult", "root findings stats mode", defaults=("worktree",))):
    """What every reporter renders. ``root`` is the folder paths are relative to.

    ``mode`` is one of worktree, history, staged, range.
    """

    __slots__ = ()
    root: str
    findings: tuple[Finding, ...]
    stats: ScanStats
    mode: str

    def printable(self) -> ScanResult:
        """The same result with every path valid Unicode (non-UTF-8 file names), for output."""
        stats = self.stats._replace(skipped=tuple(Skipped(printable(s.path), s.reason) for s in self.stats.skipped))
        findings = tuple(f._replace(path=printable(f.path)) for f in self.findings)
        return self._replace(root=printable(self.root), findings=findings, stats=stats)
