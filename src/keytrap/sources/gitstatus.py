"""Git status of the files that hold findings: tracked, untracked or ignored.

Asked only when there are findings, so a clean scan never pays for it. Read-only and pointed at
known repository tops only (the tops of the paths the user named, found by walking up to
``.git``): a repository nested inside the scanned tree is never asked, so its config never runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from keytrap import gitrun


def toplevel(path: str) -> str | None:
    """The work tree that contains ``path``, or None outside git (or in a bare repo).

    Found by walking up to ``.git``, without running git.
    """
    return gitrun.find_top(path)


def _git_z(top: str, args: list[str], stdin: bytes | None = None) -> set[str]:
    try:
        out = gitrun.run(top, *args, input=stdin)
    except gitrun.GitNotStarted:
        return set()  # the status of files is an extra: a scan without git still runs
    return {p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p}


def _owner(path: str, tops: list[str]) -> str | None:
    """The deepest of ``tops`` that contains ``path``."""
    real = os.path.realpath(path)
    for top in tops:  # deepest first
        if real == top or real.startswith(top.rstrip(os.sep) + os.sep):
            return top
    return None


def statuses(abs_paths: Iterable[str], scan_paths: Iterable[str]) -> dict[str, str]:
    """Map each absolute path to ``tracked``/``untracked``/``ignored`` (absent outside git).

    ``scan_paths`` are the paths the user named: their repository tops are the only ones git
    is asked about.
    """
    tops = sorted(
        {os.path.realpath(t) for t in (toplevel(p) for p in scan_paths) if t is not None},
        key=len, reverse=True,
    )
    if not tops:
        return {}
    by_top: dict[str, list[str]] = {}
    for p in abs_paths:
        top = _owner(p, tops)
        if top is not None:
            by_top.setdefault(top, []).append(p)
    result: dict[str, str] = {}
    for top, paths in by_top.items():
        rel = {p: os.path.relpath(os.path.realpath(p), top) for p in paths}
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
