"""Native git hooks for repositories that do not use the pre-commit framework.

``keytrap install`` writes a ``pre-commit`` hook (and with ``--pre-push`` a ``pre-push`` hook)
into the directory git really runs hooks from: ``git rev-parse --git-path hooks`` honours
``core.hooksPath`` (relative values are relative to the top of the work tree), linked worktrees
and ``$GIT_DIR``.

Every script keytrap writes carries the marker line ``# keytrap-managed-hook v1``. Files without
it are never overwritten or deleted:

* without ``--force`` an existing foreign hook makes ``install`` refuse (nothing is written);
* with ``--force`` the foreign hook is renamed to ``<name>.keytrap-chained`` and keytrap's
  script runs it first (same arguments, same stdin) and fails if it fails.

``uninstall`` removes only marked files and moves a chained original back into place.

Hook behaviour (see :func:`render_hook`): exit 0 lets git go on; findings (keytrap exit 1) and
errors (exit 2 and above, including keytrap not being found) block, after one line saying why and
how to bypass. Bypass: ``git commit --no-verify`` / ``git push --no-verify``, or ``KEYTRAP_SKIP=1``
in the environment (skips keytrap only; a chained hook still runs).
"""

from __future__ import annotations

import os
import shlex
import sys
import sysconfig
from pathlib import Path

from keytrap.errors import EXIT_CLEAN, GitError, UsageError

MARKER = "# keytrap-managed-hook v1"
CHAINED_SUFFIX = ".keytrap-chained"
HOOK_NAMES = ("pre-commit", "pre-push")
_MARKER_PREFIX = "# keytrap-managed-hook"  # any version counts as ours


# --- locating the hooks directory ------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    """``git ARGS`` at the repository ``repo`` belongs to, through the hardened runner."""
    from keytrap import gitrun

    loc = gitrun.locate(os.fspath(repo))
    if loc is None:
        raise GitError(f"not a git repository: {repo}")
    out = gitrun.run(loc, *args)
    if out.returncode != 0:
        msg = out.stderr.decode("utf-8", "replace").strip().splitlines()
        first = msg[0] if msg else f"git {' '.join(args)} failed"
        if "not a git repository" in first.lower():
            raise GitError(f"not a git repository: {repo}")
        raise GitError(f"git {' '.join(args)} failed in {repo}: {first.removeprefix('fatal: ')}")
    return out.stdout.decode("utf-8", "surrogateescape").rstrip("\n")


def hooks_dir(repo: Path) -> Path:
    """The directory git runs hooks from for the repository (or worktree) at ``repo``.

    Raises UsageError if ``repo`` is not a folder, GitError if it is not in a git work tree.
    """
    from keytrap import gitrun

    repo = Path(repo)
    if not repo.exists():
        raise UsageError(f"path not found: {repo}")
    if not repo.is_dir():
        raise UsageError(f"not a folder: {repo}")
    loc = gitrun.locate(os.fspath(repo))
    if loc is None:
        raise GitError(f"not a git repository: {repo}")
    if loc.bare:
        raise UsageError(f"{repo} is a bare repository: commits are not made there, install the hook in a clone")
    # Printed relative to the top (or absolute for an absolute core.hooksPath); os.path.join
    # keeps an absolute answer as it is.
    rel = _git(repo, "rev-parse", "--git-path", "hooks")
    if not rel:
        raise GitError(f"git rev-parse --git-path hooks gave no answer in {repo}")
    return Path(os.path.normpath(os.path.join(loc.path, rel)))


# --- the scripts -----------------------------------------------------------------------------


def _candidates() -> tuple[list[str], list[str]]:
    """Absolute keytrap entry points and interpreters to try, best first, as of install time."""
    dirs = []
    for d in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        if d and d not in dirs:
            dirs.append(d)
    names = ("keytrap.exe", "keytrap") if os.name == "nt" else ("keytrap",)
    entry = [os.path.join(d, n) for d in dirs for n in names]
    entry = [e for e in entry if os.path.isfile(e) and os.access(e, os.X_OK)] or entry[:1]
    pythons = [sys.executable] if sys.executable else []
    return entry, pythons


def _as_sh_path(path: str) -> str:
    if os.name == "nt":  # Git for Windows runs hooks in its POSIX shell; forward slashes work there
        path = path.replace("\\", "/")
    return shlex.quote(path)


def _runner() -> str:
    entry, pythons = _candidates()
    lines = ["keytrap_run() {"]
    kw = "if"
    for e in entry:
        q = _as_sh_path(e)
        lines.append(f"    {kw} [ -x {q} ]; then {q} \"$@\"")
        kw = "elif"
    lines.append(f"    {kw} command -v keytrap >/dev/null 2>&1; then keytrap \"$@\"")
    for p in pythons:
        q = _as_sh_path(p)
        lines.append(f"    elif [ -x {q} ] && {q} -I -c 'import keytrap' >/dev/null 2>&1; then {q} -I -m keytrap \"$@\"")
    lines.append("    elif command -v python3 >/dev/null 2>&1 && python3 -I -c 'import keytrap' >/dev/null 2>&1; then python3 -I -m keytrap \"$@\"")
    lines.append("    else")
    lines.append("        echo \"keytrap: hook: keytrap not found (reinstall it, or rerun 'keytrap install')\" >&2")
    lines.append("        return 127")
    lines.append("    fi")
    lines.append("}")
    return "\n".join(lines)


_HEADER = """\
#!/bin/sh
{marker}
# {name} hook installed by 'keytrap install'; remove it with 'keytrap uninstall'.
# Blocks when keytrap finds Binance keys (exit 1) and when keytrap fails (exit 2 or more).
# Bypass: git {verb} --no-verify, or KEYTRAP_SKIP=1 git {verb} ... (a chained hook still runs).
# A hook that was here before 'keytrap install --force' lives in {name}{suffix} and runs first.

hookdir=$(dirname "$0")
chained="$hookdir/{name}{suffix}"

{runner}

keytrap_status() {{
    case $1 in
        0) return 0 ;;
        1) echo "keytrap: {verb} blocked: Binance keys found {what} (see above)." \\
                "Remove them; bypass with KEYTRAP_SKIP=1 or --no-verify." >&2 ;;
        *) echo "keytrap: {verb} blocked: keytrap failed (exit $1, see above)." \\
                "Fix the error; bypass with KEYTRAP_SKIP=1 or --no-verify." >&2 ;;
    esac
    exit "$1"
}}

chained_failed() {{
    echo "keytrap: {verb} blocked by the chained hook $chained (exit $1)" >&2
    exit "$1"
}}
"""

_PRE_COMMIT_BODY = """
if [ -x "$chained" ]; then
    "$chained" "$@" || chained_failed $?
fi

case ${KEYTRAP_SKIP:-} in
    ''|0) ;;
    *) echo "keytrap: KEYTRAP_SKIP is set, not scanning" >&2; exit 0 ;;
esac

keytrap_run hook
keytrap_status $?
"""

# Git writes one line per ref to the hook's stdin; the chained hook and keytrap both need it,
# so it is kept in a variable (refs and object names only: no NUL bytes, no binary).
_PRE_PUSH_BODY = """
input=$(cat)
feed() {
    if [ -n "$input" ]; then printf '%s\\n' "$input"; fi
}

if [ -x "$chained" ]; then
    feed | "$chained" "$@" || chained_failed $?
fi

case ${KEYTRAP_SKIP:-} in
    ''|0) ;;
    *) echo "keytrap: KEYTRAP_SKIP is set, not scanning" >&2; exit 0 ;;
esac

KEYTRAP_PUSH_REMOTE=${1:-}
KEYTRAP_PUSH_URL=${2:-}
export KEYTRAP_PUSH_REMOTE KEYTRAP_PUSH_URL
feed | keytrap_run hook --pre-push
keytrap_status $?
"""


def render_hook(name: str) -> str:
    """The full text of keytrap's ``pre-commit`` or ``pre-push`` script."""
    if name == "pre-commit":
        verb, what, body = "commit", "in the staged changes", _PRE_COMMIT_BODY
    elif name == "pre-push":
        verb, what, body = "push", "in the commits being pushed", _PRE_PUSH_BODY
    else:
        raise ValueError(f"unknown hook: {name}")
    header = _HEADER.format(
        marker=MARKER, name=name, suffix=CHAINED_SUFFIX, verb=verb, what=what, runner=_runner()
    )
    return header + body


def is_ours(path: Path) -> bool:
    """True if ``path`` is a hook keytrap wrote (the marker line is among its first lines)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return any(line.strip().startswith(_MARKER_PREFIX.encode()) for line in head.splitlines()[:10])


# --- install / uninstall ---------------------------------------------------------------------


def _say(msg: str) -> None:
    from keytrap.findings import scrub_keyshaped
    from keytrap.safetext import show

    print(show(scrub_keyshaped(f"keytrap: {msg}")), file=sys.stderr)  # paths come from git config


def _write_executable(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.keytrap-tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _outside(folder: Path, repo: Path) -> bool:
    try:
        top = _git(repo, "rev-parse", "--show-toplevel")
        common = _git(repo, "rev-parse", "--git-common-dir")
    except GitError:
        return False
    inside = (Path(top), Path(os.path.join(top, common)))  # git -C TOP: relative to the top
    real = os.path.realpath(folder)
    return not any(
        real == os.path.realpath(p) or real.startswith(os.path.realpath(p) + os.sep) for p in inside
    )


def install(repo: Path, pre_push: bool = False, force: bool = False) -> int:
    """Install keytrap's pre-commit hook (and pre-push with ``pre_push``) into ``repo``.

    Returns 0. Raises UsageError when a foreign hook is in the way and ``force`` is off (nothing
    is written then), GitError when ``repo`` is not a git work tree.
    """
    repo = Path(repo)
    folder = hooks_dir(repo)
    names = ["pre-commit", "pre-push"] if pre_push else ["pre-commit"]

    # Decide everything before touching anything, so a refusal leaves no half install.
    plan: list[tuple[str, Path, str]] = []  # (name, path, action: new|update|chain)
    for name in names:
        path = folder / name
        chained = folder / (name + CHAINED_SUFFIX)
        if not os.path.lexists(path):
            plan.append((name, path, "new"))
        elif is_ours(path):
            plan.append((name, path, "update"))
        elif not force:
            raise UsageError(
                f"{path} exists and was not installed by keytrap; rerun with --force to keep it "
                f"and run it first (chained), or add keytrap to your pre-commit framework config"
            )
        elif os.path.lexists(chained):
            raise UsageError(
                f"cannot chain {path}: {chained} already exists; merge or remove one of them first"
            )
        elif path.is_dir():
            raise UsageError(f"{path} is a folder, not a hook script")
        else:
            plan.append((name, path, "chain"))

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create hooks folder {folder}: {exc.strerror or exc}") from None
    if _outside(folder, repo):
        _say(f"note: core.hooksPath points outside this repository; {folder} may serve other repositories too")

    for name, path, action in plan:
        if action == "chain":
            chained = path.with_name(name + CHAINED_SUFFIX)
            try:
                os.rename(path, chained)
            except OSError as exc:
                raise UsageError(f"cannot move {path} to {chained}: {exc.strerror or exc}") from None
            _say(f"moved existing {name} hook to {chained} (it will run first)")
        _write_executable(path, render_hook(name))
        if action == "update":
            _say(f"{name} hook already installed, updated in place: {path}")
        else:
            _say(f"installed {name} hook: {path}")
    return EXIT_CLEAN


def uninstall(repo: Path) -> int:
    """Remove keytrap's hooks from ``repo`` and put chained originals back. Returns 0."""
    repo = Path(repo)
    folder = hooks_dir(repo)
    did = False
    for name in HOOK_NAMES:
        path = folder / name
        chained = folder / (name + CHAINED_SUFFIX)
        ours = os.path.lexists(path) and is_ours(path)
        if os.path.lexists(path) and not ours:
            if os.path.lexists(chained):
                _say(f"{path} is not keytrap's any more; left it and {chained} alone")
            continue
        if ours:
            try:
                path.unlink()
            except OSError as exc:
                raise UsageError(f"cannot remove {path}: {exc.strerror or exc}") from None
            _say(f"removed {name} hook: {path}")
            did = True
        if os.path.lexists(chained):
            try:
                os.rename(chained, path)
            except OSError as exc:
                raise UsageError(f"cannot move {chained} back to {path}: {exc.strerror or exc}") from None
            _say(f"restored the original {name} hook: {path}")
            did = True
    if not did:
        _say(f"no keytrap hooks installed in {folder}, nothing to remove")
    return EXIT_CLEAN
