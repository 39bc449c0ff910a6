"""``keytrap doctor``: repository hygiene, without scanning any content or history.

Checks that a keytrap hook is installed, that secret-bearing files (``.env``, ``*.pem``,
``secrets.*``, freqtrade's ``user_data/config.json``...) are ignored and not tracked, that the
keytrap config parses and that the baseline file is valid. Reads only file names, the hook
scripts, the pre-commit config and the baseline; writes nothing; runs git with
``GIT_OPTIONAL_LOCKS=0`` so not even the index is refreshed.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from keytrap.errors import KeytrapError, UsageError

DEFAULT_BASELINE = ".keytrap-baseline.json"
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
GIT_TIMEOUT = 30
#: Names that must never be committed (matched on the file name; lower-cased).
SENSITIVE_PATTERNS = (".env", ".env.*", "*.pem", "*.key", "secrets.*")
#: Template files that are meant to be committed.
SAFE_NAMES = frozenset({".env.example", ".env.sample", ".env.template"})
#: Paths that must be ignored even if no such file exists yet.
PROBE_PATHS = (".env", ".env.local")
_MAX_LISTED = 5


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    message: str
    fix: str = ""


def is_sensitive(rel_path: str) -> bool:
    """Does this repository-relative path name a file that usually holds secrets?"""
    p = PurePosixPath(rel_path)
    name = p.name.lower()
    if name in SAFE_NAMES:
        return False
    if any(fnmatch.fnmatchcase(name, pat) for pat in SENSITIVE_PATTERNS):
        return True
    # freqtrade keeps exchange keys in user_data/config*.json
    return "user_data" in p.parts[:-1] and fnmatch.fnmatchcase(name, "config*.json")


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:_MAX_LISTED])
    more = len(paths) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


# ----------------------------------------------------------------------------- git edge


class _GitFailed(Exception):
    pass


def _git(
    root: Path, *args: str, ok_codes: tuple[int, ...] = (0,), stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``git ARGS`` at the work tree top ``root``, through the hardened runner."""
    from keytrap import gitrun

    data = (stdin if stdin is not None else "").encode("utf-8", "surrogateescape")
    try:
        raw = gitrun.run(str(root), "-c", "core.quotepath=off", *args, input=data, timeout=GIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise _GitFailed(f"git {args[0]} took more than {GIT_TIMEOUT}s") from None
    except KeytrapError as exc:  # no git to run, or the runner refused the repository (a FIFO…)
        raise _GitFailed(str(exc)) from None
    proc = subprocess.CompletedProcess(
        raw.args, raw.returncode,
        raw.stdout.decode("utf-8", "surrogateescape"), raw.stderr.decode("utf-8", "replace"),
    )
    if proc.returncode not in ok_codes:
        first = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[0]
        raise _GitFailed(first)
    return proc


def _z(out: str) -> list[str]:
    return [p for p in out.split("\0") if p]


# ----------------------------------------------------------------------------- checks


def check_repository(root: Path) -> tuple[Check, Path | None]:
    """The work tree ``root`` belongs to, found and validated through the hardened runner (its
    config files are checked before git reads them: an include of a FIFO cannot hang doctor)."""
    from keytrap import gitrun

    name = "git repository"
    fix = "run keytrap doctor inside a git work tree (git init, or cd into the clone)"
    if not root.is_dir():
        return Check(name, False, f"{root} is not a folder", "pass a folder"), None
    loc = gitrun.locate(str(root))
    if loc is None:
        return Check(name, False, "not a git repository (no .git folder here or in any parent folder)", fix), None
    if loc.bare:
        return Check(name, False, "a bare repository has no work tree", fix), None
    top = Path(loc.path)
    try:
        _git(top, "rev-parse", "--git-dir")
    except _GitFailed as exc:
        if str(exc).startswith("refusing"):  # its config files could hang git
            return Check(name, False, str(exc), "fix or remove that file, or the include naming it"), None
        return Check(name, False, f"not a git repository ({exc})", fix), None
    return Check(name, True, f"work tree at {top}"), top


def _hooks_dir(top: Path) -> Path:
    """Where git looks for hooks: ``core.hooksPath`` (relative to the work tree) or the
    common git dir's ``hooks`` (shared by linked worktrees), as git itself resolves it."""
    out = _git(top, "rev-parse", "--git-path", "hooks").stdout.strip("\n")
    path = Path(os.path.expanduser(out))
    return path if path.is_absolute() else top / path


def _read_text(path: Path, limit: int = 256 * 1024) -> str | None:
    try:
        with path.open("rb") as fh:
            return fh.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def check_hook(top: Path) -> Check:
    name = "pre-commit hook"
    try:
        hooks = _hooks_dir(top)
    except _GitFailed as exc:
        return Check(name, False, f"cannot locate the hooks folder ({exc})", "")
    hook = hooks / "pre-commit"
    hook_text = _read_text(hook) if hook.is_file() else None
    config_text = _read_text(top / PRE_COMMIT_CONFIG)
    in_config = config_text is not None and "keytrap" in config_text
    in_hook = hook_text is not None and "keytrap" in hook_text
    runs_pre_commit = hook_text is not None and "pre-commit" in hook_text
    executable = hook_text is not None and (os.name == "nt" or os.access(hook, os.X_OK))
    if (in_hook or (in_config and runs_pre_commit)) and not executable:
        return Check(
            name, False, f"{hook} is not executable, so git skips it", f"chmod +x {hook}"
        )
    if in_hook:
        return Check(name, True, f"keytrap runs from {hook}")
    if in_config and runs_pre_commit:
        return Check(name, True, f"keytrap is in {PRE_COMMIT_CONFIG} and pre-commit is installed")
    if in_config:
        return Check(
            name,
            False,
            f"keytrap is in {PRE_COMMIT_CONFIG} but the git hook is not installed",
            "run `pre-commit install`",
        )
    return Check(
        name,
        False,
        "no keytrap hook: a key can be committed without any check",
        f"add keytrap to {PRE_COMMIT_CONFIG} and run `pre-commit install`, "
        "or run `keytrap install` for a native git hook",
    )


def check_pre_push_hook(top: Path) -> Check:
    """The pre-push hook catches what the pre-commit hook cannot: commits made with
    ``--no-verify``, in another clone, or before keytrap was installed. Optional, but a
    configured one that git never runs is a failure."""
    name = "pre-push hook"
    try:
        hooks = _hooks_dir(top)
    except _GitFailed as exc:
        return Check(name, False, f"cannot locate the hooks folder ({exc})", "")
    hook = hooks / "pre-push"
    hook_text = _read_text(hook) if hook.is_file() else None
    config_text = _read_text(top / PRE_COMMIT_CONFIG) or ""
    wanted = "keytrap-pre-push" in config_text or "--pre-push" in config_text
    in_hook = hook_text is not None and "keytrap" in hook_text
    runs_pre_commit = hook_text is not None and "pre-commit" in hook_text
    executable = hook_text is not None and (os.name == "nt" or os.access(hook, os.X_OK))
    if (in_hook or (wanted and runs_pre_commit)) and not executable:
        return Check(name, False, f"{hook} is not executable, so git skips it", f"chmod +x {hook}")
    if in_hook:
        return Check(name, True, f"keytrap checks pushed commits from {hook}")
    if wanted and runs_pre_commit:
        return Check(name, True, f"keytrap-pre-push is in {PRE_COMMIT_CONFIG} and pre-commit's pre-push hook is installed")
    if wanted:
        return Check(
            name, False,
            f"keytrap-pre-push is in {PRE_COMMIT_CONFIG} but git's pre-push hook is not installed",
            "run `pre-commit install --hook-type pre-push`",
        )
    return Check(
        name, True,
        "no pre-push hook (optional: it also stops keys committed with --no-verify; "
        "`keytrap install --pre-push` or the keytrap-pre-push pre-commit hook)",
    )


def check_ignore_rules(top: Path) -> Check:
    """Would a new ``.env`` be ignored? Probed with check-ignore, no file needed."""
    name = ".env ignored"
    try:
        proc = _git(
            top,
            "check-ignore",
            "--no-index",
            "--stdin",
            "-z",
            ok_codes=(0, 1),
            stdin="\0".join(PROBE_PATHS) + "\0",
        )
    except _GitFailed as exc:
        return Check(name, False, f"git check-ignore failed ({exc})", "")
    ignored = set(_z(proc.stdout))
    missing = [p for p in PROBE_PATHS if p not in ignored]
    if missing:
        return Check(
            name,
            False,
            f"{_listing(missing)} would not be ignored by git",
            "add `.env` and `.env.*` (with `!.env.example`) to .gitignore",
        )
    return Check(name, True, "a new .env file would be ignored")


def check_untracked_sensitive(top: Path) -> Check:
    """Secret-bearing files on disk that git neither tracks nor ignores (.gitignore, info/exclude
    and core.excludesFile all count, as for ``git add``)."""
    name = "secret files ignored"
    try:
        proc = _git(top, "ls-files", "-z", "--others", "--exclude-standard")
    except _GitFailed as exc:
        return Check(name, False, f"git ls-files failed ({exc})", "")
    exposed = sorted(p for p in _z(proc.stdout) if is_sensitive(p))
    if not exposed:
        return Check(name, True, "no secret-bearing file is waiting to be added")
    return Check(
        name,
        False,
        f"not ignored, one `git add .` away from a commit: {_listing(exposed)}",
        "add them to .gitignore",
    )


def check_tracked_sensitive(top: Path) -> Check:
    name = "secret files not tracked"
    try:
        proc = _git(top, "ls-files", "-z", "--cached")
    except _GitFailed as exc:
        return Check(name, False, f"git ls-files failed ({exc})", "")
    tracked = sorted(p for p in _z(proc.stdout) if is_sensitive(p))
    if not tracked:
        return Check(name, True, "no secret-bearing file is tracked")
    return Check(
        name,
        False,
        f"tracked by git: {_listing(tracked)}",
        "delete any keys they held in Binance API Management, then "
        "`git rm --cached <file>` and add it to .gitignore",
    )


#: Names a keytrap config is sometimes given that keytrap does not read.
_NEAR_MISS_FILES = ("keytrap.toml", ".keytrap.tml", ".keytrap.yaml", ".keytrap.yml", ".keytrap.json", ".keytrap", ".keytraprc")


def _near_misses(root: Path) -> list[str]:
    """Config keytrap would silently not read: a misspelled ``[tool.keytrp]`` table in
    pyproject.toml, or a settings file under a name keytrap does not look for."""
    import difflib

    found = [name for name in _NEAR_MISS_FILES if (root / name).is_file()]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        from keytrap.config import _read_toml

        try:
            tool = _read_toml(str(pyproject)).get("tool", {})
        except UsageError:
            tool = {}
        if isinstance(tool, dict) and "keytrap" not in tool:
            close = difflib.get_close_matches("keytrap", [str(k).lower() for k in tool], n=3, cutoff=0.7)
            names = [k for k in tool if str(k).lower() in close]
            found += [f"[tool.{k}] in pyproject.toml" for k in names]
    return found


def check_config(root: Path) -> Check:
    from keytrap.config import load
    from keytrap.errors import UsageError

    try:
        cfg = load(root)
    except UsageError as exc:
        return Check("config", False, str(exc), "fix the setting named in the message")
    misses = _near_misses(root)
    if misses:
        return Check(
            "config", False,
            f"keytrap does not read {_listing(misses)}: its settings are ignored",
            "name the table [tool.keytrap] in pyproject.toml, or the file .keytrap.toml",
        )
    if cfg.source is None:
        return Check("config", True, "no .keytrap.toml or [tool.keytrap]: defaults apply")
    return Check("config", True, f"loaded from {cfg.source}")


def check_baseline(root: Path, baseline: Path | None = None) -> Check:
    """The baseline the scans apply: ``baseline``, else the config's ``baseline = "path"``,
    else ``.keytrap-baseline.json`` at the top."""
    name = "baseline"
    if baseline is None:
        from keytrap.config import load

        try:
            conf = load(root)
        except UsageError:
            conf = None  # the config check reports it
        if conf is not None and conf.baseline:
            baseline = Path(conf.base or root) / conf.baseline  # relative to the config file
    path = baseline if baseline is not None else root / DEFAULT_BASELINE
    if not path.exists():
        if baseline is not None:
            return Check(name, False, f"{path} does not exist", "create it with keytrap baseline")
        return Check(name, True, f"no {DEFAULT_BASELINE} (nothing is baselined)")
    from keytrap import baseline as bl

    try:
        prints = bl.load(path)  # the very parser `scan --baseline` uses: one verdict for both
    except UsageError as exc:
        return Check(name, False, str(exc), "regenerate it with keytrap baseline")
    return Check(name, True, f"{path.name}: {len(prints)} fingerprints")


def run_doctor(root: Path, *, baseline: Path | None = None) -> list[Check]:
    """All checks, in a fixed order. Never writes; never raises for a broken repository."""
    root = Path(root)
    repo, top = check_repository(root)
    checks = [repo]
    if top is not None:
        checks += [
            check_hook(top),
            check_pre_push_hook(top),
            check_ignore_rules(top),
            check_untracked_sensitive(top),
            check_tracked_sensitive(top),
        ]
    base = top if top is not None else root
    if base.is_dir():
        checks.append(check_config(base))
        checks.append(check_baseline(base, baseline))
    return checks


def render_doctor(checks: list[Check]) -> str:
    """Plain text, one line per check plus a fix line under each failure.

    Messages quote the repository (file names, config keys and values, hook paths, git's own
    errors): each is redacted (a file can be named after its key) and escaped before it is placed.
    """
    from keytrap.findings import scrub_keyshaped
    from keytrap.safetext import guard_lines, show

    lines = []
    for c in checks:
        lines.append(f"{'ok  ' if c.ok else 'FAIL'}  {c.name}: {show(scrub_keyshaped(c.message))}")
        if not c.ok and c.fix:
            lines.append(f"      fix: {show(scrub_keyshaped(c.fix))}")
    failed = sum(not c.ok for c in checks)
    lines.append("")
    lines.append(
        "all checks passed" if not failed else f"{failed} of {len(checks)} checks failed"
    )
    return guard_lines("\n".join(lines) + "\n")


def exit_code(checks: list[Check]) -> int:
    """0 when every check passed, 1 otherwise (same as "findings")."""
    from keytrap.errors import EXIT_CLEAN, EXIT_FINDINGS

    return EXIT_CLEAN if all(c.ok for c in checks) else EXIT_FINDINGS
