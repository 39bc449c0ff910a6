"""keytrap's Python API: one typed function per surface, the same findings wherever it runs.

The command line (``cli.py``), the pre-commit hook (``hook.py``) and library users all call
these functions; they decide which sources run, merge their results, verify and assess. They
never print: rendering belongs to ``keytrap.reporters`` and to the front doors. Dependencies
point one way: front doors -> api -> sources / engine / reporters.

    >>> from keytrap import api
    >>> result = api.scan_paths(["."])
    >>> for f in result.findings:
    ...     print(f.path, f.line, f.kind, f.secret_redacted)

Heavy modules (history, verification, rich, GitPython) load inside the functions that use them,
so importing this module stays cheap for the hook.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from pathlib import Path

    from keytrap.audit.records import AuditResult
    from keytrap.audit.run import Progress as AuditProgress
    from keytrap.verify import Verification

    Progress = Callable[[int, int], None]

from keytrap.config import Config
from keytrap.errors import UsageError
from keytrap.findings import ScanResult

__all__ = [
    "Config",
    "ScanResult",
    "assess",
    "audit",
    "load_config",
    "merge_history_and_tree",
    "scan_data",
    "scan_history",
    "scan_paths",
    "scan_push",
    "scan_staged",
    "verify",
]


# --- settings ----------------------------------------------------------------------------------


def load_config(
    root: str | os.PathLike[str] = os.curdir,
    *,
    explicit: str | os.PathLike[str] | None = None,
    at_top: bool = False,
    min_confidence: str | None = None,
    max_file_size: int | None = None,
    exclude: Sequence[str] = (),
    baseline: str | os.PathLike[str] | None = None,
) -> Config:
    """Settings for a scan of ``root``: ``explicit``, else the root's ``.keytrap.toml`` /
    ``[tool.keytrap]``, else the repository top's; then the given overrides.

    ``at_top`` says ``root`` is already the repository top (the hook, ``--staged``).
    """
    from keytrap import config as cfg

    root = os.fspath(root)
    conf = cfg.load(root, explicit)
    if explicit is None and conf.source is None and not at_top:
        from keytrap.gitrun import find_top

        top = find_top(root)
        if top and os.path.realpath(top) != os.path.realpath(root):
            conf = cfg.load(top)
    changes: dict[str, object] = {}
    if min_confidence:
        changes["min_confidence"] = min_confidence
    if max_file_size:
        changes["max_file_size"] = max_file_size
    if exclude:
        changes["exclude"] = conf.exclude + tuple(exclude)
    if baseline is not None:
        from pathlib import Path

        from keytrap import baseline as bl

        changes["allow_fingerprints"] = conf.allow_fingerprints | bl.load(Path(baseline))
    return conf.with_(**changes) if changes else conf


# --- scans -------------------------------------------------------------------------------------


def _check_paths(paths: Sequence[str]) -> None:
    for p in paths:
        if not os.path.lexists(p):
            raise UsageError(f"path not found: {p}")


def scan_paths(
    paths: Sequence[str | os.PathLike[str]] = (os.curdir,),
    config: Config | None = None,
    *,
    progress: Progress | None = None,
    include_deps: bool = False,
) -> ScanResult:
    """Scan files and folders (the working tree). Findings in a git work tree carry their
    ``git_status`` (tracked, untracked, ignored). Virtualenvs, ``node_modules`` and tool caches
    met on the walk are skipped and listed unless ``include_deps``."""
    from keytrap.sources.files import default_root
    from keytrap.sources.files import scan_paths as _scan

    names = [os.fspath(p) for p in paths] or [os.curdir]
    _check_paths(names)
    root = default_root(names)
    conf = config if config is not None else load_config(root)
    return _with_git_status(_scan(names, root, conf, progress, include_deps), root, names)


def scan_data(data: bytes, name: str = "-", config: Config | None = None) -> ScanResult:
    """Scan one blob of bytes (``keytrap scan -`` reads it from stdin), reported as ``name``:
    the name also feeds the path hints (``prod.env`` reads as a settings file). Larger than
    ``max_file_size`` or binary: skipped and listed, as for a file."""
    import time

    from keytrap.engine import scan_bytes
    from keytrap.findings import ScanStats, Skipped
    from keytrap.sources.files import decode_for_scan

    started = time.perf_counter()
    conf = config if config is not None else load_config(os.curdir)
    skipped: tuple[Skipped, ...] = ()
    findings: list = []
    scanned = 0
    if len(data) > conf.max_file_size:
        skipped = (Skipped(name, f"larger than the {conf.max_file_size} byte limit"),)
    else:
        text = decode_for_scan(data)
        if text is None:
            skipped = (Skipped(name, "binary"),)
        else:
            scanned = len(text)
            findings = scan_bytes(text, name, conf)
    stats = ScanStats(
        files_scanned=0 if skipped else 1, bytes_scanned=scanned, skipped=skipped,
        duration_s=time.perf_counter() - started,
    )
    return ScanResult(os.curdir, tuple(findings), stats, "worktree")


def scan_staged(
    repo: str | os.PathLike[str] = os.curdir,
    config: Config | None = None,
    *,
    only: Iterable[str] | None = None,
) -> ScanResult:
    """Secrets new in what is staged (the index, not the working tree) of the repository
    holding ``repo``; with ``only``, just those files (their index content, scanned whole)."""
    from keytrap.sources import staged

    top = staged.repo_top(os.fspath(repo))
    conf = config if config is not None else load_config(top, at_top=True)
    return staged.scan_staged(top, conf, only=only)


def scan_history(
    repo: str | os.PathLike[str],
    config: Config | None = None,
    *,
    rev_range: str | None = None,
    since_commit: str | None = None,
    branch: str | None = None,
    include_worktree: bool = True,
    progress: Progress | None = None,
    jobs: int = 2,
) -> ScanResult:
    """The git history of ``repo``: every blob of every ref (default), a range ``BASE..HEAD``,
    ``REV..HEAD`` (``since_commit``) or one ``branch``. A full scan of a repository with a work
    tree also scans the work tree (``include_worktree``) and folds its hits into the history
    findings; a range never does (it is about commits)."""
    from pathlib import Path

    from keytrap.sources.gitcat import open_repo
    from keytrap.sources.history import scan_history as _history

    path = os.fspath(repo)
    _check_paths([path])
    if not os.path.isdir(path):
        raise UsageError("--history/--range take one repository folder as PATH")
    conf = config if config is not None else load_config(path)
    hist = _history(
        Path(path), conf, rev_range=rev_range, since_commit=since_commit, branch=branch,
        progress=progress, jobs=jobs,
    )
    if rev_range or since_commit or not include_worktree:
        return hist
    info = open_repo(path)
    if info.bare or info.work_tree is None:
        return hist  # a bare repository has no working tree to scan
    from keytrap.sources.files import scan_paths as _scan

    top = str(info.work_tree)  # history paths are repository-relative: match them
    tree = _with_git_status(_scan([path], top, conf), top, [path])
    return merge_history_and_tree(hist, tree)


def scan_push(
    repo: str | os.PathLike[str],
    ranges: Iterable[str],
    config: Config | None = None,
) -> ScanResult:
    """Secrets in commits about to be pushed: each ``BASE..TIP`` whose base exists here, or
    ``TIP`` alone (a new branch, or a remote tip we do not have): every commit of it not
    already on a remote. Each secret is reported once per push."""
    from pathlib import Path

    from keytrap.findings import ScanStats
    from keytrap.sources import staged
    from keytrap.sources.history import scan_history as _history

    top = staged.repo_top(os.fspath(repo))
    conf = config if config is not None else load_config(top, at_top=True)
    findings: list = []
    seen: set[str] = set()
    stats = ScanStats()
    for rev_range in ranges:
        base, _, tip = rev_range.rpartition("..")
        if base and staged.has_commit(top, base):
            result = _history(Path(top), conf, rev_range=rev_range)
        else:
            result = _history(Path(top), conf, new_to_remotes=tip)
        stats = result.stats
        for f in result.findings:
            if f.fingerprint not in seen:
                seen.add(f.fingerprint)
                findings.append(f)
    return ScanResult(top, tuple(findings), stats, "range")


def merge_history_and_tree(hist: ScanResult, tree: ScanResult) -> ScanResult:
    """One report: history findings (attributed to commits), then secrets that live only in
    the working tree (never committed: untracked or ignored files, or uncommitted edits).

    A working-tree hit whose secret is already in history is the same leak: it is folded into
    the history finding (which says whether the secret is still at HEAD) instead of repeated.
    """
    in_history = {f.fingerprint for f in hist.findings}
    findings = list(hist.findings)
    for f in tree.findings:
        if f.fingerprint not in in_history:
            findings.append(f.with_extra(location="working tree only"))
    stats = hist.stats
    merged = stats._replace(
        files_scanned=tree.stats.files_scanned,
        bytes_scanned=stats.bytes_scanned + tree.stats.bytes_scanned,
        skipped=stats.skipped + tree.stats.skipped,
        duration_s=stats.duration_s + tree.stats.duration_s,
    )
    return ScanResult(hist.root, tuple(findings), merged, hist.mode)


def _with_git_status(result: ScanResult, root: str, scan_paths: Sequence[str]) -> ScanResult:
    """Each working-tree finding's git status, asked of the repositories the scan paths are in."""
    if not result.findings:
        return result
    from keytrap.sources.gitstatus import statuses

    paths = {
        f.path: f.path if os.path.isabs(f.path) else os.path.join(root, f.path)
        for f in result.findings
        if not f.commit
    }
    status = statuses(paths.values(), scan_paths)
    findings = tuple(
        f.with_(git_status=status.get(paths[f.path])) if f.path in paths and not f.commit else f
        for f in result.findings
    )
    return result._replace(findings=findings)


# --- many repositories -------------------------------------------------------------------------


def audit(
    targets: Sequence[str | os.PathLike[str]] = (),
    config: Config | None = None,
    *,
    repos_file: str | os.PathLike[str] | None = None,
    github_org: str | None = None,
    gitlab_group: str | None = None,
    github_api_url: str | None = None,
    gitlab_api_url: str | None = None,
    skip_forks: bool = False,
    skip_archived: bool = False,
    cache: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    dask: str | None = None,
    verify: bool = False,
    binance_url: str | None = None,
    verify_timeout: float | None = None,
    progress: Callable[[AuditProgress], None] | None = None,
) -> AuditResult:
    """Audit many repositories' full histories: local repositories, folders of them, git URLs,
    a ``repos_file`` (one a line), a GitHub organisation or a GitLab group.

    Remote repositories are mirrored into ``cache`` (default ``$XDG_CACHE_HOME/keytrap``) and
    fetched on later runs; each run scans only the blobs the cache has not seen. Repositories
    run in a local process pool (``jobs``, default: the available cores) or, with ``dask``
    (a scheduler address or ``"local"``), on a Dask cluster. Every secret comes back once, with
    all its locations (see ``keytrap.audit.records``); no record holds a secret. The audited
    repositories' own ``.keytrap.toml`` files are never read: ``config`` (default: the current
    folder's settings) applies to all of them.
    """
    from keytrap.audit.run import audit as _audit

    conf = config if config is not None else load_config(os.curdir, at_top=True)
    return _audit(
        [os.fspath(t) for t in targets], config=conf,
        repos_file=os.fspath(repos_file) if repos_file is not None else None,
        github_org=github_org, gitlab_group=gitlab_group, github_api_url=github_api_url,
        gitlab_api_url=gitlab_api_url, skip_forks=skip_forks, skip_archived=skip_archived,
        cache=os.fspath(cache) if cache is not None else None, jobs=jobs, dask=dask,
        verify=verify, binance_url=binance_url, verify_timeout=verify_timeout, progress=progress,
    )


# --- verification and assessment ---------------------------------------------------------------


def verify(
    result: ScanResult,
    *,
    base_url: str | None = None,
    testnet_url: str | None = None,
    futures_testnet_url: str | None = None,
    demo_url: str | None = None,
    timeout: float | None = None,
    deadline: float | None = None,
) -> dict[str, Verification]:
    """Opt-in: one signed read-only request per key pair found in ``result``, first on the
    network its context names, then on the others only when that one says "no such key" (see
    ``keytrap.verify``). URLs default to the ``KEYTRAP_BINANCE_*_URL`` environment variables,
    then to Binance's hosts. Returns pair id -> verdict; nothing is sent unless this is called."""
    from keytrap import verify as v

    urls = v.resolve_urls(
        {"mainnet": base_url, "testnet": testnet_url, "futures-testnet": futures_testnet_url, "demo": demo_url}
    )
    return v.verify_pairs(
        v.credentials_from_findings(result.findings),
        urls=urls,
        timeout=timeout if timeout is not None else v.DEFAULT_TIMEOUT,
        deadline=deadline if deadline is not None else v.DEFAULT_DEADLINE,
    )


def assess(result: ScanResult, verifications: Mapping[str, Verification] | None = None) -> ScanResult:
    """Attach severity, remediation and (when given) verification to every finding; every
    output format carries them."""
    if not result.findings:
        return result
    from keytrap import remediation

    out = []
    for f in result.findings:
        v = None
        if verifications is not None:
            from keytrap.verify import verification_for

            v = verification_for(f, verifications)
        a = remediation.assess(f, v)
        extra: dict[str, object] = {"severity": a.severity, "actions": list(a.actions)}
        if v is not None:
            from keytrap.verify import finding_extras

            extra.update(finding_extras(v))
        out.append(f.with_extra(**extra))
    return result._replace(findings=tuple(out))
