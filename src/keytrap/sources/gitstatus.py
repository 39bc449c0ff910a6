"""Git status of the files that hold findings: tracked, untracked or ignored.

Asked only when there are findings, so a clean scan never pays for it. Read-only: every git
call runs with ``GIT_OPTIONAL_LOCKS=0`` (no index refresh, no lock files).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable

def git_env() -> dict[str, str]:
    """The caller's environment (GIT_DIR, GIT_INDEX_FILE… kept) with no locks and no prompts."""
    return {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}


def toplevel(path: str) -> str | None:
    """The work tree that contains ``path``, or None outside git (or in a bare repo)."""
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=folder,
            env=git_env(),
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if out.returncode != 0:
        return None
    top = out.stdout.decode("utf-8", "surrogateescape").strip()
    return top or None


def _git_z(top: str, args: list[str], stdin: bytes | None = None) -> set[str]:
    out = subprocess.run(
        ["git", *args],
        cwd=top,
        env=git_env(),
        input=stdin,
        capture_output=True,
        check=False,
    )
    return {p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p}


def statuses(abs_paths: Iterable[str]) -> dict[str, str]:
    """Map each absolute path to ``tracked``/``untracked``/``ignored`` (absent outside git)."""
    by_top: dict[str, list[str]] = {}
    for p in abs_paths:
        top = toplevel(p)
        if top is not None:
            by_top.setdefault(top, []).append(p)
    result: dict[str, str] = {}
    for top, paths in by_top.items():
        rel = {p: os.path.relpath(os.path.realpath(p), os.path.realpath(top)) for p in paths}
        wanted = sorted(set(rel.values()))
        tracked = _git_z(top, ["--literal-pathspecs", "ls-files", "-z", "--", *wanted]) if wanted else set()
        rest = [r for r in wanted if r not in tracked]
        ignored = (
            _git_z(top, ["check-ignore", "-z", "--stdin"], "\0".join(rest).encode("utf-8", "surrogateescape") + b"\0")
            if rest
            else set()
        )
        for p, r in rel.items():
            result[p] = "tracked" if r in tracked else "ignored" if r in ignored else "untracked"
    return result
