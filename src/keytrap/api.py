"""keytrap's Python API: one typed function per surface, the same findings wherever it runs.

The command line (``cli.py``), the pre-commit hook (``hook.py``) and library users all call
these functions; they decide which sources run, merge their results, verify and assess. They
never print: rendering belongs to ``keytrap.reporters`` and to the front doors. Dependencies
point one way: front doors -> api -> sources / engine / reporters.

    >>> from keytrap import api
    >>> result = api.scan_paths(["."])
    >>> for f in result.findings:
    ...     print(f.path, f.line, f.kind, f.secret_redacted)

Heavy modules (history, verification, rich) load inside the functions that use them,
so importing this module stays cheap for the hook.
"""

from __future__ import annotations

import os
from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from pathlib import Path

    from keytrap.audit.records import AuditResult
    from keytrap.audit.run import Progress as AuditProgress
    from keytrap.gitrun import Location
    from keytrap.sources.history import RangePlan
    from keytrap.verify import Verification

    Progress = Callable[[int, int], None]

from keytrap.config import Config
from keytrap.errors import GitError, UsageError
from keytrap.findings import ScanResult

__all__ = [
    "Config",
    "ConfigOptions",
    "ScanResult",
    "assess",
    "audit",
    "load_config",
    "load_config_at",
    "merge_history_and_tree",
    "scan_data",
    "scan_history",
    "scan_paths",
    "scan_push",
    "scan_staged",
    "verify",
]


# --- settings ----------------------------------------------------------------------------------


class ConfigOptions(
    namedtuple(
        "ConfigOptions",
        "explicit no_config min_confidence max_file_size exclude baseline",
        defaults=(None, False, None, None, (), None),
    )
):
    """What a caller asks of the settings: an explicit config file (or ``no_config``: defaults
    only, no config file, no default baseline), a baseline file, and overrides. The same
    request is answered from the working tree (:func:`load_config`) or from a commit
    (:func:`load_config_at`)."""

    __slots__ = ()
    explicit: str | None
    no_config: bool
    min_confidence: str | None
    max_file_size: int | None
    exclude: tuple[str, ...]
    baseline: str | None

    @classmethod
    def from_args(cls, args: object) -> ConfigOptions:
        """From parsed command-line options (``--config``, ``--no-config``, ``--min-confidence``,
        ``--max-size``, ``--exclude``, ``--baseline``); missing ones keep their defaults."""
        return cls(
            explicit=getattr(args, "config", None),
            no_config=bool(getattr(args, "no_config", False)),
            min_confidence=getattr(args, "min_confidence", None),
            max_file_size=getattr(args, "max_size", None),
            exclude=tuple(getattr(args, "exclude", None) or ()),
            baseline=getattr(args, "baseline", None),
        )


def load_config(
    root: str | os.PathLike[str] = os.curdir,
    *,
    explicit: str | os.PathLike[str] | None = None,
    at_top: bool = False,
    min_confidence: str | None = None,
    max_file_size: int | None = None,
    exclude: Sequence[str] = (),
    baseline: str | os.PathLike[str] | None = None,
    no_config: bool = False,
    default_baseline: bool = True,
) -> Config:
    """Settings for a scan of ``root`` from the working tree: ``explicit``, else the root's
    ``.keytrap.toml`` / ``[tool.keytrap]``, else the repository top's (none with ``no_config``);
    then the baseline: ``baseline``, else the config's ``baseline = "path"``, else a
    ``.keytrap-baseline.json`` in the root or at the repository top if there is one (none with
    ``no_config``); then the given overrides. ``Config.describe()`` says what was applied.

    ``at_top`` says ``root`` is already the repository top (the hook, ``--staged``). A named
    baseline that does not exist is an error, unless it is the default one. Without
    ``default_baseline`` only a ``baseline`` given here applies (``keytrap baseline`` itself).
    """
    from keytrap import config as cfg
    from keytrap.gitrun import find_top

    root = os.fspath(root)
    if no_config and explicit is not None:
        raise UsageError("--config and --no-config cannot be combined")
    top = root if at_top else find_top(root)
    if no_config:
        conf = cfg.DEFAULT
    else:
        conf = cfg.load(root, explicit)
        if explicit is None and conf.source is None and top and os.path.realpath(top) != os.path.realpath(root):
            conf = cfg.load(top)
    what = [_shown(conf.source) if conf.source else "defaults" + (" (--no-config)" if no_config else "")]
    folder = root if os.path.isdir(root) else os.path.dirname(root) or os.curdir
    defaults = [os.path.join(f, _BASELINE) for f in dict.fromkeys(x for x in (folder, top) if x)]
    path: str | None = None
    required = True
    if baseline is not None:
        path = os.fspath(baseline)
        required = not any(os.path.abspath(path) == os.path.abspath(d) for d in defaults)
    elif conf.baseline and default_baseline and not no_config:
        path = os.path.join(conf.base or folder, conf.baseline)
    elif default_baseline and not no_config:
        path = next((d for d in defaults if os.path.isfile(d)), None)
    prints: frozenset[str] = frozenset()
    if path is not None:
        if required or os.path.lexists(path):
            from pathlib import Path

            from keytrap import baseline as bl

            prints = bl.load(Path(path))
            what.append(f"baseline {_shown(path)}")
        else:
            what.append(f"no baseline ({_shown(path)} does not exist yet)")
    return _overridden(conf, min_confidence, max_file_size, exclude, prints, ", ".join(what))


def load_config_at(
    repo: str | os.PathLike[str],
    rev: str | None,
    *,
    head: str | None = None,
    options: ConfigOptions | None = None,
    why: str | None = None,
) -> Config:
    """Settings for a range scan, read from commit ``rev`` (the base side) through git, never
    from the working tree: ``.keytrap.toml`` / ``[tool.keytrap]`` and the baseline at the top of
    its tree (``options.explicit`` / ``options.baseline`` paths inside the repository are read
    from ``rev`` too; paths outside it are the caller's own files, read from disk). ``rev`` None:
    no base side exists, the defaults apply.

    With ``head``, the commits under review are compared with ``rev``: a config file or baseline
    they change is named in ``Config.notes`` (it was not applied). ``why`` says, with ``rev``
    None, why no commit's settings apply (shown in ``Config.describe()``).
    """
    from keytrap import baseline as bl
    from keytrap import config as cfg
    from keytrap.sources.committed import CONFIG_FILE, PYPROJECT, read_at
    from keytrap.sources.gitcat import open_repo

    opts = options or ConfigOptions()
    if opts.no_config and opts.explicit is not None:
        raise UsageError("--config and --no-config cannot be combined")
    info = open_repo(repo)
    top = str(info.work_tree) if info.work_tree is not None else None
    at = f"@{rev[:12]}" if rev else ""
    explicit_rel = _repo_path(opts.explicit, top) if opts.explicit is not None else None
    baseline_rel = _repo_path(opts.baseline, top) if opts.baseline is not None else None
    wanted = [CONFIG_FILE, PYPROJECT, _BASELINE, *(p for p in (explicit_rel, baseline_rel) if p)]
    base = read_at(info.loc, rev, wanted) if rev else dict.fromkeys(wanted)

    def parsed(data: bytes, rel: str) -> Config:
        doc = cfg.parse_toml(data, rel + at)
        table = cfg.keytrap_table(doc, rel + at, os.path.basename(rel) == PYPROJECT)
        return cfg.parse(table or {}, rel + at, top) if table is not None else cfg.DEFAULT

    applied: list[str] = []  # repository files whose base version was applied (compared at head)
    if opts.no_config:
        conf, what = cfg.DEFAULT, ["defaults (--no-config)"]
    elif opts.explicit is not None and explicit_rel is None:
        conf = cfg.load(top or os.curdir, opts.explicit)  # the caller's own file, outside the repo
        what = [_shown(os.fspath(opts.explicit))]
    elif explicit_rel is not None:
        data = base[explicit_rel]
        if data is None:
            raise UsageError(f"config file not found in the base commit {rev or '(none)'}: {explicit_rel}")
        conf, what = parsed(data, explicit_rel), [explicit_rel + at]
        applied.append(explicit_rel)
    elif base[CONFIG_FILE] is not None:
        conf, what = parsed(base[CONFIG_FILE], CONFIG_FILE), [CONFIG_FILE + at]  # type: ignore[arg-type]
        applied.append(CONFIG_FILE)
    else:
        conf = parsed(base[PYPROJECT], PYPROJECT) if base[PYPROJECT] is not None else cfg.DEFAULT
        what = [f"{PYPROJECT} [tool.keytrap]{at}" if conf.source else
                (f"defaults (no config file{' at ' + rev[:12] if rev else ', ' + (why or 'no base commit')})")]
        applied += [CONFIG_FILE, PYPROJECT]
    prints: frozenset[str] = frozenset()
    named: str | None = None  # repository path of the baseline to read from the base side
    if opts.baseline is not None and baseline_rel is None:
        from pathlib import Path

        prints = bl.load(Path(opts.baseline))
        what.append(f"baseline {_shown(os.fspath(opts.baseline))}")
    elif opts.baseline is not None:
        named = baseline_rel
    elif conf.baseline and not opts.no_config:
        named = _repo_path(os.path.join(top or os.curdir, conf.baseline), top)
        if named is None:
            raise UsageError(f"{conf.source}: 'baseline' must name a file inside the repository")
    elif not opts.no_config:
        named = _BASELINE
    if named is not None:
        data = base.get(named) if named in base else (read_at(info.loc, rev, [named])[named] if rev else None)
        base[named] = data
        applied.append(named)
        if data is not None:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"cannot read baseline {named}{at}: not UTF-8") from None
            prints = bl.parse(text, named + at)
            what.append(f"baseline {named}{at}")
        elif (named != _BASELINE or (opts.baseline is None and conf.baseline)) and rev is None:
            raise UsageError(f"baseline {named} not read: no trusted commit to read it from ({why or 'no base commit'}); "
                             "pass --settings-from REV")
        elif named != _BASELINE or (opts.baseline is None and conf.baseline):
            raise UsageError(f"baseline not found in the base commit {rev}: {named}")
        elif opts.baseline is not None:  # the default one, named: optional (a first CI run)
            what.append(f"no baseline ({named} is not in {rev[:12] if rev else 'the base side'} yet)")
    notes: tuple[str, ...] = ()
    if head and rev and applied:
        notes = _changed_notes(info.loc, rev, head, applied, base)
    conf = conf.with_(base=top, notes=notes)
    return _overridden(conf, opts.min_confidence, opts.max_file_size, opts.exclude, prints, ", ".join(what))


_BASELINE = ".keytrap-baseline.json"


def load_config_from(
    repo: str | os.PathLike[str], settings_from: str, *, head: str | None = None,
    options: ConfigOptions | None = None,
) -> Config:
    """``--settings-from REV``: the settings as of commit ``REV`` (see :func:`load_config_at`),
    whatever is scanned. ``REV`` must name a commit (an unknown one is an error); the null id
    (``0000…``) means no commit is trusted: the defaults."""
    from keytrap.sources.gitcat import open_repo
    from keytrap.sources.history import resolve_settings_rev

    rev = resolve_settings_rev(open_repo(repo).loc, settings_from)
    return load_config_at(repo, rev, head=head, options=options, why="--settings-from the null commit")


def _range_config(repo: str, plan: RangePlan, settings_from: str | None, options: ConfigOptions) -> Config:
    """The settings of a range scan: ``--settings-from`` when given, else its base side when
    that is a commit reviewers trust (:func:`keytrap.sources.history.settings_base`), else the
    defaults, with a note that says why."""
    from keytrap.sources.gitcat import open_repo
    from keytrap.sources.history import settings_base

    if settings_from is not None:
        return load_config_from(repo, settings_from, head=plan.tip, options=options)
    rev, reason = settings_base(open_repo(repo).loc, plan)
    conf = load_config_at(repo, rev, head=plan.tip, options=options, why=reason or None)
    if not reason:
        return conf
    note = (f"settings: the defaults apply: {reason}; to read the config and baseline from a commit "
            "reviewers trust, pass --settings-from REV (such as the merge-base with the default branch)")
    return conf.with_(notes=(note, *conf.notes))


def _changed_notes(loc: Location, rev: str, head: str, paths: list[str], base: dict[str, bytes | None]
                   ) -> tuple[str, ...]:
    """One note per settings file the commits ``rev..head`` change (a ``pyproject.toml`` counts
    only when its ``[tool.keytrap]`` table changes)."""
    from keytrap import config as cfg
    from keytrap.errors import KeytrapError
    from keytrap.sources.committed import PYPROJECT, read_at

    now = read_at(loc, head, paths)
    changed = []
    for path in dict.fromkeys(paths):
        old, new = base.get(path), now.get(path)
        if old == new:
            continue
        if os.path.basename(path) == PYPROJECT and old is not None and new is not None:
            try:
                tables = [cfg.keytrap_table(cfg.parse_toml(d, path), path, True) for d in (old, new)]
                if tables[0] == tables[1]:
                    continue  # the rest of pyproject.toml is not keytrap's business
            except KeytrapError:
                pass  # unparseable on one side: a change
        changed.append(path)
    notes = []
    for path in changed:
        verb = "add" if base.get(path) is None else "delete" if now.get(path) is None else "change"
        notes.append(f"config changed: the scanned commits {verb} {path}; not applied (keytrap used "
                     f"the settings of the base commit {rev[:12]})")
    return tuple(notes)


def _overridden(conf: Config, min_confidence: str | None, max_file_size: int | None,
                exclude: Sequence[str], prints: frozenset[str], applied: str) -> Config:
    changes: dict[str, object] = {"applied": applied}
    if min_confidence:
        changes["min_confidence"] = min_confidence
    if max_file_size:
        changes["max_file_size"] = max_file_size
    if exclude:
        changes["exclude"] = conf.exclude + tuple(exclude)
    if prints:
        changes["allow_fingerprints"] = conf.allow_fingerprints | prints
    return conf.with_(**changes)


def _repo_path(path: str | os.PathLike[str] | None, top: str | None) -> str | None:
    """``path`` relative to the work tree ``top`` with ``/``, or None when it lies outside. In a
    bare repository (``top`` None) a relative path names a file of the repository."""
    if path is None:
        return None
    path = os.fspath(path)
    if top is None:
        rel = os.path.normpath(path)
        if os.path.isabs(rel) or rel == os.pardir or rel.startswith(os.pardir + os.sep):
            return None
        return rel.replace(os.sep, "/")
    for p, t in ((os.path.abspath(path), os.path.abspath(top)), (os.path.realpath(path), os.path.realpath(top))):
        rel = os.path.relpath(p, t)
        if rel not in (os.curdir, os.pardir) and not rel.startswith(os.pardir + os.sep):
            return rel.replace(os.sep, "/")
    return None


def _shown(path: str) -> str:
    """A settings file for the ``config:`` line: relative to the current folder when inside it."""
    suffix = ""
    if path.endswith(" [tool.keytrap]"):
        path, suffix = path[: -len(" [tool.keytrap]")], " [tool.keytrap]"
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute)
    shown = rel if not rel.startswith(os.pardir) else absolute
    return shown.replace(os.sep, "/") + suffix


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
    ``max_file_size``: skipped and listed, as for a file; binary: read as a file is
    (``content.scan_blob``), listed as skipped when nothing in it is key-shaped."""
    import time

    from keytrap.findings import ScanStats, Skipped
    from keytrap.sources.content import scan_blob

    started = time.perf_counter()
    conf = config if config is not None else load_config(os.curdir)
    skipped: tuple[Skipped, ...] = ()
    findings: list = []
    scanned = 0
    if len(data) > conf.max_file_size:
        skipped = (Skipped(name, f"larger than the {conf.max_file_size} byte limit"),)
    else:
        got = scan_blob(data, name, conf)
        if not got.read:
            skipped = (Skipped(name, "binary"),)
        else:
            scanned = got.nbytes
            findings = got.findings
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
    jobs: int | None = None,
    options: ConfigOptions | None = None,
    log: Callable[[str], None] | None = None,
    settings_from: str | None = None,
) -> ScanResult:
    """The git history of ``repo``: every blob of every ref (default), a range ``BASE..HEAD``,
    ``REV..HEAD`` (``since_commit``) or one ``branch``. A full scan of a repository with a work
    tree also scans the work tree (``include_worktree``) and folds its hits into the history
    findings; a range or a branch never does (they are about commits).

    A range is read as :func:`keytrap.sources.history.plan_range` says: a null base (CI's
    ``before`` on a new branch or tag) or a base this clone lacks (a shallow checkout) still
    scans the new commits, with a note. Without ``config``, the settings come from commit
    ``settings_from`` when given (``--settings-from``), else a range applies those of its base
    side when reviewers trust it (on the default branch; see :func:`_range_config`), never the
    ones its own commits bring, and other scans read the working tree (:func:`load_config`).
    ``options`` shape either; ``log`` receives one ``config: …`` line and a ``warning: …`` line
    per note on how the settings or the range were chosen (front doors print them on stderr).
    ``jobs``: worker processes (default: the available cores; on 2 cores a third adds nothing).
    """
    from pathlib import Path

    from keytrap.sources.gitcat import open_repo
    from keytrap.sources.history import plan_range
    from keytrap.sources.history import scan_history as _history

    path = os.fspath(repo)
    _check_paths([path])
    if not os.path.isdir(path):
        raise UsageError("--history/--range take one repository folder as PATH")
    opts = options or ConfigOptions()
    if rev_range is not None or since_commit is not None:
        if rev_range is not None and since_commit is not None:
            raise UsageError("give at most one of a range, --since-commit and --branch")
        if branch is not None:
            raise UsageError("give at most one of a range, --since-commit and --branch")
        plan = plan_range(path, rev_range if rev_range is not None else f"{since_commit}..HEAD")
        conf = config if config is not None else _range_config(path, plan, settings_from, opts)
        if config is None and log is not None:
            log(f"config: {conf.describe()}")
        if log is not None:
            for note in (*plan.notes, *conf.notes):
                log(f"warning: {note}")
        hist = _history(Path(path), conf, plan=plan, progress=progress, jobs=jobs)
        # a range with unreadable objects already fails closed with its own line: the marker
        # listing, which reads the same objects, adds no second error about them
        marks = _added_markers_note(path, plan.revs, quiet=bool(hist.stats.unreadable))
        if log is not None:
            for note in marks:
                log(f"warning: {note}")
        return _with_notes(hist, (*conf.notes, *marks))
    if config is not None:
        conf = config
    elif settings_from is not None:
        head = None
        if branch is not None:
            from keytrap.sources.history import _resolve

            head = _resolve(open_repo(path).loc, branch, "branch")
        conf = load_config_from(path, settings_from, head=head, options=opts)
    else:
        conf = load_config(path, **opts._asdict())
    if config is None and log is not None:
        log(f"config: {conf.describe()}")
        for note in conf.notes:
            log(f"warning: {note}")
    hist = _with_notes(_history(Path(path), conf, branch=branch, progress=progress, jobs=jobs), conf.notes)
    if not include_worktree or branch is not None:
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
    *,
    remote: str | None = None,
    options: ConfigOptions | None = None,
    log: Callable[[str], None] | None = None,
    settings_from: str | None = None,
) -> ScanResult:
    """Secrets in commits about to be pushed to ``remote`` (the name git gives the pre-push
    hook): each ``BASE..TIP`` whose base exists here, or ``TIP`` alone (a new branch, or a
    remote tip we do not have): every commit of it that no remote-tracking ref *of that remote*
    holds (a commit already on ``origin`` is still new to ``public``). Without ``remote``, a
    commit on any remote counts as published. Each secret is reported once per push.

    Without ``config``, the settings come from commit ``settings_from`` when given, else from
    each range's base side when reviewers trust it (see :func:`_range_config`); ``log`` gets
    the ``config:`` and ``warning:`` lines.
    """
    from pathlib import Path

    from keytrap.findings import ScanStats
    from keytrap.sources import staged
    from keytrap.sources.gitcat import open_repo
    from keytrap.sources.history import RangePlan, plan_new_commits
    from keytrap.sources.history import scan_history as _history

    top = staged.repo_top(os.fspath(repo))
    loc = open_repo(top).loc
    opts = options or ConfigOptions()
    findings: list = []
    seen: set[str] = set()
    stats = ScanStats()
    configs: dict[tuple[str | None, str], Config] = {}
    for rev_range in ranges:
        base, _, tip = rev_range.rpartition("..")
        if base and staged.has_commit(top, base):
            plan = RangePlan((rev_range,), tip, base, from_range=True)
        else:
            plan = plan_new_commits(loc, tip, remote)
        conf = config
        if conf is None:
            key = (plan.base, plan.tip)
            if key not in configs:
                configs[key] = _range_config(top, plan, settings_from, opts)
                if log is not None:
                    log(f"config: {configs[key].describe()}")
                    for note in configs[key].notes:
                        log(f"warning: {note}")
            conf = configs[key]
        result = _history(Path(top), conf, plan=plan)
        s = result.stats
        stats = stats._replace(
            files_scanned=stats.files_scanned + s.files_scanned,
            bytes_scanned=stats.bytes_scanned + s.bytes_scanned,
            skipped=stats.skipped + s.skipped,
            blobs_scanned=stats.blobs_scanned + s.blobs_scanned,
            commits=stats.commits + s.commits,
            notes=tuple(dict.fromkeys(stats.notes + conf.notes + s.notes)),
            unreadable=stats.unreadable + s.unreadable,
        )
        for f in result.findings:
            if f.fingerprint not in seen:
                seen.add(f.fingerprint)
                findings.append(f)
    return ScanResult(top, tuple(findings), stats, "range")


def _added_markers_note(path: str, revs: Sequence[str], *, quiet: bool = False) -> tuple[str, ...]:
    """The note naming the ``keytrap: allow`` markers the commits under review add (they
    silence secrets from inside the scanned files, so a reviewer must see them), or why they
    could not be listed (unless ``quiet``: the scan already failed on unreadable objects);
    nothing when there are none."""
    from keytrap.sources import markers
    from keytrap.sources.gitcat import open_repo

    try:
        found = markers.added_markers(open_repo(path).loc, list(revs))
    except GitError as exc:
        if quiet:
            return ()
        return (f"allow markers: could not list the `keytrap: allow` markers the scanned commits add: {exc}",)
    note = markers.note(found)
    return (note,) if note else ()


def _with_notes(result: ScanResult, notes: Sequence[str]) -> ScanResult:
    if not notes:
        return result
    return result._replace(stats=result.stats._replace(notes=tuple(notes) + result.stats.notes))


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
