"""The allow markers a range of commits adds: what a reviewer of a pull request must see.

A ``keytrap: allow`` comment silences the secrets on its line, and a pull request can add one
next to its own key. Settings and baselines of a range scan come from a trusted commit, but an
inline marker lives in the scanned file itself. So a range scan names every marker its commits
add (``api.scan_history`` turns them into a warning and a report note); it does not ignore
them, since a test fixture may rightly need one.

How: ``git log -G'keytrap: allow' --raw -c --text`` names the commits and paths whose diff adds
or removes a line holding the marker (``-c``: a merge only where its result differs from every
parent; ``--text``: a ``.gitattributes`` saying ``binary`` or ``-diff`` hides nothing). For each,
the lines that hold the marker in a comment (``candidates.context.allow_lines``, as the engine
reads them, after the same decoding) are compared, as a multiset of line texts, with the
parents' versions of the file: a line no parent has (a new marker, or a marker line edited to
sit beside a key) is added. A blob over ``BIG`` bytes is not held whole: its markers are
counted, not compared by line.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from typing import NamedTuple

from keytrap import gitrun
from keytrap.candidates.context import ALLOW_MARKER, allow_lines
from keytrap.errors import GitError
from keytrap.gitrun import Location

#: Markers named one by one in the note; ``count`` has them all.
MAX_LISTED = 20
#: Larger blobs are streamed and their markers counted (not read line by line).
BIG = 16 << 20
#: Seconds the ``git log -G`` pass may take.
TIMEOUT = 300.0
_MODES = frozenset({"100644", "100755", "120000"})
_ZERO = frozenset({"0" * 40, "0" * 64})


class AddedMarker(NamedTuple):
    commit: str
    path: str
    line: int | None  # None: in a blob over BIG bytes, counted only


class _Change(NamedTuple):
    commit: str
    path: str
    new: str
    parents: tuple[str, ...]


def parse_log(out: bytes) -> list[_Change]:
    """``git log -z --raw -c --format=%x00%H`` output: each changed file's new blob and its
    parents' blobs (the null id for a side that has none)."""
    changes: list[_Change] = []
    tokens = out.split(b"\0")
    commit = ""
    i = 0
    while i < len(tokens):
        tok = tokens[i].lstrip(b"\n")  # a record after a commit header starts on a new line
        i += 1
        if not tok:
            continue
        if tok.startswith(b":"):
            if i >= len(tokens):
                break
            path = tokens[i].decode("utf-8", "surrogateescape")
            i += 1
            n = len(tok) - len(tok.lstrip(b":"))  # parents
            fields = tok[n:].decode("ascii", "replace").split(" ")
            if len(fields) < 2 * (n + 1):
                continue
            modes, oids = fields[: n + 1], fields[n + 1 : 2 * (n + 1)]
            if modes[-1] in _MODES and oids[-1] not in _ZERO:
                parents = tuple(o for m, o in zip(modes[:-1], oids[:-1]) if m in _MODES and o not in _ZERO)
                changes.append(_Change(commit, path, oids[-1], parents))
        else:
            commit = tok.decode("ascii", "replace").strip()
    return changes


def marker_lines(data: bytes) -> dict[bytes, list[int]]:
    """Line text -> the line numbers where ``data`` holds an allow marker in a comment, read
    as the engine reads the file (decoded; a binary as its printable strings)."""
    from keytrap.sources.content import printable_strings
    from keytrap.sources.files import decode_for_scan

    if ALLOW_MARKER not in data and b"\0" not in data[:8000]:
        return {}
    text = decode_for_scan(data)
    if text is None:
        text = printable_strings(data)
    starts, ends = allow_lines(text)
    out: dict[bytes, list[int]] = {}
    line, pos = 1, 0
    for start, end in zip(starts, ends):
        line += text.count(b"\n", pos, start)
        pos = start
        out.setdefault(text[start:end].strip(), []).append(line)
    return out


def added_lines(new: dict[bytes, list[int]], parents: Sequence[dict[bytes, list[int]]]) -> list[int]:
    """Lines of ``new`` whose marker line no parent has as often (sorted)."""
    added: list[int] = []
    for text, lines in new.items():
        had = max((len(p.get(text, ())) for p in parents), default=0)
        if len(lines) > had:
            added.extend(lines[had:])
    return sorted(added)


def _count_streamed(loc: Location, oid: str, size: int) -> int:
    from keytrap.sources.gitcat import stream_blob

    count, carry = 0, b""
    for chunk in stream_blob(loc, oid, size):
        buf = carry + chunk
        count += buf.count(ALLOW_MARKER)
        carry = buf[-(len(ALLOW_MARKER) - 1) :]  # shorter than a marker: none is counted twice
    return count


def added_markers(loc: Location, revs: Sequence[str], *, timeout: float = TIMEOUT) -> list[AddedMarker]:
    """Every allow marker the commits ``revs`` (``git log`` revision arguments) add, in log
    order. Raises GitError when git cannot list them."""
    from keytrap.sources.gitcat import CatFile

    try:
        proc = gitrun.run(
            loc, "log", "-z", "--raw", "-c", "--no-renames", "--no-abbrev", "--no-color", "--text",
            "--no-ext-diff", "--no-textconv", f"-O{os.devnull}", "--format=%x00%H", "-G", ALLOW_MARKER.decode(),
            *revs, "--",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"listing the allow markers took over {timeout:.0f} s") from None
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(lines[-1].removeprefix("fatal: ") if lines else "git log failed")
    changes = parse_log(proc.stdout)
    if not changes:
        return []
    found: list[AddedMarker] = []
    with CatFile(loc, max_size=BIG) as cat:
        specs = [oid for c in changes for oid in (c.new, *c.parents)]
        blobs = cat.read_many(specs)
        for change in changes:
            new = next(blobs)
            parents = [next(blobs) for _ in change.parents]
            if new.status == "too_large" or any(p.status == "too_large" for p in parents):
                n = _count_streamed(loc, change.new, new.size) if new.data is None else new.data.count(ALLOW_MARKER)
                had = max((_count_streamed(loc, p.oid or "", p.size) if p.data is None and p.oid
                           else (p.data or b"").count(ALLOW_MARKER) for p in parents), default=0)
                found.extend(AddedMarker(change.commit, change.path, None) for _ in range(max(0, n - had)))
                continue
            if new.data is None:
                continue  # unreadable: the scan itself lists it as skipped
            lines = added_lines(marker_lines(new.data), [marker_lines(p.data) for p in parents if p.data is not None])
            found.extend(AddedMarker(change.commit, change.path, line) for line in lines)
    return found


def note(markers: Sequence[AddedMarker]) -> str | None:
    """The report note and warning for ``markers``; None when there are none."""
    if not markers:
        return None
    n = len(markers)
    shown = ", ".join(
        f"{m.path}:{m.line}" if m.line is not None else f"{m.path} (a large file)" for m in markers[:MAX_LISTED]
    )
    more = f" and {n - MAX_LISTED} more" if n > MAX_LISTED else ""
    what = "marker, which silences" if n == 1 else "markers, each silencing"
    return (f"allow markers: the scanned commits add {n} `keytrap: allow` {what} the secrets on its "
            f"line: {shown}{more}; review them")
