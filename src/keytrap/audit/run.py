"""The orchestration behind :func:`keytrap.api.audit`: targets in, one :class:`AuditResult` out.

1. Targets: paths, folders, URLs, ``--repos`` lists and forge listings, deduplicated.
2. Repositories: a local process pool (default) or Dask, one task per repository; each task
   scans only the blobs its cache has not seen and returns findings without secrets.
3. Secrets: findings of all repositories grouped by secret (fingerprint + kind), locations
   ordered by introduction date.
4. ``verify``: each distinct key pair is read again from one repository that holds it, on the
   machine that holds it, and checked once; severity comes from :mod:`keytrap.remediation`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from keytrap.audit import targets as tg
from keytrap.audit.records import (
    STATUS_FAILED,
    STATUS_SCANNED,
    AuditResult,
    AuditStats,
    RepoFinding,
    RepoReport,
    RepoStats,
    Secret,
    SecretLocation,
)
from keytrap.audit.worker import RepoTask, _ts
from keytrap.config import Config
from keytrap.childproc import available_cores
from keytrap.errors import UsageError
from keytrap.findings import CONFIDENCE_RANK, Finding


@dataclass(frozen=True, slots=True)
class Progress:
    """What a progress callback is told each time a repository finishes."""

    done: int
    total: int
    report: RepoReport
    blobs_scanned: int  # so far, all repositories
    elapsed_s: float

    @property
    def blobs_per_s(self) -> float:
        return self.blobs_scanned / self.elapsed_s if self.elapsed_s > 0 else 0.0


def collect_targets(
    specs: Sequence[str], *, repos_file: str | None = None, github_org: str | None = None,
    gitlab_group: str | None = None, github_api_url: str | None = None,
    gitlab_api_url: str | None = None, skip_forks: bool = False, skip_archived: bool = False,
) -> tuple[list[tg.Target], list[RepoReport], list[str]]:
    """(targets, reports for entries that cannot be audited at all, notes)."""
    from keytrap.audit import forges

    entries = list(specs)
    if repos_file:
        entries += tg.read_list(repos_file)
    targets: list[tg.Target] = []
    bad: list[RepoReport] = []
    notes: list[str] = []
    for spec in entries:
        try:
            targets += tg.from_spec(spec)
        except UsageError as exc:
            name = tg.strip_credentials(spec) if tg.is_url(spec) else spec
            bad.append(RepoReport(target=name, status=STATUS_FAILED, error=str(exc)))
    if github_org:
        found, more = forges.github_org(github_org, api_url=github_api_url, skip_forks=skip_forks,
                                        skip_archived=skip_archived)
        targets += found
        notes += more
    if gitlab_group:
        found, more = forges.gitlab_group(gitlab_group, api_url=gitlab_api_url, skip_forks=skip_forks,
                                          skip_archived=skip_archived)
        targets += found
        notes += more
    if skip_forks or skip_archived:
        kept = [t for t in targets if not ((skip_forks and t.fork) or (skip_archived and t.archived))]
        targets = kept
    return tg.dedupe(targets), bad, notes


def audit(
    specs: Sequence[str] = (),
    *,
    config: Config,
    repos_file: str | None = None,
    github_org: str | None = None,
    gitlab_group: str | None = None,
    github_api_url: str | None = None,
    gitlab_api_url: str | None = None,
    skip_forks: bool = False,
    skip_archived: bool = False,
    cache: str | None = None,
    jobs: int | None = None,
    scan_jobs: int | None = None,
    dask: str | None = None,
    verify: bool = False,
    binance_url: str | None = None,
    verify_timeout: float | None = None,
    timeout: float | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> AuditResult:
    started_wall = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    if jobs is not None and jobs < 1:
        raise UsageError("--jobs must be at least 1")
    urls: dict[str, str] = {}
    if verify:
        from keytrap import verify as v

        urls = v.resolve_urls({"mainnet": binance_url})  # a bad URL fails before any work
    targets, bad, notes = collect_targets(
        specs, repos_file=repos_file, github_org=github_org, gitlab_group=gitlab_group,
        github_api_url=github_api_url, gitlab_api_url=gitlab_api_url, skip_forks=skip_forks,
        skip_archived=skip_archived,
    )
    if not targets and not bad:
        raise UsageError("nothing to audit: give a TARGET, --repos FILE, --github-org or --gitlab-group")
    cache_dir = os.path.abspath(os.path.expanduser(cache)) if cache else None
    cores = available_cores()
    jobs = jobs or cores

    backend = None
    if dask:
        from keytrap.audit.distributed import DaskBackend

        backend = DaskBackend(dask, jobs)
    try:
        parallel = min(backend.workers if backend else jobs, max(1, len(targets)))
        per_repo = scan_jobs or max(1, cores // parallel)
        if cache_dir is None and backend is None:
            from keytrap.audit.cache import default_dir

            cache_dir = default_dir()
        tasks = [RepoTask(t, config, cache_dir, per_repo, timeout) for t in targets]
        reports: dict[str, RepoReport] = {}
        blobs = 0
        total = len(tasks)
        stream = backend.run(tasks) if backend else _local(tasks, jobs)
        for report in stream:
            reports[report.key] = report
            blobs += report.stats.blobs_scanned
            if progress is not None:
                progress(Progress(len(reports), total, report, blobs, time.perf_counter() - t0))
        ordered = [reports.get(t.key) or RepoReport(t.name, STATUS_FAILED, "no result", key=t.key)
                   for t in targets] + bad
        verifications = None
        if verify:
            verifications = _verify(ordered, config, urls, verify_timeout, backend)
    finally:
        if backend is not None:
            backend.close()
    secrets = build_secrets(ordered, verifications)
    scanned = [r for r in ordered if r.status == STATUS_SCANNED]
    stats = AuditStats(
        repos=len(ordered), repos_scanned=len(scanned), repos_failed=len(ordered) - len(scanned),
        secrets=len(secrets), live=sum(1 for s in secrets if s.live),
        blobs_scanned=sum(r.stats.blobs_scanned for r in scanned),
        blobs_total=sum(r.stats.blobs_total for r in scanned),
        bytes_scanned=sum(r.stats.bytes_scanned for r in scanned),
        duration_s=time.perf_counter() - t0, jobs=parallel, backend="dask" if dask else "local",
    )
    return AuditResult(tuple(ordered), secrets, stats, started_wall.isoformat(timespec="seconds"),
                       tuple(notes))


def _local(tasks: list[RepoTask], jobs: int):  # -> Iterator[RepoReport]
    from keytrap.audit.pool import run_local

    return run_local(tasks, jobs)


# --- secrets ---------------------------------------------------------------------------------------


def build_secrets(reports: Sequence[RepoReport], verifications: dict | None = None) -> tuple[Secret, ...]:
    """One entry per secret (fingerprint + kind) over every scanned repository, locations in
    order of introduction; worst severity first."""
    from keytrap import remediation

    groups: dict[tuple[str, str], list[tuple[RepoReport, RepoFinding]]] = {}
    for r in reports:
        if r.status != STATUS_SCANNED:
            continue
        for f in r.findings:
            groups.setdefault(f.key, []).append((r, f))
    out: list[Secret] = []
    for (fp, kind), items in groups.items():
        items.sort(key=lambda rf: (_ts(rf[1].date), rf[0].target, rf[1].path, rf[1].line))
        first = items[0][1]
        best = max((f.confidence for _, f in items), key=CONFIDENCE_RANK.__getitem__)
        pair = next((f.pair for _, f in items if f.pair), None)
        network = next((f.network for _, f in items if f.network), None)
        locations = tuple(
            SecretLocation(repo=r.target, commit=f.commit, path=f.path, line=f.line, at_head=f.at_head,
                           date=f.date, removed_at=f.removed_at, column=f.column)
            for r, f in items
        )
        at_head = any(loc.at_head for loc in locations)
        removed = None if at_head else max((loc.removed_at for loc in locations if loc.removed_at),
                                            key=_ts, default=None)
        proxy = Finding(first.rule, kind, first.path, first.line, first.column, best, "",
                        pair=pair, commit=first.commit or "(object store)")
        v = None
        if verifications is not None:
            from keytrap.verify import verification_for

            v = verification_for(proxy, verifications)
        a = remediation.assess(proxy, v)
        out.append(Secret(
            kind=kind, fingerprint=fp, secret_redacted=first.secret_redacted, rule=first.rule,
            confidence=best, severity=a.severity, network=network,
            verification_status=v.status if v is not None else None,
            verification=v.summary() if v is not None else None, pair=pair,
            repos=tuple(dict.fromkeys(loc.repo for loc in locations)), locations=locations,
            introduced_at=first.date, removed_at=removed, at_head=at_head,
        ))
    rank = remediation.SEVERITY_RANK
    out.sort(key=lambda s: (-rank[s.severity], _ts(s.introduced_at), s.kind, s.fingerprint))
    return tuple(out)


def _verify(reports: list[RepoReport], config: Config, urls: dict[str, str], timeout: float | None,
            backend: object | None) -> dict:
    """One request per distinct pair per network asked (as ``scan --verify``: HMAC secrets and
    Ed25519/RSA private keys, the context's network first), at most ``verify.MAX_PAIRS`` pairs,
    within one ``verify.DEFAULT_DEADLINE`` for the whole phase; each pair is read again from the
    first repository that holds both halves."""
    from keytrap import verify as v
    from keytrap.audit.worker import verify_here

    chosen: dict[str, tuple[RepoReport, list[RepoFinding]]] = {}
    for r in reports:
        if r.status != STATUS_SCANNED or not r.location:
            continue
        halves: dict[str, dict[str, RepoFinding]] = {}
        for f in r.findings:
            if f.pair and f.kind in ("api_key", "secret_key", "private_key"):
                halves.setdefault(f.pair, {}).setdefault(f.kind, f)
        for pid, parts in halves.items():
            complete = "api_key" in parts and ("secret_key" in parts or "private_key" in parts)
            if pid not in chosen and complete and len(chosen) < v.MAX_PAIRS:
                chosen[pid] = (r, list(parts.values()))
    by_repo: dict[str, tuple[RepoReport, list]] = {}
    for pid, (r, halves_) in chosen.items():
        by_repo.setdefault(r.key, (r, []))[1].append((pid, halves_))
    results: dict = {}
    per = timeout if timeout is not None else v.DEFAULT_TIMEOUT
    end = time.monotonic() + v.DEFAULT_DEADLINE
    for r, specs in by_repo.values():
        left = max(0.0, end - time.monotonic())
        if backend is not None:
            results.update(backend.verify(r.host, r.location, specs, config, urls, per, left))  # type: ignore[attr-defined]
        else:
            results.update(verify_here(r.location or "", specs, config, urls, per, left))
    return results



__all__ = ["Progress", "audit", "available_cores", "build_secrets", "collect_targets", "RepoStats"]
