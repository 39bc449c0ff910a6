"""One repository of an audit: clone or fetch it, scan what is new, merge with the last audit.

:func:`audit_repo` is what a pool worker or a Dask worker runs. It takes a :class:`RepoTask`
(no secrets, no tokens) and returns a :class:`RepoReport` (no secrets); everything it learns is
also written to the cache, so an interrupted audit resumes with the repositories it finished.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import keytrap
from keytrap import gitrun
from keytrap.audit.cache import Cache, RepoState, config_digest, default_dir
from keytrap.audit.records import (
    STATUS_FAILED,
    STATUS_SCANNED,
    RepoFinding,
    RepoReport,
    RepoStats,
)
from keytrap.audit.targets import Target, is_repository, redact_credentials
from keytrap.config import Config
from keytrap.errors import KeytrapError
from keytrap.findings import CONFIDENCE_RANK, Finding, printable, scrub_keyshaped
from keytrap.gitrun import Location

#: Blob ids kept per secret (to tell later whether it is still at HEAD).
MAX_BLOB_IDS = 2000


@dataclass(frozen=True, slots=True)
class RepoTask:
    target: Target
    config: Config
    cache_dir: str | None = None  # None: the default of the machine that runs the task
    scan_jobs: int = 1  # history scan worker processes for this repository
    timeout: float | None = None  # seconds for one clone or fetch


def audit_repo(task: RepoTask) -> RepoReport:
    """Never raises for a repository problem: a failure is a report with status "failed"."""
    started = time.perf_counter()
    target = task.target
    try:
        cache = Cache(task.cache_dir or default_dir())
        cache.ensure()
        with cache.lock(target.key):
            return _audit(task, cache, started)
    except KeytrapError as exc:
        return _failed(target, str(exc), started)
    except subprocess.TimeoutExpired:
        return _failed(target, "timed out", started)
    except OSError as exc:
        return _failed(target, f"{exc.strerror or exc}", started)
    except Exception as exc:  # noqa: BLE001 - one repository must not stop an audit
        return _failed(target, f"internal error: {type(exc).__name__}: {exc}", started)


def _failed(target: Target, why: str, started: float) -> RepoReport:
    why = scrub_keyshaped(redact_credentials(why, target.url)).strip().splitlines()
    return RepoReport(
        target=target.name, status=STATUS_FAILED, error=(why[0] if why else "failed")[:500],
        stats=RepoStats(duration_s=time.perf_counter() - started), key=target.key,
        host=socket.gethostname(),
    )


def _first_line(err: bytes) -> str:
    for line in err.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("fatal: ").removeprefix("error: ")
    return ""


def _header(target: Target) -> tuple[str, str] | None:
    if not target.auth or not target.auth_prefix:
        return None
    from keytrap.audit.forges import token_header

    value = token_header(target.auth)
    return (target.auth_prefix, value) if value else None


def _mirror(task: RepoTask, cache: Cache) -> tuple[Location, str | None, float]:
    """Clone or fetch the mirror of a remote target: (location, warning, seconds)."""
    target = task.target
    assert target.url is not None
    path = cache.mirror(target.key)
    t0 = time.perf_counter()
    header = _header(target)
    if gitrun.looks_like_git_dir(path):
        try:
            proc = gitrun.fetch_mirror(path, target.url, timeout=task.timeout, http_header=header)
            warning = None if proc.returncode == 0 else f"fetch failed: {_first_line(proc.stderr) or 'exit ' + str(proc.returncode)}"
        except subprocess.TimeoutExpired:
            warning = "fetch timed out"
        if warning:
            warning = redact_credentials(warning, target.url) + "; scanned the mirror from the last audit"
        return Location(git_dir=path), warning, time.perf_counter() - t0
    tmp = tempfile.mkdtemp(prefix=f".{target.key}.", suffix=".tmp", dir=os.path.dirname(path))
    dest = os.path.join(tmp, "mirror.git")
    try:
        proc = gitrun.clone_mirror(target.url, dest, timeout=task.timeout, http_header=header)
        if proc.returncode != 0:
            raise KeytrapError(f"clone failed: {_first_line(proc.stderr) or 'exit ' + str(proc.returncode)}")
        if os.path.isdir(path):  # a broken leftover that is not a repository
            shutil.rmtree(path)
        os.replace(dest, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Location(git_dir=path), None, time.perf_counter() - t0


def _local(target: Target) -> Location:
    path = target.path or "."
    if not os.path.lexists(path):
        raise KeytrapError("path not found")
    if not os.path.isdir(path) or not is_repository(path):
        raise KeytrapError("not a git repository")
    if os.path.lexists(os.path.join(path, ".git")):
        return Location(top=path)
    return Location(git_dir=path)


def _audit(task: RepoTask, cache: Cache, started: float) -> RepoReport:
    from keytrap.sources.history import BlobLedger, scan_history

    target = task.target
    warning = None
    fetch_s = 0.0
    if target.remote:
        loc, warning, fetch_s = _mirror(task, cache)
    else:
        loc = _local(target)
    digest = config_digest(task.config, keytrap.__version__)
    state, seen = cache.load(target.key, digest)
    store = _store_id(loc)
    if state is not None and store and state.store == store:
        # nothing changed since the last audit (same refs, same objects): its findings stand
        stats = replace(state.stats, blobs_scanned=0, bytes_scanned=0, fetch_s=fetch_s, incremental=True,
                        duration_s=time.perf_counter() - started)
        return RepoReport(target=target.name, status=STATUS_SCANNED, error=_unread(warning, stats.unreadable),
                          stats=stats,
                          findings=tuple(state.findings), key=target.key, head=state.head,
                          location=loc.path, host=socket.gethostname())
    ledger = BlobLedger(skip=frozenset(seen))
    result = scan_history(loc, task.config, jobs=max(1, task.scan_jobs), ledger=ledger)

    head = _rev(loc, "HEAD")
    head_blobs = _head_blobs(loc)
    fresh = [_record(f, ledger.holding.get((f.fingerprint, f.kind), ())) for f in result.findings]
    merged = _merge(state.findings if state else [], fresh)
    merged = [replace(f, at_head=bool(head_blobs is not None and head_blobs.intersection(f.blob_ids)))
              if f.blob_ids else f for f in merged]
    previous_head = state.head if state else None
    merged = _removals(loc, merged, head, previous_head)

    listed = seen | ledger.listed
    stats = RepoStats(
        blobs_scanned=result.stats.blobs_scanned,
        blobs_total=len(listed),
        bytes_scanned=result.stats.bytes_scanned,
        commits=result.stats.commits,
        duration_s=time.perf_counter() - started,
        fetch_s=fetch_s,
        incremental=state is not None,
        unreadable=result.stats.unreadable,
    )
    if result.stats.unreadable:
        from keytrap.findings import unreadable_summary

        warning = "; ".join(w for w in (warning, unreadable_summary(result.stats)) if w)
    merged.sort(key=lambda f: (_ts(f.date), f.path, f.line, f.kind, f.fingerprint))
    new_state = RepoState(target=target.name, digest=digest, head=head, findings=merged, stats=stats,
                          updated=datetime.now(timezone.utc).isoformat(timespec="seconds"), store=store or "")
    cache.save(target.key, new_state, listed)
    return RepoReport(
        target=target.name, status=STATUS_SCANNED, error=warning, stats=stats, findings=tuple(merged),
        key=target.key, head=head, location=loc.path, host=socket.gethostname(),
    )


def _unread(warning: str | None, unreadable: int) -> str | None:
    """The note of a repository whose unchanged store still lacks objects an earlier audit
    could not read: the audit goes on past them (one must not hide the rest), never silently."""
    if not unreadable:
        return warning
    note = f"{unreadable} object{'s' if unreadable != 1 else ''} in scope could not be read"
    return "; ".join(w for w in (warning, note) if w)


# --- records -----------------------------------------------------------------------------------


def _record(f: Finding, blobs: Iterable[str]) -> RepoFinding:
    ids = tuple(sorted(blobs))[:MAX_BLOB_IDS]
    date = f.get("commit_date")
    return RepoFinding(
        fingerprint=f.fingerprint, rule=f.rule, kind=f.kind, confidence=f.confidence,
        secret_redacted=f.secret_redacted, path=scrub_keyshaped(printable(f.path)), line=f.line,
        column=f.column, commit=f.commit, date=str(date) if date else None,
        at_head=bool(f.get("at_head")), reachable=bool(f.get("reachable", True)), pair=f.pair,
        network=_opt_str(f.get("network")), name=f.name, encoding=f.encoding,
        blob=_opt_str(f.get("blob")), blob_ids=ids,
        occurrences=int(f.get("occurrences") or 1), commits=int(f.get("commits") or 1),
    )


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _ts(date: str | None) -> float:
    """Seconds since the epoch for an ISO 8601 date; unknown dates sort last."""
    if not date:
        return float("inf")
    try:
        return datetime.fromisoformat(date).timestamp()
    except ValueError:
        return float("inf")


def _merge(old: list[RepoFinding], new: list[RepoFinding]) -> list[RepoFinding]:
    """The last audit's findings and this run's: one per secret, at its oldest introduction."""
    out: dict[tuple[str, str], RepoFinding] = {f.key: f for f in old}
    for f in new:
        prev = out.get(f.key)
        if prev is None:
            out[f.key] = f
            continue
        first, other = (prev, f) if _ts(prev.date) <= _ts(f.date) else (f, prev)
        best = max((prev.confidence, f.confidence), key=CONFIDENCE_RANK.__getitem__)
        out[f.key] = replace(
            first,
            confidence=best,
            pair=first.pair or other.pair,
            network=first.network or other.network,
            blob_ids=tuple(sorted(set(first.blob_ids) | set(other.blob_ids)))[:MAX_BLOB_IDS],
            occurrences=first.occurrences + other.occurrences,
            commits=first.commits + other.commits,
            reachable=first.reachable or other.reachable,
        )
    return list(out.values())


# --- git facts -----------------------------------------------------------------------------------


def _rev(loc: Location, rev: str) -> str | None:
    proc = gitrun.run(loc, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def _store_id(loc: Location) -> str | None:
    """A digest of every ref (HEAD included) and of the object store's counts (loose objects,
    packs, sizes): equal digests mean the repository has not changed. Taken before the scan, so
    anything that arrives during it is seen next time. None when git cannot tell."""
    import hashlib

    refs = gitrun.run(loc, "show-ref", "--head")
    objs = gitrun.run(loc, "count-objects", "-v")
    if objs.returncode != 0 or refs.returncode not in (0, 1):
        return None
    return hashlib.sha256(refs.stdout + b"\0" + objs.stdout).hexdigest()


def _head_blobs(loc: Location) -> set[str] | None:
    from keytrap.sources.history import _head_blobs as head_blobs

    found = head_blobs(loc)
    return found[0] if found is not None else None


def _removals(loc: Location, findings: list[RepoFinding], head: str | None,
              previous_head: str | None) -> list[RepoFinding]:
    """When each secret that is no longer at HEAD left it: the newest commit on HEAD's
    first-parent line that replaced or deleted a blob holding it. One ``git log`` pass, run only
    when some secret needs it; the last audit's answers are kept while HEAD has not moved."""
    need = {f.key for f in findings if not f.at_head and f.reachable and f.blob_ids
            and not (previous_head == head and f.removed_commit)}
    if head is None or not need:
        return [f if not f.at_head else replace(f, removed_commit=None, removed_at=None) for f in findings]
    holders: dict[str, list[tuple[str, str]]] = {}
    blobsets = {f.key: set(f.blob_ids) for f in findings if f.key in need}
    for key, ids in blobsets.items():
        for oid in ids:
            holders.setdefault(oid, []).append(key)
    found: dict[tuple[str, str], tuple[str, str]] = {}
    proc = gitrun.popen(loc, "log", "--first-parent", "--raw", "--no-renames", "--no-abbrev", "-z",
                        "--no-color", "--no-ext-diff", "--no-textconv", "--no-show-signature",
                        "--format=%x01%H %aI", "HEAD", "--", stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    commit = date = ""
    meta: bytes | None = None
    try:
        from keytrap.sources.history import _tokens

        for token in _tokens(proc.stdout):
            if meta is not None:  # the path after a raw line
                meta = None
                continue
            if token[:1] == b"\x01":
                commit, _, date = token[1:].decode("ascii", "replace").strip().partition(" ")
                continue
            token = token.lstrip(b"\n")
            if token[:1] != b":":
                continue
            meta = token
            fields = token[1:].split(b" ")
            if len(fields) < 4:
                continue
            src, dst = fields[2].decode("ascii", "replace"), fields[3].decode("ascii", "replace")
            for key in holders.get(src, ()):
                if key not in found and dst not in blobsets[key]:
                    found[key] = (commit, date)
            if len(found) == len(need):
                break
    finally:
        with contextlib.suppress(OSError):
            proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    out = []
    for f in findings:
        if f.at_head:
            out.append(replace(f, removed_commit=None, removed_at=None))
        elif f.key in need:
            commit_date = found.get(f.key)
            out.append(replace(f, removed_commit=commit_date[0] if commit_date else None,
                               removed_at=commit_date[1] if commit_date else None))
        else:
            out.append(f)
    return out


# --- verification: read a secret again where it was found -----------------------------------------


def recover_pairs(location: str, specs: list[tuple[str, list[RepoFinding]]],
                  config: Config) -> list[Finding]:
    """The findings (secrets included) of each pair's halves, read again from the blobs that hold
    them (each blob rescanned under its path). A half that cannot be read is left out."""
    from keytrap.sources.content import scan_blob
    from keytrap.sources.gitcat import CatFile

    loc = Location(git_dir=location) if gitrun.looks_like_git_dir(location) else Location(top=location)
    floor = config.with_(min_confidence="low")
    out: list[Finding] = []
    with CatFile(loc) as cat:
        for pid, halves in specs:
            for half in halves:
                for oid in ([half.blob] if half.blob else []) + [b for b in half.blob_ids[:5] if b != half.blob]:
                    blob = cat.read(oid)
                    if blob.data is None:
                        continue
                    path = "" if half.path.startswith("(unreachable") else half.path
                    hit = next((f for f in scan_blob(blob.data, path, floor).findings
                                if f.fingerprint == half.fingerprint and f.kind == half.kind), None)
                    if hit is not None:
                        out.append(hit.with_(pair=pid))
                        break
    return out


def verify_here(location: str, specs: list[tuple[str, list[RepoFinding]]], config: Config,
                urls: dict[str, str], timeout: float, deadline: float) -> dict[str, object]:
    """Read the pairs again and verify them from this machine, on every network their context
    allows (see ``keytrap.verify``): pair id -> Verification. The secrets never leave the
    process that read them."""
    from keytrap import verify as v

    creds = v.credentials_from_findings(recover_pairs(location, specs, config))
    found = {c.pid for c in creds}
    results: dict[str, object] = dict(
        v.verify_pairs(creds, urls=urls, timeout=timeout, deadline=deadline)
    )
    for pid, _halves in specs:
        if pid not in found:
            results[pid] = v.NO_PAIR  # a half could not be read again
    return results
