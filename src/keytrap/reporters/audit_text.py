"""``keytrap audit`` for a terminal: progress lines while repositories finish, then two tables
(secrets by severity, repositories). Plain text: every repository-made string has its control
characters escaped (no terminal escape sequence from a hostile path or branch name) and any
key-shaped run redacted."""

from __future__ import annotations

from typing import IO

from keytrap.audit.records import STATUS_FAILED, AuditResult
from keytrap.findings import scrub_keyshaped
from keytrap.safetext import show


def clean(text: object, limit: int = 0) -> str:
    """Printable, one line, key-shaped runs redacted; cut to ``limit`` characters (0: no cut)."""
    s = show(scrub_keyshaped(str(text)))  # redacted, then escaped (keytrap.safetext)
    if limit and len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def progress_line(done: int, total: int, target: str, status: str, blobs: int, blobs_per_s: float,
                  error: str | None = None) -> str:
    tail = f": {clean(error, 100)}" if error else ""
    return (f"[{done}/{total}] {status:<7} {clean(target, 70)} ({blobs:,} blobs scanned, "
            f"{blobs_per_s:,.0f} blobs/s){tail}")


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def _date(d: str | None) -> str:
    return d[:10] if d else "?"


def render(result: AuditResult, out: IO[str]) -> None:
    st = result.stats
    lines: list[str] = []
    verified = any(s.verification_status for s in result.secrets)
    lines.append(
        f"keytrap audit: {st.repos} repositories ({st.repos_scanned} scanned, {st.repos_failed} failed), "
        f"{st.secrets} secrets" + (f", {st.live} live" if verified else "")
        + f"; {st.blobs_scanned:,} of {st.blobs_total:,} blobs scanned in {st.duration_s:.1f}s"
    )
    lines.append("")
    if result.secrets:
        rows = []
        for s in result.secrets:
            exposure = "still at HEAD" if s.at_head else (f"removed {_date(s.removed_at)}" if s.removed_at else "not on HEAD")
            first = s.locations[0]
            rows.append([
                s.severity, s.kind, s.secret_redacted, s.verification_status or "-",
                str(len(s.repos)), _date(s.introduced_at), exposure,
                clean(f"{first.repo}:{first.path}:{first.line}", 70),
            ])
        lines += _table(rows, ["severity", "kind", "secret", "verified", "repos", "introduced", "exposure",
                               "first seen"])
        lines.append("")
        for s in result.secrets:
            lines.append(f"{s.severity.upper()} {s.kind} {s.secret_redacted} ({s.confidence} confidence)"
                         + (f": {clean(s.verification, 120)}" if s.verification else ""))
            for loc in s.locations:
                commit = (loc.commit or "")[:12] or "(unreachable)"
                head = "at HEAD" if loc.at_head else "not at HEAD"
                lines.append(f"    {clean(loc.repo, 60)}  {clean(loc.path, 60)}:{loc.line}  {commit}  "
                             f"{_date(loc.date)}  {head}")
        lines.append("")
    else:
        lines += ["No secrets found.", ""]
    rows = []
    for r in result.repos:
        found = len({f.key for f in r.findings})
        rows.append([
            clean(r.target, 60), r.status, f"{r.stats.blobs_scanned:,}/{r.stats.blobs_total:,}", str(found),
            f"{r.stats.duration_s:.2f}s", clean(r.error or "", 80),
        ])
    lines += _table(rows, ["repository", "status", "blobs new/total", "secrets", "time", "note"])
    failed = [r for r in result.repos if r.status == STATUS_FAILED]
    if failed:
        lines += ["", f"{len(failed)} repositories could not be audited (see 'note')."]
    for note in result.notes:
        lines.append(f"note: {clean(note)}")
    if result.secrets:
        lines += ["", "Delete every listed key in Binance API Management now: removing it from the code or "
                  "history does not make it safe; clones and forks keep it."]
    out.write("\n".join(lines) + "\n")
